/* pythoncompat.h - differences between the supported CPython versions.
 *
 * The extension supports CPython 3.9 through 3.13.  Code that depends on
 * the version goes here, so that the other files can use one API: the
 * newest one, with a fallback defined here for the older versions.
 * Included by psycopg.h, after Python.h.
 */
#ifndef PSYCOPG_PYTHONCOMPAT_H
#define PSYCOPG_PYTHONCOMPAT_H 1

#if PY_VERSION_HEX < 0x03090000
#error "psycopg2-yugabytedb needs CPython 3.9 or newer"
#endif

/* PyWeakref_GetRef() is new in 3.13, where PyWeakref_GetObject() (a
 * borrowed reference) is deprecated.  Same contract as 3.13's: 1 and a
 * new reference in *pobj if the referent is alive, 0 and NULL if it is
 * gone, -1 and NULL with an exception set if ref is not a weakref. */
#if PY_VERSION_HEX < 0x030D0000
static inline int
PyWeakref_GetRef(PyObject *ref, PyObject **pobj)
{
    PyObject *obj;

    *pobj = NULL;
    if (ref == NULL || !PyWeakref_Check(ref)) {
        PyErr_SetString(PyExc_TypeError, "expected a weakref");
        return -1;
    }
    if (!(obj = PyWeakref_GetObject(ref))) { return -1; }
    if (obj == Py_None) { return 0; }
    Py_INCREF(obj);
    *pobj = obj;
    return 1;
}
#endif

/* Calling the tp_dealloc of a GC base type from the tp_dealloc of a type
 * deriving from it.  CPython's rule (see subtype_dealloc) is that a GC
 * type's tp_dealloc is entered with the object still tracked, and
 * untracks it itself.  Some of them do so without checking
 * (BaseException_dealloc on 3.9 and 3.10 uses _PyObject_GC_UNTRACK, and
 * an object untracked twice corrupts the collector's list), so a derived
 * dealloc that untracked the object to clear its own fields must track it
 * again before handing it to the base. */
static inline void
psyco_base_dealloc(PyTypeObject *base, PyObject *obj)
{
    if (PyType_IS_GC(base) && !PyObject_GC_IsTracked(obj)) {
        PyObject_GC_Track(obj);
    }
    base->tp_dealloc(obj);
}

#endif /* PSYCOPG_PYTHONCOMPAT_H */
