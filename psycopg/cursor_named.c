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
    rv = curs_run_query(self, q, 0);
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

/* 1 if the server cursor may still exist and CLOSE can run. */
static int
server_cursor_alive(cursorObject *self)
{
    connectionObject *conn = self->conn;
    PGTransactionStatusType ts;

    if (!self->named_declared || conn->closed) {
        return 0;
    }
    if (!self->withhold && self->mark != conn->mark) {
        return 0;   /* its transaction is over: the server dropped it */
    }
    CONN_LOCK_BEGIN(conn);
    ts = PQtransactionStatus(conn->pgconn);
    CONN_LOCK_END(conn);
    /* in a failed transaction CLOSE would fail too; the rollback will
     * drop the cursor anyway */
    return ts == PQTRANS_IDLE || ts == PQTRANS_INTRANS;
}

int
named_close(cursorObject *self)
{
    PyObject *q = NULL;
    PGresult *res = NULL;
    int rv = -1;

    if (!server_cursor_alive(self)) {
        return 0;
    }
    if (!(q = PyBytes_FromFormat("CLOSE %s", self->qname))) {
        goto exit;
    }
    if (!(res = conn_exec(self->conn, PyBytes_AS_STRING(q)))) {
        goto exit;
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        pq_raise(self->conn, self, res);
        goto exit;
    }
    curs_reset_result(self);
    rv = 0;

exit:
    if (res != NULL) {
        PQclear(res);
    }
    Py_XDECREF(q);
    return rv;
}
