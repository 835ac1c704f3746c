/* lobject_type.c - the lobject Python type (psycopg2.extensions.lobject)
 * and connection.lobject().
 *
 * A lobject wraps a PostgreSQL large object opened on a connection.  Large
 * object descriptors only live until the end of the transaction that
 * opened them: the lobject remembers the connection's transaction `mark`
 * and refuses to work once it changed.  The libpq calls are in
 * lobject_int.c.
 */

#include "lobject_priv.h"

#include <limits.h>

/* ------------------------------------------------------------------ */
/* Argument parsing                                                   */

/* "O&" converter: a Python int to an Oid.  Negative values down to
 * -2**31 wrap around as PostgreSQL's own oid input does. */
static int
oid_converter(PyObject *obj, void *addr)
{
    PyObject *num = NULL;
    long long val;
    int rv = 0;

    if (!(num = PyNumber_Index(obj))) { goto exit; }
    val = PyLong_AsLongLong(num);
    if (val == -1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError)) { goto exit; }
        PyErr_Clear();
        val = LLONG_MIN;    /* reported as out of range below */
    }
    if (val < INT_MIN || val > (long long)UINT_MAX) {
        PyErr_Format(PyExc_OverflowError, "oid out of range: %S", num);
        goto exit;
    }
    *(Oid *)addr = (Oid)(unsigned int)val;     /* modulo 2**32 */
    rv = 1;

exit:
    Py_XDECREF(num);
    return rv;
}

/* Parse a mode string: [r|w|rw|n][t|b], default "rt".  Sets the INV_*
 * access bits (0 for "n": don't open) and the text flag.  0 ok, -1 with
 * ValueError. */
static int
parse_mode(const char *mode, int *access, int *text)
{
    const char *p = mode ? mode : "";

    if (p[0] == 'r' && p[1] == 'w') { *access = INV_READ | INV_WRITE; p += 2; }
    else if (p[0] == 'r') { *access = INV_READ; p++; }
    else if (p[0] == 'w') { *access = INV_WRITE; p++; }
    else if (p[0] == 'n') { *access = 0; p++; }
    else { *access = INV_READ; }

    *text = 1;
    if (p[0] == 't') { p++; }
    else if (p[0] == 'b') { *text = 0; p++; }

    if (*p) {
        PyErr_Format(PyExc_ValueError, "bad mode for lobject: '%s'", mode);
        return -1;
    }
    return 0;
}

/* The mode as lobject.mode shows it: "n" or r/w/rw followed by t/b. */
static PyObject *
mode_string(int access, int text)
{
    const char *rw;

    if (!access) { return PyUnicode_FromString("n"); }
    rw = (access == (INV_READ | INV_WRITE)) ? "rw"
        : (access == INV_WRITE) ? "w" : "r";
    return PyUnicode_FromFormat("%s%s", rw, text ? "t" : "b");
}

/* ------------------------------------------------------------------ */
/* State checks (psycopg2's messages)                                 */

#define MSG_LEVEL0 "can't use a lobject outside of transactions"

/* Can a large object be created on `conn`?  `green_ok`: allowed with a
 * wait callback set (only connection.lobject() refuses it).  0 yes, -1
 * with an exception set. */
static int
check_conn_usable(connectionObject *conn, int green_ok)
{
    if (conn->closed != CONN_OPEN) {
        PyErr_SetString(InterfaceError, "connection already closed");
        return -1;
    }
    if (conn->async_) {
        PyErr_SetString(ProgrammingError,
            "lobject cannot be used in asynchronous mode");
        return -1;
    }
    if (!green_ok && psyco_wait_callback) {
        PyErr_SetString(ProgrammingError,
            "lobject cannot be used with an asynchronous callback.");
        return -1;
    }
    if (conn->status == CONN_STATUS_PREPARED) {
        PyErr_SetString(ProgrammingError,
            "lobject cannot be used with a prepared two-phase transaction");
        return -1;
    }
    if (conn->autocommit) {
        PyErr_SetString(ProgrammingError, MSG_LEVEL0);
        return -1;
    }
    return 0;
}

