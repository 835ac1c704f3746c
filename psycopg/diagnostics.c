/* diagnostics.c - the psycopg2.extensions.Diagnostics type.
 *
 * A Diagnostics object exposes, as read-only attributes, the fields of
 * the error report sent by the server (PQresultErrorField()).  The fields
 * are copied on the Error by pq_raise(); Diagnostics only reads them, so
 * it stays valid after the result and the connection are gone.
 */

#include "error_type.h"

#include <string.h>

const diagField diag_fields[DIAG_NFIELDS] = {
    {"severity", PG_DIAG_SEVERITY},
    {"severity_nonlocalized", PG_DIAG_SEVERITY_NONLOCALIZED},
    {"sqlstate", PG_DIAG_SQLSTATE},
    {"message_primary", PG_DIAG_MESSAGE_PRIMARY},
    {"message_detail", PG_DIAG_MESSAGE_DETAIL},
    {"message_hint", PG_DIAG_MESSAGE_HINT},
    {"statement_position", PG_DIAG_STATEMENT_POSITION},
    {"internal_position", PG_DIAG_INTERNAL_POSITION},
    {"internal_query", PG_DIAG_INTERNAL_QUERY},
    {"context", PG_DIAG_CONTEXT},
    {"schema_name", PG_DIAG_SCHEMA_NAME},
    {"table_name", PG_DIAG_TABLE_NAME},
    {"column_name", PG_DIAG_COLUMN_NAME},
    {"datatype_name", PG_DIAG_DATATYPE_NAME},
    {"constraint_name", PG_DIAG_CONSTRAINT_NAME},
    {"source_file", PG_DIAG_SOURCE_FILE},
    {"source_line", PG_DIAG_SOURCE_LINE},
    {"source_function", PG_DIAG_SOURCE_FUNCTION},
};

typedef struct {
    PyObject_HEAD
    errorObject *err;       /* the exception whose fields are read */
} diagnosticsObject;

/* Getter of every field: `closure` is the field index. */
static PyObject *
diag_get_field(diagnosticsObject *self, void *closure)
{
    Py_ssize_t i = (Py_ssize_t)closure;
    PyObject *rv;
    PyObject *fields = self->err ? self->err->diag : NULL;

    if (!fields || !PyTuple_Check(fields) || PyTuple_GET_SIZE(fields) <= i) {
        Py_RETURN_NONE;
    }
    rv = PyTuple_GET_ITEM(fields, i);
    Py_INCREF(rv);
    return rv;
}

/* Keep in step with diag_fields[] (checked at setup). */
static struct PyGetSetDef diag_getsets[] = {
    {"severity", (getter)diag_get_field, NULL,
        "Severity of the error (ERROR, FATAL...), possibly localized.",
        (void *)(Py_ssize_t)DIAG_SEVERITY},
    {"severity_nonlocalized", (getter)diag_get_field, NULL,
        "Severity of the error, never localized.",
        (void *)(Py_ssize_t)DIAG_SEVERITY_NONLOCALIZED},
    {"sqlstate", (getter)diag_get_field, NULL,
        "SQLSTATE code of the error.",
        (void *)(Py_ssize_t)DIAG_SQLSTATE},
    {"message_primary", (getter)diag_get_field, NULL,
        "The primary, human-readable error message.",
        (void *)(Py_ssize_t)DIAG_MESSAGE_PRIMARY},
    {"message_detail", (getter)diag_get_field, NULL,
        "Optional secondary message with more details.",
        (void *)(Py_ssize_t)DIAG_MESSAGE_DETAIL},
    {"message_hint", (getter)diag_get_field, NULL,
        "Optional suggestion about how to fix the problem.",
        (void *)(Py_ssize_t)DIAG_MESSAGE_HINT},
    {"statement_position", (getter)diag_get_field, NULL,
        "Position (1-based, in characters) of the error in the query.",
        (void *)(Py_ssize_t)DIAG_STATEMENT_POSITION},
    {"internal_position", (getter)diag_get_field, NULL,
        "Position of the error in an internally generated query.",
        (void *)(Py_ssize_t)DIAG_INTERNAL_POSITION},
    {"internal_query", (getter)diag_get_field, NULL,
        "Text of the internally generated query that failed.",
        (void *)(Py_ssize_t)DIAG_INTERNAL_QUERY},
    {"context", (getter)diag_get_field, NULL,
        "Where the error happened, e.g. a function call stack.",
        (void *)(Py_ssize_t)DIAG_CONTEXT},
    {"schema_name", (getter)diag_get_field, NULL,
        "Schema of the object the error is about.",
        (void *)(Py_ssize_t)DIAG_SCHEMA_NAME},
    {"table_name", (getter)diag_get_field, NULL,
        "Table the error is about.",
        (void *)(Py_ssize_t)DIAG_TABLE_NAME},
    {"column_name", (getter)diag_get_field, NULL,
        "Column the error is about.",
        (void *)(Py_ssize_t)DIAG_COLUMN_NAME},
    {"datatype_name", (getter)diag_get_field, NULL,
        "Data type the error is about.",
        (void *)(Py_ssize_t)DIAG_DATATYPE_NAME},
    {"constraint_name", (getter)diag_get_field, NULL,
        "Constraint the error is about.",
        (void *)(Py_ssize_t)DIAG_CONSTRAINT_NAME},
    {"source_file", (getter)diag_get_field, NULL,
        "Server source file where the error was reported.",
        (void *)(Py_ssize_t)DIAG_SOURCE_FILE},
    {"source_line", (getter)diag_get_field, NULL,
        "Server source line where the error was reported.",
        (void *)(Py_ssize_t)DIAG_SOURCE_LINE},
    {"source_function", (getter)diag_get_field, NULL,
        "Server function that reported the error.",
        (void *)(Py_ssize_t)DIAG_SOURCE_FUNCTION},
    {NULL}
};

