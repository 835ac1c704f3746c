/* replication_cursor.c - the ReplicationCursor type: starts a replication
 * stream (start_replication_expert), reads it (consume_stream for
 * blocking connections, read_message for asynchronous ones) and reports
 * the client's positions to the server (send_feedback).
 *
 * The slot commands and start_replication() that builds the command are
 * Python, in psycopg2.extras.ReplicationCursor.
 */

#include "replication_int.h"

#include <time.h>

/* ------------------------------------------------------------------ */
/* Clocks                                                             */

int64_t
repl_now_us(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) { return 0; }
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double
repl_monotonic(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) { return 0.0; }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* Argument helpers                                                   */

/* The replication command as bytes in the client encoding: str, bytes or
 * a psycopg2.sql.Composable.  New reference or NULL. */
static PyObject *
command_to_bytes(replicationCursorObject *self, PyObject *command)
{
    PyObject *sql = NULL, *composable = NULL, *str = NULL, *rv = NULL;
    int is_composable;

    if (PyBytes_Check(command)) {
        Py_INCREF(command);
        return command;
    }
    if (PyUnicode_Check(command)) {
        return conn_encode(self->cur.conn, command);
    }
    if (!(sql = PyImport_ImportModule("psycopg2.sql"))) { goto exit; }
    if (!(composable = PyObject_GetAttrString(sql, "Composable"))) {
        goto exit;
    }
    if ((is_composable = PyObject_IsInstance(command, composable)) < 0) {
        goto exit;
    }
    if (!is_composable) {
        PyErr_Format(PyExc_TypeError,
            "argument 1 must be a string or unicode object: got %s instead",
            Py_TYPE(command)->tp_name);
        goto exit;
    }
    if (!(str = PyObject_CallMethod(command, "as_string", "O", self))) {
        goto exit;
    }
    rv = command_to_bytes(self, str);
exit:
    Py_XDECREF(str);
    Py_XDECREF(composable);
    Py_XDECREF(sql);
    return rv;
}

/* An LSN argument: a non-negative int below 2**64.  0 ok, -1 error. */
static int
lsn_from_object(PyObject *obj, const char *name, XLogRecPtr *out)
{
    unsigned long long v;

    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %s",
                     name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    v = PyLong_AsUnsignedLongLong(obj);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError,
            "%s must be between 0 and 2**64 - 1", name);
        return -1;
    }
    *out = (XLogRecPtr)v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Starting                                                           */

/* The command started a COPY that is not replication: end it so that the
 * connection stays usable, then raise. */
static int
refuse_plain_copy(replicationCursorObject *self, PGresult *res)
{
    connectionObject *conn = self->cur.conn;
    ExecStatusType st = PQresultStatus(res);
    PGresult *r;
    char *buf = NULL;

    PQclear(res);
    CONN_LOCK_BEGIN(conn);
    if (conn->pgconn && st == PGRES_COPY_IN) {
        PQputCopyEnd(conn->pgconn,
                     "COPY is not supported by start_replication_expert");
    }
    else if (conn->pgconn) {
        while (PQgetCopyData(conn->pgconn, &buf, 0) > 0) {
            PQfreemem(buf);
            buf = NULL;
        }
    }
    while (conn->pgconn && (r = PQgetResult(conn->pgconn))) {
        PQclear(r);
    }
    CONN_LOCK_END(conn);

    PyErr_SetString(NotSupportedError,
        "start_replication_expert: the command started a COPY, not a "
        "replication stream");
    return -1;
}

int
repl_curs_start_done(replicationCursorObject *self, PGresult *res)
{
    switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
    case PGRES_COPY_BOTH:
        self->started = 1;
        self->last_io = repl_now_us();
        self->last_feedback_mono = 0.0;   /* report positions at once */
        /* as psycopg2: no description, rowcount -1, statusmessage '' */
        return curs_set_result(&self->cur, res);

    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
        return refuse_plain_copy(self, res);

    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
        /* not a streaming command (e.g. IDENTIFY_SYSTEM): a result */
        return curs_set_result(&self->cur, res);

    default:
        pq_raise(self->cur.conn, &self->cur, res);
        if (res) { PQclear(res); }
        return -1;
    }
}

