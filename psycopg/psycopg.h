/* psycopg.h - shared declarations of the psycopg2._psycopg extension.
 *
 * Every C file of the extension includes this header.  It holds the object
 * layouts that more than one file needs (connection, cursor, typecaster) and
 * the functions that cross file boundaries.  A function used by one file
 * only stays static in that file.
 *
 * Ownership of files (one object or concern per file):
 *   module.c             module init, module-level functions (_connect, ...)
 *   connection_type.c    the connection Python type: methods, getters
 *   connection_int.c     libpq work for connections: connect, exec, begin,
 *                        encodings, notices and notifies processing
 *   conninfo.c           ConnectionInfo type
 *   cursor_type.c        the cursor Python type: attributes, fetch methods
 *   cursor_execute.c     query merging, execute, executemany, callproc,
 *                        mogrify, named cursors
 *   cursor_fetch.c       result -> Python rows (hot path), description
 *   cursor_copy.c        COPY FROM/TO
 *   column.c             Column type
 *   errors.c             exception classes, raising from PGresult/PGconn
 *   diagnostics.c        Diagnostics type
 *   adapt_*.c            adaptation (microprotocols and adapters)
 *   typecast_*.c         typecasting (typecaster type and built-in casters)
 *   notify.c, xid.c, lobject_*.c, replication_*.c  (later features)
 */
#ifndef PSYCOPG_H
#define PSYCOPG_H 1

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <pthread.h>
#include <libpq-fe.h>

#include "pythoncompat.h"

/* ------------------------------------------------------------------ */
/* Version                                                            */

#ifndef PSYCOPG_VERSION
#define PSYCOPG_VERSION "2.9.10"
#endif

/* ------------------------------------------------------------------ */
/* Constants shared with Python (values are psycopg2's)                */

/* connection.status */
#define CONN_STATUS_SETUP       0
#define CONN_STATUS_READY       1
#define CONN_STATUS_BEGIN       2
#define CONN_STATUS_PREPARED    5
/* STATUS_ASYNC etc. only used internally by async connections */
#define CONN_STATUS_CONNECTING  20
#define CONN_STATUS_DATESTYLE   21

/* isolation levels (ISOLATION_LEVEL_*) */
#define ISOLATION_LEVEL_AUTOCOMMIT          0
#define ISOLATION_LEVEL_READ_UNCOMMITTED    4
#define ISOLATION_LEVEL_READ_COMMITTED      1
#define ISOLATION_LEVEL_REPEATABLE_READ     2
#define ISOLATION_LEVEL_SERIALIZABLE        3
#define ISOLATION_LEVEL_DEFAULT             5

/* readonly / deferrable tri-state */
#define STATE_OFF       0
#define STATE_ON        1
#define STATE_DEFAULT   2

/* poll() results */
#define PSYCO_POLL_OK       0
#define PSYCO_POLL_READ     1
#define PSYCO_POLL_WRITE    2
#define PSYCO_POLL_ERROR    3

/* connection->async_status */
#define ASYNC_DONE      0
#define ASYNC_READ      1
#define ASYNC_WRITE     2

/* connection->closed */
#define CONN_OPEN       0
#define CONN_CLOSED     1   /* closed by the user */
#define CONN_BROKEN     2   /* lost: server gone, fatal error */

/* replication (connection->replication_type) */
#define REPLICATION_NONE        0
#define REPLICATION_PHYSICAL    12345678
#define REPLICATION_LOGICAL     87654321

/* notices kept in connection.notices when it is a list (psycopg2's cap) */
#define CONN_NOTICES_LIMIT 50

/* ------------------------------------------------------------------ */
/* connection                                                         */

