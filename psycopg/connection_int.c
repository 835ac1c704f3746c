/* connection_int.c - the libpq side of the connection: connecting,
 * closing, running commands, transactions and session characteristics.
 *
 * Every libpq call on self->pgconn happens with the connection lock held
 * and the GIL released (CONN_LOCK_BEGIN/END), so that threads sharing a
 * connection take turns and other Python threads keep running.
 */

#include "connection_priv.h"

#include <poll.h>
#include <string.h>

/* Indexed by ISOLATION_LEVEL_* and STATE_* (psycopg.h) */
static const char *const srv_isolevels[] = {
    NULL, "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE",
    "READ UNCOMMITTED", "default"
};
static const char *const srv_readonly[] = {" READ WRITE", " READ ONLY", ""};
static const char *const srv_deferrable[] = {
    " NOT DEFERRABLE", " DEFERRABLE", ""
};
static const char *const srv_state_guc[] = {"off", "on", "default"};

/* ------------------------------------------------------------------ */
/* State checks                                                       */

int
conn_check_open(connectionObject *self)
{
    if (self->closed != CONN_OPEN) {
        PyErr_SetString(InterfaceError, "connection already closed");
        return -1;
    }
    return 0;
}

int
conn_raise_if_async(connectionObject *self, const char *cmd)
{
    if (self->async_) {
        PyErr_Format(ProgrammingError,
            "%s cannot be used in asynchronous mode", cmd);
        return -1;
    }
    return 0;
}

int
conn_raise_if_in_transaction(connectionObject *self, const char *cmd)
{
    if (self->status != CONN_STATUS_READY) {
        PyErr_Format(ProgrammingError,
            "%s cannot be used inside a transaction", cmd);
        return -1;
    }
    return 0;
}

int
conn_raise_if_tpc_prepared(connectionObject *self, const char *cmd)
{
    if (self->status == CONN_STATUS_PREPARED) {
        PyErr_Format(ProgrammingError,
            "%s cannot be used with a prepared two-phase transaction", cmd);
        return -1;
    }
    return 0;
}

