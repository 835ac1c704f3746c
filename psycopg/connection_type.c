/* connection_type.c - the connection Python type
 * (psycopg2.extensions.connection): life cycle and attributes.  The
 * methods are in connection_methods.c and connection_tpc.c.
 */

#include "connection_priv.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Attributes                                                         */

static int
refuse_delete(PyObject *value, const char *name)
{
    if (!value) {
        PyErr_Format(PyExc_AttributeError, "can't delete attribute '%s'",
                     name);
        return -1;
    }
    return 0;
}

/* What psycopg2 checks before changing a session characteristic. */
static int
check_can_set_session(connectionObject *self)
{
    if (conn_check_open(self) < 0) { return -1; }
    if (conn_raise_if_async(self, "set_session") < 0) { return -1; }
    if (conn_raise_if_in_transaction(self, "set_session") < 0) {
        return -1;
    }
    return 0;
}

static PyObject *
autocommit_get(connectionObject *self, void *closure)
{
    return PyBool_FromLong(self->autocommit);
}

static int
autocommit_set(connectionObject *self, PyObject *value, void *closure)
{
    int autocommit;

    if (refuse_delete(value, "autocommit") < 0) { return -1; }
    if (check_can_set_session(self) < 0) { return -1; }
    if ((autocommit = PyObject_IsTrue(value)) < 0) { return -1; }
    return conn_set_session(self, autocommit, SESSION_UNCHANGED,
                            SESSION_UNCHANGED, SESSION_UNCHANGED);
}

static PyObject *
isolation_level_get(connectionObject *self, void *closure)
{
    if (self->isolevel == ISOLATION_LEVEL_DEFAULT) { Py_RETURN_NONE; }
    return PyLong_FromLong(self->isolevel);
}

static int
isolation_level_set(connectionObject *self, PyObject *value, void *closure)
{
    int level = ISOLATION_LEVEL_DEFAULT;

    if (refuse_delete(value, "isolation_level") < 0) { return -1; }
    if (check_can_set_session(self) < 0) { return -1; }
    if (value != Py_None && (level = conn_parse_isolevel(value)) < 0) {
        return -1;
    }
    return conn_set_session(self, SESSION_UNCHANGED, level,
                            SESSION_UNCHANGED, SESSION_UNCHANGED);
}

/* STATE_* as None/True/False */
static PyObject *
state_to_python(int state)
{
    switch (state) {
    case STATE_OFF: Py_RETURN_FALSE;
    case STATE_ON: Py_RETURN_TRUE;
    default: Py_RETURN_NONE;
    }
}

static PyObject *
readonly_get(connectionObject *self, void *closure)
{
    return state_to_python(self->readonly);
}

static int
readonly_set(connectionObject *self, PyObject *value, void *closure)
{
    int state;

    if (refuse_delete(value, "readonly") < 0) { return -1; }
    if (check_can_set_session(self) < 0) { return -1; }
    if ((state = conn_parse_onoff(value)) < 0) { return -1; }
    return conn_set_session(self, SESSION_UNCHANGED, SESSION_UNCHANGED,
                            state, SESSION_UNCHANGED);
}

static PyObject *
deferrable_get(connectionObject *self, void *closure)
{
    return state_to_python(self->deferrable);
}

static int
deferrable_set(connectionObject *self, PyObject *value, void *closure)
{
    int state;

    if (refuse_delete(value, "deferrable") < 0) { return -1; }
    if (check_can_set_session(self) < 0) { return -1; }
    if ((state = conn_parse_onoff(value)) < 0) { return -1; }
    return conn_set_session(self, SESSION_UNCHANGED, SESSION_UNCHANGED,
                            SESSION_UNCHANGED, state);
}

static PyObject *
cursor_factory_get(connectionObject *self, void *closure)
{
    PyObject *rv = self->cursor_factory ? self->cursor_factory : Py_None;

    Py_INCREF(rv);
    return rv;
}

static int
cursor_factory_set(connectionObject *self, PyObject *value, void *closure)
{
    Py_XINCREF(value);
    Py_XSETREF(self->cursor_factory, value);
    return 0;
}

static PyObject *
info_get(connectionObject *self, void *closure)
{
    return conninfo_for_connection(self);
}

