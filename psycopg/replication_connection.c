/* replication_connection.c - the ReplicationConnection type: a connection
 * opened with the `replication` libpq option (walsender mode), always in
 * autocommit, whose cursors are replication cursors.  Also the module
 * set-up of the replication types (replication_setup).
 */

#include "replication_int.h"

/* ------------------------------------------------------------------ */
/* Life cycle                                                         */

/* The dsn with the replication options of `type` added (through
 * psycopg2.extensions.make_dsn, which parses and re-quotes it).  New
 * reference (str) or NULL. */
static PyObject *
replication_dsn(const char *dsn, int type)
{
    PyObject *ext = NULL, *make_dsn = NULL, *args = NULL, *kw = NULL;
    PyObject *rv = NULL;

    if (!(ext = PyImport_ImportModule("psycopg2.extensions"))) { goto exit; }
    if (!(make_dsn = PyObject_GetAttrString(ext, "make_dsn"))) { goto exit; }
    if (!(args = Py_BuildValue("(s)", dsn))) { goto exit; }
    if (type == REPLICATION_LOGICAL) {
        kw = Py_BuildValue("{ss}", "replication", "database");
    }
    else {
        /* physical replication is not tied to a database */
        kw = Py_BuildValue("{ssss}", "dbname", "replication",
                           "replication", "true");
    }
    if (!kw) { goto exit; }
    rv = PyObject_Call(make_dsn, args, kw);
exit:
    Py_XDECREF(kw);
    Py_XDECREF(args);
    Py_XDECREF(make_dsn);
    Py_XDECREF(ext);
    return rv;
}

/* The default cursor factory: psycopg2.extras.ReplicationCursor, which
 * adds the slot methods.  New reference or NULL. */
static PyObject *
default_cursor_factory(void)
{
    PyObject *extras, *rv;

    if (!(extras = PyImport_ImportModule("psycopg2.extras"))) { return NULL; }
    rv = PyObject_GetAttrString(extras, "ReplicationCursor");
    Py_DECREF(extras);
    return rv;
}

static int
repl_conn_init(replicationConnectionObject *self, PyObject *args,
               PyObject *kwargs)
{
    static char *kwlist[] = {"dsn", "async", "replication_type", "async_",
                             NULL};
    const char *dsn = NULL;
    PyObject *async = Py_False, *async_ = Py_False;
    PyObject *newdsn = NULL, *base_args = NULL, *factory = NULL;
    int type = 0, is_async, rv = -1;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|OiO", kwlist,
            &dsn, &async, &type, &async_)) { goto exit; }
    if (type != REPLICATION_LOGICAL && type != REPLICATION_PHYSICAL) {
        PyErr_SetString(PyExc_TypeError, "replication_type must be either "
                        "REPLICATION_PHYSICAL or REPLICATION_LOGICAL");
        goto exit;
    }
    if ((is_async = PyObject_IsTrue(async)) < 0) { goto exit; }
    if (!is_async && (is_async = PyObject_IsTrue(async_)) < 0) { goto exit; }

    if (!(newdsn = replication_dsn(dsn, type))) { goto exit; }
    if (!(base_args = Py_BuildValue("(Oi)", newdsn, is_async))) {
        goto exit;
    }
    if (connectionType.tp_init((PyObject *)self, base_args, NULL) < 0) {
        goto exit;
    }
    /* replication commands can't run in a transaction block */
    self->conn.autocommit = 1;
    self->conn.replication_type = type;
    if (!(factory = default_cursor_factory())) { goto exit; }
    Py_XSETREF(self->conn.cursor_factory, factory);
    factory = NULL;
    rv = 0;
exit:
    Py_XDECREF(factory);
    Py_XDECREF(base_args);
    Py_XDECREF(newdsn);
    return rv;
}

static int
repl_conn_traverse(replicationConnectionObject *self, visitproc visit,
                   void *arg)
{
    Py_VISIT(self->start_cursor);
    return connectionType.tp_traverse((PyObject *)self, visit, arg);
}

static int
repl_conn_clear(replicationConnectionObject *self)
{
    Py_CLEAR(self->start_cursor);
    return connectionType.tp_clear((PyObject *)self);
}

static void
repl_conn_dealloc(PyObject *obj)
{
    /* a weak reference: dropping it runs no Python code */
    Py_CLEAR(((replicationConnectionObject *)obj)->start_cursor);
    connectionType.tp_dealloc(obj);
}

/* ------------------------------------------------------------------ */
/* Asynchronous START_REPLICATION                                     */

/* The base connection's implementation of a method, called on self. */
static PyObject *
call_base_method(PyObject *self, const char *name)
{
    PyObject *meth, *rv;

    if (!(meth = PyObject_GetAttrString((PyObject *)&connectionType, name))) {
        return NULL;
    }
    rv = PyObject_CallFunctionObjArgs(meth, self, NULL);
    Py_DECREF(meth);
    return rv;
}

int
repl_conn_start_async(replicationConnectionObject *self, cursorObject *curs,
                      const char *command)
{
    connectionObject *conn = &self->conn;
    int sent = 0;

    if (conn_check_open(conn) < 0) { return -1; }
    if (conn->status != CONN_STATUS_READY
            && conn->status != CONN_STATUS_BEGIN) {
        PyErr_SetString(OperationalError,
                        "asynchronous connection attempt underway");
        return -1;
    }
    if (self->start_cursor || conn->async_cursor
            || conn->async_status != ASYNC_DONE) {
        PyErr_SetString(ProgrammingError,
            "start_replication_expert cannot be used while an asynchronous "
            "query is underway");
        return -1;
    }
    if (!(self->start_cursor = PyWeakref_NewRef((PyObject *)curs, NULL))) {
        return -1;
    }

    CONN_LOCK_BEGIN(conn);
    if (conn->pgconn) { sent = PQsendQuery(conn->pgconn, command); }
    CONN_LOCK_END(conn);

    if (!sent) {
        Py_CLEAR(self->start_cursor);
        pq_raise(conn, curs, NULL);
        return -1;
    }
    /* The base poll() flushes and reads the result into conn->pgres; it
     * doesn't hand it to a cursor (async_cursor is NULL): our poll() does,
     * as the base refuses COPY results. */
    conn->async_status = ASYNC_WRITE;
    return 0;
}

