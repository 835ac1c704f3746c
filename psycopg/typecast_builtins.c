/* typecast_builtins.c - the built-in typecasters and their oids.
 *
 * The casters have psycopg2's names and oid sets.  The "registered" ones
 * go into the global string_types dict in table order (a later caster wins
 * for an oid listed twice: NUMBER is shadowed by INTEGER, FLOAT...); the
 * others are only exported by the module (UNICODE, BYTES, PYDATE...).
 */

#include "typecast_internal.h"

/* Index of every built-in caster in builtin_defs / builtin_objs. */
enum {
    TC_NUMBER, TC_LONGINTEGER, TC_INTEGER, TC_FLOAT, TC_DECIMAL,
    TC_STRING, TC_BOOLEAN, TC_DATETIME, TC_DATETIMETZ, TC_TIME, TC_DATE,
    TC_INTERVAL, TC_BINARY, TC_ROWID,
    TC_LONGINTEGERARRAY, TC_INTEGERARRAY, TC_FLOATARRAY, TC_DECIMALARRAY,
    TC_STRINGARRAY, TC_BOOLEANARRAY, TC_DATETIMEARRAY, TC_DATETIMETZARRAY,
    TC_TIMEARRAY, TC_DATEARRAY, TC_INTERVALARRAY, TC_BINARYARRAY,
    TC_ROWIDARRAY, TC_UNKNOWN, TC_INETARRAY, TC_CIDRARRAY, TC_MACADDRARRAY,
    /* exported only */
    TC_UNICODE, TC_UNICODEARRAY, TC_BYTES, TC_BYTESARRAY,
    TC_PYDATE, TC_PYTIME, TC_PYDATETIME, TC_PYDATETIMETZ, TC_PYINTERVAL,
    TC_PYDATEARRAY, TC_PYTIMEARRAY, TC_PYDATETIMEARRAY,
    TC_PYDATETIMETZARRAY, TC_PYINTERVALARRAY,
    TC_COUNT
};

static PyObject *builtin_objs[TC_COUNT];

/* oid sets (0 terminated) */
static const long oids_NUMBER[] = {20, 23, 21, 701, 700, 1700, 0};
static const long oids_LONGINTEGER[] = {20, 0};
static const long oids_INTEGER[] = {23, 21, 0};
static const long oids_FLOAT[] = {701, 700, 0};
static const long oids_DECIMAL[] = {1700, 0};
static const long oids_STRING[] = {19, 18, 25, 1042, 1043, 0};
static const long oids_BOOLEAN[] = {16, 0};
static const long oids_DATETIME[] = {1114, 0};
static const long oids_DATETIMETZ[] = {1184, 0};
static const long oids_TIME[] = {1083, 1266, 0};
static const long oids_DATE[] = {1082, 0};
static const long oids_INTERVAL[] = {704, 1186, 0};
static const long oids_BINARY[] = {17, 0};
static const long oids_ROWID[] = {26, 0};
static const long oids_LONGINTEGERARRAY[] = {1016, 0};
static const long oids_INTEGERARRAY[] = {1005, 1006, 1007, 0};
static const long oids_FLOATARRAY[] = {1021, 1022, 0};
static const long oids_DECIMALARRAY[] = {1231, 0};
static const long oids_STRINGARRAY[] = {1002, 1003, 1009, 1014, 1015, 0};
static const long oids_BOOLEANARRAY[] = {1000, 0};
static const long oids_DATETIMEARRAY[] = {1115, 0};
static const long oids_DATETIMETZARRAY[] = {1185, 0};
static const long oids_TIMEARRAY[] = {1183, 1270, 0};
static const long oids_DATEARRAY[] = {1182, 0};
static const long oids_INTERVALARRAY[] = {1187, 0};
static const long oids_BINARYARRAY[] = {1001, 0};
static const long oids_ROWIDARRAY[] = {1028, 1013, 0};
static const long oids_UNKNOWN[] = {705, 0};
static const long oids_INETARRAY[] = {1041, 0};
static const long oids_CIDRARRAY[] = {651, 0};
static const long oids_MACADDRARRAY[] = {1040, 0};
static const long oids_NONE[] = {0};

/* Array casters with a C entry point: B's fetch loop calls ccast
 * directly, and ccast has no access to the caster object, so each
 * built-in array type gets its own function bound to its base. */
