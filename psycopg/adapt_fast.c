/* adapt_fast.c - microprotocol_getquoted(): the SQL literal of a query
 * parameter.
 *
 * This runs for every parameter of every query, so the builtin types are
 * quoted here directly, without creating an adapter object.  A fast path
 * is taken only for objects of the exact type (subclasses may define
 * __conform__) and only while the registry still maps the type to the
 * adapter it had when the module was set up: registering another adapter
 * for int, str... makes the generic path (adapt, prepare, getquoted) take
 * over, as the user expects.  The generic and fast paths produce the same
 * bytes.
 */
#include "adapt_internal.h"

#define FAST_MAX 20

typedef struct {
    PyTypeObject *type;
    PyObject *key;          /* (type, ISQLQuote) */
    PyObject *adapter;      /* the default adapter (strong reference, so
                               that its address cannot be reused) */
    adapt_fast_fn quote;
} fastEntry;

static fastEntry fast_table[FAST_MAX];
static int fast_count = 0;

static PyObject *str_prepare;       /* "prepare" */
static PyObject *str_getquoted;     /* "getquoted" */

/* ---- the fast quoting functions ---- */

static PyObject *
fast_none(PyObject *obj, connectionObject *conn)
{
    Py_INCREF(adapt_bytes_null);
    return adapt_bytes_null;
}

static PyObject *
fast_bool(PyObject *obj, connectionObject *conn)
{
    PyObject *rv = (obj == Py_True) ? adapt_bytes_true : adapt_bytes_false;

    Py_INCREF(rv);
    return rv;
}

static PyObject *
fast_int(PyObject *obj, connectionObject *conn)
{
    return adapt_int_quote(obj);
}

static PyObject *
fast_float(PyObject *obj, connectionObject *conn)
{
    return adapt_float_quote(obj);
}

static PyObject *
fast_decimal(PyObject *obj, connectionObject *conn)
{
    return adapt_decimal_quote(obj);
}

static PyObject *
fast_str(PyObject *obj, connectionObject *conn)
{
    return adapt_quote_str(conn, obj);
}

static PyObject *
fast_binary(PyObject *obj, connectionObject *conn)
{
    return adapt_binary_quote(obj, conn);
}

static PyObject *
fast_list(PyObject *obj, connectionObject *conn)
{
    return adapt_list_quote(obj, conn);
}

static PyObject *
fast_tuple(PyObject *obj, connectionObject *conn)
{
    return adapt_sqlin_quote(obj, conn);
}

/* ---- the generic path ---- */

/* adapted.prepare(conn), if the adapter has prepare().  0 ok, -1 error. */
static int
prepare_adapter(PyObject *adapted, connectionObject *conn)
{
    PyObject *meth;
    PyObject *res;

    if (!(meth = PyObject_GetAttr(adapted, str_prepare))) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    res = PyObject_CallOneArg(meth, (PyObject *)conn);
    Py_DECREF(meth);
    if (!res) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

/* The result of getquoted() as bytes: str is encoded in the connection
 * encoding (utf-8 without a connection).  Steals `res`. */
static PyObject *
ensure_bytes(PyObject *res, connectionObject *conn)
{
    PyObject *rv = NULL;

    if (!res || PyBytes_Check(res)) {
        return res;
    }
    if (PyUnicode_Check(res)) {
        if (conn && !conn->is_utf8 && conn->pyencoding) {
            rv = conn_encode(conn, res);
        }
        else {
            rv = PyUnicode_AsUTF8String(res);
        }
    }
    else {
        PyErr_Format(PyExc_ValueError, "only bytes values expected, got %s",
                     Py_TYPE(res)->tp_name);
    }
    Py_DECREF(res);
    return rv;
}

static PyObject *
getquoted_generic(PyObject *obj, connectionObject *conn)
{
    PyObject *adapted = NULL;
    PyObject *rv = NULL;

    if (!(adapted = microprotocols_adapt(obj, (PyObject *)&isqlquoteType,
                                         NULL))) {
        goto exit;
    }
    if (conn && prepare_adapter(adapted, conn) < 0) {
        goto exit;
    }
    rv = ensure_bytes(PyObject_CallMethodNoArgs(adapted, str_getquoted),
                      conn);

exit:
    Py_XDECREF(adapted);
    return rv;
}

PyObject *
adapt_getquoted_registered(PyObject *obj, connectionObject *conn)
{
    PyTypeObject *type = Py_TYPE(obj);
    int i;

    for (i = 0; i < fast_count; i++) {
        fastEntry *entry = &fast_table[i];
        PyObject *adapter;
        if (entry->type != type) {
            continue;
        }
        adapter = PyDict_GetItemWithError(psyco_adapters, entry->key);
        if (adapter == entry->adapter) {
            return entry->quote(obj, conn);
        }
        if (!adapter && PyErr_Occurred()) {
            return NULL;
        }
        break;
    }
    return getquoted_generic(obj, conn);
}

PyObject *
microprotocol_getquoted(PyObject *obj, connectionObject *conn)
{
    /* like psycopg2's query merging, None is always NULL in a query */
    if (obj == Py_None) {
        Py_INCREF(adapt_bytes_null);
        return adapt_bytes_null;
    }
    return adapt_getquoted_registered(obj, conn);
}

/* ---- setup ---- */

int
adapt_fast_add(PyTypeObject *type, adapt_fast_fn fn)
{
    fastEntry *entry = &fast_table[fast_count];
    PyObject *key = NULL;
    PyObject *adapter;

    if (fast_count >= FAST_MAX) {
        PyErr_SetString(PyExc_SystemError, "adapt fast paths table full");
        return -1;
    }
    if (!(key = PyTuple_Pack(2, (PyObject *)type,
                             (PyObject *)&isqlquoteType))) {
        return -1;
    }
    if (!(adapter = PyDict_GetItemWithError(psyco_adapters, key))) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_SystemError, "no default adapter for %s",
                         type->tp_name);
        }
        Py_DECREF(key);
        return -1;
    }
    Py_INCREF(type);
    Py_INCREF(adapter);
    entry->type = type;
    entry->key = key;
    entry->adapter = adapter;
    entry->quote = fn;
    fast_count++;
    return 0;
}

int
adapt_fast_setup(void)
{
    /* most frequent parameter types first */
    struct { PyTypeObject *type; adapt_fast_fn fn; } builtins[] = {
        {&PyUnicode_Type, fast_str},
        {&PyLong_Type, fast_int},
        {NULL, fast_none},                  /* NoneType, set below */
        {&PyFloat_Type, fast_float},
        {&PyBool_Type, fast_bool},
        {NULL, fast_decimal},               /* decimal.Decimal */
        {&PyBytes_Type, fast_binary},
        {&PyList_Type, fast_list},
        {&PyTuple_Type, fast_tuple},
        {&PyByteArray_Type, fast_binary},
        {&PyMemoryView_Type, fast_binary},
    };
    size_t i;

    if (!(str_prepare = PyUnicode_InternFromString("prepare"))
            || !(str_getquoted = PyUnicode_InternFromString("getquoted"))) {
        return -1;
    }
    builtins[2].type = Py_TYPE(Py_None);
    builtins[5].type = (PyTypeObject *)adapt_decimal_type;
    for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
        if (adapt_fast_add(builtins[i].type, builtins[i].fn) < 0) {
            return -1;
        }
    }
    return 0;
}