/* poll() for a pending START_REPLICATION: when the base poll() is done,
 * deliver its result to the cursor that sent the command. */
static PyObject *
poll_start_replication(replicationConnectionObject *self)
{
    connectionObject *conn = &self->conn;
    PyObject *curs = NULL;
    PGresult *res;
    int state;

    if ((state = conn_poll(conn)) < 0) {
        Py_CLEAR(self->start_cursor);
        return NULL;
    }
    if (state != PSYCO_POLL_OK) { return PyLong_FromLong(state); }

    res = conn->pgres;
    conn->pgres = NULL;
    if (self->start_cursor
            && PyWeakref_GetRef(self->start_cursor, &curs) < 0) {
        PyErr_Clear();      /* curs is NULL: handled as gone */
    }
    Py_CLEAR(self->start_cursor);
    if (!curs) {     /* the cursor is gone */
        if (res) { PQclear(res); }
        return PyLong_FromLong(PSYCO_POLL_OK);
    }
    state = repl_curs_start_done((replicationCursorObject *)curs, res);
    Py_DECREF(curs);
    if (state < 0) { return NULL; }
    return PyLong_FromLong(PSYCO_POLL_OK);
}

static PyObject *
repl_conn_poll(replicationConnectionObject *self, PyObject *dummy)
{
    if (!self->start_cursor) {
        return call_base_method((PyObject *)self, "poll");
    }
    if (conn_check_open(&self->conn) < 0) {
        Py_CLEAR(self->start_cursor);
        return NULL;
    }
    return poll_start_replication(self);
}

static PyObject *
repl_conn_isexecuting(replicationConnectionObject *self, PyObject *dummy)
{
    if (self->start_cursor && self->conn.closed == CONN_OPEN) {
        Py_RETURN_TRUE;
    }
    return call_base_method((PyObject *)self, "isexecuting");
}

/* ------------------------------------------------------------------ */
/* Attributes and type                                                */

static PyObject *
repl_conn_get_type(replicationConnectionObject *self, void *closure)
{
    return PyLong_FromLong(self->conn.replication_type);
}

static PyObject *
repl_conn_repr(replicationConnectionObject *self)
{
    if (self->conn.dsn_masked && PyUnicode_Check(self->conn.dsn_masked)) {
        return PyUnicode_FromFormat(
            "<ReplicationConnection object at %p; dsn: '%U', closed: %ld>",
            self, self->conn.dsn_masked, self->conn.closed);
    }
    return PyUnicode_FromFormat(
        "<ReplicationConnection object at %p; dsn: <unintialized>, "
        "closed: %ld>", self, self->conn.closed);
}

static struct PyMethodDef repl_conn_methods[] = {
    {"poll", (PyCFunction)repl_conn_poll, METH_NOARGS,
     "poll() -> int -- Advance the asynchronous connection or command "
     "(including START_REPLICATION): a POLL_* constant."},
    {"isexecuting", (PyCFunction)repl_conn_isexecuting, METH_NOARGS,
     "isexecuting() -> bool -- True while an asynchronous operation is "
     "in progress."},
    {NULL}
};

/* Session settings make no sense in walsender mode: as psycopg2, these
 * attributes are neither readable nor writable ("attribute ... is not
 * readable" AttributeError). */
static struct PyGetSetDef repl_conn_getsets[] = {
    {"replication_type", (getter)repl_conn_get_type, NULL,
     "replication_type -- REPLICATION_LOGICAL or REPLICATION_PHYSICAL.",
     NULL},
    {"autocommit", NULL, NULL, NULL, NULL},
    {"isolation_level", NULL, NULL, NULL, NULL},
    {"set_session", NULL, NULL, NULL, NULL},
    {"set_isolation_level", NULL, NULL, NULL, NULL},
    {"reset", NULL, NULL, NULL, NULL},
    {NULL}
};

PyTypeObject replicationConnectionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.ReplicationConnection",
    .tp_basicsize = sizeof(replicationConnectionObject),
    .tp_dealloc = repl_conn_dealloc,
    .tp_repr = (reprfunc)repl_conn_repr,
    .tp_str = (reprfunc)repl_conn_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC
        | Py_TPFLAGS_HAVE_FINALIZE,
    .tp_doc = "ReplicationConnection(dsn, async=False, replication_type) -- "
              "a connection for the streaming replication protocol.",
    .tp_traverse = (traverseproc)repl_conn_traverse,
    .tp_clear = (inquiry)repl_conn_clear,
    .tp_methods = repl_conn_methods,
    .tp_getset = repl_conn_getsets,
    .tp_init = (initproc)repl_conn_init,
    .tp_base = &connectionType,
};

/* ------------------------------------------------------------------ */
/* Module set-up                                                      */

int
replication_setup(PyObject *module)
{
    if (PyType_Ready(&replicationConnectionType) < 0) { return -1; }
    Py_INCREF(&replicationConnectionType);
    if (PyModule_AddObject(module, "ReplicationConnection",
                           (PyObject *)&replicationConnectionType) < 0) {
        Py_DECREF(&replicationConnectionType);
        return -1;
    }
    if (repl_cursor_setup(module) < 0) { return -1; }
    if (repl_message_setup(module) < 0) { return -1; }
    return 0;
}
