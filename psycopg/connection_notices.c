/* connection_notices.c - messages from the server outside of results:
 * notices (connection.notices) and notifications (connection.notifies).
 *
 * libpq hands notices to its notice processor while a libpq call runs,
 * i.e. with the connection lock held and without the GIL: the processor
 * only queues a copy of the message; conn_process_notices() moves the
 * queue to Python later, with the GIL.
 */

#include "connection_priv.h"

#include <stdlib.h>
#include <string.h>

void
conn_notice_processor(void *arg, const char *message)
{
    connectionObject *self = (connectionObject *)arg;
    struct connNotice *notice;

    /* out of memory: the notice is dropped, nothing else we can do here */
    if (!(notice = malloc(sizeof(struct connNotice)))) { return; }
    if (!(notice->message = strdup(message))) {
        free(notice);
        return;
    }
    notice->next = NULL;
    if (self->last_notice) {
        self->last_notice->next = notice;
    }
    else {
        self->notice_pending = notice;
    }
    self->last_notice = notice;
}

static void
free_notices(struct connNotice *notice)
{
    struct connNotice *next;

    for (; notice; notice = next) {
        next = notice->next;
        free(notice->message);
        free(notice);
    }
}

void
conn_notice_clean(connectionObject *self)
{
    free_notices(self->notice_pending);
    self->notice_pending = self->last_notice = NULL;
}

/* Take the queued notices out of the connection. */
static struct connNotice *
detach_notices(connectionObject *self)
{
    struct connNotice *chain;

    CONN_LOCK_BEGIN(self);
    chain = self->notice_pending;
    self->notice_pending = self->last_notice = NULL;
    CONN_LOCK_END(self);
    return chain;
}

/* Decode a server message; never fails on the encoding. */
static PyObject *
decode_message(connectionObject *self, const char *msg)
{
    PyObject *rv;

    if (!(rv = conn_decode(self, msg, (Py_ssize_t)strlen(msg)))) {
        PyErr_Clear();
        rv = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
    }
    return rv;
}

/* Append one message to the notices container; errors are swallowed, as
 * psycopg2 does (a container without append just gets nothing). */
static void
append_notice(connectionObject *self, const char *message)
{
    PyObject *msg = NULL, *tmp = NULL;

    if (!self->notice_list || self->notice_list == Py_None) { goto exit; }
    if (!(msg = decode_message(self, message))) { goto exit; }
    if (PyList_CheckExact(self->notice_list)) {
        if (PyList_Append(self->notice_list, msg) < 0) { goto exit; }
    }
    else {
        if (!(tmp = PyObject_CallMethod(self->notice_list, "append", "O",
                                        msg))) { goto exit; }
    }

exit:
    if (PyErr_Occurred()) { PyErr_Clear(); }
    Py_XDECREF(tmp);
    Py_XDECREF(msg);
}

/* Keep only the last CONN_NOTICES_LIMIT notices in a list. */
static void
cap_notices(connectionObject *self)
{
    Py_ssize_t n;

    if (!self->notice_list || !PyList_CheckExact(self->notice_list)) {
        return;
    }
    n = PyList_GET_SIZE(self->notice_list);
    if (n > CONN_NOTICES_LIMIT) {
        if (PyList_SetSlice(self->notice_list, 0, n - CONN_NOTICES_LIMIT,
                            NULL) < 0) {
            PyErr_Clear();
        }
    }
}

void
conn_process_notices(connectionObject *self)
{
    struct connNotice *chain, *notice;
    PyObject *type, *value, *tb;

    /* Unlocked peek: a notice queued right after it is only delayed to
     * the next call, and locking for every query would cost a GIL round
     * trip for nothing. */
    if (!self->notice_pending) { return; }
    if (!(chain = detach_notices(self))) { return; }

    PyErr_Fetch(&type, &value, &tb);
    for (notice = chain; notice; notice = notice->next) {
        append_notice(self, notice->message);
    }
    cap_notices(self);
    PyErr_Restore(type, value, tb);
    free_notices(chain);
}

/* ------------------------------------------------------------------ */
/* Notifications                                                      */

/* The loop of detach_notifies(), connection lock held. */
static PGnotify **
detach_notifies_locked(connectionObject *self, int *count)
{
    PGnotify **list = NULL, **tmp, *n;
    int size = 0;

    while (self->pgconn && (n = PQnotifies(self->pgconn))) {
        if (*count + 1 >= size) {
            size = size ? size * 2 : 8;
            if (!(tmp = realloc(list, size * sizeof(PGnotify *)))) {
                PQfreemem(n);   /* out of memory: dropped */
                break;
            }
            list = tmp;
        }
        list[(*count)++] = n;
    }
    if (list) { list[*count] = NULL; }
    return list;
}

/* Take the pending notifications out of libpq: a NULL-terminated array
 * of PGnotify to PQfreemem, or NULL when there are none. */
static PGnotify **
detach_notifies(connectionObject *self, int *count)
{
    PGnotify **list;

    *count = 0;
    /* called after every query, mostly with nothing to read: when the
     * lock is free take it keeping the GIL (the loop calls no Python),
     * sparing a release and a reacquisition of the GIL */
    if (pthread_mutex_trylock(&self->lock) == 0) {
        list = detach_notifies_locked(self, count);
        pthread_mutex_unlock(&self->lock);
        return list;
    }
    CONN_LOCK_BEGIN(self);
    list = detach_notifies_locked(self, count);
    CONN_LOCK_END(self);
    return list;
}

static PyObject *
notify_from_pgnotify(connectionObject *self, PGnotify *n)
{
    PyObject *pid = NULL, *channel = NULL, *payload = NULL, *rv = NULL;

    if (!(pid = PyLong_FromLong((long)n->be_pid))) { goto exit; }
    if (!(channel = decode_message(self, n->relname))) { goto exit; }
    if (!(payload = decode_message(self, n->extra ? n->extra : ""))) {
        goto exit;
    }
    rv = PyObject_CallFunctionObjArgs((PyObject *)&notifyType,
                                      pid, channel, payload, NULL);
exit:
    Py_XDECREF(pid);
    Py_XDECREF(channel);
    Py_XDECREF(payload);
    return rv;
}

static int
append_notify(connectionObject *self, PGnotify *n)
{
    PyObject *notify = NULL, *tmp = NULL;
    int rv = -1;

    if (!self->notifies || self->notifies == Py_None) { return 0; }
    if (!(notify = notify_from_pgnotify(self, n))) { goto exit; }
    if (PyList_CheckExact(self->notifies)) {
        if (PyList_Append(self->notifies, notify) < 0) { goto exit; }
    }
    else {
        if (!(tmp = PyObject_CallMethod(self->notifies, "append", "O",
                                        notify))) { goto exit; }
    }
    rv = 0;
exit:
    Py_XDECREF(tmp);
    Py_XDECREF(notify);
    return rv;
}

int
conn_process_notifies(connectionObject *self)
{
    PGnotify **list;
    PyObject *type, *value, *tb;
    int i, count, rv = 0;

    if (!self->pgconn) { return 0; }
    if (!(list = detach_notifies(self, &count))) { return 0; }

    PyErr_Fetch(&type, &value, &tb);
    for (i = 0; i < count; i++) {
        /* psycopg2 ignores a notifies container that fails to append */
        if (append_notify(self, list[i]) < 0) { PyErr_Clear(); }
        PQfreemem(list[i]);
    }
    PyErr_Restore(type, value, tb);
    free(list);
    return rv;
}
