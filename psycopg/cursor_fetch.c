/* cursor_fetch.c - from the PGresult to Python rows: the fetch methods,
 * iteration and scroll().
 *
 * This is the hot path of the driver.  The casters are looked up once per
 * result (cursor->casts); for every fetch call the per-column C cast
 * functions are copied into a small array so that the loop over the cells
 * calls them directly, straight on the libpq buffers, without going
 * through typecast_cast().  SQL NULLs become None without calling C
 * casters (Python casters are called with None, as in psycopg2).
 */

#include "cursor_int.h"

/* How to convert the values of a column. */
typedef struct {
    PyObject *caster;           /* borrowed from self->casts */
    typecast_function ccast;    /* direct C function, or NULL */
    int null_is_none;           /* NULL -> None without calling it */
} colCast;

#define ROWBUILDER_STACK_COLS 32

typedef struct {
    int nfields;
    colCast *cols;
    colCast stack[ROWBUILDER_STACK_COLS];
    PyObject *casts;            /* strong ref: the casters in cols */
} rowBuilder;

/* ------------------------------------------------------------------ */
/* Current result                                                     */

static PyObject *
lookup_casts(cursorObject *self, PGresult *res)
{
    int i, n = PQnfields(res);
    PyObject *rv, *caster;

    if (!(rv = PyTuple_New(n))) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        caster = typecast_lookup(self, PQftype(res, i));
        Py_INCREF(caster);
        PyTuple_SET_ITEM(rv, i, caster);
    }
    return rv;
}

/* How to convert a column's values with `caster`. */
static void
colcast_fill(colCast *c, PyObject *caster)
{
    c->caster = caster;
    c->ccast = NULL;
    c->null_is_none = 0;
    if (typecast_Check(caster)) {
        typecastObject *tc = (typecastObject *)caster;
        c->ccast = tc->ccast;
        c->null_is_none = tc->ccast != NULL || tc->bcast != NULL;
    }
}

/* Keep a copy of the colCasts of the current casts, all its columns,
 * for the next fetch calls on the same result (iteration and fetchone()
 * build one row per call).  Not done at the first call: a result is
 * often read in one go.  Out of memory: no copy, no error. */
static void
keep_cast_cols(cursorObject *self, const colCast *cols, int n)
{
    if (self->cast_cols_uses++ == 0
            || n != PyTuple_GET_SIZE(self->casts)
            || !(self->cast_cols = PyMem_Malloc(n * sizeof(colCast)))) {
        return;
    }
    memcpy(self->cast_cols, cols, n * sizeof(colCast));
}

void
curs_drop_cast_cols(cursorObject *self)
{
    if (self->cast_cols != NULL) {
        PyMem_Free(self->cast_cols);
        self->cast_cols = NULL;
    }
    self->cast_cols_uses = 0;
}

