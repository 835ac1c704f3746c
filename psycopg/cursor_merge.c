/* cursor_merge.c - query templates: find the %s / %(name)s placeholders
 * of a query and replace them with the SQL literals of the arguments.
 *
 * A query is parsed once into a queryTemplate (so that executemany() parses
 * it once for all its argument sets) and then merged with each set of
 * arguments.  Errors follow psycopg2: missing arguments raise the error of
 * the sequence/mapping lookup (IndexError, KeyError, TypeError), a bad
 * placeholder ValueError, mixing styles ProgrammingError.
 */

#include "cursor_int.h"

/* psycopg2.sql.Composable, imported on first use (None if unavailable) */
static PyObject *composable_type;

/* ------------------------------------------------------------------ */
/* Query argument -> bytes                                            */

/* 1 if obj is a psycopg2.sql.Composable, 0 if not, -1 on error. */
static int
is_composable(PyObject *obj)
{
    if (composable_type == NULL) {
        PyObject *mod = PyImport_ImportModule("psycopg2.sql");
        if (mod == NULL) {
            /* no sql module: nothing can be a Composable */
            PyErr_Clear();
            Py_INCREF(Py_None);
            composable_type = Py_None;
        }
        else {
            composable_type = PyObject_GetAttrString(mod, "Composable");
            Py_DECREF(mod);
            if (composable_type == NULL) {
                PyErr_Clear();
                Py_INCREF(Py_None);
                composable_type = Py_None;
            }
        }
    }
    if (composable_type == Py_None) {
        return 0;
    }
    return PyObject_IsInstance(obj, composable_type);
}

