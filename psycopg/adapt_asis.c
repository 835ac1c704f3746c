/* adapt_asis.c - AsIs: the object's str() put in the query as it is. */
#include "adapt_internal.h"

/* AsIs.getquoted(): NULL for None, else str(obj) encoded in utf-8. */
static PyObject *
asis_getquoted(adaptObject *self, PyObject *dummy)
{
    PyObject *str = NULL;
    PyObject *rv = NULL;

    if (!self->wrapped || self->wrapped == Py_None) {
        Py_INCREF(adapt_bytes_null);
        return adapt_bytes_null;
    }
    if (!(str = PyObject_Str(self->wrapped))) {
        goto exit;
    }
    rv = PyUnicode_AsUTF8String(str);

exit:
    Py_XDECREF(str);
    return rv;
}

static PyMethodDef asis_methods[] = {
    {"getquoted", (PyCFunction)asis_getquoted, METH_NOARGS,
     "getquoted() -> wrapped object value as SQL-quoted string"},
    ADAPT_CONFORM_METHOD,
    {NULL}
};

PyTypeObject asisType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.AsIs",
    .tp_basicsize = sizeof(adaptObject),
    .tp_dealloc = (destructor)adapt_base_dealloc,
    .tp_str = (reprfunc)adapt_base_str,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "AsIs(str) -> new AsIs adapter object",
    .tp_traverse = (traverseproc)adapt_base_traverse,
    .tp_clear = (inquiry)adapt_base_clear,
    .tp_methods = asis_methods,
    .tp_members = adapt_base_members,
    .tp_init = (initproc)adapt_base_init,
    .tp_new = PyType_GenericNew,
};
