/* cursor_pipeline.c - executemany() in libpq pipeline mode.
 *
 * Inside a transaction executemany() doesn't need a round trip per
 * statement: the statements are merged in chunks and every chunk is sent
 * as a pipeline (one extended-protocol query per statement, one Sync at the
 * end), then the results are read in order.  The semantics are the ones of
 * running the statements one by one in the transaction: when a statement
 * fails the server skips the rest of the pipeline (PGRES_PIPELINE_ABORTED)
 * and the transaction is left aborted, and the error of the failing
 * statement is raised.
 *
 * The extended protocol takes one statement per query and treats $1 as a
 * parameter: queries with more than one statement, a $n or COPY don't come
 * here (pipeline_query_is_eligible) and run one by one instead; a merged
 * statement that became one of those through its arguments (e.g. an AsIs
 * with a ';') runs alone through the simple protocol, in order, as
 * psycopg2 runs every statement.
 *
 * Deadlocks: the chunk is sent with libpq in blocking mode.  When the
 * socket is full libpq reads the pending input before waiting to write
 * again (pqSendSome), so the server is never stuck writing results we
 * don't read; keeping the chunks small bounds the buffered results.
 */

#include "cursor_int.h"

#include <ctype.h>
#include <strings.h>

/* Statements per pipeline chunk, which is also the lookahead window:
 * executemany() takes at most this many argument sets from the iterator
 * before the statements of the earlier ones have run (psycopg2 takes one
 * at a time), and after a failing statement it takes no more.  An
 * iterator may have side effects (a generator): ITER_WINDOW; a list or a
 * tuple has none: SEQ_WINDOW (fewer round trips).  Documented in
 * doc/differences.rst: keep them in sync. */
#ifndef ITER_WINDOW
#define ITER_WINDOW 64
#endif
#define SEQ_WINDOW 500
#define CHUNK_BYTES (1024 * 1024)

/* ------------------------------------------------------------------ */
/* Which queries can be pipelined                                     */

