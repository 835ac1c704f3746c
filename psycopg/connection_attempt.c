/* connection_attempt.c - connection attempts of the load balancer.
 *
 * The load balancer must tell a failure that concerns the node (refused,
 * timed out, closed, the server starting up or full) from one that comes
 * from the client's parameters (bad option, wrong password, unknown
 * database).  For connections it opens through _psycopg._lb_connect()
 * this file records what libpq did, and attaches it to the
 * OperationalError raised as the attribute `_lb_facts`:
 *
 *   (io_started, needs_password, status, sqlstate, timed_out,
 *    target_session_attrs)
 *
 * - io_started: libpq got as far as trying a socket connection (an option
 *   error or a host name that does not resolve stop before that);
 * - needs_password: PQconnectionNeedsPassword();
 * - status: the PQstatus() of the attempt before the step that failed
 *   (the phase reached: connecting, startup, SSL, target checks...);
 * - sqlstate: the SQLSTATE of the server's error, or None;
 * - timed_out: connect_timeout expired;
 * - target_session_attrs: the value in use ("any" by default).
 *
 * status is ATTEMPT_OPTION_ERROR (-1) when libpq rejected an option after
 * starting (connect_timeout is only checked then), ATTEMPT_NO_FACTS (-2)
 * when PQconnectdb() made the attempt (no phase, no SQLSTATE known).
 *
 * To learn the SQLSTATE, libpq reports errors verbosely during the
 * attempt; the message is given back in libpq's default form, so the user
 * sees what plain psycopg2 shows.
 *
 * Async connections (and green ones) may also carry a failover callable
 * (attribute `_lb_failover`): when the attempt fails in poll(), it gets
 * the exception and returns the DSN of another node to try, or None; the
 * attempt then goes on in the same poll() sequence.  When the attempt
 * succeeds it gets None (so that the node is known to be up again).
 */

#include "connection_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Set by _lb_connect() around the connection factory call, taken by
 * conn_connect(): per thread, as several threads connect at once. */
static __thread int lb_attempt_requested = 0;

#define ATTEMPT_OPTION_ERROR (-1)
#define ATTEMPT_NO_FACTS (-2)

void
conn_request_lb_attempt(int on)
{
    lb_attempt_requested = on;
}

int
conn_take_lb_attempt(void)
{
    int rv = lb_attempt_requested;

    lb_attempt_requested = 0;
    return rv;
}

/* ------------------------------------------------------------------ */
/* Messages                                                           */

static int
is_sqlstate_at(const char *p)
{
    int i;

    for (i = 0; i < 5; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'Z'))) {
            return 0;
        }
    }
    return p[5] == ':' && p[6] == ' ';
}

static int
starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && 0 == strncmp(s, prefix, n);
}

/* Lines that only PQERRORS_VERBOSE adds. */
static int
is_verbose_only_line(const char *line, size_t len)
{
    static const char *const prefixes[] = {
        "LOCATION:  ", "SCHEMA NAME:  ", "TABLE NAME:  ", "COLUMN NAME:  ",
        "DATATYPE NAME:  ", "CONSTRAINT NAME:  ", NULL
    };
    int i;

    for (i = 0; prefixes[i]; i++) {
        if (starts_with(line, len, prefixes[i])) { return 1; }
    }
    return 0;
}

/* Copy one line of a verbose message as the default verbosity writes it:
 * "...failed: FATAL:  57P03: the database..." loses "57P03: ", which is
 * stored in `sqlstate` (the last one of the message wins). */
static char *
copy_line(char *out, const char *line, size_t len, char *sqlstate)
{
    const char *mark = NULL;
    size_t i;

    if (!starts_with(line, len, "DETAIL:  ")
            && !starts_with(line, len, "HINT:  ")
            && !starts_with(line, len, "CONTEXT:  ")) {
        for (i = 0; i + 3 + 7 <= len; i++) {
            if (line[i] == ':' && line[i + 1] == ' ' && line[i + 2] == ' ') {
                if (is_sqlstate_at(line + i + 3)) { mark = line + i + 3; }
                break;
            }
        }
    }
    if (!mark) {
        memcpy(out, line, len);
        return out + len;
    }
    memcpy(sqlstate, mark, 5);
    sqlstate[5] = '\0';
    memcpy(out, line, (size_t)(mark - line));
    out += mark - line;
    memcpy(out, mark + 7, len - (size_t)(mark + 7 - line));
    return out + (len - (size_t)(mark + 7 - line));
}

