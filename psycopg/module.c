/* module.c - the psycopg2._psycopg module: initialisation and the
 * module-level functions (_connect, parse_dsn, quote_ident, ...).
 */

#include "connection_priv.h"

#include <datetime.h>
#include <string.h>

PyObject *psyco_wait_callback = NULL;
PyObject *psyco_DecimalType = NULL;
PyObject *psyco_encodings = NULL;

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

PyObject *
conn_ensure_bytes(PyObject *obj, connectionObject *conn)
{
    if (PyBytes_Check(obj)) {
        Py_INCREF(obj);
        return obj;
    }
    if (PyUnicode_Check(obj)) {
        if (conn) { return conn_encode(conn, obj); }
        return PyUnicode_AsUTF8String(obj);
    }
    PyErr_Format(PyExc_TypeError,
        "Expected bytes or unicode string, got %s instead",
        Py_TYPE(obj)->tp_name);
    return NULL;
}

/* The connection a `scope` argument stands for (a connection or a
 * cursor), borrowed; NULL if it is neither (no exception set). */
static connectionObject *
conn_from_scope(PyObject *scope)
{
    if (connection_Check(scope)) { return (connectionObject *)scope; }
    if (cursor_Check(scope)) { return ((cursorObject *)scope)->conn; }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Module functions                                                   */

static PyObject *
psyco_connect(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"dsn", "connection_factory", "async", "async_",
                             NULL};
    const char *dsn = NULL;
    PyObject *factory = NULL;
    int async = 0, async_ = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|Oii", kwlist,
            &dsn, &factory, &async, &async_)) {
        return NULL;
    }
    if (async_) { async = async_; }
    if (!factory || factory == Py_None) {
        factory = (PyObject *)&connectionType;
    }
    /* psycopg2 passes the async flag positionally, so that factories
     * written for Python < 3.7 (`async`) and later (`async_`) both work */
    if (async) {
        return PyObject_CallFunction(factory, "si", dsn, async);
    }
    return PyObject_CallFunction(factory, "s", dsn);
}

/* _connect() recording the facts of a failed attempt (connection_attempt.c) */
static PyObject *
psyco_lb_connect(PyObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *rv;

    conn_request_lb_attempt(1);
    rv = psyco_connect(self, args, kwargs);
    conn_request_lb_attempt(0);
    return rv;
}

static PyObject *
psyco_parse_dsn(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"dsn", NULL};
    PyObject *arg = NULL, *bdsn = NULL, *rv = NULL;
    PQconninfoOption *options = NULL;
    char *err = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O", kwlist, &arg)) {
        goto exit;
    }
    if (!(bdsn = conn_ensure_bytes(arg, NULL))) { goto exit; }

    options = PQconninfoParse(PyBytes_AS_STRING(bdsn), &err);
    if (!options) {
        if (err) {
            PyErr_Format(ProgrammingError, "invalid dsn: %s", err);
        }
        else {
            PyErr_NoMemory();
        }
        goto exit;
    }
    rv = conn_dict_from_options(options, 1);

exit:
    if (options) { PQconninfoFree(options); }
    if (err) { PQfreemem(err); }
    Py_XDECREF(bdsn);
    return rv;
}

static PyObject *
psyco_quote_ident(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"ident", "scope", NULL};
    PyObject *ident = NULL, *scope = NULL, *bident = NULL, *rv = NULL;
    connectionObject *conn;
    char *quoted = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO", kwlist,
            &ident, &scope)) {
        goto exit;
    }
    if (!(conn = conn_from_scope(scope))) {
        PyErr_SetString(PyExc_TypeError,
            "argument 2 must be a connection or a cursor");
        goto exit;
    }
    if (conn_check_open(conn) < 0) { goto exit; }
    if (!(bident = conn_ensure_bytes(ident, conn))) { goto exit; }

    quoted = PQescapeIdentifier(conn->pgconn, PyBytes_AS_STRING(bident),
                                (size_t)PyBytes_GET_SIZE(bident));
    if (!quoted) {
        PyErr_Format(ProgrammingError, "failed to quote identifier: %s",
                     PQerrorMessage(conn->pgconn));
        goto exit;
    }
    rv = conn_decode(conn, quoted, (Py_ssize_t)strlen(quoted));

exit:
    if (quoted) { PQfreemem(quoted); }
    Py_XDECREF(bident);
    return rv;
}

static PyObject *
psyco_libpq_version(PyObject *self, PyObject *dummy)
{
    return PyLong_FromLong(PQlibVersion());
}