PyObject *
diagnostics_new_for(PyObject *err)
{
    diagnosticsObject *self;

    if (!(self = PyObject_GC_New(diagnosticsObject, &diagnosticsType))) {
        return NULL;
    }
    Py_INCREF(err);
    self->err = (errorObject *)err;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static PyObject *
diag_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *rv = NULL;
    PyObject *err;
    diagnosticsObject *self;

    if (!PyArg_ParseTuple(args, "O", &err)) { goto exit; }
    if (kwargs && PyDict_Size(kwargs) > 0) {
        PyErr_SetString(PyExc_TypeError,
            "Diagnostics() takes no keyword arguments");
        goto exit;
    }
    if (!error_Check(err)) {
        PyErr_SetString(PyExc_TypeError,
            "The argument must be a psycopg2.Error");
        goto exit;
    }
    if (!(self = (diagnosticsObject *)type->tp_alloc(type, 0))) {
        goto exit;
    }
    Py_INCREF(err);
    self->err = (errorObject *)err;
    rv = (PyObject *)self;

exit:
    return rv;
}

static int
diag_traverse(diagnosticsObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->err);
    return 0;
}

static int
diag_clear(diagnosticsObject *self)
{
    Py_CLEAR(self->err);
    return 0;
}

static void
diag_dealloc(diagnosticsObject *self)
{
    PyObject_GC_UnTrack(self);
    diag_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyTypeObject diagnosticsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.Diagnostics",
    .tp_basicsize = sizeof(diagnosticsObject),
    .tp_dealloc = (destructor)diag_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc =
        "Diagnostics(exc) -> details of the error reported by the server.\n\n"
        "The object is what the `~psycopg2.Error.diag` attribute of an\n"
        "error returns: every field of the server error report is exposed\n"
        "as a read-only attribute (e.g. `!sqlstate`, `!message_detail`,\n"
        "`!table_name`), None when the server did not send it.",
    .tp_traverse = (traverseproc)diag_traverse,
    .tp_clear = (inquiry)diag_clear,
    .tp_getset = diag_getsets,
    .tp_new = diag_new,
};

/* The getset table and diag_fields[] must name the same fields in the
 * same order: a mismatch is a programming error caught at import. */
static int
check_field_tables(void)
{
    int i;

    for (i = 0; i < DIAG_NFIELDS; i++) {
        if (!diag_getsets[i].name
                || strcmp(diag_getsets[i].name, diag_fields[i].name) != 0
                || (Py_ssize_t)diag_getsets[i].closure != i) {
            PyErr_Format(PyExc_SystemError,
                "Diagnostics field table out of order at %d", i);
            return -1;
        }
    }
    return 0;
}

int
diagnostics_setup(PyObject *module)
{
    if (check_field_tables() < 0) { return -1; }
    if (PyType_Ready(&diagnosticsType) < 0) { return -1; }
    Py_INCREF(&diagnosticsType);
    if (PyModule_AddObject(
            module, "Diagnostics", (PyObject *)&diagnosticsType) < 0) {
        Py_DECREF(&diagnosticsType);
        return -1;
    }
    return 0;
}
