/* typecast_binary.c - bytea -> memoryview.
 *
 * The server sends bytea in the "hex" format (\x0a1b..., the default) or
 * in the "escape" format (printable bytes as they are, \\ for a backslash,
 * \ooo octal for the others), depending on the bytea_output setting.
 * Both are decoded here straight into a "chunk", exposed as a memoryview
 * as psycopg2 does.  A chunk is a read-only buffer of format 'c' (items are
 * bytes of length 1: mv[0] == b'x'), the format psycopg2's results have.
 */

#include "typecast_internal.h"

/* The decoded bytes are stored inline, after the header. */
typedef struct {
    PyObject_VAR_HEAD
    char data[1];
} chunkObject;

static PyObject *
chunk_repr(chunkObject *self)
{
    return PyUnicode_FromFormat("<memory chunk at %p size %zd>",
                                self, Py_SIZE(self));
}

static int
chunk_getbuffer(chunkObject *self, Py_buffer *view, int flags)
{
    if (PyBuffer_FillInfo(view, (PyObject *)self, self->data, Py_SIZE(self),
                          1, flags) < 0) {
        return -1;
    }
    if (flags & PyBUF_FORMAT) {
        view->format = "c";
    }
    return 0;
}

static PyBufferProcs chunk_as_buffer = {
    (getbufferproc)chunk_getbuffer,
    NULL,
};

static PyTypeObject chunkType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2._psycopg.chunk",
    .tp_basicsize = offsetof(chunkObject, data),
    .tp_itemsize = 1,
    .tp_repr = (reprfunc)chunk_repr,
    .tp_as_buffer = &chunk_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "memory chunk",
};

/* A new chunk of n bytes (contents undefined), or NULL. */
static chunkObject *
chunk_new(Py_ssize_t n)
{
    return PyObject_NewVar(chunkObject, &chunkType, n);
}

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
    return PyType_Ready(&chunkType);
}

/* Decode the hex digits after the \x prefix.  New chunk or NULL. */
static chunkObject *
decode_hex(const char *s, Py_ssize_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    chunkObject *bytes = NULL;
    unsigned char *out;
    Py_ssize_t i, n;

    if (len % 2 != 0) {
        PyErr_SetString(DataError,
                        "invalid bytea hex value: odd number of digits");
        goto exit;
    }
    n = len / 2;
    if (!(bytes = chunk_new(n))) {
        goto exit;
    }
    out = (unsigned char *)bytes->data;
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

/* Scan the escape format: the decoded length and, if out is not NULL,
 * the decoded bytes. */
static Py_ssize_t
scan_escape(const char *s, Py_ssize_t len, char *out)
{
    const char *p = s, *end = s + len;
    Py_ssize_t n = 0;
    char c;

    while (p < end) {
        if (*p != '\\') {
            c = *p++;
        }
        else if (end - p >= 4 && is_octal(p[1]) && is_octal(p[2])
                 && is_octal(p[3])) {
            c = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3)
                       | (p[3] - '0'));
            p += 4;
        }
        else if (end - p >= 2) {
            /* \\ and, leniently, a backslash before any other char */
            c = p[1];
            p += 2;
        }
        else {
            p++;    /* a trailing lone backslash: drop it */
            continue;
        }
        if (out != NULL) {
            out[n] = c;
        }
        n++;
    }
    return n;
}

/* Decode the escape format.  New chunk or NULL. */
static chunkObject *
decode_escape(const char *s, Py_ssize_t len)
{
    chunkObject *bytes;

    if (!(bytes = chunk_new(scan_escape(s, len, NULL)))) {
        return NULL;
    }
    scan_escape(s, len, bytes->data);
    return bytes;
}

PyObject *
typecast_BINARY_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    chunkObject *bytes = NULL;
    PyObject *rv = NULL;

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
    rv = PyMemoryView_FromObject((PyObject *)bytes);

exit:
    Py_XDECREF(bytes);
    return rv;
}
