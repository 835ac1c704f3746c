/* cursor_describe.c - cursor.description: one Column per result column.
 */

#include "cursor_int.h"

#define NUMERICOID 1700
#define VARHDRSZ 4

/* An int, or None for 0 (libpq's "no table" / "no column"). */
static PyObject *
long_or_none(unsigned long v)
{
    if (v == 0) {
        Py_RETURN_NONE;
    }
    return PyLong_FromUnsignedLong(v);
}

/* Store `v` (a new reference, may be NULL on error) into *field. */
static int
set_field(PyObject **field, PyObject *v)
{
    if (v == NULL) {
        return -1;
    }
    Py_XSETREF(*field, v);
    return 0;
}

/* The sizes psycopg2 reports: internal_size is the type size, or for
 * variable size types the length from the type modifier (the precision
 * for numeric); precision and scale come from numeric's modifier. */
static int
describe_sizes(columnObject *col, PGresult *res, int i)
{
    Oid ftype = PQftype(res, i);
    int fsize = PQfsize(res, i);
    int fmod = PQfmod(res, i);
    long isize;

    if (fmod > 0) {
        fmod -= VARHDRSZ;
    }
    if (fsize == -1) {
        isize = ftype == NUMERICOID ? (fmod >> 16) : fmod;
    }
    else {
        isize = fsize;
    }
    if (set_field(&col->internal_size, PyLong_FromLong(isize)) < 0) {
        return -1;
    }
    if (ftype == NUMERICOID) {
        if (set_field(&col->precision,
                      PyLong_FromLong((fmod >> 16) & 0xFFFF)) < 0
                || set_field(&col->scale,
                             PyLong_FromLong(fmod & 0xFFFF)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* One Column for column i of res.  New reference or NULL. */
static PyObject *
describe_column(cursorObject *self, PGresult *res, int i)
{
    columnObject *col;
    const char *name = PQfname(res, i);

    if (!(col = column_create())) {
        return NULL;
    }
    if (set_field(&col->name,
                  conn_decode(self->conn, name, strlen(name))) < 0
            || set_field(&col->type_code,
                         PyLong_FromUnsignedLong(PQftype(res, i))) < 0
            || describe_sizes(col, res, i) < 0
            || set_field(&col->table_oid, long_or_none(PQftable(res, i))) < 0
            || set_field(&col->table_column,
                         long_or_none((unsigned long)PQftablecol(res, i)))
               < 0) {
        Py_DECREF(col);
        return NULL;
    }
    return (PyObject *)col;
}

PyObject *
curs_describe(cursorObject *self, PGresult *res)
{
    int i, n = PQnfields(res);
    PyObject *rv, *col;

    if (!(rv = PyTuple_New(n))) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (!(col = describe_column(self, res, i))) {
            Py_DECREF(rv);
            return NULL;
        }
        PyTuple_SET_ITEM(rv, i, col);
    }
    return rv;
}
