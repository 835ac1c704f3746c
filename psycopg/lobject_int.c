/* lobject_int.c - the libpq side of large objects: lo_* calls.
 *
 * Every function here runs its libpq calls with the GIL released and the
 * connection lock held.  When a call fails, libpq's error message is
 * copied while the lock is still held (another thread may reuse the
 * connection as soon as it is released) and the Python exception is built
 * after the lock is released, with the GIL: no Python code ever runs while
 * the lock is held.
 */

#include "lobject_priv.h"

#include <stdio.h>      /* SEEK_SET, SEEK_END */
#include <stdlib.h>
#include <string.h>

/* libpq refuses lo_read/lo_write lengths above INT_MAX: bigger transfers
 * are split in chunks of this size. */
#define LOBJ_MAX_CHUNK ((size_t)1 << 30)

/* Reads asking for more than this first measure what is left in the
 * object, so that read(huge) does not allocate a huge buffer. */
#define LOBJ_MEASURE_ABOVE ((Py_ssize_t)1 << 20)

/* ------------------------------------------------------------------ */
/* Errors                                                             */

/* What went wrong inside a locked section. */
typedef struct {
    int failed;
    int no_conn;        /* the connection was closed meanwhile */
    char *message;      /* copy of PQerrorMessage (malloc'ed) or NULL */
} lobjError;

#define LOBJ_ERROR_INIT {0, 0, NULL}

/* Lock held, GIL released: remember libpq's error message. */
static void
collect_error(lobjError *err, PGconn *pgconn)
{
    if (err->failed) { return; }    /* keep the first error */
    err->failed = 1;
    if (!pgconn) {
        err->no_conn = 1;
        return;
    }
    err->message = strdup(PQerrorMessage(pgconn));
}

/* The libpq message as str, decoded in the client encoding; undecodable
 * bytes are replaced: reporting an error must not fail. */
static PyObject *
decode_message(connectionObject *conn, const char *msg)
{
    PyObject *rv;
    const char *codec = NULL;
    Py_ssize_t len = (Py_ssize_t)strlen(msg);

    if (conn->pyencoding && PyUnicode_Check(conn->pyencoding)) {
        if (!(codec = PyUnicode_AsUTF8(conn->pyencoding))) {
            PyErr_Clear();
        }
    }
    if (codec) {
        rv = PyUnicode_Decode(msg, len, codec, "replace");
        if (rv || !PyErr_ExceptionMatches(PyExc_LookupError)) {
            return rv;
        }
        PyErr_Clear();
    }
    return PyUnicode_DecodeUTF8(msg, len, "replace");
}

/* GIL held, lock released: raise the error collected in `err` and free
 * it.  Like psycopg2, large object failures are OperationalError with
 * libpq's message (which keeps its "ERROR:  " prefix) and no pgcode. */
static void
raise_error(connectionObject *conn, lobjError *err)
{
    PyObject *text = NULL, *exc = NULL;
    const char *msg;

    if (err->no_conn) {
        PyErr_SetString(InterfaceError, "connection already closed");
        goto exit;
    }
    if (!err->message) {
        PyErr_NoMemory();
        goto exit;
    }
    msg = err->message;
    if (conn_check_broken(conn) && !*msg) {
        msg = "the connection to the server was lost";
    }
    else if (!*msg) {
        msg = "unknown error: libpq returned no error message";
    }
    if (!(text = decode_message(conn, msg))) { goto exit; }
    if (!(exc = PyObject_CallFunctionObjArgs(OperationalError, text, NULL))) {
        goto exit;
    }
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);

exit:
    free(err->message);
    err->message = NULL;
    Py_XDECREF(exc);
    Py_XDECREF(text);
}

/* ------------------------------------------------------------------ */
/* Opening and closing                                                */

/* Lock held: create a new object, from a client file if `new_file` is not
 * NULL, with OID new_oid (0: the server picks one).  InvalidOid on error. */
static Oid
create_object(PGconn *pgconn, Oid new_oid, const char *new_file)
{
    if (new_file) {
        return lo_import_with_oid(pgconn, new_file, new_oid);
    }
    return lo_create(pgconn, new_oid);
}

