/* conninfo.c - the ConnectionInfo type (connection.info): details about
 * the libpq connection, read from libpq without any query.
 *
 * The attributes read libpq's state without the connection lock, as they
 * don't block: libpq accepts a NULL connection (closed) and answers with
 * empty values.
 */

#include "connection_priv.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    connectionObject *conn;
} connInfoObject;

/* str from a libpq string, None when NULL. */
static PyObject *
text_or_none(connInfoObject *self, const char *s)
{
    if (!s) { Py_RETURN_NONE; }
    return conn_decode(self->conn, s, (Py_ssize_t)strlen(s));
}

static PyObject *
dbname_get(connInfoObject *self, void *closure)
{
    return text_or_none(self, PQdb(self->conn->pgconn));
}

static PyObject *
user_get(connInfoObject *self, void *closure)
{
    return text_or_none(self, PQuser(self->conn->pgconn));
}

static PyObject *
password_get(connInfoObject *self, void *closure)
{
    return text_or_none(self, PQpass(self->conn->pgconn));
}

static PyObject *
host_get(connInfoObject *self, void *closure)
{
    return text_or_none(self, PQhost(self->conn->pgconn));
}

static PyObject *
hostaddr_get(connInfoObject *self, void *closure)
{
    const char *val = PQhostaddr(self->conn->pgconn);

    if (!val || !*val) { Py_RETURN_NONE; }
    return text_or_none(self, val);
}

static PyObject *
port_get(connInfoObject *self, void *closure)
{
    const char *val = PQport(self->conn->pgconn);

    if (!val || !*val) { Py_RETURN_NONE; }
    return PyLong_FromString(val, NULL, 10);
}

static PyObject *
options_get(connInfoObject *self, void *closure)
{
    return text_or_none(self, PQoptions(self->conn->pgconn));
}

static PyObject *
dsn_parameters_get(connInfoObject *self, void *closure)
{
    PQconninfoOption *options;
    PyObject *rv;

    if (conn_check_open(self->conn) < 0) { return NULL; }
    if (!(options = PQconninfo(self->conn->pgconn))) {
        return PyErr_NoMemory();
    }
    rv = conn_dict_from_options(options, 0);
    PQconninfoFree(options);
    return rv;
}

static PyObject *
status_get(connInfoObject *self, void *closure)
{
    return PyLong_FromLong((long)PQstatus(self->conn->pgconn));
}

static PyObject *
transaction_status_get(connInfoObject *self, void *closure)
{
    return PyLong_FromLong((long)PQtransactionStatus(self->conn->pgconn));
}

static PyObject *
protocol_version_get(connInfoObject *self, void *closure)
{
    return PyLong_FromLong((long)PQprotocolVersion(self->conn->pgconn));
}

static PyObject *
server_version_get(connInfoObject *self, void *closure)
{
    return PyLong_FromLong((long)PQserverVersion(self->conn->pgconn));
}

static PyObject *
error_message_get(connInfoObject *self, void *closure)
{
    const char *val = PQerrorMessage(self->conn->pgconn);

    if (!val || !*val) { Py_RETURN_NONE; }
    return text_or_none(self, val);
}

static PyObject *
socket_get(connInfoObject *self, void *closure)
{
    return PyLong_FromLong((long)PQsocket(self->conn->pgconn));
}

static PyObject *
backend_pid_get(connInfoObject *self, void *closure)
{
    return PyLong_FromLong((long)PQbackendPID(self->conn->pgconn));
}

static PyObject *
needs_password_get(connInfoObject *self, void *closure)
{
    return PyBool_FromLong(PQconnectionNeedsPassword(self->conn->pgconn));
}

static PyObject *
used_password_get(connInfoObject *self, void *closure)
{
    return PyBool_FromLong(PQconnectionUsedPassword(self->conn->pgconn));
}

static PyObject *
ssl_in_use_get(connInfoObject *self, void *closure)
{
    return PyBool_FromLong(PQsslInUse(self->conn->pgconn));
}

static PyObject *
ssl_attribute_names_get(connInfoObject *self, void *closure)
{
    const char *const *names;
    PyObject *list = NULL, *item = NULL, *rv = NULL;

    if (!(list = PyList_New(0))) { goto exit; }
    names = PQsslAttributeNames(self->conn->pgconn);
    for (; names && *names; names++) {
        if (!(item = text_or_none(self, *names))) { goto exit; }
        if (PyList_Append(list, item) < 0) { goto exit; }
        Py_CLEAR(item);
    }
    rv = list;
    list = NULL;
exit:
    Py_XDECREF(item);
    Py_XDECREF(list);
    return rv;
}

static PyObject *
parameter_status(connInfoObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"name", NULL};
    const char *name;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s", kwlist, &name)) {
        return NULL;
    }
    return text_or_none(self, PQparameterStatus(self->conn->pgconn, name));
}

static PyObject *
ssl_attribute(connInfoObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"name", NULL};
    const char *name;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s", kwlist, &name)) {
        return NULL;
    }
    return text_or_none(self, PQsslAttribute(self->conn->pgconn, name));
}

/* ------------------------------------------------------------------ */
/* The Python type                                                    */

