/* adapt_microprotocols.c - the adapters registry, ISQLQuote and adapt().
 *
 * psyco_adapters maps (type, protocol) to an adapter: a callable taking
 * the object and returning an object with getquoted().  adapt() looks for
 * an adapter in this order (psycopg2's):
 *   1. the registry entry for the exact type of the object;
 *   2. protocol.__adapt__(obj);
 *   3. obj.__conform__(protocol);
 *   4. the registry entry of the first class in the object's MRO;
 * a TypeError raised by __adapt__ or __conform__ counts as "cannot adapt".
 * Objects without adapter raise ProgrammingError("can't adapt type 'X'").
 */
#include "adapt_internal.h"

PyObject *psyco_adapters = NULL;
PyObject *adapt_decimal_type = NULL;
PyObject *adapt_bytes_null = NULL;
PyObject *adapt_bytes_true = NULL;
PyObject *adapt_bytes_false = NULL;

static PyObject *str_adapt;         /* "__adapt__" */
static PyObject *str_conform;       /* "__conform__" */

/* ---- the registry ---- */

int
adapt_register(PyObject *type, PyObject *adapter)
{
    PyObject *key;
    int rv;

    if (!(key = PyTuple_Pack(2, type, (PyObject *)&isqlquoteType))) {
        return -1;
    }
    rv = PyDict_SetItem(psyco_adapters, key, adapter);
    Py_DECREF(key);
    return rv;
}

/* Call the registered adapter for (type, proto) on obj.  Returns a new
 * reference, NULL with an exception, or NULL without exception when there
 * is no such adapter. */
static PyObject *
call_registered(PyTypeObject *type, PyObject *proto, PyObject *obj)
{
    PyObject *key;
    PyObject *adapter;
    PyObject *rv;

    if (!(key = PyTuple_Pack(2, (PyObject *)type, proto))) {
        return NULL;
    }
    adapter = PyDict_GetItemWithError(psyco_adapters, key);  /* borrowed */
    Py_DECREF(key);
    if (!adapter) {
        return NULL;
    }
    /* the call may change the registry: hold the adapter */
    Py_INCREF(adapter);
    rv = PyObject_CallOneArg(adapter, obj);
    Py_DECREF(adapter);
    return rv;
}

/* Call target.<name>(arg) if it exists.  Returns a new reference; None if
 * the method is missing, returns None or raises TypeError; NULL on other
 * errors. */
static PyObject *
call_hook(PyObject *target, PyObject *name, PyObject *arg)
{
    PyObject *meth;
    PyObject *rv;

    if (!(meth = PyObject_GetAttr(target, name))) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return NULL;
        }
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    rv = PyObject_CallOneArg(meth, arg);
    Py_DECREF(meth);
    if (!rv && PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return rv;
}

/* Step 4: the adapter of a base class. Same return as call_registered. */
static PyObject *
call_base_adapter(PyObject *obj, PyObject *proto)
{
    PyObject *mro = Py_TYPE(obj)->tp_mro;
    PyObject *rv;
    Py_ssize_t i;

    if (!mro || !PyTuple_Check(mro)) {
        return NULL;
    }
    /* item 0 is the type itself, already looked up */
    for (i = 1; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *base = PyTuple_GET_ITEM(mro, i);
        if (!PyType_Check(base)) {
            continue;
        }
        if ((rv = call_registered((PyTypeObject *)base, proto, obj))
                || PyErr_Occurred()) {
            return rv;
        }
    }
    return NULL;
}

/* The alternate argument is accepted for compatibility: like psycopg2,
 * objects without adapter raise ProgrammingError even if it is given. */
PyObject *
microprotocols_adapt(PyObject *obj, PyObject *proto, PyObject *alt)
{
    PyObject *rv;

    if (!proto) {
        proto = (PyObject *)&isqlquoteType;
    }
    if ((rv = call_registered(Py_TYPE(obj), proto, obj)) || PyErr_Occurred()) {
        return rv;
    }
    /* ISQLQuote is a static type without __adapt__: skip the lookup */
    if (proto != (PyObject *)&isqlquoteType) {
        if (!(rv = call_hook(proto, str_adapt, obj))) {
            return NULL;
        }
        if (rv != Py_None) {
            return rv;
        }
        Py_DECREF(rv);
    }
    if (!(rv = call_hook(obj, str_conform, proto))) {
        return NULL;
    }
    if (rv != Py_None) {
        return rv;
    }
    Py_DECREF(rv);
    if ((rv = call_base_adapter(obj, proto)) || PyErr_Occurred()) {
        return rv;
    }
    PyErr_Format(ADAPT_EXC(ProgrammingError, PyExc_TypeError),
                 "can't adapt type '%s'", Py_TYPE(obj)->tp_name);
    return NULL;
}

/* adapt(obj, protocol=ISQLQuote, alternate=None) */
static PyObject *
psyco_adapt(PyObject *self, PyObject *args)
{
    PyObject *obj, *proto = (PyObject *)&isqlquoteType, *alt = NULL;

    if (!PyArg_ParseTuple(args, "O|OO", &obj, &proto, &alt)) {
        return NULL;
    }
    return microprotocols_adapt(obj, proto, alt);
}

/* ---- ISQLQuote ---- */

static PyObject *
isqlquote_none(adaptObject *self, PyObject *dummy)
{
    Py_RETURN_NONE;
}

