/* cursor_int.h - declarations shared by the cursor_*.c files only.
 *
 * The public contract of the cursor (cursorObject, curs_set_result,
 * curs_build_row, curs_check_open) is in psycopg.h; this header holds what
 * the cursor files need from each other.
 */
#ifndef PSYCOPG_CURSOR_INT_H
#define PSYCOPG_CURSOR_INT_H 1

#include "psycopg.h"

/* ------------------------------------------------------------------ */
/* cursor_type.c                                                      */

/* Raise ProgrammingError "<method> cannot be used while an asynchronous
 * query is underway" / "... with a prepared two-phase transaction" when
 * the connection is in one of those states.  0 ok, -1 raised. */
int curs_check_async_idle(cursorObject *self, const char *method);
int curs_check_not_tpc_prepared(cursorObject *self, const char *method);

/* A named cursor can only be used in the transaction that created it,
 * unless it is WITH HOLD: raise ProgrammingError "named cursor isn't valid
 * anymore" otherwise.  0 ok, -1 raised. */
int curs_check_mark(cursorObject *self);

/* ------------------------------------------------------------------ */
/* cursor_merge.c: query templates and argument merging              */

/* A query parsed once for its placeholders.  `parts` alternate literal
 * chunks of `query` with the argument slot that follows them.
 *
 * As in psycopg2, merging happens in two steps: first the placeholders are
 * scanned left to right, looking up and adapting each argument
 * (`lookups`, stopping at `scan_error_*` if the scan found a bad one), then
 * the query is formatted with the adapted values (`parts`, or the error of
 * the formatting step, `format_error_*`). */
typedef struct queryPart {
    Py_ssize_t start;           /* literal chunk: offset in query */
    Py_ssize_t len;             /* literal chunk: length */
    Py_ssize_t slot;            /* argument slot after it, or -1 */
    int named;                  /* the placeholder is %(name)s */
} queryPart;

#define QSTYLE_NONE         0   /* no placeholders */
#define QSTYLE_POSITIONAL   1   /* %s */
#define QSTYLE_NAMED        2   /* %(name)s */

typedef struct queryTemplate {
    PyObject *query;            /* bytes, in the client encoding */
    queryPart *parts;
    Py_ssize_t nparts;
    int style;                  /* QSTYLE_* */
    Py_ssize_t nslots;          /* positional args or distinct names */
    PyObject *names;            /* tuple of str, one per slot (named) */
    Py_ssize_t *lookups;        /* slots to look up, in scanning order */
    Py_ssize_t nlookups;
    int has_percent;            /* the scan met a "%%" */
    /* errors found by the scan and by the formatting step: raised only
     * after the lookups before them, as psycopg2 does */
    PyObject *scan_error_type;      /* borrowed exception class */
    PyObject *scan_error_msg;       /* str */
    PyObject *format_error_type;    /* borrowed exception class */
    PyObject *format_error_msg;     /* str or the KeyError key */
} queryTemplate;

/* Convert the query argument of execute() & co. (str, bytes or a
 * psycopg2.sql.Composable) into bytes in the client encoding.  New
 * reference or NULL. */
PyObject *curs_query_to_bytes(cursorObject *self, PyObject *query);

/* Parse `query` (bytes, a reference is taken).  0 ok, -1 error. */
int qtemplate_parse(queryTemplate *tpl, cursorObject *self, PyObject *query);
void qtemplate_clear(queryTemplate *tpl);

/* Merge `vars` (a sequence, a mapping or None) into the template: the
 * query with every placeholder replaced by the SQL literal of its
 * argument.  With vars None the query is returned unchanged.  New
 * reference (bytes) or NULL. */
PyObject *qtemplate_merge(queryTemplate *tpl, cursorObject *self,
                          PyObject *vars);

/* Quote `s` (str or bytes) as an SQL string literal, with E'' when the
 * connection needs it.  New bytes reference or NULL. */
PyObject *curs_quote_literal(cursorObject *self, PyObject *s);

/* Quote an identifier (str or bytes) with PQescapeIdentifier.  New
 * bytes reference or NULL. */
PyObject *curs_quote_identifier(cursorObject *self, PyObject *ident);

/* ------------------------------------------------------------------ */
/* cursor_execute.c                                                   */

/* Flags of curs_run_query() */
#define RUN_DISCARD_TUPLES  1   /* executemany: don't keep result sets */
#define RUN_NO_BEGIN        2   /* don't start a transaction first */

/* Send `query` (bytes) on the cursor's connection (BEGIN first when
 * needed) and handle the result: result set, command status, COPY (when
 * self->copyfile is set), errors.  0 ok, -1 with an exception set. */
int curs_run_query(cursorObject *self, PyObject *query, int flags);

