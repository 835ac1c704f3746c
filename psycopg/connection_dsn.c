/* connection_dsn.c - connection strings: libpq options as a dict, the dsn
 * shown with the password masked.
 */

#include "connection_priv.h"

#include <string.h>

PyObject *
conn_dict_from_options(PQconninfoOption *options, int include_password)
{
    PyObject *dict = NULL, *value = NULL, *rv = NULL;
    PQconninfoOption *o;

    if (!(dict = PyDict_New())) { goto exit; }
    for (o = options; o->keyword; o++) {
        if (!o->val) { continue; }
        /* '*' marks the options libpq hides: password, sslpassword */
        if (!include_password && o->dispchar && strchr(o->dispchar, '*')) {
            continue;
        }
        if (!(value = PyUnicode_FromString(o->val))) { goto exit; }
        if (PyDict_SetItemString(dict, o->keyword, value) < 0) { goto exit; }
        Py_CLEAR(value);
    }
    rv = dict;
    dict = NULL;

exit:
    Py_XDECREF(value);
    Py_XDECREF(dict);
    return rv;
}

/* Append `value` to `buf` quoted as make_dsn() does: '' when empty,
 * backslash before \ and ', single quotes around values with spaces. */
static void
append_dsn_value(char *buf, size_t *pos, const char *value)
{
    const char *c;
    int spaces = 0;

    if (!*value) {
        buf[(*pos)++] = '\'';
        buf[(*pos)++] = '\'';
        return;
    }
    for (c = value; *c; c++) {
        if (strchr(" \t\n\r\f\v", *c)) { spaces = 1; }
    }
    if (spaces) { buf[(*pos)++] = '\''; }
    for (c = value; *c; c++) {
        if (*c == '\\' || *c == '\'') { buf[(*pos)++] = '\\'; }
        buf[(*pos)++] = *c;
    }
    if (spaces) { buf[(*pos)++] = '\''; }
}

/* "key=value ..." of the options having a value, password as xxx. */
static PyObject *
masked_dsn_from_options(PQconninfoOption *options)
{
    PyObject *rv = NULL;
    PQconninfoOption *o;
    size_t size = 1, pos = 0;
    char *buf = NULL;

    /* worst case: every value char escaped, plus quotes and separators */
    for (o = options; o->keyword; o++) {
        if (o->val) { size += strlen(o->keyword) + 2 * strlen(o->val) + 8; }
    }
    if (!(buf = PyMem_Malloc(size))) {
        PyErr_NoMemory();
        goto exit;
    }
    for (o = options; o->keyword; o++) {
        if (!o->val) { continue; }
        if (pos) { buf[pos++] = ' '; }
        memcpy(buf + pos, o->keyword, strlen(o->keyword));
        pos += strlen(o->keyword);
        buf[pos++] = '=';
        append_dsn_value(buf, &pos,
            strcmp(o->keyword, "password") ? o->val : "xxx");
    }
    rv = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)pos, "replace");

exit:
    PyMem_Free(buf);
    return rv;
}

PyObject *
conn_obscure_dsn(const char *dsn)
{
    PyObject *rv = NULL;
    PQconninfoOption *options = NULL, *o;
    char *err = NULL;
    int has_password = 0;

    if (!(options = PQconninfoParse(dsn, &err))) {
        /* what psycopg2 raises when the connection class itself gets a
         * bad dsn (psycopg2.connect() validates it before) */
        PyErr_SetString(InternalError, "the connection string is not valid");
        goto exit;
    }
    for (o = options; o->keyword; o++) {
        if (o->val && 0 == strcmp(o->keyword, "password")) {
            has_password = 1;
        }
    }
    if (has_password) {
        rv = masked_dsn_from_options(options);
    }
    else {
        rv = PyUnicode_DecodeUTF8(dsn, (Py_ssize_t)strlen(dsn), "replace");
    }

exit:
    if (options) { PQconninfoFree(options); }
    if (err) { PQfreemem(err); }
    return rv;
}

int
conn_is_replication(connectionObject *self)
{
    PQconninfoOption *options, *o;
    int rv = 0;

    if (!self->pgconn || !(options = PQconninfo(self->pgconn))) { return 0; }
    for (o = options; o->keyword; o++) {
        if (0 == strcmp(o->keyword, "replication") && o->val && *o->val
                && strcmp(o->val, "false") && strcmp(o->val, "0")
                && strcmp(o->val, "off") && strcmp(o->val, "no")) {
            rv = 1;
        }
    }
    PQconninfoFree(options);
    return rv;
}