/* For the methods working on the open descriptor: open, inside a
 * transaction, the same transaction it was opened in. */
static int
check_open(lobjectObject *self)
{
    connectionObject *conn = self->conn;

    if (!conn || self->fd < 0 || conn->closed != CONN_OPEN) {
        PyErr_SetString(InterfaceError, "lobject already closed");
        return -1;
    }
    if (conn->autocommit) {
        PyErr_SetString(ProgrammingError, MSG_LEVEL0);
        return -1;
    }
    if (self->mark != conn->mark) {
        PyErr_SetString(ProgrammingError, "lobject isn't valid anymore");
        return -1;
    }
    return 0;
}

/* For the methods working on the object by oid (export, unlink). */
static int
check_conn_open(lobjectObject *self)
{
    if (!self->conn) {
        PyErr_SetString(InterfaceError, "lobject not initialized");
        return -1;
    }
    return conn_check_open(self->conn);
}

/* ------------------------------------------------------------------ */
/* Methods                                                            */

PyDoc_STRVAR(lobject_close_doc,
"close() -- Close the large object.\n\n"
"Closing an already closed object, or one whose transaction is over,\n"
"does nothing.");

static PyObject *
lobject_close_method(lobjectObject *self, PyObject *dummy)
{
    if (lobject_close_fd(self) < 0) { return NULL; }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(lobject_read_doc,
"read(size=-1) -- Read up to size bytes from the current position.\n\n"
"With a negative size read up to the end of the object.  Return str\n"
"(decoded in the connection encoding) in text mode, bytes in binary\n"
"mode.");

static PyObject *
lobject_read_method(lobjectObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", NULL};
    Py_ssize_t size = -1;
    PyObject *data = NULL, *rv = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|n", kwlist, &size)) {
        goto exit;
    }
    if (check_open(self) < 0) { goto exit; }
    if (!(data = lobject_read_bytes(self, size))) { goto exit; }
    if (!self->text) {
        rv = data;
        data = NULL;
        goto exit;
    }
    rv = conn_decode(self->conn, PyBytes_AS_STRING(data),
                     PyBytes_GET_SIZE(data));

exit:
    Py_XDECREF(data);
    return rv;
}

PyDoc_STRVAR(lobject_write_doc,
"write(data) -- Write str or bytes at the current position.\n\n"
"A str is encoded in the connection encoding.  Return the number of\n"
"bytes written.");

static PyObject *
lobject_write_method(lobjectObject *self, PyObject *data)
{
    PyObject *bytes = NULL, *rv = NULL;
    Py_ssize_t written;

    if (check_open(self) < 0) { goto exit; }
    if (PyUnicode_Check(data)) {
        if (!(bytes = conn_encode(self->conn, data))) { goto exit; }
    }
    else if (PyBytes_Check(data)) {
        Py_INCREF(data);
        bytes = data;
    }
    else {
        PyErr_Format(PyExc_TypeError,
            "lobject.write requires a string; got %s instead",
            Py_TYPE(data)->tp_name);
        goto exit;
    }
    written = lobject_write_bytes(self, PyBytes_AS_STRING(bytes),
                                  PyBytes_GET_SIZE(bytes));
    if (written < 0) { goto exit; }
    rv = PyLong_FromSsize_t(written);

exit:
    Py_XDECREF(bytes);
    return rv;
}

PyDoc_STRVAR(lobject_seek_doc,
"seek(offset, whence=0) -- Move the current position and return it.\n\n"
"whence is 0 (from the start), 1 (from the current position) or 2\n"
"(from the end).  Offsets beyond 2GB are supported.");

static PyObject *
lobject_seek_method(lobjectObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"offset", "whence", NULL};
    long long offset;
    int whence = 0;
    int64_t pos;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "L|i", kwlist,
                                     &offset, &whence)) {
        return NULL;
    }
    if (check_open(self) < 0) { return NULL; }
    if ((pos = lobject_seek(self, (int64_t)offset, whence)) < 0) {
        return NULL;
    }
    return PyLong_FromLongLong((long long)pos);
}

