/* cursor_execute.c - sending queries: execute(), executemany(),
 * callproc(), mogrify(), and the handling of the results they get.
 */

#include "cursor_int.h"

/* ------------------------------------------------------------------ */
/* Result bookkeeping                                                 */

void
curs_reset_result(cursorObject *self)
{
    if (self->pgres != NULL) {
        PQclear(self->pgres);
        self->pgres = NULL;
    }
    curs_drop_cast_cols(self);
    Py_CLEAR(self->casts);
    Py_CLEAR(self->description);
    self->ntuples = 0;
    self->nfields = 0;
    self->rowcount = -1;
    self->rownumber = 0;
    self->notuples = 1;
    self->lastoid = InvalidOid;
}

void
curs_forget_result(cursorObject *self)
{
    long rowcount = self->rowcount;

    curs_reset_result(self);
    self->rowcount = rowcount;
}

int
curs_set_status(cursorObject *self, PGresult *res)
{
    const char *status = res ? PQcmdStatus(res) : "";
    PyObject *s;

    size_t len;

    if (status == NULL) {
        status = "";
    }
    len = strlen(status);
    /* the same status as the last statement (a query run in a loop):
     * keep the str already made */
    s = self->pgstatus;
    if (s != NULL && PyUnicode_Check(s) && PyUnicode_IS_COMPACT_ASCII(s)
            && (size_t)PyUnicode_GET_LENGTH(s) == len
            && memcmp(PyUnicode_DATA(s), status, len) == 0) {
        return 0;
    }
    if (!(s = conn_decode(self->conn, status, len))) {
        return -1;
    }
    Py_XSETREF(self->pgstatus, s);
    return 0;
}

long
curs_cmd_tuples(PGresult *res)
{
    const char *s = PQcmdTuples(res);

    if (s == NULL || s[0] == '\0') {
        return -1;
    }
    return atol(s);
}

void
curs_set_command_result(cursorObject *self, PGresult *res)
{
    curs_reset_result(self);
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        self->rowcount = PQntuples(res);
    }
    else {
        self->rowcount = curs_cmd_tuples(res);
    }
    self->lastoid = PQoidValue(res);
    if (curs_set_status(self, res) < 0) {
        /* statusmessage is informative only: don't fail the command */
        PyErr_Clear();
    }
    PQclear(res);
}

/* ------------------------------------------------------------------ */
/* Running a query                                                    */

/* The COPY protocol started: run it with the cursor's file, then handle
 * the final result.  Takes ownership of res. */
static int
handle_copy_result(cursorObject *self, PGresult *res)
{
    PGresult *final = NULL;
    ExecStatusType status;
    int rv = -1;

    if (self->copyfile == NULL) {
        return copy_refuse(self, res);
    }
    if (curs_set_status(self, res) < 0) {
        PQclear(res);
        goto exit;
    }
    if (!(final = copy_run(self, res))) {   /* takes res */
        goto exit;
    }
    status = PQresultStatus(final);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        pq_raise(self->conn, self, final);
        goto exit;
    }
    self->rowcount = curs_cmd_tuples(final);
    rv = 0;

exit:
    if (final != NULL) {
        PQclear(final);
    }
    return rv;
}

/* Dispatch a result on its status.  Takes ownership of res. */
static int
handle_result(cursorObject *self, PGresult *res, int flags)
{
    switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
        if (flags & RUN_DISCARD_TUPLES) {
            curs_set_command_result(self, res);
            return 0;
        }
        return curs_set_result(self, res);

    case PGRES_COMMAND_OK:
        return curs_set_result(self, res);

    case PGRES_COPY_OUT:
    case PGRES_COPY_IN:
        return handle_copy_result(self, res);

    case PGRES_EMPTY_QUERY:
        PQclear(res);
        PyErr_SetString(ProgrammingError, "can't execute an empty query");
        return -1;

    case PGRES_COPY_BOTH:
        PQclear(res);
        PyErr_SetString(NotSupportedError,
            "COPY BOTH is only supported by the replication methods");
        return -1;

    default:
        /* a failed command: statusmessage becomes '' as in psycopg2 */
        if (curs_set_status(self, res) < 0) {
            PyErr_Clear();
        }
        pq_raise(self->conn, self, res);
        PQclear(res);
        return -1;
    }
}

