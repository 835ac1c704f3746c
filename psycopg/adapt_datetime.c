/* adapt_datetime.c - date/time adapters and the DB-API constructors.
 *
 * A single adapter type (psycopg2._psycopg.datetime) wraps a Python
 * date, time, datetime or timedelta with a `type` saying which SQL type to
 * cast it to.  The literal is the ISO format of the object:
 *   '2020-01-02'::date, '10:20:30'::time, '10:20:30+02:00'::timetz,
 *   '2020-01-02T10:20:30'::timestamp, '...+01:00'::timestamptz,
 *   '1 days 3600.000000 seconds'::interval
 * An object with a tzinfo (even one whose offset is None) gets the tz
 * variant of the type.
 */
#include "adapt_internal.h"

#include <datetime.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static PyObject *str_isoformat;     /* "isoformat" */
static PyObject *str_tzinfo;        /* "tzinfo" */

/* ---- formatting ---- */

/* bytes from a printf-formatted literal short enough for the stack */
static PyObject *
literal_from_buf(const char *buf, int n, size_t size)
{
    if (n < 0 || (size_t)n >= size) {
        PyErr_SetString(PyExc_ValueError, "date/time literal too long");
        return NULL;
    }
    return PyBytes_FromStringAndSize(buf, n);
}

static PyObject *
quote_interval(PyObject *obj)
{
    char buf[80];
    int n;

    if (!PyDelta_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "interval adapter expects a timedelta, got %s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    n = snprintf(buf, sizeof(buf), "'%d days %d.%06d seconds'::interval",
                 PyDateTime_DELTA_GET_DAYS(obj),
                 PyDateTime_DELTA_GET_SECONDS(obj),
                 PyDateTime_DELTA_GET_MICROSECONDS(obj));
    return literal_from_buf(buf, n, sizeof(buf));
}

/* 1 if obj.tzinfo is not None, 0 if it is (or there is none), -1 error */
static int
has_tzinfo(PyObject *obj)
{
    PyObject *tz;
    int rv;

    if (!(tz = PyObject_GetAttr(obj, str_tzinfo))) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    rv = (tz != Py_None);
    Py_DECREF(tz);
    return rv;
}

/* The SQL type name for an object quoted as `type`, or NULL on error. */
static const char *
cast_name(PyObject *obj, int type)
{
    int tz;

    if (type == ADAPT_DT_DATE) {
        return "date";
    }
    if ((tz = has_tzinfo(obj)) < 0) {
        return NULL;
    }
    if (type == ADAPT_DT_TIME) {
        return tz ? "timetz" : "time";
    }
    return tz ? "timestamptz" : "timestamp";
}

/* 'obj.isoformat()'::cast */
static PyObject *
quote_isoformat(PyObject *obj, const char *cast)
{
    PyObject *iso = NULL;
    PyObject *rv = NULL;
    const char *s;

    if (!(iso = PyObject_CallMethodNoArgs(obj, str_isoformat))) {
        goto exit;
    }
    if (!PyUnicode_Check(iso)) {
        PyErr_Format(PyExc_TypeError, "isoformat() returned %s, not str",
                     Py_TYPE(iso)->tp_name);
        goto exit;
    }
    if (!(s = PyUnicode_AsUTF8(iso))) {
        goto exit;
    }
    rv = PyBytes_FromFormat("'%s'::%s", s, cast);

exit:
    Py_XDECREF(iso);
    return rv;
}

PyObject *
adapt_datetime_quote(PyObject *obj, int type)
{
    const char *cast;

    if (!obj) {
        obj = Py_None;
    }
    if (type == ADAPT_DT_INTERVAL) {
        return quote_interval(obj);
    }
    if (!(cast = cast_name(obj, type))) {
        return NULL;
    }
    return quote_isoformat(obj, cast);
}

/* ---- fast formatting of the exact standard types ---- */

#if PY_VERSION_HEX >= 0x030A0000
#define DATETIME_IS_AWARE(o) (PyDateTime_DATE_GET_TZINFO(o) != Py_None)
#define TIME_IS_AWARE(o) (PyDateTime_TIME_GET_TZINFO(o) != Py_None)
#else
#define DATETIME_IS_AWARE(o) (((PyDateTime_DateTime *)(o))->hastzinfo)
#define TIME_IS_AWARE(o) (((PyDateTime_Time *)(o))->hastzinfo)
#endif

