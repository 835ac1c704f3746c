/* error_type.h - the psycopg2.Error object, private to the error files.
 *
 * Shared by error_type.c (the Error type), errors.c (raising errors) and
 * diagnostics.c (the Diagnostics type reading the stored fields).  Other
 * files use the functions declared in psycopg.h instead.
 */
#ifndef PSYCOPG_ERROR_TYPE_H
#define PSYCOPG_ERROR_TYPE_H 1

#include "psycopg.h"

/* Indexes of the diagnostic fields stored on an error, in the order of
 * diag_fields[] (diagnostics.c). */
enum {
    DIAG_SEVERITY = 0,
    DIAG_SEVERITY_NONLOCALIZED,
    DIAG_SQLSTATE,
    DIAG_MESSAGE_PRIMARY,
    DIAG_MESSAGE_DETAIL,
    DIAG_MESSAGE_HINT,
    DIAG_STATEMENT_POSITION,
    DIAG_INTERNAL_POSITION,
    DIAG_INTERNAL_QUERY,
    DIAG_CONTEXT,
    DIAG_SCHEMA_NAME,
    DIAG_TABLE_NAME,
    DIAG_COLUMN_NAME,
    DIAG_DATATYPE_NAME,
    DIAG_CONSTRAINT_NAME,
    DIAG_SOURCE_FILE,
    DIAG_SOURCE_LINE,
    DIAG_SOURCE_FUNCTION,
    DIAG_NFIELDS
};

/* One diagnostic field: the Diagnostics attribute name and the libpq
 * PG_DIAG_* code to read it with PQresultErrorField(). */
typedef struct {
    const char *name;
    int pgcode;
} diagField;

extern const diagField diag_fields[DIAG_NFIELDS];

typedef struct {
    PyBaseExceptionObject exc;

    PyObject *pgerror;      /* str: full message from the server, or NULL */
    PyObject *pgcode;       /* str: SQLSTATE, or NULL */
    PyObject *cursor;       /* cursor that raised the error, or NULL */

    /* tuple of DIAG_NFIELDS str/None copied from the PGresult by
     * pq_raise(), or NULL when the error did not come from a result (then
     * every Diagnostics attribute is None). */
    PyObject *diag;
} errorObject;

/* The psycopg2.Error type; tp_base is set to Exception at setup. */
extern PyTypeObject errorType;

#define error_Check(op) PyObject_TypeCheck(op, &errorType)

/* Ready errorType (error_type.c).  0 ok, -1 error. */
int error_type_ready(void);

/* Build a Diagnostics object for an Error (diagnostics.c).  New
 * reference or NULL. */
PyObject *diagnostics_new_for(PyObject *err);

#endif /* PSYCOPG_ERROR_TYPE_H */
