/* xid.c - the Xid type: a transaction id of the two-phase commit API
 * (connection.xid(), tpc_begin(), tpc_recover()).
 *
 * An Xid made of (format_id, gtrid, bqual) is sent to PostgreSQL as the
 * string "<format_id>_<base64 gtrid>_<base64 bqual>".  Transaction ids
 * not in that form (prepared by other tools) are "unparsed": format_id
 * and bqual are None and gtrid is the whole string.
 */

#include "connection_priv.h"

#include <limits.h>
#include <string.h>

#define XID_MAX_LEN 64

static PyObject *binascii_module = NULL;

/* ------------------------------------------------------------------ */
/* Construction                                                       */

/* ValueError unless `s` (utf-8, `len` bytes) is a valid gtrid/bqual. */
static int
check_xid_part(const char *name, const char *s, Py_ssize_t len)
{
    Py_ssize_t i;

    if (len > XID_MAX_LEN) {
        PyErr_Format(PyExc_ValueError,
            "%s must be a string no longer than 64 characters", name);
        return -1;
    }
    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) {
            PyErr_Format(PyExc_ValueError,
                "%s must contain only printable characters.", name);
            return -1;
        }
    }
    return 0;
}

static xidObject *
xid_alloc(PyTypeObject *type)
{
    xidObject *self;

    if (!(self = (xidObject *)type->tp_alloc(type, 0))) { return NULL; }
    Py_INCREF(Py_None); self->format_id = Py_None;
    Py_INCREF(Py_None); self->gtrid = Py_None;
    Py_INCREF(Py_None); self->bqual = Py_None;
    Py_INCREF(Py_None); self->prepared = Py_None;
    Py_INCREF(Py_None); self->owner = Py_None;
    Py_INCREF(Py_None); self->database = Py_None;
    return self;
}

/* A validated Xid of type `type` from its three parts. */
static xidObject *
xid_create(PyTypeObject *type, int format_id, const char *gtrid,
           Py_ssize_t gtrid_len, const char *bqual, Py_ssize_t bqual_len)
{
    xidObject *self = NULL, *rv = NULL;

    if (format_id < 0) {
        PyErr_SetString(PyExc_ValueError,
            "format_id must be a non-negative 32-bit integer");
        goto exit;
    }
    if (check_xid_part("gtrid", gtrid, gtrid_len) < 0) { goto exit; }
    if (check_xid_part("bqual", bqual, bqual_len) < 0) { goto exit; }

    if (!(self = xid_alloc(type))) { goto exit; }
    Py_SETREF(self->format_id, PyLong_FromLong(format_id));
    if (!self->format_id) { goto exit; }
    Py_SETREF(self->gtrid, PyUnicode_FromStringAndSize(gtrid, gtrid_len));
    if (!self->gtrid) { goto exit; }
    Py_SETREF(self->bqual, PyUnicode_FromStringAndSize(bqual, bqual_len));
    if (!self->bqual) { goto exit; }
    rv = self;
    self = NULL;
exit:
    Py_XDECREF(self);
    return rv;
}

static PyObject *
xid_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"format_id", "gtrid", "bqual", NULL};
    int format_id;
    const char *gtrid, *bqual;

    /* "s", not "s#": bytes are refused, as psycopg2 does */
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "iss", kwlist,
            &format_id, &gtrid, &bqual)) {
        return NULL;
    }
    return (PyObject *)xid_create(type, format_id,
        gtrid, (Py_ssize_t)strlen(gtrid), bqual, (Py_ssize_t)strlen(bqual));
}

/* ------------------------------------------------------------------ */
/* Parsing and serialising                                            */

/* Decode the base64 part [s, s + len) to a utf-8 bytes object. */
static PyObject *
b64_decode_part(const char *s, Py_ssize_t len)
{
    PyObject *raw = NULL, *rv = NULL, *text = NULL;

    if (!(raw = PyObject_CallMethod(binascii_module, "a2b_base64", "y#",
                                    s, len))) { goto exit; }
    /* must be valid utf-8 (and then printable ascii, checked later) */
    if (!(text = PyUnicode_FromEncodedObject(raw, "utf-8", "strict"))) {
        goto exit;
    }
    rv = raw;
    raw = NULL;
exit:
    Py_XDECREF(raw);
    Py_XDECREF(text);
    return rv;
}

