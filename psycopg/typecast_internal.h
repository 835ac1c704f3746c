/* typecast_internal.h - declarations shared by the typecast_*.c files only.
 *
 * The public contract of typecasting (typecastObject, typecast_cast,
 * typecast_lookup, the global registries) is in psycopg.h; this header
 * holds what the typecasting files need from each other.
 */
#ifndef PSYCOPG_TYPECAST_INTERNAL_H
#define PSYCOPG_TYPECAST_INTERNAL_H 1

#include "psycopg.h"

/* typecast_type.c */

/* Build a caster object.  `values` is a tuple (a new reference is taken),
 * `name` a str.  Exactly one of ccast/pcast/bcast is normally set.  New
 * reference or NULL. */
PyObject *typecast_create(PyObject *values, PyObject *name,
                          typecast_function ccast, PyObject *pcast,
                          PyObject *bcast);

/* Build a caster from C data: `oids` is terminated by 0.  New reference
 * or NULL. */
PyObject *typecast_create_from_oids(const char *name, const long *oids,
                                    typecast_function ccast,
                                    PyObject *bcast);

/* Add the typecaster type, registries and module functions (new_type,
 * new_array_type, register_type) to the module.  0 ok, -1 error. */
int typecast_type_setup(PyObject *module);

/* The connection of `curs` when it is a cursor with a connection, else
 * NULL (casters called from Python with cursor None). */
static inline connectionObject *
typecast_curs_conn(PyObject *curs)
{
    if (curs == NULL || curs == Py_None || !cursor_Check(curs)) {
        return NULL;
    }
    return ((cursorObject *)curs)->conn;
}

/* Decode a value from the client encoding of the cursor's connection (or
 * UTF-8 without a connection) into a str.  New reference or NULL. */
PyObject *typecast_decode_text(const char *s, Py_ssize_t len,
                               PyObject *curs);

/* Read up to `maxdigits` decimal digits at *pp (not past `end`) into
 * *value and advance *pp.  Returns the number of digits read: 0 if there
 * is no digit, -1 if there are more than maxdigits (maxdigits <= 18). */
static inline int
typecast_parse_digits(const char **pp, const char *end, int maxdigits,
                      long long *value)
{
    const char *p = *pp;
    long long v = 0;
    int n = 0;

    while (p < end && (unsigned int)((unsigned char)*p - '0') <= 9) {
        if (++n > maxdigits) {
            return -1;
        }
        v = v * 10 + (*p++ - '0');
    }
    *pp = p;
    *value = v;
    return n;
}

/* Read the digits of a fraction of second (after the '.') at *pp as
 * microseconds, rounding past the sixth digit: up to 1000000 if `carry`
 * (the caller carries it into the seconds), else at most 999999.  Returns
 * -1 if there is no digit. */
static inline int
typecast_parse_usecs(const char **pp, const char *end, int carry,
                     long long *usecs)
{
    const char *p = *pp;
    long long v = 0;
    int n = 0;

    while (p < end && (unsigned int)((unsigned char)*p - '0') <= 9) {
        if (n < 6) {
            v = v * 10 + (*p - '0');
        }
        else if (n == 6 && *p >= '5') {
            v++;        /* round half up on the seventh digit */
        }
        n++;
        p++;
    }
    if (n == 0) {
        return -1;
    }
    for (; n < 6; n++) {
        v *= 10;
    }
    if (v > 999999 && !carry) {
        v = 999999;     /* rounding overflow: only with > 6 digits */
    }
    *pp = p;
    *usecs = v;
    return 0;
}

/* typecast_basic.c: the scalar casters */
PyObject *typecast_INTEGER_cast(const char *s, Py_ssize_t len,
                                PyObject *curs);
PyObject *typecast_FLOAT_cast(const char *s, Py_ssize_t len, PyObject *curs);
PyObject *typecast_DECIMAL_cast(const char *s, Py_ssize_t len,
                                PyObject *curs);
PyObject *typecast_STRING_cast(const char *s, Py_ssize_t len,
                               PyObject *curs);
PyObject *typecast_BYTES_cast(const char *s, Py_ssize_t len, PyObject *curs);
PyObject *typecast_BOOLEAN_cast(const char *s, Py_ssize_t len,
                                PyObject *curs);

/* typecast_binary.c: bytea (hex and escape formats) -> memoryview */
PyObject *typecast_BINARY_cast(const char *s, Py_ssize_t len,
                               PyObject *curs);
int typecast_binary_setup(void);

/* typecast_datetime.c */
PyObject *typecast_DATE_cast(const char *s, Py_ssize_t len, PyObject *curs);
PyObject *typecast_TIME_cast(const char *s, Py_ssize_t len, PyObject *curs);
PyObject *typecast_DATETIME_cast(const char *s, Py_ssize_t len,
                                 PyObject *curs);
PyObject *typecast_DATETIMETZ_cast(const char *s, Py_ssize_t len,
                                   PyObject *curs);
int typecast_datetime_setup(void);

/* typecast_interval.c */
PyObject *typecast_INTERVAL_cast(const char *s, Py_ssize_t len,
                                 PyObject *curs);
int typecast_interval_setup(void);

/* typecast_array.c: parse the text representation of an array, casting
 * every element with `base` (a caster or any callable).  New reference
 * (a possibly nested list) or NULL. */
PyObject *typecast_array_cast(const char *s, Py_ssize_t len, PyObject *curs,
                              PyObject *base);

/* typecast_builtins.c: create the built-in casters, register them in
 * psyco_types and add them to the module.  0 ok, -1 error. */
int typecast_builtins_setup(PyObject *module);

#endif /* PSYCOPG_TYPECAST_INTERNAL_H */