/* PQencryptPasswordConn may query the server (SHOW password_encryption):
 * run it with the GIL released, holding the connection lock. */
static char *
encrypt_with_connection(connectionObject *conn, const char *password,
                        const char *user, const char *algorithm)
{
    char *encrypted = NULL;

    CONN_LOCK_BEGIN(conn);
    if (conn->pgconn) {
        encrypted = PQencryptPasswordConn(conn->pgconn, password, user,
                                          algorithm);
    }
    CONN_LOCK_END(conn);
    return encrypted;
}

static PyObject *
psyco_encrypt_password(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"password", "user", "scope", "algorithm", NULL};
    PyObject *password = NULL, *user = NULL, *scope = Py_None;
    PyObject *algorithm = Py_None;
    PyObject *bpassword = NULL, *buser = NULL, *balgorithm = NULL;
    PyObject *rv = NULL;
    connectionObject *conn = NULL;
    const char *alg = NULL;
    char *encrypted = NULL;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OO", kwlist,
            &password, &user, &scope, &algorithm)) {
        goto exit;
    }
    if (scope != Py_None) {
        if (!(conn = conn_from_scope(scope))) {
            PyErr_SetString(PyExc_TypeError,
                "the scope must be a connection or a cursor");
            goto exit;
        }
        if (conn_check_open(conn) < 0) { goto exit; }
    }
    if (!(bpassword = conn_ensure_bytes(password, NULL))) { goto exit; }
    if (!(buser = conn_ensure_bytes(user, NULL))) { goto exit; }
    if (algorithm != Py_None) {
        if (!(balgorithm = conn_ensure_bytes(algorithm, NULL))) {
            goto exit;
        }
        alg = PyBytes_AS_STRING(balgorithm);
    }

    if (conn) {
        encrypted = encrypt_with_connection(conn,
            PyBytes_AS_STRING(bpassword), PyBytes_AS_STRING(buser), alg);
        if (!encrypted) {
            const char *msg = conn->pgconn ? PQerrorMessage(conn->pgconn)
                                           : NULL;
            if (msg && *msg) {
                PyErr_Format(ProgrammingError,
                    "password encryption failed: %s", msg);
            }
            else {
                PyErr_SetString(OperationalError,
                    "password encryption failed");
            }
            goto exit;
        }
    }
    else if (alg && 0 == strcmp(alg, "md5")) {
        encrypted = PQencryptPassword(PyBytes_AS_STRING(bpassword),
                                      PyBytes_AS_STRING(buser));
        if (!encrypted) {
            PyErr_SetString(OperationalError, "password encryption failed");
            goto exit;
        }
    }
    else {
        PyErr_SetString(ProgrammingError,
            "password encryption (other than 'md5' algorithm) requires "
            "a connection or cursor");
        goto exit;
    }
    rv = PyUnicode_FromString(encrypted);

exit:
    if (encrypted) { PQfreemem(encrypted); }
    Py_XDECREF(bpassword);
    Py_XDECREF(buser);
    Py_XDECREF(balgorithm);
    return rv;
}

static PyObject *
psyco_set_wait_callback(PyObject *self, PyObject *obj)
{
    if (obj == Py_None) {
        Py_CLEAR(psyco_wait_callback);
    }
    else {
        Py_INCREF(obj);
        Py_XSETREF(psyco_wait_callback, obj);
    }
    Py_RETURN_NONE;
}

static PyObject *
psyco_get_wait_callback(PyObject *self, PyObject *dummy)
{
    PyObject *rv = psyco_wait_callback ? psyco_wait_callback : Py_None;

    Py_INCREF(rv);
    return rv;
}

