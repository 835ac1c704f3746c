/* notify.c - the Notify type: a notification received with LISTEN, as
 * found in connection.notifies.
 *
 * For backward compatibility a Notify also behaves like the 2-tuple
 * (pid, channel) that older versions stored: indexing, unpacking and
 * comparison with tuples use those two items only.
 */

#include "connection_priv.h"

typedef struct {
    PyObject_HEAD
    PyObject *pid;
    PyObject *channel;
    PyObject *payload;
} notifyObject;

static PyObject *
notify_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"pid", "channel", "payload", NULL};
    PyObject *pid = NULL, *channel = NULL, *payload = NULL;
    notifyObject *self;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O", kwlist,
            &pid, &channel, &payload)) {
        return NULL;
    }
    if (!(self = (notifyObject *)type->tp_alloc(type, 0))) { return NULL; }
    Py_INCREF(pid);
    self->pid = pid;
    Py_INCREF(channel);
    self->channel = channel;
    if (payload) {
        Py_INCREF(payload);
        self->payload = payload;
    }
    else if (!(self->payload = PyUnicode_FromString(""))) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
notify_traverse(notifyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->pid);
    Py_VISIT(self->channel);
    Py_VISIT(self->payload);
    return 0;
}

static int
notify_clear(notifyObject *self)
{
    Py_CLEAR(self->pid);
    Py_CLEAR(self->channel);
    Py_CLEAR(self->payload);
    return 0;
}

static void
notify_dealloc(notifyObject *self)
{
    PyObject_GC_UnTrack(self);
    notify_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* (pid, channel) or (pid, channel, payload) */
static PyObject *
notify_astuple(notifyObject *self, int with_payload)
{
    if (with_payload) {
        return PyTuple_Pack(3, self->pid, self->channel, self->payload);
    }
    return PyTuple_Pack(2, self->pid, self->channel);
}

static PyObject *
notify_richcompare(notifyObject *self, PyObject *other, int op)
{
    PyObject *mine = NULL, *theirs = NULL, *rv = NULL;

    if (PyObject_TypeCheck(other, &notifyType)) {
        if (!(mine = notify_astuple(self, 1))) { goto exit; }
        if (!(theirs = notify_astuple((notifyObject *)other, 1))) {
            goto exit;
        }
        rv = PyObject_RichCompare(mine, theirs, op);
    }
    else if (PyTuple_Check(other)) {
        if (!(mine = notify_astuple(self, 0))) { goto exit; }
        rv = PyObject_RichCompare(mine, other, op);
    }
    else {
        /* psycopg2 answers False to any comparison with other types */
        Py_INCREF(Py_False);
        rv = Py_False;
    }
exit:
    Py_XDECREF(mine);
    Py_XDECREF(theirs);
    return rv;
}

/* Equal to (pid, channel) when there is no payload: hash alike. */
static Py_hash_t
notify_hash(notifyObject *self)
{
    PyObject *tself;
    Py_hash_t rv;
    int has_payload;

    if ((has_payload = PyObject_IsTrue(self->payload)) < 0) { return -1; }
    if (!(tself = notify_astuple(self, has_payload))) { return -1; }
    rv = PyObject_Hash(tself);
    Py_DECREF(tself);
    return rv;
}

static PyObject *
notify_repr(notifyObject *self)
{
    return PyUnicode_FromFormat("Notify(%R, %R, %R)",
                                self->pid, self->channel, self->payload);
}

static Py_ssize_t
notify_len(notifyObject *self)
{
    return 2;
}

static PyObject *
notify_getitem(notifyObject *self, Py_ssize_t item)
{
    PyObject *rv;

    switch (item) {
    case 0: rv = self->pid; break;
    case 1: rv = self->channel; break;
    default:
        PyErr_SetString(PyExc_IndexError, "index out of range");
        return NULL;
    }
    Py_INCREF(rv);
    return rv;
}

static PySequenceMethods notify_sequence = {
    .sq_length = (lenfunc)notify_len,
    .sq_item = (ssizeargfunc)notify_getitem,
};

static PyMemberDef notify_members[] = {
    {"pid", T_OBJECT, offsetof(notifyObject, pid), READONLY,
     "The ID of the backend process that sent the notification."},
    {"channel", T_OBJECT, offsetof(notifyObject, channel), READONLY,
     "The name of the channel to which the notification was sent."},
    {"payload", T_OBJECT, offsetof(notifyObject, payload), READONLY,
     "The payload message of the notification."},
    {NULL}
};

PyTypeObject notifyType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.Notify",
    .tp_basicsize = sizeof(notifyObject),
    .tp_dealloc = (destructor)notify_dealloc,
    .tp_repr = (reprfunc)notify_repr,
    .tp_as_sequence = &notify_sequence,
    .tp_hash = (hashfunc)notify_hash,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Notify(pid, channel, payload='') -- a notification "
              "received from the backend.\n\n"
              "For compatibility with psycopg2 < 2.3 it also behaves as the "
              "tuple (pid, channel).",
    .tp_traverse = (traverseproc)notify_traverse,
    .tp_clear = (inquiry)notify_clear,
    .tp_richcompare = (richcmpfunc)notify_richcompare,
    .tp_members = notify_members,
    .tp_new = notify_new,
};

int
notify_setup(PyObject *module)
{
    if (PyType_Ready(&notifyType) < 0) { return -1; }
    Py_INCREF(&notifyType);
    if (PyModule_AddObject(module, "Notify", (PyObject *)&notifyType) < 0) {
        Py_DECREF(&notifyType);
        return -1;
    }
    return 0;
}
