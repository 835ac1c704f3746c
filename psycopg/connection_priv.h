/* connection_priv.h - declarations shared by the files of the connection
 * (module.c, connection_*.c, conninfo.c, notify.c, xid.c) and nobody else.
 *
 * The public contract of the connection is in psycopg.h; this header holds
 * what those files need from each other.
 */
#ifndef PSYCOPG_CONNECTION_PRIV_H
#define PSYCOPG_CONNECTION_PRIV_H 1

#include "psycopg.h"

/* ------------------------------------------------------------------ */
/* module.c                                                           */

/* The module's `encodings` dict: PostgreSQL encoding name -> Python codec
 * name (borrowed, alive as long as the module). */
extern PyObject *psyco_encodings;

/* Return `obj` as bytes: bytes as they are, str encoded in the client
 * encoding of `conn` (utf-8 when conn is NULL).  TypeError "Expected bytes
 * or unicode string, got <type> instead" otherwise.  New reference. */
PyObject *conn_ensure_bytes(PyObject *obj, connectionObject *conn);

/* ------------------------------------------------------------------ */
/* connection_dsn.c                                                   */

/* dict keyword -> value of the options having a value; passwords (options
 * displayed as '*') only if include_password.  New reference. */
PyObject *conn_dict_from_options(PQconninfoOption *options,
                                 int include_password);

/* The dsn as connection.dsn shows it: unchanged without a password, else
 * rebuilt as "key=value ..." with password=xxx.  ProgrammingError-free:
 * an invalid dsn raises InternalError "the connection string is not
 * valid" as psycopg2 does.  New reference (str) or NULL. */
PyObject *conn_obscure_dsn(const char *dsn);

/* 1 if the connection was opened with the replication option. */
int conn_is_replication(connectionObject *self);

/* ------------------------------------------------------------------ */
/* connection_int.c                                                   */

/* What psycopg2 checks at the top of most connection methods: each
 * raises and returns -1 when the condition holds, else returns 0. */
int conn_raise_if_async(connectionObject *self, const char *cmd);
int conn_raise_if_in_transaction(connectionObject *self, const char *cmd);
int conn_raise_if_tpc_prepared(connectionObject *self, const char *cmd);
int conn_raise_if_tpc_begun(connectionObject *self, const char *cmd);

/* After the libpq connection is established: read the server settings,
 * install the notice processor, set DateStyle to ISO if needed, reset the
 * session characteristics to the defaults.  0 ok, -1 exception. */
int conn_setup(connectionObject *self);

/* Read server version, protocol, encoding, standard_conforming_strings
 * and create the PGcancel (the part of conn_setup without queries). */
int conn_read_server_settings(connectionObject *self);

/* 1 if the server's DateStyle is already ISO (no SET needed). */
int conn_datestyle_is_iso(connectionObject *self);

/* Apply session characteristics as psycopg2 does: values are the
 * ISOLATION_LEVEL_* and STATE_* constants, or SESSION_UNCHANGED.  In
 * autocommit (staying or going there) every characteristic given is sent
 * as SET default_..., even if it seems already set (the server's value may
 * have been changed behind our back); leaving autocommit puts back the
 * defaults set in it (BEGIN will carry them). */
#define SESSION_UNCHANGED (-1)
int conn_set_session(connectionObject *self, int autocommit, int isolevel,
                     int readonly, int deferrable);

/* connection.reset(): roll back, RESET ALL, SET SESSION AUTHORIZATION
 * DEFAULT, then conn_setup. */
int conn_reset(connectionObject *self);

/* connection.cancel(): PQcancel, GIL released, without the lock. */
int conn_cancel(connectionObject *self);

/* Non-blocking check (connection._check_broken()): 1 broken, 0 not. */
int conn_poll_broken(connectionObject *self);

/* Replace the PGcancel of the connection (after connect or reset). */
int conn_refresh_cancel(connectionObject *self);

/* ------------------------------------------------------------------ */
/* connection_encoding.c                                              */

/* Upper-case `enc` and drop everything but letters and digits ("latin-1"
 * -> "LATIN1").  String to PyMem_Free, or NULL with MemoryError. */
char *conn_clean_encoding_name(const char *enc);

/* Set self->encoding/pyencoding/is_utf8 for the PostgreSQL encoding
 * `pgenc` (already cleaned).  OperationalError "no Python encoding for
 * PostgreSQL encoding '...'" if unknown.  0 ok, -1 error. */
int conn_store_encoding(connectionObject *self, const char *pgenc);

/* Read the client_encoding the server reports and store it. */
int conn_read_encoding(connectionObject *self);

/* connection.set_client_encoding() */
int conn_set_client_encoding(connectionObject *self, const char *enc);

/* ------------------------------------------------------------------ */
/* connection_notices.c                                               */

/* libpq notice processor: runs without the GIL, with the lock held. */
void conn_notice_processor(void *arg, const char *message);

/* Free the notices not yet moved to Python. */
void conn_notice_clean(connectionObject *self);

/* ------------------------------------------------------------------ */
/* connection_async.c                                                 */

