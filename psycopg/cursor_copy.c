/* cursor_copy.c - COPY FROM STDIN / TO STDOUT with Python file objects:
 * copy_from(), copy_to(), copy_expert().
 *
 * The COPY statement goes through curs_run_query() with cursor->copyfile
 * set; when its result says the COPY started, copy_run() moves the data
 * between the file and libpq.  The file is only touched with the GIL, the
 * libpq calls are made with the GIL released and the connection locked.
 */

#include "cursor_int.h"

/* Read/written per libpq call when moving data out. */
#define COPY_OUT_BATCH (64 * 1024)

/* Block read from the file by copy_from()/copy_expert() when no size is
 * given (psycopg2 reads 8192).  Measured: 64 KiB blocks cost about 20%
 * less CPU than 8 KiB ones (fewer calls and sends); much larger blocks
 * cost more, since libpq moves what a partial send() leaves over. */
#define COPY_IN_DEFAULT_SIZE (64 * 1024)

/* "size" argument not given: a value nobody passes on purpose */
#define COPY_SIZE_UNSET PY_SSIZE_T_MIN

/* Largest piece of data given to PQputCopyData at once. */
#define COPY_IN_MAX_PIECE (1 << 30)

/* io.TextIOBase: files of this class get str, the others bytes */
static PyObject *text_io_base;

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

/* Drain the results after the end of a COPY: the last one (the COPY's
 * outcome) or NULL.  Called with the lock held and the GIL released. */
