/* connection_async.c - non-blocking operation: asynchronous connections
 * (connect(async_=True) + connection.poll()) and green mode (every
 * blocking operation waits through the callback of set_wait_callback()).
 *
 * Both run libpq's asynchronous API; connection.poll() advances the state
 * machine one step and tells the caller what to wait for:
 *
 *   status SETUP       -> CONNECTING (first poll: POLL_WRITE)
 *   status CONNECTING  PQconnectPoll; async connections then read the
 *                      server settings and maybe send SET DATESTYLE
 *   status DATESTYLE   reading the result of SET DATESTYLE
 *   READY/BEGIN/...    async_status WRITE: PQflush; READ: read results
 *                      into self->pgres; DONE: read notifications
 */

#include "connection_priv.h"

#include <poll.h>

/* ------------------------------------------------------------------ */
/* Steps of the state machine                                         */

/* OperationalError with the connection's libpq message; marks the
 * connection broken if it is. */
static int
raise_libpq_error(connectionObject *self)
{
    pq_raise(self, NULL, NULL);
    conn_check_broken(self);
    return -1;
}

static int
poll_connecting(connectionObject *self)
{
    PostgresPollingStatusType st = PGRES_POLLING_FAILED;
    const char *msg;

    CONN_LOCK_BEGIN(self);
    if (self->pgconn) {
        self->lb_status = PQstatus(self->pgconn);
        st = PQconnectPoll(self->pgconn);
        if (st == PGRES_POLLING_OK && self->lb_facts) {
            PQsetErrorVerbosity(self->pgconn, PQERRORS_DEFAULT);
        }
    }
    CONN_LOCK_END(self);

    switch (st) {
    case PGRES_POLLING_OK:
        conn_attempt_succeeded(self);
        return PSYCO_POLL_OK;
    case PGRES_POLLING_READING: return PSYCO_POLL_READ;
    case PGRES_POLLING_WRITING: return PSYCO_POLL_WRITE;
    default:
        if (self->lb_facts) {
            conn_raise_attempt_error(self->pgconn, self->lb_status, 0);
            return conn_attempt_failover(self);
        }
        msg = self->pgconn ? PQerrorMessage(self->pgconn) : NULL;
        psyco_set_error(OperationalError, NULL,
                        msg && *msg ? msg : "connection failed");
        return -1;
    }
}

static int
poll_flush(connectionObject *self)
{
    int res = -1;

    CONN_LOCK_BEGIN(self);
    if (self->pgconn) { res = PQflush(self->pgconn); }
    CONN_LOCK_END(self);

    if (res == 0) {
        self->async_status = ASYNC_READ;
        return PSYCO_POLL_READ;
    }
    if (res == 1) { return PSYCO_POLL_WRITE; }
    return raise_libpq_error(self);
}

/* With the lock: collect the available results into self->pgres.  The
 * last result wins, except that the first error is kept.  1 if more
 * results are to come, 0 when done. */
static int
gather_results(connectionObject *self)
{
    PGresult *res;
    ExecStatusType status;

    while (!PQisBusy(self->pgconn)) {
        if (!(res = PQgetResult(self->pgconn))) { return 0; }
        status = PQresultStatus(res);
        if (self->pgres
                && PQresultStatus(self->pgres) == PGRES_FATAL_ERROR) {
            PQclear(res);
        }
        else {
            if (self->pgres) { PQclear(self->pgres); }
            self->pgres = res;
        }
        /* in COPY libpq keeps returning results: stop here */
        if (status == PGRES_COPY_OUT || status == PGRES_COPY_IN
                || status == PGRES_COPY_BOTH) {
            return 0;
        }
    }
    return 1;
}

static int
poll_read(connectionObject *self)
{
    int consumed = 0, busy = 0;

    CONN_LOCK_BEGIN(self);
    if (self->pgconn && (consumed = PQconsumeInput(self->pgconn))) {
        busy = gather_results(self);
    }
    CONN_LOCK_END(self);

    conn_process_notices(self);
    conn_process_notifies(self);
    if (!consumed) { return raise_libpq_error(self); }
    if (busy) { return PSYCO_POLL_READ; }
    self->async_status = ASYNC_DONE;
    return PSYCO_POLL_OK;
}

static int
poll_query(connectionObject *self)
{
    if (self->async_status == ASYNC_WRITE) { return poll_flush(self); }
    /* ASYNC_READ: results; ASYNC_DONE: notifications only */
    return poll_read(self);
}

/* Send a query on the non-blocking connection; 0 ok, -1 error. */
static int
send_query(connectionObject *self, const char *query)
{
    int sent = 0;

    CONN_LOCK_BEGIN(self);
    if (self->pgconn) { sent = PQsendQuery(self->pgconn, query); }
    CONN_LOCK_END(self);

    if (!self->pgconn) {
        PyErr_SetString(InterfaceError, "connection already closed");
        return -1;
    }
    if (!sent) { return raise_libpq_error(self); }
    self->async_status = ASYNC_WRITE;
    return 0;
}

/* An async connection is up: read its settings, then make sure the
 * DateStyle is ISO (sending the SET without waiting). */