static PyObject *
repl_curs_start_replication_expert(replicationCursorObject *self,
                                   PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"command", "decode", "status_interval", NULL};
    PyObject *command = NULL, *decode = Py_False, *query = NULL;
    PyObject *rv = NULL;
    connectionObject *conn = self->cur.conn;
    double status_interval = 10.0;
    int dec;
    PGresult *res;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|Od", kwlist,
            &command, &decode, &status_interval)) { goto exit; }
    if (curs_check_open(&self->cur) < 0) { goto exit; }
    if (status_interval < 1.0) {
        PyErr_SetString(ProgrammingError,
                        "status_interval must be >= 1 (sec)");
        goto exit;
    }
    if ((dec = PyObject_IsTrue(decode)) < 0) { goto exit; }
    if (!(query = command_to_bytes(self, command))) { goto exit; }
    if (memchr(PyBytes_AS_STRING(query), '\0', PyBytes_GET_SIZE(query))) {
        PyErr_SetString(PyExc_ValueError,
            "A string literal cannot contain NUL (0x00) characters.");
        goto exit;
    }
    self->decode = dec;
    self->status_interval = status_interval;
    self->started = 0;

    if (conn->async_) {
        if (!replicationConnection_Check(conn)) {
            PyErr_SetString(ProgrammingError,
                "asynchronous replication needs a ReplicationConnection");
            goto exit;
        }
        if (repl_conn_start_async((replicationConnectionObject *)conn,
                &self->cur, PyBytes_AS_STRING(query)) < 0) { goto exit; }
    }
    else {
        if (!(res = conn_exec(conn, PyBytes_AS_STRING(query)))) {
            goto exit;
        }
        if (repl_curs_start_done(self, res) < 0) { goto exit; }
    }
    Py_INCREF(Py_None);
    rv = Py_None;
exit:
    Py_XDECREF(query);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Reading                                                            */

static int
check_replicating(replicationCursorObject *self, const char *method)
{
    if (!self->started) {
        PyErr_Format(ProgrammingError,
            "%s: not replicating, call start_replication first", method);
        return -1;
    }
    return 0;
}

/* The loop of consume_stream: read, call consume(msg), wait for data,
 * send a status update every `interval` seconds without traffic.
 * 0 when the server ended the stream, -1 with an exception (including
 * the StopReplication raised by consume). */
static int
consume_loop(replicationCursorObject *self, PyObject *consume,
             double interval)
{
    PyObject *msg = NULL, *res;
    double idle;
    int n;

    for (;;) {
        if (curs_check_open(&self->cur) < 0) { return -1; }
        if ((n = repl_stream_read(self, &msg)) < 0) { return -1; }
        if (n == 1) {
            res = PyObject_CallFunctionObjArgs(consume, msg, NULL);
            Py_CLEAR(msg);
            if (!res) { return -1; }
            Py_DECREF(res);
            continue;
        }
        if (!self->started) { return 0; }

        idle = repl_monotonic() - self->last_feedback_mono;
        if (idle >= interval) {
            if (repl_stream_send_feedback(self, 0) < 0) { return -1; }
            continue;
        }
        if (repl_stream_wait(self, interval - idle) < 0) { return -1; }
    }
}

static PyObject *
repl_curs_consume_stream(replicationCursorObject *self, PyObject *args,
                         PyObject *kwargs)
{
    static char *kwlist[] = {"consume", "keepalive_interval", NULL};
    PyObject *consume = NULL, *pyinterval = Py_None;
    double interval;
    int rv;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O", kwlist,
            &consume, &pyinterval)) { return NULL; }
    if (curs_check_open(&self->cur) < 0) { return NULL; }
    if (self->cur.conn->async_) {
        PyErr_SetString(ProgrammingError,
            "consume_stream cannot be used in asynchronous mode");
        return NULL;
    }
    if (self->consuming) {
        PyErr_SetString(ProgrammingError,
            "consume_stream cannot be used when already in the consume "
            "loop");
        return NULL;
    }
    if (pyinterval == Py_None) {
        interval = self->status_interval;
    }
    else {
        interval = PyFloat_AsDouble(pyinterval);
        if (interval == -1.0 && PyErr_Occurred()) { return NULL; }
        if (interval < 1.0) {
            PyErr_SetString(ProgrammingError,
                            "keepalive_interval must be >= 1 (sec)");
            return NULL;
        }
    }
    if (check_replicating(self, "consume_stream") < 0) { return NULL; }
    if (!PyCallable_Check(consume)) {
        PyErr_Format(PyExc_TypeError,
            "consume must be callable, not %s", Py_TYPE(consume)->tp_name);
        return NULL;
    }

    self->consuming = 1;
    rv = consume_loop(self, consume, interval);
    self->consuming = 0;
    if (rv < 0) { return NULL; }
    Py_RETURN_NONE;
}

static PyObject *
repl_curs_read_message(replicationCursorObject *self, PyObject *dummy)
{
    PyObject *msg = NULL;
    int n;

    if (curs_check_open(&self->cur) < 0) { return NULL; }
    if (check_replicating(self, "read_message") < 0) { return NULL; }
    if ((n = repl_stream_read(self, &msg)) < 0) { return NULL; }
    if (n == 0) { Py_RETURN_NONE; }
    return msg;
}

/* ------------------------------------------------------------------ */
/* Feedback                                                           */