/* libpq's verbose message in the default form, and its SQLSTATE (empty
 * string if none).  PyMem string, or NULL with MemoryError. */
static char *
default_message(const char *msg, char *sqlstate)
{
    size_t size = strlen(msg);
    char *rv, *out;
    const char *line = msg, *end;

    sqlstate[0] = '\0';
    if (!(rv = out = PyMem_Malloc(size + 1))) {
        PyErr_NoMemory();
        return NULL;
    }
    while (*line) {
        end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        if (!is_verbose_only_line(line, (size_t)(end - line))) {
            out = copy_line(out, line, (size_t)(end - line), sqlstate);
        }
        line = end;
    }
    *out = '\0';
    return rv;
}

/* ------------------------------------------------------------------ */
/* Raising with the facts                                             */

/* The target_session_attrs of the attempt (new reference). */
static PyObject *
session_attrs(PGconn *pgconn)
{
    PQconninfoOption *opts, *o;
    PyObject *rv = NULL;

    if (pgconn && (opts = PQconninfo(pgconn))) {
        for (o = opts; o->keyword; o++) {
            if (0 == strcmp(o->keyword, "target_session_attrs") && o->val) {
                rv = PyUnicode_DecodeASCII(o->val, strlen(o->val), "replace");
                break;
            }
        }
        PQconninfoFree(opts);
    }
    return rv ? rv : PyUnicode_FromString("any");
}

/* Set `_lb_facts` on the exception being raised. */
static void
attach_facts(PGconn *pgconn, int status, const char *sqlstate,
             int timed_out)
{
    PyObject *type = NULL, *value = NULL, *tb = NULL, *facts = NULL;
    const char *addr = pgconn ? PQhostaddr(pgconn) : NULL;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (!value) { goto exit; }
    facts = Py_BuildValue("(NNiNNN)",
        PyBool_FromLong(addr && *addr),
        PyBool_FromLong(pgconn && PQconnectionNeedsPassword(pgconn)),
        status,
        (sqlstate && *sqlstate) ? PyUnicode_FromString(sqlstate)
                                : (Py_INCREF(Py_None), Py_None),
        PyBool_FromLong(timed_out),
        session_attrs(pgconn));
    if (!facts || PyObject_SetAttrString(value, "_lb_facts", facts) < 0) {
        /* the original error matters more than the facts */
        PyErr_Clear();
    }
exit:
    Py_XDECREF(facts);
    PyErr_Restore(type, value, tb);
}

void
conn_raise_attempt_error(PGconn *pgconn, int status, int timed_out)
{
    static const char expired[] = "timeout expired\n";
    char sqlstate[6];
    const char *msg = pgconn ? PQerrorMessage(pgconn) : NULL;
    char *full = NULL, *clean = NULL;
    size_t len;

    if (!msg || !*msg) { msg = "could not connect to the server\n"; }
    if (timed_out) {
        /* what libpq's own wait writes when connect_timeout expires */
        len = strlen(msg);
        if (!(full = PyMem_Malloc(len + sizeof(expired)))) {
            PyErr_NoMemory();
            return;
        }
        memcpy(full, msg, len);
        memcpy(full + len, expired, sizeof(expired));
        msg = full;
    }
    clean = default_message(msg, sqlstate);
    PyMem_Free(full);
    if (!clean) { return; }
    psyco_set_error(OperationalError, NULL, clean);
    PyMem_Free(clean);
    attach_facts(pgconn, status, sqlstate, timed_out);
}

/* ------------------------------------------------------------------ */
/* Blocking attempt                                                   */

