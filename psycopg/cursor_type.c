/* cursor_type.c - the cursor Python type: life cycle, attributes and the
 * small methods.
 *
 * The work is done in the other cursor_*.c files: execute/executemany/
 * callproc/mogrify (cursor_execute.c, cursor_merge.c, cursor_pipeline.c),
 * fetching (cursor_fetch.c), server-side cursors (cursor_named.c), COPY
 * (cursor_copy.c).
 */

#include "cursor_int.h"

/* datetime.timezone: the default tzinfo_factory, as in psycopg2 2.9 */
static PyObject *default_tzinfo_factory;

/* ------------------------------------------------------------------ */
/* State checks shared by the methods                                 */

int
curs_check_open(cursorObject *self)
{
    if (self->closed || self->conn == NULL || self->conn->closed) {
        PyErr_SetString(InterfaceError, "cursor already closed");
        return -1;
    }
    return 0;
}

int
curs_check_async_idle(cursorObject *self, const char *method)
{
    if (self->conn != NULL && self->conn->async_cursor != NULL) {
        PyErr_Format(ProgrammingError,
            "%s cannot be used while an asynchronous query is underway",
            method);
        return -1;
    }
    return 0;
}

int
curs_check_not_tpc_prepared(cursorObject *self, const char *method)
{
    if (self->conn != NULL && self->conn->status == CONN_STATUS_PREPARED) {
        PyErr_Format(ProgrammingError,
            "%s cannot be used with a prepared two-phase transaction",
            method);
        return -1;
    }
    return 0;
}

int
curs_check_mark(cursorObject *self)
{
    if (self->name != NULL && !self->withhold
            && self->mark != self->conn->mark) {
        PyErr_SetString(ProgrammingError,
                        "named cursor isn't valid anymore");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */

/* Store the name of a named cursor: the name in the client encoding and
 * its quoted form for the SQL statements.  0 ok, -1 error. */
static int
cursor_set_name(cursorObject *self, PyObject *name)
{
    PyObject *bname = NULL, *qname = NULL;
    int rv = -1;

    if (PyUnicode_Check(name)) {
        if (!(bname = conn_encode(self->conn, name))) {
            goto exit;
        }
    }
    else if (PyBytes_Check(name)) {
        Py_INCREF(name);
        bname = name;
    }
    else {
        PyErr_Format(PyExc_TypeError,
            "Expected bytes or unicode string, got %s instead",
            Py_TYPE(name)->tp_name);
        goto exit;
    }
    if (strlen(PyBytes_AS_STRING(bname)) != (size_t)PyBytes_GET_SIZE(bname)) {
        PyErr_SetString(PyExc_ValueError,
                        "cursor name cannot contain NUL (0x00) characters");
        goto exit;
    }
    if (!(qname = curs_quote_identifier(self, bname))) {
        goto exit;
    }
    if (!(self->name = strdup(PyBytes_AS_STRING(bname)))
            || !(self->qname = strdup(PyBytes_AS_STRING(qname)))) {
        PyErr_NoMemory();
        goto exit;
    }
    rv = 0;

exit:
    Py_XDECREF(bname);
    Py_XDECREF(qname);
    return rv;
}

/* Forget everything a previous __init__ may have set. */
static void
cursor_forget(cursorObject *self)
{
    curs_reset_result(self);
    Py_CLEAR(self->conn);
    Py_CLEAR(self->query);
    Py_CLEAR(self->pgstatus);
    Py_CLEAR(self->tuple_factory);
    Py_CLEAR(self->tzinfo_factory);
    Py_CLEAR(self->string_types);
    Py_CLEAR(self->binary_types);
    Py_CLEAR(self->copyfile);
    free(self->name);
    self->name = NULL;
    free(self->qname);
    self->qname = NULL;
}

static int
cursor_init(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"conn", "name", NULL};
    PyObject *conn = NULL, *name = Py_None;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!|O", kwlist,
                                     &connectionType, &conn, &name)) {
        return -1;
    }
    cursor_forget(self);

    Py_INCREF(conn);
    self->conn = (connectionObject *)conn;
    self->closed = 0;
    self->notuples = 1;
    self->withhold = 0;
    self->scrollable = -1;
    self->named_declared = 0;
    self->rowcount = -1;
    self->rownumber = 0;
    self->arraysize = 1;
    self->itersize = 2000;
    self->mark = self->conn->mark;
    self->lastoid = InvalidOid;
    self->copysize = 0;
    Py_INCREF(Py_None);
    self->tuple_factory = Py_None;
    Py_INCREF(default_tzinfo_factory);
    self->tzinfo_factory = default_tzinfo_factory;

    if (name != Py_None && cursor_set_name(self, name) < 0) {
        return -1;
    }
    return 0;
}

