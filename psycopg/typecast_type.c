/* typecast_type.c - the typecaster type and the typecasting registry.
 *
 * A typecaster (psycopg2._psycopg.type) converts the text representation
 * of a PostgreSQL value into a Python object.  It is either implemented in
 * C (ccast), by a Python callable (pcast), or is an array caster whose
 * elements are converted by a base caster (bcast).
 *
 * Casters are registered in dicts oid -> caster: globally (string_types),
 * per connection and per cursor; typecast_lookup() searches them in the
 * order cursor, connection, global.
 */

#include "typecast_internal.h"

PyObject *psyco_types = NULL;
PyObject *psyco_binary_types = NULL;
PyObject *psyco_default_cast = NULL;

/* ------------------------------------------------------------------ */
/* Creation                                                           */

PyObject *
typecast_create(PyObject *values, PyObject *name, typecast_function ccast,
                PyObject *pcast, PyObject *bcast)
{
    typecastObject *self = PyObject_GC_New(typecastObject, &typecastType);

    if (self == NULL) {
        return NULL;
    }
    Py_INCREF(values);
    self->values = values;
    Py_INCREF(name);
    self->name = name;
    self->ccast = ccast;
    Py_XINCREF(pcast);
    self->pcast = pcast;
    Py_XINCREF(bcast);
    self->bcast = bcast;
    PyObject_GC_Track((PyObject *)self);
    return (PyObject *)self;
}

PyObject *
typecast_create_from_oids(const char *name, const long *oids,
                          typecast_function ccast, PyObject *bcast)
{
    PyObject *values = NULL, *pyname = NULL, *rv = NULL;
    Py_ssize_t n = 0, i;

    while (oids[n] != 0) {
        n++;
    }
    if (!(values = PyTuple_New(n))) {
        goto exit;
    }
    for (i = 0; i < n; i++) {
        PyObject *oid = PyLong_FromLong(oids[i]);
        if (oid == NULL) {
            goto exit;
        }
        PyTuple_SET_ITEM(values, i, oid);
    }
    if (!(pyname = PyUnicode_FromString(name))) {
        goto exit;
    }
    rv = typecast_create(values, pyname, ccast, NULL, bcast);

exit:
    Py_XDECREF(values);
    Py_XDECREF(pyname);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Casting                                                            */

PyObject *
typecast_decode_text(const char *s, Py_ssize_t len, PyObject *curs)
{
    connectionObject *conn = typecast_curs_conn(curs);

    if (conn == NULL || conn->is_utf8) {
        return PyUnicode_DecodeUTF8(s, len, NULL);
    }
    return conn_decode(conn, s, len);
}

/* Call a Python caster: callable(str or None, cursor). */
static PyObject *
typecast_call_python(PyObject *callable, const char *s, Py_ssize_t len,
                     PyObject *curs)
{
    PyObject *value = NULL, *rv = NULL;
    PyObject *args[2];

    if (s == NULL) {
        Py_INCREF(Py_None);
        value = Py_None;
    }
    else if (!(value = typecast_decode_text(s, len, curs))) {
        goto exit;
    }
    args[0] = value;
    args[1] = curs;
    rv = PyObject_Vectorcall(callable, args, 2, NULL);

exit:
    Py_XDECREF(value);
    return rv;
}

PyObject *
typecast_cast(PyObject *caster, const char *s, Py_ssize_t len,
              PyObject *curs)
{
    typecastObject *tc;

    if (curs == NULL) {
        curs = Py_None;
    }
    if (!typecast_Check(caster)) {
        return typecast_call_python(caster, s, len, curs);
    }
    tc = (typecastObject *)caster;
    if (tc->ccast != NULL) {
        return tc->ccast(s, len, curs);
    }
    if (tc->bcast != NULL) {
        if (s == NULL) {
            Py_RETURN_NONE;
        }
        return typecast_array_cast(s, len, curs, tc->bcast);
    }
    if (tc->pcast != NULL) {
        return typecast_call_python(tc->pcast, s, len, curs);
    }
    PyErr_Format(InterfaceError,
                 "typecaster '%U' has no casting function", tc->name);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Lookup                                                             */

/* Lookups need the oid as a Python int dict key: keep the keys of the
 * recently seen oids in a small direct-mapped cache so that a lookup
 * doesn't allocate.  Only touched with the GIL held. */
#define OID_KEY_CACHE_SIZE 256

static struct {
    Oid oid;
    PyObject *key;
} oid_key_cache[OID_KEY_CACHE_SIZE];

/* Borrowed reference to an int for `oid`, or NULL with an exception. */
static PyObject *
oid_key(Oid oid)
{
    unsigned int idx = ((uint32_t)oid * 2654435761u) >> 24;
    PyObject *key;

    if (oid_key_cache[idx].key != NULL && oid_key_cache[idx].oid == oid) {
        return oid_key_cache[idx].key;
    }
    if (!(key = PyLong_FromUnsignedLong(oid))) {
        return NULL;
    }
    Py_XSETREF(oid_key_cache[idx].key, key);
    oid_key_cache[idx].oid = oid;
    return key;
}

/* Borrowed caster for `key` in `dict` (which may be NULL), or NULL. */
static PyObject *
find_in(PyObject *dict, PyObject *key)
{
    PyObject *caster;

    if (dict == NULL || !PyDict_Check(dict) || PyDict_GET_SIZE(dict) == 0) {
        return NULL;
    }
    caster = PyDict_GetItemWithError(dict, key);
    if (caster == NULL && PyErr_Occurred()) {
        PyErr_Clear();
    }
    return caster;
}

PyObject *
typecast_lookup(cursorObject *curs, Oid oid)
{
    PyObject *key = oid_key(oid);
    PyObject *caster = NULL;

    if (key == NULL) {
        /* out of memory: the default caster still gives a usable str */
        PyErr_Clear();
        return psyco_default_cast;
    }
    if (curs != NULL) {
        caster = find_in(curs->string_types, key);
        if (caster == NULL && curs->conn != NULL) {
            caster = find_in(curs->conn->string_types, key);
        }
    }
    if (caster == NULL) {
        caster = find_in(psyco_types, key);
    }
    return caster != NULL ? caster : psyco_default_cast;
}

/* ------------------------------------------------------------------ */
/* The Python type                                                    */

static void
typecast_dealloc(typecastObject *self)
{
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->values);
    Py_CLEAR(self->name);
    Py_CLEAR(self->pcast);
    Py_CLEAR(self->bcast);
    PyObject_GC_Del(self);
}

static int
typecast_traverse(typecastObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->values);
    Py_VISIT(self->name);
    Py_VISIT(self->pcast);
    Py_VISIT(self->bcast);
    return 0;
}

