/* replication_message.c - the ReplicationMessage type: one XLogData message
 * of a replication stream, as passed to consume_stream()'s callback or
 * returned by read_message().
 */

#include "replication_int.h"

#include <datetime.h>

/* ------------------------------------------------------------------ */
/* Timestamps                                                         */

PyObject *
repl_datetime_from_us(int64_t us)
{
    PyObject *args, *rv;

    /* The double is within half a microsecond of the exact value for any
     * date in range: fromtimestamp() rounds it back exactly (and sets
     * `fold` in the repeated hour of a DST change, as Python does). */
    if (!(args = Py_BuildValue("(d)", (double)us / 1e6))) { return NULL; }
    rv = PyDateTime_FromTimestamp(args);
    Py_DECREF(args);
    return rv;
}

/* ------------------------------------------------------------------ */
/* Construction                                                       */

PyObject *
repl_msg_new(cursorObject *cursor, PyObject *payload, int data_size,
             XLogRecPtr data_start, XLogRecPtr wal_end, int64_t send_time)
{
    replicationMessageObject *self;

    self = PyObject_GC_New(replicationMessageObject, &replicationMessageType);
    if (!self) {
        Py_DECREF(payload);
        return NULL;
    }
    Py_INCREF(cursor);
    self->cursor = cursor;
    self->payload = payload;
    self->data_size = data_size;
    self->data_start = data_start;
    self->wal_end = wal_end;
    self->send_time = send_time;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* ReplicationMessage(cursor, payload): the other fields are zero. */
static int
message_init(replicationMessageObject *self, PyObject *args,
             PyObject *kwargs)
{
    PyObject *cursor = NULL, *payload = NULL;

    if (kwargs && PyDict_GET_SIZE(kwargs)) {
        PyErr_SetString(PyExc_TypeError,
            "ReplicationMessage() takes no keyword arguments");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "O!O", &cursorType, &cursor, &payload)) {
        return -1;
    }
    Py_INCREF(cursor);
    Py_XSETREF(self->cursor, (cursorObject *)cursor);
    Py_INCREF(payload);
    Py_XSETREF(self->payload, payload);
    self->data_size = 0;
    self->data_start = 0;
    self->wal_end = 0;
    self->send_time = 0;
    return 0;
}

static int
message_traverse(replicationMessageObject *self, visitproc visit, void *arg)
{
    Py_VISIT((PyObject *)self->cursor);
    Py_VISIT(self->payload);
    return 0;
}

static int
message_clear(replicationMessageObject *self)
{
    Py_CLEAR(self->cursor);
    Py_CLEAR(self->payload);
    return 0;
}

static void
message_dealloc(replicationMessageObject *self)
{
    PyObject_GC_UnTrack(self);
    message_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ------------------------------------------------------------------ */
/* Attributes                                                         */

/* LSNs are shown as PostgreSQL does, high and low 32 bits in hex
 * (PyUnicode_FromFormat has no %X: lowercase digits). */
static PyObject *
message_repr(replicationMessageObject *self)
{
    return PyUnicode_FromFormat(
        "<ReplicationMessage object at %p; data_size: %d; "
        "data_start: %x/%x; wal_end: %x/%x; send_time: %lld>",
        self, self->data_size,
        (unsigned int)(self->data_start >> 32),
        (unsigned int)(self->data_start & 0xFFFFFFFFu),
        (unsigned int)(self->wal_end >> 32),
        (unsigned int)(self->wal_end & 0xFFFFFFFFu),
        (long long)self->send_time);
}

static PyObject *
message_get_send_time(replicationMessageObject *self, void *closure)
{
    return repl_datetime_from_us(self->send_time + REPL_PG_EPOCH_OFFSET_US);
}

static struct PyMemberDef message_members[] = {
    {"cursor", T_OBJECT, offsetof(replicationMessageObject, cursor),
     READONLY, "The ReplicationCursor that received the message."},
    {"payload", T_OBJECT, offsetof(replicationMessageObject, payload),
     READONLY, "The message data: bytes, or str if the replication was "
     "started with decode=True."},
    {"data_size", T_INT, offsetof(replicationMessageObject, data_size),
     READONLY, "Size of the raw message data in bytes (before decoding)."},
    {"data_start", T_ULONGLONG,
     offsetof(replicationMessageObject, data_start),
     READONLY, "LSN of the start of the message data."},
    {"wal_end", T_ULONGLONG, offsetof(replicationMessageObject, wal_end),
     READONLY, "LSN of the end of WAL on the server when the message was "
     "sent."},
    {NULL}
};

static struct PyGetSetDef message_getsets[] = {
    {"send_time", (getter)message_get_send_time, NULL,
     "send_time -- when the server sent the message (naive local "
     "datetime).", NULL},
    {NULL}
};

PyTypeObject replicationMessageType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.extensions.ReplicationMessage",
    .tp_basicsize = sizeof(replicationMessageObject),
    .tp_dealloc = (destructor)message_dealloc,
    .tp_repr = (reprfunc)message_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A replication protocol message: ReplicationMessage(cursor, "
              "payload).",
    .tp_traverse = (traverseproc)message_traverse,
    .tp_clear = (inquiry)message_clear,
    .tp_members = message_members,
    .tp_getset = message_getsets,
    .tp_init = (initproc)message_init,
    .tp_new = PyType_GenericNew,
};

int
repl_message_setup(PyObject *module)
{
    /* the datetime C API is per translation unit: import it here */
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) { return -1; }
    if (PyType_Ready(&replicationMessageType) < 0) { return -1; }
    Py_INCREF(&replicationMessageType);
    if (PyModule_AddObject(module, "ReplicationMessage",
                           (PyObject *)&replicationMessageType) < 0) {
        Py_DECREF(&replicationMessageType);
        return -1;
    }
    return 0;
}