PyDoc_STRVAR(lobject_tell_doc,
"tell() -- Return the current position in the large object.");

static PyObject *
lobject_tell_method(lobjectObject *self, PyObject *dummy)
{
    int64_t pos;

    if (check_open(self) < 0) { return NULL; }
    if ((pos = lobject_tell(self)) < 0) { return NULL; }
    return PyLong_FromLongLong((long long)pos);
}

PyDoc_STRVAR(lobject_truncate_doc,
"truncate(len=0) -- Cut (or extend with zeros) the object to len bytes.");

static PyObject *
lobject_truncate_method(lobjectObject *self, PyObject *args,
                        PyObject *kwargs)
{
    static char *kwlist[] = {"len", NULL};
    long long len = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|L", kwlist, &len)) {
        return NULL;
    }
    if (check_open(self) < 0) { return NULL; }
    if (lobject_truncate(self, (int64_t)len) < 0) { return NULL; }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(lobject_export_doc,
"export(file_name) -- Copy the whole large object to a client file.");

static PyObject *
lobject_export_method(lobjectObject *self, PyObject *args,
                      PyObject *kwargs)
{
    static char *kwlist[] = {"file_name", NULL};
    PyObject *fname = NULL, *rv = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&", kwlist,
                                     PyUnicode_FSConverter, &fname)) {
        goto exit;
    }
    if (check_conn_open(self) < 0) { goto exit; }
    if (self->conn->autocommit) {
        PyErr_SetString(ProgrammingError, MSG_LEVEL0);
        goto exit;
    }
    /* works on the oid: also after close() or in a later transaction */
    if (conn_begin_if_needed(self->conn) < 0) { goto exit; }
    if (lobject_export(self, PyBytes_AS_STRING(fname)) < 0) { goto exit; }
    Py_INCREF(Py_None);
    rv = Py_None;

exit:
    Py_XDECREF(fname);
    return rv;
}

PyDoc_STRVAR(lobject_unlink_doc,
"unlink() -- Close the large object and delete it from the database.");

static PyObject *
lobject_unlink_method(lobjectObject *self, PyObject *dummy)
{
    if (check_conn_open(self) < 0) { return NULL; }
    if (lobject_close_fd(self) < 0) { return NULL; }
    if (conn_begin_if_needed(self->conn) < 0) { return NULL; }
    if (lobject_unlink(self) < 0) { return NULL; }
    Py_RETURN_NONE;
}

static PyMethodDef lobject_methods[] = {
    {"read", (PyCFunction)(void (*)(void))lobject_read_method,
     METH_VARARGS | METH_KEYWORDS, lobject_read_doc},
    {"write", (PyCFunction)lobject_write_method, METH_O, lobject_write_doc},
    {"seek", (PyCFunction)(void (*)(void))lobject_seek_method,
     METH_VARARGS | METH_KEYWORDS, lobject_seek_doc},
    {"tell", (PyCFunction)lobject_tell_method, METH_NOARGS,
     lobject_tell_doc},
    {"truncate", (PyCFunction)(void (*)(void))lobject_truncate_method,
     METH_VARARGS | METH_KEYWORDS, lobject_truncate_doc},
    {"export", (PyCFunction)(void (*)(void))lobject_export_method,
     METH_VARARGS | METH_KEYWORDS, lobject_export_doc},
    {"unlink", (PyCFunction)lobject_unlink_method, METH_NOARGS,
     lobject_unlink_doc},
    {"close", (PyCFunction)lobject_close_method, METH_NOARGS,
     lobject_close_doc},
    {NULL, NULL, 0, NULL}
};

/* ------------------------------------------------------------------ */
/* Attributes                                                         */

static PyObject *
lobject_get_oid(lobjectObject *self, void *closure)
{
    return PyLong_FromUnsignedLong((unsigned long)self->oid);
}