/* Parse "<digits>_<b64>_<b64>": NULL (and maybe an exception to clear)
 * if the string is not in that form. */
static xidObject *
xid_parse_string(const char *s)
{
    const char *sep1, *sep2, *c;
    PyObject *gtrid = NULL, *bqual = NULL;
    xidObject *rv = NULL;
    long format_id = 0;

    if (!(sep1 = strchr(s, '_')) || sep1 == s) { goto exit; }
    if (!(sep2 = strchr(sep1 + 1, '_')) || strchr(sep2 + 1, '_')) {
        goto exit;
    }
    for (c = s; c < sep1; c++) {
        if (*c < '0' || *c > '9') { goto exit; }
        format_id = format_id * 10 + (*c - '0');
        if (format_id > INT_MAX) { goto exit; }
    }
    if (!(gtrid = b64_decode_part(sep1 + 1, sep2 - sep1 - 1))) { goto exit; }
    if (!(bqual = b64_decode_part(sep2 + 1, (Py_ssize_t)strlen(sep2 + 1)))) {
        goto exit;
    }
    rv = xid_create(&xidType, (int)format_id,
        PyBytes_AS_STRING(gtrid), PyBytes_GET_SIZE(gtrid),
        PyBytes_AS_STRING(bqual), PyBytes_GET_SIZE(bqual));
exit:
    Py_XDECREF(gtrid);
    Py_XDECREF(bqual);
    return rv;
}

static xidObject *
xid_unparsed(PyObject *s)
{
    xidObject *self;

    if (!(self = xid_alloc(&xidType))) { return NULL; }
    Py_INCREF(s);
    Py_SETREF(self->gtrid, s);
    return self;
}

xidObject *
xid_from_string(PyObject *s)
{
    const char *str;
    xidObject *rv = NULL;

    if (!PyUnicode_Check(s) && !PyBytes_Check(s)) {
        PyErr_SetString(PyExc_TypeError, "not a valid transaction id");
        return NULL;
    }
    if (PyUnicode_Check(s)) {
        if (!(str = PyUnicode_AsUTF8(s))) { return NULL; }
        if (!(rv = xid_parse_string(str))) { PyErr_Clear(); }
    }
    if (!rv) { rv = xid_unparsed(s); }
    return rv;
}

xidObject *
xid_ensure(PyObject *oxid)
{
    if (xid_Check(oxid)) {
        Py_INCREF(oxid);
        return (xidObject *)oxid;
    }
    return xid_from_string(oxid);
}

static PyObject *
b64_encode_part(PyObject *part)
{
    PyObject *raw = NULL, *encoded = NULL, *rv = NULL;

    if (!(raw = PyUnicode_AsUTF8String(part))) { goto exit; }
    if (!(encoded = PyObject_CallMethod(binascii_module, "b2a_base64",
                                        "O", raw))) { goto exit; }
    /* b2a_base64 appends a newline */
    rv = PyUnicode_DecodeASCII(PyBytes_AS_STRING(encoded),
                               PyBytes_GET_SIZE(encoded) - 1, "strict");
exit:
    Py_XDECREF(raw);
    Py_XDECREF(encoded);
    return rv;
}

PyObject *
xid_get_tid(xidObject *self)
{
    PyObject *egtrid = NULL, *ebqual = NULL, *rv = NULL;

    if (self->format_id == Py_None) {
        if (PyUnicode_Check(self->gtrid)) {
            Py_INCREF(self->gtrid);
            return self->gtrid;
        }
        return PyObject_Str(self->gtrid);
    }
    if (!(egtrid = b64_encode_part(self->gtrid))) { goto exit; }
    if (!(ebqual = b64_encode_part(self->bqual))) { goto exit; }
    rv = PyUnicode_FromFormat("%S_%U_%U", self->format_id, egtrid, ebqual);
exit:
    Py_XDECREF(egtrid);
    Py_XDECREF(ebqual);
    return rv;
}

/* ------------------------------------------------------------------ */
/* tpc_recover()                                                      */

