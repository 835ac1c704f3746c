/* adapt_escape.c - escaping of string and bytea literals.
 *
 * Strings are escaped by libpq (PQescapeStringConn with a connection, which
 * knows standard_conforming_strings and the client encoding; PQescapeString
 * without one).  The common case of a valid UTF-8 string without
 * backslashes is done here directly: then the only escaping libpq would do
 * is doubling the quotes, whatever the connection settings.
 *
 * Binary data uses the hex format with a connection to a server >= 9.0
 * (what PQescapeByteaConn produces, written here without the intermediate
 * malloc), libpq's escaping otherwise.
 */
#include "adapt_internal.h"

#include <string.h>

static const char nul_message[] =
    "A string literal cannot contain NUL (0x00) characters.";

PGconn *
adapt_escaping_pgconn(connectionObject *conn)
{
    if (!conn || !conn->pgconn || conn->closed == CONN_CLOSED) {
        return NULL;
    }
    return conn->pgconn;
}

/* Whether the connection has standard_conforming_strings on: escape a
 * single backslash and see if libpq doubled it.  This reads the flag
 * libpq keeps in the PGconn, without walking the parameter list. */
static int
std_strings_on(PGconn *pg)
{
    char out[8];
    int err = 0;

    return PQescapeStringConn(pg, out, "\\", 1, &err) == 1;
}

/* Allocate a bytes object of `size` bytes; MemoryError on overflow. */
static PyObject *
new_bytes(Py_ssize_t size)
{
    if (size < 0) {
        return PyErr_NoMemory();
    }
    return PyBytes_FromStringAndSize(NULL, size);
}

/* [E]'s' with the quotes doubled: what libpq produces for a string
 * without backslashes in a valid encoding. */
static PyObject *
quote_doubling_quotes(const char *s, Py_ssize_t len, int equote)
{
    PyObject *rv = NULL;
    const char *p, *end = s + len;
    Py_ssize_t nquotes = 0;
    char *out;

    for (p = s; (p = memchr(p, '\'', end - p)); p++) {
        nquotes++;
    }
    if (!(rv = new_bytes(len + nquotes + 2 + (equote ? 1 : 0)))) {
        return NULL;
    }
    out = PyBytes_AS_STRING(rv);
    if (equote) {
        *out++ = 'E';
    }
    *out++ = '\'';
    if (!nquotes) {
        memcpy(out, s, len);
        out += len;
    }
    else {
        for (p = s; p < end; p++) {
            if (*p == '\'') {
                *out++ = '\'';
            }
            *out++ = *p;
        }
    }
    *out = '\'';
    return rv;
}

/* [E]'...' escaped by libpq. */
static PyObject *
quote_with_libpq(connectionObject *conn, const char *s, Py_ssize_t len)
{
    PyObject *rv = NULL;
    PGconn *pg = adapt_escaping_pgconn(conn);
    int equote = (conn && conn->equote) ? 1 : 0;
    int err = 0;
    size_t n;
    char *out;

    if (len > (PY_SSIZE_T_MAX - 4) / 2) {
        return PyErr_NoMemory();
    }
    /* libpq needs room for 2 * len + 1 bytes */
    if (!(rv = new_bytes(equote + 2 * len + 3))) {
        return NULL;
    }
    out = PyBytes_AS_STRING(rv);
    if (equote) {
        *out++ = 'E';
    }
    *out++ = '\'';
    if (pg) {
        /* like psycopg2, invalid multibyte data is left to the server to
         * reject: the error flag is not checked */
        n = PQescapeStringConn(pg, out, s, (size_t)len, &err);
    }
    else {
        n = PQescapeString(out, s, (size_t)len);
    }
    out[n] = '\'';
    if (_PyBytes_Resize(&rv, equote + (Py_ssize_t)n + 2) < 0) {
        return NULL;    /* rv already released */
    }
    return rv;
}

PyObject *
adapt_quote_string_bytes(connectionObject *conn, const char *s,
                         Py_ssize_t len)
{
    if (memchr(s, '\0', len)) {
        PyErr_SetString(PyExc_ValueError, nul_message);
        return NULL;
    }
    return quote_with_libpq(conn, s, len);
}