static PyObject *
repl_curs_send_feedback(replicationCursorObject *self, PyObject *args,
                        PyObject *kwargs)
{
    static char *kwlist[] = {"write_lsn", "flush_lsn", "apply_lsn",
                             "reply", "force", NULL};
    PyObject *pywrite = NULL, *pyflush = NULL, *pyapply = NULL;
    PyObject *pyreply = Py_False, *pyforce = Py_False;
    XLogRecPtr write_lsn = 0, flush_lsn = 0, apply_lsn = 0;
    int reply, force;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOOO", kwlist,
            &pywrite, &pyflush, &pyapply, &pyreply, &pyforce)) {
        return NULL;
    }
    if (pywrite && lsn_from_object(pywrite, "write_lsn", &write_lsn) < 0) {
        return NULL;
    }
    if (pyflush && lsn_from_object(pyflush, "flush_lsn", &flush_lsn) < 0) {
        return NULL;
    }
    if (pyapply && lsn_from_object(pyapply, "apply_lsn", &apply_lsn) < 0) {
        return NULL;
    }
    if ((reply = PyObject_IsTrue(pyreply)) < 0) { return NULL; }
    if ((force = PyObject_IsTrue(pyforce)) < 0) { return NULL; }
    if (curs_check_open(&self->cur) < 0) { return NULL; }

    /* positions only move forward: a stale confirmation changes nothing */
    if (write_lsn > self->write_lsn) { self->write_lsn = write_lsn; }
    if (flush_lsn > self->flush_lsn) { self->flush_lsn = flush_lsn; }
    if (flush_lsn > self->explicitly_flushed_lsn) {
        self->explicitly_flushed_lsn = flush_lsn;
    }
    if (apply_lsn > self->apply_lsn) { self->apply_lsn = apply_lsn; }

    /* otherwise the next read sends them when status_interval is due */
    if ((reply || force) && self->started) {
        if (repl_stream_send_feedback(self, reply) < 0) { return NULL; }
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* Attributes and type                                                */

static PyObject *
repl_curs_get_io_timestamp(replicationCursorObject *self, void *closure)
{
    return repl_datetime_from_us(self->last_io);
}

static PyObject *
repl_curs_get_feedback_timestamp(replicationCursorObject *self,
                                 void *closure)
{
    return repl_datetime_from_us(self->last_feedback);
}

static PyObject *
repl_curs_repr(replicationCursorObject *self)
{
    return PyUnicode_FromFormat("<ReplicationCursor object at %p; "
                                "closed: %d>", self, self->cur.closed);
}

#define KWMETH(f) (PyCFunction)(void (*)(void))(f), \
    METH_VARARGS | METH_KEYWORDS

static struct PyMethodDef repl_curs_methods[] = {
    {"start_replication_expert",
     KWMETH(repl_curs_start_replication_expert),
     "start_replication_expert(command, decode=False, status_interval=10)"
     " -- Start replication with a given START_REPLICATION command."},
    {"consume_stream", KWMETH(repl_curs_consume_stream),
     "consume_stream(consume, keepalive_interval=None) -- Consume the "
     "replication stream, calling consume(msg) for every message."},
    {"read_message", (PyCFunction)repl_curs_read_message, METH_NOARGS,
     "read_message() -- Read a replication message from the server "
     "without blocking: a ReplicationMessage or None."},
    {"send_feedback", KWMETH(repl_curs_send_feedback),
     "send_feedback(write_lsn=0, flush_lsn=0, apply_lsn=0, reply=False, "
     "force=False) -- Update the positions reported to the server; send "
     "them now if reply or force."},
    {NULL}
};

static struct PyMemberDef repl_curs_members[] = {
    {"wal_end", T_ULONGLONG, offsetof(replicationCursorObject, wal_end),
     READONLY, "LSN of the end of WAL on the server, as of the last "
     "message received."},
    {NULL}
};

static struct PyGetSetDef repl_curs_getsets[] = {
    {"io_timestamp", (getter)repl_curs_get_io_timestamp, NULL,
     "io_timestamp -- when the last message was exchanged with the "
     "server.", NULL},
    {"feedback_timestamp", (getter)repl_curs_get_feedback_timestamp, NULL,
     "feedback_timestamp -- when the last status update was sent to the "
     "server.", NULL},
    {NULL}
};

PyTypeObject replicationCursorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.ReplicationCursor",
    .tp_basicsize = sizeof(replicationCursorObject),
    .tp_repr = (reprfunc)repl_curs_repr,
    .tp_str = (reprfunc)repl_curs_repr,
    /* no Python fields of its own: GC support is inherited */
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A cursor for the replication protocol.",
    .tp_methods = repl_curs_methods,
    .tp_members = repl_curs_members,
    .tp_getset = repl_curs_getsets,
    .tp_base = &cursorType,
};

int
repl_cursor_setup(PyObject *module)
{
    if (PyType_Ready(&replicationCursorType) < 0) { return -1; }
    Py_INCREF(&replicationCursorType);
    if (PyModule_AddObject(module, "ReplicationCursor",
                           (PyObject *)&replicationCursorType) < 0) {
        Py_DECREF(&replicationCursorType);
        return -1;
    }
    return 0;
}