int
curs_set_result(cursorObject *self, PGresult *res)
{
    curs_reset_result(self);
    self->pgres = res;
    self->lastoid = PQoidValue(res);
    if (curs_set_status(self, res) < 0) {
        return -1;
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        /* no rows: nothing to keep (pgresult_ptr is None, as psycopg2) */
        self->rowcount = curs_cmd_tuples(res);
        PQclear(res);
        self->pgres = NULL;
        return 0;
    }
    self->ntuples = PQntuples(res);
    self->nfields = PQnfields(res);
    self->rowcount = self->ntuples;
    self->rownumber = 0;
    if (!(self->casts = lookup_casts(self, res))) {
        return -1;
    }
    if (!(self->description = curs_describe(self, res))) {
        return -1;
    }
    self->notuples = 0;
    if (self->closed) {
        /* an async query of a cursor closed meanwhile: as close() does,
         * keep the description but free the rows nobody can fetch */
        PQclear(self->pgres);
        self->pgres = NULL;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Building rows                                                      */

static int
rowbuilder_init(rowBuilder *rb, cursorObject *self)
{
    int i;

    rb->nfields = self->nfields;
    rb->cols = rb->stack;
    rb->casts = NULL;
    if (self->casts == NULL
            || PyTuple_GET_SIZE(self->casts) < rb->nfields) {
        PyErr_SetString(ProgrammingError, "no results to fetch");
        return -1;
    }
    /* Python code run while building the rows (casters, row factories)
     * may execute or close this cursor, dropping self->casts: the
     * borrowed casters in cols must stay alive until the end. */
    rb->casts = self->casts;
    Py_INCREF(rb->casts);
    if (rb->nfields > ROWBUILDER_STACK_COLS) {
        rb->cols = PyMem_Malloc(rb->nfields * sizeof(colCast));
        if (rb->cols == NULL) {
            Py_CLEAR(rb->casts);
            PyErr_NoMemory();
            return -1;
        }
    }
    /* a copy: cast_cols goes with self->casts, which Python code run
     * while building may drop */
    if (self->cast_cols != NULL) {
        memcpy(rb->cols, self->cast_cols, rb->nfields * sizeof(colCast));
        return 0;
    }
    for (i = 0; i < rb->nfields; i++) {
        colcast_fill(&rb->cols[i], PyTuple_GET_ITEM(self->casts, i));
    }
    if (rb->nfields > 0) {
        keep_cast_cols(self, rb->cols, rb->nfields);
    }
    return 0;
}

static void
rowbuilder_clear(rowBuilder *rb)
{
    if (rb->cols != rb->stack) {
        PyMem_Free(rb->cols);
    }
    rb->cols = NULL;
    Py_CLEAR(rb->casts);
}

/* Casters, row and tzinfo factories are Python code: they (or another
 * thread, when the GIL is released) may execute or close this cursor,
 * freeing the PGresult being read.  Check it after every call into
 * Python.  The casts tuple is compared too: it's kept alive by the
 * builder, so a new result can't be mistaken for the old one even if
 * libpq allocated it at the same address.  -1 and exception if changed. */
static inline int
check_same_result(cursorObject *self, rowBuilder *rb, PGresult *res)
{
    if (self->pgres != res || self->casts != rb->casts || res == NULL) {
        PyErr_SetString(ProgrammingError,
                        "the cursor result changed while fetching");
        return -1;
    }
    return 0;
}

/* The Python value of a cell.  New reference or NULL. */
static inline PyObject *
cell_value(cursorObject *self, colCast *c, PGresult *res, int row, int col)
{
    int len = PQgetlength(res, row, col);
    const char *s = PQgetvalue(res, row, col);

    /* a NULL has length 0: check the flag only then */
    if (len == 0 && PQgetisnull(res, row, col)) {
        if (c->null_is_none) {
            Py_INCREF(Py_None);
            return Py_None;
        }
        return typecast_cast(c->caster, NULL, 0, (PyObject *)self);
    }
    if (c->ccast != NULL) {
        return c->ccast(s, len, (PyObject *)self);
    }
    return typecast_cast(c->caster, s, len, (PyObject *)self);
}

/* Build a row as a tuple, left untracked by the garbage collector.
 *
 * The collector needs to see only containers that can be part of a
 * reference cycle: a tuple of ints, strings, dates... can't, and the
 * collector itself would untrack it at its first pass.  Untracking at once
 * spares the collector the traversal of big results.  When a value is a
 * container (a list for an array, a memoryview for a bytea) *needs_track
 * is set and the caller must track the tuple once it's done building (a
 * fresh, untracked object can't be mistaken for garbage: it's only less
 * visible to the collector for a while). */
static PyObject *
build_tuple_row(cursorObject *self, rowBuilder *rb, int row, int *needs_track)
{
    PGresult *res = self->pgres;
    PyObject *t, *v;
    int i, gc = 0;

    if (!(t = PyTuple_New(rb->nfields))) {
        return NULL;
    }
    PyObject_GC_UnTrack(t);
    for (i = 0; i < rb->nfields; i++) {
        if (check_same_result(self, rb, res) < 0
                || !(v = cell_value(self, &rb->cols[i], res, row, i))) {
            Py_DECREF(t);
            return NULL;
        }
        gc |= PyType_IS_GC(Py_TYPE(v));
        PyTuple_SET_ITEM(t, i, v);
    }
    /* the last cast may have changed the result too */
    if (check_same_result(self, rb, res) < 0) {
        if (gc) {
            PyObject_GC_Track(t);
        }
        Py_DECREF(t);
        return NULL;
    }
    *needs_track = gc;
    return t;
}

static PyObject *
build_factory_row(cursorObject *self, rowBuilder *rb, int row)
{
    PGresult *res = self->pgres;
    PyObject *r, *v;
    int i;

    r = PyObject_CallOneArg(self->tuple_factory, (PyObject *)self);
    if (r == NULL) {
        return NULL;
    }
    for (i = 0; i < rb->nfields; i++) {
        if (check_same_result(self, rb, res) < 0
                || !(v = cell_value(self, &rb->cols[i], res, row, i))) {
            Py_DECREF(r);
            return NULL;
        }
        if (PySequence_SetItem(r, i, v) < 0) {
            Py_DECREF(v);
            Py_DECREF(r);
            return NULL;
        }
        Py_DECREF(v);
    }
    if (check_same_result(self, rb, res) < 0) {
        Py_DECREF(r);
        return NULL;
    }
    return r;
}

PyObject *
curs_build_row(cursorObject *self, int row)
{
    rowBuilder rb;
    PyObject *rv;
    int track = 0;

    if (rowbuilder_init(&rb, self) < 0) {
        return NULL;
    }
    if (self->tuple_factory == NULL || self->tuple_factory == Py_None) {
        rv = build_tuple_row(self, &rb, row, &track);
        if (rv != NULL && track) {
            PyObject_GC_Track(rv);
        }
    }
    else {
        rv = build_factory_row(self, &rb, row);
    }
    rowbuilder_clear(&rb);
    return rv;
}

/* Big results: keep the collector off while building the rows.  Values
 * such as memoryviews (bytea) are containers, and the tuples holding them
 * must be tracked: while a big list of them grows, the collections
 * triggered by the allocations would traverse all of them over and over
 * (most of the fetch time).  The collector runs again right after. */
#define GC_SUSPEND_MIN_ROWS 1000

static int
suspend_gc(long count)
{
#if PY_VERSION_HEX >= 0x030A0000
    if (count >= GC_SUSPEND_MIN_ROWS) {
        return PyGC_Disable();
    }
#endif
    return 0;
}

static void
resume_gc(int was_enabled)
{
#if PY_VERSION_HEX >= 0x030A0000
    if (was_enabled) {
        PyGC_Enable();
    }
#endif
}

/* Fill `list` with tuple rows.  The list and the tuples stay untracked
 * while building (see build_tuple_row) and are tracked at the end when
 * they need to be.  0 ok, -1 error (*failed: the index of the row that
 * failed). */
static int
fill_tuple_rows(cursorObject *self, rowBuilder *rb, PyObject *list,
                long start, long count, long *failed)
{
    char *track = NULL;
    PyObject *row;
    long i;
    int need, rv = -1;

    int gc_was_enabled = suspend_gc(count);

    PyObject_GC_UnTrack(list);
    for (i = 0; i < count; i++) {
        if (!(row = build_tuple_row(self, rb, (int)(start + i), &need))) {
            *failed = i;
            goto exit;
        }
        PyList_SET_ITEM(list, i, row);
        if (need) {
            if (track == NULL && !(track = PyMem_Calloc(count, 1))) {
                PyErr_NoMemory();
                *failed = i;
                goto exit;
            }
            track[i] = 1;
        }
    }
    rv = 0;

exit:
    if (track != NULL) {
        for (i = 0; i < count; i++) {
            if (track[i]) {
                PyObject_GC_Track(PyList_GET_ITEM(list, i));
            }
        }
        PyMem_Free(track);
    }
    PyObject_GC_Track(list);
    resume_gc(gc_was_enabled);
    return rv;
}

static int
fill_factory_rows(cursorObject *self, rowBuilder *rb, PyObject *list,
                  long start, long count, long *failed)
{
    PyObject *row;
    long i;

    for (i = 0; i < count; i++) {
        if (!(row = build_factory_row(self, rb, (int)(start + i)))) {
            *failed = i;
            return -1;
        }
        PyList_SET_ITEM(list, i, row);
    }
    return 0;
}

PyObject *
curs_build_rows(cursorObject *self, long start, long count, long *failed)
{
    rowBuilder rb;
    PyObject *list = NULL;
    int r;

    *failed = -1;
    if (rowbuilder_init(&rb, self) < 0) {
        return NULL;
    }
    if (!(list = PyList_New(count))) {
        goto exit;
    }
    if (self->tuple_factory == NULL || self->tuple_factory == Py_None) {
        r = fill_tuple_rows(self, &rb, list, start, count, failed);
    }
    else {
        r = fill_factory_rows(self, &rb, list, start, count, failed);
    }
    if (r < 0) {
        Py_CLEAR(list);
    }

exit:
    rowbuilder_clear(&rb);
    return list;
}

/* ------------------------------------------------------------------ */
/* Fetch methods                                                      */

static int
check_can_fetch(cursorObject *self, const char *method)
{
    if (curs_check_open(self) < 0) {
        return -1;
    }
    /* a client-side cursor whose async query is running simply has no
     * result yet ("no results to fetch", as psycopg2 says); a named one
     * would send a query */
    if (self->name != NULL && (curs_check_async_idle(self, method) < 0
                               || curs_check_mark(self) < 0)) {
        return -1;
    }
    return 0;
}

static int
check_have_result(cursorObject *self)
{
    if (self->notuples || self->pgres == NULL) {
        PyErr_SetString(ProgrammingError, "no results to fetch");
        return -1;
    }
    return 0;
}

/* Rows left in the current result, at most `size` (size < 0: all). */
static long
rows_to_take(cursorObject *self, long size)
{
    long left = self->ntuples - self->rownumber;

    if (left < 0) {
        left = 0;
    }
    if (size < 0 || size > left) {
        size = left;
    }
    return size;
}

/* After a row failed to build (a caster or the row factory raised), go
 * past it as psycopg2 does: the next fetch starts with the row after it,
 * the rows built before it in the same call are lost.  Unless the failing
 * Python code replaced the result (the casts tuple is held by the caller,
 * so its address can't be reused meanwhile). */
static void
skip_failed_row(cursorObject *self, PGresult *res, PyObject *casts,
                long row)
{
    if (row >= 0 && self->pgres == res && self->casts == casts) {
        self->rownumber = row + 1;
    }
}

/* Return the rows of the current result from rownumber on, at most size
 * (size < 0: all), as a list. */
static PyObject *
take_rows(cursorObject *self, long size)
{
    PGresult *res = self->pgres;
    PyObject *rv, *casts;
    long start = self->rownumber, failed;

    if (check_have_result(self) < 0) {
        return NULL;
    }
    size = rows_to_take(self, size);
    casts = self->casts;
    Py_XINCREF(casts);
    if ((rv = curs_build_rows(self, start, size, &failed))) {
        self->rownumber += size;
    }
    else if (failed >= 0) {
        skip_failed_row(self, res, casts, start + failed);
    }
    Py_XDECREF(casts);
    return rv;
}

/* The row at rownumber, which then moves on (even if it fails). */
static PyObject *
take_one_row(cursorObject *self)
{
    PGresult *res = self->pgres;
    PyObject *row, *casts = self->casts;
    long pos = self->rownumber;

    Py_XINCREF(casts);
    if ((row = curs_build_row(self, (int)pos))) {
        self->rownumber++;
    }
    else {
        skip_failed_row(self, res, casts, pos);
    }
    Py_XDECREF(casts);
    return row;
}

PyObject *
curs_fetchone(cursorObject *self, PyObject *dummy)
{
    if (check_can_fetch(self, "fetchone") < 0) {
        return NULL;
    }
    if (self->name != NULL && named_fetch(self, 1) < 0) {
        return NULL;
    }
    if (check_have_result(self) < 0) {
        return NULL;
    }
    if (self->rownumber >= self->ntuples) {
        Py_RETURN_NONE;
    }
    return take_one_row(self);
}

PyObject *
curs_fetchmany(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", NULL};
    PyObject *psize = Py_None;
    long size;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", kwlist, &psize)) {
        return NULL;
    }
    if (psize == Py_None) {
        size = self->arraysize;
    }
    else {
        size = PyLong_AsLong(psize);
        if (size == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    if (check_can_fetch(self, "fetchmany") < 0) {
        return NULL;
    }
    if (self->name != NULL) {
        if (named_fetch(self, size) < 0) {
            return NULL;
        }
        return take_rows(self, -1);
    }
    return take_rows(self, size);
}

PyObject *
curs_fetchall(cursorObject *self, PyObject *dummy)
{
    if (check_can_fetch(self, "fetchall") < 0) {
        return NULL;
    }
    if (self->name != NULL && named_fetch(self, -1) < 0) {
        return NULL;
    }
    return take_rows(self, -1);
}

PyObject *
curs_iternext(cursorObject *self)
{
    if (check_can_fetch(self, "fetchone") < 0) {
        return NULL;
    }
    if (self->name != NULL
            && (self->pgres == NULL || self->rownumber >= self->ntuples)) {
        /* server-side cursor: get the next chunk of itersize rows */
        if (named_fetch(self, self->itersize) < 0) {
            return NULL;
        }
    }
    if (check_have_result(self) < 0) {
        return NULL;
    }
    if (self->rownumber >= self->ntuples) {
        return NULL;    /* StopIteration */
    }
    return take_one_row(self);
}

/* ------------------------------------------------------------------ */
/* scroll()                                                           */

PyObject *
curs_scroll(cursorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"value", "mode", NULL};
    long value, newpos;
    const char *mode = "relative";
    int absolute;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "l|s", kwlist,
                                     &value, &mode)) {
        return NULL;
    }
    if (check_can_fetch(self, "scroll") < 0) {
        return NULL;
    }
    if (strcmp(mode, "relative") == 0) {
        absolute = 0;
    }
    else if (strcmp(mode, "absolute") == 0) {
        absolute = 1;
    }
    else {
        PyErr_SetString(ProgrammingError,
                        "scroll mode must be 'relative' or 'absolute'");
        return NULL;
    }
    if (self->name != NULL) {
        if (named_scroll(self, value, absolute) < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    /* without a result ntuples is 0: "out of bounds", as psycopg2 says */
    newpos = absolute ? value : self->rownumber + value;
    if (newpos < 0 || newpos >= self->ntuples) {
        PyErr_SetString(ProgrammingError, "scroll destination out of bounds");
        return NULL;
    }
    self->rownumber = newpos;
    Py_RETURN_NONE;
}