int
curs_run_query(cursorObject *self, PyObject *query, int flags)
{
    const char *q = PyBytes_AS_STRING(query);
    PGresult *res;

    /* libpq takes NUL-terminated strings: a NUL would silently truncate
     * the query */
    if (memchr(q, '\0', PyBytes_GET_SIZE(query)) != NULL) {
        PyErr_SetString(PyExc_ValueError,
            "A string literal cannot contain NUL (0x00) characters.");
        return -1;
    }
    curs_reset_result(self);
    if (self->conn->async_) {
        return conn_async_execute(self->conn, self, q);
    }
    res = (flags & RUN_NO_BEGIN) ? conn_exec(self->conn, q)
                                 : conn_exec_in_transaction(self->conn, q);
    if (!res) {
        return -1;
    }
    return handle_result(self, res, flags);
}

/* ------------------------------------------------------------------ */
/* execute()                                                          */

/* The checks of the methods that send a query. */
static int
check_can_send(cursorObject *self, const char *method)
{
    if (curs_check_open(self) < 0
            || curs_check_async_idle(self, method) < 0
            || curs_check_not_tpc_prepared(self, method) < 0) {
        return -1;
    }
    return 0;
}

static int
check_named_execute(cursorObject *self)
{
    if (self->named_declared) {
        PyErr_SetString(ProgrammingError,
            "can't call .execute() on named cursors more than once");
        return -1;
    }
    if (self->conn->autocommit && !self->withhold) {
        PyErr_SetString(ProgrammingError,
            "can't use a named cursor outside of transactions");
        return -1;
    }
    return curs_check_mark(self);
}

/* Parse and merge a query with its arguments.  New bytes or NULL. */
static PyObject *
merge_query(cursorObject *self, PyObject *query, PyObject *vars)
{
    queryTemplate tpl;
    PyObject *bquery, *rv = NULL;

    if (!(bquery = curs_query_to_bytes(self, query))) {
        return NULL;
    }
    if (vars == NULL || vars == Py_None) {
        return bquery;
    }
    if (qtemplate_parse(&tpl, self, bquery) == 0) {
        rv = qtemplate_merge(&tpl, self, vars);
        qtemplate_clear(&tpl);
    }
    Py_DECREF(bquery);
    return rv;
}

/* execute() for a query and vars already validated. */
static int
execute_merged(cursorObject *self, PyObject *query, PyObject *vars)
{
    PyObject *merged = NULL, *sent = NULL;
    int rv = -1;

    Py_CLEAR(self->query);
    if (!(merged = merge_query(self, query, vars))) {
        goto exit;
    }
    if (self->name != NULL) {
        if (!(sent = named_declare_query(self, merged))) {
            goto exit;
        }
        self->named_declared = 1;
    }
    else {
        Py_INCREF(merged);
        sent = merged;
    }
    Py_INCREF(sent);
    self->query = sent;
    if (curs_run_query(self, sent, 0) < 0) {
        goto exit;
    }
    if (self->name != NULL) {
        self->mark = self->conn->mark;
    }
    rv = 0;

exit:
    Py_XDECREF(merged);
    Py_XDECREF(sent);
    return rv;
}