/* Write YYYY-MM-DD at out, return the end. */
static char *
write_ymd(char *out, int y, int m, int d)
{
    out = adapt_write_digits(out, (unsigned)y, 4);
    *out++ = '-';
    out = adapt_write_digits(out, (unsigned)m, 2);
    *out++ = '-';
    return adapt_write_digits(out, (unsigned)d, 2);
}

/* Write HH:MM:SS[.ffffff] (as isoformat() does) at out, return the end. */
static char *
write_hms(char *out, int h, int m, int s, int us)
{
    out = adapt_write_digits(out, (unsigned)h, 2);
    *out++ = ':';
    out = adapt_write_digits(out, (unsigned)m, 2);
    *out++ = ':';
    out = adapt_write_digits(out, (unsigned)s, 2);
    if (us) {
        *out++ = '.';
        out = adapt_write_digits(out, (unsigned)us, 6);
    }
    return out;
}

/* buf + suffix as bytes */
static PyObject *
literal_with_suffix(char *buf, char *out, const char *suffix)
{
    size_t n = strlen(suffix);

    memcpy(out, suffix, n);
    return PyBytes_FromStringAndSize(buf, (out - buf) + (Py_ssize_t)n);
}

static PyObject *
quote_exact_date(PyObject *obj)
{
    char buf[48];
    char *out = buf;

    *out++ = '\'';
    out = write_ymd(out, PyDateTime_GET_YEAR(obj), PyDateTime_GET_MONTH(obj),
                    PyDateTime_GET_DAY(obj));
    return literal_with_suffix(buf, out, "'::date");
}

static PyObject *
quote_exact_datetime(PyObject *obj)
{
    char buf[64];
    char *out = buf;

    if (DATETIME_IS_AWARE(obj)) {
        return quote_isoformat(obj, "timestamptz");
    }
    *out++ = '\'';
    out = write_ymd(out, PyDateTime_GET_YEAR(obj), PyDateTime_GET_MONTH(obj),
                    PyDateTime_GET_DAY(obj));
    *out++ = 'T';
    out = write_hms(out, PyDateTime_DATE_GET_HOUR(obj),
                    PyDateTime_DATE_GET_MINUTE(obj),
                    PyDateTime_DATE_GET_SECOND(obj),
                    PyDateTime_DATE_GET_MICROSECOND(obj));
    return literal_with_suffix(buf, out, "'::timestamp");
}

static PyObject *
quote_exact_time(PyObject *obj)
{
    char buf[48];
    char *out = buf;

    if (TIME_IS_AWARE(obj)) {
        return quote_isoformat(obj, "timetz");
    }
    *out++ = '\'';
    out = write_hms(out, PyDateTime_TIME_GET_HOUR(obj),
                    PyDateTime_TIME_GET_MINUTE(obj),
                    PyDateTime_TIME_GET_SECOND(obj),
                    PyDateTime_TIME_GET_MICROSECOND(obj));
    return literal_with_suffix(buf, out, "'::time");
}

PyObject *
adapt_pydatetime_quote_exact(PyObject *obj)
{
    if (PyDateTime_CheckExact(obj)) {
        return quote_exact_datetime(obj);
    }
    if (PyDate_CheckExact(obj)) {
        return quote_exact_date(obj);
    }
    if (PyTime_CheckExact(obj)) {
        return quote_exact_time(obj);
    }
    if (PyDelta_CheckExact(obj)) {
        return quote_interval(obj);
    }
    PyErr_Format(PyExc_TypeError, "not a date/time object: %s",
                 Py_TYPE(obj)->tp_name);
    return NULL;
}

/* ---- the adapter type ---- */

/* New adapter wrapping `obj` (a new reference, stolen even on error). */
static PyObject *
pydatetime_wrap(PyObject *obj, int type)
{
    adaptObject *self;

    if (!obj) {
        return NULL;
    }
    self = (adaptObject *)pydatetimeType.tp_alloc(&pydatetimeType, 0);
    if (!self) {
        Py_DECREF(obj);
        return NULL;
    }
    self->wrapped = obj;
    self->type = type;
    return (PyObject *)self;
}

