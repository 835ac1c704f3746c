/* adapt_qstring.c - QuotedString: str and bytes as SQL string literals.
 *
 * Without prepare() the string is encoded in latin-1 and escaped with
 * libpq's standalone escaping (psycopg2's behaviour); prepare(conn) takes
 * the connection's encoding and escaping rules.
 */
#include "adapt_internal.h"

/* the codec name used when none was set or prepared */
static const char default_encoding[] = "latin1";

/* Encode the wrapped object: new bytes reference. */
static PyObject *
qstring_encode(adaptObject *self)
{
    const char *encoding = default_encoding;

    if (self->wrapped && PyBytes_Check(self->wrapped)) {
        Py_INCREF(self->wrapped);
        return self->wrapped;
    }
    if (!self->wrapped || !PyUnicode_Check(self->wrapped)) {
        PyErr_SetString(PyExc_TypeError, "can't quote non-string object");
        return NULL;
    }
    if (self->encoding &&
            !(encoding = PyUnicode_AsUTF8(self->encoding))) {
        return NULL;
    }
    return PyUnicode_AsEncodedString(self->wrapped, encoding, NULL);
}

static PyObject *
qstring_getquoted(adaptObject *self, PyObject *dummy)
{
    PyObject *encoded = NULL;

    if (!self->buffer) {
        if (!(encoded = qstring_encode(self))) {
            goto exit;
        }
        if (!PyBytes_Check(encoded)) {
            PyErr_Format(PyExc_TypeError,
                "encoding a string returned %s, not bytes",
                Py_TYPE(encoded)->tp_name);
            goto exit;
        }
        self->buffer = adapt_quote_string_bytes(adapt_base_conn(self),
            PyBytes_AS_STRING(encoded), PyBytes_GET_SIZE(encoded));
    }

exit:
    Py_XDECREF(encoded);
    Py_XINCREF(self->buffer);
    return self->buffer;
}

/* prepare(conn): escape for `conn`, in its encoding */
static PyObject *
qstring_prepare(adaptObject *self, PyObject *args)
{
    connectionObject *conn;
    PyObject *res;

    if (!(res = adapt_base_prepare(self, args))) {
        return NULL;
    }
    Py_DECREF(res);
    conn = adapt_base_conn(self);
    if (conn->pyencoding) {
        Py_INCREF(conn->pyencoding);
        Py_XSETREF(self->encoding, conn->pyencoding);
    }
    Py_RETURN_NONE;
}

static PyObject *
qstring_get_encoding(adaptObject *self, void *closure)
{
    if (!self->encoding) {
        return PyUnicode_FromString(default_encoding);
    }
    Py_INCREF(self->encoding);
    return self->encoding;
}

static int
qstring_set_encoding(adaptObject *self, PyObject *value, void *closure)
{
    PyObject *name = NULL;

    if (!value) {
        PyErr_SetString(PyExc_TypeError, "can't delete encoding");
        return -1;
    }
    if (PyUnicode_Check(value)) {
        Py_INCREF(value);
        name = value;
    }
    else if (PyBytes_Check(value)) {
        if (!(name = PyUnicode_FromEncodedObject(value, "ascii", NULL))) {
            return -1;
        }
    }
    else {
        PyErr_Format(PyExc_TypeError,
            "Expected bytes or unicode string, got %s instead",
            Py_TYPE(value)->tp_name);
        return -1;
    }
    Py_XSETREF(self->encoding, name);
    return 0;
}

static PyMemberDef qstring_members[] = {
    {"adapted", T_OBJECT, offsetof(adaptObject, wrapped), READONLY,
     "The string being adapted."},
    {"buffer", T_OBJECT, offsetof(adaptObject, buffer), READONLY,
     "The quoted string, once computed."},
    {NULL}
};

static PyGetSetDef qstring_getset[] = {
    {"encoding", (getter)qstring_get_encoding, (setter)qstring_set_encoding,
     "Python codec used to encode str objects.", NULL},
    {NULL}
};

static PyMethodDef qstring_methods[] = {
    {"getquoted", (PyCFunction)qstring_getquoted, METH_NOARGS,
     "getquoted() -> wrapped object value as SQL-quoted string"},
    {"prepare", (PyCFunction)qstring_prepare, METH_VARARGS,
     "prepare(conn) -> prepare for the connection `conn`"},
    ADAPT_CONFORM_METHOD,
    {NULL}
};

PyTypeObject qstringType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.QuotedString",
    .tp_basicsize = sizeof(adaptObject),
    .tp_dealloc = (destructor)adapt_base_dealloc,
    .tp_str = (reprfunc)adapt_base_str,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "QuotedString(str) -> new quoted object",
    .tp_traverse = (traverseproc)adapt_base_traverse,
    .tp_clear = (inquiry)adapt_base_clear,
    .tp_methods = qstring_methods,
    .tp_members = qstring_members,
    .tp_getset = qstring_getset,
    .tp_init = (initproc)adapt_base_init,
    .tp_new = PyType_GenericNew,
};