typedef struct connectionObject {
    PyObject_HEAD

    /* Serialises libpq use of pgconn between threads.  Take it with the
     * GIL released (see CONN_LOCK_BEGIN below) to avoid deadlocks. */
    pthread_mutex_t lock;

    PGconn *pgconn;
    PGcancel *cancel;       /* for connection.cancel() */

    char *dsn;              /* dsn as given (malloc'ed) */
    PyObject *dsn_masked;   /* str: dsn with password=xxx */

    long closed;            /* CONN_OPEN / CONN_CLOSED / CONN_BROKEN */
    long mark;              /* bumped at every transaction end */
    int status;             /* CONN_STATUS_* */
    int server_version;
    int protocol;

    int autocommit;
    int isolevel;           /* ISOLATION_LEVEL_*, DEFAULT = server default */
    int readonly;           /* STATE_* */
    int deferrable;         /* STATE_* */

    /* async / green */
    int async_;             /* connection created with async_=True */
    int async_status;       /* ASYNC_* */
    PyObject *async_cursor; /* weakref to the cursor running an async query */
    PGresult *pgres;        /* result being built by async/green code */

    /* client encoding */
    char *encoding;         /* PostgreSQL name, e.g. "UTF8" (malloc'ed) */
    PyObject *pyencoding;   /* Python codec name, e.g. "utf-8" */
    int is_utf8;            /* fast path: encoding is UTF8 */
    int equote;             /* server wants E'' for backslashes */

    /* messages from the server */
    PyObject *notice_list;  /* connection.notices (list, deque or any
                               object with append) */
    PyObject *notifies;     /* connection.notifies */
    struct connNotice *notice_pending;  /* collected by the libpq notice
                                           processor without the GIL */
    struct connNotice *last_notice;

    /* typecasters registered on this connection: dict oid -> caster */
    PyObject *string_types;
    PyObject *binary_types;

    PyObject *cursor_factory;   /* default cursor factory or None */

    int entered;            /* inside `with conn:` */
    int replication_type;   /* REPLICATION_* */

    /* Load balancer bookkeeping.  A callable set by psycopg2's Python side
     * (attribute `_lb_hook`) and called with no arguments exactly once,
     * when the connection becomes closed for any reason (close(), broken,
     * deallocation).  NULL when the connection is not load balanced. */
    PyObject *lb_hook;
    /* Attempts opened by the load balancer (connection_attempt.c): facts
     * recorded on failure, and for async ones the failover callable
     * (attribute `_lb_failover`, NULL if none). */
    int lb_facts;
    int lb_status;          /* PQstatus before the last PQconnectPoll */
    PyObject *lb_failover;

    PyObject *weakreflist;
    PyObject *dict;         /* instance __dict__ (psycopg2 subclasses and
                               tools set attributes on connections) */

    PyObject *tpc_xid;      /* Xid of the current two-phase transaction
                               (tpc_begin), or NULL */

    int in_copy;            /* COPY_* below; only the thread holding the
                               lock for a COPY method can see it set */
} connectionObject;

struct connNotice {
    char *message;
    struct connNotice *next;
};

extern PyTypeObject connectionType;

#define connection_Check(op) PyObject_TypeCheck(op, &connectionType)

/* Release the GIL and take the connection lock; the pair must be used in
 * the same C block.  Do not touch Python objects between them. */
/* connectionObject.in_copy */
#define COPY_NONE 0         /* a COPY result is refused (execute()) */
#define COPY_EXPECTED 1     /* a COPY method sends its statement */
#define COPY_RUNNING 2      /* its data flows: other commands refused */

/* Lock held, GIL released: end a COPY IN/OUT nobody will serve (execute()
 * of a COPY statement), so that the connection is usable again.  Leaves
 * no result pending.  In cursor_copy.c. */
void copy_abandon_locked(PGconn *pgconn, ExecStatusType status);

/* Initialize the connection lock (recursive).  0 ok. */
int conn_init_lock(pthread_mutex_t *lock);

/* With the lock held: -1 with ProgrammingError set if the connection is
 * in the middle of a COPY exchange (a file object of the COPY using the
 * connection), else 0.  Needs the GIL. */
int conn_check_not_in_copy(connectionObject *self);

#define CONN_LOCK_BEGIN(conn) \
    Py_BEGIN_ALLOW_THREADS; \
    pthread_mutex_lock(&(conn)->lock);
#define CONN_LOCK_END(conn) \
    pthread_mutex_unlock(&(conn)->lock); \
    Py_END_ALLOW_THREADS;

/* connection_int.c */

/* Open the libpq connection for `self` (blocking, GIL released), set up
 * encoding, server version, datestyle.  0 on success, -1 with an exception
 * set. */
