/* adapt_internal.h - declarations shared by the adapt_*.c files only.
 *
 * The adaptation layer turns Python objects into SQL literals (bytes).
 * The public entry points (psyco_adapters, microprotocols_adapt,
 * microprotocol_getquoted, adapt_setup) are declared in psycopg.h; this
 * header holds what the adapt_*.c files share between themselves.
 *
 *   adapt_microprotocols.c  registry, ISQLQuote, adapt(), adapt_setup()
 *   adapt_base.c            slots shared by the adapter types
 *   adapt_escape.c          string and bytea escaping
 *   adapt_asis.c            AsIs
 *   adapt_qstring.c         QuotedString
 *   adapt_binary.c          Binary
 *   adapt_numbers.c         Boolean, Int, Float, Decimal
 *   adapt_list.c            List (ARRAY[...])
 *   adapt_sqlin.c           NoneAdapter, SQL_IN (tuples)
 *   adapt_datetime.c        date/time adapters and DB-API constructors
 *   adapt_fast.c            microprotocol_getquoted() and its fast paths
 */
#ifndef PSYCOPG_ADAPT_INTERNAL_H
#define PSYCOPG_ADAPT_INTERNAL_H 1

#include "psycopg.h"

/* Layout shared by all the adapter types: not every type uses every
 * field.  `wrapped` is exposed as `adapted`. */
typedef struct {
    PyObject_HEAD
    PyObject *wrapped;      /* the object being adapted */
    PyObject *conn;         /* connection given to prepare(), or NULL */
    PyObject *buffer;       /* cached getquoted() result, or NULL */
    PyObject *encoding;     /* QuotedString: Python codec name */
    int type;               /* datetime adapter: ADAPT_DT_* */
} adaptObject;

/* values of the datetime adapter `type` attribute (psycopg2's) */
#define ADAPT_DT_TIME       0
#define ADAPT_DT_DATE       1
#define ADAPT_DT_TIMESTAMP  2
#define ADAPT_DT_INTERVAL   3

extern PyTypeObject asisType;
extern PyTypeObject qstringType;
extern PyTypeObject binaryType;
extern PyTypeObject booleanType;
extern PyTypeObject intType;
extern PyTypeObject floatType;
extern PyTypeObject decimalType;
extern PyTypeObject listType;
extern PyTypeObject pydatetimeType;
extern PyTypeObject noneAdapterType;
extern PyTypeObject sqlinType;

/* decimal.Decimal, imported by adapt_setup() (strong reference) */
extern PyObject *adapt_decimal_type;

/* ---- adapt_base.c: slots and methods shared by the adapter types ---- */

int adapt_base_init(adaptObject *self, PyObject *args, PyObject *kwds);
void adapt_base_dealloc(adaptObject *self);
int adapt_base_traverse(adaptObject *self, visitproc visit, void *arg);
int adapt_base_clear(adaptObject *self);
/* str(adapter): getquoted() decoded (utf-8, invalid bytes replaced) */
PyObject *adapt_base_str(adaptObject *self);
/* __conform__(proto): self for ISQLQuote, else None */
PyObject *adapt_base_conform(adaptObject *self, PyObject *proto);
/* prepare(conn): remember the connection */
PyObject *adapt_base_prepare(adaptObject *self, PyObject *args);
/* the connection stored by prepare(), as connectionObject, or NULL */
connectionObject *adapt_base_conn(adaptObject *self);

extern PyMemberDef adapt_base_members[];  /* `adapted` */

#define ADAPT_CONFORM_METHOD \
    {"__conform__", (PyCFunction)adapt_base_conform, METH_O, \
     "Return self if the protocol is ISQLQuote, else None."}
#define ADAPT_PREPARE_METHOD \
    {"prepare", (PyCFunction)adapt_base_prepare, METH_VARARGS, \
     "prepare(conn) -> prepare the adapter for the connection `conn`."}

/* ---- adapt_escape.c ---- */