static int
pydatetime_init(adaptObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"obj", "type", NULL};
    PyObject *obj;
    int type;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Oi", kwlist, &obj,
                                     &type)) {
        return -1;
    }
    if (type < ADAPT_DT_TIME || type > ADAPT_DT_INTERVAL) {
        PyErr_Format(PyExc_ValueError, "invalid date/time type: %d", type);
        return -1;
    }
    Py_INCREF(obj);
    Py_XSETREF(self->wrapped, obj);
    self->type = type;
    return 0;
}

static PyObject *
pydatetime_getquoted(adaptObject *self, PyObject *dummy)
{
    return adapt_datetime_quote(self->wrapped, self->type);
}

static PyMemberDef pydatetime_members[] = {
    {"adapted", T_OBJECT, offsetof(adaptObject, wrapped), READONLY,
     "The date/time object being adapted."},
    {"type", T_INT, offsetof(adaptObject, type), READONLY,
     "0 time, 1 date, 2 timestamp, 3 interval."},
    {NULL}
};

static PyMethodDef pydatetime_methods[] = {
    {"getquoted", (PyCFunction)pydatetime_getquoted, METH_NOARGS,
     "getquoted() -> wrapped object value as an SQL date/time literal"},
    ADAPT_CONFORM_METHOD,
    {NULL}
};

PyTypeObject pydatetimeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2._psycopg.datetime",
    .tp_basicsize = sizeof(adaptObject),
    .tp_dealloc = (destructor)adapt_base_dealloc,
    .tp_str = (reprfunc)adapt_base_str,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "datetime(obj, type) -> adapter of a date/time object",
    .tp_traverse = (traverseproc)adapt_base_traverse,
    .tp_clear = (inquiry)adapt_base_clear,
    .tp_methods = pydatetime_methods,
    .tp_members = pydatetime_members,
    .tp_init = (initproc)pydatetime_init,
    .tp_new = PyType_GenericNew,
};

/* ---- *FromPy: adapters of Python objects ---- */

static PyObject *
wrap_checked(PyObject *args, PyTypeObject *required, int type)
{
    PyObject *obj;

    if (!PyArg_ParseTuple(args, "O!", required, &obj)) {
        return NULL;
    }
    Py_INCREF(obj);
    return pydatetime_wrap(obj, type);
}

static PyObject *
date_from_py(PyObject *self, PyObject *args)
{
    return wrap_checked(args, PyDateTimeAPI->DateType, ADAPT_DT_DATE);
}

static PyObject *
time_from_py(PyObject *self, PyObject *args)
{
    return wrap_checked(args, PyDateTimeAPI->TimeType, ADAPT_DT_TIME);
}

static PyObject *
timestamp_from_py(PyObject *self, PyObject *args)
{
    return wrap_checked(args, PyDateTimeAPI->DateTimeType,
                        ADAPT_DT_TIMESTAMP);
}

static PyObject *
interval_from_py(PyObject *self, PyObject *args)
{
    return wrap_checked(args, PyDateTimeAPI->DeltaType, ADAPT_DT_INTERVAL);
}

/* ---- DB-API constructors ---- */

/* Split float seconds into whole seconds and rounded microseconds (which
 * may reach 1000000: the datetime constructor then rejects them). */
static void
split_seconds(double seconds, int *s, int *us)
{
    double whole = floor(seconds);

    *s = (int)whole;
    *us = (int)round((seconds - whole) * 1e6);
}

static PyObject *
psyco_Date(PyObject *self, PyObject *args)
{
    int year, month, day;

    if (!PyArg_ParseTuple(args, "iii", &year, &month, &day)) {
        return NULL;
    }
    return pydatetime_wrap(PyDate_FromDate(year, month, day),
                           ADAPT_DT_DATE);
}

