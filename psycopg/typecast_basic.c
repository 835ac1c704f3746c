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
    if (!(str = PyUnicode_DecodeUTF8(s, len, "replace"))) {
        goto exit;
    }
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