PyObject *
curs_query_to_bytes(cursorObject *self, PyObject *query)
{
    PyObject *str = NULL, *rv = NULL;
    int comp;

    if (PyBytes_Check(query)) {
        Py_INCREF(query);
        return query;
    }
    if (PyUnicode_Check(query)) {
        return conn_encode(self->conn, query);
    }
    if ((comp = is_composable(query)) < 0) {
        return NULL;
    }
    if (!comp) {
        PyErr_Format(PyExc_TypeError,
            "argument 1 must be a string or unicode object: got %s instead",
            Py_TYPE(query)->tp_name);
        return NULL;
    }
    if (!(str = PyObject_CallMethod(query, "as_string", "O", self))) {
        goto exit;
    }
    if (PyBytes_Check(str) || PyUnicode_Check(str)) {
        rv = curs_query_to_bytes(self, str);
    }
    else {
        PyErr_Format(PyExc_TypeError,
            "as_string() returned %s, expected str", Py_TYPE(str)->tp_name);
    }

exit:
    Py_XDECREF(str);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                            */

typedef struct {
    queryTemplate *tpl;
    Py_ssize_t alloc;
    PyObject *name_slots;       /* dict name -> slot number */
    PyObject *names;            /* list of names, by slot */
    Py_ssize_t npos;
} parseState;

static int
add_part(parseState *st, Py_ssize_t start, Py_ssize_t len, Py_ssize_t slot,
         int named)
{
    queryTemplate *tpl = st->tpl;

    if (tpl->nparts == st->alloc) {
        Py_ssize_t n = st->alloc ? st->alloc * 2 : 8;
        queryPart *p = PyMem_Realloc(tpl->parts, n * sizeof(queryPart));
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        tpl->parts = p;
        st->alloc = n;
    }
    tpl->parts[tpl->nparts].start = start;
    tpl->parts[tpl->nparts].len = len;
    tpl->parts[tpl->nparts].slot = slot;
    tpl->parts[tpl->nparts].named = named;
    tpl->nparts++;
    return 0;
}

/* Remember the first bad placeholder: `spec` is the index of the format
 * character (== len when the query ends after the '%'). */
static int
check_format_char(parseState *st, const char *q, Py_ssize_t len,
                  Py_ssize_t spec)
{
    queryTemplate *tpl = st->tpl;

    if (tpl->format_error_msg != NULL) {
        return 0;
    }
    if (spec >= len) {
        tpl->format_error_type = PyExc_ValueError;
        tpl->format_error_msg = PyUnicode_FromString("incomplete format");
    }
    else if (q[spec] != 's') {
        unsigned char c = (unsigned char)q[spec];
        tpl->format_error_type = PyExc_ValueError;
        tpl->format_error_msg = PyUnicode_FromFormat(
            "unsupported format character '%c' (0x%x) at index %zd",
            (int)c, (unsigned int)c, spec);
    }
    else {
        return 0;
    }
    return tpl->format_error_msg ? 0 : -1;
}

/* The slot of a %(name)s placeholder: equal names share a slot. */
static Py_ssize_t
named_slot(parseState *st, cursorObject *self, const char *s, Py_ssize_t len)
{
    PyObject *name = NULL, *slot = NULL;
    Py_ssize_t rv = -1;

    if (st->name_slots == NULL) {
        /* created on the first named placeholder only */
        if (!(st->name_slots = PyDict_New()) || !(st->names = PyList_New(0))) {
            goto exit;
        }
    }
    if (!(name = conn_decode(self->conn, s, len))) {
        goto exit;
    }
    if ((slot = PyDict_GetItemWithError(st->name_slots, name))) {
        rv = PyLong_AsSsize_t(slot);
        slot = NULL;    /* borrowed */
        goto exit;
    }
    if (PyErr_Occurred()) {
        goto exit;
    }
    if (!(slot = PyLong_FromSsize_t(PyList_GET_SIZE(st->names)))) {
        goto exit;
    }
    if (PyDict_SetItem(st->name_slots, name, slot) < 0
            || PyList_Append(st->names, name) < 0) {
        goto exit;
    }
    rv = PyList_GET_SIZE(st->names) - 1;

exit:
    Py_XDECREF(name);
    Py_XDECREF(slot);
    return rv;
}

/* Parse the placeholder starting at q[i] == '%'; set *next to the index
 * after it.  0 ok, -1 error. */
static int
parse_placeholder(parseState *st, cursorObject *self, const char *q,
                  Py_ssize_t len, Py_ssize_t i, Py_ssize_t *lit_start,
                  Py_ssize_t *next)
{
    Py_ssize_t slot, spec;
    int named = 0;

    if (i + 1 < len && q[i + 1] == '%') {
        /* "%%": a literal '%' closes the current chunk */
        if (add_part(st, *lit_start, i + 1 - *lit_start, -1, 0) < 0) {
            return -1;
        }
        *next = *lit_start = i + 2;
        return 0;
    }
    if (i + 1 < len && q[i + 1] == '(') {
        const char *close = memchr(q + i + 2, ')', len - i - 2);
        if (close == NULL) {
            PyErr_SetString(ProgrammingError,
                            "incomplete placeholder: '%(' without ')'");
            return -1;
        }
        slot = named_slot(st, self, q + i + 2, close - (q + i + 2));
        if (slot < 0) {
            return -1;
        }
        spec = close - q + 1;
        named = 1;
    }
    else {
        slot = st->npos++;
        spec = i + 1;
    }
    if (check_format_char(st, q, len, spec) < 0) {
        return -1;
    }
    if (add_part(st, *lit_start, i - *lit_start, slot, named) < 0) {
        return -1;
    }
    *next = *lit_start = spec < len ? spec + 1 : len;
    if (named) {
        st->tpl->style = QSTYLE_NAMED;
    }
    else if (st->tpl->style == QSTYLE_NONE) {
        st->tpl->style = QSTYLE_POSITIONAL;
    }
    return 0;
}

int
qtemplate_parse(queryTemplate *tpl, cursorObject *self, PyObject *query)
{
    parseState st = {tpl, 0, NULL, NULL, 0};
    const char *q = PyBytes_AS_STRING(query);
    Py_ssize_t len = PyBytes_GET_SIZE(query), i = 0, lit_start = 0;
    int rv = -1;

    memset(tpl, 0, sizeof(*tpl));
    Py_INCREF(query);
    tpl->query = query;
    while (i < len) {
        const char *pc = memchr(q + i, '%', len - i);
        if (pc == NULL) {
            break;
        }
        if (parse_placeholder(&st, self, q, len, pc - q, &lit_start, &i) < 0) {
            goto exit;
        }
    }
    if (add_part(&st, lit_start, len - lit_start, -1, 0) < 0) {
        goto exit;
    }
    if (st.names != NULL && PyList_GET_SIZE(st.names) > 0) {
        tpl->nslots = PyList_GET_SIZE(st.names);
        if (!(tpl->names = PyList_AsTuple(st.names))) {
            goto exit;
        }
    }
    /* with mixed styles the slots of the two kinds overlap: merging raises
     * before using them, but size the array for the larger */
    if (st.npos > tpl->nslots) {
        tpl->nslots = st.npos;
    }
    rv = 0;

exit:
    Py_XDECREF(st.name_slots);
    Py_XDECREF(st.names);
    if (rv < 0) {
        qtemplate_clear(tpl);
    }
    return rv;
}

void
qtemplate_clear(queryTemplate *tpl)
{
    Py_CLEAR(tpl->query);
    Py_CLEAR(tpl->names);
    Py_CLEAR(tpl->format_error_msg);
    tpl->format_error_type = NULL;
    PyMem_Free(tpl->parts);
    tpl->parts = NULL;
    tpl->nparts = 0;
    tpl->nslots = 0;
    tpl->style = QSTYLE_NONE;
}

/* ------------------------------------------------------------------ */
/* Merging                                                            */

/* Look up and adapt the argument of a placeholder.  New reference to the
 * SQL literal (bytes) or NULL. */
static PyObject *
adapt_argument(queryTemplate *tpl, cursorObject *self, PyObject *vars,
               queryPart *part)
{
    PyObject *value, *lit;

    if (part->named) {
        value = PyObject_GetItem(vars,
                                 PyTuple_GET_ITEM(tpl->names, part->slot));
    }
    else {
        value = PySequence_GetItem(vars, part->slot);
    }
    if (value == NULL) {
        return NULL;
    }
    lit = microprotocol_getquoted(value, self->conn);
    Py_DECREF(value);
    if (lit != NULL && !PyBytes_Check(lit)) {
        PyErr_Format(PyExc_TypeError,
            "the adapter of the argument returned %s instead of bytes",
            Py_TYPE(lit)->tp_name);
        Py_CLEAR(lit);
    }
    return lit;
}

/* Fill vals[] (one literal per slot) in placeholder order.  0 ok, -1. */
static int
adapt_arguments(queryTemplate *tpl, cursorObject *self, PyObject *vars,
                PyObject **vals)
{
    Py_ssize_t i;
    int first_named = -1;

    for (i = 0; i < tpl->nparts; i++) {
        queryPart *part = &tpl->parts[i];
        if (part->slot < 0) {
            continue;
        }
        if (first_named < 0) {
            first_named = part->named;
        }
        else if (first_named != part->named) {
            PyErr_SetString(ProgrammingError,
                            "argument formats can't be mixed");
            return -1;
        }
        if (vals[part->slot] == NULL) {
            if (!(vals[part->slot] = adapt_argument(tpl, self, vars, part))) {
                return -1;
            }
        }
    }
    return 0;
}

/* The errors the formatting step reports after the lookups. */
static int
check_format_errors(queryTemplate *tpl, PyObject *vars)
{
    if (tpl->format_error_msg != NULL) {
        PyErr_SetObject(tpl->format_error_type, tpl->format_error_msg);
        return -1;
    }
    if (tpl->style == QSTYLE_POSITIONAL) {
        Py_ssize_t n = PyObject_Length(vars);
        if (n < 0) {
            return -1;
        }
        if (n > tpl->nslots) {
            PyErr_SetString(PyExc_TypeError,
                "not all arguments converted during string formatting");
            return -1;
        }
    }
    return 0;
}

/* Concatenate literal chunks and argument literals. */
static PyObject *
build_query(queryTemplate *tpl, PyObject **vals)
{
    const char *q = PyBytes_AS_STRING(tpl->query);
    Py_ssize_t i, size = 0;
    PyObject *rv;
    char *out;

    for (i = 0; i < tpl->nparts; i++) {
        size += tpl->parts[i].len;
        if (tpl->parts[i].slot >= 0) {
            size += PyBytes_GET_SIZE(vals[tpl->parts[i].slot]);
        }
    }
    if (!(rv = PyBytes_FromStringAndSize(NULL, size))) {
        return NULL;
    }
    out = PyBytes_AS_STRING(rv);
    for (i = 0; i < tpl->nparts; i++) {
        queryPart *part = &tpl->parts[i];
        memcpy(out, q + part->start, part->len);
        out += part->len;
        if (part->slot >= 0) {
            PyObject *v = vals[part->slot];
            memcpy(out, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v));
            out += PyBytes_GET_SIZE(v);
        }
    }
    return rv;
}