static int
set_recovered_fields(xidObject *xid, PyObject *row)
{
    PyObject *prepared, *owner, *database;

    if (PySequence_Fast_GET_SIZE(row) < 4) {
        PyErr_SetString(InterfaceError, "unexpected pg_prepared_xacts row");
        return -1;
    }
    prepared = PySequence_Fast_GET_ITEM(row, 1);
    owner = PySequence_Fast_GET_ITEM(row, 2);
    database = PySequence_Fast_GET_ITEM(row, 3);
    Py_INCREF(prepared);
    Py_SETREF(xid->prepared, prepared);
    Py_INCREF(owner);
    Py_SETREF(xid->owner, owner);
    Py_INCREF(database);
    Py_SETREF(xid->database, database);
    return 0;
}

static PyObject *
xids_from_rows(PyObject *rows)
{
    PyObject *xids = NULL, *row = NULL, *rv = NULL;
    xidObject *xid = NULL;
    Py_ssize_t i;

    if (!(xids = PyList_New(0))) { goto exit; }
    for (i = 0; i < PyList_GET_SIZE(rows); i++) {
        if (!(row = PySequence_Fast(PyList_GET_ITEM(rows, i),
                                    "bad pg_prepared_xacts row"))) {
            goto exit;
        }
        if (PySequence_Fast_GET_SIZE(row) < 1) {
            PyErr_SetString(InterfaceError, "empty pg_prepared_xacts row");
            goto exit;
        }
        if (!(xid = xid_from_string(PySequence_Fast_GET_ITEM(row, 0)))) {
            goto exit;
        }
        if (set_recovered_fields(xid, row) < 0) { goto exit; }
        if (PyList_Append(xids, (PyObject *)xid) < 0) { goto exit; }
        Py_CLEAR(xid);
        Py_CLEAR(row);
    }
    rv = xids;
    xids = NULL;
exit:
    Py_XDECREF(xid);
    Py_XDECREF(row);
    Py_XDECREF(xids);
    return rv;
}

PyObject *
xid_recover(PyObject *conn)
{
    PyObject *curs = NULL, *tmp = NULL, *rows = NULL, *rv = NULL;

    /* A plain cursor made directly, as psycopg2 does: the connection's
     * cursor() may be overridden (LoggingConnection passes cursor_factory
     * itself) and its cursor_factory may return dicts. */
    if (!(curs = PyObject_CallFunctionObjArgs((PyObject *)&cursorType,
                                              conn, NULL))) {
        goto exit;
    }
    if (!(tmp = PyObject_CallMethod(curs, "execute", "s",
            "SELECT gid, prepared, owner, database "
            "FROM pg_prepared_xacts"))) {
        goto exit;
    }
    Py_CLEAR(tmp);
    if (!(rows = PyObject_CallMethod(curs, "fetchall", NULL))) { goto exit; }
    if (!PyList_Check(rows)) {
        PyErr_SetString(InterfaceError, "fetchall() didn't return a list");
        goto exit;
    }
    if (!(rv = xids_from_rows(rows))) { goto exit; }
    if (!(tmp = PyObject_CallMethod(curs, "close", NULL))) {
        Py_CLEAR(rv);
        goto exit;
    }
exit:
    Py_XDECREF(tmp);
    Py_XDECREF(rows);
    Py_XDECREF(curs);
    return rv;
}

/* ------------------------------------------------------------------ */
/* The Python type                                                    */

static PyObject *
xid_str(xidObject *self)
{
    return xid_get_tid(self);
}

static PyObject *
xid_repr(xidObject *self)
{
    if (self->format_id == Py_None) {
        return PyUnicode_FromFormat("<Xid: %R (unparsed)>", self->gtrid);
    }
    return PyUnicode_FromFormat("<Xid: (%R, %R, %R)>",
                                self->format_id, self->gtrid, self->bqual);
}

static PyObject *
xid_from_string_meth(PyObject *cls, PyObject *args)
{
    PyObject *s = NULL;

    if (!PyArg_ParseTuple(args, "O", &s)) { return NULL; }
    return (PyObject *)xid_from_string(s);
}

