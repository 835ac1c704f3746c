/* connection_tpc.c - two-phase commit methods of the connection
 * (xid, tpc_begin, tpc_prepare, tpc_commit, tpc_rollback, tpc_recover),
 * over PostgreSQL's PREPARE TRANSACTION / COMMIT PREPARED / ROLLBACK
 * PREPARED.
 */

#include "connection_priv.h"

#include <string.h>

/* Run "<cmd> '<transaction id>'". */
static int
tpc_command(connectionObject *self, const char *cmd, xidObject *xid)
{
    PyObject *tid = NULL, *btid = NULL;
    char *literal = NULL, *query = NULL;
    size_t size;
    int rv = -1;

    if (!(tid = xid_get_tid(xid))) { goto exit; }
    if (!(btid = conn_encode(self, tid))) { goto exit; }
    literal = PQescapeLiteral(self->pgconn, PyBytes_AS_STRING(btid),
                              (size_t)PyBytes_GET_SIZE(btid));
    if (!literal) {
        psyco_set_error(ProgrammingError, NULL,
                        PQerrorMessage(self->pgconn));
        goto exit;
    }
    size = strlen(cmd) + strlen(literal) + 2;
    if (!(query = PyMem_Malloc(size))) {
        PyErr_NoMemory();
        goto exit;
    }
    snprintf(query, size, "%s %s", cmd, literal);
    self->mark += 1;
    rv = conn_exec_command(self, query);

exit:
    PyMem_Free(query);
    if (literal) { PQfreemem(literal); }
    Py_XDECREF(btid);
    Py_XDECREF(tid);
    return rv;
}

PyObject *
psyco_conn_xid(connectionObject *self, PyObject *args, PyObject *kwargs)
{
    if (conn_check_open(self) < 0) { return NULL; }
    return PyObject_Call((PyObject *)&xidType, args, kwargs);
}

PyObject *
psyco_conn_tpc_begin(connectionObject *self, PyObject *args)
{
    PyObject *oxid = NULL;
    xidObject *xid = NULL;
    PyObject *rv = NULL;

    if (conn_check_open(self) < 0) { goto exit; }
    if (conn_raise_if_async(self, "tpc_begin") < 0) { goto exit; }
    if (conn_raise_if_in_transaction(self, "tpc_begin") < 0) { goto exit; }
    if (!PyArg_ParseTuple(args, "O", &oxid)) { goto exit; }
    if (!(xid = xid_ensure(oxid))) { goto exit; }
    if (self->autocommit) {
        PyErr_SetString(ProgrammingError,
            "tpc_begin can't be called in autocommit mode");
        goto exit;
    }
    if (conn_begin_if_needed(self) < 0) { goto exit; }
    Py_XSETREF(self->tpc_xid, (PyObject *)xid);
    xid = NULL;
    Py_INCREF(Py_None);
    rv = Py_None;

exit:
    Py_XDECREF(xid);
    return rv;
}

PyObject *
psyco_conn_tpc_prepare(connectionObject *self, PyObject *dummy)
{
    if (conn_check_open(self) < 0) { return NULL; }
    if (conn_raise_if_async(self, "tpc_prepare") < 0) { return NULL; }
    if (conn_raise_if_tpc_prepared(self, "tpc_prepare") < 0) {
        return NULL;
    }
    if (!self->tpc_xid) {
        PyErr_SetString(ProgrammingError,
            "prepare must be called inside a two-phase transaction");
        return NULL;
    }
    if (tpc_command(self, "PREPARE TRANSACTION",
                    (xidObject *)self->tpc_xid) < 0) {
        return NULL;
    }
    /* the transaction is no more the session's: no COMMIT/ROLLBACK */
    self->status = CONN_STATUS_PREPARED;
    Py_RETURN_NONE;
}

/* Finish our own two-phase transaction: one-phase if not prepared. */
static int
tpc_finish_current(connectionObject *self, int (*one_phase)(connectionObject *),
                   const char *two_phase_cmd)
{
    if (!self->tpc_xid) {
        PyErr_SetString(ProgrammingError,
            "tpc_commit/tpc_rollback with no parameter must be called in "
            "a two-phase transaction");
        return -1;
    }
    switch (self->status) {
    case CONN_STATUS_BEGIN:
        if (one_phase(self) < 0) { return -1; }
        break;
    case CONN_STATUS_PREPARED:
        if (tpc_command(self, two_phase_cmd,
                        (xidObject *)self->tpc_xid) < 0) { return -1; }
        break;
    default:
        PyErr_SetString(InterfaceError,
            "unexpected state in tpc_commit or tpc_rollback");
        return -1;
    }
    Py_CLEAR(self->tpc_xid);
    self->status = CONN_STATUS_READY;
    return 0;
}

/* Finish a recovered transaction, given its xid. */
static int
tpc_finish_recovered(connectionObject *self, PyObject *oxid,
                     const char *two_phase_cmd)
{
    xidObject *xid;
    int rv;

    if (!(xid = xid_ensure(oxid))) { return -1; }
    if (self->status != CONN_STATUS_READY) {
        PyErr_SetString(ProgrammingError,
            "tpc_commit/tpc_rollback with a xid must be called outside "
            "a transaction");
        Py_DECREF(xid);
        return -1;
    }
    rv = tpc_command(self, two_phase_cmd, xid);
    Py_DECREF(xid);
    return rv;
}

static PyObject *
tpc_finish(connectionObject *self, PyObject *args, const char *name,
           int (*one_phase)(connectionObject *), const char *two_phase_cmd)
{
    PyObject *oxid = NULL;
    int rv;

    if (conn_check_open(self) < 0) { return NULL; }
    if (conn_raise_if_async(self, name) < 0) { return NULL; }
    if (!PyArg_ParseTuple(args, "|O", &oxid)) { return NULL; }
    if (oxid) {
        rv = tpc_finish_recovered(self, oxid, two_phase_cmd);
    }
    else {
        rv = tpc_finish_current(self, one_phase, two_phase_cmd);
    }
    if (rv < 0) { return NULL; }
    Py_RETURN_NONE;
}

PyObject *
psyco_conn_tpc_commit(connectionObject *self, PyObject *args)
{
    return tpc_finish(self, args, "tpc_commit", conn_commit,
                      "COMMIT PREPARED");
}

PyObject *
psyco_conn_tpc_rollback(connectionObject *self, PyObject *args)
{
    return tpc_finish(self, args, "tpc_rollback", conn_rollback,
                      "ROLLBACK PREPARED");
}

PyObject *
psyco_conn_tpc_recover(connectionObject *self, PyObject *dummy)
{
    PyObject *xids = NULL, *tmp = NULL, *rv = NULL;
    int status;

    if (conn_check_open(self) < 0) { goto exit; }
    if (conn_raise_if_async(self, "tpc_recover") < 0) { goto exit; }
    if (conn_raise_if_tpc_prepared(self, "tpc_recover") < 0) { goto exit; }

    status = self->status;
    if (!(xids = xid_recover((PyObject *)self))) { goto exit; }
    /* the query began a transaction: leave the connection as it was */
    if (status == CONN_STATUS_READY && self->status == CONN_STATUS_BEGIN) {
        if (!(tmp = PyObject_CallMethod((PyObject *)self, "rollback",
                                        NULL))) { goto exit; }
    }
    rv = xids;
    xids = NULL;

exit:
    Py_XDECREF(tmp);
    Py_XDECREF(xids);
    return rv;
}
