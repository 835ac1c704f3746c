/* typecast_datetime.c - date, time, timetz, timestamp, timestamptz.
 *
 * The connection sets DateStyle to ISO, so the server sends:
 *   date         2020-01-02 [BC] (the date caster also takes the date of
 *                a timestamp, as psycopg2 does)
 *   time[tz]     03:04:05[.123456][+02[:30[:15]]]
 *   timestamp    2020-01-02 03:04:05[.123456][+02[:30[:15]]] [BC]
 * and 'infinity' / '-infinity' for dates and timestamps, which become the
 * max / min value of the Python type, like psycopg2.  Values are parsed by
 * hand and built with the datetime C API.
 *
 * Aware values get their tzinfo from cursor.tzinfo_factory(timedelta).
 * With the default factory (datetime.timezone) the tzinfo objects are
 * cached per offset: fetching many timestamptz builds a few of them only.
 */

#include "typecast_internal.h"

#include <datetime.h>

/* A parsed value: the fields that the text had. */
typedef struct {
    int year, month, day;
    int hour, minute, second, usec;
    int has_tz;
    int tz_offset;          /* seconds east of UTC */
} pgdatetime;

/* ------------------------------------------------------------------ */
/* Parsing                                                            */

/* Read exactly 1 or 2 digits (a field of a time). */
static int
parse_small(const char **pp, const char *end, int *value)
{
    long long v;
    int n = typecast_parse_digits(pp, end, 2, &v);

    if (n <= 0) {
        return -1;
    }
    *value = (int)v;
    return 0;
}

/* Y-M-D: the year can have more than 4 digits; the datetime constructor
 * rejects the years it can't represent. */
static int
parse_date_part(const char **pp, const char *end, pgdatetime *dt)
{
    long long year;

    if (typecast_parse_digits(pp, end, 9, &year) <= 0) {
        return -1;
    }
    dt->year = (int)year;
    if (*pp >= end || **pp != '-') {
        return -1;
    }
    (*pp)++;
    if (parse_small(pp, end, &dt->month) < 0) {
        return -1;
    }
    if (*pp >= end || **pp != '-') {
        return -1;
    }
    (*pp)++;
    return parse_small(pp, end, &dt->day);
}

/* H:M:S[.[ffffff]], the seconds required as in psycopg2 ("13:30" is not
 * a time).  A second 60 or more (a leap second) carries into the minutes,
 * as psycopg2 does. */
static int
parse_time_part(const char **pp, const char *end, pgdatetime *dt)
{
    long long usec = 0;

    if (parse_small(pp, end, &dt->hour) < 0) {
        return -1;
    }
    if (*pp >= end || **pp != ':') {
        return -1;
    }
    (*pp)++;
    if (parse_small(pp, end, &dt->minute) < 0) {
        return -1;
    }
    if (*pp >= end || **pp != ':') {
        return -1;
    }
    (*pp)++;
    if (parse_small(pp, end, &dt->second) < 0) {
        return -1;
    }
    if (*pp < end && **pp == '.') {
        (*pp)++;
        /* psycopg2 takes a '.' without digits as no fraction */
        if (*pp < end && **pp >= '0' && **pp <= '9'
                && typecast_parse_usecs(pp, end, 0, &usec) < 0) {
            return -1;
        }
    }
    if (dt->second > 59) {
        dt->minute += 1;
        dt->second -= 60;
    }
    dt->usec = (int)usec;
    return 0;
}

/* Optional offset: +HH, +HH:MM, +HH:MM:SS (or without colons). */
static int
parse_tz_part(const char **pp, const char *end, pgdatetime *dt)
{
    int sign, hh = 0, mm = 0, ss = 0;

    if (*pp >= end || (**pp != '+' && **pp != '-')) {
        return 0;
    }
    sign = (**pp == '-') ? -1 : 1;
    (*pp)++;
    if (parse_small(pp, end, &hh) < 0) {
        return -1;
    }
    if (*pp < end && **pp == ':') {
        (*pp)++;
    }
    if (*pp < end && **pp >= '0' && **pp <= '9') {
        if (parse_small(pp, end, &mm) < 0) {
            return -1;
        }
        if (*pp < end && **pp == ':') {
            (*pp)++;
        }
        if (*pp < end && **pp >= '0' && **pp <= '9') {
            if (parse_small(pp, end, &ss) < 0) {
                return -1;
            }
        }
    }
    dt->has_tz = 1;
    dt->tz_offset = sign * (hh * 3600 + mm * 60 + ss);
    return 0;
}

