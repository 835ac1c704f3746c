/* replication_int.h - declarations shared by the replication_*.c files only.
 *
 * Streaming replication runs on a ReplicationConnection (a connection opened
 * with the `replication` libpq option) through a ReplicationCursor: the
 * START_REPLICATION command puts the connection in COPY BOTH mode, where the
 * server sends CopyData messages (XLogData 'w', primary keepalive 'k') and
 * the client answers with standby status updates 'r'.
 *
 * The public entry point is replication_setup() in psycopg.h.
 */
#ifndef PSYCOPG_REPLICATION_INT_H
#define PSYCOPG_REPLICATION_INT_H 1

#include "psycopg.h"

#include <stdint.h>

/* A WAL position (LSN), as the protocol sends it. */
typedef uint64_t XLogRecPtr;

/* ------------------------------------------------------------------ */
/* replication_connection.c                                           */

typedef struct {
    connectionObject conn;
    /* Weak reference to the cursor whose START_REPLICATION runs on this
     * asynchronous connection until poll() reports it done; else NULL. */
    PyObject *start_cursor;
} replicationConnectionObject;

extern PyTypeObject replicationConnectionType;

#define replicationConnection_Check(op) \
    PyObject_TypeCheck(op, &replicationConnectionType)

/* Send `command` (in the client encoding) on the asynchronous replication
 * connection `conn` for `curs` without waiting: ReplicationConnection.poll()
 * then hands the result to repl_curs_start_done().  0 ok, -1 with an
 * exception set. */
int repl_conn_start_async(replicationConnectionObject *conn,
                          cursorObject *curs, const char *command);

/* ------------------------------------------------------------------ */
/* replication_cursor.c                                               */

typedef struct {
    cursorObject cur;

    int started;            /* the connection is in COPY BOTH for us */
    int consuming;          /* inside consume_stream() */
    int decode;             /* payloads as str (client encoding) */
    double status_interval; /* seconds between automatic feedbacks */

    /* wall clock times, microseconds since the Unix epoch (0: never) */
    int64_t last_io;        /* last message to or from the server */
    int64_t last_feedback;  /* last status update sent */
    /* the same moment of last_feedback, on the monotonic clock (seconds):
     * the feedback schedule must not follow wall clock jumps */
    double last_feedback_mono;

    /* positions reported in the status updates (send_feedback()) */
    XLogRecPtr write_lsn;
    XLogRecPtr flush_lsn;
    XLogRecPtr apply_lsn;
    XLogRecPtr explicitly_flushed_lsn;  /* highest flush_lsn of the user */

    XLogRecPtr wal_end;             /* server's WAL end, last message */
    XLogRecPtr last_msg_data_start; /* data_start of the last XLogData */
} replicationCursorObject;

extern PyTypeObject replicationCursorType;

#define replicationCursor_Check(op) \
    PyObject_TypeCheck(op, &replicationCursorType)

/* The result of START_REPLICATION arrived (takes ownership of `res`, which
 * may be NULL after a libpq failure): COPY BOTH starts the stream, an error
 * is raised, other results are stored as by execute().  0 ok, -1 error. */
int repl_curs_start_done(replicationCursorObject *self, PGresult *res);

/* Clocks: wall time in microseconds since the Unix epoch; monotonic time
 * in seconds. */
int64_t repl_now_us(void);
double repl_monotonic(void);

/* ------------------------------------------------------------------ */
/* replication_stream.c: the COPY BOTH protocol                        */

/* Read the next XLogData message without blocking, answering keepalives
 * and sending the periodic status update on the way.  Returns 1 with a new
 * ReplicationMessage in *msg, 0 when no message is available (or the
 * stream ended: then self->started is 0), -1 with an exception set. */
int repl_stream_read(replicationCursorObject *self, PyObject **msg);

/* Send a standby status update with the current positions.  0 ok, -1
 * with an exception set. */
int repl_stream_send_feedback(replicationCursorObject *self, int reply);

/* Wait, GIL released, until the connection's socket is readable or
 * `timeout` seconds passed.  0 ok (either way), -1 with an exception set
 * (e.g. KeyboardInterrupt from a signal). */
int repl_stream_wait(replicationCursorObject *self, double timeout);

/* ------------------------------------------------------------------ */
/* replication_message.c                                              */

typedef struct {
    PyObject_HEAD
    cursorObject *cursor;   /* strong reference */
    PyObject *payload;      /* bytes, or str when decoding */
    int data_size;          /* size of the raw payload */
    XLogRecPtr data_start;
    XLogRecPtr wal_end;
    int64_t send_time;      /* microseconds since 2000-01-01 (server) */
} replicationMessageObject;

extern PyTypeObject replicationMessageType;

/* A new message for `cursor` (a new reference taken) and `payload` (a
 * reference stolen, even on failure).  NULL with an exception set. */
PyObject *repl_msg_new(cursorObject *cursor, PyObject *payload,
                       int data_size, XLogRecPtr data_start,
                       XLogRecPtr wal_end, int64_t send_time);

/* A naive local datetime for `us` microseconds since the Unix epoch, as
 * datetime.fromtimestamp() returns.  New reference or NULL. */
PyObject *repl_datetime_from_us(int64_t us);

/* Microseconds between the Unix epoch and the PostgreSQL epoch
 * (2000-01-01 00:00:00 UTC). */
#define REPL_PG_EPOCH_OFFSET_US  INT64_C(946684800000000)

int repl_message_setup(PyObject *module);
int repl_cursor_setup(PyObject *module);

#endif /* PSYCOPG_REPLICATION_INT_H */