int
conn_raise_if_tpc_begun(connectionObject *self, const char *cmd)
{
    if (self->tpc_xid) {
        PyErr_Format(ProgrammingError,
            "%s cannot be used during a two-phase transaction", cmd);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The lock                                                           */

/* Recursive: a COPY holds the lock for its whole exchange (see
 * cursor_copy.c) while calling the file's methods, which may use the
 * connection again from the same thread; they must not deadlock. */
int
conn_init_lock(pthread_mutex_t *lock)
{
    pthread_mutexattr_t attr;
    int rv;

    if (pthread_mutexattr_init(&attr) != 0) { return -1; }
    rv = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    if (rv == 0) { rv = pthread_mutex_init(lock, &attr); }
    pthread_mutexattr_destroy(&attr);
    return rv;
}

int
conn_check_not_in_copy(connectionObject *self)
{
    if (self->in_copy == COPY_RUNNING) {
        PyErr_SetString(ProgrammingError,
            "the connection is busy with a COPY: its file object can't "
            "use the connection");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* End of life: closed, broken, the load balancer hook                */

void
conn_notify_lb_hook(connectionObject *self)
{
    PyObject *hook, *res, *type, *value, *tb;

    if (!(hook = self->lb_hook)) { return; }
    /* cleared before the call: the hook runs once even if it re-enters */
    self->lb_hook = NULL;

    PyErr_Fetch(&type, &value, &tb);
    if ((res = PyObject_CallFunctionObjArgs(hook, NULL))) {
        Py_DECREF(res);
    }
    else {
        PyErr_WriteUnraisable(hook);
    }
    PyErr_Restore(type, value, tb);
    Py_DECREF(hook);
}

void
conn_set_broken(connectionObject *self)
{
    if (self->closed == CONN_OPEN) { self->closed = CONN_BROKEN; }
    conn_notify_lb_hook(self);
}

int
conn_check_broken(connectionObject *self)
{
    if (self->closed == CONN_OPEN && self->pgconn
            && PQstatus(self->pgconn) == CONNECTION_BAD) {
        conn_set_broken(self);
    }
    if (self->closed == CONN_BROKEN) {
        /* someone may have set closed without telling the hook */
        conn_notify_lb_hook(self);
        return 1;
    }
    return 0;
}

void
conn_close(connectionObject *self)
{
    PGconn *pgconn;

    if (self->closed != CONN_CLOSED || self->pgconn) {
        self->closed = CONN_CLOSED;

        /* Wait for the threads using pgconn, then detach it while holding
         * the GIL too: code reading self->pgconn with the GIL (e.g.
         * connection.info) sees either a live handle or NULL.  Nobody
         * waits for the lock holding the GIL, so this can't deadlock. */
        Py_BEGIN_ALLOW_THREADS;
        pthread_mutex_lock(&self->lock);
        Py_END_ALLOW_THREADS;
        pgconn = self->pgconn;
        self->pgconn = NULL;
        if (self->pgres) {
            PQclear(self->pgres);
            self->pgres = NULL;
        }
        self->async_status = ASYNC_DONE;
        Py_BEGIN_ALLOW_THREADS;
        if (pgconn) { PQfinish(pgconn); }
        pthread_mutex_unlock(&self->lock);
        Py_END_ALLOW_THREADS;

        Py_CLEAR(self->async_cursor);
        Py_CLEAR(self->tpc_xid);
    }
    conn_notify_lb_hook(self);
}

/* ------------------------------------------------------------------ */
/* Connecting                                                         */

/* OperationalError with libpq's message about `pgconn`. */
static void
raise_connection_error(PGconn *pgconn)
{
    const char *msg = pgconn ? PQerrorMessage(pgconn) : NULL;

    if (!msg || !*msg) { msg = "could not connect to the server"; }
    psyco_set_error(OperationalError, NULL, msg);
}

static int
conn_connect_blocking(connectionObject *self, const char *dsn)
{
    PGconn *pgconn;

    Py_BEGIN_ALLOW_THREADS;
    pgconn = PQconnectdb(dsn);
    Py_END_ALLOW_THREADS;

    if (!pgconn) {
        PyErr_SetString(OperationalError, "PQconnectdb() failed");
        return -1;
    }
    if (PQstatus(pgconn) != CONNECTION_OK) {
        raise_connection_error(pgconn);
        Py_BEGIN_ALLOW_THREADS;
        PQfinish(pgconn);
        Py_END_ALLOW_THREADS;
        return -1;
    }
    self->pgconn = pgconn;
    self->closed = CONN_OPEN;
    return 0;
}

int
conn_connect(connectionObject *self, const char *dsn, long async_)
{
    self->lb_facts = conn_take_lb_attempt();
    if (async_) {
        /* poll() will do the rest */
        self->async_ = 1;
        return conn_connect_start(self, dsn);
    }
    if (psyco_wait_callback) {
        if (conn_connect_start(self, dsn) < 0) { return -1; }
        if (conn_connect_green(self) < 0) { return -1; }
    }
    else if (self->lb_facts) {
        if (conn_connect_attempt(self, dsn) < 0) { return -1; }
    }
    else {
        if (conn_connect_blocking(self, dsn) < 0) { return -1; }
    }
    return conn_setup(self);
}

int
conn_datestyle_is_iso(connectionObject *self)
{
    const char *ds = PQparameterStatus(self->pgconn, "DateStyle");

    return ds && 0 == strncmp(ds, "ISO", 3);
}

int
conn_read_server_settings(connectionObject *self)
{
    const char *scs;

    self->server_version = PQserverVersion(self->pgconn);
    self->protocol = PQprotocolVersion(self->pgconn);
    if (self->protocol != 3) {
        PyErr_SetString(InterfaceError, "only protocol 3 supported");
        return -1;
    }
    scs = PQparameterStatus(self->pgconn, "standard_conforming_strings");
    self->equote = (scs && 0 == strcmp(scs, "off"));
    if (conn_read_encoding(self) < 0) { return -1; }

    /* The PGcancel depends on the backend only: it is created once and
     * freed with the connection object, so that cancel() can use it
     * without the lock while another thread runs a query. */
    if (!self->cancel && !(self->cancel = PQgetCancel(self->pgconn))) {
        PyErr_SetString(OperationalError, "can't get cancellation key");
        return -1;
    }
    PQsetNoticeProcessor(self->pgconn, conn_notice_processor, self);
    return 0;
}

int
conn_setup(connectionObject *self)
{
    if (conn_read_server_settings(self) < 0) { return -1; }
    self->status = CONN_STATUS_READY;

    /* The typecasters parse ISO dates; a replication connection can't
     * run SET.  (DateStyle first: PQconninfo() is the costlier check.) */
    if (!conn_datestyle_is_iso(self) && !conn_is_replication(self)) {
        if (conn_exec_command(self, "SET DATESTYLE TO 'ISO'") < 0) {
            return -1;
        }
    }
    self->autocommit = 0;
    self->isolevel = ISOLATION_LEVEL_DEFAULT;
    self->readonly = STATE_DEFAULT;
    self->deferrable = STATE_DEFAULT;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Transactions                                                       */

static int
valid_isolevel(int level)
{
    return level >= ISOLATION_LEVEL_READ_COMMITTED
        && level <= ISOLATION_LEVEL_READ_UNCOMMITTED;
}

static int
valid_state(int state)
{
    return state >= STATE_OFF && state <= STATE_DEFAULT;
}

/* "BEGIN" with the session characteristics, as psycopg2 sends it. */
static void
build_begin(connectionObject *self, char *buf, size_t size)
{
    int iso = valid_isolevel(self->isolevel);
    int ro = valid_state(self->readonly) ? self->readonly : STATE_DEFAULT;
    int de = valid_state(self->deferrable) ? self->deferrable
                                           : STATE_DEFAULT;

    snprintf(buf, size, "BEGIN%s%s%s%s",
        iso ? " ISOLATION LEVEL " : "",
        iso ? srv_isolevels[self->isolevel] : "",
        srv_readonly[ro], srv_deferrable[de]);
}

/* ------------------------------------------------------------------ */
/* Running commands                                                   */

/* What conn_exec and its relatives check before taking the lock. */
static int
exec_precheck(connectionObject *self)
{
    if (conn_check_open(self) < 0) { return -1; }
    /* a blocking PQexec would hang behind an async query in flight */
    if (self->async_cursor || self->async_status != ASYNC_DONE) {
        PyErr_SetString(ProgrammingError,
            "execute cannot be used while an asynchronous query is underway");
        return -1;
    }
    return 0;
}

/* After the lock is released: Python-side bookkeeping and errors.
 * Returns res, or NULL with an exception set (res freed). */
static PGresult *
exec_finish(connectionObject *self, PGresult *res, int lost, int closed)
{
    if (closed) {
        PyErr_SetString(InterfaceError, "connection already closed");
        return NULL;
    }
    conn_process_notices(self);
    conn_process_notifies(self);
    if (!res || lost) {
        pq_raise(self, NULL, res);
        if (res) { PQclear(res); }
        if (lost) { conn_set_broken(self); }
        return NULL;
    }
    return res;
}

/* 1 if a query run now must be preceded by BEGIN.  Since psycopg2 2.9
 * `with conn:` makes a transaction even in autocommit. */
static int
begin_needed(connectionObject *self)
{
    if (self->status != CONN_STATUS_READY || self->async_) { return 0; }
    return !self->autocommit || self->entered;
}

int
conn_begin_locked(connectionObject *self, PGresult **error)
{
    char bq[128];
    PGresult *res;

    *error = NULL;
    if (!begin_needed(self)) { return 0; }
    build_begin(self, bq, sizeof(bq));
    res = PQexec(self->pgconn, bq);
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
        *error = res;
        return -1;
    }
    PQclear(res);
    self->status = CONN_STATUS_BEGIN;
    return 0;
}

/* Lock held, GIL released: BEGIN if needed, then the query.  A failed
 * BEGIN's result is returned instead of the query's: the caller raises
 * its error.  A COPY that no COPY method waits for is ended before the
 * lock is released: no other thread may find the connection in it. */
static PGresult *
exec_locked(connectionObject *self, const char *query, int begin)
{
    PGresult *res;
    ExecStatusType status;

    if (begin && conn_begin_locked(self, &res) < 0) {
        return res;
    }
    res = PQexec(self->pgconn, query);
    status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if ((status == PGRES_COPY_IN || status == PGRES_COPY_OUT)
            && self->in_copy != COPY_EXPECTED) {
        copy_abandon_locked(self->pgconn, status);
    }
    return res;
}

static PGresult *
exec_query(connectionObject *self, const char *query, int begin)
{
    PGresult *res = NULL;
    int lost = 0, closed = 0, busy = 0;

    CONN_LOCK_BEGIN(self);
    if (self->in_copy == COPY_RUNNING) {
        busy = 1;           /* only the COPY's own thread gets here */
    }
    else if (self->pgconn) {
        res = exec_locked(self, query, begin);
        lost = (PQstatus(self->pgconn) == CONNECTION_BAD);
    }
    else {
        closed = 1;     /* closed by another thread meanwhile */
    }
    CONN_LOCK_END(self);
    if (busy) {
        conn_check_not_in_copy(self);
        return NULL;
    }
    return exec_finish(self, res, lost, closed);
}

PGresult *
conn_exec(connectionObject *self, const char *query)
{
    if (conn_check_open(self) < 0) { return NULL; }
    if (psyco_wait_callback) { return conn_exec_green(self, query); }
    if (exec_precheck(self) < 0) { return NULL; }
    return exec_query(self, query, 0);
}

PGresult *
conn_exec_in_transaction(connectionObject *self, const char *query)
{
    if (conn_check_open(self) < 0) { return NULL; }
    if (psyco_wait_callback) {
        if (conn_begin_if_needed(self) < 0) { return NULL; }
        return conn_exec_green(self, query);
    }
    if (exec_precheck(self) < 0) { return NULL; }
    return exec_query(self, query, 1);
}

/* Consume the result of a command: 0 if it succeeded, else raise. */
static int
command_result(connectionObject *self, PGresult *res)
{
    ExecStatusType status = PQresultStatus(res);

    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        pq_raise(self, NULL, res);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

int
conn_exec_command(connectionObject *self, const char *query)
{
    PGresult *res;

    if (!(res = conn_exec(self, query))) { return -1; }
    return command_result(self, res);
}

int
conn_begin_if_needed(connectionObject *self)
{
    char query[128];

    if (!begin_needed(self)) { return 0; }
    build_begin(self, query, sizeof(query));
    if (conn_exec_command(self, query) < 0) { return -1; }
    self->status = CONN_STATUS_BEGIN;
    return 0;
}

/* Lock held, GIL released: COMMIT or ROLLBACK if a transaction is open
 * (status read here, so that threads ending the same transaction send
 * one command); whatever happens the transaction is over. */
static PGresult *
end_transaction_locked(connectionObject *self, const char *command,
                       int *sent)
{
    PGresult *res;

    if (self->status != CONN_STATUS_BEGIN) { return NULL; }
    *sent = 1;
    self->mark += 1;
    res = PQexec(self->pgconn, command);
    self->status = CONN_STATUS_READY;
    return res;
}

static int
conn_end_transaction(connectionObject *self, const char *command)
{
    PGresult *res = NULL;
    int lost = 0, closed = 0, sent = 0, busy = 0;

    if (psyco_wait_callback || self->async_) {
        int rv;
        if (self->status != CONN_STATUS_BEGIN) { return 0; }
        self->mark += 1;
        rv = conn_exec_command(self, command);
        self->status = CONN_STATUS_READY;
        return rv;
    }
    if (exec_precheck(self) < 0) { return -1; }
    CONN_LOCK_BEGIN(self);
    if (self->in_copy == COPY_RUNNING) {
        busy = 1;           /* only the COPY's own thread sees it */
    }
    else if (self->pgconn) {
        res = end_transaction_locked(self, command, &sent);
        lost = sent && PQstatus(self->pgconn) == CONNECTION_BAD;
    }
    else {
        closed = 1;
    }
    CONN_LOCK_END(self);
    if (busy) { return conn_check_not_in_copy(self); }
    if (!sent && !closed) { return 0; }
    if (!(res = exec_finish(self, res, lost, closed))) { return -1; }
    return command_result(self, res);
}

int
conn_commit(connectionObject *self)
{
    return conn_end_transaction(self, "COMMIT");
}

int
conn_rollback(connectionObject *self)
{
    return conn_end_transaction(self, "ROLLBACK");
}

/* SET name TO 'value' (or TO DEFAULT) */
static int
set_guc(connectionObject *self, const char *name, const char *value)
{
    char query[256];

    if (0 == strcmp(value, "default")) {
        snprintf(query, sizeof(query), "SET %s TO DEFAULT", name);
    }
    else {
        snprintf(query, sizeof(query), "SET %s TO '%s'", name, value);
    }
    return conn_exec_command(self, query);
}

/* In autocommit no BEGIN is sent: set the characteristics given as
 * session defaults. */
static int
apply_session_defaults(connectionObject *self, int isolevel, int readonly,
                       int deferrable)
{
    if (isolevel != SESSION_UNCHANGED
            && set_guc(self, "default_transaction_isolation",
                       srv_isolevels[isolevel]) < 0) { return -1; }
    if (readonly != SESSION_UNCHANGED
            && set_guc(self, "default_transaction_read_only",
                       srv_state_guc[readonly]) < 0) { return -1; }
    if (deferrable != SESSION_UNCHANGED
            && set_guc(self, "default_transaction_deferrable",
                       srv_state_guc[deferrable]) < 0) { return -1; }
    return 0;
}

/* Leaving autocommit: BEGIN will carry the characteristics, so put back
 * the session defaults changed while in autocommit. */
static int
revert_session_defaults(connectionObject *self)
{
    if (self->isolevel != ISOLATION_LEVEL_DEFAULT
            && set_guc(self, "default_transaction_isolation",
                       "default") < 0) { return -1; }
    if (self->readonly != STATE_DEFAULT
            && set_guc(self, "default_transaction_read_only",
                       "default") < 0) { return -1; }
    if (self->deferrable != STATE_DEFAULT
            && set_guc(self, "default_transaction_deferrable",
                       "default") < 0) { return -1; }
    return 0;
}

static int
valid_session(int autocommit, int isolevel, int readonly, int deferrable)
{
    return (autocommit == SESSION_UNCHANGED || autocommit == 0
            || autocommit == 1)
        && (isolevel == SESSION_UNCHANGED || valid_isolevel(isolevel)
            || isolevel == ISOLATION_LEVEL_DEFAULT)
        && (readonly == SESSION_UNCHANGED || valid_state(readonly))
        && (deferrable == SESSION_UNCHANGED || valid_state(deferrable));
}

int
conn_set_session(connectionObject *self, int autocommit, int isolevel,
                 int readonly, int deferrable)
{
    int want_autocommit = autocommit == SESSION_UNCHANGED
        ? self->autocommit : autocommit;

    if (!valid_session(autocommit, isolevel, readonly, deferrable)) {
        PyErr_SetString(PyExc_ValueError, "bad session characteristics");
        return -1;
    }
    if (want_autocommit) {
        if (apply_session_defaults(self, isolevel, readonly,
                                   deferrable) < 0) { return -1; }
    }
    else if (self->autocommit) {
        if (revert_session_defaults(self) < 0) { return -1; }
    }
    if (autocommit != SESSION_UNCHANGED) { self->autocommit = autocommit; }
    if (isolevel != SESSION_UNCHANGED) { self->isolevel = isolevel; }
    if (readonly != SESSION_UNCHANGED) { self->readonly = readonly; }
    if (deferrable != SESSION_UNCHANGED) { self->deferrable = deferrable; }
    return 0;
}

/* What psycopg2 sends to reset the session: DISCARD ALL (which refuses
 * to run in a transaction block the user opened in autocommit, as in
 * psycopg2), or its older equivalent. */
static int
discard_session(connectionObject *self)
{
    if (self->server_version >= 80300) {
        return conn_exec_command(self, "DISCARD ALL");
    }
    if (conn_exec_command(self, "RESET ALL") < 0) { return -1; }
    return conn_exec_command(self, "SET SESSION AUTHORIZATION DEFAULT");
}

int
conn_reset(connectionObject *self)
{
    int rv = 0;

    self->mark += 1;
    if (self->status == CONN_STATUS_BEGIN) {
        rv = conn_exec_command(self, "ABORT");      /* psycopg2's word */
    }
    if (rv == 0) {
        rv = discard_session(self);
    }
    /* even after an error, as psycopg2; a prepared transaction stays in
     * the server, available to recover */
    self->status = CONN_STATUS_READY;
    Py_CLEAR(self->tpc_xid);
    if (rv < 0) { return -1; }
    return conn_setup(self);
}

/* ------------------------------------------------------------------ */
/* Cancel, broken check                                               */

int
conn_cancel(connectionObject *self)
{
    char errbuf[256];
    int ok = 0;

    errbuf[0] = '\0';
    if (!self->cancel) {
        PyErr_SetString(OperationalError,
            "asynchronous connection attempt underway");
        return -1;
    }
    /* Not under the connection lock: the whole point is to interrupt the
     * thread holding it.  PQcancel is thread-safe. */
    Py_BEGIN_ALLOW_THREADS;
    ok = PQcancel(self->cancel, errbuf, sizeof(errbuf));
    Py_END_ALLOW_THREADS;
    if (!ok) {
        psyco_set_error(OperationalError, NULL,
                        errbuf[0] ? errbuf : "cancel failed");
        return -1;
    }
    return 0;
}

/* With the lock held: 1 if libpq finds the connection dead.  Only reads
 * what is already in the socket: never blocks, never sends. */
static int
pgconn_is_dead(PGconn *pgconn)
{
    struct pollfd pfd;

    if (PQstatus(pgconn) == CONNECTION_BAD) { return 1; }
    if (PQtransactionStatus(pgconn) == PQTRANS_ACTIVE) { return 0; }
    if ((pfd.fd = PQsocket(pgconn)) < 0) { return 1; }
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (poll(&pfd, 1, 0) <= 0) { return 0; }
    /* readable while idle: a termination message, EOF, or a notification */
    if (!PQconsumeInput(pgconn)) { return 1; }
    return PQstatus(pgconn) == CONNECTION_BAD;
}

int
conn_poll_broken(connectionObject *self)
{
    int dead = 0;

    if (self->closed == CONN_BROKEN) {
        conn_notify_lb_hook(self);
        return 1;
    }
    if (self->closed != CONN_OPEN || self->async_status != ASYNC_DONE
            || self->status == CONN_STATUS_SETUP
            || self->status == CONN_STATUS_CONNECTING
            || self->status == CONN_STATUS_DATESTYLE) {
        return 0;
    }
    /* In use by another thread: certainly not something to report now.
     * trylock never blocks, so taking it with the GIL is fine. */
    if (pthread_mutex_trylock(&self->lock) != 0) { return 0; }
    if (self->pgconn) { dead = pgconn_is_dead(self->pgconn); }
    pthread_mutex_unlock(&self->lock);

    if (dead) {
        conn_set_broken(self);
        return 1;
    }
    /* what PQconsumeInput may have read */
    conn_process_notices(self);
    conn_process_notifies(self);
    return 0;
}