PyObject *
curs_execute(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"query", "vars", NULL};
    PyObject *query, *vars = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O", kwlist,
                                     &query, &vars)) {
        return NULL;
    }
    if (check_can_send(self, "execute") < 0) {
        return NULL;
    }
    if (self->name != NULL && check_named_execute(self) < 0) {
        return NULL;
    }
    if (execute_merged(self, query, vars) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* executemany()                                                      */

/* Merge one statement: with the template, or, when the query couldn't be
 * parsed (tpl NULL), as psycopg2 does it for every statement: the query
 * as it is for vars None, else the parse error again. */
static PyObject *
executemany_merge(cursorObject *self, queryTemplate *tpl, PyObject *bquery,
                  PyObject *vars)
{
    if (tpl != NULL) {
        return qtemplate_merge(tpl, self, vars);
    }
    return merge_query(self, bquery, vars);
}

/* One statement at a time: the way for autocommit (each statement
 * commits, the first error stops) and for multi-statement queries.
 * `first` (stolen) is the first item of the iterator. */
static PyObject *
executemany_serial(cursorObject *self, queryTemplate *tpl, PyObject *bquery,
                   PyObject *iter, PyObject *first)
{
    PyObject *vars, *merged;
    long total = 0;
    int any = 0;

    while ((vars = first ? first : PyIter_Next(iter)) != NULL) {
        first = NULL;
        Py_CLEAR(self->query);
        merged = executemany_merge(self, tpl, bquery, vars);
        Py_DECREF(vars);
        if (merged == NULL) {
            curs_forget_result(self);
            return NULL;
        }
        /* our own reference: curs_run_query releases the GIL and another
         * thread may replace self->query while libpq reads `merged` */
        Py_INCREF(merged);
        Py_XSETREF(self->query, merged);
        if (curs_run_query(self, merged, RUN_DISCARD_TUPLES) < 0) {
            Py_DECREF(merged);
            return NULL;
        }
        Py_DECREF(merged);
        any = 1;
        if (self->rowcount < 0) {
            total = -1;
        }
        else if (total >= 0) {
            total += self->rowcount;
        }
    }
    /* also when the iterator failed: psycopg2 leaves the total of the
     * statements run */
    self->rowcount = any ? total : 0;
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
check_can_executemany(cursorObject *self)
{
    if (check_can_send(self, "executemany") < 0) {
        return -1;
    }
    if (self->name != NULL) {
        PyErr_SetString(ProgrammingError,
                        "can't call .executemany() on named cursors");
        return -1;
    }
    if (self->conn->async_) {
        PyErr_SetString(ProgrammingError,
                        "executemany cannot be used in asynchronous mode");
        return -1;
    }
    return 0;
}

/* Run the statements, the first item already taken (stolen). */
static PyObject *
executemany_run(cursorObject *self, PyObject *bquery, PyObject *vars_list,
                PyObject *iter, PyObject *first)
{
    queryTemplate tpl;
    PyObject *rv;

    if (qtemplate_parse(&tpl, self, bquery) < 0) {
        /* psycopg2 parses the query for each statement (if it has
         * arguments): the error comes as a failed merge */
        PyErr_Clear();
        return executemany_serial(self, NULL, bquery, iter, first);
    }
    /* In a transaction the statements can be pipelined: an error aborts
     * the transaction anyway, so the statements after it don't run.  Not
     * in green mode: the pipeline uses blocking libpq calls. */
    if (!self->conn->autocommit && psyco_wait_callback == NULL
            && pipeline_query_is_eligible(bquery)) {
        rv = pipeline_executemany(self, &tpl, iter, first,
            PyList_CheckExact(vars_list) || PyTuple_CheckExact(vars_list));
    }
    else {
        rv = executemany_serial(self, &tpl, bquery, iter, first);
    }
    qtemplate_clear(&tpl);
    return rv;
}

PyObject *
curs_executemany(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"query", "vars_list", NULL};
    PyObject *query, *vars_list, *bquery = NULL, *iter = NULL, *rv = NULL;
    PyObject *first = NULL;

    /* As psycopg2, even before looking at the arguments.  psycopg2's
     * fetch methods count the rows with rowcount: the rows of a previous
     * result are no longer fetchable (executemany() discards its own). */
    self->rowcount = -1;
    self->ntuples = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO", kwlist,
                                     &query, &vars_list)) {
        return NULL;
    }
    if (check_can_executemany(self) < 0
            || !(iter = PyObject_GetIter(vars_list))) {
        goto exit;
    }
    /* as psycopg2, the query is only looked at for a first statement */
    if (!(first = PyIter_Next(iter))) {
        self->rowcount = 0;
        if (!PyErr_Occurred()) {
            Py_INCREF(Py_None);
            rv = Py_None;
        }
        goto exit;
    }
    if (!(bquery = curs_query_to_bytes(self, query))) {
        goto exit;
    }
    rv = executemany_run(self, bquery, vars_list, iter, first);
    first = NULL;

exit:
    Py_XDECREF(first);
    Py_XDECREF(bquery);
    Py_XDECREF(iter);
    return rv;
}

/* ------------------------------------------------------------------ */
/* mogrify()                                                          */

PyObject *
curs_mogrify(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"query", "vars", NULL};
    PyObject *query, *vars = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O", kwlist,
                                     &query, &vars)) {
        return NULL;
    }
    if (self->conn == NULL) {
        PyErr_SetString(InterfaceError, "cursor not initialized");
        return NULL;
    }
    return merge_query(self, query, vars);
}

/* ------------------------------------------------------------------ */
/* callproc()                                                         */

/* Append `s` to the bytearray-like list of chunks, doubling any '%' so
 * that the merge step leaves it alone. */
static int
append_escaped(PyObject *chunks, PyObject *s)
{
    PyObject *esc;
    int rv;

    if (memchr(PyBytes_AS_STRING(s), '%', PyBytes_GET_SIZE(s)) == NULL) {
        return PyList_Append(chunks, s);
    }
    esc = PyObject_CallMethod(s, "replace", "y#y#", "%", (Py_ssize_t)1,
                              "%%", (Py_ssize_t)2);
    if (esc == NULL) {
        return -1;
    }
    rv = PyList_Append(chunks, esc);
    Py_DECREF(esc);
    return rv;
}