/* Optional " BC": the year becomes negative, which the datetime
 * constructors reject with "year -N is out of range", as psycopg2. */
static void
parse_era(const char **pp, const char *end, pgdatetime *dt)
{
    if (end - *pp == 3 && memcmp(*pp, " BC", 3) == 0) {
        dt->year = -dt->year;
        *pp = end;
    }
}

static int
is_literal(const char *s, Py_ssize_t len, const char *lit)
{
    return (size_t)len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* ------------------------------------------------------------------ */
/* tzinfo                                                             */

#define TZ_CACHE_SIZE 64

static struct {
    int offset;
    PyObject *tz;
} tz_cache[TZ_CACHE_SIZE];

/* datetime.timezone, the default tzinfo_factory */
static PyObject *timezone_type = NULL;

/* New reference to datetime.timezone(timedelta(seconds=offset)). */
static PyObject *
cached_timezone(int offset)
{
    unsigned int idx = ((uint32_t)offset * 2654435761u) >> 26;
    PyObject *delta = NULL, *tz = NULL;

    if (tz_cache[idx].tz != NULL && tz_cache[idx].offset == offset) {
        Py_INCREF(tz_cache[idx].tz);
        return tz_cache[idx].tz;
    }
    if (!(delta = PyDelta_FromDSU(0, offset, 0))) {
        goto exit;
    }
    if (!(tz = PyTimeZone_FromOffset(delta))) {
        goto exit;
    }
    Py_INCREF(tz);
    Py_XSETREF(tz_cache[idx].tz, tz);
    tz_cache[idx].offset = offset;

exit:
    Py_XDECREF(delta);
    return tz;
}

/* The cursor's tzinfo_factory, or NULL for the default one. */
static PyObject *
tzinfo_factory(PyObject *curs)
{
    PyObject *factory;

    if (curs == NULL || curs == Py_None || !cursor_Check(curs)) {
        return NULL;
    }
    factory = ((cursorObject *)curs)->tzinfo_factory;
    return factory == timezone_type ? NULL : factory;
}

/* New reference to the tzinfo for `offset` seconds: Py_None if the
 * cursor's tzinfo_factory is None (naive results). */
static PyObject *
get_tzinfo(PyObject *curs, int offset)
{
    PyObject *factory = tzinfo_factory(curs);
    PyObject *delta = NULL, *tz = NULL;

    if (factory == NULL) {
        return cached_timezone(offset);
    }
    if (factory == Py_None) {
        Py_RETURN_NONE;
    }
    if (!(delta = PyDelta_FromDSU(0, offset, 0))) {
        goto exit;
    }
    tz = PyObject_CallOneArg(factory, delta);

exit:
    Py_XDECREF(delta);
    return tz;
}

/* ------------------------------------------------------------------ */
/* Casters                                                            */

PyObject *
typecast_DATE_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    const char *p = s, *end = s + len;
    pgdatetime dt = {0};

    if (s == NULL) {
        Py_RETURN_NONE;
    }
    if (is_literal(s, len, "infinity")) {
        return PyDate_FromDate(9999, 12, 31);
    }
    if (is_literal(s, len, "-infinity")) {
        return PyDate_FromDate(1, 1, 1);
    }
    if (parse_date_part(&p, end, &dt) < 0) {
        goto error;
    }
    if (p < end && (*p == ' ' || *p == 'T')) {
        /* the date of a timestamp, as psycopg2: the rest is ignored but
         * for the era at the end */
        if (len >= 2 && s[len - 2] == 'B' && s[len - 1] == 'C') {
            dt.year = -dt.year;
        }
        p = end;
    }
    if (p != end) {
        goto error;
    }
    return PyDate_FromDate(dt.year, dt.month, dt.day);

error:
    PyErr_SetString(DataError, "unable to parse date");
    return NULL;
}