static PGresult *
copy_collect_result(PGconn *pg)
{
    PGresult *res, *last = NULL;

    while ((res = PQgetResult(pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (last != NULL) {
            PQclear(last);
        }
        last = res;
        /* still in COPY state: ending it failed, don't loop forever */
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT
                || st == PGRES_COPY_BOTH) {
            break;
        }
    }
    return last;
}

/* Message for PQputCopyEnd describing the pending Python exception, e.g.
 * "error in .read() call: ZeroDivisionError division by zero".  The
 * exception stays set.  Malloc'ed string (NULL if out of memory). */
static char *
exception_message(const char *what)
{
    PyObject *etype, *evalue, *etb, *s = NULL;
    const char *name = "Exception", *msg = "";
    char *rv;
    size_t size;

    PyErr_Fetch(&etype, &evalue, &etb);
    PyErr_NormalizeException(&etype, &evalue, &etb);
    if (etype != NULL) {
        name = ((PyTypeObject *)etype)->tp_name;
    }
    if (evalue != NULL && (s = PyObject_Str(evalue)) != NULL) {
        msg = PyUnicode_AsUTF8(s);
        if (msg == NULL) {
            PyErr_Clear();
            msg = "";
        }
    }
    else {
        PyErr_Clear();
    }
    size = strlen(what) + strlen(name) + strlen(msg) + 4;
    if ((rv = malloc(size)) != NULL) {
        snprintf(rv, size, "%s: %s%s%s", what, name, *msg ? " " : "", msg);
    }
    Py_XDECREF(s);
    PyErr_Restore(etype, evalue, etb);
    return rv;
}

/* libpq failed during the COPY: its error, or "connection already
 * closed" if the file's code closed the connection meanwhile. */
static void
raise_copy_failure(cursorObject *self)
{
    if (self->conn->pgconn == NULL) {
        PyErr_SetString(InterfaceError, "connection already closed");
        return;
    }
    conn_check_broken(self->conn);
    pq_raise(self->conn, self, NULL);
}

/* After a failed COPY FROM caused by the file: raise the server's error
 * (as psycopg2 does) with the file's exception as its cause. */
static void
raise_with_cause(cursorObject *self, PGresult *res, PyObject *cause)
{
    PyObject *etype, *evalue, *etb;

    pq_raise(self->conn, self, res);
    PyErr_Fetch(&etype, &evalue, &etb);
    PyErr_NormalizeException(&etype, &evalue, &etb);
    if (evalue != NULL && cause != NULL) {
        PyException_SetCause(evalue, cause);    /* steals cause */
        cause = NULL;
    }
    Py_XDECREF(cause);
    PyErr_Restore(etype, evalue, etb);
}

/* ------------------------------------------------------------------ */
/* COPY FROM STDIN                                                    */

/* The file's read method, bound once, with its argument: calling it is
 * most of the per-block work of copy_from(). */
typedef struct {
    PyObject *read;             /* file.read */
    PyObject *size;             /* int: the block size asked for */
} copyReader;

/* The next block of data from the file, in the client encoding: *buf and
 * *len point into the returned object, which owns them.  A str on a UTF8
 * connection is used as it is (no copy for ASCII text), anything else is
 * converted to bytes.  New reference, or NULL with an exception set. */
static PyObject *
copy_in_read(cursorObject *self, copyReader *r, const char **buf,
             Py_ssize_t *len)
{
    PyObject *data, *rv = NULL;

    if (!(data = PyObject_CallOneArg(r->read, r->size))) {
        return NULL;
    }
    if (PyUnicode_Check(data) && self->conn->is_utf8) {
        if ((*buf = PyUnicode_AsUTF8AndSize(data, len)) != NULL) {
            rv = data;
            data = NULL;
        }
        goto exit;
    }
    if (PyUnicode_Check(data)) {
        rv = conn_encode(self->conn, data);
    }
    else if (PyBytes_Check(data)) {
        Py_INCREF(data);
        rv = data;
    }
    else if (PyObject_CheckBuffer(data)) {
        rv = PyBytes_FromObject(data);
    }
    else {
        PyErr_Format(PyExc_TypeError,
            "read() returned %s: str or bytes expected",
            Py_TYPE(data)->tp_name);
    }
    if (rv != NULL) {
        *buf = PyBytes_AS_STRING(rv);
        *len = PyBytes_GET_SIZE(rv);
    }

exit:
    Py_XDECREF(data);
    return rv;
}

/* Send a block of data to libpq, in pieces that fit its int sizes.
 * 1 ok, 0 on a libpq failure. */
static int
copy_in_send(connectionObject *conn, const char *buf, Py_ssize_t left)
{
    int ok = 1;

    CONN_LOCK_BEGIN(conn);
    while (ok && left > 0) {
        int n = left > COPY_IN_MAX_PIECE ? COPY_IN_MAX_PIECE : (int)left;
        ok = PQputCopyData(conn->pgconn, buf, n) == 1;
        buf += n;
        left -= n;
    }
    CONN_LOCK_END(conn);
    return ok;
}

/* Take the pending exception as a normalized value (with its traceback),
 * to be raised again or chained later.  New reference. */
static PyObject *
fetch_exception_value(void)
{
    PyObject *etype, *evalue, *etb;

    PyErr_Fetch(&etype, &evalue, &etb);
    PyErr_NormalizeException(&etype, &evalue, &etb);
    if (evalue != NULL && etb != NULL) {
        PyException_SetTraceback(evalue, etb);
    }
    Py_XDECREF(etype);
    Py_XDECREF(etb);
    return evalue;
}

/* Send the file's content.  On a file error *errmsg describes it (for
 * PQputCopyEnd) and *cause gets the exception; *noread is set when the
 * file has no read() at all.  1 ok, 0 libpq failure. */
static int
copy_in_data(cursorObject *self, char **errmsg, PyObject **cause,
             int *noread)
{
    copyReader r = {NULL, NULL};
    PyObject *data;
    const char *buf;
    Py_ssize_t len;
    int ok = 1;

    if (self->copyfile == NULL) {
        /* cleared by another thread using this cursor */
        PyErr_SetString(ProgrammingError, "the COPY file is gone");
        *noread = 1;
    }
    else if (!(r.read = PyObject_GetAttrString(self->copyfile, "read"))) {
        *noread = 1;
    }
    r.size = r.read ? PyLong_FromSsize_t(self->copysize) : NULL;
    for (;;) {
        if (!r.size || !(data = copy_in_read(self, &r, &buf, &len))) {
            *errmsg = exception_message("error in .read() call");
            *cause = fetch_exception_value();
            break;
        }
        if (len == 0) {         /* end of file */
            Py_DECREF(data);
            break;
        }
        /* data keeps buf alive (and unchanged) while the GIL is released */
        ok = copy_in_send(self->conn, buf, len);
        Py_DECREF(data);
        if (!ok) {
            break;
        }
    }
    Py_XDECREF(r.read);
    Py_XDECREF(r.size);
    return ok;
}

/* End the COPY (aborting it with errmsg if not NULL) and get its final
 * result; *ok becomes 0 on a libpq failure. */
static PGresult *
copy_in_end(connectionObject *conn, const char *errmsg, int *ok)
{
    PGresult *res;

    CONN_LOCK_BEGIN(conn);
    if (PQputCopyEnd(conn->pgconn, errmsg) != 1) {
        *ok = 0;
    }
    res = copy_collect_result(conn->pgconn);
    CONN_LOCK_END(conn);
    conn_process_notices(conn);
    return res;
}

/* Send the file's content, then end the COPY: aborted when the file
 * failed, so that the server drops what it got.  Returns the final result,
 * or NULL with an exception set: for a file error the server's error,
 * caused by the file's exception, as psycopg2 reports it; for a file
 * without read() (copy_expert) the AttributeError, as psycopg2 does. */
static PGresult *
copy_in(cursorObject *self)
{
    PyObject *cause = NULL;
    PGresult *res = NULL, *rv = NULL;
    char *errmsg = NULL;
    int ok, noread = 0;

    ok = copy_in_data(self, &errmsg, &cause, &noread);
    res = copy_in_end(self->conn, cause == NULL ? NULL
                      : (errmsg ? errmsg : "error in .read() call"), &ok);
    if (res == NULL || !ok) {
        raise_copy_failure(self);
    }
    else if (cause != NULL
            && (noread || PQresultStatus(res) == PGRES_COMMAND_OK)) {
        /* (COMMAND_OK is unlikely: the server ignored the failure) */
        PyErr_SetObject((PyObject *)Py_TYPE(cause), cause);
    }
    else if (cause != NULL) {
        raise_with_cause(self, res, cause);     /* steals cause */
        cause = NULL;
    }
    else {
        rv = res;
        res = NULL;
    }
    if (res != NULL) {
        PQclear(res);
    }
    free(errmsg);
    Py_XDECREF(cause);
    return rv;
}

/* ------------------------------------------------------------------ */
/* COPY TO STDOUT                                                     */

typedef struct {
    char *data;
    size_t len;
    size_t size;
    int done;       /* end of the COPY data */
    int failed;     /* libpq error, or out of memory */
    int nomem;      /* out of memory */
} copyBatch;

static int
batch_append(copyBatch *b, const char *s, size_t n)
{
    if (b->len + n > b->size) {
        size_t size = b->size ? b->size : COPY_OUT_BATCH;
        char *p;
        while (size < b->len + n) {
            size *= 2;
        }
        if (!(p = realloc(b->data, size))) {
            return -1;
        }
        b->data = p;
        b->size = size;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

/* Get one row waiting if needed, then the rows already buffered, up to the
 * batch size.  Lock held, GIL released. */
static void
batch_fill(PGconn *pg, copyBatch *b)
{
    int async = 0, n;
    char *buf;

    while (b->len < COPY_OUT_BATCH) {
        n = PQgetCopyData(pg, &buf, async);
        if (n > 0) {
            int err = batch_append(b, buf, (size_t)n);
            PQfreemem(buf);
            if (err < 0) {
                b->failed = b->nomem = 1;
                return;
            }
            async = 1;      /* more rows only if already received */
            continue;
        }
        if (n == -1) {
            b->done = 1;
        }
        else if (n == -2) {
            b->failed = 1;
        }
        return;             /* n == 0: nothing more buffered */
    }
}

/* Write a batch to the file, as str for text files.  0 ok, -1 error. */
static int
copy_out_write(cursorObject *self, PyObject *file, copyBatch *b, int text)
{
    PyObject *obj, *rv;

    if (text) {
        obj = conn_decode(self->conn, b->data, (Py_ssize_t)b->len);
    }
    else {
        obj = PyBytes_FromStringAndSize(b->data, (Py_ssize_t)b->len);
    }
    if (obj == NULL) {
        return -1;
    }
    rv = PyObject_CallMethod(file, "write", "O", obj);
    Py_DECREF(obj);
    if (rv == NULL) {
        return -1;
    }
    Py_DECREF(rv);
    return 0;
}

/* Move the COPY data to the file.  After a file error the rest of the
 * data is read and dropped, so that the connection is usable again, then
 * the file's exception is raised.  Returns the final result or NULL. */
static PGresult *
copy_out(cursorObject *self)
{
    connectionObject *conn = self->conn;
    copyBatch b = {NULL, 0, 0, 0, 0, 0};
    PyObject *error = NULL;
    PGresult *res = NULL, *rv = NULL;
    PyObject *file;
    int text = 0;

    /* our own reference: write() is Python code (and releases the GIL):
     * another thread using this cursor may replace self->copyfile */
    file = self->copyfile;
    Py_XINCREF(file);
    if (file == NULL) {
        PyErr_SetString(ProgrammingError, "the COPY file is gone");
        error = fetch_exception_value();
    }
    else if ((text = PyObject_IsInstance(file, text_io_base)) < 0) {
        error = fetch_exception_value();
    }
    while (!b.done && !b.failed) {
        b.len = 0;
        CONN_LOCK_BEGIN(conn);
        batch_fill(conn->pgconn, &b);
        CONN_LOCK_END(conn);
        if (b.len > 0 && error == NULL
                && copy_out_write(self, file, &b, text) < 0) {
            error = fetch_exception_value();
        }
    }
    free(b.data);
    Py_XDECREF(file);
    CONN_LOCK_BEGIN(conn);
    res = copy_collect_result(conn->pgconn);
    CONN_LOCK_END(conn);
    conn_process_notices(conn);

    if (error != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(error), error);
    }
    else if (b.nomem) {
        PyErr_NoMemory();
    }
    else if (res == NULL || b.failed) {
        raise_copy_failure(self);
    }
    else {
        rv = res;
        res = NULL;
    }
    if (res != NULL) {
        PQclear(res);
    }
    Py_XDECREF(error);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Entry points from the result handling                              */

PGresult *
copy_run(cursorObject *self, PGresult *res)
{
    ExecStatusType status = PQresultStatus(res);
    connectionObject *conn = self->conn;
    PGresult *rv;

    PQclear(res);
    /* run_copy holds the lock: other threads wait, this thread's other
     * commands are refused until the end of the exchange */
    conn->in_copy = COPY_RUNNING;
    if (status == PGRES_COPY_IN) {
        rv = copy_in(self);
    }
    else {
        rv = copy_out(self);
    }
    conn->in_copy = COPY_EXPECTED;
    return rv;
}

void
copy_abandon_locked(PGconn *pg, ExecStatusType status)
{
    PGresult *last;
    char *buf;

    if (status == PGRES_COPY_OUT) {
        while (PQgetCopyData(pg, &buf, 0) > 0) {
            PQfreemem(buf);
        }
    }
    else {
        PQputCopyEnd(pg, "COPY FROM STDIN is not supported by execute()");
    }
    if ((last = copy_collect_result(pg)) != NULL) {
        PQclear(last);
    }
}

int
copy_refuse(cursorObject *self, PGresult *res)
{
    connectionObject *conn = self->conn;
    ExecStatusType status = PQresultStatus(res);

    /* statusmessage '' (the COPY's command status), as psycopg2 */
    if (curs_set_status(self, res) < 0) {
        PyErr_Clear();
    }
    PQclear(res);
    /* usually already ended under the lock of the query (exec_locked);
     * in green mode it's still going on */
    CONN_LOCK_BEGIN(conn);
    if (conn->pgconn
            && PQtransactionStatus(conn->pgconn) == PQTRANS_ACTIVE) {
        copy_abandon_locked(conn->pgconn, status);
    }
    CONN_LOCK_END(conn);
    conn_process_notices(conn);
    conn_check_broken(conn);
    PyErr_SetString(ProgrammingError, status == PGRES_COPY_OUT
        ? "can't execute COPY TO: use the copy_to() method instead"
        : "can't execute COPY FROM: use the copy_from() method instead");
    return -1;
}

/* ------------------------------------------------------------------ */
/* The Python methods                                                 */

static int
check_can_copy(cursorObject *self, const char *method)
{
    if (curs_check_open(self) < 0) {
        return -1;
    }
    /* the COPY protocol has no asynchronous interface: refuse before
     * sending anything, whatever the state of the connection */
    if (self->conn->async_) {
        PyErr_Format(ProgrammingError,
                     "%s cannot be used in asynchronous mode", method);
        return -1;
    }
    if (curs_check_async_idle(self, method) < 0
            || curs_check_not_tpc_prepared(self, method) < 0) {
        return -1;
    }
    if (self->name != NULL) {
        PyErr_Format(ProgrammingError,
                     "%s cannot be used with a named cursor", method);
        return -1;
    }
    /* the COPY protocol blocks: not possible with a wait callback */
    if (psyco_wait_callback != NULL) {
        PyErr_Format(ProgrammingError,
                     "%s cannot be used with an asynchronous callback.",
                     method);
        return -1;
    }
    if (text_io_base == NULL) {
        PyObject *io = PyImport_ImportModule("io");
        if (io == NULL) {
            return -1;
        }
        text_io_base = PyObject_GetAttrString(io, "TextIOBase");
        Py_DECREF(io);
        if (text_io_base == NULL) {
            return -1;
        }
    }
    return 0;
}

/* Run a COPY statement with `file`.
 *
 * The connection lock is held for the whole exchange, from the statement
 * to its final result: no other thread's command (or its error) can come
 * in the middle of the COPY protocol.  The GIL is taken back while the
 * lock is held for the file's methods and the Python bookkeeping; the
 * libpq calls inside release it again (the lock is recursive).  No
 * deadlock: nobody waits for the lock holding the GIL. */
static PyObject *
run_copy(cursorObject *self, PyObject *query, PyObject *file,
         Py_ssize_t size)
{
    connectionObject *conn = self->conn;
    int r;

    Py_INCREF(conn);        /* the cursor may let it go meanwhile */
    Py_BEGIN_ALLOW_THREADS;
    pthread_mutex_lock(&conn->lock);
    Py_END_ALLOW_THREADS;
    if (conn_check_not_in_copy(conn) < 0) {
        /* a COPY's file running another COPY on the connection */
        pthread_mutex_unlock(&conn->lock);
        Py_DECREF(conn);
        return NULL;
    }

    Py_INCREF(query);
    Py_XSETREF(self->query, query);
    Py_INCREF(file);
    Py_XSETREF(self->copyfile, file);
    self->copysize = size == COPY_SIZE_UNSET ? COPY_IN_DEFAULT_SIZE : size;
    conn->in_copy = COPY_EXPECTED;
    r = curs_run_query(self, query, 0);
    conn->in_copy = COPY_NONE;
    /* before unlocking: another thread's execute() of a COPY statement on
     * this cursor must not find our file */
    Py_CLEAR(self->copyfile);

    pthread_mutex_unlock(&conn->lock);
    Py_DECREF(conn);
    if (r < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* (col1,col2,...) quoted, or b"" for None. */
static PyObject *
columns_list(cursorObject *self, PyObject *columns)
{
    PyObject *iter = NULL, *item, *q, *parts = NULL, *sep = NULL;
    PyObject *joined = NULL, *rv = NULL;

    if (columns == NULL || columns == Py_None) {
        return PyBytes_FromStringAndSize("", 0);
    }
    if (!(iter = PyObject_GetIter(columns)) || !(parts = PyList_New(0))) {
        goto exit;
    }
    while ((item = PyIter_Next(iter)) != NULL) {
        q = curs_quote_identifier(self, item);
        Py_DECREF(item);
        if (q == NULL || PyList_Append(parts, q) < 0) {
            Py_XDECREF(q);
            goto exit;
        }
        Py_DECREF(q);
    }
    if (PyErr_Occurred() || !(sep = PyBytes_FromString(","))) {
        goto exit;
    }
    if (!(joined = PyObject_CallMethod(sep, "join", "O", parts))) {
        goto exit;
    }
    rv = PyBytes_FromFormat("(%s)", PyBytes_AS_STRING(joined));

exit:
    Py_XDECREF(iter);
    Py_XDECREF(parts);
    Py_XDECREF(sep);
    Py_XDECREF(joined);
    return rv;
}

/* COPY "table"(cols) FROM stdin / TO stdout WITH DELIMITER AS ... */
static PyObject *
copy_table_query(cursorObject *self, PyObject *table, PyObject *columns,
                 const char *direction, PyObject *sep, PyObject *null)
{
    PyObject *qtable = NULL, *qcols = NULL, *qsep = NULL, *qnull = NULL;
    PyObject *rv = NULL;

    if (!(qtable = curs_quote_identifier(self, table))
            || !(qcols = columns_list(self, columns))
            || !(qsep = curs_quote_literal(self, sep))
            || !(qnull = curs_quote_literal(self, null))) {
        goto exit;
    }
    rv = PyBytes_FromFormat("COPY %s%s %s WITH DELIMITER AS %s NULL AS %s",
        PyBytes_AS_STRING(qtable), PyBytes_AS_STRING(qcols), direction,
        PyBytes_AS_STRING(qsep), PyBytes_AS_STRING(qnull));

exit:
    Py_XDECREF(qtable);
    Py_XDECREF(qcols);
    Py_XDECREF(qsep);
    Py_XDECREF(qnull);
    return rv;
}

static int
has_method(PyObject *obj, const char *name)
{
    PyObject *m = PyObject_GetAttrString(obj, name);

    if (m == NULL) {
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(m);
    return 1;
}

PyObject *
curs_copy_from(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"file", "table", "sep", "null", "size",
                             "columns", NULL};
    PyObject *file, *table, *sep = NULL, *null = NULL, *columns = Py_None;
    PyObject *dsep = NULL, *dnull = NULL, *query = NULL, *rv = NULL;
    Py_ssize_t size = COPY_SIZE_UNSET;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OOnO", kwlist,
            &file, &table, &sep, &null, &size, &columns)) {
        return NULL;
    }
    if (!has_method(file, "read")) {
        PyErr_SetString(PyExc_TypeError,
                        "argument 1 must have a .read() method");
        return NULL;
    }
    if (check_can_copy(self, "copy_from") < 0) {
        return NULL;
    }
    if ((!sep && !(sep = dsep = PyUnicode_FromString("\t")))
            || (!null && !(null = dnull = PyUnicode_FromString("\\N")))) {
        goto exit;
    }
    query = copy_table_query(self, table, columns, "FROM stdin", sep, null);
    if (query != NULL) {
        rv = run_copy(self, query, file, size);
    }

exit:
    Py_XDECREF(dsep);
    Py_XDECREF(dnull);
    Py_XDECREF(query);
    return rv;
}

PyObject *
curs_copy_to(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"file", "table", "sep", "null", "columns",
                             NULL};
    PyObject *file, *table, *sep = NULL, *null = NULL, *columns = Py_None;
    PyObject *dsep = NULL, *dnull = NULL, *query = NULL, *rv = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OOO", kwlist,
            &file, &table, &sep, &null, &columns)) {
        return NULL;
    }
    if (!has_method(file, "write")) {
        PyErr_SetString(PyExc_TypeError,
                        "argument 1 must have a .write() method");
        return NULL;
    }
    if (check_can_copy(self, "copy_to") < 0) {
        return NULL;
    }
    if ((!sep && !(sep = dsep = PyUnicode_FromString("\t")))
            || (!null && !(null = dnull = PyUnicode_FromString("\\N")))) {
        goto exit;
    }
    query = copy_table_query(self, table, columns, "TO stdout", sep, null);
    if (query != NULL) {
        rv = run_copy(self, query, file, 8192);
    }

exit:
    Py_XDECREF(dsep);
    Py_XDECREF(dnull);
    Py_XDECREF(query);
    return rv;
}

PyObject *
curs_copy_expert(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"sql", "file", "size", NULL};
    PyObject *sql, *file, *query = NULL, *rv = NULL;
    Py_ssize_t size = COPY_SIZE_UNSET;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|n", kwlist,
                                     &sql, &file, &size)) {
        return NULL;
    }
    /* unlike copy_from/copy_to, the state is checked before the file */
    if (check_can_copy(self, "copy_expert") < 0) {
        return NULL;
    }
    if (!has_method(file, "read") && !has_method(file, "write")) {
        PyErr_SetString(PyExc_TypeError,
            "file must be a readable file-like object for COPY FROM; "
            "a writable file-like object for COPY TO.");
        return NULL;
    }
    if (!(query = curs_query_to_bytes(self, sql))) {
        return NULL;
    }
    rv = run_copy(self, query, file, size);
    Py_DECREF(query);
    return rv;
}
