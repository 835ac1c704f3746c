/* adapt_list.c - List: Python lists as ARRAY[...] expressions.
 *
 * psycopg2's rules: an empty list is '{}'; nested lists become nested
 * ARRAY[...] (an empty nested list ARRAY[]); a list containing only None
 * (or lists of only None) is sent as a '{NULL,...}' literal, whose type
 * the server can infer from the context, unlike ARRAY[NULL] (text[]).
 */
#include "adapt_internal.h"

#include <string.h>

PyObject *
adapt_join_bytes(const char *prefix, PyObject *parts, const char *sep,
                 const char *suffix)
{
    PyObject *rv = NULL;
    Py_ssize_t i, n = PyList_GET_SIZE(parts);
    Py_ssize_t lprefix = strlen(prefix), lsep = strlen(sep);
    Py_ssize_t lsuffix = strlen(suffix);
    Py_ssize_t size = lprefix + lsuffix;
    char *out;

    for (i = 0; i < n; i++) {
        PyObject *part = PyList_GET_ITEM(parts, i);
        size += PyBytes_GET_SIZE(part) + (i ? lsep : 0);
        if (size < 0) {
            return PyErr_NoMemory();
        }
    }
    if (!(rv = PyBytes_FromStringAndSize(NULL, size))) {
        return NULL;
    }
    out = PyBytes_AS_STRING(rv);
    memcpy(out, prefix, lprefix);
    out += lprefix;
    for (i = 0; i < n; i++) {
        PyObject *part = PyList_GET_ITEM(parts, i);
        if (i) {
            memcpy(out, sep, lsep);
            out += lsep;
        }
        memcpy(out, PyBytes_AS_STRING(part), PyBytes_GET_SIZE(part));
        out += PyBytes_GET_SIZE(part);
    }
    memcpy(out, suffix, lsuffix);
    return rv;
}

/* 1 if `list` is not empty and holds only None or lists of the same kind,
 * 0 if not, -1 on error (recursion too deep). */
static int
list_all_null(PyObject *list)
{
    Py_ssize_t i;
    int rv = 1;

    if (PyList_GET_SIZE(list) == 0) {
        return 0;
    }
    if (Py_EnterRecursiveCall(" while adapting a list")) {
        return -1;
    }
    for (i = 0; rv == 1 && i < PyList_GET_SIZE(list); i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        if (item == Py_None) {
            continue;
        }
        rv = PyList_Check(item) ? list_all_null(item) : 0;
    }
    Py_LeaveRecursiveCall();
    return rv;
}

/* {NULL,{NULL},...} for a list known to be all null (without quotes). */
static PyObject *
list_null_literal(PyObject *list)
{
    PyObject *parts = NULL;
    PyObject *rv = NULL;
    Py_ssize_t i, n = PyList_GET_SIZE(list);

    if (Py_EnterRecursiveCall(" while adapting a list")) {
        return NULL;
    }
    if (!(parts = PyList_New(n))) {
        goto exit;
    }
    for (i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(list, i);
        PyObject *part;
        if (item == Py_None) {
            Py_INCREF(adapt_bytes_null);
            part = adapt_bytes_null;
        }
        else if (!(part = list_null_literal(item))) {
            goto exit;
        }
        PyList_SET_ITEM(parts, i, part);
    }
    rv = adapt_join_bytes("{", parts, ",", "}");

exit:
    Py_LeaveRecursiveCall();
    Py_XDECREF(parts);
    return rv;
}

/* The literal of one element of an ARRAY[...]. */
static PyObject *list_quote(PyObject *list, connectionObject *conn,
                            int toplevel);

static PyObject *
list_item_quote(PyObject *item, connectionObject *conn)
{
    if (item == Py_None) {
        Py_INCREF(adapt_bytes_null);
        return adapt_bytes_null;
    }
    if (PyList_Check(item)) {
        return list_quote(item, conn, 0);
    }
    return microprotocol_getquoted(item, conn);
}

/* ARRAY[...] of the elements (the list is not empty). */
static PyObject *
list_quote_array(PyObject *list, connectionObject *conn)
{
    PyObject *parts = NULL;
    PyObject *item = NULL;
    PyObject *rv = NULL;
    Py_ssize_t i, n = PyList_GET_SIZE(list);

    if (!(parts = PyList_New(0))) {
        goto exit;
    }
    /* the size is read again at each step: adapters are Python code and
     * may change the list */
    for (i = 0; i < PyList_GET_SIZE(list) && i < n; i++) {
        PyObject *part;
        item = PyList_GET_ITEM(list, i);
        Py_INCREF(item);
        if (!(part = list_item_quote(item, conn))) {
            goto exit;
        }
        Py_CLEAR(item);
        if (PyList_Append(parts, part) < 0) {
            Py_DECREF(part);
            goto exit;
        }
        Py_DECREF(part);
    }
    rv = adapt_join_bytes("ARRAY[", parts, ",", "]");

exit:
    Py_XDECREF(item);
    Py_XDECREF(parts);
    return rv;
}

static PyObject *
list_quote(PyObject *list, connectionObject *conn, int toplevel)
{
    PyObject *literal = NULL;
    PyObject *rv = NULL;
    int all_null;

    if (PyList_GET_SIZE(list) == 0) {
        return PyBytes_FromString(toplevel ? "'{}'" : "ARRAY[]");
    }
    if ((all_null = list_all_null(list)) < 0) {
        return NULL;
    }
    if (all_null) {
        if ((literal = list_null_literal(list))) {
            rv = PyBytes_FromFormat("'%s'", PyBytes_AS_STRING(literal));
        }
        Py_XDECREF(literal);
        return rv;
    }
    if (Py_EnterRecursiveCall(" while adapting a list")) {
        return NULL;
    }
    rv = list_quote_array(list, conn);
    Py_LeaveRecursiveCall();
    return rv;
}

PyObject *
adapt_list_quote(PyObject *list, connectionObject *conn)
{
    if (!list || !PyList_Check(list)) {
        PyErr_Format(PyExc_TypeError, "List adapter requires a list, got %s",
                     list ? Py_TYPE(list)->tp_name : "nothing");
        return NULL;
    }
    return list_quote(list, conn, 1);
}

/* ---- the List type ---- */

static int
list_init(adaptObject *self, PyObject *args, PyObject *kwds)
{
    if (adapt_base_init(self, args, kwds) < 0) {
        return -1;
    }
    if (!PyList_Check(self->wrapped)) {
        PyErr_Format(PyExc_TypeError, "List() argument must be a list, not %s",
                     Py_TYPE(self->wrapped)->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *
list_getquoted(adaptObject *self, PyObject *dummy)
{
    return adapt_list_quote(self->wrapped, adapt_base_conn(self));
}

static PyMethodDef list_methods[] = {
    {"getquoted", (PyCFunction)list_getquoted, METH_NOARGS,
     "getquoted() -> wrapped list as an SQL array"},
    ADAPT_PREPARE_METHOD,
    ADAPT_CONFORM_METHOD,
    {NULL}
};

PyTypeObject listType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2._psycopg.List",
    .tp_basicsize = sizeof(adaptObject),
    .tp_dealloc = (destructor)adapt_base_dealloc,
    .tp_str = (reprfunc)adapt_base_str,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "List(list) -> new list wrapper object",
    .tp_traverse = (traverseproc)adapt_base_traverse,
    .tp_clear = (inquiry)adapt_base_clear,
    .tp_methods = list_methods,
    .tp_members = adapt_base_members,
    .tp_init = (initproc)list_init,
    .tp_new = PyType_GenericNew,
};
