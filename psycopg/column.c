/* column.c - the Column type: one item of cursor.description.
 *
 * DB-API wants every item of description to be a 7-item sequence; Column
 * is such a sequence (name, type_code, display_size, internal_size,
 * precision, scale, null_ok) and also exposes the items, plus table_oid
 * and table_column, as read-only attributes.
 */

#include "psycopg.h"

#define COLUMN_SEQ_LEN 7
#define COLUMN_NFIELDS 9

/* The fields in their sequence/state order. */
static void
column_fields(columnObject *self, PyObject **fields[COLUMN_NFIELDS])
{
    fields[0] = &self->name;
    fields[1] = &self->type_code;
    fields[2] = &self->display_size;
    fields[3] = &self->internal_size;
    fields[4] = &self->precision;
    fields[5] = &self->scale;
    fields[6] = &self->null_ok;
    fields[7] = &self->table_oid;
    fields[8] = &self->table_column;
}

/* The DB-API 7-tuple of the column.  New reference or NULL. */
static PyObject *
column_as_tuple(columnObject *self)
{
    PyObject **fields[COLUMN_NFIELDS];
    PyObject *rv;
    Py_ssize_t i;

    column_fields(self, fields);
    if (!(rv = PyTuple_New(COLUMN_SEQ_LEN))) {
        return NULL;
    }
    for (i = 0; i < COLUMN_SEQ_LEN; i++) {
        PyObject *v = *fields[i] ? *fields[i] : Py_None;
        Py_INCREF(v);
        PyTuple_SET_ITEM(rv, i, v);
    }
    return rv;
}

static int
column_init(columnObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"name", "type_code", "display_size",
        "internal_size", "precision", "scale", "null_ok", "table_oid",
        "table_column", NULL};
    PyObject *values[COLUMN_NFIELDS] = {NULL};
    PyObject **fields[COLUMN_NFIELDS];
    int i;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOOOOOOO", kwlist,
            &values[0], &values[1], &values[2], &values[3], &values[4],
            &values[5], &values[6], &values[7], &values[8])) {
        return -1;
    }
    column_fields(self, fields);
    for (i = 0; i < COLUMN_NFIELDS; i++) {
        PyObject *v = values[i] ? values[i] : Py_None;
        Py_INCREF(v);
        Py_XSETREF(*fields[i], v);
    }
    return 0;
}

static PyObject *
column_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    columnObject *self = (columnObject *)type->tp_alloc(type, 0);
    PyObject **fields[COLUMN_NFIELDS];
    int i;

    if (self == NULL) {
        return NULL;
    }
    /* every field starts as None so that a Column is always complete */
    column_fields(self, fields);
    for (i = 0; i < COLUMN_NFIELDS; i++) {
        Py_INCREF(Py_None);
        *fields[i] = Py_None;
    }
    return (PyObject *)self;
}

/* A new Column with every field None, without going through __init__
 * (used for cursor.description). */
columnObject *
column_create(void)
{
    return (columnObject *)column_new(&columnType, NULL, NULL);
}

static int
column_traverse(columnObject *self, visitproc visit, void *arg)
{
    PyObject **fields[COLUMN_NFIELDS];
    int i;

    column_fields(self, fields);
    for (i = 0; i < COLUMN_NFIELDS; i++) {
        Py_VISIT(*fields[i]);
    }
    return 0;
}

static int
column_clear(columnObject *self)
{
    PyObject **fields[COLUMN_NFIELDS];
    int i;

    column_fields(self, fields);
    for (i = 0; i < COLUMN_NFIELDS; i++) {
        Py_CLEAR(*fields[i]);
    }
    return 0;
}