static PyMethodDef psyco_methods[] = {
    {"_connect", (PyCFunction)(void (*)(void))psyco_connect,
     METH_VARARGS | METH_KEYWORDS,
     "_connect(dsn, connection_factory=None, async_=False) -- "
     "create a connection (psycopg2.connect() is the public interface)."},
    {"_lb_connect", (PyCFunction)(void (*)(void))psyco_lb_connect,
     METH_VARARGS | METH_KEYWORDS,
     "_lb_connect(dsn, connection_factory=None, async_=False) -- "
     "private: _connect() for the load balancer (errors carry _lb_facts)."},
    {"parse_dsn", (PyCFunction)(void (*)(void))psyco_parse_dsn,
     METH_VARARGS | METH_KEYWORDS,
     "parse_dsn(dsn) -> dict -- parse a connection string (key=value "
     "pairs or URI) into a dictionary of connection parameters."},
    {"quote_ident", (PyCFunction)(void (*)(void))psyco_quote_ident,
     METH_VARARGS | METH_KEYWORDS,
     "quote_ident(str, conn_or_curs) -> str -- wrapper around "
     "PQescapeIdentifier: quote a string to use it as an SQL identifier."},
    {"libpq_version", (PyCFunction)psyco_libpq_version, METH_NOARGS,
     "libpq_version() -> int -- version of the libpq in use, e.g. "
     "150004 for libpq 15.4."},
    {"encrypt_password", (PyCFunction)(void (*)(void))psyco_encrypt_password,
     METH_VARARGS | METH_KEYWORDS,
     "encrypt_password(password, user, scope=None, algorithm=None) -> str "
     "-- return the encrypted form of a PostgreSQL password."},
    {"set_wait_callback", (PyCFunction)psyco_set_wait_callback, METH_O,
     "set_wait_callback(f) -- register a callback f(conn) to wait for "
     "libpq in coroutine (green) mode; None to go back to blocking mode."},
    {"get_wait_callback", (PyCFunction)psyco_get_wait_callback, METH_NOARGS,
     "get_wait_callback() -> callable or None -- the current wait "
     "callback."},
    {NULL, NULL, 0, NULL}
};

/* ------------------------------------------------------------------ */
/* The encodings table                                                */

/* PostgreSQL client encodings (and their aliases) Python has a codec for.
 * EUC_TW and MULE_INTERNAL have none. */
static const struct { const char *pgenc; const char *pyenc; }
encodings_table[] = {
    {"ABC", "cp1258"},
    {"ALT", "cp866"},
    {"BIG5", "big5"},
    {"EUC_CN", "euccn"},
    {"EUC_JIS_2004", "euc_jis_2004"},
    {"EUC_JP", "euc_jp"},
    {"EUC_KR", "euc_kr"},
    {"GB18030", "gb18030"},
    {"GBK", "gbk"},
    {"ISO_8859_1", "iso8859_1"},
    {"ISO_8859_2", "iso8859_2"},
    {"ISO_8859_3", "iso8859_3"},
    {"ISO_8859_5", "iso8859_5"},
    {"ISO_8859_6", "iso8859_6"},
    {"ISO_8859_7", "iso8859_7"},
    {"ISO_8859_8", "iso8859_8"},
    {"ISO_8859_9", "iso8859_9"},
    {"ISO_8859_10", "iso8859_10"},
    {"ISO_8859_13", "iso8859_13"},
    {"ISO_8859_14", "iso8859_14"},
    {"ISO_8859_15", "iso8859_15"},
    {"ISO_8859_16", "iso8859_16"},
    {"JOHAB", "johab"},
    {"KOI8", "koi8_r"},
    {"KOI8R", "koi8_r"},
    {"KOI8U", "koi8_u"},
    {"LATIN1", "iso8859_1"},
    {"LATIN2", "iso8859_2"},
    {"LATIN3", "iso8859_3"},
    {"LATIN4", "iso8859_4"},
    {"LATIN5", "iso8859_9"},
    {"LATIN6", "iso8859_10"},
    {"LATIN7", "iso8859_13"},
    {"LATIN8", "iso8859_14"},
    {"LATIN9", "iso8859_15"},
    {"LATIN10", "iso8859_16"},
    {"Mskanji", "cp932"},
    {"ShiftJIS", "cp932"},
    {"SHIFT_JIS_2004", "shift_jis_2004"},
    {"SJIS", "cp932"},
    {"SQL_ASCII", "ascii"},
    {"TCVN", "cp1258"},
    {"TCVN5712", "cp1258"},
    {"UHC", "cp949"},
    {"UNICODE", "utf_8"},
    {"UTF8", "utf_8"},
    {"VSCII", "cp1258"},
    {"WIN", "cp1251"},
    {"WIN866", "cp866"},
    {"WIN874", "cp874"},
    {"WIN932", "cp932"},
    {"WIN936", "gbk"},
    {"WIN949", "cp949"},
    {"WIN950", "cp950"},
    {"WIN1250", "cp1250"},
    {"WIN1251", "cp1251"},
    {"WIN1252", "cp1252"},
    {"WIN1253", "cp1253"},
    {"WIN1254", "cp1254"},
    {"WIN1255", "cp1255"},
    {"WIN1256", "cp1256"},
    {"WIN1257", "cp1257"},
    {"WIN1258", "cp1258"},
    {"Windows932", "cp932"},
    {"Windows936", "gbk"},
    {"Windows949", "cp949"},
    {"Windows950", "cp950"},
    {NULL, NULL}
};