/* Quote bytes (already in the client encoding) as a string literal:
 * [E]'...' escaped for `conn` (libpq standalone escaping when conn is NULL
 * or closed).  ValueError if the data contains a NUL byte. */
PyObject *adapt_quote_string_bytes(connectionObject *conn, const char *s,
                                   Py_ssize_t len);

/* Quote a str: encode in the connection encoding (latin-1 without a
 * connection, like an unprepared QuotedString), then as above. */
PyObject *adapt_quote_str(connectionObject *conn, PyObject *str);

/* Quote binary data as [E]'...'::bytea for `conn` (hex format), or with
 * libpq standalone escaping when conn is NULL or closed. */
PyObject *adapt_quote_bytea(connectionObject *conn, const char *data,
                            Py_ssize_t len);

/* the libpq connection usable for escaping, or NULL */
PGconn *adapt_escaping_pgconn(connectionObject *conn);

/* ---- per type quoting: new bytes reference or NULL ---- */

PyObject *adapt_binary_quote(PyObject *obj, connectionObject *conn);
PyObject *adapt_bool_quote(PyObject *obj);
PyObject *adapt_int_quote(PyObject *obj);
PyObject *adapt_float_quote(PyObject *obj);
PyObject *adapt_decimal_quote(PyObject *obj);
PyObject *adapt_list_quote(PyObject *list, connectionObject *conn);
PyObject *adapt_sqlin_quote(PyObject *seq, connectionObject *conn);
PyObject *adapt_datetime_quote(PyObject *obj, int type);
/* datetime.date/time/datetime/timedelta of the exact type: quote with the
 * type matching the object, like the default adapters. */
PyObject *adapt_pydatetime_quote_exact(PyObject *obj);

/* prefix + parts (a list of bytes) joined by sep + suffix, as bytes
 * (adapt_list.c) */
PyObject *adapt_join_bytes(const char *prefix, PyObject *parts,
                           const char *sep, const char *suffix);

/* Write the decimal digits of v, zero padded to `width`, at out; return
 * the position after the last digit.  (snprintf is slow on the hot path.) */
static inline char *
adapt_write_digits(char *out, unsigned long long v, int width)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width) {
        tmp[n++] = '0';
    }
    while (n) {
        *out++ = tmp[--n];
    }
    return out;
}

/* constant literals (immortal for the module's life) */
extern PyObject *adapt_bytes_null;     /* b"NULL" */
extern PyObject *adapt_bytes_true;     /* b"true" */
extern PyObject *adapt_bytes_false;    /* b"false" */

/* ---- setup of each file ---- */

int adapt_types_setup(PyObject *module);       /* adapt_microprotocols.c */
int adapt_datetime_setup(PyObject *module);    /* adapt_datetime.c */
int adapt_numbers_setup(void);                 /* adapt_numbers.c */
/* Register `adapter` for (type, ISQLQuote) in psyco_adapters. */
int adapt_register(PyObject *type, PyObject *adapter);
/* ---- adapt_fast.c ---- */

/* Quote an object of an exact type whose default adapter is registered. */
typedef PyObject *(*adapt_fast_fn)(PyObject *obj, connectionObject *conn);

/* microprotocol_getquoted() honouring an adapter registered for None too
 * (the query merging always sends None as NULL, SQL_IN items don't). */
PyObject *adapt_getquoted_registered(PyObject *obj, connectionObject *conn);

/* Add `type` to the fast paths of microprotocol_getquoted(): `fn` is used
 * while the registry holds, for `type`, the adapter registered now. */
int adapt_fast_add(PyTypeObject *type, adapt_fast_fn fn);
/* Add the builtin types (not the datetime ones) to the fast paths. */
int adapt_fast_setup(void);

/* Exception class to raise for `exc` (psycopg2's if already set up). */
#define ADAPT_EXC(exc, fallback) ((exc) ? (exc) : (fallback))

#endif /* PSYCOPG_ADAPT_INTERNAL_H */