static int
typecast_clear(typecastObject *self)
{
    Py_CLEAR(self->pcast);
    Py_CLEAR(self->bcast);
    return 0;
}

static PyObject *
typecast_repr(typecastObject *self)
{
    return PyUnicode_FromFormat("<%s '%U' at %p>",
                                Py_TYPE(self)->tp_name, self->name, self);
}

/* 1 if `other` (a caster or a number) shares an oid with self, 0 if not,
 * -1 with an exception set. */
static int
typecast_matches(typecastObject *self, PyObject *other)
{
    PyObject *number = NULL;
    Py_ssize_t i;
    int rv = 0;

    if (typecast_Check(other)) {
        PyObject *ovalues = ((typecastObject *)other)->values;
        for (i = 0; i < PyTuple_GET_SIZE(ovalues) && rv == 0; i++) {
            rv = PySequence_Contains(self->values,
                                     PyTuple_GET_ITEM(ovalues, i));
        }
        goto exit;
    }
    if (!(number = PyNumber_Long(other))) {
        rv = -1;
        goto exit;
    }
    rv = PySequence_Contains(self->values, number);

exit:
    Py_XDECREF(number);
    return rv;
}

/* DB-API type objects compare equal to every type code they stand for,
 * e.g. STRING == 1043.  Like psycopg2 every other operator answers "not
 * equal". */