static PyObject *
pgconn_ptr_get(connectionObject *self, void *closure)
{
    if (!self->pgconn) { Py_RETURN_NONE; }
    return PyLong_FromVoidPtr((void *)self->pgconn);
}

static PyObject *
lb_hook_get(connectionObject *self, void *closure)
{
    PyObject *rv = self->lb_hook ? self->lb_hook : Py_None;

    Py_INCREF(rv);
    return rv;
}

/* Set or (None / del) clear the hook, without calling it. */
static int
lb_hook_set(connectionObject *self, PyObject *value, void *closure)
{
    if (value == Py_None) { value = NULL; }
    Py_XINCREF(value);
    Py_XSETREF(self->lb_hook, value);
    return 0;
}

static PyObject *
lb_failover_get(connectionObject *self, void *closure)
{
    PyObject *rv = self->lb_failover ? self->lb_failover : Py_None;

    Py_INCREF(rv);
    return rv;
}

static int
lb_failover_set(connectionObject *self, PyObject *value, void *closure)
{
    if (value == Py_None) { value = NULL; }
    Py_XINCREF(value);
    Py_XSETREF(self->lb_failover, value);
    return 0;
}

/* connection.Error & co: the DB-API exceptions (optional extension). */
static PyObject *
exception_get(connectionObject *self, void *closure)
{
    PyObject *exc = *(PyObject **)closure;

    Py_INCREF(exc);
    return exc;
}

static PyGetSetDef connection_getsets[] = {
    {"autocommit", (getter)autocommit_get, (setter)autocommit_set,
     "The autocommit state of the connection (settable outside of a "
     "transaction)."},
    {"isolation_level", (getter)isolation_level_get,
     (setter)isolation_level_set,
     "The isolation level of the new transactions: one of the "
     "ISOLATION_LEVEL_* constants, None for the server default."},
    {"readonly", (getter)readonly_get, (setter)readonly_set,
     "The read only state of the new transactions: True, False or None "
     "for the server default."},
    {"deferrable", (getter)deferrable_get, (setter)deferrable_set,
     "The deferrable state of the new transactions: True, False or None "
     "for the server default."},
    {"cursor_factory", (getter)cursor_factory_get,
     (setter)cursor_factory_set,
     "The default cursor factory used by cursor(), None for the cursor "
     "class."},
    {"info", (getter)info_get, NULL,
     "A ConnectionInfo object with details about the connection."},
    {"pgconn_ptr", (getter)pgconn_ptr_get, NULL,
     "The address of the libpq PGconn of the connection, as an integer "
     "(None when closed)."},
    {"_lb_hook", (getter)lb_hook_get, (setter)lb_hook_set,
     "Private: callable of the load balancer, called once when the "
     "connection ends."},
    {"_lb_failover", (getter)lb_failover_get, (setter)lb_failover_set,
     "Private: callable of the load balancer, called with the error when "
     "an async connection attempt fails; returns the next dsn or None."},
    {"Error", (getter)exception_get, NULL, "Error exception class.",
     &Error},
    {"Warning", (getter)exception_get, NULL, "Warning exception class.",
     &Warning},
    {"InterfaceError", (getter)exception_get, NULL,
     "InterfaceError exception class.", &InterfaceError},
    {"DatabaseError", (getter)exception_get, NULL,
     "DatabaseError exception class.", &DatabaseError},
    {"InternalError", (getter)exception_get, NULL,
     "InternalError exception class.", &InternalError},
    {"OperationalError", (getter)exception_get, NULL,
     "OperationalError exception class.", &OperationalError},
    {"ProgrammingError", (getter)exception_get, NULL,
     "ProgrammingError exception class.", &ProgrammingError},
    {"IntegrityError", (getter)exception_get, NULL,
     "IntegrityError exception class.", &IntegrityError},
    {"DataError", (getter)exception_get, NULL,
     "DataError exception class.", &DataError},
    {"NotSupportedError", (getter)exception_get, NULL,
     "NotSupportedError exception class.", &NotSupportedError},
    {NULL}
};