/* Encode `str` in the client encoding: a new bytes reference. */
static PyObject *
encode_for_conn(connectionObject *conn, PyObject *str)
{
    if (!conn) {
        /* an unprepared QuotedString encodes in latin-1 */
        return PyUnicode_AsLatin1String(str);
    }
    if (conn->is_utf8 || !conn->pyencoding) {
        return PyUnicode_AsUTF8String(str);
    }
    return conn_encode(conn, str);
}

PyObject *
adapt_quote_str(connectionObject *conn, PyObject *str)
{
    PyObject *encoded = NULL;
    PyObject *rv = NULL;
    const char *s;
    Py_ssize_t len;

    if (conn && (conn->is_utf8 || !conn->pyencoding)) {
        /* the UTF-8 form is cached in the str: no copy */
        if (!(s = PyUnicode_AsUTF8AndSize(str, &len))) {
            goto exit;
        }
        if (memchr(s, '\0', len)) {
            PyErr_SetString(PyExc_ValueError, nul_message);
            goto exit;
        }
        if (!memchr(s, '\\', len)) {
            rv = quote_doubling_quotes(s, len, conn->equote);
        }
        else {
            rv = quote_with_libpq(conn, s, len);
        }
        goto exit;
    }

    if (!(encoded = encode_for_conn(conn, str))) {
        goto exit;
    }
    if (!PyBytes_Check(encoded)) {
        PyErr_Format(PyExc_TypeError,
                     "encoding a string returned %s, not bytes",
                     Py_TYPE(encoded)->tp_name);
        goto exit;
    }
    rv = adapt_quote_string_bytes(conn, PyBytes_AS_STRING(encoded),
                                  PyBytes_GET_SIZE(encoded));

exit:
    Py_XDECREF(encoded);
    return rv;
}

/* ---- bytea ---- */

static const char hexdigits[] = "0123456789abcdef";

/* [E]'\x<hex>'::bytea, the output of PQescapeByteaConn for servers
 * >= 9.0 (the backslash doubled without standard_conforming_strings). */
static PyObject *
quote_bytea_hex(int equote, int std_strings, const unsigned char *data,
                Py_ssize_t len)
{
    static const char suffix[] = "'::bytea";
    PyObject *rv = NULL;
    Py_ssize_t size, i;
    char *out;

    if (len > (PY_SSIZE_T_MAX - 32) / 2) {
        return PyErr_NoMemory();
    }
    size = equote + 1 + (std_strings ? 2 : 3) + 2 * len + sizeof(suffix) - 1;
    if (!(rv = new_bytes(size))) {
        return NULL;
    }
    out = PyBytes_AS_STRING(rv);
    if (equote) {
        *out++ = 'E';
    }
    *out++ = '\'';
    *out++ = '\\';
    if (!std_strings) {
        *out++ = '\\';
    }
    *out++ = 'x';
    for (i = 0; i < len; i++) {
        *out++ = hexdigits[data[i] >> 4];
        *out++ = hexdigits[data[i] & 0x0F];
    }
    memcpy(out, suffix, sizeof(suffix) - 1);
    return rv;
}

/* [E]'...'::bytea around the output of libpq's bytea escaping. */
static PyObject *
quote_bytea_libpq(PGconn *pg, int equote, const unsigned char *data,
                  Py_ssize_t len)
{
    PyObject *rv = NULL;
    unsigned char *escaped = NULL;
    size_t n = 0;

    if (pg) {
        escaped = PQescapeByteaConn(pg, data, (size_t)len, &n);
    }
    else {
        escaped = PQescapeBytea(data, (size_t)len, &n);
    }
    if (!escaped) {
        PyErr_NoMemory();
        goto exit;
    }
    /* n counts the terminating NUL */
    rv = PyBytes_FromFormat("%s'%s'::bytea", equote ? "E" : "",
                            (const char *)escaped);

exit:
    if (escaped) {
        PQfreemem(escaped);
    }
    return rv;
}

PyObject *
adapt_quote_bytea(connectionObject *conn, const char *data, Py_ssize_t len)
{
    PGconn *pg = adapt_escaping_pgconn(conn);
    int equote = (conn && conn->equote) ? 1 : 0;

    if (pg && PQserverVersion(pg) >= 90000) {
        return quote_bytea_hex(equote, std_strings_on(pg),
                               (const unsigned char *)data, len);
    }
    return quote_bytea_libpq(pg, equote, (const unsigned char *)data, len);
}