static PyMethodDef isqlquote_methods[] = {
    {"getquoted", (PyCFunction)isqlquote_none, METH_NOARGS,
     "getquoted() -> the SQL literal of the object, as bytes\n\n"
     "Subclasses must implement it."},
    {"getbinary", (PyCFunction)isqlquote_none, METH_NOARGS,
     "getbinary() -> the object in binary format (unused)"},
    {"getbuffer", (PyCFunction)isqlquote_none, METH_NOARGS,
     "getbuffer() -> the object as a buffer (unused)"},
    {NULL}
};

static PyMemberDef isqlquote_members[] = {
    {"_wrapped", T_OBJECT, offsetof(adaptObject, wrapped), READONLY,
     "The object being adapted."},
    {NULL}
};

PyTypeObject isqlquoteType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.ISQLQuote",
    .tp_basicsize = sizeof(adaptObject),
    .tp_dealloc = (destructor)adapt_base_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The protocol of the objects that can be put in a query.\n\n"
        "adapt(obj, ISQLQuote) returns an object implementing it: its\n"
        "getquoted() method returns the SQL literal of `obj` as bytes.",
    .tp_traverse = (traverseproc)adapt_base_traverse,
    .tp_clear = (inquiry)adapt_base_clear,
    .tp_methods = isqlquote_methods,
    .tp_members = isqlquote_members,
    .tp_init = (initproc)adapt_base_init,
    .tp_new = PyType_GenericNew,
};

/* ---- setup ---- */

static PyMethodDef adapt_functions[] = {
    {"adapt", psyco_adapt, METH_VARARGS,
     "adapt(obj, protocol=ISQLQuote, alternate=None) -> object adapting "
     "`obj` to the protocol\n\n"
     "Raise ProgrammingError if the object cannot be adapted."},
    {NULL}
};

/* module.name = obj (obj not stolen) */
static int
add_object(PyObject *module, const char *name, PyObject *obj)
{
    Py_INCREF(obj);
    if (PyModule_AddObject(module, name, obj) < 0) {
        Py_DECREF(obj);
        return -1;
    }
    return 0;
}

/* Ready the adapter types and expose them in the module. */
int
adapt_types_setup(PyObject *module)
{
    static struct { const char *name; PyTypeObject *type; } types[] = {
        {"ISQLQuote", &isqlquoteType},
        {"AsIs", &asisType},
        {"QuotedString", &qstringType},
        {"Binary", &binaryType},
        {"Boolean", &booleanType},
        {"Int", &intType},
        {"Float", &floatType},
        {"Decimal", &decimalType},
        {"List", &listType},
        {"NoneAdapter", &noneAdapterType},
        {"SQL_IN", &sqlinType},
        {NULL, NULL}
    };
    int i;

    for (i = 0; types[i].name; i++) {
        if (PyType_Ready(types[i].type) < 0
                || add_object(module, types[i].name,
                              (PyObject *)types[i].type) < 0) {
            return -1;
        }
    }
    return 0;
}

static int
constants_setup(void)
{
    if (!(adapt_bytes_null = PyBytes_FromString("NULL"))
        || !(adapt_bytes_true = PyBytes_FromString("true"))
        || !(adapt_bytes_false = PyBytes_FromString("false"))
        || !(str_adapt = PyUnicode_InternFromString("__adapt__"))
        || !(str_conform = PyUnicode_InternFromString("__conform__"))) {
        return -1;
    }
    return adapt_numbers_setup();
}

static int
import_decimal(void)
{
    PyObject *mod;

    if (!(mod = PyImport_ImportModule("decimal"))) {
        return -1;
    }
    adapt_decimal_type = PyObject_GetAttrString(mod, "Decimal");
    Py_DECREF(mod);
    if (!adapt_decimal_type) {
        return -1;
    }
    if (!PyType_Check(adapt_decimal_type)) {
        PyErr_SetString(PyExc_ImportError, "decimal.Decimal is not a type");
        return -1;
    }
    return 0;
}

/* The default adapters of the builtin types (not datetime ones). */
static int
register_defaults(void)
{
    struct { PyObject *type; PyTypeObject *adapter; } defaults[] = {
        {(PyObject *)&PyUnicode_Type, &qstringType},
        {(PyObject *)&PyLong_Type, &intType},
        {(PyObject *)&PyFloat_Type, &floatType},
        {(PyObject *)Py_TYPE(Py_None), &noneAdapterType},
        {(PyObject *)&PyBool_Type, &booleanType},
        {adapt_decimal_type, &decimalType},
        {(PyObject *)&PyBytes_Type, &binaryType},
        {(PyObject *)&PyByteArray_Type, &binaryType},
        {(PyObject *)&PyMemoryView_Type, &binaryType},
        {(PyObject *)&PyList_Type, &listType},
        {(PyObject *)&PyTuple_Type, &sqlinType},
        {NULL, NULL}
    };
    int i;

    for (i = 0; defaults[i].type; i++) {
        if (adapt_register(defaults[i].type,
                           (PyObject *)defaults[i].adapter) < 0) {
            return -1;
        }
    }
    return 0;
}

int
adapt_setup(PyObject *module)
{
    if (constants_setup() < 0 || import_decimal() < 0) {
        return -1;
    }
    if (!(psyco_adapters = PyDict_New())
            || add_object(module, "adapters", psyco_adapters) < 0) {
        return -1;
    }
    if (adapt_types_setup(module) < 0
            || PyModule_AddFunctions(module, adapt_functions) < 0) {
        return -1;
    }
    /* the datetime setup adds its types to the fast paths table */
    if (register_defaults() < 0 || adapt_fast_setup() < 0
            || adapt_datetime_setup(module) < 0) {
        return -1;
    }
    return 0;
}
