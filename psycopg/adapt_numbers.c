/* adapt_numbers.c - Boolean, Int, Float and Decimal adapters.
 *
 * Negative numbers get a leading space, as in psycopg2: a parameter
 * following a minus sign (`- %s`) must not form a `--` comment.
 */
#include "adapt_internal.h"

#include <math.h>
#include <string.h>

static PyObject *bytes_nan_float;       /* 'NaN'::float */
static PyObject *bytes_inf_float;       /* 'Infinity'::float */
static PyObject *bytes_ninf_float;      /* '-Infinity'::float */
static PyObject *bytes_nan_numeric;     /* 'NaN'::numeric */
static PyObject *str_is_finite;         /* "is_finite" */

/* Return a new reference to a constant literal. */
static PyObject *
constant(PyObject *c)
{
    Py_INCREF(c);
    return c;
}

/* bytes of a number's text, with a space before a minus sign. */
static PyObject *
number_literal(const char *s, Py_ssize_t len)
{
    PyObject *rv;

    if (len > 0 && s[0] == '-') {
        if (!(rv = PyBytes_FromStringAndSize(NULL, len + 1))) {
            return NULL;
        }
        PyBytes_AS_STRING(rv)[0] = ' ';
        memcpy(PyBytes_AS_STRING(rv) + 1, s, len);
        return rv;
    }
    return PyBytes_FromStringAndSize(s, len);
}

/* Literal from a str object (the result of str() or repr()). */
static PyObject *
number_literal_from_str(PyObject *str)
{
    const char *s;
    Py_ssize_t len;

    if (!str) {
        return NULL;
    }
    if (!PyUnicode_Check(str)) {
        PyErr_Format(PyExc_TypeError, "number formatted as %s, not str",
                     Py_TYPE(str)->tp_name);
        return NULL;
    }
    if (!(s = PyUnicode_AsUTF8AndSize(str, &len))) {
        return NULL;
    }
    return number_literal(s, len);
}

/* ---- Boolean ---- */

PyObject *
adapt_bool_quote(PyObject *obj)
{
    int truth = obj ? PyObject_IsTrue(obj) : 0;

    if (truth < 0) {
        return NULL;
    }
    return constant(truth ? adapt_bytes_true : adapt_bytes_false);
}

/* ---- Int ---- */

/* An exact int that fits a long long: formatted without Python objects. */
static PyObject *
int_quote_small(long long v)
{
    char buf[32];
    char *out = buf;
    unsigned long long u = (unsigned long long)v;

    if (v < 0) {
        *out++ = ' ';
        *out++ = '-';
        u = 0 - u;      /* also right for LLONG_MIN */
    }
    out = adapt_write_digits(out, u, 1);
    return PyBytes_FromStringAndSize(buf, out - buf);
}

PyObject *
adapt_int_quote(PyObject *obj)
{
    PyObject *num = NULL;
    PyObject *str = NULL;
    PyObject *rv = NULL;
    int overflow = 0;
    long long v;

    if (!obj) {
        obj = Py_None;
    }
    if (PyLong_CheckExact(obj)) {
        v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            goto exit;
        }
        if (!overflow) {
            rv = int_quote_small(v);
            goto exit;
        }
    }
    /* int(obj) first: subclasses (IntEnum...) format as plain ints */
    if (!(num = PyNumber_Long(obj))) {
        goto exit;
    }
    str = PyObject_Str(num);
    rv = number_literal_from_str(str);

exit:
    Py_XDECREF(num);
    Py_XDECREF(str);
    return rv;
}

/* ---- Float ---- */

PyObject *
adapt_float_quote(PyObject *obj)
{
    PyObject *str = NULL;
    PyObject *rv = NULL;
    char *s = NULL;
    double d;

    if (!obj) {
        obj = Py_None;
    }
    d = PyFloat_AsDouble(obj);
    if (d == -1.0 && PyErr_Occurred()) {
        goto exit;
    }
    if (isnan(d)) {
        rv = constant(bytes_nan_float);
    }
    else if (isinf(d)) {
        rv = constant(d > 0 ? bytes_inf_float : bytes_ninf_float);
    }
    else if (PyFloat_CheckExact(obj)) {
        /* the same conversion as float.__repr__ */
        if (!(s = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0,
                                        NULL))) {
            goto exit;
        }
        rv = number_literal(s, (Py_ssize_t)strlen(s));
    }
    else {
        str = PyObject_Repr(obj);
        rv = number_literal_from_str(str);
    }

