/* typecast_array.c - parse PostgreSQL arrays into (nested) lists.
 *
 * Text format of an array:  [1:2]={{1,2},{NULL,"a \"b\""}}
 *  - optional dimension decoration before '=' (ignored, as psycopg2);
 *  - elements separated by ',' (psycopg2 handles no other delimiter);
 *  - unquoted NULL (any case) is SQL NULL, "NULL" is the string NULL;
 *  - in quoted elements backslash escapes the next char; unquoted
 *    elements lose their surrounding whitespace.
 * Every element (NULLs too) is converted by the base caster.
 */

#include "typecast_internal.h"

/* PostgreSQL allows 6 dimensions: leave some room for custom types */
#define MAX_ARRAY_DEPTH 16

typedef struct {
    const char *p;          /* parse position */
    const char *end;
    char *buf;              /* scratch space for one element */
    PyObject *curs;
    PyObject *base;
} array_parser;

static int
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
        || c == '\f';
}

/* Copy a quoted element (p on the opening quote) into buf, unescaping.
 * Returns its length, or -1 if unterminated. */
static Py_ssize_t
read_quoted(array_parser *ap)
{
    const char *p = ap->p + 1;
    Py_ssize_t n = 0;

    while (p < ap->end && *p != '"') {
        if (*p == '\\' && p + 1 < ap->end) {
            p++;
        }
        ap->buf[n++] = *p++;
    }
    if (p >= ap->end) {
        return -1;
    }
    ap->p = p + 1;
    ap->buf[n] = '\0';
    return n;
}

/* Copy an unquoted element into buf, unescaping and trimming trailing
 * blanks.  Sets *is_null if it is the NULL keyword. */
static Py_ssize_t
read_unquoted(array_parser *ap, int *is_null)
{
    const char *p = ap->p;
    Py_ssize_t n = 0, keep = 0;    /* keep: length up to the last
                                      non-blank or escaped char */
    int escaped = 0;

    while (p < ap->end && *p != ',' && *p != '}' && *p != '{') {
        if (*p == '\\' && p + 1 < ap->end) {
            escaped = 1;
            p++;
            ap->buf[n++] = *p++;
            keep = n;
            continue;
        }
        if (!is_space(*p)) {
            keep = n + 1;
        }
        ap->buf[n++] = *p++;
    }
    ap->p = p;
    ap->buf[keep] = '\0';
    *is_null = !escaped && keep == 4 && PyOS_strnicmp(ap->buf, "NULL", 4) == 0;
    return keep;
}

/* Read one element and append its cast value to `list`. */
static int
parse_element(array_parser *ap, PyObject *list)
{
    PyObject *value = NULL;
    Py_ssize_t n;
    int is_null = 0, rv = -1;

    if (*ap->p == '"') {
        if ((n = read_quoted(ap)) < 0) {
            PyErr_SetString(DataError, "unterminated quoted string in array");
            goto exit;
        }
    }
    else {
        n = read_unquoted(ap, &is_null);
    }
    value = typecast_cast(ap->base, is_null ? NULL : ap->buf, n, ap->curs);
    if (value == NULL) {
        goto exit;
    }
    rv = PyList_Append(list, value);

exit:
    Py_XDECREF(value);
    return rv;
}

/* Parse from the outer '{' to its '}'.  New reference or NULL. */
static PyObject *
parse_array(array_parser *ap)
{
    PyObject *stack[MAX_ARRAY_DEPTH];
    PyObject *root = NULL, *list;
    int depth = 0;

    while (ap->p < ap->end) {
        char c = *ap->p;
        if (c == '{') {
            if (depth == MAX_ARRAY_DEPTH) {
                PyErr_SetString(DataError, "array has too many dimensions");
                goto error;
            }
            if (!(list = PyList_New(0))) {
                goto error;
            }
            if (depth == 0) {
                root = list;
            }
            else {
                /* the parent owns the sublist: keep a borrowed pointer */
                int err = PyList_Append(stack[depth - 1], list);
                Py_DECREF(list);
                if (err < 0) {
                    goto error;
                }
            }
            stack[depth++] = list;
            ap->p++;
        }
        else if (c == '}') {
            if (depth == 0) {
                break;
            }
            ap->p++;
            if (--depth == 0) {
                return root;
            }
        }
        else if (c == ',' || is_space(c)) {
            ap->p++;
        }
        else if (depth == 0) {
            break;
        }
        else if (parse_element(ap, stack[depth - 1]) < 0) {
            goto error;
        }
    }
    PyErr_SetString(DataError, depth > 0 ? "unterminated array"
                    : "array does not start with '{'");

error:
    Py_XDECREF(root);
    return NULL;
}

PyObject *
typecast_array_cast(const char *s, Py_ssize_t len, PyObject *curs,
                    PyObject *base)
{
    array_parser ap = {s, s + len, NULL, curs, base};
    PyObject *rv = NULL;

    if (s == NULL) {
        Py_RETURN_NONE;
    }
    /* dimension decoration, e.g. [0:1]={1,2} */
    if (len > 0 && s[0] == '[') {
        const char *eq = memchr(s, '=', len);
        if (eq == NULL) {
            PyErr_SetString(DataError, "array dimensions not followed by '='");
            goto exit;
        }
        ap.p = eq + 1;
    }
    if (ap.p >= ap.end || *ap.p != '{') {
        PyErr_SetString(DataError, "array does not start with '{'");
        goto exit;
    }
    /* the element casters may run Python code (a Python base caster, a
     * tzinfo_factory) that executes the cursor, freeing the result `s`
     * points into: parse a private copy, after the scratch space */
    if (!(ap.buf = PyMem_Malloc(2 * (len + 1)))) {
        PyErr_NoMemory();
        goto exit;
    }
    {
        char *copy = ap.buf + len + 1;
        memcpy(copy, s, len);
        copy[len] = '\0';
        ap.p = copy + (ap.p - s);
        ap.end = copy + len;
    }
    if (!(rv = parse_array(&ap))) {
        goto exit;
    }
    while (ap.p < ap.end && is_space(*ap.p)) {
        ap.p++;
    }
    if (ap.p != ap.end) {
        PyErr_SetString(DataError, "unbalanced braces in array");
        Py_CLEAR(rv);
    }

exit:
    PyMem_Free(ap.buf);
    return rv;
}