static PyObject *
cursor_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    cursorObject *self = (cursorObject *)type->tp_alloc(type, 0);

    if (self == NULL) {
        return NULL;
    }
    /* usable defaults even if __init__ is never called */
    self->closed = 1;
    self->notuples = 1;
    self->scrollable = -1;
    self->rowcount = -1;
    self->arraysize = 1;
    self->itersize = 2000;
    return (PyObject *)self;
}

static int
cursor_traverse(cursorObject *self, visitproc visit, void *arg)
{
    Py_VISIT((PyObject *)self->conn);
    Py_VISIT(self->casts);
    Py_VISIT(self->description);
    Py_VISIT(self->tuple_factory);
    Py_VISIT(self->tzinfo_factory);
    Py_VISIT(self->string_types);
    Py_VISIT(self->binary_types);
    Py_VISIT(self->copyfile);
    Py_VISIT(self->dict);
    return 0;
}

static int
cursor_clear(cursorObject *self)
{
    Py_CLEAR(self->conn);
    curs_drop_cast_cols(self);
    Py_CLEAR(self->casts);
    Py_CLEAR(self->description);
    Py_CLEAR(self->tuple_factory);
    Py_CLEAR(self->tzinfo_factory);
    Py_CLEAR(self->string_types);
    Py_CLEAR(self->binary_types);
    Py_CLEAR(self->copyfile);
    Py_CLEAR(self->dict);
    return 0;
}

static void
cursor_dealloc(cursorObject *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakreflist) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    cursor_forget(self);
    cursor_clear(self);
    /* Python subclasses: subtype_dealloc releases the type itself */
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
cursor_repr(cursorObject *self)
{
    return PyUnicode_FromFormat("<cursor object at %p; closed: %d>",
                                self, self->closed);
}

/* ------------------------------------------------------------------ */
/* Small methods                                                      */

static PyObject *
curs_close(cursorObject *self, PyObject *dummy)
{
    PyObject *rv = NULL;

    if (self->closed) {
        Py_RETURN_NONE;
    }
    if (self->conn == NULL) {
        self->closed = 1;
        Py_RETURN_NONE;
    }
    /* An unnamed cursor can be closed while its async query runs: the
     * connection's poll() still collects the result and drops its rows
     * (see curs_set_result).  A named one would need a CLOSE sent. */
    if (self->name != NULL && curs_check_async_idle(self, "close") < 0) {
        goto exit;
    }
    /* closing the cursor of a closed connection is fine: nothing to do on
     * the server */
    if (self->name != NULL && !self->conn->closed) {
        if (named_close(self) < 0) {
            goto exit;      /* as psycopg2: still open */
        }
    }
    self->closed = 1;
    /* the rows can't be fetched anymore: free them, keep description */
    if (self->pgres != NULL) {
        PQclear(self->pgres);
        self->pgres = NULL;
    }
    Py_INCREF(Py_None);
    rv = Py_None;

exit:
    return rv;
}