static PyObject *
lobject_get_mode(lobjectObject *self, void *closure)
{
    PyObject *rv = self->mode ? self->mode : Py_None;

    Py_INCREF(rv);
    return rv;
}

static PyObject *
lobject_get_closed(lobjectObject *self, void *closure)
{
    return PyBool_FromLong(!self->conn || self->fd < 0
                           || self->conn->closed != CONN_OPEN);
}

static PyGetSetDef lobject_getsets[] = {
    {"oid", (getter)lobject_get_oid, NULL,
     "The OID of the large object in the database.", NULL},
    {"mode", (getter)lobject_get_mode, NULL,
     "The mode the object was opened with, e.g. 'rt', 'wb' or 'n'.", NULL},
    {"closed", (getter)lobject_get_closed, NULL,
     "True if the object is not open (closed, opened with mode 'n', or its "
     "connection closed).", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */

/* Forget the previous state when __init__ is called again. */
static void
lobject_reset(lobjectObject *self)
{
    lobject_close_quietly(self);
    Py_CLEAR(self->conn);
    Py_CLEAR(self->mode);
    self->oid = InvalidOid;
    self->access = 0;
    self->text = 0;
    self->mark = 0;
}

/* Bind to `conn` (whose transaction is begun here) and open the object. */
static int
lobject_setup_state(lobjectObject *self, connectionObject *conn, Oid oid,
                    const char *mode, Oid new_oid, const char *new_file)
{
    int access, text;
    PyObject *smode = NULL;
    int rv = -1;

    if (check_conn_usable(conn, 1) < 0) { goto exit; }
    if (parse_mode(mode, &access, &text) < 0) { goto exit; }
    /* psycopg2 always opens a newly created object for writing */
    if (oid == InvalidOid) { access = INV_WRITE; }
    if (!(smode = mode_string(access, text))) { goto exit; }
    if (conn_begin_if_needed(conn) < 0) { goto exit; }

    lobject_reset(self);
    Py_INCREF(conn);
    self->conn = conn;
    self->mark = conn->mark;
    self->access = access;
    self->text = text;
    self->mode = smode;
    smode = NULL;
    if (lobject_open(self, oid, access, new_oid, new_file) < 0) { goto exit; }
    rv = 0;

exit:
    Py_XDECREF(smode);
    return rv;
}

static int
lobject_init(lobjectObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"conn", "oid", "mode", "new_oid", "new_file",
                             NULL};
    PyObject *conn = NULL, *new_file = Py_None, *fname = NULL;
    const char *mode = NULL;
    Oid oid = InvalidOid, new_oid = InvalidOid;
    int rv = -1;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!|O&zO&O", kwlist,
            &connectionType, &conn, oid_converter, &oid, &mode,
            oid_converter, &new_oid, &new_file)) {
        goto exit;
    }
    if (new_file != Py_None && !PyUnicode_FSConverter(new_file, &fname)) {
        goto exit;
    }
    rv = lobject_setup_state(self, (connectionObject *)conn, oid, mode,
                             new_oid, fname ? PyBytes_AS_STRING(fname) : NULL);

exit:
    Py_XDECREF(fname);
    return rv;
}

static PyObject *
lobject_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    lobjectObject *self;

    if (!(self = (lobjectObject *)type->tp_alloc(type, 0))) { return NULL; }
    self->fd = -1;
    return (PyObject *)self;
}

/* No tp_clear: the lobject keeps its connection until dealloc, which
 * needs it to close the descriptor.  A cycle through an lobject always
 * goes through the connection or a Python subclass's __dict__, which are
 * cleared. */
static int
lobject_traverse(lobjectObject *self, visitproc visit, void *arg)
{
    Py_VISIT((PyObject *)self->conn);
    return 0;
}

