/* connection_methods.c - the Python methods of the connection type (except
 * two-phase commit, in connection_tpc.c).
 */

#include "connection_priv.h"

#include <string.h>
#include <strings.h>

/* Indexed by ISOLATION_LEVEL_* (1 to 4) */
static const char *const isolevel_names[] = {
    NULL, "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE",
    "READ UNCOMMITTED"
};

/* ------------------------------------------------------------------ */
/* Parsing session characteristics                                    */

int
conn_parse_isolevel(PyObject *pyval)
{
    PyObject *bval = NULL;
    const char *s;
    long level;
    int rv = -1, i;

    if (PyLong_Check(pyval)) {
        level = PyLong_AsLong(pyval);
        if (level == -1 && PyErr_Occurred()) { goto exit; }
        if (level < ISOLATION_LEVEL_READ_COMMITTED
                || level > ISOLATION_LEVEL_READ_UNCOMMITTED) {
            PyErr_SetString(PyExc_ValueError,
                "isolation_level must be between 1 and 4");
            goto exit;
        }
        rv = (int)level;
        goto exit;
    }
    if (!(bval = conn_ensure_bytes(pyval, NULL))) { goto exit; }
    s = PyBytes_AS_STRING(bval);
    for (i = ISOLATION_LEVEL_READ_COMMITTED;
            i <= ISOLATION_LEVEL_READ_UNCOMMITTED; i++) {
        if (0 == strcasecmp(isolevel_names[i], s)) {
            rv = i;
            goto exit;
        }
    }
    if (0 == strcasecmp("default", s)) {
        rv = ISOLATION_LEVEL_DEFAULT;
        goto exit;
    }
    PyErr_Format(PyExc_ValueError, "bad value for isolation_level: '%s'", s);

exit:
    Py_XDECREF(bval);
    return rv;
}

int
conn_parse_onoff(PyObject *pyval)
{
    PyObject *bval = NULL;
    int rv = -1;

    if (pyval == Py_None) { return STATE_DEFAULT; }
    if (PyUnicode_Check(pyval) || PyBytes_Check(pyval)) {
        if (!(bval = conn_ensure_bytes(pyval, NULL))) { goto exit; }
        if (0 == strcasecmp("default", PyBytes_AS_STRING(bval))) {
            rv = STATE_DEFAULT;
        }
        else {
            PyErr_Format(PyExc_ValueError,
                "the only string accepted is 'default'; got %s",
                PyBytes_AS_STRING(bval));
        }
        goto exit;
    }
    switch (PyObject_IsTrue(pyval)) {
    case 1: rv = STATE_ON; break;
    case 0: rv = STATE_OFF; break;
    default: break;
    }
exit:
    Py_XDECREF(bval);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Cursors and transactions                                           */

/* Set withhold/scrollable through the cursor's own setters, which know
 * what is allowed (e.g. not on unnamed cursors). */
static int
set_cursor_options(PyObject *curs, PyObject *withhold, PyObject *scrollable)
{
    if (withhold != Py_False
            && PyObject_SetAttrString(curs, "withhold", withhold) < 0) {
        return -1;
    }
    if (scrollable != Py_None
            && PyObject_SetAttrString(curs, "scrollable", scrollable) < 0) {
        return -1;
    }
    return 0;
}

PyObject *
psyco_conn_cursor(connectionObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"name", "cursor_factory", "withhold",
                             "scrollable", NULL};
    PyObject *name = Py_None, *factory = Py_None;
    PyObject *withhold = Py_False, *scrollable = Py_None;
    PyObject *curs = NULL, *rv = NULL;

    if (conn_check_open(self) < 0) { goto exit; }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOO", kwlist,
            &name, &factory, &withhold, &scrollable)) {
        goto exit;
    }
    if (factory == Py_None) {
        factory = (self->cursor_factory && self->cursor_factory != Py_None)
            ? self->cursor_factory : (PyObject *)&cursorType;
    }
    if (self->status != CONN_STATUS_READY
            && self->status != CONN_STATUS_BEGIN
            && self->status != CONN_STATUS_PREPARED) {
        PyErr_SetString(OperationalError,
            "asynchronous connection attempt underway");
        goto exit;
    }
    if (name != Py_None && self->async_) {
        PyErr_SetString(ProgrammingError,
            "asynchronous connections cannot produce named cursors");
        goto exit;
    }
    if (!(curs = PyObject_CallFunctionObjArgs(factory, (PyObject *)self,
                                              name, NULL))) {
        goto exit;
    }
    if (!cursor_Check(curs)) {
        PyErr_SetString(PyExc_TypeError,
            "cursor factory must be subclass of "
            "psycopg2.extensions.cursor");
        goto exit;
    }
    if (set_cursor_options(curs, withhold, scrollable) < 0) { goto exit; }
    rv = curs;
    curs = NULL;

