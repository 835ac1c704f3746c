/* typecast_interval.c - interval -> datetime.timedelta.
 *
 * Parses the "postgres" IntervalStyle (the default):
 *   1 year 2 mons -3 days +04:05:06.5
 * and, leniently, "postgres_verbose" (@ 1 day 2 hours 3.5 secs ago).
 * Like psycopg2 a month counts 30 days and a year 365 days, and a bare
 * integer (as Redshift sends) counts microseconds.  The iso_8601 style is
 * not supported (NotSupportedError, as psycopg2).
 */

#include "typecast_internal.h"

#include <datetime.h>

#define SECS_PER_DAY 86400LL
#define USECS_PER_SEC 1000000LL
/* enough for any field the server can send, small enough to never
 * overflow the sums below */
#define MAX_FIELD_DIGITS 12

typedef struct {
    long long days;
    long long secs;
    long long usecs;
} interval_sum;

/* floor division, for the normalisation of negative values */
static long long
floor_div(long long a, long long b)
{
    long long q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Time field after the hours: :MM[:SS[.ffffff]] (psycopg2 takes H:M as
 * hours and minutes).  `hours` and `sign` were already read. */
static int
parse_clock(const char **pp, const char *end, long long hours, int sign,
            interval_sum *sum)
{
    long long mins, secs = 0, usecs = 0;

    (*pp)++;    /* the ':' after the hours */
    if (typecast_parse_digits(pp, end, 2, &mins) <= 0) {
        return -1;
    }
    if (*pp >= end || **pp != ':') {
        goto done;
    }
    (*pp)++;
    if (typecast_parse_digits(pp, end, 2, &secs) <= 0) {
        return -1;
    }
    if (*pp < end && **pp == '.') {
        (*pp)++;
        /* a '.' without digits is no fraction, as psycopg2 */
        if (*pp < end && **pp >= '0' && **pp <= '9'
                && typecast_parse_usecs(pp, end, 1, &usecs) < 0) {
            return -1;
        }
    }

done:
    sum->secs += sign * (hours * 3600 + mins * 60 + secs);
    sum->usecs += sign * usecs;
    return 0;
}

/* Add `n` units named by the word at *pp. */
static int
parse_unit(const char **pp, const char *end, long long n, int sign,
           long long usecs, interval_sum *sum)
{
    static const struct {
        const char *word;
        long long days, secs;
    } units[] = {
        {"years", 365, 0}, {"year", 365, 0},
        {"mons", 30, 0}, {"mon", 30, 0},
        {"days", 1, 0}, {"day", 1, 0},
        {"hours", 0, 3600}, {"hour", 0, 3600},
        {"mins", 0, 60}, {"min", 0, 60},
        {"secs", 0, 1}, {"sec", 0, 1},
        {NULL}
    };
    const char *word = *pp;
    size_t wlen;
    int i;

    while (*pp < end && **pp >= 'a' && **pp <= 'z') {
        (*pp)++;
    }
    wlen = *pp - word;
    if (wlen == 0 && n == 0 && usecs == 0) {
        return 0;       /* "@ 0": the zero interval, verbose style */
    }
    for (i = 0; units[i].word != NULL; i++) {
        if (strlen(units[i].word) == wlen
                && memcmp(units[i].word, word, wlen) == 0) {
            break;
        }
    }
    if (units[i].word == NULL || (usecs != 0 && units[i].secs != 1)) {
        return -1;      /* unknown unit, or a fraction of a non-second */
    }
    sum->days += sign * n * units[i].days;
    sum->secs += sign * n * units[i].secs;
    sum->usecs += sign * usecs;
    return 0;
}

/* One field: [+-]N unit, or [+-]H:MM:SS[.f]. */
static int
parse_field(const char **pp, const char *end, interval_sum *sum)
{
    long long n, usecs = 0;
    int sign = 1;

    if (**pp == '-' || **pp == '+') {
        sign = (**pp == '-') ? -1 : 1;
        (*pp)++;
    }
    if (typecast_parse_digits(pp, end, MAX_FIELD_DIGITS, &n) <= 0) {
        return -1;
    }
    if (*pp < end && **pp == ':') {
        return parse_clock(pp, end, n, sign, sum);
    }
    if (*pp < end && **pp == '.') {
        (*pp)++;
        if (typecast_parse_usecs(pp, end, 1, &usecs) < 0) {
            return -1;
        }
    }
    while (*pp < end && **pp == ' ') {
        (*pp)++;
    }
    return parse_unit(pp, end, n, sign, usecs, sum);
}

/* Parse the whole string into `sum`.  0 ok, -1 with an exception set. */
static int
parse_interval(const char *s, Py_ssize_t len, interval_sum *sum)
{
    const char *p = s, *end = s + len;
    int nfields = 0;

    if (len > 0 && s[0] == 'P') {
        PyErr_SetString(NotSupportedError,
                        "iso_8601 intervalstyle currently not supported");
        return -1;
    }
    if (p < end && *p == '@') {
        p++;
    }
    for (;;) {
        while (p < end && *p == ' ') {
            p++;
        }
        if (p == end) {
            break;
        }
        if (end - p == 3 && memcmp(p, "ago", 3) == 0) {
            sum->days = -sum->days;
            sum->secs = -sum->secs;
            sum->usecs = -sum->usecs;
            break;
        }
        /* fields are separated by spaces */
        if (parse_field(&p, end, sum) < 0 || (p < end && *p != ' ')) {
            PyErr_Format(DataError, "unable to parse interval: '%.200s'", s);
            return -1;
        }
        nfields++;
    }
    if (nfields == 0) {
        PyErr_SetString(DataError, "unable to parse interval: empty value");
        return -1;
    }
    return 0;
}

/* 1 if psycopg2 would read `s` as a number of microseconds: it has none
 * of the characters that start a field (Redshift sends intervals so). */
static int
is_bare_number(const char *s, Py_ssize_t len)
{
    Py_ssize_t i;

    for (i = 0; i < len; i++) {
        if (s[i] == 'y' || s[i] == 'm' || s[i] == 'd' || s[i] == ':'
                || s[i] == 'P') {
            return 0;
        }
    }
    return 1;
}

/* `s` read as int(s, 0) microseconds, as psycopg2 does: int()'s ValueError
 * if it is not a number, OverflowError if too big for a timedelta. */
static PyObject *
interval_from_usecs(const char *s, Py_ssize_t len)
{
    PyObject *str = NULL, *us = NULL, *rv = NULL;

    /* a copy: PyLong_FromString() wants a NUL-terminated string */
    if (!(str = PyBytes_FromStringAndSize(s, len))) {
        goto exit;
    }
    if (!(us = PyLong_FromString(PyBytes_AS_STRING(str), NULL, 0))) {
        goto exit;
    }
    rv = PyObject_CallFunction((PyObject *)PyDateTimeAPI->DeltaType,
                               "iiO", 0, 0, us);
    if (rv == NULL && PyErr_ExceptionMatches(PyExc_OverflowError)) {
        PyErr_SetString(PyExc_OverflowError, "interval component too big");
    }

exit:
    Py_XDECREF(str);
    Py_XDECREF(us);
    return rv;
}

PyObject *
typecast_INTERVAL_cast(const char *s, Py_ssize_t len, PyObject *curs)
{
    interval_sum sum = {0, 0, 0};
    long long carry;

    if (s == NULL) {
        Py_RETURN_NONE;
    }
    if (parse_interval(s, len, &sum) < 0) {
        if (PyErr_ExceptionMatches(DataError) && is_bare_number(s, len)) {
            PyErr_Clear();
            return interval_from_usecs(s, len);
        }
        return NULL;
    }
    /* normalise to 0 <= usecs < 1s, 0 <= secs < 1 day */
    carry = floor_div(sum.usecs, USECS_PER_SEC);
    sum.usecs -= carry * USECS_PER_SEC;
    sum.secs += carry;
    carry = floor_div(sum.secs, SECS_PER_DAY);
    sum.secs -= carry * SECS_PER_DAY;
    sum.days += carry;
    if (sum.days > 999999999 || sum.days < -999999999) {
        PyErr_Format(PyExc_OverflowError,
                     "days=%lld; must have magnitude <= 999999999",
                     sum.days);
        return NULL;
    }
    return PyDelta_FromDSU((int)sum.days, (int)sum.secs, (int)sum.usecs);
}

int
typecast_interval_setup(void)
{
    PyDateTime_IMPORT;
    return PyDateTimeAPI != NULL ? 0 : -1;
}