PyObject *
qtemplate_merge(queryTemplate *tpl, cursorObject *self, PyObject *vars)
{
    PyObject *small[16] = {NULL};
    PyObject **vals = small;
    PyObject *rv = NULL;
    Py_ssize_t i;

    if (vars == NULL || vars == Py_None) {
        Py_INCREF(tpl->query);
        return tpl->query;
    }
    if (tpl->nslots > 16) {
        if (!(vals = PyMem_Calloc(tpl->nslots, sizeof(PyObject *)))) {
            return PyErr_NoMemory();
        }
    }
    if (adapt_arguments(tpl, self, vars, vals) < 0) {
        goto exit;
    }
    if (check_format_errors(tpl, vars) < 0) {
        goto exit;
    }
    rv = build_query(tpl, vals);

exit:
    for (i = 0; i < tpl->nslots; i++) {
        Py_XDECREF(vals[i]);
    }
    if (vals != small) {
        PyMem_Free(vals);
    }
    return rv;
}

/* ------------------------------------------------------------------ */
/* Quoting helpers                                                    */

/* str -> bytes in the client encoding, bytes unchanged; else TypeError.
 * A NUL would cut the statement short (libpq takes C strings): refuse it
 * with ValueError, as Python does for C string arguments. */
static PyObject *
to_client_bytes(cursorObject *self, PyObject *s)
{
    PyObject *b;

    if (PyBytes_Check(s)) {
        Py_INCREF(s);
        b = s;
    }
    else if (PyUnicode_Check(s)) {
        if (!(b = conn_encode(self->conn, s))) {
            return NULL;
        }
    }
    else {
        PyErr_Format(PyExc_TypeError,
            "Expected bytes or unicode string, got %s instead",
            Py_TYPE(s)->tp_name);
        return NULL;
    }
    if (memchr(PyBytes_AS_STRING(b), '\0', PyBytes_GET_SIZE(b)) != NULL) {
        PyErr_SetString(PyExc_ValueError, "embedded null character");
        Py_DECREF(b);
        return NULL;
    }
    return b;
}