static int
poll_setup_async(connectionObject *self)
{
    int res;

    if (self->status == CONN_STATUS_CONNECTING) {
        if (conn_read_server_settings(self) < 0) { return -1; }
        /* async connections are always in autocommit: the user sends
         * BEGIN and COMMIT if wanted */
        self->autocommit = 1;
        self->isolevel = ISOLATION_LEVEL_DEFAULT;
        self->readonly = STATE_DEFAULT;
        self->deferrable = STATE_DEFAULT;
        if (conn_datestyle_is_iso(self) || conn_is_replication(self)) {
            self->status = CONN_STATUS_READY;
            return PSYCO_POLL_OK;
        }
        if (send_query(self, "SET DATESTYLE TO 'ISO'") < 0) { return -1; }
        self->status = CONN_STATUS_DATESTYLE;
        return PSYCO_POLL_WRITE;
    }

    /* CONN_STATUS_DATESTYLE */
    if ((res = poll_query(self)) != PSYCO_POLL_OK) { return res; }
    if (!self->pgres || PQresultStatus(self->pgres) != PGRES_COMMAND_OK) {
        PyErr_SetString(OperationalError, "can't set datestyle to ISO");
        res = -1;
    }
    else {
        self->status = CONN_STATUS_READY;
    }
    if (self->pgres) {
        PQclear(self->pgres);
        self->pgres = NULL;
    }
    return res;
}

/* An async query finished: hand the result to the cursor that sent it,
 * or raise its error. */
static int
deliver_async_result(connectionObject *self)
{
    PyObject *curs = NULL;
    PGresult *res = self->pgres;
    ExecStatusType status;
    int rv = PSYCO_POLL_OK;

    self->pgres = NULL;
    if (self->async_cursor
            && PyWeakref_GetRef(self->async_cursor, &curs) < 0) {
        PyErr_Clear();      /* curs is NULL: handled as gone */
    }
    Py_CLEAR(self->async_cursor);

    if (!curs) {
        /* The cursor was garbage collected while its query ran: like
         * psycopg2, tell the caller; the connection stays usable. */
        if (res) { PQclear(res); }
        PyErr_SetString(InterfaceError,
            "the asynchronous cursor has disappeared");
        rv = -1;
        goto exit;
    }
    status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (!res || status == PGRES_BAD_RESPONSE
            || status == PGRES_NONFATAL_ERROR
            || status == PGRES_FATAL_ERROR) {
        pq_raise(self, (cursorObject *)curs, res);
        if (res) { PQclear(res); }
        rv = -1;
    }
    else if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT
            || status == PGRES_COPY_BOTH) {
        /* psycopg2's error; like psycopg2, the COPY is left running
         * (ending it here could block this poll() for long) */
        PQclear(res);
        PyErr_SetString(ProgrammingError, status == PGRES_COPY_IN
            ? "can't execute COPY FROM: use the copy_from() method instead"
            : "can't execute COPY TO: use the copy_to() method instead");
        rv = -1;
    }
    else if (curs_set_result((cursorObject *)curs, res) < 0) {
        rv = -1;    /* curs_set_result owns res, even on failure */
    }
exit:
    Py_XDECREF(curs);
    return rv;
}

/* After an error in a query step: the query is over for us. */
static void
forget_query(connectionObject *self)
{
    self->async_status = ASYNC_DONE;
    if (self->pgres) {
        PQclear(self->pgres);
        self->pgres = NULL;
    }
    Py_CLEAR(self->async_cursor);
}

int
conn_poll(connectionObject *self)
{
    int res = -1;

    switch (self->status) {
    case CONN_STATUS_SETUP:
        self->status = CONN_STATUS_CONNECTING;
        res = PSYCO_POLL_WRITE;
        break;
    case CONN_STATUS_CONNECTING:
        res = poll_connecting(self);
        if (res == PSYCO_POLL_OK && self->async_) {
            res = poll_setup_async(self);
        }
        break;
    case CONN_STATUS_DATESTYLE:
        res = poll_setup_async(self);
        break;
    case CONN_STATUS_READY:
    case CONN_STATUS_BEGIN:
    case CONN_STATUS_PREPARED:
        res = poll_query(self);
        if (res == PSYCO_POLL_OK && self->async_ && self->async_cursor) {
            res = deliver_async_result(self);
        }
        if (res < 0 && self->async_) { forget_query(self); }
        break;
    default:
        PyErr_Format(OperationalError,
            "connection in unexpected state %d", self->status);
        break;
    }
    return res < 0 ? -1 : res;
}

/* ------------------------------------------------------------------ */
/* Async connections and queries                                      */