/* libpq's parse_int_param: an int, surrounding spaces allowed. */
static int
parse_timeout(const char *value, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(value, &end, 10);
    if (end == value || errno || v != (int)v) { return -1; }
    while (*end == ' ' || (*end >= '\t' && *end <= '\r')) { end++; }
    if (*end) { return -1; }
    *out = (v > 0 && v < 2) ? 2 : (int)v;
    return 0;
}

/* The connect_timeout in seconds (0 none) if this loop can honour it as
 * libpq does: one host, at a numeric address.  -1: let PQconnectdb do it
 * (several addresses to time out one by one); -2: likewise, for a value
 * libpq rejects (an option error). */
static int
attempt_timeout(PGconn *pgconn)
{
    PQconninfoOption *opts, *o;
    const char *timeout = NULL, *host = NULL, *addr = NULL;
    int secs = 0, rv = -1;

    if (!(opts = PQconninfo(pgconn))) { return -1; }
    for (o = opts; o->keyword; o++) {
        if (!o->val || !*o->val) { continue; }
        if (0 == strcmp(o->keyword, "connect_timeout")) { timeout = o->val; }
        else if (0 == strcmp(o->keyword, "host")) { host = o->val; }
        else if (0 == strcmp(o->keyword, "hostaddr")) { addr = o->val; }
    }
    if (!timeout) {
        rv = 0;
    }
    else if (parse_timeout(timeout, &secs) < 0) {
        rv = -2;
    }
    else {
        if (secs <= 0) { rv = 0; }
        else if (addr ? !strchr(addr, ',')
                 : (host && !strchr(host, ',')
                    && (host[0] == '/' || strspn(host, "0123456789.")
                        == strlen(host) || strchr(host, ':')))) {
            rv = secs;
        }
    }
    PQconninfoFree(opts);
    return rv;
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Without the GIL: drive the attempt to its end.  Returns the polling
 * status; *status gets the PQstatus before the failing step. */
static PostgresPollingStatusType
attempt_loop(PGconn *pgconn, int timeout, int *status, int *timed_out)
{
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    double deadline = timeout > 0 ? now_seconds() + timeout : 0;
    struct pollfd pfd;
    int ms, rv;

    for (;;) {
        if (st == PGRES_POLLING_OK || st == PGRES_POLLING_FAILED) {
            return st;
        }
        *status = PQstatus(pgconn);
        pfd.fd = PQsocket(pgconn);
        pfd.events = (st == PGRES_POLLING_READING) ? POLLIN : POLLOUT;
        pfd.revents = 0;
        ms = -1;
        if (deadline > 0) {
            ms = (int)((deadline - now_seconds()) * 1000.0);
            if (ms < 0) { ms = 0; }
        }
        rv = (pfd.fd < 0) ? 1 : poll(&pfd, 1, ms);
        if (rv < 0 && errno == EINTR) { continue; }
        if (rv == 0) {
            *timed_out = 1;
            return PGRES_POLLING_FAILED;
        }
        st = PQconnectPoll(pgconn);
    }
}

/* A blocking connection attempt of the load balancer (see above). */
int
conn_connect_attempt(connectionObject *self, const char *dsn)
{
    PGconn *pgconn;
    PostgresPollingStatusType st = PGRES_POLLING_FAILED;
    int status = CONNECTION_NEEDED, timed_out = 0, timeout = -1;

    Py_BEGIN_ALLOW_THREADS;
    pgconn = PQconnectStart(dsn);
    if (pgconn && PQstatus(pgconn) != CONNECTION_BAD) {
        PQsetErrorVerbosity(pgconn, PQERRORS_VERBOSE);
        timeout = attempt_timeout(pgconn);
        if (timeout < 0) {
            /* not for this loop: libpq's own, default messages */
            PQfinish(pgconn);
            pgconn = PQconnectdb(dsn);
            st = (pgconn && PQstatus(pgconn) == CONNECTION_OK)
                ? PGRES_POLLING_OK : PGRES_POLLING_FAILED;
            status = (timeout == -2) ? ATTEMPT_OPTION_ERROR
                                     : ATTEMPT_NO_FACTS;
        }
        else {
            st = attempt_loop(pgconn, timeout, &status, &timed_out);
        }
    }
    Py_END_ALLOW_THREADS;

    if (!pgconn) {
        PyErr_SetString(OperationalError, "PQconnectStart() failed");
        return -1;
    }
    if (st != PGRES_POLLING_OK) {
        conn_raise_attempt_error(pgconn, status, timed_out);
        Py_BEGIN_ALLOW_THREADS;
        PQfinish(pgconn);
        Py_END_ALLOW_THREADS;
        return -1;
    }
    PQsetErrorVerbosity(pgconn, PQERRORS_DEFAULT);
    self->pgconn = pgconn;
    self->closed = CONN_OPEN;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Async failover                                                     */

/* Replace the failed attempt by one to `dsn`: 0, or -1 with an
 * exception (the new attempt failed at once). */
static int
restart_attempt(connectionObject *self, const char *dsn)
{
    PGconn *old, *pgconn;
    char *copy;
    PyObject *masked;

    if (!(masked = conn_obscure_dsn(dsn))) { return -1; }
    if (!(copy = strdup(dsn))) {
        Py_DECREF(masked);
        PyErr_NoMemory();
        return -1;
    }
    CONN_LOCK_BEGIN(self);
    old = self->pgconn;
    self->pgconn = NULL;
    if (old) { PQfinish(old); }
    pgconn = PQconnectStart(dsn);
    if (pgconn && PQstatus(pgconn) != CONNECTION_BAD
            && PQsetnonblocking(pgconn, 1) == 0) {
        PQsetErrorVerbosity(pgconn, PQERRORS_VERBOSE);
        self->pgconn = pgconn;
    }
    CONN_LOCK_END(self);

    free(self->dsn);
    self->dsn = copy;
    Py_XSETREF(self->dsn_masked, masked);
    self->lb_status = CONNECTION_NEEDED;
    if (!self->pgconn) {
        conn_raise_attempt_error(pgconn, CONNECTION_NEEDED, 0);
        if (pgconn) { PQfinish(pgconn); }
        return -1;
    }
    return 0;
}

/* Ask the failover callable for the next DSN and restart there, until
 * one attempt starts or the callable gives up.  With the attempt's
 * exception set: PSYCO_POLL_WRITE (exception cleared) or -1. */
static int
failover_step(connectionObject *self)
{
    PyObject *type, *value, *tb, *next;
    const char *dsn;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    next = PyObject_CallFunctionObjArgs(self->lb_failover,
                                        value ? value : Py_None, NULL);
    if (!next) {        /* the callable's error replaces the attempt's */
        Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
        return -1;
    }
    if (next == Py_None) {
        Py_DECREF(next);
        PyErr_Restore(type, value, tb);
        return -1;
    }
    Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
    if (!(dsn = PyUnicode_Check(next) ? PyUnicode_AsUTF8(next) : NULL)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError,
                            "_lb_failover must return a str or None");
        }
        Py_DECREF(next);
        return -1;
    }
    if (restart_attempt(self, dsn) < 0) {
        Py_DECREF(next);
        return 0;       /* failed at once: ask again */
    }
    Py_DECREF(next);
    return PSYCO_POLL_WRITE;
}

int
conn_attempt_failover(connectionObject *self)
{
    int rv;

    if (!self->lb_failover) { return -1; }
    while ((rv = failover_step(self)) == 0) {}
    if (rv < 0) {
        /* the attempt is over: a later poll() reports, never restarts */
        Py_CLEAR(self->lb_failover);
    }
    return rv;
}

void
conn_attempt_succeeded(connectionObject *self)
{
    PyObject *cb, *res, *type, *value, *tb;

    if (!(cb = self->lb_failover)) { return; }
    self->lb_failover = NULL;       /* owned by cb now */
    PyErr_Fetch(&type, &value, &tb);
    if ((res = PyObject_CallFunctionObjArgs(cb, Py_None, NULL))) {
        Py_DECREF(res);
    }
    else {
        PyErr_WriteUnraisable(cb);
    }
    PyErr_Restore(type, value, tb);
    Py_DECREF(cb);
}