static void
column_dealloc(columnObject *self)
{
    PyObject_GC_UnTrack(self);
    column_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
column_repr(columnObject *self)
{
    return PyUnicode_FromFormat("Column(name=%R, type_code=%R)",
        self->name ? self->name : Py_None,
        self->type_code ? self->type_code : Py_None);
}

static PyObject *
column_richcompare(PyObject *self, PyObject *other, int op)
{
    PyObject *mine = NULL, *theirs = NULL, *rv = NULL;

    if (!(mine = column_as_tuple((columnObject *)self))) {
        goto exit;
    }
    if (PyObject_TypeCheck(other, &columnType)) {
        if (!(theirs = column_as_tuple((columnObject *)other))) {
            goto exit;
        }
    }
    else {
        Py_INCREF(other);
        theirs = other;
    }
    rv = PyObject_RichCompare(mine, theirs, op);

exit:
    Py_XDECREF(mine);
    Py_XDECREF(theirs);
    return rv;
}

/* Sequence protocol: behave as the 7-tuple. */

static Py_ssize_t
column_len(PyObject *self)
{
    return COLUMN_SEQ_LEN;
}

static PyObject *
column_item(columnObject *self, Py_ssize_t i)
{
    PyObject **fields[COLUMN_NFIELDS];
    PyObject *v;

    if (i < 0 || i >= COLUMN_SEQ_LEN) {
        PyErr_SetString(PyExc_IndexError, "tuple index out of range");
        return NULL;
    }
    column_fields(self, fields);
    v = *fields[i] ? *fields[i] : Py_None;
    Py_INCREF(v);
    return v;
}

static PyObject *
column_subscript(columnObject *self, PyObject *item)
{
    PyObject *t, *rv;

    if (!(t = column_as_tuple(self))) {
        return NULL;
    }
    rv = PyObject_GetItem(t, item);
    Py_DECREF(t);
    return rv;
}

static PySequenceMethods column_sequence = {
    .sq_length = column_len,
    .sq_item = (ssizeargfunc)column_item,
};

static PyMappingMethods column_mapping = {
    .mp_length = column_len,
    .mp_subscript = (binaryfunc)column_subscript,
};

/* Pickling: the state is the 7-tuple, as in psycopg2. */

static PyObject *
column_getstate(columnObject *self, PyObject *dummy)
{
    return column_as_tuple(self);
}

static PyObject *
column_setstate(columnObject *self, PyObject *state)
{
    PyObject **fields[COLUMN_NFIELDS];
    Py_ssize_t i, n;

    if (state == Py_None) {
        Py_RETURN_NONE;
    }
    if (!PyTuple_Check(state)) {
        PyErr_SetString(PyExc_TypeError, "state is not a tuple");
        return NULL;
    }
    column_fields(self, fields);
    n = PyTuple_GET_SIZE(state);
    for (i = 0; i < n && i < COLUMN_NFIELDS; i++) {
        PyObject *v = PyTuple_GET_ITEM(state, i);
        Py_INCREF(v);
        Py_XSETREF(*fields[i], v);
    }
    Py_RETURN_NONE;
}

static PyMethodDef column_methods[] = {
    {"__getstate__", (PyCFunction)column_getstate, METH_NOARGS,
     "Return the state of the column for pickling."},
    {"__setstate__", (PyCFunction)column_setstate, METH_O,
     "Restore the state of a pickled column."},
    {NULL}
};

#define COLUMN_MEMBER(name, doc) \
    {#name, T_OBJECT, offsetof(columnObject, name), READONLY, doc}

static PyMemberDef column_members[] = {
    COLUMN_MEMBER(name, "The name of the column."),
    COLUMN_MEMBER(type_code, "The PostgreSQL OID of the column type."),
    COLUMN_MEMBER(display_size, "The actual length of the column "
                  "(not implemented: always None)."),
    COLUMN_MEMBER(internal_size, "The size in bytes of the column type "
                  "(-1 for variable size types)."),
    COLUMN_MEMBER(precision, "Total number of significant digits of "
                  "numeric columns, else None."),
    COLUMN_MEMBER(scale, "Count of decimal digits in the fractional part "
                  "of numeric columns, else None."),
    COLUMN_MEMBER(null_ok, "Always None (not known by libpq)."),
    COLUMN_MEMBER(table_oid, "The OID of the table the column comes from, "
                  "or None."),
    COLUMN_MEMBER(table_column, "The number of the column in its table "
                  "(starting from 1), or None."),
    {NULL}
};

PyTypeObject columnType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.Column",
    .tp_basicsize = sizeof(columnObject),
    .tp_dealloc = (destructor)column_dealloc,
    .tp_repr = (reprfunc)column_repr,
    .tp_as_sequence = &column_sequence,
    .tp_as_mapping = &column_mapping,
    .tp_hash = PyObject_HashNotImplemented,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Description of a column of a query result.\n\n"
        "A 7-item sequence, as the DB-API requires (name, type_code,\n"
        "display_size, internal_size, precision, scale, null_ok), whose\n"
        "items are also available as attributes, together with table_oid\n"
        "and table_column.",
    .tp_traverse = (traverseproc)column_traverse,
    .tp_clear = (inquiry)column_clear,
    .tp_richcompare = column_richcompare,
    .tp_methods = column_methods,
    .tp_members = column_members,
    .tp_init = (initproc)column_init,
    .tp_new = column_new,
};

int
column_setup(PyObject *module)
{
    if (PyType_Ready(&columnType) < 0) {
        return -1;
    }
    Py_INCREF(&columnType);
    if (PyModule_AddObject(module, "Column", (PyObject *)&columnType) < 0) {
        Py_DECREF(&columnType);
        return -1;
    }
    return 0;
}
