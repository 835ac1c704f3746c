/* adapt_sqlin.c - NoneAdapter (None as NULL) and SQL_IN (tuples as
 * `(a, b, c)`, for `x IN %s`).
 *
 * An empty tuple gives `()`, which the server rejects in `IN ()` with a
 * syntax error, as with psycopg2.
 */
#include "adapt_internal.h"

/* ---- NoneAdapter ---- */

static PyObject *
none_getquoted(adaptObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"_null", NULL};
    PyObject *null = adapt_bytes_null;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:getquoted", kwlist,
                                     &null)) {
        return NULL;
    }
    Py_INCREF(null);
    return null;
}

static PyMethodDef none_methods[] = {
    {"getquoted", (PyCFunction)(void (*)(void))none_getquoted,
     METH_VARARGS | METH_KEYWORDS, "getquoted() -> b'NULL'"},
    {NULL}
};

PyTypeObject noneAdapterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.NoneAdapter",
    .tp_basicsize = sizeof(adaptObject),
    .tp_dealloc = (destructor)adapt_base_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Adapt None to NULL.",
    .tp_traverse = (traverseproc)adapt_base_traverse,
    .tp_clear = (inquiry)adapt_base_clear,
    .tp_methods = none_methods,
    .tp_init = (initproc)adapt_base_init,
    .tp_new = PyType_GenericNew,
};

/* ---- SQL_IN ---- */

PyObject *
adapt_sqlin_quote(PyObject *seq, connectionObject *conn)
{
    PyObject *items = NULL;
    PyObject *parts = NULL;
    PyObject *rv = NULL;
    Py_ssize_t i, n;

    if (!seq) {
        seq = Py_None;
    }
    /* a tuple: adapters are Python code and could change a list */
    if (!(items = PySequence_Tuple(seq))) {
        goto exit;
    }
    n = PyTuple_GET_SIZE(items);
    if (!(parts = PyList_New(n))) {
        goto exit;
    }
    /* nested tuples recurse through here: RecursionError, not a crash */
    if (Py_EnterRecursiveCall(" while adapting a tuple")) {
        goto exit;
    }
    for (i = 0; i < n; i++) {
        PyObject *part = adapt_getquoted_registered(
            PyTuple_GET_ITEM(items, i), conn);
        if (!part) {
            Py_LeaveRecursiveCall();
            goto exit;
        }
        PyList_SET_ITEM(parts, i, part);
    }
    Py_LeaveRecursiveCall();
    rv = adapt_join_bytes("(", parts, ", ", ")");

exit:
    Py_XDECREF(parts);
    Py_XDECREF(items);
    return rv;
}

static PyObject *
sqlin_getquoted(adaptObject *self, PyObject *dummy)
{
    return adapt_sqlin_quote(self->wrapped, adapt_base_conn(self));
}

/* str(SQL_IN) is str() of the quoted bytes, as in psycopg2 */
static PyObject *
sqlin_str(adaptObject *self)
{
    PyObject *quoted = NULL;
    PyObject *rv = NULL;

    if ((quoted = PyObject_CallMethod((PyObject *)self, "getquoted", NULL))) {
        rv = PyObject_Str(quoted);
    }
    Py_XDECREF(quoted);
    return rv;
}

static PyMemberDef sqlin_members[] = {
    {"_seq", T_OBJECT, offsetof(adaptObject, wrapped), READONLY,
     "The sequence being adapted."},
    {"_conn", T_OBJECT, offsetof(adaptObject, conn), READONLY,
     "The connection given to prepare(), or None."},
    {NULL}
};

static PyMethodDef sqlin_methods[] = {
    {"getquoted", (PyCFunction)sqlin_getquoted, METH_NOARGS,
     "getquoted() -> the items quoted, in parentheses"},
    ADAPT_PREPARE_METHOD,
    {NULL}
};

PyTypeObject sqlinType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.SQL_IN",
    .tp_basicsize = sizeof(adaptObject),
    .tp_dealloc = (destructor)adapt_base_dealloc,
    .tp_str = (reprfunc)sqlin_str,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Adapt any iterable to an SQL quotable object.",
    .tp_traverse = (traverseproc)adapt_base_traverse,
    .tp_clear = (inquiry)adapt_base_clear,
    .tp_methods = sqlin_methods,
    .tp_members = sqlin_members,
    .tp_init = (initproc)adapt_base_init,
    .tp_new = PyType_GenericNew,
};