static PyObject *
typecast_richcompare(PyObject *self, PyObject *other, int op)
{
    int found = typecast_matches((typecastObject *)self, other);

    if (found < 0) {
        return NULL;
    }
    return PyBool_FromLong(op == Py_EQ ? found : !found);
}

/* caster(value, cursor): value is a str, bytes or None. */
static PyObject *
typecast_call(typecastObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *value, *curs, *data = NULL, *rv = NULL;
    const char *s = NULL;
    Py_ssize_t len = 0;

    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError,
                        "typecasters take no keyword arguments");
        goto exit;
    }
    if (!PyArg_ParseTuple(args, "OO", &value, &curs)) {
        goto exit;
    }
    /* like psycopg2, NULL is None without calling the cast function */
    if (value == Py_None) {
        Py_INCREF(Py_None);
        rv = Py_None;
        goto exit;
    }
    /* A Python caster gets a str as it is: no round trip through the
     * connection encoding. */
    if (self->ccast == NULL && self->bcast == NULL && self->pcast != NULL
            && PyUnicode_Check(value)) {
        PyObject *cargs[2] = {value, curs};
        rv = PyObject_Vectorcall(self->pcast, cargs, 2, NULL);
        goto exit;
    }
    if (PyUnicode_Check(value)) {
        if (!(s = PyUnicode_AsUTF8AndSize(value, &len))) {
            goto exit;
        }
    }
    else if (PyBytes_Check(value)) {
        s = PyBytes_AS_STRING(value);
        len = PyBytes_GET_SIZE(value);
    }
    else if (PyObject_CheckBuffer(value)) {
        /* copy: the casters want a NUL terminated string */
        if (!(data = PyBytes_FromObject(value))) {
            goto exit;
        }
        s = PyBytes_AS_STRING(data);
        len = PyBytes_GET_SIZE(data);
    }
    else {
        PyErr_Format(PyExc_TypeError,
                     "a bytes-like object is required, not '%.200s'",
                     Py_TYPE(value)->tp_name);
        goto exit;
    }
    rv = typecast_cast((PyObject *)self, s, len, curs);

exit:
    Py_XDECREF(data);
    return rv;
}

static struct PyMemberDef typecast_members[] = {
    {"name", T_OBJECT, offsetof(typecastObject, name), READONLY,
     "Name of the typecaster."},
    {"values", T_OBJECT, offsetof(typecastObject, values), READONLY,
     "Tuple of the PostgreSQL type oids converted by the typecaster."},
    {NULL}
};

PyTypeObject typecastType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2._psycopg.type",
    .tp_basicsize = sizeof(typecastObject),
    .tp_dealloc = (destructor)typecast_dealloc,
    .tp_repr = (reprfunc)typecast_repr,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_call = (ternaryfunc)typecast_call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Typecaster: converts PostgreSQL values to Python objects.\n\n"
              "Call it as ``caster(value, cursor)``; it compares equal to "
              "the oids in its `values`.",
    .tp_traverse = (traverseproc)typecast_traverse,
    .tp_clear = (inquiry)typecast_clear,
    .tp_richcompare = typecast_richcompare,
    .tp_members = typecast_members,
};

/* ------------------------------------------------------------------ */
/* Module functions                                                   */

static PyObject *
psyco_new_type(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"values", "name", "castobj", NULL};
    PyObject *values, *name, *castobj = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!U|O:new_type", kwlist,
                                     &PyTuple_Type, &values, &name,
                                     &castobj)) {
        return NULL;
    }
    if (castobj == Py_None) {
        castobj = NULL;
    }
    return typecast_create(values, name, NULL, castobj, NULL);
}

static PyObject *
psyco_new_array_type(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"values", "name", "baseobj", NULL};
    PyObject *values, *name, *base;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!UO!:new_array_type",
                                     kwlist, &PyTuple_Type, &values, &name,
                                     &typecastType, &base)) {
        return NULL;
    }
    return typecast_create(values, name, NULL, NULL, base);
}

