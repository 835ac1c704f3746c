/* lobject_priv.h - declarations shared by the large object files
 * (lobject_type.c, lobject_int.c) and nobody else.
 *
 * The public part (lobjectType, lobject_setup, conn_lobject_method) is in
 * psycopg.h.
 */
#ifndef PSYCOPG_LOBJECT_PRIV_H
#define PSYCOPG_LOBJECT_PRIV_H 1

#include "psycopg.h"

#include <stdint.h>
#include <libpq/libpq-fs.h>     /* INV_READ, INV_WRITE */

typedef struct lobjectObject {
    PyObject_HEAD

    connectionObject *conn; /* strong reference; NULL before __init__ */
    long mark;              /* conn->mark of the transaction it lives in */
    Oid oid;                /* the large object */
    int fd;                 /* libpq descriptor, -1 when not open */
    int access;             /* INV_READ | INV_WRITE bits, 0 for mode 'n' */
    int text;               /* read() returns str, not bytes */
    PyObject *mode;         /* str shown as lobject.mode, NULL before init */
} lobjectObject;

#define lobject_Check(op) PyObject_TypeCheck(op, &lobjectType)

/* ------------------------------------------------------------------ */
/* lobject_int.c: the libpq work.  Every function is called with the GIL
 * held, takes the connection lock itself (with the GIL released), and on
 * failure returns -1 (NULL) with an exception set: OperationalError with
 * libpq's message, InterfaceError if the connection was closed meanwhile. */

/* Create the object if oid is 0 (importing `new_file` if not NULL, with
 * OID `new_oid` if not 0), then open it with `access` (INV_* bits; no
 * open for 0).  A new object is always opened for writing.  Sets
 * self->oid and self->fd.  The caller has started the transaction. */
int lobject_open(lobjectObject *self, Oid oid, int access, Oid new_oid,
                 const char *new_file);

/* lo_close() the descriptor and forget it. */
int lobject_close_fd(lobjectObject *self);

/* Best effort lo_close() for the deallocator: never blocks on the lock,
 * never raises, preserves the current exception. */
void lobject_close_quietly(lobjectObject *self);

/* Read at most `size` bytes (to the end if size < 0): new bytes. */
PyObject *lobject_read_bytes(lobjectObject *self, Py_ssize_t size);

/* Write `len` bytes: the number of bytes written, or -1. */
Py_ssize_t lobject_write_bytes(lobjectObject *self, const char *buf,
                               Py_ssize_t len);

/* lo_lseek64 / lo_tell64: the new/current position, or -1. */
int64_t lobject_seek(lobjectObject *self, int64_t offset, int whence);
int64_t lobject_tell(lobjectObject *self);

/* lo_truncate64.  0 ok, -1 error. */
int lobject_truncate(lobjectObject *self, int64_t len);

/* lo_export of the whole object to the client file `filename`. */
int lobject_export(lobjectObject *self, const char *filename);

/* lo_unlink of the object (the descriptor must be already closed). */
int lobject_unlink(lobjectObject *self);

#endif /* PSYCOPG_LOBJECT_PRIV_H */
