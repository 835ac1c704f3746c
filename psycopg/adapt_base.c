/* adapt_base.c - slots and methods shared by the adapter types.
 *
 * All the adapter types (AsIs, QuotedString, Binary, Boolean, Int, Float,
 * Decimal, List, datetime, NoneAdapter, SQL_IN) use the adaptObject
 * layout; the functions here implement what they have in common:
 * construction from one object, GC support, __conform__, prepare() and
 * str().
 */
#include "adapt_internal.h"

PyMemberDef adapt_base_members[] = {
    {"adapted", T_OBJECT, offsetof(adaptObject, wrapped), READONLY,
     "The object being adapted."},
    {NULL}
};

/* tp_init: Adapter(obj).  The parsing is in tp_init (not tp_new) so that
 * Python subclasses can define an __init__ with another signature. */
int
adapt_base_init(adaptObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *obj = NULL;

    if (kwds && PyDict_GET_SIZE(kwds)) {
        PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments",
                     Py_TYPE(self)->tp_name);
        return -1;
    }
    if (!PyArg_ParseTuple(args, "O", &obj)) {
        return -1;
    }
    Py_INCREF(obj);
    Py_XSETREF(self->wrapped, obj);
    Py_CLEAR(self->buffer);
    return 0;
}

int
adapt_base_traverse(adaptObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->wrapped);
    Py_VISIT(self->conn);
    Py_VISIT(self->buffer);
    Py_VISIT(self->encoding);
    return 0;
}

int
adapt_base_clear(adaptObject *self)
{
    Py_CLEAR(self->wrapped);
    Py_CLEAR(self->conn);
    Py_CLEAR(self->buffer);
    Py_CLEAR(self->encoding);
    return 0;
}

void
adapt_base_dealloc(adaptObject *self)
{
    PyObject_GC_UnTrack(self);
    adapt_base_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyObject *
adapt_base_str(adaptObject *self)
{
    PyObject *quoted = NULL;
    PyObject *rv = NULL;

    /* call the method so that subclasses overriding getquoted() agree */
    if (!(quoted = PyObject_CallMethod((PyObject *)self, "getquoted", NULL))) {
        goto exit;
    }
    if (PyBytes_Check(quoted)) {
        rv = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(quoted),
                                  PyBytes_GET_SIZE(quoted), "replace");
    }
    else {
        rv = PyObject_Str(quoted);
    }

exit:
    Py_XDECREF(quoted);
    return rv;
}

PyObject *
adapt_base_conform(adaptObject *self, PyObject *proto)
{
    if (proto == (PyObject *)&isqlquoteType) {
        Py_INCREF(self);
        return (PyObject *)self;
    }
    Py_RETURN_NONE;
}

PyObject *
adapt_base_prepare(adaptObject *self, PyObject *args)
{
    PyObject *conn = NULL;

    if (!PyArg_ParseTuple(args, "O!", &connectionType, &conn)) {
        return NULL;
    }
    Py_INCREF(conn);
    Py_XSETREF(self->conn, conn);
    Py_RETURN_NONE;
}

connectionObject *
adapt_base_conn(adaptObject *self)
{
    return (connectionObject *)self->conn;
}