static Py_ssize_t
xid_len(xidObject *self)
{
    return 3;
}

static PyObject *
xid_getitem(xidObject *self, Py_ssize_t item)
{
    PyObject *rv;

    switch (item) {
    case 0: rv = self->format_id; break;
    case 1: rv = self->gtrid; break;
    case 2: rv = self->bqual; break;
    default:
        PyErr_SetString(PyExc_IndexError, "index out of range");
        return NULL;
    }
    Py_INCREF(rv);
    return rv;
}

static int
xid_traverse(xidObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->format_id);
    Py_VISIT(self->gtrid);
    Py_VISIT(self->bqual);
    Py_VISIT(self->prepared);
    Py_VISIT(self->owner);
    Py_VISIT(self->database);
    return 0;
}

static int
xid_clear(xidObject *self)
{
    Py_CLEAR(self->format_id);
    Py_CLEAR(self->gtrid);
    Py_CLEAR(self->bqual);
    Py_CLEAR(self->prepared);
    Py_CLEAR(self->owner);
    Py_CLEAR(self->database);
    return 0;
}

static void
xid_dealloc(xidObject *self)
{
    PyObject_GC_UnTrack(self);
    xid_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PySequenceMethods xid_sequence = {
    .sq_length = (lenfunc)xid_len,
    .sq_item = (ssizeargfunc)xid_getitem,
};

static PyMemberDef xid_members[] = {
    {"format_id", T_OBJECT, offsetof(xidObject, format_id), READONLY,
     "Format ID in a XA transaction.\n\n"
     "A non-negative 32 bit integer, None if the transaction doesn't "
     "follow the XA standard."},
    {"gtrid", T_OBJECT, offsetof(xidObject, gtrid), READONLY,
     "Global transaction ID in a XA transaction.\n\n"
     "If the transaction doesn't follow the XA standard, it is the ID "
     "used by PostgreSQL."},
    {"bqual", T_OBJECT, offsetof(xidObject, bqual), READONLY,
     "Branch qualifier of the transaction in a XA transaction.\n\n"
     "None if the transaction doesn't follow the XA standard."},
    {"prepared", T_OBJECT, offsetof(xidObject, prepared), READONLY,
     "Timestamp (with timezone) in which a recovered transaction was "
     "prepared."},
    {"owner", T_OBJECT, offsetof(xidObject, owner), READONLY,
     "Name of the user who prepared a recovered transaction."},
    {"database", T_OBJECT, offsetof(xidObject, database), READONLY,
     "Database the recovered transaction belongs to."},
    {NULL}
};

static PyMethodDef xid_methods[] = {
    {"from_string", (PyCFunction)xid_from_string_meth,
     METH_VARARGS | METH_CLASS,
     "from_string(s) -> Xid -- create an Xid object from a string "
     "representation.  A string not in the XA form gives an unparsed Xid "
     "(format_id and bqual None, gtrid the string)."},
    {NULL}
};

PyTypeObject xidType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.Xid",
    .tp_basicsize = sizeof(xidObject),
    .tp_dealloc = (destructor)xid_dealloc,
    .tp_repr = (reprfunc)xid_repr,
    .tp_as_sequence = &xid_sequence,
    .tp_str = (reprfunc)xid_str,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Xid(format_id, gtrid, bqual) -- a transaction identifier "
              "used for two-phase commit.\n\n"
              "Usually returned by connection.xid() and "
              "connection.tpc_recover().  Xid objects behave like the "
              "3-tuple (format_id, gtrid, bqual).",
    .tp_traverse = (traverseproc)xid_traverse,
    .tp_clear = (inquiry)xid_clear,
    .tp_methods = xid_methods,
    .tp_members = xid_members,
    .tp_new = xid_new,
};

int
xid_setup(PyObject *module)
{
    if (!binascii_module
            && !(binascii_module = PyImport_ImportModule("binascii"))) {
        return -1;
    }
    if (PyType_Ready(&xidType) < 0) { return -1; }
    Py_INCREF(&xidType);
    if (PyModule_AddObject(module, "Xid", (PyObject *)&xidType) < 0) {
        Py_DECREF(&xidType);
        return -1;
    }
    return 0;
}