/* Start a non-blocking connection attempt (async and green mode). */
int conn_connect_start(connectionObject *self, const char *dsn);

/* Green mode: drive the connection attempt through the wait callback. */
int conn_connect_green(connectionObject *self);

/* Green mode version of conn_exec (called by conn_exec). */
PGresult *conn_exec_green(connectionObject *self, const char *query);

/* 1 while an async connection attempt or async query is in progress. */
int conn_is_executing(connectionObject *self);

/* ------------------------------------------------------------------ */
/* connection_attempt.c                                               */

/* _lb_connect() asks (per thread) that the next conn_connect() records
 * the facts of a failure; conn_take_lb_attempt() reads and clears it. */
void conn_request_lb_attempt(int on);
int conn_take_lb_attempt(void);

/* Blocking attempt recording the facts (GIL released, connect_timeout
 * as libpq).  0 ok, -1 OperationalError with `_lb_facts`. */
int conn_connect_attempt(connectionObject *self, const char *dsn);

/* Raise OperationalError with libpq's message about `pgconn` (reported
 * verbosely, given back in the default form) and `_lb_facts`. */
void conn_raise_attempt_error(PGconn *pgconn, int status, int timed_out);

/* With the failed attempt's exception set: let the `_lb_failover`
 * callable pick another node; PSYCO_POLL_WRITE if an attempt is under
 * way again (exception cleared), else -1. */
int conn_attempt_failover(connectionObject *self);

/* The attempt succeeded: tell the `_lb_failover` callable (called with
 * None, its result and errors ignored) and drop it. */
void conn_attempt_succeeded(connectionObject *self);

/* ------------------------------------------------------------------ */
/* connection_type.c / connection_methods.c / connection_tpc.c        */

/* The Python methods, implemented in connection_methods.c and
 * connection_tpc.c, listed in connection_type.c. */
PyObject *psyco_conn_cursor(connectionObject *self, PyObject *args,
                            PyObject *kwargs);
PyObject *psyco_conn_close(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_commit(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_rollback(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_set_session(connectionObject *self, PyObject *args,
                                 PyObject *kwargs);
PyObject *psyco_conn_set_isolation_level(connectionObject *self,
                                         PyObject *args);
PyObject *psyco_conn_set_client_encoding(connectionObject *self,
                                         PyObject *args);
PyObject *psyco_conn_get_parameter_status(connectionObject *self,
                                          PyObject *args);
PyObject *psyco_conn_get_dsn_parameters(connectionObject *self,
                                        PyObject *dummy);
PyObject *psyco_conn_get_backend_pid(connectionObject *self,
                                     PyObject *dummy);
PyObject *psyco_conn_get_transaction_status(connectionObject *self,
                                            PyObject *dummy);
PyObject *psyco_conn_get_native_connection(connectionObject *self,
                                           PyObject *dummy);
PyObject *psyco_conn_cancel(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_reset(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_fileno(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_poll(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_isexecuting(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_enter(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_exit(connectionObject *self, PyObject *args);
PyObject *psyco_conn_check_broken(connectionObject *self, PyObject *dummy);

PyObject *psyco_conn_xid(connectionObject *self, PyObject *args,
                         PyObject *kwargs);
PyObject *psyco_conn_tpc_begin(connectionObject *self, PyObject *args);
PyObject *psyco_conn_tpc_prepare(connectionObject *self, PyObject *dummy);
PyObject *psyco_conn_tpc_commit(connectionObject *self, PyObject *args);
PyObject *psyco_conn_tpc_rollback(connectionObject *self, PyObject *args);
PyObject *psyco_conn_tpc_recover(connectionObject *self, PyObject *dummy);

/* Parsers shared by set_session() and the attribute setters. */
int conn_parse_isolevel(PyObject *pyval);   /* -1 on error */
int conn_parse_onoff(PyObject *pyval);      /* -1 on error */

/* conninfo.c: connection.info, a new ConnectionInfo(conn). */
PyObject *conninfo_for_connection(connectionObject *conn);

/* ------------------------------------------------------------------ */
/* xid.c                                                              */

typedef struct {
    PyObject_HEAD
    PyObject *format_id;    /* int, or None for an unparsed xid */
    PyObject *gtrid;        /* str (or what from_string got) */
    PyObject *bqual;        /* str, or None for an unparsed xid */
    PyObject *prepared;     /* tpc_recover() fills these, else None */
    PyObject *owner;
    PyObject *database;
} xidObject;

#define xid_Check(op) PyObject_TypeCheck(op, &xidType)

/* An Xid from an Xid (new reference to it) or from a transaction id
 * string (parsed like Xid.from_string); TypeError "not a valid
 * transaction id" otherwise. */
xidObject *xid_ensure(PyObject *oxid);

/* The transaction id as PostgreSQL sees it (str(xid)). */
PyObject *xid_get_tid(xidObject *self);

/* Xid.from_string(s) */
xidObject *xid_from_string(PyObject *s);

/* tpc_recover(): list of Xid with prepared/owner/database set. */
PyObject *xid_recover(PyObject *conn);

#endif /* PSYCOPG_CONNECTION_PRIV_H */