exit:
    if (s) {
        PyMem_Free(s);
    }
    Py_XDECREF(str);
    return rv;
}

/* ---- Decimal ---- */

PyObject *
adapt_decimal_quote(PyObject *obj)
{
    PyObject *finite = NULL;
    PyObject *str = NULL;
    PyObject *rv = NULL;
    int truth;

    if (!obj) {
        obj = Py_None;
    }
    if (!(finite = PyObject_CallMethodNoArgs(obj, str_is_finite))) {
        goto exit;
    }
    if ((truth = PyObject_IsTrue(finite)) < 0) {
        goto exit;
    }
    if (!truth) {
        /* psycopg2 sends every non finite value as NaN */
        rv = constant(bytes_nan_numeric);
        goto exit;
    }
    str = PyObject_Str(obj);
    rv = number_literal_from_str(str);

exit:
    Py_XDECREF(finite);
    Py_XDECREF(str);
    return rv;
}

/* ---- the adapter types ---- */

static PyObject *
boolean_getquoted(adaptObject *self, PyObject *dummy)
{
    return adapt_bool_quote(self->wrapped);
}

static PyObject *
int_getquoted(adaptObject *self, PyObject *dummy)
{
    return adapt_int_quote(self->wrapped);
}

static PyObject *
float_getquoted(adaptObject *self, PyObject *dummy)
{
    return adapt_float_quote(self->wrapped);
}

static PyObject *
decimal_getquoted(adaptObject *self, PyObject *dummy)
{
    return adapt_decimal_quote(self->wrapped);
}

#define NUMBER_METHODS(name, func) \
    static PyMethodDef name[] = { \
        {"getquoted", (PyCFunction)func, METH_NOARGS, \
         "getquoted() -> wrapped object value as SQL-quoted string"}, \
        ADAPT_CONFORM_METHOD, \
        {NULL} \
    }

NUMBER_METHODS(boolean_methods, boolean_getquoted);
NUMBER_METHODS(int_methods, int_getquoted);
NUMBER_METHODS(float_methods, float_getquoted);
NUMBER_METHODS(decimal_methods, decimal_getquoted);

#define NUMBER_TYPE(var, name, doc, methods) \
    PyTypeObject var = { \
        PyVarObject_HEAD_INIT(NULL, 0) \
        .tp_name = name, \
        .tp_basicsize = sizeof(adaptObject), \
        .tp_dealloc = (destructor)adapt_base_dealloc, \
        .tp_str = (reprfunc)adapt_base_str, \
        .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE \
            | Py_TPFLAGS_HAVE_GC, \
        .tp_doc = doc, \
        .tp_traverse = (traverseproc)adapt_base_traverse, \
        .tp_clear = (inquiry)adapt_base_clear, \
        .tp_methods = methods, \
        .tp_members = adapt_base_members, \
        .tp_init = (initproc)adapt_base_init, \
        .tp_new = PyType_GenericNew, \
    }

NUMBER_TYPE(booleanType, "psycopg2.extensions.Boolean",
            "Boolean(str) -> new Boolean adapter object", boolean_methods);
NUMBER_TYPE(intType, "psycopg2.extensions.Int",
            "Int(str) -> new Int adapter object", int_methods);
NUMBER_TYPE(floatType, "psycopg2.extensions.Float",
            "Float(str) -> new Float adapter object", float_methods);
NUMBER_TYPE(decimalType, "psycopg2._psycopg.Decimal",
            "Decimal(str) -> new Decimal adapter object", decimal_methods);

/* Create the constant literals; called once by adapt_setup(). */
int
adapt_numbers_setup(void)
{
    if (!(bytes_nan_float = PyBytes_FromString("'NaN'::float"))
        || !(bytes_inf_float = PyBytes_FromString("'Infinity'::float"))
        || !(bytes_ninf_float = PyBytes_FromString("'-Infinity'::float"))
        || !(bytes_nan_numeric = PyBytes_FromString("'NaN'::numeric"))
        || !(str_is_finite = PyUnicode_InternFromString("is_finite"))) {
        return -1;
    }
    return 0;
}
