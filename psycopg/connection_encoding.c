/* connection_encoding.c - the client encoding of a connection: tracking it
 * and converting text between Python and the server.
 */

#include "connection_priv.h"

#include <ctype.h>
#include <string.h>

char *
conn_clean_encoding_name(const char *enc)
{
    char *clean, *out;

    if (!(clean = PyMem_Malloc(strlen(enc) + 1))) {
        PyErr_NoMemory();
        return NULL;
    }
    for (out = clean; *enc; enc++) {
        if (isalnum((unsigned char)*enc)) {
            *out++ = (char)toupper((unsigned char)*enc);
        }
    }
    *out = '\0';
    return clean;
}

/* 1 if the Python codec name designates utf-8 ("utf_8", "UTF-8", ...). */
static int
codec_is_utf8(const char *codec)
{
    char norm[8];
    int n = 0;

    for (; *codec && n < (int)sizeof(norm) - 1; codec++) {
        if (*codec == '-' || *codec == '_') { continue; }
        norm[n++] = (char)tolower((unsigned char)*codec);
    }
    norm[n] = '\0';
    return 0 == strcmp(norm, "utf8") && *codec == '\0';
}

int
conn_store_encoding(connectionObject *self, const char *pgenc)
{
    PyObject *pyenc;
    const char *codec;
    char *copy;

    /* the module dict: users may add their own encodings to it */
    pyenc = psyco_encodings ? PyDict_GetItemString(psyco_encodings, pgenc)
                            : NULL;
    if (!pyenc) {
        PyErr_Format(OperationalError,
            "no Python encoding for PostgreSQL encoding '%s'", pgenc);
        return -1;
    }
    if (!PyUnicode_Check(pyenc)) {
        PyErr_Format(OperationalError,
            "bad Python encoding for PostgreSQL encoding '%s'", pgenc);
        return -1;
    }
    if (!(codec = PyUnicode_AsUTF8(pyenc))) { return -1; }
    if (!(copy = strdup(pgenc))) {
        PyErr_NoMemory();
        return -1;
    }
    free(self->encoding);
    self->encoding = copy;
    Py_INCREF(pyenc);
    Py_XSETREF(self->pyencoding, pyenc);
    self->is_utf8 = codec_is_utf8(codec);
    return 0;
}

int
conn_read_encoding(connectionObject *self)
{
    const char *enc;
    char *clean = NULL;
    int rv = -1;

    enc = PQparameterStatus(self->pgconn, "client_encoding");
    if (!enc) {
        PyErr_SetString(OperationalError,
            "server didn't return client encoding");
        goto exit;
    }
    if (!(clean = conn_clean_encoding_name(enc))) { goto exit; }
    rv = conn_store_encoding(self, clean);
exit:
    PyMem_Free(clean);
    return rv;
}

int
conn_set_client_encoding(connectionObject *self, const char *enc)
{
    char *clean = NULL;
    char query[256];
    int rv = -1;

    if (!(clean = conn_clean_encoding_name(enc))) { goto exit; }
    if (self->encoding && 0 == strcmp(self->encoding, clean)) {
        rv = 0;
        goto exit;
    }
    if (strlen(clean) > 200) {
        PyErr_Format(PyExc_ValueError, "encoding name too long: '%s'", enc);
        goto exit;
    }
    /* the encoding can only change outside of a transaction */
    if (conn_rollback(self) < 0) { goto exit; }
    /* clean has only letters and digits: safe to quote this way */
    snprintf(query, sizeof(query), "SET client_encoding TO '%s'", clean);
    if (conn_exec_command(self, query) < 0) { goto exit; }
    rv = conn_store_encoding(self, clean);

exit:
    PyMem_Free(clean);
    return rv;
}

PyObject *
conn_decode(connectionObject *self, const char *s, Py_ssize_t len)
{
    const char *codec;

    if (len < 0) { len = (Py_ssize_t)strlen(s); }
    if (!self || self->is_utf8 || !self->pyencoding) {
        return PyUnicode_DecodeUTF8(s, len, NULL);
    }
    if (!(codec = PyUnicode_AsUTF8(self->pyencoding))) { return NULL; }
    return PyUnicode_Decode(s, len, codec, NULL);
}

PyObject *
conn_encode(connectionObject *self, PyObject *u)
{
    const char *codec;

    if (!self || self->is_utf8 || !self->pyencoding) {
        return PyUnicode_AsUTF8String(u);
    }
    if (!(codec = PyUnicode_AsUTF8(self->pyencoding))) { return NULL; }
    return PyUnicode_AsEncodedString(u, codec, NULL);
}