int conn_connect(connectionObject *self, const char *dsn, long async_);

/* Close the libpq connection (idempotent).  Calls the lb_hook once. */
void conn_close(connectionObject *self);

/* Mark the connection broken (server lost) and release its libpq handle's
 * resources; calls the lb_hook once.  Keeps pgconn for error messages. */
void conn_set_broken(connectionObject *self);

/* Call and clear self->lb_hook, if any; safe to call repeatedly and from
 * dealloc (preserves the current exception). */
void conn_notify_lb_hook(connectionObject *self);

/* If not in autocommit and idle, send BEGIN (with the session
 * characteristics).  0 ok, -1 with an exception set. */
int conn_begin_if_needed(connectionObject *self);

/* Execute `query` (in the client encoding) and wait for its result, GIL
 * released, holding the lock.  On success returns the PGresult (which may
 * have an error status: the caller decides).  On a libpq failure (NULL
 * result, connection lost) returns NULL with an exception set and the
 * connection marked broken if it is.  After the call processes notices and
 * notifies. */
PGresult *conn_exec(connectionObject *self, const char *query);

/* conn_exec preceded by the BEGIN conn_begin_if_needed would send, both
 * under one hold of the lock: no other thread's COMMIT can come between
 * them.  Same return as conn_exec. */
PGresult *conn_exec_in_transaction(connectionObject *self,
                                   const char *query);

/* With the lock held and the GIL released (touches no Python object):
 * send the BEGIN conn_begin_if_needed would send, if needed.  0 ok or
 * nothing to do; -1 if it failed, *error getting its result (NULL after a
 * libpq failure) for the caller to raise once it has the GIL. */
int conn_begin_locked(connectionObject *self, PGresult **error);

/* Like conn_exec but raises on any non-success status and discards the
 * result.  0 ok, -1 error. */
int conn_exec_command(connectionObject *self, const char *query);

/* commit / rollback of the current transaction (no-op if idle). */
int conn_commit(connectionObject *self);
int conn_rollback(connectionObject *self);

/* Transfer notices collected by the libpq notice processor to
 * self->notice_list, and notifications from libpq to self->notifies.
 * Must be called with the GIL held, never with the lock. */
void conn_process_notices(connectionObject *self);
int conn_process_notifies(connectionObject *self);

/* Update self->status / closed after a PGresult or an error, e.g. detect a
 * lost connection (PQstatus == CONNECTION_BAD).  Returns 1 if the
 * connection is (now) broken. */
int conn_check_broken(connectionObject *self);

/* Text codec helpers: decode bytes from the server into str, encode a str
 * into bytes in the client encoding.  Both return new references or NULL
 * with an exception set. */
PyObject *conn_decode(connectionObject *self, const char *s, Py_ssize_t len);
PyObject *conn_encode(connectionObject *self, PyObject *u);

/* Raise InterfaceError if the connection is closed ("connection already
 * closed").  0 ok, -1 raised. */
int conn_check_open(connectionObject *self);

struct cursorObject;    /* defined below */

/* connection_async.c: asynchronous connections (connect(async_=True)) and
 * green mode (set_wait_callback()).  In green mode conn_exec() itself goes
 * through the wait callback: nothing to do for callers. */

/* Send `query` (in the client encoding) on an async connection without
 * waiting for the result.  connection.poll() then hands the result to
 * `curs` with curs_set_result(), or raises the query's error (pq_raise
 * with curs) from poll().  While it runs conn->async_cursor is a weakref
 * to `curs` (not NULL); ProgrammingError "execute cannot be used while an
 * asynchronous query is underway" if one is already running.  0 ok, -1
 * with an exception set. */
int conn_async_execute(connectionObject *self, struct cursorObject *curs,
                       const char *query);

/* One step of the connection's state machine (connecting, async query,
 * or reading notifications): PSYCO_POLL_OK / READ / WRITE, or -1 with an
 * exception set. */
int conn_poll(connectionObject *self);

/* notify.c: the Notify type (connection.notifies items) */
extern PyTypeObject notifyType;
int notify_setup(PyObject *module);