static PyObject *
curs_enter(cursorObject *self, PyObject *dummy)
{
    if (curs_check_open(self) < 0) {
        return NULL;
    }
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *
curs_exit(cursorObject *self, PyObject *args)
{
    /* call close() through the object, so that subclasses can extend it */
    PyObject *rv = PyObject_CallMethod((PyObject *)self, "close", NULL);

    if (rv == NULL) {
        return NULL;
    }
    Py_DECREF(rv);
    /* never swallow the exception raised in the with block */
    Py_RETURN_NONE;
}

static PyObject *
curs_nextset(cursorObject *self, PyObject *dummy)
{
    if (curs_check_open(self) < 0) {
        return NULL;
    }
    PyErr_SetString(NotSupportedError, "not supported by PostgreSQL");
    return NULL;
}

static PyObject *
curs_setinputsizes(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"sizes", NULL};
    PyObject *sizes;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O", kwlist, &sizes)) {
        return NULL;
    }
    if (curs_check_open(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
curs_setoutputsize(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", "column", NULL};
    long size, column = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "l|l", kwlist,
                                     &size, &column)) {
        return NULL;
    }
    if (curs_check_open(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* cast(oid, s): convert a string as a value of type oid. */
static PyObject *
curs_cast(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"oid", "s", NULL};
    PyObject *oid, *s, *bytes = NULL, *caster, *rv = NULL;
    const char *str = NULL;
    Py_ssize_t len = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO", kwlist, &oid, &s)) {
        return NULL;
    }
    if (self->conn == NULL) {
        PyErr_SetString(InterfaceError, "cursor not initialized");
        return NULL;
    }
    caster = psyco_default_cast;
    if (PyLong_Check(oid)) {
        unsigned long v = PyLong_AsUnsignedLong(oid);
        if (v == (unsigned long)-1 && PyErr_Occurred()) {
            PyErr_Clear();      /* no such type: the default caster */
        }
        else {
            caster = typecast_lookup(self, (Oid)v);
        }
    }
    if (s == Py_None) {
        str = NULL;
    }
    else if (PyUnicode_Check(s)) {
        if (!(bytes = conn_encode(self->conn, s))) {
            goto exit;
        }
    }
    else if (PyBytes_Check(s)) {
        Py_INCREF(s);
        bytes = s;
    }
    else {
        PyErr_Format(PyExc_TypeError,
            "Expected bytes or unicode string, got %s instead",
            Py_TYPE(s)->tp_name);
        goto exit;
    }
    if (bytes != NULL) {
        str = PyBytes_AS_STRING(bytes);
        len = PyBytes_GET_SIZE(bytes);
    }
    rv = typecast_cast(caster, str, len, (PyObject *)self);

exit:
    Py_XDECREF(bytes);
    return rv;
}

static PyObject *
curs_iter(cursorObject *self)
{
    if (curs_check_open(self) < 0) {
        return NULL;
    }
    Py_INCREF(self);
    return (PyObject *)self;
}

/* ------------------------------------------------------------------ */
/* Getters and setters                                                */

static PyObject *
curs_get_closed(cursorObject *self, void *closure)
{
    return PyBool_FromLong(self->closed || self->conn == NULL
                           || self->conn->closed);
}

static PyObject *
curs_get_name(cursorObject *self, void *closure)
{
    if (self->name == NULL) {
        Py_RETURN_NONE;
    }
    if (self->conn == NULL) {
        return PyUnicode_DecodeUTF8(self->name, strlen(self->name), "replace");
    }
    return conn_decode(self->conn, self->name, strlen(self->name));
}

static PyObject *
curs_get_statusmessage(cursorObject *self, void *closure)
{
    PyObject *rv = self->pgstatus ? self->pgstatus : Py_None;
    Py_INCREF(rv);
    return rv;
}

static PyObject *
curs_get_lastrowid(cursorObject *self, void *closure)
{
    return PyLong_FromUnsignedLong(self->lastoid);
}

static PyObject *
curs_get_pgresult_ptr(cursorObject *self, void *closure)
{
    if (self->pgres == NULL) {
        Py_RETURN_NONE;
    }
    return PyLong_FromVoidPtr((void *)self->pgres);
}

static PyObject *
curs_get_typecaster(cursorObject *self, void *closure)
{
    Py_RETURN_NONE;
}

static PyObject *
curs_get_withhold(cursorObject *self, void *closure)
{
    return PyBool_FromLong(self->withhold);
}

static int
curs_set_withhold(cursorObject *self, PyObject *value, void *closure)
{
    int v;

    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "can't delete withhold");
        return -1;
    }
    if (self->name == NULL) {
        PyErr_SetString(ProgrammingError,
                        "trying to set .withhold on unnamed cursor");
        return -1;
    }
    if ((v = PyObject_IsTrue(value)) < 0) {
        return -1;
    }
    self->withhold = v;
    return 0;
}

static PyObject *
curs_get_scrollable(cursorObject *self, void *closure)
{
    if (self->scrollable < 0) {
        Py_RETURN_NONE;
    }
    return PyBool_FromLong(self->scrollable);
}