/* The dict stored in *slot, created if missing.  Borrowed or NULL. */
static PyObject *
scope_dict(PyObject **slot)
{
    if (*slot == NULL || *slot == Py_None) {
        PyObject *dict = PyDict_New();
        if (dict == NULL) {
            return NULL;
        }
        Py_XSETREF(*slot, dict);
    }
    if (!PyDict_Check(*slot)) {
        PyErr_SetString(PyExc_TypeError, "string_types is not a dict");
        return NULL;
    }
    return *slot;
}

static PyObject *
psyco_register_type(PyObject *self, PyObject *args)
{
    PyObject *caster, *scope = NULL, *dict, *values;
    Py_ssize_t i;

    if (!PyArg_ParseTuple(args, "O!|O:register_type", &typecastType,
                          &caster, &scope)) {
        return NULL;
    }
    if (scope == NULL || scope == Py_None) {
        dict = psyco_types;
    }
    else if (connection_Check(scope)) {
        dict = scope_dict(&((connectionObject *)scope)->string_types);
    }
    else if (cursor_Check(scope)) {
        dict = scope_dict(&((cursorObject *)scope)->string_types);
    }
    else {
        PyErr_SetString(PyExc_TypeError,
                        "argument 2 must be a connection, cursor or None");
        return NULL;
    }
    if (dict == NULL) {
        return NULL;
    }
    values = ((typecastObject *)caster)->values;
    for (i = 0; i < PyTuple_GET_SIZE(values); i++) {
        if (PyDict_SetItem(dict, PyTuple_GET_ITEM(values, i), caster) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef typecast_functions[] = {
    {"new_type", (PyCFunction)(void (*)(void))psyco_new_type,
     METH_VARARGS | METH_KEYWORDS,
     "new_type(oids, name, castobj=None) -> new typecaster\n\n"
     "Create a typecaster converting the PostgreSQL types with the given\n"
     "oids (a tuple of int).  `castobj` is called as castobj(value, cursor)\n"
     "with the value as a str (None for NULL) and returns the Python\n"
     "object.  Bind it with `register_type()`."},
    {"new_array_type", (PyCFunction)(void (*)(void))psyco_new_array_type,
     METH_VARARGS | METH_KEYWORDS,
     "new_array_type(oids, name, baseobj) -> new typecaster\n\n"
     "Create a typecaster for arrays (oids of the array types) returning\n"
     "lists whose items are converted by the typecaster `baseobj`."},
    {"register_type", (PyCFunction)psyco_register_type, METH_VARARGS,
     "register_type(obj, conn_or_curs=None)\n\n"
     "Register the typecaster `obj` globally (scope None), or only for a\n"
     "connection or a cursor."},
    {NULL}
};

int
typecast_type_setup(PyObject *module)
{
    PyObject *modname = NULL, *func = NULL;
    PyMethodDef *def;
    int rv = -1;

    if (PyType_Ready(&typecastType) < 0) {
        goto exit;
    }
    if (!(psyco_types = PyDict_New())) {
        goto exit;
    }
    if (!(psyco_binary_types = PyDict_New())) {
        goto exit;
    }
    Py_INCREF(psyco_types);
    if (PyModule_AddObject(module, "string_types", psyco_types) < 0) {
        Py_DECREF(psyco_types);
        goto exit;
    }
    Py_INCREF(psyco_binary_types);
    if (PyModule_AddObject(module, "binary_types", psyco_binary_types) < 0) {
        Py_DECREF(psyco_binary_types);
        goto exit;
    }
    if (!(modname = PyModule_GetNameObject(module))) {
        goto exit;
    }
    for (def = typecast_functions; def->ml_name != NULL; def++) {
        if (!(func = PyCFunction_NewEx(def, NULL, modname))) {
            goto exit;
        }
        if (PyModule_AddObject(module, def->ml_name, func) < 0) {
            goto exit;
        }
        func = NULL;    /* stolen */
    }
    rv = 0;

exit:
    Py_XDECREF(func);
    Py_XDECREF(modname);
    return rv;
}

int
typecast_setup(PyObject *module)
{
    if (typecast_type_setup(module) < 0
            || typecast_binary_setup() < 0
            || typecast_datetime_setup() < 0
            || typecast_interval_setup() < 0
            || typecast_builtins_setup(module) < 0) {
        return -1;
    }
    return 0;
}