static int
add_encoding(PyObject *dict, const char *pgenc, const char *pyenc)
{
    int rv = -1;
    PyObject *value = NULL;

    if (!(value = PyUnicode_FromString(pyenc))) { goto exit; }
    if (PyDict_SetItemString(dict, pgenc, value) < 0) { goto exit; }
    rv = 0;
exit:
    Py_XDECREF(value);
    return rv;
}

/* Every name as listed, plus its cleaned form ("ISO_8859_1" ->
 * "ISO88591"), which is what the connection looks up. */
static int
encodings_setup(PyObject *module)
{
    int i, rv = -1;
    char *clean = NULL;

    if (!(psyco_encodings = PyDict_New())) { goto exit; }
    for (i = 0; encodings_table[i].pgenc; i++) {
        if (add_encoding(psyco_encodings, encodings_table[i].pgenc,
                         encodings_table[i].pyenc) < 0) { goto exit; }
        if (!(clean = conn_clean_encoding_name(encodings_table[i].pgenc))) {
            goto exit;
        }
        if (add_encoding(psyco_encodings, clean,
                         encodings_table[i].pyenc) < 0) { goto exit; }
        PyMem_Free(clean);
        clean = NULL;
    }
    Py_INCREF(psyco_encodings);
    if (PyModule_AddObject(module, "encodings", psyco_encodings) < 0) {
        Py_DECREF(psyco_encodings);
        goto exit;
    }
    rv = 0;
exit:
    PyMem_Free(clean);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Module initialisation                                              */

static int
import_decimal(void)
{
    int rv = -1;
    PyObject *decimal = NULL;

    if (!(decimal = PyImport_ImportModule("decimal"))) { goto exit; }
    if (!(psyco_DecimalType = PyObject_GetAttrString(decimal, "Decimal"))) {
        goto exit;
    }
    rv = 0;
exit:
    Py_XDECREF(decimal);
    return rv;
}

static int
add_module_constants(PyObject *module)
{
    if (PyModule_AddStringConstant(module, "__version__",
            PSYCOPG_VERSION " (dt dec pq3 ext lo64)") < 0) { return -1; }
    if (PyModule_AddIntConstant(module, "__libpq_version__",
            PQlibVersion()) < 0) { return -1; }
    if (PyModule_AddStringConstant(module, "apilevel", "2.0") < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(module, "threadsafety", 2) < 0) {
        return -1;
    }
    if (PyModule_AddStringConstant(module, "paramstyle", "pyformat") < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(module, "REPLICATION_PHYSICAL",
            REPLICATION_PHYSICAL) < 0) { return -1; }
    if (PyModule_AddIntConstant(module, "REPLICATION_LOGICAL",
            REPLICATION_LOGICAL) < 0) { return -1; }
    return 0;
}

/* Each part of the extension readies its types and adds its names. */
static int
setup_parts(PyObject *module)
{
    if (errors_setup(module) < 0) { return -1; }
    if (diagnostics_setup(module) < 0) { return -1; }
    if (connection_setup(module) < 0) { return -1; }
    if (conninfo_setup(module) < 0) { return -1; }
    if (cursor_setup(module) < 0) { return -1; }
    if (column_setup(module) < 0) { return -1; }
    if (adapt_setup(module) < 0) { return -1; }
    if (typecast_setup(module) < 0) { return -1; }
    if (notify_setup(module) < 0) { return -1; }
    if (xid_setup(module) < 0) { return -1; }
    if (replication_setup(module) < 0) { return -1; }
    if (lobject_setup(module) < 0) { return -1; }
    return 0;
}

static struct PyModuleDef psycopg_module = {
    PyModuleDef_HEAD_INIT,
    "psycopg2._psycopg",
    "The C core of psycopg2: connections, cursors, adaptation and "
    "typecasting over libpq.",
    -1,
    psyco_methods,
};

PyMODINIT_FUNC
PyInit__psycopg(void)
{
    PyObject *module = NULL, *rv = NULL;

    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) { goto exit; }
    if (!psyco_DecimalType && import_decimal() < 0) { goto exit; }

    if (!(module = PyModule_Create(&psycopg_module))) { goto exit; }
    if (add_module_constants(module) < 0) { goto exit; }
    if (encodings_setup(module) < 0) { goto exit; }
    if (setup_parts(module) < 0) { goto exit; }

    rv = module;
    module = NULL;
exit:
    Py_XDECREF(module);
    return rv;
}
