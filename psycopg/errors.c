/* errors.c - the DB-API exception hierarchy and raising errors.
 *
 * Builds psycopg2's exception classes on top of the Error type
 * (error_type.c), maps SQLSTATE codes to classes and raises the exception
 * matching a failed libpq result: pq_raise().
 */

#include "error_type.h"

#include <string.h>

PyObject *Error, *Warning, *InterfaceError, *DatabaseError,
    *InternalError, *OperationalError, *ProgrammingError, *IntegrityError,
    *DataError, *NotSupportedError, *QueryCanceledError,
    *TransactionRollbackError;

PyObject *sqlstate_errors;

/* ------------------------------------------------------------------ */
/* The class hierarchy                                                 */

typedef struct {
    PyObject **var;         /* where the class is stored */
    const char *name;       /* dotted name: its prefix becomes __module__ */
    PyObject **base;        /* base class, NULL for Exception */
    const char *doc;
} excDef;

/* In dependency order: every base comes before its subclasses. */
static const excDef exc_defs[] = {
    {&Warning, "psycopg2.Warning", NULL,
        "A database warning, such as a data truncation on insert."},
    {&InterfaceError, "psycopg2.InterfaceError", &Error,
        "An error of the database interface rather than of the database "
        "itself."},
    {&DatabaseError, "psycopg2.DatabaseError", &Error,
        "An error related to the database."},
    {&DataError, "psycopg2.DataError", &DatabaseError,
        "An error caused by a problem with the processed data, such as a "
        "division by zero or a value out of range."},
    {&OperationalError, "psycopg2.OperationalError", &DatabaseError,
        "An error related to the database's operation, not necessarily "
        "under the control of the programmer: lost connection, out of "
        "memory, cancelled query..."},
    {&IntegrityError, "psycopg2.IntegrityError", &DatabaseError,
        "An error raised when the relational integrity of the database is "
        "affected, such as a foreign key or unique constraint violation."},
    {&InternalError, "psycopg2.InternalError", &DatabaseError,
        "An error raised when the database meets an internal problem, "
        "such as an invalid cursor or transaction state."},
    {&ProgrammingError, "psycopg2.ProgrammingError", &DatabaseError,
        "An error in the program: a missing table, an SQL syntax error, "
        "a wrong number of parameters..."},
    {&NotSupportedError, "psycopg2.NotSupportedError", &DatabaseError,
        "An error raised when a method or database API is used that the "
        "database does not support."},
    {&QueryCanceledError, "psycopg2.extensions.QueryCanceledError",
        &OperationalError,
        "An error raised when a query is cancelled, e.g. by "
        "connection.cancel() or statement_timeout."},
    {&TransactionRollbackError,
        "psycopg2.extensions.TransactionRollbackError", &OperationalError,
        "An error raised when the server rolled back the transaction, e.g. "
        "on a serialization failure or a deadlock."},
    {NULL}
};

static int
add_to_module(PyObject *module, const char *name, PyObject *obj)
{
    Py_INCREF(obj);
    if (PyModule_AddObject(module, name, obj) < 0) {
        Py_DECREF(obj);
        return -1;
    }
    return 0;
}

static int
make_exception_classes(PyObject *module)
{
    const excDef *def;
    const char *shortname;
    PyObject *base;

    Error = (PyObject *)&errorType;
    if (add_to_module(module, "Error", Error) < 0) { return -1; }

    for (def = exc_defs; def->var; def++) {
        if (!*def->var) {
            base = def->base ? *def->base : NULL;
            *def->var = PyErr_NewExceptionWithDoc(
                def->name, def->doc, base, NULL);
            if (!*def->var) { return -1; }
        }
        shortname = strrchr(def->name, '.') + 1;
        if (add_to_module(module, shortname, *def->var) < 0) { return -1; }
    }
    return 0;
}

