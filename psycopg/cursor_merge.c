/* cursor_merge.c - query templates: find the %s / %(name)s placeholders
 * of a query and replace them with the SQL literals of the arguments.
 *
 * A query is parsed once into a queryTemplate (so that executemany() parses
 * it once for all its argument sets) and then merged with each set of
 * arguments.  Errors follow psycopg2, in psycopg2's order: missing
 * arguments raise the error of the sequence/mapping lookup (IndexError,
 * KeyError, TypeError), mixing styles and an unterminated "%(" raise
 * ProgrammingError, a bad conversion character ValueError.
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

/* The two passes over the query follow psycopg2's.  The scan finds the
 * arguments to look up: "%%" is skipped, "%(name)" (the name ends at the
 * first ')'; a '%' or the end before it is an error) looks up a name, a '%'
 * followed by anything else looks up the next positional argument.  The
 * formatting step then reads "%(name)" (with balanced parentheses) or '%',
 * each followed by a conversion character: 's' inserts the value, '%' a
 * percent sign, anything else is an error. */

typedef struct {
    queryTemplate *tpl;
    Py_ssize_t alloc;           /* parts allocated */
    Py_ssize_t lookups_alloc;
    PyObject *name_slots;       /* dict name -> slot number */
    PyObject *names;            /* list of names, by slot */
    Py_ssize_t npos;            /* positional lookups */
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

static int
add_lookup(parseState *st, Py_ssize_t slot)
{
    queryTemplate *tpl = st->tpl;

    if (tpl->nlookups == st->lookups_alloc) {
        Py_ssize_t n = st->lookups_alloc ? st->lookups_alloc * 2 : 8;
        Py_ssize_t *p = PyMem_Realloc(tpl->lookups, n * sizeof(Py_ssize_t));
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        tpl->lookups = p;
        st->lookups_alloc = n;
    }
    tpl->lookups[tpl->nlookups++] = slot;
    return 0;
}

/* Record an error to raise later: `msg` is a new reference (NULL: the
 * creation failed, -1). */
static int
set_error(PyObject **type, PyObject **msg, PyObject *etype, PyObject *emsg)
{
    if (emsg == NULL) {
        return -1;
    }
    *type = etype;
    *msg = emsg;
    return 0;
}

/* The slot of a name, or -1 if unknown (create: add it).  -2 on error. */
static Py_ssize_t
named_slot(parseState *st, PyObject *name, int create)
{
    PyObject *slot;
    Py_ssize_t rv;

    if (st->name_slots == NULL) {
        if (!create) {
            return -1;
        }
        /* created on the first named placeholder only */
        if (!(st->name_slots = PyDict_New()) || !(st->names = PyList_New(0))) {
            return -2;
        }
    }
    if ((slot = PyDict_GetItemWithError(st->name_slots, name))) {
        return PyLong_AsSsize_t(slot);
    }
    if (PyErr_Occurred()) {
        return -2;
    }
    if (!create) {
        return -1;
    }
    if (!(slot = PyLong_FromSsize_t(PyList_GET_SIZE(st->names)))) {
        return -2;
    }
    rv = PyList_GET_SIZE(st->names);
    if (PyDict_SetItem(st->name_slots, name, slot) < 0
            || PyList_Append(st->names, name) < 0) {
        rv = -2;
    }
    Py_DECREF(slot);
    return rv;
}

static PyObject *
decode_name(cursorObject *self, const char *q, Py_ssize_t start,
            Py_ssize_t end)
{
    return conn_decode(self->conn, q + start, end - start);
}

/* The scan of a "%(" at q[i]: look up the name up to the first ')'.
 * Return the index to go on from, -1 to stop (error recorded), -2 on
 * error. */
static Py_ssize_t
scan_named(parseState *st, cursorObject *self, const char *q,
           Py_ssize_t len, Py_ssize_t i)
{
    queryTemplate *tpl = st->tpl;
    PyObject *name;
    Py_ssize_t d, slot;

    if (tpl->style == QSTYLE_POSITIONAL) {
        return set_error(&tpl->scan_error_type, &tpl->scan_error_msg,
            ProgrammingError, PyUnicode_FromString(
                "argument formats can't be mixed")) - 1;
    }
    tpl->style = QSTYLE_NAMED;
    for (d = i + 2; d < len && q[d] != ')' && q[d] != '%'; d++) {}
    if (d >= len || q[d] != ')') {
        return set_error(&tpl->scan_error_type, &tpl->scan_error_msg,
            ProgrammingError, PyUnicode_FromString(
                "incomplete placeholder: '%(' without ')'")) - 1;
    }
    if (!(name = decode_name(self, q, i + 2, d))) {
        return -2;
    }
    slot = named_slot(st, name, 1);
    Py_DECREF(name);
    if (slot < 0 || add_lookup(st, slot) < 0) {
        return -2;
    }
    return d + 1;
}

/* The scan: fill tpl->lookups.  0 ok (maybe with a scan error), -1. */
static int
scan_query(parseState *st, cursorObject *self, const char *q, Py_ssize_t len)
{
    queryTemplate *tpl = st->tpl;
    Py_ssize_t i = 0;
    const char *pc;

    while (i < len && (pc = memchr(q + i, '%', len - i)) != NULL) {
        i = pc - q;
        if (i + 1 < len && q[i + 1] == '%') {
            tpl->has_percent = 1;
            i += 2;
        }
        else if (i + 1 < len && q[i + 1] == '(') {
            if ((i = scan_named(st, self, q, len, i)) < 0) {
                return i == -1 ? 0 : -1;
            }
        }
        else {
            if (tpl->style == QSTYLE_NAMED) {
                return set_error(&tpl->scan_error_type, &tpl->scan_error_msg,
                    ProgrammingError, PyUnicode_FromString(
                        "argument formats can't be mixed"));
            }
            tpl->style = QSTYLE_POSITIONAL;
            if (add_lookup(st, st->npos++) < 0) {
                return -1;
            }
            i++;    /* the character after '%' is scanned as a literal */
        }
    }
    return 0;
}

/* The state of the formatting step. */
typedef struct {
    Py_ssize_t lit_start;       /* start of the pending literal chunk */
    Py_ssize_t cur;             /* named: slot of the last name, -1: none */
    int fresh;                  /* named: the value was not used yet */
    Py_ssize_t npos;            /* positional: values used */
} formatState;

static int
format_error(queryTemplate *tpl, PyObject *type, PyObject *msg)
{
    return set_error(&tpl->format_error_type, &tpl->format_error_msg,
                     type, msg);
}

/* The "(name)" of a format at q[*i] == '(': balanced parentheses.  0 ok
 * (*i after the ')'), 1 error recorded, -1 error. */
static int
format_name(parseState *st, formatState *fs, cursorObject *self,
            const char *q, Py_ssize_t len, Py_ssize_t *i)
{
    queryTemplate *tpl = st->tpl;
    Py_ssize_t start = *i + 1, k = start, slot;
    int depth = 1;
    PyObject *name;

    if (tpl->style != QSTYLE_NAMED) {
        return format_error(tpl, PyExc_TypeError,
            PyUnicode_FromString("format requires a mapping")) ? -1 : 1;
    }
    for (; k < len && depth > 0; k++) {
        depth += q[k] == '(' ? 1 : q[k] == ')' ? -1 : 0;
    }
    if (depth > 0) {
        return format_error(tpl, PyExc_ValueError,
            PyUnicode_FromString("incomplete format key")) ? -1 : 1;
    }
    if (!(name = decode_name(self, q, start, k - 1))) {
        return -1;
    }
    /* only the names met by the scan have a value */
    if ((slot = named_slot(st, name, 0)) == -2) {
        Py_DECREF(name);
        return -1;
    }
    if (slot < 0) {
        return format_error(tpl, PyExc_KeyError, name) ? -1 : 1;
    }
    Py_DECREF(name);
    fs->cur = slot;
    fs->fresh = 1;
    *i = k;
    return 0;
}

/* The value a conversion other than '%' takes: its slot, -1 for none.
 * 1 error recorded, -1 error. */
static int
format_value(parseState *st, formatState *fs, Py_ssize_t *slot)
{
    queryTemplate *tpl = st->tpl;

    if (tpl->style != QSTYLE_NAMED) {
        if (fs->npos >= st->npos) {
            return format_error(tpl, PyExc_TypeError, PyUnicode_FromString(
                "not enough arguments for format string")) ? -1 : 1;
        }
        *slot = fs->npos++;
        return 0;
    }
    if (!fs->fresh) {
        return format_error(tpl, PyExc_TypeError, PyUnicode_FromString(
            "not enough arguments for format string")) ? -1 : 1;
    }
    fs->fresh = 0;
    *slot = fs->cur;
    return 0;
}

/* One format at q[i] == '%'.  Return the index to go on from, -1 to stop
 * (error recorded), -2 on error. */
static Py_ssize_t
format_one(parseState *st, formatState *fs, cursorObject *self,
           const char *q, Py_ssize_t len, Py_ssize_t i)
{
    queryTemplate *tpl = st->tpl;
    Py_ssize_t pos = i + 1, slot = -1;
    unsigned char c;
    int r;

    if (pos < len && q[pos] == '(') {
        if ((r = format_name(st, fs, self, q, len, &pos)) != 0) {
            return r > 0 ? -1 : -2;
        }
    }
    if (pos >= len) {
        return format_error(tpl, PyExc_ValueError,
            PyUnicode_FromString("incomplete format")) ? -2 : -1;
    }
    c = (unsigned char)q[pos];
    if (c == '%') {
        /* a literal '%': the one in the query, kept in the next chunk */
        if (add_part(st, fs->lit_start, i - fs->lit_start, -1, 0) < 0) {
            return -2;
        }
        fs->lit_start = pos;
        return pos + 1;
    }
    if ((r = format_value(st, fs, &slot)) != 0) {
        return r > 0 ? -1 : -2;
    }
    if (c != 's') {
        return format_error(tpl, PyExc_ValueError, PyUnicode_FromFormat(
            "unsupported format character '%c' (0x%x) at index %zd",
            (int)c, (unsigned int)c, pos)) ? -2 : -1;
    }
    if (slot < 0) {
        return format_error(tpl, PyExc_ValueError, PyUnicode_FromString(
            "only bytes values expected, got dict")) ? -2 : -1;
    }
    if (add_part(st, fs->lit_start, i - fs->lit_start, slot,
                 tpl->style == QSTYLE_NAMED) < 0) {
        return -2;
    }
    fs->lit_start = pos + 1;
    return pos + 1;
}

/* The formatting step: fill tpl->parts.  0 ok (maybe with a format
 * error), -1. */
static int
format_query(parseState *st, cursorObject *self, const char *q,
             Py_ssize_t len)
{
    formatState fs = {0, -1, 0, 0};
    Py_ssize_t i = 0;
    const char *pc;

    while (i < len && (pc = memchr(q + i, '%', len - i)) != NULL) {
        if ((i = format_one(st, &fs, self, q, len, pc - q)) < 0) {
            return i == -1 ? 0 : -1;
        }
    }
    return add_part(st, fs.lit_start, len - fs.lit_start, -1, 0);
}

int
qtemplate_parse(queryTemplate *tpl, cursorObject *self, PyObject *query)
{
    parseState st = {tpl, 0, 0, NULL, NULL, 0};
    const char *q = PyBytes_AS_STRING(query);
    Py_ssize_t len = PyBytes_GET_SIZE(query);
    int rv = -1;

    memset(tpl, 0, sizeof(*tpl));
    Py_INCREF(query);
    tpl->query = query;
    if (scan_query(&st, self, q, len) < 0) {
        goto exit;
    }
    /* without errors or placeholders psycopg2 uses the query as it is */
    if (tpl->scan_error_msg == NULL && (tpl->nlookups || tpl->has_percent)) {
        if (format_query(&st, self, q, len) < 0) {
            goto exit;
        }
    }
    else if (add_part(&st, 0, len, -1, 0) < 0) {
        goto exit;
    }
    if (st.names != NULL && PyList_GET_SIZE(st.names) > 0) {
        tpl->nslots = PyList_GET_SIZE(st.names);
        if (!(tpl->names = PyList_AsTuple(st.names))) {
            goto exit;
        }
    }
    else {
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
    Py_CLEAR(tpl->scan_error_msg);
    Py_CLEAR(tpl->format_error_msg);
    tpl->scan_error_type = NULL;
    tpl->format_error_type = NULL;
    PyMem_Free(tpl->parts);
    tpl->parts = NULL;
    tpl->nparts = 0;
    PyMem_Free(tpl->lookups);
    tpl->lookups = NULL;
    tpl->nlookups = 0;
    tpl->has_percent = 0;
    tpl->nslots = 0;
    tpl->style = QSTYLE_NONE;
}

/* ------------------------------------------------------------------ */
/* Merging                                                            */

/* Look up an argument and, the first time, adapt it into vals[slot].
 * 0 ok, -1 error. */
static int
lookup_argument(queryTemplate *tpl, cursorObject *self, PyObject *vars,
                Py_ssize_t slot, PyObject **vals)
{
    PyObject *value, *lit;

    if (tpl->style == QSTYLE_NAMED) {
        /* looked up at each occurrence, as psycopg2 does */
        value = PyObject_GetItem(vars, PyTuple_GET_ITEM(tpl->names, slot));
    }
    else {
        value = PySequence_GetItem(vars, slot);
    }
    if (value == NULL) {
        return -1;
    }
    if (vals[slot] != NULL) {
        Py_DECREF(value);
        return 0;
    }
    lit = microprotocol_getquoted(value, self->conn);
    Py_DECREF(value);
    if (lit != NULL && !PyBytes_Check(lit)) {
        PyErr_Format(PyExc_TypeError,
            "the adapter of the argument returned %s instead of bytes",
            Py_TYPE(lit)->tp_name);
        Py_CLEAR(lit);
    }
    vals[slot] = lit;
    return lit ? 0 : -1;
}

/* The scan: look up every argument, then raise the scan error if any.
 * 0 ok, -1 error. */
static int
lookup_arguments(queryTemplate *tpl, cursorObject *self, PyObject *vars,
                 PyObject **vals)
{
    Py_ssize_t i;

    for (i = 0; i < tpl->nlookups; i++) {
        if (lookup_argument(tpl, self, vars, tpl->lookups[i], vals) < 0) {
            return -1;
        }
    }
    if (tpl->scan_error_msg != NULL) {
        PyErr_SetObject(tpl->scan_error_type, tpl->scan_error_msg);
        return -1;
    }
    return 0;
}

/* The errors of the formatting step. */
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
    if (lookup_arguments(tpl, self, vars, vals) < 0) {
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
