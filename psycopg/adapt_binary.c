/* adapt_binary.c - Binary: objects with the buffer protocol as bytea. */
#include "adapt_internal.h"

PyObject *
adapt_binary_quote(PyObject *obj, connectionObject *conn)
{
    Py_buffer view;
    PyObject *rv = NULL;

    if (!obj || obj == Py_None) {
        Py_INCREF(adapt_bytes_null);
        return adapt_bytes_null;
    }
    if (PyBytes_CheckExact(obj)) {
        return adapt_quote_bytea(conn, PyBytes_AS_STRING(obj),
                                 PyBytes_GET_SIZE(obj));
    }
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError, "can't escape %s to binary",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    if (PyObject_GetBuffer(obj, &view, PyBUF_CONTIG_RO) < 0) {
        return NULL;
    }
    rv = adapt_quote_bytea(conn, (const char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return rv;
}

static PyObject *
binary_getquoted(adaptObject *self, PyObject *dummy)
{
    if (!self->buffer) {
        self->buffer = adapt_binary_quote(self->wrapped,
                                          adapt_base_conn(self));
    }
    Py_XINCREF(self->buffer);
    return self->buffer;
}

static PyMemberDef binary_members[] = {
    {"adapted", T_OBJECT, offsetof(adaptObject, wrapped), READONLY,
     "The binary data being adapted."},
    {"buffer", T_OBJECT, offsetof(adaptObject, buffer), READONLY,
     "The quoted data, once computed."},
    {NULL}
};

static PyMethodDef binary_methods[] = {
    {"getquoted", (PyCFunction)binary_getquoted, METH_NOARGS,
     "getquoted() -> wrapped object value as SQL-quoted binary string"},
    ADAPT_PREPARE_METHOD,
    ADAPT_CONFORM_METHOD,
    {NULL}
};

PyTypeObject binaryType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.Binary",
    .tp_basicsize = sizeof(adaptObject),
    .tp_dealloc = (destructor)adapt_base_dealloc,
    .tp_str = (reprfunc)adapt_base_str,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Binary(buffer) -> new binary object",
    .tp_traverse = (traverseproc)adapt_base_traverse,
    .tp_clear = (inquiry)adapt_base_clear,
    .tp_methods = binary_methods,
    .tp_members = binary_members,
    .tp_init = (initproc)adapt_base_init,
    .tp_new = PyType_GenericNew,
};