/* Forget the current result: pgres, casts, description, counters. */
void curs_reset_result(cursorObject *self);

/* Free cast_cols; done wherever casts is dropped. */
void curs_drop_cast_cols(cursorObject *self);

/* curs_reset_result keeping rowcount: a failed merge in executemany(). */
void curs_forget_result(cursorObject *self);

/* Store the result of a command (no rows), e.g. in executemany where only
 * rowcount/statusmessage/lastrowid survive.  Takes ownership of res. */
void curs_set_command_result(cursorObject *self, PGresult *res);

/* Set statusmessage from a result (or '' when res is NULL). */
int curs_set_status(cursorObject *self, PGresult *res);

/* Rows affected by a command, from PQcmdTuples, or -1. */
long curs_cmd_tuples(PGresult *res);

/* Python methods implemented in cursor_execute.c */
PyObject *curs_execute(cursorObject *self, PyObject *args, PyObject *kwargs);
PyObject *curs_executemany(cursorObject *self, PyObject *args,
                           PyObject *kwargs);
PyObject *curs_mogrify(cursorObject *self, PyObject *args, PyObject *kwargs);
PyObject *curs_callproc(cursorObject *self, PyObject *args,
                        PyObject *kwargs);

/* ------------------------------------------------------------------ */
/* cursor_pipeline.c: executemany in libpq pipeline mode              */

/* 1 if `query` (the template's bytes) is a single statement that can be
 * sent with the extended protocol in a pipeline. */
int pipeline_query_is_eligible(PyObject *query);

/* Run executemany over `iter` (an iterator of argument sets) in pipeline
 * mode.  The connection must be in a transaction (not autocommit).
 * `first` (stolen) is the first item, already taken from iter.
 * `sequence`: iter walks a list or tuple, whose items can be taken ahead
 * without side effects (a longer window).  NULL with an exception set or
 * a new reference to None. */
PyObject *pipeline_executemany(cursorObject *self, queryTemplate *tpl,
                               PyObject *iter, PyObject *first,
                               int sequence);

/* ------------------------------------------------------------------ */
/* cursor_fetch.c                                                     */

PyObject *curs_fetchone(cursorObject *self, PyObject *dummy);
PyObject *curs_fetchmany(cursorObject *self, PyObject *args,
                         PyObject *kwargs);
PyObject *curs_fetchall(cursorObject *self, PyObject *dummy);
PyObject *curs_scroll(cursorObject *self, PyObject *args, PyObject *kwargs);
PyObject *curs_iternext(cursorObject *self);

/* Build rows [start, start + count) of the current result into a new
 * list.  NULL on error, with *failed the index (from start) of the row that
 * failed, -1 if none did. */
PyObject *curs_build_rows(cursorObject *self, long start, long count,
                          long *failed);

/* ------------------------------------------------------------------ */
/* cursor_named.c: server-side cursors                                */

/* Wrap `query` (merged bytes) into the DECLARE statement of the named
 * cursor.  New bytes reference or NULL. */
PyObject *named_declare_query(cursorObject *self, PyObject *query);

/* FETCH FORWARD `count` rows (count < 0: ALL) into the cursor's current
 * result.  0 ok, -1 error. */
int named_fetch(cursorObject *self, long count);

/* MOVE the server cursor.  0 ok, -1 error. */
int named_scroll(cursorObject *self, long value, int absolute);

/* Send CLOSE when the server cursor still exists.  0 ok, -1 error. */
int named_close(cursorObject *self);

/* ------------------------------------------------------------------ */
/* cursor_copy.c                                                      */

/* Run the COPY protocol for a result in COPY_IN / COPY_OUT state, with
 * self->copyfile.  Returns the final PGresult of the COPY (which may be an
 * error result), or NULL with an exception set.  Takes ownership of
 * `res`. */
PGresult *copy_run(cursorObject *self, PGresult *res);

/* End a COPY started by execute() without a file: drain COPY TO data,
 * refuse COPY FROM.  Takes ownership of res.  Always returns -1 with
 * ProgrammingError set (or the error of the connection). */
int copy_refuse(cursorObject *self, PGresult *res);

PyObject *curs_copy_from(cursorObject *self, PyObject *args,
                         PyObject *kwargs);
PyObject *curs_copy_to(cursorObject *self, PyObject *args, PyObject *kwargs);
PyObject *curs_copy_expert(cursorObject *self, PyObject *args,
                           PyObject *kwargs);

/* ------------------------------------------------------------------ */
/* cursor_describe.c                                                  */

/* column.c: a Column with all the fields None.  New reference or NULL. */
columnObject *column_create(void);

/* Build the description tuple (of Column) for a result.  New reference or
 * NULL. */
PyObject *curs_describe(cursorObject *self, PGresult *res);

#endif /* PSYCOPG_CURSOR_INT_H */