static PyMemberDef connection_members[] = {
    {"closed", T_LONG, offsetof(connectionObject, closed), READONLY,
     "0 if the connection is open, 1 if closed, 2 if it was lost."},
    {"dsn", T_OBJECT, offsetof(connectionObject, dsn_masked), READONLY,
     "The connection string (its password shown as xxx)."},
    {"status", T_INT, offsetof(connectionObject, status), READONLY,
     "The status of the connection: one of the STATUS_* constants."},
    {"server_version", T_INT, offsetof(connectionObject, server_version),
     READONLY, "The server version as an integer, e.g. 150004."},
    {"protocol_version", T_INT, offsetof(connectionObject, protocol),
     READONLY, "The frontend/backend protocol version (3)."},
    {"encoding", T_STRING, offsetof(connectionObject, encoding), READONLY,
     "The client encoding of the connection (PostgreSQL name)."},
    {"notices", T_OBJECT, offsetof(connectionObject, notice_list), 0,
     "The last messages (notices, warnings) from the server: a list "
     "keeping the last 50, replaceable by any object with append()."},
    {"notifies", T_OBJECT, offsetof(connectionObject, notifies), 0,
     "The Notify objects received (LISTEN): a list, replaceable by any "
     "object with append()."},
    {"string_types", T_OBJECT, offsetof(connectionObject, string_types),
     READONLY, "The typecasters registered on this connection."},
    {"binary_types", T_OBJECT, offsetof(connectionObject, binary_types),
     READONLY, "The binary typecasters registered on this connection."},
    {"async", T_INT, offsetof(connectionObject, async_), READONLY,
     "True if the connection is asynchronous."},
    {"async_", T_INT, offsetof(connectionObject, async_), READONLY,
     "True if the connection is asynchronous."},
    {NULL}
};

/* ------------------------------------------------------------------ */
/* Methods table                                                      */

#define KWMETH(f) (PyCFunction)(void (*)(void))(f), \
    METH_VARARGS | METH_KEYWORDS

