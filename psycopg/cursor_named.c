/* cursor_named.c - named (server-side) cursors: DECLARE, FETCH, MOVE,
 * CLOSE.
 *
 * execute() declares the cursor on the server; the fetch methods get the
 * rows with FETCH FORWARD, each FETCH result becoming the cursor's current
 * result (so rowcount and rownumber refer to the last chunk fetched, as in
 * psycopg2).
 */

#include "cursor_int.h"

/* Run a statement about the server cursor: "<prefix> <qname>". */
static int
run_on_cursor(cursorObject *self, const char *fmt, long count)
{
    PyObject *q;
    int rv;

    if (count == LONG_MIN) {
        q = PyBytes_FromFormat(fmt, self->qname);
    }
    else {
        q = PyBytes_FromFormat(fmt, count, self->qname);
    }
    if (q == NULL) {
        return -1;
    }
    /* psycopg2 sends no BEGIN before the FETCH and MOVE of a WITH HOLD
     * cursor: used after its transaction, it leaves the connection idle */
    rv = curs_run_query(self, q, self->withhold ? RUN_NO_BEGIN : 0);
    Py_DECREF(q);
    return rv;
}

PyObject *
named_declare_query(cursorObject *self, PyObject *query)
{
    const char *scroll = "";

    if (self->scrollable == 1) {
        scroll = "SCROLL ";
    }
    else if (self->scrollable == 0) {
        scroll = "NO SCROLL ";
    }
    return PyBytes_FromFormat("DECLARE %s %sCURSOR %s HOLD FOR %s",
        self->qname, scroll, self->withhold ? "WITH" : "WITHOUT",
        PyBytes_AS_STRING(query));
}

int
named_fetch(cursorObject *self, long count)
{
    if (count < 0) {
        return run_on_cursor(self, "FETCH FORWARD ALL FROM %s", LONG_MIN);
    }
    return run_on_cursor(self, "FETCH FORWARD %ld FROM %s", count);
}

int
named_scroll(cursorObject *self, long value, int absolute)
{
    if (absolute) {
        return run_on_cursor(self, "MOVE ABSOLUTE %ld FROM %s", value);
    }
    return run_on_cursor(self, "MOVE %ld FROM %s", value);
}

/* The transaction status, read under the connection lock. */
static PGTransactionStatusType
transaction_status(connectionObject *conn)
{
    PGTransactionStatusType ts;

    CONN_LOCK_BEGIN(conn);
    ts = PQtransactionStatus(conn->pgconn);
    CONN_LOCK_END(conn);
    return ts;
}

/* Run a statement of close() (never beginning a transaction, synchronous
 * even on an async connection, as psycopg2): its result becomes the
 * cursor's (statusmessage, rowcount) as in psycopg2.  0 ok, -1 error. */
static int
exec_for_close(cursorObject *self, PyObject *sql, ExecStatusType ok)
{
    PGresult *res;

    if (!(res = conn_exec(self->conn, PyBytes_AS_STRING(sql)))) {
        return -1;
    }
    if (PQresultStatus(res) != ok) {
        pq_raise(self->conn, self, res);
        PQclear(res);
        return -1;
    }
    return curs_set_result(self, res);
}

/* A cursor never executed can still name a server cursor (e.g. a refcursor
 * returned by a function): 1 if one by its name exists, 0 if not, -1. */
static int
server_cursor_exists(cursorObject *self)
{
    PyObject *name = NULL, *lit = NULL, *q = NULL;
    int rv = -1;

    if (!(name = PyBytes_FromString(self->name))
            || !(lit = curs_quote_literal(self, name))
            || !(q = PyBytes_FromFormat(
                "SELECT 1 FROM pg_catalog.pg_cursors where name = %s",
                PyBytes_AS_STRING(lit)))) {
        goto exit;
    }
    if (exec_for_close(self, q, PGRES_TUPLES_OK) < 0) {
        goto exit;
    }
    rv = self->ntuples > 0;

exit:
    Py_XDECREF(q);
    Py_XDECREF(lit);
    Py_XDECREF(name);
    return rv;
}

/* CLOSE the server cursor, as psycopg2 does: nothing if the transaction
 * failed (the rollback drops it) or if a cursor never executed names no
 * server cursor; "named cursor isn't valid anymore" if its transaction is
 * over (unless WITH HOLD); the server's error if someone else closed it
 * (the cursor then stays open).  0 ok, -1 error. */
int
named_close(cursorObject *self)
{
    PGTransactionStatusType ts;
    PyObject *q;
    int exists, rv;

    if (self->conn->closed) {
        return 0;
    }
    ts = transaction_status(self->conn);
    if (ts == PQTRANS_UNKNOWN || ts == PQTRANS_INERROR) {
        return 0;
    }
    if (!self->named_declared) {
        if ((exists = server_cursor_exists(self)) <= 0) {
            return exists;
        }
    }
    if (curs_check_mark(self) < 0) {
        return -1;
    }
    if (!(q = PyBytes_FromFormat("CLOSE %s", self->qname))) {
        return -1;
    }
    rv = exec_for_close(self, q, PGRES_COMMAND_OK);
    Py_DECREF(q);
    return rv;
}
