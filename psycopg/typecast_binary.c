/* typecast_binary.c - bytea -> memoryview.
 *
 * The server sends bytea in the "hex" format (\x0a1b..., the default) or
 * in the "escape" format (printable bytes as they are, \\ for a backslash,
 * \ooo octal for the others), depending on the bytea_output setting.
 * Both are decoded here straight into a bytes object, exposed as a
 * memoryview like psycopg2 does.
 */

#include "typecast_internal.h"

/* value of a hex digit, -1 for other characters */
static signed char hex_values[256];

int
typecast_binary_setup(void)
{
    int i;

    for (i = 0; i < 256; i++) {
        hex_values[i] = -1;
    }
    for (i = 0; i < 10; i++) {
        hex_values['0' + i] = (signed char)i;
    }
    for (i = 0; i < 6; i++) {
        hex_values['a' + i] = (signed char)(10 + i);
        hex_values['A' + i] = (signed char)(10 + i);
    }
    return 0;
}

/* Decode the hex digits after the \x prefix.  New bytes or NULL. */
static PyObject *
decode_hex(const char *s, Py_ssize_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    PyObject *bytes = NULL;
    unsigned char *out;
    Py_ssize_t i, n;

    if (len % 2 != 0) {
        PyErr_SetString(DataError,
                        "invalid bytea hex value: odd number of digits");
        goto exit;
    }
    n = len / 2;
    if (!(bytes = PyBytes_FromStringAndSize(NULL, n))) {
        goto exit;
    }
    out = (unsigned char *)PyBytes_AS_STRING(bytes);
    for (i = 0; i < n; i++, p += 2) {
        int hi = hex_values[p[0]], lo = hex_values[p[1]];
        if ((hi | lo) < 0) {
            PyErr_SetString(DataError,
                            "invalid bytea hex value: bad hex digit");
            Py_CLEAR(bytes);
            goto exit;
        }
        out[i] = (unsigned char)((hi << 4) | lo);
    }

exit:
    return bytes;
}

static int
is_octal(char c)
{
    return c >= '0' && c <= '7';
}

/* Decode the escape format.  New bytes or NULL. */
static PyObject *
decode_escape(const char *s, Py_ssize_t len)
{
    const char *p = s, *end = s + len;
    PyObject *bytes = NULL;
    char *out;
    Py_ssize_t n = 0;

    /* the decoded value is never longer than the escaped one */
    if (!(bytes = PyBytes_FromStringAndSize(NULL, len))) {
        goto exit;
    }
    out = PyBytes_AS_STRING(bytes);
    while (p < end) {
        if (*p != '\\') {
            out[n++] = *p++;
        }
        else if (end - p >= 4 && is_octal(p[1]) && is_octal(p[2])
                 && is_octal(p[3])) {
            out[n++] = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3)
                              | (p[3] - '0'));
            p += 4;
        }
        else if (end - p >= 2) {
            /* \\ and, leniently, a backslash before any other char */
            out[n++] = p[1];
            p += 2;
        }
        else {
            p++;    /* a trailing lone backslash: drop it */
        }
    }
    if (_PyBytes_Resize(&bytes, n) < 0) {
        goto exit;      /* bytes was released and set to NULL */
    }

exit:
    return bytes;
}

PyObject *
typecast_BINARY_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    PyObject *bytes = NULL, *rv = NULL;

    if (s == NULL) {
        Py_RETURN_NONE;
    }
    if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
        bytes = decode_hex(s + 2, len - 2);
    }
    else {
        bytes = decode_escape(s, len);
    }
    if (bytes == NULL) {
        goto exit;
    }
    rv = PyMemoryView_FromObject(bytes);

exit:
    Py_XDECREF(bytes);
    return rv;
}