static PyMethodDef connection_methods[] = {
    {"cursor", KWMETH(psyco_conn_cursor),
     "cursor(name=None, cursor_factory=None, withhold=False, "
     "scrollable=None) -- new cursor on the connection; a name makes a "
     "server-side (named) cursor."},
    {"close", (PyCFunction)psyco_conn_close, METH_NOARGS,
     "close() -- close the connection (a pending transaction is rolled "
     "back by the server)."},
    {"commit", (PyCFunction)psyco_conn_commit, METH_NOARGS,
     "commit() -- commit the current transaction."},
    {"rollback", (PyCFunction)psyco_conn_rollback, METH_NOARGS,
     "rollback() -- roll back the current transaction."},
    {"set_session", KWMETH(psyco_conn_set_session),
     "set_session(isolation_level=None, readonly=None, deferrable=None, "
     "autocommit=None) -- set the characteristics of the following "
     "transactions."},
    {"set_isolation_level", (PyCFunction)psyco_conn_set_isolation_level,
     METH_VARARGS,
     "set_isolation_level(level) -- set the transaction isolation level "
     "(0 is autocommit); rolls back the current transaction."},
    {"set_client_encoding", (PyCFunction)psyco_conn_set_client_encoding,
     METH_VARARGS,
     "set_client_encoding(encoding) -- set the client encoding of the "
     "connection; rolls back the current transaction."},
    {"get_parameter_status", (PyCFunction)psyco_conn_get_parameter_status,
     METH_VARARGS,
     "get_parameter_status(parameter) -> str -- a parameter setting of "
     "the backend (e.g. 'server_version'), None if unknown."},
    {"get_dsn_parameters", (PyCFunction)psyco_conn_get_dsn_parameters,
     METH_NOARGS,
     "get_dsn_parameters() -> dict -- the effective connection "
     "parameters, without the password."},
    {"get_backend_pid", (PyCFunction)psyco_conn_get_backend_pid,
     METH_NOARGS,
     "get_backend_pid() -> int -- process ID of the backend server."},
    {"get_transaction_status",
     (PyCFunction)psyco_conn_get_transaction_status, METH_NOARGS,
     "get_transaction_status() -> int -- the backend transaction status: "
     "one of the TRANSACTION_STATUS_* constants."},
    {"get_native_connection",
     (PyCFunction)psyco_conn_get_native_connection, METH_NOARGS,
     "get_native_connection() -> capsule -- the libpq PGconn pointer."},
    {"cancel", (PyCFunction)psyco_conn_cancel, METH_NOARGS,
     "cancel() -- try to cancel the operation running on the connection "
     "(usable from another thread)."},
    {"reset", (PyCFunction)psyco_conn_reset, METH_NOARGS,
     "reset() -- roll back and reset the session to its defaults."},
    {"fileno", (PyCFunction)psyco_conn_fileno, METH_NOARGS,
     "fileno() -> int -- file descriptor of the connection socket."},
    {"poll", (PyCFunction)psyco_conn_poll, METH_NOARGS,
     "poll() -> int -- advance an asynchronous operation, read "
     "notifications; returns one of the POLL_* constants."},
    {"isexecuting", (PyCFunction)psyco_conn_isexecuting, METH_NOARGS,
     "isexecuting() -> bool -- True if an asynchronous operation is in "
     "progress."},
    {"__enter__", (PyCFunction)psyco_conn_enter, METH_NOARGS,
     "__enter__ -> self -- start a `with` block (a transaction)."},
    {"__exit__", (PyCFunction)psyco_conn_exit, METH_VARARGS,
     "__exit__ -- commit the transaction, or roll it back on exception; "
     "the connection stays open."},
    {"_check_broken", (PyCFunction)psyco_conn_check_broken, METH_NOARGS,
     "_check_broken() -> bool -- private: without blocking or querying, "
     "detect whether the server closed the connection (then closed "
     "becomes 2)."},
    {"lobject", (PyCFunction)(void (*)(void))conn_lobject_method,
     METH_VARARGS | METH_KEYWORDS, conn_lobject_doc},
    {"xid", KWMETH(psyco_conn_xid),
     "xid(format_id, gtrid, bqual) -> Xid -- a transaction id for "
     "two-phase commit."},
    {"tpc_begin", (PyCFunction)psyco_conn_tpc_begin, METH_VARARGS,
     "tpc_begin(xid) -- begin a two-phase transaction."},
    {"tpc_prepare", (PyCFunction)psyco_conn_tpc_prepare, METH_NOARGS,
     "tpc_prepare() -- first phase of the two-phase transaction."},
    {"tpc_commit", (PyCFunction)psyco_conn_tpc_commit, METH_VARARGS,
     "tpc_commit([xid]) -- commit the two-phase transaction (or the "
     "recovered one given)."},
    {"tpc_rollback", (PyCFunction)psyco_conn_tpc_rollback, METH_VARARGS,
     "tpc_rollback([xid]) -- roll back the two-phase transaction (or the "
     "recovered one given)."},
    {"tpc_recover", (PyCFunction)psyco_conn_tpc_recover, METH_NOARGS,
     "tpc_recover() -> list of Xid -- the prepared transactions."},
    {NULL}
};

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */

static PyObject *
connection_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    connectionObject *self;

    if (!(self = (connectionObject *)type->tp_alloc(type, 0))) {
        return NULL;
    }
    if (conn_init_lock(&self->lock) != 0) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    /* until __init__ connects, every method says "already closed" */
    self->closed = CONN_CLOSED;
    self->status = CONN_STATUS_SETUP;
    self->isolevel = ISOLATION_LEVEL_DEFAULT;
    self->readonly = STATE_DEFAULT;
    self->deferrable = STATE_DEFAULT;
    if (!(self->notice_list = PyList_New(0))
            || !(self->notifies = PyList_New(0))
            || !(self->string_types = PyDict_New())
            || !(self->binary_types = PyDict_New())) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
connection_init(connectionObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"dsn", "async", "async_", NULL};
    const char *dsn = NULL;
    long async = 0, async_ = 0;
    PyObject *masked;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|ll", kwlist,
            &dsn, &async, &async_)) {
        return -1;
    }
    if (async_) { async = async_; }
    if (self->dsn) {
        PyErr_SetString(InterfaceError, "the connection is already "
                        "initialized");
        return -1;
    }
    if (!(masked = conn_obscure_dsn(dsn))) { return -1; }
    Py_XSETREF(self->dsn_masked, masked);
    if (!(self->dsn = strdup(dsn))) {
        PyErr_NoMemory();
        return -1;
    }
    return conn_connect(self, dsn, async);
}