static PyGetSetDef conninfo_getsets[] = {
    {"dbname", (getter)dbname_get, NULL,
     "The database name of the connection."},
    {"user", (getter)user_get, NULL,
     "The user name of the connection."},
    {"password", (getter)password_get, NULL,
     "The password of the connection."},
    {"host", (getter)host_get, NULL,
     "The server host name of the connection (or the directory of its "
     "Unix socket)."},
    {"hostaddr", (getter)hostaddr_get, NULL,
     "The server IP address of the connection, None if not connected "
     "over TCP/IP."},
    {"port", (getter)port_get, NULL,
     "The port of the connection (int)."},
    {"options", (getter)options_get, NULL,
     "The command-line options passed in the connection request."},
    {"dsn_parameters", (getter)dsn_parameters_get, NULL,
     "The effective connection parameters (dict), without the password."},
    {"status", (getter)status_get, NULL,
     "The status of the connection (libpq's CONNECTION_* values)."},
    {"transaction_status", (getter)transaction_status_get, NULL,
     "The current in-transaction status of the connection: one of the "
     "TRANSACTION_STATUS_* constants."},
    {"protocol_version", (getter)protocol_version_get, NULL,
     "The frontend/backend protocol being used (3)."},
    {"server_version", (getter)server_version_get, NULL,
     "The server version as an integer, e.g. 150004 for 15.4."},
    {"error_message", (getter)error_message_get, NULL,
     "The error message most recently generated by an operation on the "
     "connection, None if there is none."},
    {"socket", (getter)socket_get, NULL,
     "The file descriptor of the connection socket, -1 if none."},
    {"backend_pid", (getter)backend_pid_get, NULL,
     "The process ID of the backend handling the connection."},
    {"needs_password", (getter)needs_password_get, NULL,
     "True if the authentication required a password that was not "
     "available."},
    {"used_password", (getter)used_password_get, NULL,
     "True if the authentication used a password."},
    {"ssl_in_use", (getter)ssl_in_use_get, NULL,
     "True if the connection uses SSL."},
    {"ssl_attribute_names", (getter)ssl_attribute_names_get, NULL,
     "The list of the SSL attributes available."},
    {NULL}
};

static PyMethodDef conninfo_methods[] = {
    {"parameter_status", (PyCFunction)(void (*)(void))parameter_status,
     METH_VARARGS | METH_KEYWORDS,
     "parameter_status(name) -> str or None -- a parameter setting of the "
     "backend (e.g. 'TimeZone'), None if unknown."},
    {"ssl_attribute", (PyCFunction)(void (*)(void))ssl_attribute,
     METH_VARARGS | METH_KEYWORDS,
     "ssl_attribute(name) -> str or None -- an SSL attribute of the "
     "connection, e.g. 'protocol', 'cipher'."},
    {NULL}
};

static int
conninfo_init(connInfoObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *conn = NULL;

    if (!PyArg_ParseTuple(args, "O", &conn)) { return -1; }
    if (!connection_Check(conn)) {
        PyErr_SetString(PyExc_TypeError,
            "The argument must be a psycopg2 connection");
        return -1;
    }
    Py_INCREF(conn);
    Py_XSETREF(self->conn, (connectionObject *)conn);
    return 0;
}

static PyObject *
conninfo_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    return type->tp_alloc(type, 0);
}

/* Getters need a connection: refuse objects made without __init__. */
static PyObject *
conninfo_getattro(connInfoObject *self, PyObject *name)
{
    if (!self->conn) {
        PyErr_SetString(InterfaceError, "ConnectionInfo not initialized");
        return NULL;
    }
    return PyObject_GenericGetAttr((PyObject *)self, name);
}

static int
conninfo_traverse(connInfoObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->conn);
    return 0;
}

static int
conninfo_clear(connInfoObject *self)
{
    Py_CLEAR(self->conn);
    return 0;
}

static void
conninfo_dealloc(connInfoObject *self)
{
    PyObject_GC_UnTrack(self);
    conninfo_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject connInfoType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.ConnectionInfo",
    .tp_basicsize = sizeof(connInfoObject),
    .tp_dealloc = (destructor)conninfo_dealloc,
    .tp_getattro = (getattrofunc)conninfo_getattro,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "ConnectionInfo(conn) -- details about the native PostgreSQL "
              "connection.\n\nThe object is returned by connection.info.",
    .tp_traverse = (traverseproc)conninfo_traverse,
    .tp_clear = (inquiry)conninfo_clear,
    .tp_methods = conninfo_methods,
    .tp_getset = conninfo_getsets,
    .tp_init = (initproc)conninfo_init,
    .tp_new = conninfo_new,
};

/* connection.info */
PyObject *
conninfo_for_connection(connectionObject *conn)
{
    return PyObject_CallFunctionObjArgs((PyObject *)&connInfoType,
                                        (PyObject *)conn, NULL);
}

int
conninfo_setup(PyObject *module)
{
    if (PyType_Ready(&connInfoType) < 0) { return -1; }
    Py_INCREF(&connInfoType);
    if (PyModule_AddObject(module, "ConnectionInfo",
                           (PyObject *)&connInfoType) < 0) {
        Py_DECREF(&connInfoType);
        return -1;
    }
    return 0;
}