static int
is_ident_char(unsigned char c)
{
    return c == '_' || c >= 0x80 || (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Skip a quoted string/identifier starting at q[i] (the quote).  With
 * `backslash` a backslash escapes the next character (E'' strings).
 * Returns the index after the closing quote, or -1 if unterminated. */
static Py_ssize_t
skip_quoted(const char *q, Py_ssize_t len, Py_ssize_t i, int backslash)
{
    char quote = q[i++];

    while (i < len) {
        if (backslash && q[i] == '\\') {
            i += 2;
            continue;
        }
        if (q[i] == quote) {
            if (i + 1 < len && q[i + 1] == quote) {
                i += 2;         /* doubled quote: still inside */
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return -1;
}

/* Skip a (nested) block comment starting at q[i] == '/'. */
static Py_ssize_t
skip_block_comment(const char *q, Py_ssize_t len, Py_ssize_t i)
{
    int depth = 0;

    while (i + 1 < len) {
        if (q[i] == '/' && q[i + 1] == '*') {
            depth++;
            i += 2;
        }
        else if (q[i] == '*' && q[i + 1] == '/') {
            i += 2;
            if (--depth == 0) {
                return i;
            }
        }
        else {
            i++;
        }
    }
    return -1;
}

/* Skip a dollar-quoted string starting at q[i] == '$'.  Returns the index
 * after it, i + 1 if this '$' doesn't open one ($1, a$b), -1 if
 * unterminated. */
static Py_ssize_t
skip_dollar_quoted(const char *q, Py_ssize_t len, Py_ssize_t i)
{
    Py_ssize_t j = i + 1, taglen;

    if (i > 0 && is_ident_char((unsigned char)q[i - 1])) {
        return i + 1;
    }
    if (j < len && q[j] >= '0' && q[j] <= '9') {
        return i + 1;           /* a parameter like $1 */
    }
    while (j < len && is_ident_char((unsigned char)q[j]) && q[j] != '$') {
        j++;
    }
    if (j >= len || q[j] != '$') {
        return i + 1;
    }
    taglen = j - i + 1;         /* "$tag$" */
    for (j = j + 1; j + taglen <= len; j++) {
        if (q[j] == '$' && memcmp(q + j, q + i, taglen) == 0) {
            return j + taglen;
        }
    }
    return -1;
}

/* 1 if q[i] == '$' starts a parameter such as $1 (not a$1). */
static int
is_parameter(const char *q, Py_ssize_t len, Py_ssize_t i)
{
    if (i > 0 && is_ident_char((unsigned char)q[i - 1])) {
        return 0;
    }
    return i + 1 < len && q[i + 1] >= '0' && q[i + 1] <= '9';
}

static int
only_space_after(const char *q, Py_ssize_t len, Py_ssize_t i)
{
    for (; i < len; i++) {
        if (!isspace((unsigned char)q[i]) && q[i] != ';') {
            return 0;
        }
    }
    return 1;
}

/* 1 if the query starts (after blanks) with the keyword COPY. */
static int
starts_with_copy(const char *q, Py_ssize_t len)
{
    Py_ssize_t i = 0;

    while (i < len && isspace((unsigned char)q[i])) {
        i++;
    }
    return len - i >= 4 && strncasecmp(q + i, "copy", 4) == 0
        && (len - i == 4 || !is_ident_char((unsigned char)q[i + 4]));
}

int
pipeline_query_is_eligible(PyObject *query)
{
    const char *q = PyBytes_AS_STRING(query);
    Py_ssize_t len = PyBytes_GET_SIZE(query), i = 0;
    int content = 0;

    if (starts_with_copy(q, len)) {
        return 0;
    }
    while (i < len && i >= 0) {
        char c = q[i];
        if (c == '\'') {
            int esc = i > 0 && (q[i - 1] == 'E' || q[i - 1] == 'e')
                && !(i > 1 && is_ident_char((unsigned char)q[i - 2]));
            i = skip_quoted(q, len, i, esc);
        }
        else if (c == '"') {
            i = skip_quoted(q, len, i, 0);
        }
        else if (c == '-' && i + 1 < len && q[i + 1] == '-') {
            const char *nl = memchr(q + i, '\n', len - i);
            i = nl ? nl - q + 1 : len;
            continue;
        }
        else if (c == '/' && i + 1 < len && q[i + 1] == '*') {
            i = skip_block_comment(q, len, i);
            continue;
        }
        else if (c == '$') {
            if (is_parameter(q, len, i)) {
                return 0;
            }
            i = skip_dollar_quoted(q, len, i);
        }
        else if (c == ';') {
            /* a trailing semicolon is fine, a second statement is not */
            return content && only_space_after(q, len, i + 1);
        }
        else {
            i++;
        }
        if (!isspace((unsigned char)c)) {
            content = 1;
        }
    }
    /* i < 0: unterminated quote or comment: let the server complain */
    return i >= 0 && content;
}

/* ------------------------------------------------------------------ */
/* Running a chunk (without the GIL)                                  */

typedef struct {
    const char **queries;
    int nqueries;

    int sent;               /* queries actually sent */
    int failed;             /* libpq failure (connection problem) */
    int error_index;        /* statement that failed, or -1 */
    PGresult *error;        /* its result */
    PGresult *last;         /* result of the last statement (success) */
    long total;             /* sum of the rows affected, or -1 */
    long last_rowcount;
} pipeChunk;

static long
result_rowcount(PGresult *res)
{
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        return PQntuples(res);
    }
    return curs_cmd_tuples(res);
}

/* Account for one result of statement i. */
static void
chunk_take_result(pipeChunk *ch, int i, PGresult *res)
{
    switch (PQresultStatus(res)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
        ch->last_rowcount = result_rowcount(res);
        if (ch->last_rowcount < 0) {
            ch->total = -1;
        }
        else if (ch->total >= 0) {
            ch->total += ch->last_rowcount;
        }
        if (ch->last != NULL) {
            PQclear(ch->last);
        }
        ch->last = res;
        return;
    case PGRES_PIPELINE_ABORTED:
        break;
    default:
        if (ch->error == NULL) {
            ch->error = res;
            ch->error_index = i;
            return;
        }
        break;
    }
    PQclear(res);
}

/* Read the results of the sent statements and the Sync. */
static void
chunk_read_results(PGconn *pg, pipeChunk *ch)
{
    PGresult *res;
    int i;

    for (i = 0; i < ch->sent; i++) {
        while ((res = PQgetResult(pg)) != NULL) {
            chunk_take_result(ch, i, res);
            if (PQstatus(pg) == CONNECTION_BAD) {
                ch->failed = 1;
                return;
            }
        }
        if (PQstatus(pg) == CONNECTION_BAD) {
            ch->failed = 1;
            return;
        }
    }
    res = PQgetResult(pg);
    if (res == NULL || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
        ch->failed = 1;
    }
    if (res != NULL) {
        PQclear(res);
    }
}

/* Send the chunk and read its results.  Called with the connection lock
 * held and the GIL released: touches no Python object. */
static void
chunk_run(PGconn *pg, pipeChunk *ch)
{
    int i;

    if (!PQenterPipelineMode(pg)) {
        ch->failed = 1;
        return;
    }
    for (i = 0; i < ch->nqueries; i++) {
        if (!PQsendQueryParams(pg, ch->queries[i], 0, NULL, NULL, NULL,
                               NULL, 0)) {
            ch->failed = 1;
            break;
        }
        ch->sent++;
    }
    /* even after a failed send, sync and read what was sent, so that the
     * connection leaves pipeline mode clean if it's still alive */
    if (ch->sent > 0 || !ch->failed) {
        if (PQpipelineSync(pg)) {
            chunk_read_results(pg, ch);
        }
        else {
            ch->failed = 1;
        }
    }
    if (!PQexitPipelineMode(pg)) {
        ch->failed = 1;
    }
}

/* ------------------------------------------------------------------ */
/* executemany                                                        */

typedef struct {
    PyObject *merged[SEQ_WINDOW];
    const char *queries[SEQ_WINDOW];
    int n;
    int window;             /* statements per chunk */
    PyObject *first;        /* item taken from the iterator by the caller */
    PyObject *alone;        /* next statement, to run outside a pipeline */
    int exhausted;          /* the iterator is over (or failed) */
    int iter_failed;        /* an exception is set by the iterator */
    int merge_failed;       /* an exception is set by merging */
} chunkBuffer;

static void
buffer_clear(chunkBuffer *buf)
{
    int i;

    for (i = 0; i < buf->n; i++) {
        Py_CLEAR(buf->merged[i]);
    }
    buf->n = 0;
}

/* 1 if a merged statement can go in a pipeline.  The template was found
 * eligible: only the arguments can have added a ';' or a '$n', so the scan
 * is only needed when one of those characters is there. */
static int
merged_is_eligible(PyObject *merged)
{
    const char *q = PyBytes_AS_STRING(merged);
    size_t len = (size_t)PyBytes_GET_SIZE(merged);

    if (!memchr(q, ';', len) && !memchr(q, '$', len)) {
        return 1;
    }
    return pipeline_query_is_eligible(merged);
}

/* Merge the next argument sets into buf, stopping at the chunk limits or
 * before a statement to run alone (left in buf->alone).  A failure leaves
 * the exception set and iter_failed or merge_failed = 1: the statements
 * merged before it must still run, as they would one by one. */
static void
buffer_fill(chunkBuffer *buf, cursorObject *self, queryTemplate *tpl,
            PyObject *iter)
{
    Py_ssize_t bytes = 0;
    PyObject *vars, *merged;

    while (buf->n < buf->window && bytes < CHUNK_BYTES) {
        if (buf->first) {
            vars = buf->first;
            buf->first = NULL;
        }
        else if (!(vars = PyIter_Next(iter))) {
            buf->exhausted = 1;
            buf->iter_failed = PyErr_Occurred() != NULL;
            return;
        }
        merged = qtemplate_merge(tpl, self, vars);
        Py_DECREF(vars);
        if (merged != NULL && memchr(PyBytes_AS_STRING(merged), '\0',
                                     PyBytes_GET_SIZE(merged))) {
            Py_CLEAR(merged);
            PyErr_SetString(PyExc_ValueError,
                "A string literal cannot contain NUL (0x00) characters.");
        }
        if (merged == NULL) {
            buf->exhausted = buf->merge_failed = 1;
            return;
        }
        if (!merged_is_eligible(merged)) {
            buf->alone = merged;
            return;
        }
        buf->merged[buf->n] = merged;
        buf->queries[buf->n] = PyBytes_AS_STRING(merged);
        buf->n++;
        bytes += PyBytes_GET_SIZE(merged);
    }
}

/* After a chunk ran: update the cursor, raise its error if any.  0 ok,
 * -1 with the exception set. */
static int
chunk_report(cursorObject *self, chunkBuffer *buf, pipeChunk *ch,
             long *total)
{
    int last = ch->sent > 0 ? ch->sent - 1 : 0;

    if (ch->failed || ch->error != NULL) {
        int bad = ch->error != NULL ? ch->error_index : last;
        Py_INCREF(buf->merged[bad]);
        Py_XSETREF(self->query, buf->merged[bad]);
        curs_reset_result(self);
        if (curs_set_status(self, NULL) < 0) {
            PyErr_Clear();
        }
        if (ch->error != NULL) {
            pq_raise(self->conn, self, ch->error);
        }
        else {
            conn_check_broken(self->conn);
            pq_raise(self->conn, self, NULL);
        }
        return -1;
    }
    Py_INCREF(buf->merged[last]);
    Py_XSETREF(self->query, buf->merged[last]);
    if (ch->last != NULL) {
        curs_set_command_result(self, ch->last);
        ch->last = NULL;
    }
    if (ch->total < 0) {
        *total = -1;
    }
    else if (*total >= 0) {
        *total += ch->total;
    }
    return 0;
}

/* Send one chunk: the pipeline runs with the GIL released, after the
 * BEGIN the connection needs, under the same hold of the lock.  A failed
 * BEGIN is reported as the failure of the first statement. */
static int
chunk_send(cursorObject *self, chunkBuffer *buf, long *total)
{
    connectionObject *conn = self->conn;
    pipeChunk ch = {buf->queries, buf->n, 0, 0, -1, NULL, NULL, 0, -1};
    PGresult *berr = NULL;
    int rv, closed = 0, busy = 0;

    if (conn_check_open(conn) < 0) {
        return -1;
    }
    CONN_LOCK_BEGIN(conn);
    if (conn->in_copy == COPY_RUNNING) {
        busy = 1;           /* only the COPY's own thread sees it */
    }
    else if (!conn->pgconn) {
        closed = 1;         /* closed by another thread meanwhile */
    }
    else if (conn_begin_locked(conn, &berr) == 0) {
        chunk_run(conn->pgconn, &ch);
    }
    else if (berr != NULL) {
        ch.error = berr;
        ch.error_index = 0;
    }
    else {
        ch.failed = 1;
    }
    CONN_LOCK_END(conn);

    if (busy) {
        return conn_check_not_in_copy(conn);
    }
    if (closed) {
        PyErr_SetString(InterfaceError, "connection already closed");
        return -1;
    }
    conn_process_notices(conn);
    if (conn_process_notifies(conn) < 0) {
        PyErr_Clear();
    }
    rv = chunk_report(self, buf, &ch, total);
    if (ch.error != NULL) {
        PQclear(ch.error);
    }
    if (ch.last != NULL) {
        PQclear(ch.last);
    }
    return rv;
}

/* Run a statement that can't be pipelined, as execute() would.  Takes
 * the reference to `merged`. */
static int
run_alone(cursorObject *self, PyObject *merged, long *total)
{
    int rv;

    /* self->query keeps its own reference: curs_run_query releases the
     * GIL and another thread may replace self->query meanwhile */
    Py_INCREF(merged);
    Py_XSETREF(self->query, merged);
    rv = curs_run_query(self, merged, RUN_DISCARD_TUPLES);
    Py_DECREF(merged);
    if (rv < 0) {
        return -1;
    }
    if (self->rowcount < 0) {
        *total = -1;
    }
    else if (*total >= 0) {
        *total += self->rowcount;
    }
    return 0;
}

/* The end of an executemany() whose iterator or merging failed, once the
 * statements before the failure ran: the cursor as psycopg2 leaves it.
 * Restores the exception. */
static void
report_input_error(cursorObject *self, chunkBuffer *buf, long total,
                   PyObject *etype, PyObject *evalue, PyObject *etb)
{
    if (buf->merge_failed) {
        /* the failed execute(): no query nor result, the rowcount of the
         * last statement */
        Py_CLEAR(self->query);
        curs_forget_result(self);
    }
    else {
        /* the loop ended: the rows of all the statements */
        self->rowcount = total;
    }
    PyErr_Restore(etype, evalue, etb);
}

PyObject *
pipeline_executemany(cursorObject *self, queryTemplate *tpl, PyObject *iter,
                     PyObject *first, int sequence)
{
    chunkBuffer *buf;
    PyObject *etype = NULL, *evalue = NULL, *etb = NULL, *rv = NULL;
    long total = 0;

    if (!(buf = PyMem_Calloc(1, sizeof(chunkBuffer)))) {
        Py_DECREF(first);
        return PyErr_NoMemory();
    }
    buf->first = first;
    buf->window = sequence ? SEQ_WINDOW : ITER_WINDOW;
    while (!buf->exhausted) {
        buffer_fill(buf, self, tpl, iter);
        if (buf->merge_failed || buf->iter_failed) {
            PyErr_Fetch(&etype, &evalue, &etb);
        }
        /* a statement's error wins over a later input error */
        if (buf->n > 0 && chunk_send(self, buf, &total) < 0) {
            goto exit;
        }
        buffer_clear(buf);
        if (buf->alone) {
            PyObject *alone = buf->alone;
            buf->alone = NULL;
            if (run_alone(self, alone, &total) < 0) {
                goto exit;
            }
        }
        if (buf->merge_failed || buf->iter_failed) {
            report_input_error(self, buf, total, etype, evalue, etb);
            etype = evalue = etb = NULL;
            goto exit;
        }
    }
    self->rowcount = total;
    Py_INCREF(Py_None);
    rv = Py_None;

exit:
    buffer_clear(buf);
    Py_XDECREF(buf->alone);
    Py_XDECREF(buf->first);
    PyMem_Free(buf);
    Py_XDECREF(etype);
    Py_XDECREF(evalue);
    Py_XDECREF(etb);
    return rv;
}