/* Runs before deallocation, also for connections in reference cycles
 * (before tp_clear): close, which tells the load balancer. */
static void
connection_finalize(PyObject *obj)
{
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    conn_close((connectionObject *)obj);
    PyErr_Restore(type, value, tb);
}

static int
connection_traverse(connectionObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->dsn_masked);
    Py_VISIT(self->async_cursor);
    Py_VISIT(self->notice_list);
    Py_VISIT(self->notifies);
    Py_VISIT(self->string_types);
    Py_VISIT(self->binary_types);
    Py_VISIT(self->cursor_factory);
    Py_VISIT(self->lb_hook);
    Py_VISIT(self->lb_failover);
    Py_VISIT(self->dict);
    Py_VISIT(self->tpc_xid);
    return 0;
}

static int
connection_clear(connectionObject *self)
{
    Py_CLEAR(self->dsn_masked);
    Py_CLEAR(self->async_cursor);
    Py_CLEAR(self->pyencoding);
    Py_CLEAR(self->notice_list);
    Py_CLEAR(self->notifies);
    Py_CLEAR(self->string_types);
    Py_CLEAR(self->binary_types);
    Py_CLEAR(self->cursor_factory);
    Py_CLEAR(self->lb_hook);
    Py_CLEAR(self->lb_failover);
    Py_CLEAR(self->dict);
    Py_CLEAR(self->tpc_xid);
    return 0;
}

static void
connection_dealloc(PyObject *obj)
{
    connectionObject *self = (connectionObject *)obj;

    if (PyObject_CallFinalizerFromDealloc(obj) < 0) { return; }
    PyObject_GC_UnTrack(obj);
    if (self->weakreflist) { PyObject_ClearWeakRefs(obj); }

    conn_close(self);   /* no-op after the finalizer */
    connection_clear(self);
    conn_notice_clean(self);
    if (self->cancel) {
        PQfreeCancel(self->cancel);
        self->cancel = NULL;
    }
    free(self->dsn);
    free(self->encoding);
    pthread_mutex_destroy(&self->lock);
    Py_TYPE(obj)->tp_free(obj);
}

static PyObject *
connection_repr(connectionObject *self)
{
    if (self->dsn_masked && PyUnicode_Check(self->dsn_masked)) {
        return PyUnicode_FromFormat(
            "<connection object at %p; dsn: '%U', closed: %ld>",
            self, self->dsn_masked, self->closed);
    }
    return PyUnicode_FromFormat(
        "<connection object at %p; dsn: <unintialized>, closed: %ld>",
        self, self->closed);
}

PyTypeObject connectionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.connection",
    .tp_basicsize = sizeof(connectionObject),
    .tp_dealloc = connection_dealloc,
    .tp_repr = (reprfunc)connection_repr,
    .tp_str = (reprfunc)connection_repr,
    .tp_getattro = PyObject_GenericGetAttr,
    .tp_setattro = PyObject_GenericSetAttr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC
        | Py_TPFLAGS_HAVE_FINALIZE,
    .tp_doc = "connection(dsn, async=False) -- a connection to a "
              "PostgreSQL database.\n\n"
              "Use psycopg2.connect() to create connections; subclass "
              "this type to customize them (connection_factory).",
    .tp_traverse = (traverseproc)connection_traverse,
    .tp_clear = (inquiry)connection_clear,
    .tp_weaklistoffset = offsetof(connectionObject, weakreflist),
    .tp_methods = connection_methods,
    .tp_members = connection_members,
    .tp_getset = connection_getsets,
    .tp_dictoffset = offsetof(connectionObject, dict),
    .tp_init = (initproc)connection_init,
    .tp_new = connection_new,
    .tp_finalize = connection_finalize,
};

int
connection_setup(PyObject *module)
{
    if (PyType_Ready(&connectionType) < 0) { return -1; }
    Py_INCREF(&connectionType);
    if (PyModule_AddObject(module, "connection",
                           (PyObject *)&connectionType) < 0) {
        Py_DECREF(&connectionType);
        return -1;
    }
    return 0;
}