exit:
    Py_XDECREF(curs);
    return rv;
}

PyObject *
psyco_conn_close(connectionObject *self, PyObject *dummy)
{
    conn_close(self);
    Py_RETURN_NONE;
}

PyObject *
psyco_conn_commit(connectionObject *self, PyObject *dummy)
{
    if (conn_check_open(self) < 0) { return NULL; }
    if (conn_raise_if_async(self, "commit") < 0) { return NULL; }
    if (conn_raise_if_tpc_begun(self, "commit") < 0) { return NULL; }
    if (conn_commit(self) < 0) { return NULL; }
    Py_RETURN_NONE;
}

PyObject *
psyco_conn_rollback(connectionObject *self, PyObject *dummy)
{
    if (conn_check_open(self) < 0) { return NULL; }
    if (conn_raise_if_async(self, "rollback") < 0) { return NULL; }
    if (conn_raise_if_tpc_begun(self, "rollback") < 0) { return NULL; }
    if (conn_rollback(self) < 0) { return NULL; }
    Py_RETURN_NONE;
}

PyObject *
psyco_conn_set_session(connectionObject *self, PyObject *args,
                       PyObject *kwargs)
{
    static char *kwlist[] = {"isolation_level", "readonly", "deferrable",
                             "autocommit", NULL};
    PyObject *isolevel = Py_None, *readonly = Py_None;
    PyObject *deferrable = Py_None, *autocommit = Py_None;
    int c_isolevel = SESSION_UNCHANGED, c_readonly = SESSION_UNCHANGED;
    int c_deferrable = SESSION_UNCHANGED, c_autocommit = SESSION_UNCHANGED;

    if (conn_check_open(self) < 0) { return NULL; }
    if (conn_raise_if_async(self, "set_session") < 0) { return NULL; }
    if (conn_raise_if_in_transaction(self, "set_session") < 0) {
        return NULL;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOO", kwlist,
            &isolevel, &readonly, &deferrable, &autocommit)) {
        return NULL;
    }
    /* None leaves a characteristic unchanged; 'default' resets it */
    if (isolevel != Py_None
            && (c_isolevel = conn_parse_isolevel(isolevel)) < 0) {
        return NULL;
    }
    if (readonly != Py_None
            && (c_readonly = conn_parse_onoff(readonly)) < 0) {
        return NULL;
    }
    if (deferrable != Py_None
            && (c_deferrable = conn_parse_onoff(deferrable)) < 0) {
        return NULL;
    }
    if (autocommit != Py_None
            && (c_autocommit = PyObject_IsTrue(autocommit)) < 0) {
        return NULL;
    }
    if (conn_set_session(self, c_autocommit, c_isolevel, c_readonly,
                         c_deferrable) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *
psyco_conn_set_isolation_level(connectionObject *self, PyObject *args)
{
    PyObject *pyval = NULL;
    long level = ISOLATION_LEVEL_READ_COMMITTED;
    int rv;

    /* the quotes are psycopg2's */
    if (conn_check_open(self) < 0) { return NULL; }
    if (conn_raise_if_async(self, "\"isolation_level\"") < 0) {
        return NULL;
    }
    if (conn_raise_if_tpc_prepared(self, "\"isolation_level\"") < 0) {
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O", &pyval)) { return NULL; }

    if (pyval == Py_None) {
        level = ISOLATION_LEVEL_DEFAULT;
    }
    else if (PyLong_Check(pyval)) {
        level = PyLong_AsLong(pyval);
        if (level == -1 && PyErr_Occurred()) { return NULL; }
        if (level < 0 || level > ISOLATION_LEVEL_READ_UNCOMMITTED) {
            PyErr_SetString(PyExc_ValueError,
                "isolation level must be between 0 and 4");
            return NULL;
        }
    }
    /* anything else: READ COMMITTED, as psycopg2 does */

    if (conn_rollback(self) < 0) { return NULL; }
    if (level == ISOLATION_LEVEL_AUTOCOMMIT) {
        rv = conn_set_session(self, 1, SESSION_UNCHANGED, SESSION_UNCHANGED,
                              SESSION_UNCHANGED);
    }
    else {
        rv = conn_set_session(self, 0, (int)level, SESSION_UNCHANGED,
                              SESSION_UNCHANGED);
    }
    if (rv < 0) { return NULL; }
    Py_RETURN_NONE;
}

PyObject *
psyco_conn_set_client_encoding(connectionObject *self, PyObject *args)
{
    const char *enc = NULL;

    if (conn_check_open(self) < 0) { return NULL; }
    if (conn_raise_if_async(self, "set_client_encoding") < 0) {
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "s", &enc)) { return NULL; }
    if (conn_set_client_encoding(self, enc) < 0) { return NULL; }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ */
/* Information                                                        */

PyObject *
psyco_conn_get_parameter_status(connectionObject *self, PyObject *args)
{
    const char *param = NULL, *val;

    if (conn_check_open(self) < 0) { return NULL; }
    if (!PyArg_ParseTuple(args, "s", &param)) { return NULL; }
    if (!(val = PQparameterStatus(self->pgconn, param))) { Py_RETURN_NONE; }
    return conn_decode(self, val, (Py_ssize_t)strlen(val));
}

PyObject *
psyco_conn_get_dsn_parameters(connectionObject *self, PyObject *dummy)
{
    PQconninfoOption *options;
    PyObject *rv;

    if (conn_check_open(self) < 0) { return NULL; }
    if (!(options = PQconninfo(self->pgconn))) { return PyErr_NoMemory(); }
    rv = conn_dict_from_options(options, 0);
    PQconninfoFree(options);
    return rv;
}

PyObject *
psyco_conn_get_backend_pid(connectionObject *self, PyObject *dummy)
{
    if (conn_check_open(self) < 0) { return NULL; }
    return PyLong_FromLong((long)PQbackendPID(self->pgconn));
}

PyObject *
psyco_conn_get_transaction_status(connectionObject *self, PyObject *dummy)
{
    /* no check: a closed connection answers PQTRANS_UNKNOWN */
    return PyLong_FromLong((long)PQtransactionStatus(self->pgconn));
}

PyObject *
psyco_conn_get_native_connection(connectionObject *self, PyObject *dummy)
{
    if (conn_check_open(self) < 0) { return NULL; }
    return PyCapsule_New(self->pgconn,
                         "psycopg2.connection.native_connection", NULL);
}

PyObject *
psyco_conn_fileno(connectionObject *self, PyObject *dummy)
{
    if (conn_check_open(self) < 0) { return NULL; }
    return PyLong_FromLong((long)PQsocket(self->pgconn));
}

/* ------------------------------------------------------------------ */
/* Operations                                                         */

PyObject *
psyco_conn_cancel(connectionObject *self, PyObject *dummy)
{
    if (conn_check_open(self) < 0) { return NULL; }
    if (conn_raise_if_tpc_prepared(self, "cancel") < 0) { return NULL; }
    if (self->status != CONN_STATUS_READY
            && self->status != CONN_STATUS_BEGIN) {
        PyErr_SetString(OperationalError,
            "asynchronous connection attempt underway");
        return NULL;
    }
    if (conn_cancel(self) < 0) { return NULL; }
    Py_RETURN_NONE;
}

PyObject *
psyco_conn_reset(connectionObject *self, PyObject *dummy)
{
    if (conn_check_open(self) < 0) { return NULL; }
    if (conn_raise_if_async(self, "reset") < 0) { return NULL; }
    if (conn_reset(self) < 0) { return NULL; }
    Py_RETURN_NONE;
}

PyObject *
psyco_conn_poll(connectionObject *self, PyObject *dummy)
{
    int res;

    if (conn_check_open(self) < 0) { return NULL; }
    if ((res = conn_poll(self)) < 0) { return NULL; }
    return PyLong_FromLong(res);
}

PyObject *
psyco_conn_isexecuting(connectionObject *self, PyObject *dummy)
{
    return PyBool_FromLong(conn_is_executing(self));
}

PyObject *
psyco_conn_check_broken(connectionObject *self, PyObject *dummy)
{
    return PyBool_FromLong(conn_poll_broken(self));
}

/* ------------------------------------------------------------------ */
/* Context manager                                                    */

PyObject *
psyco_conn_enter(connectionObject *self, PyObject *dummy)
{
    if (conn_check_open(self) < 0) { return NULL; }
    if (self->entered) {
        PyErr_SetString(ProgrammingError,
            "the connection cannot be re-entered recursively");
        return NULL;
    }
    self->entered = 1;
    Py_INCREF(self);
    return (PyObject *)self;
}

PyObject *
psyco_conn_exit(connectionObject *self, PyObject *args)
{
    PyObject *type, *value, *tb, *tmp;

    if (!PyArg_ParseTuple(args, "OOO", &type, &value, &tb)) { return NULL; }
    self->entered = 0;
    /* through the methods: subclasses may override them */
    tmp = PyObject_CallMethod((PyObject *)self,
                              type == Py_None ? "commit" : "rollback", NULL);
    if (!tmp) { return NULL; }
    Py_DECREF(tmp);
    /* don't swallow the exception */
    Py_RETURN_NONE;
}