#define ARRAY_CAST(name, base) \
    static PyObject * \
    cast_##name(const char *s, Py_ssize_t len, PyObject *curs) \
    { \
        return typecast_array_cast(s, len, curs, builtin_objs[base]); \
    }

ARRAY_CAST(LONGINTEGERARRAY, TC_LONGINTEGER)
ARRAY_CAST(INTEGERARRAY, TC_INTEGER)
ARRAY_CAST(FLOATARRAY, TC_FLOAT)
ARRAY_CAST(DECIMALARRAY, TC_DECIMAL)
ARRAY_CAST(STRINGARRAY, TC_STRING)
ARRAY_CAST(BOOLEANARRAY, TC_BOOLEAN)
ARRAY_CAST(DATETIMEARRAY, TC_DATETIME)
ARRAY_CAST(DATETIMETZARRAY, TC_DATETIMETZ)
ARRAY_CAST(TIMEARRAY, TC_TIME)
ARRAY_CAST(DATEARRAY, TC_DATE)
ARRAY_CAST(INTERVALARRAY, TC_INTERVAL)
ARRAY_CAST(BINARYARRAY, TC_BINARY)
ARRAY_CAST(ROWIDARRAY, TC_ROWID)
ARRAY_CAST(INETARRAY, TC_STRING)
ARRAY_CAST(CIDRARRAY, TC_STRING)
ARRAY_CAST(MACADDRARRAY, TC_STRING)
ARRAY_CAST(UNICODEARRAY, TC_UNICODE)
ARRAY_CAST(BYTESARRAY, TC_BYTES)
ARRAY_CAST(PYDATEARRAY, TC_PYDATE)
ARRAY_CAST(PYTIMEARRAY, TC_PYTIME)
ARRAY_CAST(PYDATETIMEARRAY, TC_PYDATETIME)
ARRAY_CAST(PYDATETIMETZARRAY, TC_PYDATETIMETZ)
ARRAY_CAST(PYINTERVALARRAY, TC_PYINTERVAL)

typedef struct {
    const char *name;
    const long *oids;
    typecast_function cast;
    int base;               /* TC_* of the element caster, or -1 */
    int registered;         /* goes into string_types */
} builtin_def;

#define SCALAR(name, oids, cast, reg) {#name, oids, cast, -1, reg}
#define ARRAY(name, oids, base, reg) {#name, oids, cast_##name, base, reg}