int
lobject_open(lobjectObject *self, Oid oid, int access, Oid new_oid,
             const char *new_file)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;
    PGconn *pgconn;
    int fd = -1;

    CONN_LOCK_BEGIN(conn);
    pgconn = conn->pgconn;
    if (!pgconn) {
        collect_error(&err, NULL);
    }
    else if (oid == InvalidOid
            && (oid = create_object(pgconn, new_oid, new_file))
                == InvalidOid) {
        collect_error(&err, pgconn);
    }
    else if (access && (fd = lo_open(pgconn, oid, access)) < 0) {
        collect_error(&err, pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        return -1;
    }
    self->oid = oid;
    self->fd = fd;
    return 0;
}

int
lobject_close_fd(lobjectObject *self)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;
    int fd = self->fd;

    self->fd = -1;
    /* After the end of its transaction (or with the connection gone) the
     * descriptor is already released by the server: nothing to do. */
    if (fd < 0 || !conn || conn->closed != CONN_OPEN || conn->autocommit
            || conn->mark != self->mark) {
        return 0;
    }

    CONN_LOCK_BEGIN(conn);
    /* In a failed transaction lo_close would fail too: the descriptor
     * goes away at the rollback anyway. */
    if (conn->pgconn
            && PQtransactionStatus(conn->pgconn) == PQTRANS_INTRANS
            && lo_close(conn->pgconn, fd) < 0) {
        collect_error(&err, conn->pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        return -1;
    }
    return 0;
}

void
lobject_close_quietly(lobjectObject *self)
{
    connectionObject *conn = self->conn;
    int fd = self->fd;

    self->fd = -1;
    if (fd < 0 || !conn || conn->closed != CONN_OPEN || conn->autocommit
            || conn->mark != self->mark) {
        return;
    }
    /* trylock: a deallocator must never wait; if another thread is using
     * the connection the descriptor is left to the end of the
     * transaction, which releases it anyway. */
    Py_BEGIN_ALLOW_THREADS;
    if (pthread_mutex_trylock(&conn->lock) == 0) {
        if (conn->pgconn
                && PQtransactionStatus(conn->pgconn) == PQTRANS_INTRANS) {
            (void)lo_close(conn->pgconn, fd);
        }
        pthread_mutex_unlock(&conn->lock);
    }
    Py_END_ALLOW_THREADS;
}

/* ------------------------------------------------------------------ */
/* Reading and writing                                                */

/* Lock held: how many bytes are left from the current position to the
 * end of the object.  Leaves the position unchanged.  0 ok, -1 error. */
static int
measure_left(PGconn *pgconn, int fd, int64_t *left)
{
    pg_int64 here, end;

    if ((here = lo_tell64(pgconn, fd)) < 0) { return -1; }
    if ((end = lo_lseek64(pgconn, fd, 0, SEEK_END)) < 0) { return -1; }
    if (lo_lseek64(pgconn, fd, here, SEEK_SET) < 0) { return -1; }
    *left = end > here ? (int64_t)(end - here) : 0;
    return 0;
}

/* The number of bytes read() should ask for: `size`, or what is left in
 * the object if size < 0 or if size is large and more than what is left.
 * -1 with an exception set on error. */
static Py_ssize_t
read_size(lobjectObject *self, Py_ssize_t size)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;
    int64_t left = 0;

    if (size >= 0 && size <= LOBJ_MEASURE_ABOVE) { return size; }

    CONN_LOCK_BEGIN(conn);
    if (!conn->pgconn) {
        collect_error(&err, NULL);
    }
    else if (measure_left(conn->pgconn, self->fd, &left) < 0) {
        collect_error(&err, conn->pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        return -1;
    }
    if (left > (int64_t)PY_SSIZE_T_MAX) {
        PyErr_SetString(PyExc_OverflowError,
            "the large object is too big to be read at once");
        return -1;
    }
    if (size < 0 || (int64_t)size > left) { size = (Py_ssize_t)left; }
    return size;
}

/* Lock held: lo_read up to `size` bytes into buf, in chunks, stopping at
 * the end of the object.  Bytes read, or -1 on error. */
static Py_ssize_t
read_chunks(PGconn *pgconn, int fd, char *buf, Py_ssize_t size)
{
    Py_ssize_t got = 0;
    size_t want;
    int n;

    while (got < size) {
        want = (size_t)(size - got);
        if (want > LOBJ_MAX_CHUNK) { want = LOBJ_MAX_CHUNK; }
        if ((n = lo_read(pgconn, fd, buf + got, want)) < 0) { return -1; }
        if (n == 0) { break; }
        got += n;
    }
    return got;
}