static int
append_str(PyObject *chunks, const char *s)
{
    PyObject *b = PyBytes_FromString(s);
    int rv;

    if (b == NULL) {
        return -1;
    }
    rv = PyList_Append(chunks, b);
    Py_DECREF(b);
    return rv;
}

/* "name1":=%s,"name2":=%s and the values in the same order. */
static int
callproc_named_args(cursorObject *self, PyObject *params, PyObject *chunks,
                    PyObject **values)
{
    PyObject *key, *value, *qkey;
    Py_ssize_t pos = 0;
    int first = 1;

    if (!(*values = PyList_New(0))) {
        return -1;
    }
    while (PyDict_Next(params, &pos, &key, &value)) {
        if (!first && append_str(chunks, ",") < 0) {
            return -1;
        }
        first = 0;
        if (!(qkey = curs_quote_identifier(self, key))) {
            return -1;
        }
        if (append_escaped(chunks, qkey) < 0) {
            Py_DECREF(qkey);
            return -1;
        }
        Py_DECREF(qkey);
        if (append_str(chunks, ":=%s") < 0
                || PyList_Append(*values, value) < 0) {
            return -1;
        }
    }
    return 0;
}

/* %s,%s,... for a sequence of parameters. */
static int
callproc_positional_args(PyObject *params, PyObject *chunks,
                         PyObject **values)
{
    Py_ssize_t i, n = PyObject_Length(params);

    if (n < 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (append_str(chunks, i ? ",%s" : "%s") < 0) {
            return -1;
        }
    }
    Py_INCREF(params);
    *values = params;
    return 0;
}

/* Build "SELECT * FROM proc(...)"; *vars gets the arguments (or NULL
 * when there are none).  New bytes reference or NULL. */
static PyObject *
callproc_query(cursorObject *self, PyObject *procname, PyObject *params,
               PyObject **vars)
{
    PyObject *chunks = NULL, *bproc = NULL, *sep = NULL, *rv = NULL;
    int r = 0;

    if (!(chunks = PyList_New(0))) {
        goto exit;
    }
    if (!PyBytes_Check(procname) && !PyUnicode_Check(procname)) {
        PyErr_Format(PyExc_TypeError,
            "Expected bytes or unicode string, got %s instead",
            Py_TYPE(procname)->tp_name);
        goto exit;
    }
    if (!(bproc = curs_query_to_bytes(self, procname))) {
        goto exit;
    }
    if (append_str(chunks, "SELECT * FROM ") < 0) {
        goto exit;
    }
    if (params != Py_None) {
        r = append_escaped(chunks, bproc);
    }
    else {
        r = PyList_Append(chunks, bproc);
    }
    if (r < 0 || append_str(chunks, "(") < 0) {
        goto exit;
    }
    if (params == Py_None) {
        *vars = NULL;
    }
    else if (PyDict_Check(params)) {
        r = callproc_named_args(self, params, chunks, vars);
    }
    else {
        r = callproc_positional_args(params, chunks, vars);
    }
    if (r < 0 || append_str(chunks, ")") < 0) {
        goto exit;
    }
    if (!(sep = PyBytes_FromStringAndSize("", 0))) {
        goto exit;
    }
    rv = PyObject_CallMethod(sep, "join", "O", chunks);

exit:
    Py_XDECREF(chunks);
    Py_XDECREF(bproc);
    Py_XDECREF(sep);
    return rv;
}

PyObject *
curs_callproc(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"procname", "parameters", NULL};
    PyObject *procname, *params = Py_None, *query = NULL, *vars = NULL;
    PyObject *rv = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O", kwlist,
                                     &procname, &params)) {
        return NULL;
    }
    if (check_can_send(self, "callproc") < 0) {
        goto exit;
    }
    if (self->name != NULL) {
        PyErr_SetString(ProgrammingError,
                        "can't call .callproc() on named cursors");
        goto exit;
    }
    if (!(query = callproc_query(self, procname, params, &vars))) {
        goto exit;
    }
    if (execute_merged(self, query, vars) < 0) {
        goto exit;
    }
    Py_INCREF(params);
    rv = params;

exit:
    Py_XDECREF(query);
    Py_XDECREF(vars);
    return rv;
}