int
conn_connect_start(connectionObject *self, const char *dsn)
{
    PGconn *pgconn;

    /* may resolve the host name: without the GIL */
    Py_BEGIN_ALLOW_THREADS;
    pgconn = PQconnectStart(dsn);
    Py_END_ALLOW_THREADS;

    if (!pgconn) {
        PyErr_SetString(OperationalError, "PQconnectStart() failed");
        return -1;
    }
    if (self->lb_facts && PQstatus(pgconn) == CONNECTION_BAD) {
        conn_raise_attempt_error(pgconn, CONNECTION_NEEDED, 0);
        PQfinish(pgconn);
        return -1;
    }
    if (PQstatus(pgconn) == CONNECTION_BAD
            || PQsetnonblocking(pgconn, 1) != 0) {
        psyco_set_error(OperationalError, NULL, PQerrorMessage(pgconn));
        PQfinish(pgconn);
        return -1;
    }
    if (self->lb_facts) { PQsetErrorVerbosity(pgconn, PQERRORS_VERBOSE); }
    self->pgconn = pgconn;
    self->closed = CONN_OPEN;
    self->status = CONN_STATUS_SETUP;
    return 0;
}

int
conn_async_execute(connectionObject *self, struct cursorObject *curs,
                   const char *query)
{
    if (conn_check_open(self) < 0) { return -1; }
    if (self->async_cursor || self->async_status != ASYNC_DONE) {
        PyErr_SetString(ProgrammingError,
            "execute cannot be used while an asynchronous query is "
            "underway");
        return -1;
    }
    if (self->status != CONN_STATUS_READY
            && self->status != CONN_STATUS_BEGIN) {
        PyErr_SetString(OperationalError,
            "asynchronous connection attempt underway");
        return -1;
    }
    if (!(self->async_cursor = PyWeakref_NewRef((PyObject *)curs, NULL))) {
        return -1;
    }
    if (send_query(self, query) < 0) {
        Py_CLEAR(self->async_cursor);
        return -1;
    }
    return 0;
}

int
conn_is_executing(connectionObject *self)
{
    if (!self->async_ || self->closed != CONN_OPEN) { return 0; }
    if (self->status != CONN_STATUS_READY
            && self->status != CONN_STATUS_BEGIN) { return 1; }
    return self->async_cursor != NULL;
}

/* ------------------------------------------------------------------ */
/* Green mode                                                         */

/* Wait with poll(2) for what conn_poll() asks, until it says OK: used if
 * the wait callback disappears in the middle of an operation. */
static int
wait_blocking(connectionObject *self)
{
    struct pollfd pfd;
    int res, rv;

    while ((res = conn_poll(self)) != PSYCO_POLL_OK) {
        if (res < 0) { return -1; }
        if (!self->pgconn) {
            PyErr_SetString(InterfaceError, "connection already closed");
            return -1;
        }
        pfd.fd = PQsocket(self->pgconn);
        pfd.events = (res == PSYCO_POLL_READ) ? POLLIN : POLLOUT;
        pfd.revents = 0;
        Py_BEGIN_ALLOW_THREADS;
        rv = poll(&pfd, 1, -1);
        Py_END_ALLOW_THREADS;
        if (rv < 0 && PyErr_CheckSignals() < 0) { return -1; }
    }
    return 0;
}

/* Call the wait callback: it returns when conn.poll() says POLL_OK. */
static int
wait_green(connectionObject *self)
{
    PyObject *cb, *res;

    if (!(cb = psyco_wait_callback)) { return wait_blocking(self); }
    Py_INCREF(cb);
    res = PyObject_CallFunctionObjArgs(cb, (PyObject *)self, NULL);
    Py_DECREF(cb);
    if (!res) { return -1; }
    Py_DECREF(res);
    return 0;
}

/* The wait callback failed in the middle of a query: the protocol state
 * is unknown, so the connection is closed and marked broken. */
static void
green_panic(connectionObject *self)
{
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    forget_query(self);
    conn_close(self);
    self->closed = CONN_BROKEN;
    PyErr_Restore(type, value, tb);
}

int
conn_connect_green(connectionObject *self)
{
    if (wait_green(self) < 0) { goto error; }
    if (!self->pgconn || PQstatus(self->pgconn) != CONNECTION_OK) {
        psyco_set_error(OperationalError, NULL, self->pgconn
            ? PQerrorMessage(self->pgconn) : "connection failed");
        goto error;
    }
    return 0;

error:
    green_panic(self);
    self->closed = CONN_CLOSED;
    return -1;
}

PGresult *
conn_exec_green(connectionObject *self, const char *query)
{
    PGresult *res = NULL;

    if (self->async_cursor || self->async_status != ASYNC_DONE) {
        PyErr_SetString(ProgrammingError,
            "execute cannot be used while an asynchronous query is underway");
        return NULL;
    }
    if (send_query(self, query) < 0) { goto exit; }
    if (wait_green(self) < 0) {
        green_panic(self);
        goto exit;
    }
    if (self->async_status != ASYNC_DONE) {
        PyErr_SetString(OperationalError,
            "the wait callback returned before the query completed");
        green_panic(self);
        goto exit;
    }
    res = self->pgres;
    self->pgres = NULL;
    if (!res || (self->pgconn && PQstatus(self->pgconn) == CONNECTION_BAD)) {
        pq_raise(self, NULL, res);
        if (res) { PQclear(res); }
        res = NULL;
        conn_check_broken(self);
    }
exit:
    forget_query(self);
    return res;
}