static PyObject *
psyco_Time(PyObject *self, PyObject *args)
{
    int hour, minute, s, us;
    double second;
    PyObject *tz = Py_None;

    if (!PyArg_ParseTuple(args, "iid|O", &hour, &minute, &second, &tz)) {
        return NULL;
    }
    if (second < INT_MIN || second > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "second must be in 0..59");
        return NULL;
    }
    split_seconds(second, &s, &us);
    return pydatetime_wrap(PyObject_CallFunction(
        (PyObject *)PyDateTimeAPI->TimeType, "iiiiO",
        hour, minute, s, us, tz), ADAPT_DT_TIME);
}

static PyObject *
psyco_Timestamp(PyObject *self, PyObject *args)
{
    int year, month, day, hour = 0, minute = 0, s, us;
    double second = 0.0;
    PyObject *tz = Py_None;

    if (!PyArg_ParseTuple(args, "iii|iidO", &year, &month, &day,
                          &hour, &minute, &second, &tz)) {
        return NULL;
    }
    if (second < INT_MIN || second > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "second must be in 0..59");
        return NULL;
    }
    split_seconds(second, &s, &us);
    return pydatetime_wrap(PyObject_CallFunction(
        (PyObject *)PyDateTimeAPI->DateTimeType, "iiiiiiiO",
        year, month, day, hour, minute, s, us, tz), ADAPT_DT_TIMESTAMP);
}

/* Local time of `ticks` (seconds since the epoch) and its microseconds.
 * 0 ok, -1 with InterfaceError set. */
static int
ticks_to_local(double ticks, struct tm *tm, int *us)
{
    double whole = floor(ticks);
    time_t t;

    /* beyond this localtime() cannot represent the year anyway */
    if (!isfinite(ticks) || whole < -1e17 || whole > 1e17) {
        goto error;
    }
    t = (time_t)whole;
    *us = (int)round((ticks - whole) * 1e6);
    if (*us > 999999) {
        *us = 999999;
    }
    if (!localtime_r(&t, tm)) {
        goto error;
    }
    if (tm->tm_sec > 59) {
        tm->tm_sec = 59;    /* leap second: Python times stop at 59 */
    }
    return 0;

error:
    PyErr_SetString(ADAPT_EXC(InterfaceError, PyExc_OverflowError),
                    "failed localtime call");
    return -1;
}

static PyObject *
psyco_DateFromTicks(PyObject *self, PyObject *args)
{
    struct tm tm;
    double ticks;
    int us;

    if (!PyArg_ParseTuple(args, "d", &ticks)
            || ticks_to_local(ticks, &tm, &us) < 0) {
        return NULL;
    }
    return pydatetime_wrap(PyDate_FromDate(tm.tm_year + 1900, tm.tm_mon + 1,
                                           tm.tm_mday), ADAPT_DT_DATE);
}

static PyObject *
psyco_TimeFromTicks(PyObject *self, PyObject *args)
{
    struct tm tm;
    double ticks;
    int us;

    if (!PyArg_ParseTuple(args, "d", &ticks)
            || ticks_to_local(ticks, &tm, &us) < 0) {
        return NULL;
    }
    return pydatetime_wrap(PyTime_FromTime(tm.tm_hour, tm.tm_min, tm.tm_sec,
                                           us), ADAPT_DT_TIME);
}

/* The local time zone at `tm` as a datetime.timezone with its name. */
static PyObject *
local_timezone(const struct tm *tm)
{
    PyObject *offset = NULL;
    PyObject *name = NULL;
    PyObject *rv = NULL;

    if (!(offset = PyDelta_FromDSU(0, (int)tm->tm_gmtoff, 0))) {
        goto exit;
    }
    if (!tm->tm_zone) {
        rv = PyTimeZone_FromOffset(offset);
        goto exit;
    }
    if (!(name = PyUnicode_DecodeLocale(tm->tm_zone, "surrogateescape"))) {
        goto exit;
    }
    rv = PyTimeZone_FromOffsetAndName(offset, name);

exit:
    Py_XDECREF(offset);
    Py_XDECREF(name);
    return rv;
}