/* xid.c: the Xid type (two-phase commit transaction ids) */
extern PyTypeObject xidType;
int xid_setup(PyObject *module);

/* lobject_*.c: large objects.  The extensions.lobject type (added to the
 * module by lobject_setup) and connection.lobject(oid=0, mode='',
 * new_oid=0, new_file=None, lobject_factory=None), listed in the
 * connection's methods with conn_lobject_doc. */
extern PyTypeObject lobjectType;
int lobject_setup(PyObject *module);
PyObject *conn_lobject_method(connectionObject *self, PyObject *args,
                              PyObject *kwargs);
extern const char conn_lobject_doc[];

/* ------------------------------------------------------------------ */
/* cursor                                                             */

typedef struct cursorObject {
    PyObject_HEAD
    connectionObject *conn;     /* strong reference */

    int closed;
    int notuples;               /* last result had no tuples */
    int withhold;               /* named cursor WITH HOLD */
    int scrollable;             /* -1 not set (None), 0 NO SCROLL, 1 SCROLL */
    int named_declared;         /* DECLARE already executed */

    long rowcount;
    long rownumber;
    long arraysize;
    long itersize;
    long mark;                  /* conn->mark when the named cursor ran */
    Oid lastoid;

    PGresult *pgres;            /* current result set */
    int ntuples;
    int nfields;

    PyObject *casts;            /* tuple of casters, one per column */
    void *cast_cols;            /* their C cast functions, made from casts
                                 * at the second fetch call (cursor_fetch.c),
                                 * or NULL */
    int cast_cols_uses;         /* fetch calls on the current casts */
    PyObject *description;      /* tuple of Column, or None */
    PyObject *query;            /* bytes: last query sent, or None */
    PyObject *pgstatus;         /* str: statusmessage, or None */

    char *name;                 /* named cursor name (malloc'ed) or NULL */
    char *qname;                /* quoted name, for SQL (malloc'ed) */

    PyObject *tuple_factory;    /* row_factory: None or callable(cursor) */
    PyObject *tzinfo_factory;   /* tzinfo_factory */

    PyObject *string_types;     /* per-cursor typecasters: dict or NULL */
    PyObject *binary_types;

    PyObject *copyfile;         /* file object during copy_* */
    Py_ssize_t copysize;

    PyObject *weakreflist;
    PyObject *dict;             /* instance __dict__ */
} cursorObject;

extern PyTypeObject cursorType;

#define cursor_Check(op) PyObject_TypeCheck(op, &cursorType)

/* Raise InterfaceError if the cursor or its connection is closed. */
int curs_check_open(cursorObject *self);

/* cursor_fetch.c: take ownership of `res` (a successful PGresult) as the
 * cursor's current result: sets pgres, ntuples, rowcount, casts,
 * description, statusmessage, lastoid.  0 ok, -1 error. */
int curs_set_result(cursorObject *self, PGresult *res);

/* Build row `row` of the current result as a Python object (tuple or
 * row_factory object).  New reference or NULL. */
PyObject *curs_build_row(cursorObject *self, int row);

/* ------------------------------------------------------------------ */
/* errors.c                                                           */

extern PyObject *Error, *Warning, *InterfaceError, *DatabaseError,
    *InternalError, *OperationalError, *ProgrammingError, *IntegrityError,
    *DataError, *NotSupportedError, *QueryCanceledError,
    *TransactionRollbackError;

/* dict SQLSTATE (str) -> exception class, filled by psycopg2.errors when
 * it is imported (module attribute `sqlstate_errors`). */
extern PyObject *sqlstate_errors;

/* Raise the exception matching a failed result (or, when res is NULL, the
 * connection's error message).  Picks the class from the SQLSTATE (most
 * specific psycopg2.errors class), sets pgerror, pgcode, cursor, diag.
 * `curs` may be NULL.  Does not take ownership of res: the exception keeps
 * its own reference to the diagnostic fields (it copies them).
 * Also marks the connection broken when PQstatus is CONNECTION_BAD. */
void pq_raise(connectionObject *conn, cursorObject *curs, PGresult *res);

/* Exception class for a SQLSTATE (borrowed), never NULL. */
PyObject *exception_from_sqlstate(const char *sqlstate);

