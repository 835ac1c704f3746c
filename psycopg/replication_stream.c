/* replication_stream.c - the COPY BOTH sub-protocol of streaming
 * replication (PostgreSQL "Streaming Replication Protocol"):
 *
 *   server -> client  'w' XLogData: Int64 data start, Int64 WAL end,
 *                         Int64 send time, Byte[n] data
 *                     'k' primary keepalive: Int64 WAL end,
 *                         Int64 send time, Byte1 reply requested
 *   client -> server  'r' standby status update: Int64 written,
 *                         Int64 flushed, Int64 applied, Int64 client
 *                         time, Byte1 reply requested
 *
 * Integers are big-endian, times are microseconds since 2000-01-01.
 * The libpq calls that do I/O run with the GIL released and the connection
 * lock held.
 */

#include "replication_int.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#define XLOGDATA_HEADER     25  /* 'w' + 3 x Int64 */
#define KEEPALIVE_SIZE      18  /* 'k' + 2 x Int64 + Byte1 */
#define STATUS_UPDATE_SIZE  34  /* 'r' + 4 x Int64 + Byte1 */

/* What fetch_copy_data() found. */
#define FETCH_ERROR     (-2)    /* libpq failure: PQerrorMessage */
#define FETCH_END       (-1)    /* the server ended the COPY */
#define FETCH_NONE      0       /* nothing complete yet */

static uint64_t
get_be64(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++) { v = (v << 8) | u[i]; }
    return v;
}

static void
put_be64(char *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        p[i] = (char)(v & 0xFF);
        v >>= 8;
    }
}

/* ------------------------------------------------------------------ */
/* Status updates                                                     */

int
repl_stream_send_feedback(replicationCursorObject *self, int reply)
{
    connectionObject *conn = self->cur.conn;
    char buf[STATUS_UPDATE_SIZE];
    int64_t now = repl_now_us();
    int sent = -1, flushed = -1, closed = 0;

    if (conn_check_open(conn) < 0) { return -1; }
    buf[0] = 'r';
    put_be64(buf + 1, self->write_lsn);
    put_be64(buf + 9, self->flush_lsn);
    put_be64(buf + 17, self->apply_lsn);
    put_be64(buf + 25, (uint64_t)(now - REPL_PG_EPOCH_OFFSET_US));
    buf[33] = reply ? 1 : 0;

    CONN_LOCK_BEGIN(conn);
    if (conn->pgconn) {
        sent = PQputCopyData(conn->pgconn, buf, STATUS_UPDATE_SIZE);
        /* PQflush returns 1 on a non-blocking connection whose socket is
         * full: fetch_copy_data() flushes the rest later */
        if (sent == 1) { flushed = PQflush(conn->pgconn); }
    }
    else {
        closed = 1;
    }
    CONN_LOCK_END(conn);

    if (closed) {
        PyErr_SetString(InterfaceError, "connection already closed");
        return -1;
    }
    if (sent < 0 || flushed < 0) {
        pq_raise(conn, &self->cur, NULL);
        return -1;
    }
    if (sent == 0) {
        return 0;   /* non-blocking buffer full: retried at the next read */
    }
    self->last_feedback = self->last_io = now;
    self->last_feedback_mono = repl_monotonic();
    return 0;
}

/* Send the periodic status update if status_interval passed. */
static int
feedback_if_due(replicationCursorObject *self)
{
    if (repl_monotonic() - self->last_feedback_mono
            < self->status_interval) {
        return 0;
    }
    return repl_stream_send_feedback(self, 0);
}

/* ------------------------------------------------------------------ */
/* Reading                                                            */

/* Take the next complete CopyData without blocking: its length, with
 * *buf to PQfreemem, or a FETCH_* code. */
static int
fetch_copy_data(connectionObject *conn, char **buf)
{
    int n = FETCH_ERROR;

    *buf = NULL;
    CONN_LOCK_BEGIN(conn);
    if (conn->pgconn) {
        n = PQgetCopyData(conn->pgconn, buf, 1);
        if (n == 0) {
            /* nothing buffered: send what a non-blocking connection may
             * still hold (a status update), read what the socket has,
             * then retry */
            if (PQflush(conn->pgconn) >= 0 && PQconsumeInput(conn->pgconn)) {
                n = PQgetCopyData(conn->pgconn, buf, 1);
            }
            else {
                n = FETCH_ERROR;
            }
        }
    }
    CONN_LOCK_END(conn);
    return n;
}

/* After the server ended the COPY: finish our side of it and collect the
 * command's results.  Returns the first error result, else the last result
 * with rows (the next timeline, at the end of a physical timeline), else
 * the last result; maybe NULL. */
static PGresult *
collect_end_results(connectionObject *conn)
{
    PGresult *res, *keep = NULL;

    CONN_LOCK_BEGIN(conn);
    while (conn->pgconn && (res = PQgetResult(conn->pgconn))) {
        if (PQresultStatus(res) == PGRES_COPY_IN) {
            /* in COPY BOTH the server ended its half: end ours */
            PQclear(res);
            if (PQputCopyEnd(conn->pgconn, NULL) < 0
                    || PQflush(conn->pgconn) < 0) { break; }
            continue;
        }
        if (PQresultStatus(res) == PGRES_COPY_OUT
                || PQresultStatus(res) == PGRES_COPY_BOTH) {
            PQclear(res);   /* cannot happen after CopyDone: stop */
            break;
        }
        if (keep && (PQresultStatus(keep) == PGRES_FATAL_ERROR
                || (PQresultStatus(keep) == PGRES_TUPLES_OK
                    && PQresultStatus(res) == PGRES_COMMAND_OK))) {
            PQclear(res);
        }
        else {
            if (keep) { PQclear(keep); }
            keep = res;
        }
    }
    CONN_LOCK_END(conn);
    return keep;
}