/* Same order as the TC_* enum. */
static const builtin_def builtin_defs[TC_COUNT] = {
    SCALAR(NUMBER, oids_NUMBER, typecast_FLOAT_cast, 1),
    SCALAR(LONGINTEGER, oids_LONGINTEGER, typecast_INTEGER_cast, 1),
    SCALAR(INTEGER, oids_INTEGER, typecast_INTEGER_cast, 1),
    SCALAR(FLOAT, oids_FLOAT, typecast_FLOAT_cast, 1),
    SCALAR(DECIMAL, oids_DECIMAL, typecast_DECIMAL_cast, 1),
    SCALAR(STRING, oids_STRING, typecast_STRING_cast, 1),
    SCALAR(BOOLEAN, oids_BOOLEAN, typecast_BOOLEAN_cast, 1),
    SCALAR(DATETIME, oids_DATETIME, typecast_DATETIME_cast, 1),
    SCALAR(DATETIMETZ, oids_DATETIMETZ, typecast_DATETIMETZ_cast, 1),
    SCALAR(TIME, oids_TIME, typecast_TIME_cast, 1),
    SCALAR(DATE, oids_DATE, typecast_DATE_cast, 1),
    SCALAR(INTERVAL, oids_INTERVAL, typecast_INTERVAL_cast, 1),
    SCALAR(BINARY, oids_BINARY, typecast_BINARY_cast, 1),
    SCALAR(ROWID, oids_ROWID, typecast_INTEGER_cast, 1),
    ARRAY(LONGINTEGERARRAY, oids_LONGINTEGERARRAY, TC_LONGINTEGER, 1),
    ARRAY(INTEGERARRAY, oids_INTEGERARRAY, TC_INTEGER, 1),
    ARRAY(FLOATARRAY, oids_FLOATARRAY, TC_FLOAT, 1),
    ARRAY(DECIMALARRAY, oids_DECIMALARRAY, TC_DECIMAL, 1),
    ARRAY(STRINGARRAY, oids_STRINGARRAY, TC_STRING, 1),
    ARRAY(BOOLEANARRAY, oids_BOOLEANARRAY, TC_BOOLEAN, 1),
    ARRAY(DATETIMEARRAY, oids_DATETIMEARRAY, TC_DATETIME, 1),
    ARRAY(DATETIMETZARRAY, oids_DATETIMETZARRAY, TC_DATETIMETZ, 1),
    ARRAY(TIMEARRAY, oids_TIMEARRAY, TC_TIME, 1),
    ARRAY(DATEARRAY, oids_DATEARRAY, TC_DATE, 1),
    ARRAY(INTERVALARRAY, oids_INTERVALARRAY, TC_INTERVAL, 1),
    ARRAY(BINARYARRAY, oids_BINARYARRAY, TC_BINARY, 1),
    ARRAY(ROWIDARRAY, oids_ROWIDARRAY, TC_ROWID, 1),
    SCALAR(UNKNOWN, oids_UNKNOWN, typecast_STRING_cast, 1),
    ARRAY(INETARRAY, oids_INETARRAY, TC_STRING, 1),
    ARRAY(CIDRARRAY, oids_CIDRARRAY, TC_STRING, 1),
    ARRAY(MACADDRARRAY, oids_MACADDRARRAY, TC_STRING, 1),
    SCALAR(UNICODE, oids_STRING, typecast_STRING_cast, 0),
    ARRAY(UNICODEARRAY, oids_STRINGARRAY, TC_UNICODE, 0),
    SCALAR(BYTES, oids_STRING, typecast_BYTES_cast, 0),
    ARRAY(BYTESARRAY, oids_STRINGARRAY, TC_BYTES, 0),
    SCALAR(PYDATE, oids_DATE, typecast_DATE_cast, 0),
    SCALAR(PYTIME, oids_TIME, typecast_TIME_cast, 0),
    SCALAR(PYDATETIME, oids_DATETIME, typecast_DATETIME_cast, 0),
    SCALAR(PYDATETIMETZ, oids_DATETIMETZ, typecast_DATETIMETZ_cast, 0),
    SCALAR(PYINTERVAL, oids_INTERVAL, typecast_INTERVAL_cast, 0),
    ARRAY(PYDATEARRAY, oids_DATEARRAY, TC_PYDATE, 0),
    ARRAY(PYTIMEARRAY, oids_TIMEARRAY, TC_PYTIME, 0),
    ARRAY(PYDATETIMEARRAY, oids_DATETIMEARRAY, TC_PYDATETIME, 0),
    ARRAY(PYDATETIMETZARRAY, oids_DATETIMETZARRAY, TC_PYDATETIMETZ, 0),
    ARRAY(PYINTERVALARRAY, oids_INTERVALARRAY, TC_PYINTERVAL, 0),
};

/* Register `caster` in `dict` for each of its oids. */
static int
register_in(PyObject *dict, PyObject *caster)
{
    PyObject *values = ((typecastObject *)caster)->values;
    Py_ssize_t i;

    for (i = 0; i < PyTuple_GET_SIZE(values); i++) {
        if (PyDict_SetItem(dict, PyTuple_GET_ITEM(values, i), caster) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Create builtin i (its base was created before it) and export it. */
static int
create_builtin(PyObject *module, int i)
{
    const builtin_def *def = &builtin_defs[i];
    PyObject *base = def->base >= 0 ? builtin_objs[def->base] : NULL;
    PyObject *caster;

    caster = typecast_create_from_oids(def->name, def->oids, def->cast, base);
    if (caster == NULL) {
        return -1;
    }
    builtin_objs[i] = caster;   /* keeps this reference forever */
    if (def->registered && register_in(psyco_types, caster) < 0) {
        return -1;
    }
    Py_INCREF(caster);
    if (PyModule_AddObject(module, def->name, caster) < 0) {
        Py_DECREF(caster);
        return -1;
    }
    return 0;
}

int
typecast_builtins_setup(PyObject *module)
{
    int i;

    for (i = 0; i < TC_COUNT; i++) {
        /* the table lists every base before its arrays */
        if (builtin_defs[i].base >= 0 && builtin_objs[builtin_defs[i].base]
                == NULL) {
            PyErr_Format(PyExc_SystemError, "typecaster %s: base missing",
                         builtin_defs[i].name);
            return -1;
        }
        if (create_builtin(module, i) < 0) {
            return -1;
        }
    }
    psyco_default_cast = typecast_create_from_oids(
        "DEFAULT", oids_NONE, typecast_STRING_cast, NULL);
    return psyco_default_cast != NULL ? 0 : -1;
}