/* time and timetz */
PyObject *
typecast_TIME_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    const char *p = s, *end = s + len;
    pgdatetime dt = {0};
    PyObject *tz = NULL, *rv = NULL;

    if (s == NULL) {
        Py_RETURN_NONE;
    }
    if (parse_time_part(&p, end, &dt) < 0 || parse_tz_part(&p, end, &dt) < 0
            || p != end) {
        PyErr_SetString(DataError, "unable to parse time");
        goto exit;
    }
    if (dt.hour == 24) {
        dt.hour = 0;    /* 24:00:00 is a valid PostgreSQL time */
    }
    if (dt.has_tz) {
        if (!(tz = get_tzinfo(curs, dt.tz_offset))) {
            goto exit;
        }
    }
    rv = PyDateTimeAPI->Time_FromTime(dt.hour, dt.minute, dt.second,
                                      dt.usec, tz ? tz : Py_None,
                                      PyDateTimeAPI->TimeType);

exit:
    Py_XDECREF(tz);
    return rv;
}

/* datetime.max / datetime.min, aware (UTC) if `aware`. */
static PyObject *
infinite_datetime(int positive, int aware)
{
    PyObject *tz = aware ? PyDateTime_TimeZone_UTC : Py_None;

    if (positive) {
        return PyDateTimeAPI->DateTime_FromDateAndTime(
            9999, 12, 31, 23, 59, 59, 999999, tz,
            PyDateTimeAPI->DateTimeType);
    }
    return PyDateTimeAPI->DateTime_FromDateAndTime(
        1, 1, 1, 0, 0, 0, 0, tz, PyDateTimeAPI->DateTimeType);
}

/* Parse a timestamp, with or without offset.  `tz_caster`: the value is a
 * timestamptz (only changes how infinity is returned). */
static PyObject *
cast_timestamp(const char *s, Py_ssize_t len, PyObject *curs, int tz_caster)
{
    const char *p = s, *end = s + len;
    pgdatetime dt = {0};
    PyObject *tz = NULL, *rv = NULL;

    if (is_literal(s, len, "infinity") || is_literal(s, len, "-infinity")) {
        /* psycopg2: UTC unless the tzinfo_factory is None */
        int aware = tz_caster && tzinfo_factory(curs) != Py_None;
        return infinite_datetime(s[0] != '-', aware);
    }
    if (parse_date_part(&p, end, &dt) < 0) {
        PyErr_SetString(DataError, "unable to parse date");
        goto exit;
    }
    /* the time can be missing (midnight), but not incomplete, as psycopg2 */
    if (p < end && (*p == ' ' || *p == 'T') && ++p < end) {
        if (parse_time_part(&p, end, &dt) < 0
                || parse_tz_part(&p, end, &dt) < 0) {
            PyErr_SetString(DataError, "unable to parse time");
            goto exit;
        }
        parse_era(&p, end, &dt);
    }
    if (p != end) {
        PyErr_SetString(DataError, "unable to parse timestamp");
        goto exit;
    }
    if (dt.has_tz) {
        if (!(tz = get_tzinfo(curs, dt.tz_offset))) {
            goto exit;
        }
    }
    rv = PyDateTimeAPI->DateTime_FromDateAndTime(
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.usec,
        tz ? tz : Py_None, PyDateTimeAPI->DateTimeType);

exit:
    Py_XDECREF(tz);
    return rv;
}

PyObject *
typecast_DATETIME_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    if (s == NULL) {
        Py_RETURN_NONE;
    }
    return cast_timestamp(s, len, curs, 0);
}

PyObject *
typecast_DATETIMETZ_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    if (s == NULL) {
        Py_RETURN_NONE;
    }
    return cast_timestamp(s, len, curs, 1);
}

int
typecast_datetime_setup(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) {
        return -1;
    }
    timezone_type = (PyObject *)Py_TYPE(PyDateTime_TimeZone_UTC);
    return 0;
}