static int
curs_set_scrollable(cursorObject *self, PyObject *value, void *closure)
{
    int v;

    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "can't delete scrollable");
        return -1;
    }
    if (self->name == NULL) {
        PyErr_SetString(ProgrammingError,
                        "trying to set .scrollable on unnamed cursor");
        return -1;
    }
    if (value == Py_None) {
        self->scrollable = -1;
        return 0;
    }
    if ((v = PyObject_IsTrue(value)) < 0) {
        return -1;
    }
    self->scrollable = v;
    return 0;
}

static PyObject *
curs_get_description(cursorObject *self, void *closure)
{
    PyObject *rv = self->description ? self->description : Py_None;
    Py_INCREF(rv);
    return rv;
}

static PyObject *
curs_get_query(cursorObject *self, void *closure)
{
    PyObject *rv = self->query ? self->query : Py_None;
    Py_INCREF(rv);
    return rv;
}

static PyGetSetDef cursor_getsets[] = {
    {"closed", (getter)curs_get_closed, NULL,
     "True if the cursor (or its connection) is closed.", NULL},
    {"name", (getter)curs_get_name, NULL,
     "The name of a server-side cursor, None for client-side ones.", NULL},
    {"statusmessage", (getter)curs_get_statusmessage, NULL,
     "The status of the last command, as returned by the server.", NULL},
    {"lastrowid", (getter)curs_get_lastrowid, NULL,
     "The OID of the row inserted by the last command, if any.", NULL},
    {"pgresult_ptr", (getter)curs_get_pgresult_ptr, NULL,
     "The address of the libpq PGresult of the last command, or None.",
     NULL},
    {"typecaster", (getter)curs_get_typecaster, NULL,
     "Kept for compatibility: always None.", NULL},
    {"withhold", (getter)curs_get_withhold, (setter)curs_set_withhold,
     "True if the server-side cursor survives the end of its transaction.",
     NULL},
    {"scrollable", (getter)curs_get_scrollable, (setter)curs_set_scrollable,
     "True/False if the server-side cursor is declared SCROLL/NO SCROLL, "
     "None for the server default.", NULL},
    {"description", (getter)curs_get_description, NULL,
     "Sequence of Column, one per column of the last result, or None.",
     NULL},
    {"query", (getter)curs_get_query, NULL,
     "The last query sent to the server, as bytes.", NULL},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL,
     NULL},
    {NULL}
};

#define CURS_OFF(field) offsetof(cursorObject, field)

static PyMemberDef cursor_members[] = {
    {"rowcount", T_LONG, CURS_OFF(rowcount), READONLY,
     "Number of rows read or affected by the last command, -1 if unknown."},
    {"rownumber", T_LONG, CURS_OFF(rownumber), READONLY,
     "Index of the next row to fetch in the current result."},
    {"arraysize", T_LONG, CURS_OFF(arraysize), 0,
     "Number of rows fetchmany() fetches by default."},
    {"itersize", T_LONG, CURS_OFF(itersize), 0,
     "Number of rows a server-side cursor fetches at once while iterated."},
    {"connection", T_OBJECT, CURS_OFF(conn), READONLY,
     "The connection this cursor belongs to."},
    {"row_factory", T_OBJECT, CURS_OFF(tuple_factory), 0,
     "None (rows are tuples) or a callable(cursor) returning an object "
     "that is filled with row[i] = value."},
    {"tzinfo_factory", T_OBJECT, CURS_OFF(tzinfo_factory), 0,
     "The tzinfo class used to build timestamps with time zone."},
    {"string_types", T_OBJECT, CURS_OFF(string_types), 0,
     "Typecasters registered on this cursor (oid -> caster)."},
    {"binary_types", T_OBJECT, CURS_OFF(binary_types), 0,
     "Binary typecasters registered on this cursor."},
    {NULL}
};