/* The stream is over: raise its error, or store the final result on the
 * cursor and stop.  0 ok (self->started is 0), -1 error. */
static int
stream_ended(replicationCursorObject *self)
{
    connectionObject *conn = self->cur.conn;
    PGresult *res;
    ExecStatusType st;

    self->started = 0;
    res = collect_end_results(conn);
    conn_process_notices(conn);
    st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        return curs_set_result(&self->cur, res);
    }
    pq_raise(conn, &self->cur, res);
    if (res) { PQclear(res); }
    return -1;
}

/* Primary keepalive: remember the server's WAL end and reply if asked. */
static int
handle_keepalive(replicationCursorObject *self, const char *buf, int len)
{
    XLogRecPtr wal_end;

    if (len < KEEPALIVE_SIZE) {
        PyErr_SetString(OperationalError,
            "malformed keepalive message from the server");
        return -1;
    }
    wal_end = get_be64(buf + 1);
    self->wal_end = wal_end;
    /* As pg_recvlogical does: when the user confirmed everything we
     * received, the server has nothing pending for us up to its WAL end,
     * so the slot can move there (else it would hold WAL for nothing). */
    if (self->explicitly_flushed_lsn >= self->last_msg_data_start
            && wal_end > self->flush_lsn) {
        if (wal_end > self->write_lsn) { self->write_lsn = wal_end; }
        self->flush_lsn = wal_end;
    }
    if (buf[KEEPALIVE_SIZE - 1]) {
        return repl_stream_send_feedback(self, 0);
    }
    return 0;
}

/* XLogData: build the ReplicationMessage.  New reference or NULL. */
static PyObject *
handle_xlogdata(replicationCursorObject *self, const char *buf, int len)
{
    const char *data = buf + XLOGDATA_HEADER;
    int size = len - XLOGDATA_HEADER;
    XLogRecPtr data_start, wal_end;
    PyObject *payload;

    if (len < XLOGDATA_HEADER) {
        PyErr_SetString(OperationalError,
            "malformed XLogData message from the server");
        return NULL;
    }
    data_start = get_be64(buf + 1);
    wal_end = get_be64(buf + 9);
    if (self->decode) {
        payload = conn_decode(self->cur.conn, data, size);
    }
    else {
        payload = PyBytes_FromStringAndSize(data, size);
    }
    if (!payload) { return NULL; }

    self->wal_end = wal_end;
    self->last_msg_data_start = data_start;
    return repl_msg_new(&self->cur, payload, size, data_start, wal_end,
                        (int64_t)get_be64(buf + 17));
}

/* Handle one CopyData: 1 and *msg set for XLogData, 0 for a keepalive,
 * -1 on error. */
static int
handle_copy_data(replicationCursorObject *self, const char *buf, int len,
                 PyObject **msg)
{
    self->last_io = repl_now_us();
    switch (buf[0]) {
    case 'w':
        *msg = handle_xlogdata(self, buf, len);
        return *msg ? 1 : -1;
    case 'k':
        return handle_keepalive(self, buf, len);
    default:
        PyErr_Format(OperationalError,
            "unrecognized replication message type: '%c' (0x%02x)",
            buf[0] >= 32 && buf[0] < 127 ? buf[0] : '?',
            (unsigned int)(unsigned char)buf[0]);
        return -1;
    }
}

int
repl_stream_read(replicationCursorObject *self, PyObject **msg)
{
    connectionObject *conn = self->cur.conn;
    char *buf = NULL;
    int n, rv = -1;

    *msg = NULL;
    if (conn_check_open(conn) < 0) { goto exit; }
    if (feedback_if_due(self) < 0) { goto exit; }
    for (;;) {
        n = fetch_copy_data(conn, &buf);
        if (n == FETCH_NONE) { rv = 0; break; }
        if (n == FETCH_END) {
            rv = stream_ended(self);
            break;
        }
        if (n < 0) {
            pq_raise(conn, &self->cur, NULL);
            break;
        }
        rv = handle_copy_data(self, buf, n, msg);
        PQfreemem(buf);
        buf = NULL;
        if (rv != 0) { break; }     /* a message, or an error */
        /* a keepalive: look for more */
    }
    conn_process_notices(conn);

exit:
    if (buf) { PQfreemem(buf); }
    return rv;
}

/* ------------------------------------------------------------------ */
/* Waiting                                                            */

int
repl_stream_wait(replicationCursorObject *self, double timeout)
{
    connectionObject *conn = self->cur.conn;
    struct pollfd pfd;
    int rv, err = 0, ms;

    if (conn_check_open(conn) < 0) { return -1; }
    if (timeout < 0) { timeout = 0; }
    /* round up: waking up early would just loop */
    ms = timeout > 3600.0 ? 3600000 : (int)(timeout * 1000.0 + 0.999);
    pfd.fd = PQsocket(conn->pgconn);
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (pfd.fd < 0) {
        PyErr_SetString(OperationalError, "the connection has no socket");
        return -1;
    }

    Py_BEGIN_ALLOW_THREADS;
    rv = poll(&pfd, 1, ms);
    if (rv < 0) { err = errno; }
    Py_END_ALLOW_THREADS;

    if (rv < 0 && err != EINTR) {
        PyErr_Format(OperationalError,
            "waiting for the replication stream failed: %s", strerror(err));
        return -1;
    }
    /* a signal (e.g. Ctrl-C) interrupts the wait: run its handler */
    return PyErr_CheckSignals();
}