PyObject *
curs_quote_literal(cursorObject *self, PyObject *s)
{
    PyObject *b = NULL, *rv = NULL;
    const char *src;
    Py_ssize_t len, i, size;
    int escape;
    char *out;

    if (!(b = to_client_bytes(self, s))) {
        goto exit;
    }
    src = PyBytes_AS_STRING(b);
    len = PyBytes_GET_SIZE(b);
    /* backslashes need E'' (and doubling) only when the server doesn't use
     * standard conforming strings */
    escape = self->conn->equote && memchr(src, '\\', len) != NULL;
    size = len + 2 + escape;
    for (i = 0; i < len; i++) {
        if (src[i] == '\'' || (escape && src[i] == '\\')) {
            size++;
        }
    }
    if (!(rv = PyBytes_FromStringAndSize(NULL, size))) {
        goto exit;
    }
    out = PyBytes_AS_STRING(rv);
    if (escape) {
        *out++ = 'E';
    }
    *out++ = '\'';
    for (i = 0; i < len; i++) {
        if (src[i] == '\'' || (escape && src[i] == '\\')) {
            *out++ = src[i];
        }
        *out++ = src[i];
    }
    *out++ = '\'';

exit:
    Py_XDECREF(b);
    return rv;
}

PyObject *
curs_quote_identifier(cursorObject *self, PyObject *ident)
{
    PyObject *b = NULL, *rv = NULL;
    connectionObject *conn = self->conn;
    char *quoted = NULL;

    if (!(b = to_client_bytes(self, ident))) {
        goto exit;
    }
    if (conn_check_open(conn) < 0) {
        goto exit;
    }
    /* PQescapeIdentifier reads the connection state: hold its lock */
    CONN_LOCK_BEGIN(conn);
    quoted = PQescapeIdentifier(conn->pgconn, PyBytes_AS_STRING(b),
                                (size_t)PyBytes_GET_SIZE(b));
    CONN_LOCK_END(conn);
    if (quoted == NULL) {
        PyErr_Format(ProgrammingError, "can't quote identifier: %s",
                     PQerrorMessage(conn->pgconn));
        goto exit;
    }
    rv = PyBytes_FromString(quoted);

exit:
    if (quoted != NULL) {
        PQfreemem(quoted);
    }
    Py_XDECREF(b);
    return rv;
}