static PyMethodDef cursor_methods[] = {
    {"close", (PyCFunction)curs_close, METH_NOARGS,
     "close() -- Close the cursor."},
    {"execute", (PyCFunction)curs_execute, METH_VARARGS | METH_KEYWORDS,
     "execute(query, vars=None) -- Execute query with bound vars."},
    {"executemany", (PyCFunction)curs_executemany,
     METH_VARARGS | METH_KEYWORDS,
     "executemany(query, vars_list) -- Execute query with every set of "
     "vars in vars_list."},
    {"callproc", (PyCFunction)curs_callproc, METH_VARARGS | METH_KEYWORDS,
     "callproc(procname, parameters=None) -- Call a database function."},
    {"mogrify", (PyCFunction)curs_mogrify, METH_VARARGS | METH_KEYWORDS,
     "mogrify(query, vars=None) -> bytes -- The query that execute() "
     "would send."},
    {"fetchone", (PyCFunction)curs_fetchone, METH_NOARGS,
     "fetchone() -> row or None -- The next row of the result."},
    {"fetchmany", (PyCFunction)curs_fetchmany, METH_VARARGS | METH_KEYWORDS,
     "fetchmany(size=self.arraysize) -> list -- The next size rows."},
    {"fetchall", (PyCFunction)curs_fetchall, METH_NOARGS,
     "fetchall() -> list -- All the remaining rows."},
    {"scroll", (PyCFunction)curs_scroll, METH_VARARGS | METH_KEYWORDS,
     "scroll(value, mode='relative') -- Move the cursor in the result."},
    {"copy_from", (PyCFunction)curs_copy_from, METH_VARARGS | METH_KEYWORDS,
     "copy_from(file, table, sep='\\t', null='\\\\N', size=8192, "
     "columns=None) -- Copy rows from a file into a table."},
    {"copy_to", (PyCFunction)curs_copy_to, METH_VARARGS | METH_KEYWORDS,
     "copy_to(file, table, sep='\\t', null='\\\\N', columns=None) -- "
     "Copy the rows of a table into a file."},
    {"copy_expert", (PyCFunction)curs_copy_expert,
     METH_VARARGS | METH_KEYWORDS,
     "copy_expert(sql, file, size=8192) -- Run a COPY statement with a "
     "file."},
    {"nextset", (PyCFunction)curs_nextset, METH_NOARGS,
     "nextset() -- Not supported by PostgreSQL."},
    {"setinputsizes", (PyCFunction)curs_setinputsizes,
     METH_VARARGS | METH_KEYWORDS, "setinputsizes(sizes) -- Does nothing."},
    {"setoutputsize", (PyCFunction)curs_setoutputsize,
     METH_VARARGS | METH_KEYWORDS,
     "setoutputsize(size, column=None) -- Does nothing."},
    {"cast", (PyCFunction)curs_cast, METH_VARARGS | METH_KEYWORDS,
     "cast(oid, s) -- Convert the string s as a value of type oid."},
    {"__enter__", (PyCFunction)curs_enter, METH_NOARGS,
     "__enter__ -> self"},
    {"__exit__", (PyCFunction)curs_exit, METH_VARARGS,
     "__exit__ -- Close the cursor."},
    {NULL}
};

PyTypeObject cursorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.cursor",
    .tp_basicsize = sizeof(cursorObject),
    .tp_dealloc = (destructor)cursor_dealloc,
    .tp_repr = (reprfunc)cursor_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A database cursor.",
    .tp_traverse = (traverseproc)cursor_traverse,
    .tp_clear = (inquiry)cursor_clear,
    .tp_weaklistoffset = offsetof(cursorObject, weakreflist),
    .tp_iter = (getiterfunc)curs_iter,
    .tp_iternext = (iternextfunc)curs_iternext,
    .tp_methods = cursor_methods,
    .tp_members = cursor_members,
    .tp_getset = cursor_getsets,
    .tp_dictoffset = offsetof(cursorObject, dict),
    .tp_init = (initproc)cursor_init,
    .tp_new = cursor_new,
};

int
cursor_setup(PyObject *module)
{
    PyObject *datetime = NULL;
    int rv = -1;

    if (!(datetime = PyImport_ImportModule("datetime"))) {
        goto exit;
    }
    if (!(default_tzinfo_factory = PyObject_GetAttrString(datetime,
                                                          "timezone"))) {
        goto exit;
    }
    if (PyType_Ready(&cursorType) < 0) {
        goto exit;
    }
    Py_INCREF(&cursorType);
    if (PyModule_AddObject(module, "cursor", (PyObject *)&cursorType) < 0) {
        Py_DECREF(&cursorType);
        goto exit;
    }
    rv = 0;

exit:
    Py_XDECREF(datetime);
    return rv;
}
