/* typecast_basic.c - casters of the scalar types: integers, floats,
 * numeric, text, bytes, boolean.
 *
 * These are on the hot path of every fetch: they parse the server's text
 * directly, without building intermediate Python strings when possible.
 */

#include "typecast_internal.h"

/* Longest digit string that surely fits a long long. */
#define FAST_INT_DIGITS 18

/* Slow path of the integer parsing: whitespace, underscores, big numbers
 * and the error message of int(). */
static PyObject *
parse_int_slow(const char *s, Py_ssize_t len)
{
    if ((Py_ssize_t)strlen(s) != len) {
        PyErr_SetString(PyExc_ValueError,
                        "invalid literal for int(): embedded NUL character");
        return NULL;
    }
    return PyLong_FromString(s, NULL, 10);
}

/* int2, int4, int8, oid -> int */
PyObject *
typecast_INTEGER_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    const char *p = s, *end = s + len;
    long long value = 0;
    int negative = 0;

    if (s == NULL) {
        Py_RETURN_NONE;
    }
    if (p < end && (*p == '-' || *p == '+')) {
        negative = (*p == '-');
        p++;
    }
    if (p == end || end - p > FAST_INT_DIGITS) {
        return parse_int_slow(s, len);
    }
    for (; p < end; p++) {
        unsigned int dv = (unsigned int)((unsigned char)*p - '0');
        if (dv > 9) {
            return parse_int_slow(s, len);
        }
        value = value * 10 + dv;
    }
    return PyLong_FromLongLong(negative ? -value : value);
}

/* float4, float8 -> float (also 'NaN', 'Infinity', '-Infinity') */
PyObject *
typecast_FLOAT_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    PyObject *str = NULL, *rv = NULL;
    char *end = NULL;
    double value;

    if (s == NULL) {
        Py_RETURN_NONE;
    }
    value = PyOS_string_to_double(s, &end, NULL);
    if (end == s + len && len > 0 && !PyErr_Occurred()) {
        return PyFloat_FromDouble(value);
    }
    /* Let float() deal with whitespace and give its error message. */
    PyErr_Clear();
    if (!(str = PyUnicode_DecodeUTF8(s, len, "replace"))) {
        goto exit;
    }
    rv = PyFloat_FromString(str);

exit:
    Py_XDECREF(str);
    return rv;
}

/* decimal.Decimal, looked up once. */
static PyObject *decimal_type = NULL;

static PyObject *
get_decimal_type(void)
{
    PyObject *module;

    if (decimal_type != NULL) {
        return decimal_type;
    }
    if (psyco_DecimalType != NULL) {
        Py_INCREF(psyco_DecimalType);
        decimal_type = psyco_DecimalType;
        return decimal_type;
    }
    if (!(module = PyImport_ImportModule("decimal"))) {
        return NULL;
    }
    decimal_type = PyObject_GetAttrString(module, "Decimal");
    Py_DECREF(module);
    return decimal_type;
}

/* str of a text expected to be ASCII: a plain copy when it is, else
 * decoded as UTF-8 with replacement characters. */
static PyObject *
ascii_str(const char *s, Py_ssize_t len)
{
    PyObject *u;
    Py_ssize_t i;

    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] >= 0x80) {
            return PyUnicode_DecodeUTF8(s, len, "replace");
        }
    }
    if (len == 0) {
        return PyUnicode_FromStringAndSize(s, 0);
    }
    if (!(u = PyUnicode_New(len, 0x7f))) {
        return NULL;
    }
    memcpy(PyUnicode_1BYTE_DATA(u), s, len);
    return u;
}

#ifndef Py_GIL_DISABLED
/* The (str,) tuple of the last Decimal call, kept for the next one when
 * nobody else holds it (its item is cleared in between). */
static PyObject *decimal_args = NULL;

/* type(str) for a plain class whose instances have no __init__ of their
 * own (decimal.Decimal): what type.__call__ would do, minus building and
 * freeing an argument tuple per call.  NULL with *done = 0 if `type` is
 * not such a class. */
static PyObject *
call_plain_type(PyObject *type, PyObject *str, int *done)
{
    PyTypeObject *tp = (PyTypeObject *)type;
    PyObject *args, *rv;

    *done = 0;
    if (!PyType_CheckExact(type) || tp->tp_new == NULL
            || tp->tp_init != PyBaseObject_Type.tp_init) {
        return NULL;
    }
    *done = 1;
    args = decimal_args;
    decimal_args = NULL;
    if (args == NULL) {
        if (!(args = PyTuple_New(1))) {
            return NULL;
        }
        PyObject_GC_UnTrack(args);
    }
    Py_INCREF(str);
    PyTuple_SET_ITEM(args, 0, str);
    rv = tp->tp_new(tp, args, NULL);
    if (Py_REFCNT(args) == 1 && decimal_args == NULL) {
        PyTuple_SET_ITEM(args, 0, NULL);
        Py_DECREF(str);
        decimal_args = args;
    }
    else {
        Py_DECREF(args);
    }
    return rv;
}
#endif

/* numeric -> decimal.Decimal (also 'NaN' and the infinities) */
PyObject *
typecast_DECIMAL_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    PyObject *type, *str = NULL, *rv = NULL;

    if (s == NULL) {
        Py_RETURN_NONE;
    }
    if (!(type = get_decimal_type())) {
        goto exit;
    }
    /* numbers are ASCII in every server encoding */
    if (!(str = ascii_str(s, len))) {
        goto exit;
    }
#ifndef Py_GIL_DISABLED
    {
        int done;
        rv = call_plain_type(type, str, &done);
        if (done) {
            goto exit;
        }
    }
#endif
    rv = PyObject_Vectorcall(type, &str, 1, NULL);

exit:
    Py_XDECREF(str);
    return rv;
}

/* text, varchar, bpchar, name, char, unknown, default -> str */
PyObject *
typecast_STRING_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    if (s == NULL) {
        Py_RETURN_NONE;
    }
    return typecast_decode_text(s, len, curs);
}

/* the same types as raw bytes, not decoded */
PyObject *
typecast_BYTES_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    if (s == NULL) {
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize(s, len);
}

/* bool: the server sends 't' or 'f' */
PyObject *
typecast_BOOLEAN_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    if (s == NULL) {
        Py_RETURN_NONE;
    }
    switch (len > 0 ? s[0] : '\0') {
    case 't':
    case 'T':
        Py_RETURN_TRUE;
    case 'f':
    case 'F':
        Py_RETURN_FALSE;
    default:
        PyErr_Format(InterfaceError, "can't parse boolean: '%.200s'", s);
        return NULL;
    }
}