/* Shortcut: PyErr_SetString(exc, msg) with a printf format. */
PyObject *psyco_set_error(PyObject *exc, cursorObject *curs,
                          const char *msg);

int errors_setup(PyObject *module);

/* diagnostics.c: Diagnostics(exc) type; built from the fields stored on
 * the exception by pq_raise. */
extern PyTypeObject diagnosticsType;
int diagnostics_setup(PyObject *module);

/* ------------------------------------------------------------------ */
/* adaptation (adapt_*.c)                                             */

extern PyObject *psyco_adapters;    /* dict (type, ISQLQuote) -> adapter */
extern PyTypeObject isqlquoteType;

/* adapt(obj, proto=ISQLQuote, alt=None): new reference or NULL. */
PyObject *microprotocols_adapt(PyObject *obj, PyObject *proto,
                               PyObject *alt);

/* Return the SQL literal for `obj` as bytes, in the connection encoding
 * (conn may be NULL: then no prepare() and utf-8).  This is what the
 * query merging calls for every parameter; it has C fast paths for the
 * built-in types when their adapter has not been overridden.  New
 * reference or NULL with an exception set (ProgrammingError naming the
 * type for objects that cannot be adapted). */
PyObject *microprotocol_getquoted(PyObject *obj, connectionObject *conn);

int adapt_setup(PyObject *module);

/* ------------------------------------------------------------------ */
/* typecasting (typecast_*.c)                                         */

/* C cast function: `s` is the value in the client encoding, NUL
 * terminated, `len` bytes long; s == NULL means SQL NULL.  `curs` is the
 * cursor (cursorObject *) or None. */
typedef PyObject *(*typecast_function)(const char *s, Py_ssize_t len,
                                       PyObject *curs);

typedef struct typecastObject {
    PyObject_HEAD
    PyObject *name;             /* str */
    PyObject *values;           /* tuple of int OIDs */
    typecast_function ccast;    /* C implementation, or NULL */
    PyObject *pcast;            /* Python callable(value, cursor), or NULL */
    PyObject *bcast;            /* base caster for array casters, or NULL */
} typecastObject;

extern PyTypeObject typecastType;

#define typecast_Check(op) PyObject_TypeCheck(op, &typecastType)

/* Global registries: dict int oid -> caster (extensions.string_types and
 * extensions.binary_types). */
extern PyObject *psyco_types;
extern PyObject *psyco_binary_types;
/* Caster used for OIDs registered nowhere (returns str). */
extern PyObject *psyco_default_cast;

/* Cast a value with `caster` (a typecastObject or any callable taking
 * (value, cursor)).  New reference or NULL. */
PyObject *typecast_cast(PyObject *caster, const char *s, Py_ssize_t len,
                        PyObject *curs);

/* Find the caster for `oid` as seen by `curs`: the cursor's own
 * registrations, then its connection's, then the global ones, then the
 * default.  Borrowed reference, never NULL. */
PyObject *typecast_lookup(cursorObject *curs, Oid oid);

int typecast_setup(PyObject *module);

/* ------------------------------------------------------------------ */
/* Module-wide helpers (module.c)                                     */

extern PyObject *psyco_wait_callback;   /* set_wait_callback(), or NULL */
extern PyObject *psyco_DecimalType;     /* decimal.Decimal */

int connection_setup(PyObject *module);     /* connection_type.c */
int conninfo_setup(PyObject *module);       /* conninfo.c */
int cursor_setup(PyObject *module);         /* cursor_type.c */
int column_setup(PyObject *module);         /* column.c */
int replication_setup(PyObject *module);    /* replication_connection.c:
                                               ReplicationConnection,
                                               ReplicationCursor,
                                               ReplicationMessage */

/* Column type (column.c) */
extern PyTypeObject columnType;
typedef struct {
    PyObject_HEAD
    PyObject *name;
    PyObject *type_code;
    PyObject *display_size;
    PyObject *internal_size;
    PyObject *precision;
    PyObject *scale;
    PyObject *null_ok;
    PyObject *table_oid;
    PyObject *table_column;
} columnObject;

#endif /* PSYCOPG_H */