static PyObject *
psyco_TimestampFromTicks(PyObject *self, PyObject *args)
{
    PyObject *tz = NULL;
    PyObject *rv = NULL;
    struct tm tm;
    double ticks;
    int us;

    if (!PyArg_ParseTuple(args, "d", &ticks)
            || ticks_to_local(ticks, &tm, &us) < 0) {
        goto exit;
    }
    if (!(tz = local_timezone(&tm))) {
        goto exit;
    }
    rv = pydatetime_wrap(PyDateTimeAPI->DateTime_FromDateAndTime(
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
        tm.tm_min, tm.tm_sec, us, tz, PyDateTimeAPI->DateTimeType),
        ADAPT_DT_TIMESTAMP);

exit:
    Py_XDECREF(tz);
    return rv;
}

static PyMethodDef datetime_functions[] = {
    {"DateFromPy", date_from_py, METH_VARARGS,
     "DateFromPy(datetime.date) -> adapter of the date"},
    {"TimeFromPy", time_from_py, METH_VARARGS,
     "TimeFromPy(datetime.time) -> adapter of the time"},
    {"TimestampFromPy", timestamp_from_py, METH_VARARGS,
     "TimestampFromPy(datetime.datetime) -> adapter of the timestamp"},
    {"IntervalFromPy", interval_from_py, METH_VARARGS,
     "IntervalFromPy(datetime.timedelta) -> adapter of the interval"},
    {"Date", psyco_Date, METH_VARARGS,
     "Date(year, month, day) -> date value for a query parameter"},
    {"Time", psyco_Time, METH_VARARGS,
     "Time(hour, minutes, seconds, tzinfo=None) -> time value for a "
     "query parameter"},
    {"Timestamp", psyco_Timestamp, METH_VARARGS,
     "Timestamp(year, month, day, hour=0, minutes=0, seconds=0, "
     "tzinfo=None) -> timestamp value for a query parameter"},
    {"DateFromTicks", psyco_DateFromTicks, METH_VARARGS,
     "DateFromTicks(ticks) -> local date of a time.time() value"},
    {"TimeFromTicks", psyco_TimeFromTicks, METH_VARARGS,
     "TimeFromTicks(ticks) -> local time of a time.time() value"},
    {"TimestampFromTicks", psyco_TimestampFromTicks, METH_VARARGS,
     "TimestampFromTicks(ticks) -> local timestamp, with its time zone, "
     "of a time.time() value"},
    {NULL}
};

/* Register `func_name` (a module function) as the adapter of `type`. */
static int
register_module_function(PyObject *module, PyTypeObject *type,
                         const char *func_name)
{
    PyObject *func;
    int rv;

    if (!(func = PyObject_GetAttrString(module, func_name))) {
        return -1;
    }
    rv = adapt_register((PyObject *)type, func);
    Py_DECREF(func);
    return rv;
}

static PyObject *
fast_datetime(PyObject *obj, connectionObject *conn)
{
    return adapt_pydatetime_quote_exact(obj);
}

/* Register the *FromPy functions as the adapters of the datetime types
 * and give the types a fast path. */
static int
register_datetime_type(PyObject *module, PyTypeObject *type,
                       const char *func_name)
{
    if (register_module_function(module, type, func_name) < 0) {
        return -1;
    }
    return adapt_fast_add(type, fast_datetime);
}

int
adapt_datetime_setup(PyObject *module)
{
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) {
        return -1;
    }
    if (!(str_isoformat = PyUnicode_InternFromString("isoformat"))
            || !(str_tzinfo = PyUnicode_InternFromString("tzinfo"))) {
        return -1;
    }
    if (PyType_Ready(&pydatetimeType) < 0
            || PyModule_AddFunctions(module, datetime_functions) < 0) {
        return -1;
    }
    if (register_datetime_type(module, PyDateTimeAPI->DateTimeType,
                               "TimestampFromPy") < 0
        || register_datetime_type(module, PyDateTimeAPI->DateType,
                                  "DateFromPy") < 0
        || register_datetime_type(module, PyDateTimeAPI->TimeType,
                                  "TimeFromPy") < 0
        || register_datetime_type(module, PyDateTimeAPI->DeltaType,
                                  "IntervalFromPy") < 0) {
        return -1;
    }
    return 0;
}