int
errors_setup(PyObject *module)
{
    if (error_type_ready() < 0) { return -1; }
    /* Error.diag builds Diagnostics objects: make sure their type is
     * usable even if diagnostics_setup() has not run yet. */
    if (PyType_Ready(&diagnosticsType) < 0) { return -1; }
    if (make_exception_classes(module) < 0) { return -1; }

    if (!sqlstate_errors && !(sqlstate_errors = PyDict_New())) {
        return -1;
    }
    if (add_to_module(module, "sqlstate_errors", sqlstate_errors) < 0) {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* SQLSTATE -> class                                                   */

/* The class for a SQLSTATE not registered in sqlstate_errors, chosen by
 * its two-character class like psycopg2 does. */
static PyObject *
exception_from_sqlstate_class(const char *sqlstate)
{
    if (strlen(sqlstate) < 2) { return DatabaseError; }

    switch (sqlstate[0]) {
    case '0':
        switch (sqlstate[1]) {
        case '8': return OperationalError;      /* connection exception */
        case 'A': return NotSupportedError;     /* feature not supported */
        }
        break;
    case '2':
        switch (sqlstate[1]) {
        case '0': case '1': return ProgrammingError;
        case '2': return DataError;
        case '3': return IntegrityError;
        case '4': case '5': return InternalError;
        case '6': case '7': case '8': return OperationalError;
        case 'B': case 'D': case 'F': return InternalError;
        }
        break;
    case '3':
        switch (sqlstate[1]) {
        case '4': return OperationalError;
        case '8': case '9': case 'B': return InternalError;
        case 'D': case 'F': return ProgrammingError;
        }
        break;
    case '4':
        switch (sqlstate[1]) {
        case '0': return TransactionRollbackError;
        case '2': case '4': return ProgrammingError;
        }
        break;
    case '5':
        if (strcmp(sqlstate, "57014") == 0) { return QueryCanceledError; }
        return OperationalError;
    case 'F':
        if (sqlstate[1] == '0') { return InternalError; }
        break;
    case 'H':
        if (sqlstate[1] == 'V') { return OperationalError; }
        break;
    case 'P':
        if (sqlstate[1] == '0') { return InternalError; }
        break;
    case 'X':
        if (sqlstate[1] == 'X') { return InternalError; }
        break;
    }
    return DatabaseError;
}

PyObject *
exception_from_sqlstate(const char *sqlstate)
{
    PyObject *cls;

    if (sqlstate_errors) {
        /* Errors (e.g. a key not valid utf-8) are suppressed here. */
        cls = PyDict_GetItemString(sqlstate_errors, sqlstate);
        if (cls) { return cls; }
    }
    return exception_from_sqlstate_class(sqlstate);
}

/* ------------------------------------------------------------------ */
/* Raising                                                             */

/* Decode a message from the server in the connection encoding, replacing
 * undecodable bytes: an error report must never fail to be built. */
static PyObject *
error_text(connectionObject *conn, const char *s)
{
    PyObject *rv = NULL;
    const char *codec = NULL;
    Py_ssize_t len = (Py_ssize_t)strlen(s);

    if (conn && conn->pyencoding && PyUnicode_Check(conn->pyencoding)) {
        codec = PyUnicode_AsUTF8(conn->pyencoding);
        if (!codec) { PyErr_Clear(); }
    }
    if (codec) {
        rv = PyUnicode_Decode(s, len, codec, "replace");
        if (!rv && PyErr_ExceptionMatches(PyExc_LookupError)) {
            PyErr_Clear();      /* unknown codec: fall back on utf-8 */
        }
        else {
            return rv;
        }
    }
    return PyUnicode_DecodeUTF8(s, len, "replace");
}

/* Optional text: None for NULL. */
static PyObject *
error_text_or_none(connectionObject *conn, const char *s)
{
    if (!s) { Py_RETURN_NONE; }
    return error_text(conn, s);
}

/* The message without its "ERROR:  " (or FATAL, PANIC, localized
 * severity) prefix: that is what str(exception) shows. */
static const char *
strip_severity(const char *msg, const char *severity)
{
    static const char *const known[] = {"ERROR", "FATAL", "PANIC", NULL};
    const char *const *p;
    size_t n;

    if (severity && (n = strlen(severity)) > 0
            && strncmp(msg, severity, n) == 0
            && strncmp(msg + n, ":  ", 3) == 0) {
        return msg + n + 3;
    }
    for (p = known; *p; p++) {
        n = strlen(*p);
        if (strncmp(msg, *p, n) == 0 && strncmp(msg + n, ":  ", 3) == 0) {
            return msg + n + 3;
        }
    }
    return msg;
}

/* Copy every diagnostic field of `res` into a tuple (see diag_fields). */
static PyObject *
diag_tuple_from_result(connectionObject *conn, const PGresult *res)
{
    PyObject *rv = NULL;
    PyObject *tuple = NULL;
    PyObject *item;
    int i;

    if (!(tuple = PyTuple_New(DIAG_NFIELDS))) { goto exit; }
    for (i = 0; i < DIAG_NFIELDS; i++) {
        item = error_text_or_none(
            conn, PQresultErrorField(res, diag_fields[i].pgcode));
        if (!item) { goto exit; }
        PyTuple_SET_ITEM(tuple, i, item);
    }
    rv = tuple;
    tuple = NULL;

exit:
    Py_XDECREF(tuple);
    return rv;
}

/* Build the exception instance for pq_raise(); NULL with an exception set
 * if building it failed. */
static PyObject *
make_pq_error(connectionObject *conn, cursorObject *curs,
              const PGresult *res, const char *msg, const char *code)
{
    PyObject *rv = NULL;
    PyObject *err = NULL;
    PyObject *text = NULL;
    PyObject *pgerror = NULL;
    PyObject *pgcode = NULL;
    PyObject *diag = NULL;
    PyObject *exc;
    const char *severity = NULL;
    errorObject *e;

    if (code) {
        exc = exception_from_sqlstate(code);
    }
    else {
        /* No SQLSTATE: an error detected by libpq (e.g. lost connection) */
        exc = OperationalError;
    }

    if (res) {
        severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
        if (!(diag = diag_tuple_from_result(conn, res))) { goto exit; }
    }
    if (!(pgerror = error_text(conn, msg))) { goto exit; }
    if (!(text = error_text(conn, strip_severity(msg, severity)))) {
        goto exit;
    }
    if (code && !(pgcode = PyUnicode_FromString(code))) { goto exit; }

    if (!(err = PyObject_CallFunctionObjArgs(exc, text, NULL))) {
        goto exit;
    }
    /* sqlstate_errors may have been altered to hold foreign classes. */
    if (error_Check(err)) {
        e = (errorObject *)err;
        Py_XSETREF(e->pgerror, pgerror);
        pgerror = NULL;
        Py_XSETREF(e->pgcode, pgcode);
        pgcode = NULL;
        Py_XSETREF(e->diag, diag);
        diag = NULL;
        if (curs) {
            Py_INCREF(curs);
            Py_XSETREF(e->cursor, (PyObject *)curs);
        }
    }
    rv = err;
    err = NULL;

exit:
    Py_XDECREF(err);
    Py_XDECREF(text);
    Py_XDECREF(pgerror);
    Py_XDECREF(pgcode);
    Py_XDECREF(diag);
    return rv;
}

/* Mark the connection broken if libpq says it is, keeping any exception
 * already set. */
static void
check_broken_keeping_error(connectionObject *conn)
{
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    conn_check_broken(conn);
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable((PyObject *)conn);
    }
    PyErr_Restore(type, value, tb);
}

void
pq_raise(connectionObject *conn, cursorObject *curs, PGresult *res)
{
    PyObject *err = NULL;
    const char *msg = NULL;
    const char *code = NULL;
    int broken;

    if (!conn && curs) { conn = curs->conn; }
    broken = (conn && conn->pgconn
        && PQstatus(conn->pgconn) == CONNECTION_BAD);

    if (res) {
        msg = PQresultErrorMessage(res);
        code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (code && !*code) { code = NULL; }
    }
    if ((!msg || !*msg) && conn && conn->pgconn) {
        msg = PQerrorMessage(conn->pgconn);
    }
    if (!msg || !*msg) {
        msg = broken ? "the connection to the server was lost"
            : "unknown error: libpq returned no error message";
    }

    err = make_pq_error(conn, curs, res, msg, code);
    if (broken) {
        check_broken_keeping_error(conn);
    }
    if (err) {
        PyErr_SetObject((PyObject *)Py_TYPE(err), err);
    }
    Py_XDECREF(err);
}

PyObject *
psyco_set_error(PyObject *exc, cursorObject *curs, const char *msg)
{
    PyObject *err = NULL;
    PyObject *text = NULL;

    if (!msg) { msg = "unknown error"; }
    if (!(text = error_text(curs ? curs->conn : NULL, msg))) { goto exit; }
    if (!(err = PyObject_CallFunctionObjArgs(exc, text, NULL))) {
        goto exit;
    }
    if (curs && error_Check(err)) {
        Py_INCREF(curs);
        Py_XSETREF(((errorObject *)err)->cursor, (PyObject *)curs);
    }
    PyErr_SetObject((PyObject *)Py_TYPE(err), err);

exit:
    Py_XDECREF(err);
    Py_XDECREF(text);
    /* Always NULL, so that callers can `return psyco_set_error(...)`. */
    return NULL;
}