static void
lobject_dealloc(lobjectObject *self)
{
    PyObject_GC_UnTrack(self);
    lobject_close_quietly(self);
    Py_CLEAR(self->conn);
    Py_CLEAR(self->mode);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
lobject_repr(lobjectObject *self)
{
    int closed = !self->conn || self->fd < 0
        || self->conn->closed != CONN_OPEN;

    return PyUnicode_FromFormat("<lobject object at %p; closed: %d>",
                                self, closed);
}

PyDoc_STRVAR(lobject_doc,
"lobject(conn, oid=0, mode='', new_oid=0, new_file=None)\n\n"
"A PostgreSQL large object, usually obtained from connection.lobject().");

PyTypeObject lobjectType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.lobject",
    .tp_basicsize = sizeof(lobjectObject),
    .tp_dealloc = (destructor)lobject_dealloc,
    .tp_repr = (reprfunc)lobject_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = lobject_doc,
    .tp_traverse = (traverseproc)lobject_traverse,
    .tp_methods = lobject_methods,
    .tp_getset = lobject_getsets,
    .tp_init = (initproc)lobject_init,
    .tp_new = lobject_new,
};

/* ------------------------------------------------------------------ */
/* connection.lobject()                                               */

const char conn_lobject_doc[] =
"lobject(oid=0, mode='', new_oid=0, new_file=None, lobject_factory=None)"
" -- new lobject\n\n"
"Open the large object `oid`, or create a new one if oid is 0 (with OID\n"
"new_oid if given, with the content of the client file new_file if\n"
"given).  mode is 'r', 'w', 'rw' or 'n' (don't open), optionally\n"
"followed by 't' (text, the default) or 'b' (binary).  lobject_factory\n"
"is a subclass of `extensions.lobject` to instantiate.\n\n"
":rtype: `extensions.lobject`";

/* The arguments for the factory: (conn, oid, mode, new_oid[, new_file]). */
static PyObject *
factory_args(connectionObject *conn, PyObject *oid, const char *mode,
             PyObject *new_oid, PyObject *new_file)
{
    PyObject *zero = NULL, *rv = NULL;

    if (!(zero = PyLong_FromLong(0))) { goto exit; }
    if (new_file == Py_None) {
        rv = Py_BuildValue("(OOsO)", conn, oid ? oid : zero,
                           mode ? mode : "", new_oid ? new_oid : zero);
    }
    else {
        rv = Py_BuildValue("(OOsOO)", conn, oid ? oid : zero,
                           mode ? mode : "", new_oid ? new_oid : zero,
                           new_file);
    }

exit:
    Py_XDECREF(zero);
    return rv;
}

PyObject *
conn_lobject_method(connectionObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"oid", "mode", "new_oid", "new_file",
                             "lobject_factory", NULL};
    PyObject *oid = NULL, *new_oid = NULL, *new_file = Py_None;
    PyObject *factory = Py_None, *fargs = NULL, *lobj = NULL, *rv = NULL;
    const char *mode = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OzOOO", kwlist,
            &oid, &mode, &new_oid, &new_file, &factory)) {
        goto exit;
    }
    if (check_conn_usable(self, 0) < 0) { goto exit; }
    if (factory == Py_None) { factory = (PyObject *)&lobjectType; }
    if (!(fargs = factory_args(self, oid, mode, new_oid, new_file))) {
        goto exit;
    }
    if (!(lobj = PyObject_Call(factory, fargs, NULL))) { goto exit; }
    if (!lobject_Check(lobj)) {
        PyErr_SetString(PyExc_TypeError,
            "lobject factory must be subclass of "
            "psycopg2.extensions.lobject");
        goto exit;
    }
    rv = lobj;
    lobj = NULL;

exit:
    Py_XDECREF(lobj);
    Py_XDECREF(fargs);
    return rv;
}

int
lobject_setup(PyObject *module)
{
    if (PyType_Ready(&lobjectType) < 0) { return -1; }
    Py_INCREF(&lobjectType);
    if (PyModule_AddObject(module, "lobject", (PyObject *)&lobjectType) < 0) {
        Py_DECREF(&lobjectType);
        return -1;
    }
    return 0;
}