PyObject *
lobject_read_bytes(lobjectObject *self, Py_ssize_t size)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;
    PyObject *buf = NULL;
    Py_ssize_t got = 0;

    if ((size = read_size(self, size)) < 0) { goto exit; }
    if (!(buf = PyBytes_FromStringAndSize(NULL, size))) { goto exit; }
    if (size == 0) { goto exit; }

    /* `buf` is ours alone until returned: it can be filled without GIL */
    CONN_LOCK_BEGIN(conn);
    if (!conn->pgconn) {
        collect_error(&err, NULL);
    }
    else if ((got = read_chunks(conn->pgconn, self->fd,
                                PyBytes_AS_STRING(buf), size)) < 0) {
        collect_error(&err, conn->pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        Py_CLEAR(buf);
        goto exit;
    }
    if (got < size) {
        (void)_PyBytes_Resize(&buf, got);   /* sets buf NULL on failure */
    }

exit:
    return buf;
}

/* Lock held: lo_write all of buf, in chunks.  Bytes written or -1. */
static Py_ssize_t
write_chunks(PGconn *pgconn, int fd, const char *buf, Py_ssize_t len)
{
    Py_ssize_t done = 0;
    size_t chunk;
    int n;

    while (done < len) {
        chunk = (size_t)(len - done);
        if (chunk > LOBJ_MAX_CHUNK) { chunk = LOBJ_MAX_CHUNK; }
        if ((n = lo_write(pgconn, fd, buf + done, chunk)) < 0) { return -1; }
        if (n == 0) { break; }      /* never expected: don't loop forever */
        done += n;
    }
    return done;
}

Py_ssize_t
lobject_write_bytes(lobjectObject *self, const char *buf, Py_ssize_t len)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;
    Py_ssize_t done = 0;

    if (len == 0) { return 0; }

    CONN_LOCK_BEGIN(conn);
    if (!conn->pgconn) {
        collect_error(&err, NULL);
    }
    else if ((done = write_chunks(conn->pgconn, self->fd, buf, len)) < 0) {
        collect_error(&err, conn->pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        return -1;
    }
    return done;
}

/* ------------------------------------------------------------------ */
/* Position and size                                                  */

int64_t
lobject_seek(lobjectObject *self, int64_t offset, int whence)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;
    pg_int64 pos = -1;

    CONN_LOCK_BEGIN(conn);
    if (!conn->pgconn) {
        collect_error(&err, NULL);
    }
    else if ((pos = lo_lseek64(conn->pgconn, self->fd, (pg_int64)offset,
                               whence)) < 0) {
        collect_error(&err, conn->pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        return -1;
    }
    return (int64_t)pos;
}

int64_t
lobject_tell(lobjectObject *self)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;
    pg_int64 pos = -1;

    CONN_LOCK_BEGIN(conn);
    if (!conn->pgconn) {
        collect_error(&err, NULL);
    }
    else if ((pos = lo_tell64(conn->pgconn, self->fd)) < 0) {
        collect_error(&err, conn->pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        return -1;
    }
    return (int64_t)pos;
}

int
lobject_truncate(lobjectObject *self, int64_t len)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;

    CONN_LOCK_BEGIN(conn);
    if (!conn->pgconn) {
        collect_error(&err, NULL);
    }
    else if (lo_truncate64(conn->pgconn, self->fd, (pg_int64)len) < 0) {
        collect_error(&err, conn->pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Whole object operations                                            */

int
lobject_export(lobjectObject *self, const char *filename)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;

    CONN_LOCK_BEGIN(conn);
    if (!conn->pgconn) {
        collect_error(&err, NULL);
    }
    else if (lo_export(conn->pgconn, self->oid, filename) < 0) {
        collect_error(&err, conn->pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        return -1;
    }
    return 0;
}

int
lobject_unlink(lobjectObject *self)
{
    connectionObject *conn = self->conn;
    lobjError err = LOBJ_ERROR_INIT;

    CONN_LOCK_BEGIN(conn);
    if (!conn->pgconn) {
        collect_error(&err, NULL);
    }
    else if (lo_unlink(conn->pgconn, self->oid) < 0) {
        collect_error(&err, conn->pgconn);
    }
    CONN_LOCK_END(conn);

    if (err.failed) {
        raise_error(conn, &err);
        return -1;
    }
    return 0;
}
