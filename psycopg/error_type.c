/* error_type.c - the psycopg2.Error exception type.
 *
 * Error is a C subclass of Exception so that pq_raise() can attach the
 * server's message, SQLSTATE, cursor and diagnostic fields to the
 * instance as read-only attributes.  Every other DB-API exception of the
 * module derives from it (see errors.c).
 */

#include "error_type.h"

static int
error_clear_own(errorObject *self)
{
    Py_CLEAR(self->pgerror);
    Py_CLEAR(self->pgcode);
    Py_CLEAR(self->cursor);
    Py_CLEAR(self->diag);
    return 0;
}

static int
error_traverse(errorObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->pgerror);
    Py_VISIT(self->pgcode);
    Py_VISIT(self->cursor);
    Py_VISIT(self->diag);
    return ((PyTypeObject *)PyExc_Exception)->tp_traverse(
        (PyObject *)self, visit, arg);
}

static int
error_clear(errorObject *self)
{
    error_clear_own(self);
    return ((PyTypeObject *)PyExc_Exception)->tp_clear((PyObject *)self);
}

/* Entered with self tracked, also from subtype_dealloc for the Python
 * subclasses (every DB-API exception class).  Untracked while our fields
 * are cleared (a collection must not see a half-cleared object), then
 * tracked again: BaseException's dealloc, which clears args, traceback
 * etc. and frees, untracks it unchecked on 3.9 and 3.10. */
static void
error_dealloc(errorObject *self)
{
    PyObject_GC_UnTrack((PyObject *)self);
    error_clear_own(self);
    psyco_base_dealloc((PyTypeObject *)PyExc_Exception, (PyObject *)self);
}

/* Pickling support: the message arguments travel through Exception's
 * usual (type, args) pair; pgerror and pgcode, which are not arguments,
 * travel in the state dict together with the instance __dict__.  The
 * cursor and the diagnostic fields are not pickled (psycopg2 does the
 * same: after unpickling they read None). */
static PyObject *
error_reduce(errorObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *rv = NULL;
    PyObject *state = NULL;
    PyObject *args = self->exc.args;

    if (self->exc.dict) {
        state = PyDict_Copy(self->exc.dict);
    }
    else {
        state = PyDict_New();
    }
    if (!state) { goto exit; }

    if (self->pgerror
            && PyDict_SetItemString(state, "pgerror", self->pgerror) < 0) {
        goto exit;
    }
    if (self->pgcode
            && PyDict_SetItemString(state, "pgcode", self->pgcode) < 0) {
        goto exit;
    }

    if (args) {
        rv = Py_BuildValue("(OOO)", Py_TYPE(self), args, state);
    }
    else {
        rv = Py_BuildValue("(O()O)", Py_TYPE(self), state);
    }

exit:
    Py_XDECREF(state);
    return rv;
}

/* Restore what error_reduce() saved: pgerror and pgcode go to their
 * slots, any other key becomes an instance attribute. */
static PyObject *
error_setstate(errorObject *self, PyObject *state)
{
    PyObject *rv = NULL;
    PyObject *key, *value;
    Py_ssize_t pos = 0;

    if (state == Py_None) {
        Py_RETURN_NONE;
    }
    if (!PyDict_Check(state)) {
        PyErr_SetString(PyExc_TypeError, "state is not a dictionary");
        goto exit;
    }

    while (PyDict_Next(state, &pos, &key, &value)) {
        if (PyUnicode_Check(key)
                && PyUnicode_CompareWithASCIIString(key, "pgerror") == 0) {
            Py_INCREF(value);
            Py_XSETREF(self->pgerror, value);
        }
        else if (PyUnicode_Check(key)
                && PyUnicode_CompareWithASCIIString(key, "pgcode") == 0) {
            Py_INCREF(value);
            Py_XSETREF(self->pgcode, value);
        }
        else if (PyObject_SetAttr((PyObject *)self, key, value) < 0) {
            goto exit;
        }
    }

    Py_INCREF(Py_None);
    rv = Py_None;

exit:
    return rv;
}

static PyObject *
error_get_diag(errorObject *self, void *closure)
{
    return diagnostics_new_for((PyObject *)self);
}

static struct PyMemberDef error_members[] = {
    {"pgerror", T_OBJECT, offsetof(errorObject, pgerror), READONLY,
        "The error message sent by the server, or None if not available."},
    {"pgcode", T_OBJECT, offsetof(errorObject, pgcode), READONLY,
        "The SQLSTATE error code sent by the server, or None if not "
        "available."},
    {"cursor", T_OBJECT, offsetof(errorObject, cursor), READONLY,
        "The cursor that raised the exception, or None."},
    {NULL}
};

static struct PyGetSetDef error_getsets[] = {
    {"diag", (getter)error_get_diag, NULL,
        "A Diagnostics object with the details of the error reported by "
        "the server."},
    {NULL}
};

static struct PyMethodDef error_methods[] = {
    {"__reduce__", (PyCFunction)error_reduce, METH_NOARGS, NULL},
    {"__setstate__", (PyCFunction)error_setstate, METH_O, NULL},
    {NULL}
};

PyTypeObject errorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "psycopg2.Error",
    .tp_basicsize = sizeof(errorObject),
    .tp_dealloc = (destructor)error_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Base class of the exceptions raised by psycopg2 for errors.",
    .tp_traverse = (traverseproc)error_traverse,
    .tp_clear = (inquiry)error_clear,
    .tp_methods = error_methods,
    .tp_members = error_members,
    .tp_getset = error_getsets,
};

int
error_type_ready(void)
{
    /* Exception is not a compile-time constant: link the base here. */
    errorType.tp_base = (PyTypeObject *)PyExc_Exception;
    return PyType_Ready(&errorType);
}
