"""Streaming replication: replication connections, slots, logical and
physical streams, feedback, asynchronous reading.

The session server runs with wal_level=logical and accepts replication
connections (see conftest.py); logical tests use the test_decoding output
plugin shipped with PostgreSQL.
"""

import datetime
import doctest
import gc
import os
import select
import signal
import threading
import time
import tracemalloc
import uuid

import pytest

import psycopg2
import psycopg2.errors
import psycopg2.extensions as ext
import psycopg2.extras as extras
from psycopg2 import _psycopg, sql
from psycopg2.extras import (LogicalReplicationConnection,
                             PhysicalReplicationConnection, StopReplication)

# test_decoding options giving stable payloads
PLAIN = {"include-xids": "0", "skip-empty-xacts": "1"}


class Hang(Exception):
    """A test took far too long: something blocks."""


@pytest.fixture(autouse=True)
def no_hang():
    """Turn a blocked stream into a test failure instead of a hang."""
    def alarm(signum, frame):
        raise Hang("the test is blocked")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, 120)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def repl_dsn(dsn):
    """The test dsn, if the server can do logical replication."""
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("show wal_level")
        assert cur.fetchone()[0] == "logical", \
            "the test server needs wal_level=logical"
        cur.execute("show max_replication_slots")
        assert int(cur.fetchone()[0]) >= 2, \
            "the test server needs max_replication_slots >= 2"
    finally:
        conn.close()
    return dsn


@pytest.fixture
def admin(repl_dsn):
    """A plain autocommit connection for set-up and checks."""
    conn = psycopg2.connect(repl_dsn)
    conn.autocommit = True
    yield conn
    conn.close()


def wait_slot_inactive(admin, name):
    """Wait until no walsender uses the slot: the walsender of a closed
    connection may hold it a little longer."""
    cur = admin.cursor()
    deadline = time.monotonic() + 30
    while True:
        cur.execute("select active from pg_replication_slots "
                    "where slot_name = %s", (name,))
        row = cur.fetchone()
        if row is None or not row[0]:
            return
        assert time.monotonic() < deadline, "slot %s still active" % name
        time.sleep(0.05)


@pytest.fixture
def slot(admin):
    """A unique slot name; the slot is dropped after the test if it
    exists."""
    name = "psycopg2_slot_%s" % uuid.uuid4().hex[:12]
    yield name
    wait_slot_inactive(admin, name)
    admin.cursor().execute(
        "select pg_drop_replication_slot(slot_name) "
        "from pg_replication_slots where slot_name = %s", (name,))


@pytest.fixture
def table(admin):
    """A unique table (id int primary key, data text)."""
    name = "repl_%s" % uuid.uuid4().hex[:12]
    admin.cursor().execute(
        "create table %s (id int primary key, data text)" % name)
    yield name
    admin.cursor().execute("drop table %s" % name)


# The connections depend on `slot` so that they close before the slot is
# dropped.
@pytest.fixture
def lconn(repl_dsn, slot):
    conn = psycopg2.connect(repl_dsn,
                            connection_factory=LogicalReplicationConnection)
    yield conn
    conn.close()


@pytest.fixture
def pconn(repl_dsn, slot):
    conn = psycopg2.connect(repl_dsn,
                            connection_factory=PhysicalReplicationConnection)
    yield conn
    conn.close()


def current_lsn(admin):
    # physical streams can start up to the WAL flushed, not further
    cur = admin.cursor()
    cur.execute("select pg_current_wal_flush_lsn()::text")
    return cur.fetchone()[0]


def lsn_int(text):
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def collect_until(cur, pred):
    """consume_stream() until pred(msg) is true; the messages."""
    msgs = []

    def consume(msg):
        msgs.append(msg)
        if pred(msg):
            raise StopReplication()

    with pytest.raises(StopReplication):
        cur.consume_stream(consume)
    return msgs


def is_commit(msg):
    payload = msg.payload
    if isinstance(payload, bytes):
        payload = payload.decode()
    return payload.startswith("COMMIT")


def wait(conn):
    """Drive an asynchronous connection until poll() says POLL_OK."""
    while True:
        state = conn.poll()
        if state == ext.POLL_OK:
            return
        if state == ext.POLL_READ:
            select.select([conn.fileno()], [], [], 10)
        elif state == ext.POLL_WRITE:
            select.select([], [conn.fileno()], [], 10)


# ---------------------------------------------------------------------------
# Types and connections
# ---------------------------------------------------------------------------

def test_types():
    assert issubclass(_psycopg.ReplicationConnection, ext.connection)
    assert issubclass(_psycopg.ReplicationCursor, ext.cursor)
    assert issubclass(LogicalReplicationConnection,
                      _psycopg.ReplicationConnection)
    assert issubclass(PhysicalReplicationConnection,
                      _psycopg.ReplicationConnection)
    assert issubclass(extras.ReplicationCursor, _psycopg.ReplicationCursor)
    assert extras.ReplicationMessage is _psycopg.ReplicationMessage
    assert issubclass(StopReplication, Exception)
    assert not issubclass(StopReplication, psycopg2.Error)
    assert extras.REPLICATION_PHYSICAL == 12345678
    assert extras.REPLICATION_LOGICAL == 87654321
    assert _psycopg.ReplicationConnection.__name__ == "ReplicationConnection"


def test_logical_connection(lconn):
    assert "replication=database" in lconn.dsn
    assert lconn.replication_type == extras.REPLICATION_LOGICAL
    assert lconn.closed == 0
    assert isinstance(lconn.cursor(), extras.ReplicationCursor)
    assert lconn.cursor_factory is extras.ReplicationCursor
    assert lconn.get_dsn_parameters()["replication"] == "database"
    assert repr(lconn).startswith("<ReplicationConnection object at ")
    # SQL runs too on a logical replication connection
    cur = lconn.cursor()
    cur.execute("select 1 + 1")
    assert cur.fetchone() == (2,)


def test_physical_connection(pconn):
    assert "replication=true" in pconn.dsn
    assert "dbname=replication" in pconn.dsn
    assert pconn.replication_type == extras.REPLICATION_PHYSICAL
    assert isinstance(pconn.cursor(), extras.ReplicationCursor)


def test_session_attributes_unavailable(lconn):
    for name in ("autocommit", "isolation_level", "set_session",
                 "set_isolation_level", "reset"):
        with pytest.raises(AttributeError, match="not readable"):
            getattr(lconn, name)
    with pytest.raises(AttributeError, match="not writable"):
        lconn.autocommit = False
    with pytest.raises(AttributeError):
        lconn.replication_type = extras.REPLICATION_PHYSICAL
    # always autocommit: no transaction is ever open
    lconn.cursor().execute("select 1")
    assert lconn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_replication_type_required(repl_dsn):
    with pytest.raises(TypeError, match="REPLICATION_PHYSICAL or"):
        _psycopg.ReplicationConnection(repl_dsn)
    with pytest.raises(TypeError):
        _psycopg.ReplicationConnection(repl_dsn, replication_type=42)
    with pytest.raises(TypeError):
        _psycopg.ReplicationConnection(repl_dsn, replication_type="x")


def test_base_type_direct(repl_dsn):
    conn = _psycopg.ReplicationConnection(
        repl_dsn, replication_type=extras.REPLICATION_PHYSICAL)
    try:
        assert conn.replication_type == extras.REPLICATION_PHYSICAL
        cur = conn.cursor()
        cur.execute("IDENTIFY_SYSTEM")
        row = cur.fetchone()
        assert [d.name for d in cur.description] == [
            "systemid", "timeline", "xlogpos", "dbname"]
        assert row[1] >= 1
    finally:
        conn.close()


def test_password_masked(repl_dsn):
    conn = psycopg2.connect(repl_dsn + " password=secret",
                            connection_factory=LogicalReplicationConnection)
    try:
        assert "password=xxx" in conn.dsn
        assert "secret" not in repr(conn)
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Slots
# ---------------------------------------------------------------------------

def test_create_drop_logical_slot(lconn, admin, slot):
    cur = lconn.cursor()
    assert cur.create_replication_slot(
        slot, output_plugin="test_decoding") is None
    assert cur.query == (
        'CREATE_REPLICATION_SLOT "%s" LOGICAL "test_decoding"' % slot
    ).encode()
    name, point, snapshot, plugin = cur.fetchone()
    assert name == slot
    assert plugin == "test_decoding"
    assert lsn_int(point) > 0

    acur = admin.cursor()
    acur.execute("select slot_type, plugin from pg_replication_slots "
                 "where slot_name = %s", (slot,))
    assert acur.fetchone() == ("logical", "test_decoding")

    cur.drop_replication_slot(slot)
    acur.execute("select 1 from pg_replication_slots where slot_name = %s",
                 (slot,))
    assert acur.fetchone() is None


def test_create_physical_slot(pconn, admin, slot):
    cur = pconn.cursor()
    cur.create_replication_slot(slot)
    assert cur.fetchone()[0] == slot
    acur = admin.cursor()
    acur.execute("select slot_type from pg_replication_slots "
                 "where slot_name = %s", (slot,))
    assert acur.fetchone() == ("physical",)
    # a physical slot can also be created from a logical connection
    cur.drop_replication_slot(slot)


def test_create_slot_errors(lconn, pconn):
    cur = lconn.cursor()
    with pytest.raises(psycopg2.ProgrammingError, match="output plugin"):
        cur.create_replication_slot("x")
    with pytest.raises(psycopg2.ProgrammingError, match="physical"):
        cur.create_replication_slot(
            "x", slot_type=extras.REPLICATION_PHYSICAL, output_plugin="p")
    with pytest.raises(psycopg2.ProgrammingError, match="unrecognized"):
        cur.create_replication_slot("x", slot_type=42)
    with pytest.raises(psycopg2.ProgrammingError, match="plugin"):
        pconn.cursor().create_replication_slot("x", output_plugin="p")


def test_slot_already_exists(lconn, slot):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    with pytest.raises(psycopg2.errors.DuplicateObject):
        cur.create_replication_slot(slot, output_plugin="test_decoding")


def test_unknown_slot(lconn):
    cur = lconn.cursor()
    with pytest.raises(psycopg2.errors.UndefinedObject) as exc:
        cur.drop_replication_slot("psycopg2_no_such_slot")
    assert exc.value.pgcode == "42704"
    with pytest.raises(psycopg2.errors.UndefinedObject):
        cur.start_replication("psycopg2_no_such_slot")
    # the connection is still usable
    cur.execute("IDENTIFY_SYSTEM")
    assert cur.fetchone() is not None


def test_unknown_plugin(lconn, slot):
    with pytest.raises(psycopg2.errors.UndefinedFile):
        lconn.cursor().create_replication_slot(
            slot, output_plugin="psycopg2_no_such_plugin")


# ---------------------------------------------------------------------------
# start_replication arguments
# ---------------------------------------------------------------------------

def test_start_replication_argument_errors(lconn, pconn):
    cur = lconn.cursor()
    with pytest.raises(psycopg2.ProgrammingError, match="slot name"):
        cur.start_replication()
    with pytest.raises(psycopg2.ProgrammingError, match="timeline"):
        cur.start_replication("s", timeline=1)
    with pytest.raises(psycopg2.ProgrammingError, match="unrecognized"):
        cur.start_replication("s", slot_type=42)
    with pytest.raises(ValueError, match="invalid LSN"):
        cur.start_replication("s", start_lsn="foo")
    with pytest.raises(ValueError, match="invalid LSN"):
        cur.start_replication("s", start_lsn="1/2/3")
    with pytest.raises(ValueError):
        cur.start_replication("s", start_lsn=-1)
    with pytest.raises(TypeError):
        cur.start_replication("s", start_lsn=1.5)
    with pytest.raises(psycopg2.ProgrammingError, match="status_interval"):
        cur.start_replication("s", status_interval=0.5)
    pcur = pconn.cursor()
    with pytest.raises(psycopg2.ProgrammingError, match="options"):
        pcur.start_replication(options={"a": 1})
    # nothing started: the connections still run commands
    cur.execute("IDENTIFY_SYSTEM")
    pcur.execute("IDENTIFY_SYSTEM")


def test_start_replication_expert_arguments(lconn):
    cur = lconn.cursor()
    with pytest.raises(TypeError, match="string"):
        cur.start_replication_expert(42)
    with pytest.raises(ValueError, match="NUL"):
        cur.start_replication_expert("START_REPLICATION\0")
    with pytest.raises(psycopg2.ProgrammingError, match="status_interval"):
        cur.start_replication_expert("IDENTIFY_SYSTEM", status_interval=0)


@pytest.mark.parametrize("make", [
    lambda s: 'START_REPLICATION SLOT "%s" LOGICAL 0/0' % s,
    lambda s: ('START_REPLICATION SLOT "%s" LOGICAL 0/0' % s).encode(),
    lambda s: sql.SQL("START_REPLICATION SLOT {} LOGICAL 0/0").format(
        sql.Identifier(s)),
])
def test_start_replication_expert_commands(lconn, admin, slot, table, make):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication_expert(make(slot), decode=True)
    assert cur.description is None
    assert cur.rowcount == -1
    admin.cursor().execute("insert into %s values (1, 'x')" % table)
    msgs = collect_until(cur, lambda m: "INSERT" in m.payload)
    assert "table public.%s: INSERT" % table in msgs[-1].payload


# ---------------------------------------------------------------------------
# Logical streams
# ---------------------------------------------------------------------------

def test_consume_stream_decoded(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN, decode=True)
    assert isinstance(cur.io_timestamp, datetime.datetime)

    acur = admin.cursor()
    acur.execute("insert into %s values (1, 'a'), (2, 'b')" % table)
    acur.execute("update %s set data = 'c' where id = 2" % table)

    msgs = collect_until(cur, lambda m: "UPDATE" in m.payload)
    payloads = [m.payload for m in msgs]
    assert payloads == [
        "BEGIN",
        "table public.%s: INSERT: id[integer]:1 data[text]:'a'" % table,
        "table public.%s: INSERT: id[integer]:2 data[text]:'b'" % table,
        "COMMIT",
        "BEGIN",
        "table public.%s: UPDATE: id[integer]:2 data[text]:'c'" % table,
    ]
    for m in msgs:
        assert isinstance(m, extras.ReplicationMessage)
        assert isinstance(m.payload, str)
        assert m.data_size == len(m.payload.encode())
        if "INSERT" in m.payload or "UPDATE" in m.payload:
            assert m.data_start > 0
        assert m.cursor is cur
        assert isinstance(m.send_time, datetime.datetime)
        assert m.send_time.year >= 2000
    assert cur.wal_end > 0
    assert isinstance(cur.feedback_timestamp, datetime.datetime)


def test_consume_stream_bytes(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN)
    admin.cursor().execute("insert into %s values (1, 'caf\u00e9')" % table)
    msgs = collect_until(cur, is_commit)
    assert [m.payload for m in msgs] == [
        b"BEGIN",
        ("table public.%s: INSERT: id[integer]:1 data[text]:'caf\u00e9'"
         % table).encode(),
        b"COMMIT",
    ]
    assert msgs[1].data_size == len(msgs[1].payload)


def test_stop_and_resume(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN, decode=True)
    admin.cursor().execute("insert into %s values (1, 'a'), (2, 'b')"
                           % table)
    first = collect_until(cur, lambda m: "INSERT" in m.payload)
    assert first[-1].payload.endswith("'a'")
    # the stream goes on where it stopped
    second = collect_until(cur, lambda m: "INSERT" in m.payload)
    assert second == [second[0]]
    assert second[0].payload.endswith("'b'")


def test_start_lsn(repl_dsn, admin, slot, table):
    conn = psycopg2.connect(repl_dsn,
                            connection_factory=LogicalReplicationConnection)
    cur = conn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    point = cur.fetchone()[1]
    conn.close()
    admin.cursor().execute("insert into %s values (1, 'old')" % table)
    # nothing is confirmed: each stream from the slot's point sends it
    for start in (point, lsn_int(point)):
        wait_slot_inactive(admin, slot)
        conn = psycopg2.connect(
            repl_dsn, connection_factory=LogicalReplicationConnection)
        try:
            cur = conn.cursor()
            cur.start_replication(slot, options=PLAIN, decode=True,
                                  start_lsn=start)
            msgs = collect_until(cur, lambda m: "INSERT" in m.payload)
            assert msgs[-1].payload.endswith("'old'")
        finally:
            conn.close()


def test_options_quoting(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, decode=True, options={
        "include-xids": False, "skip-empty-xacts": 1,
        "include-timestamp": "off"})
    admin.cursor().execute("insert into %s values (1, 'x')" % table)
    msgs = collect_until(cur, is_commit)
    assert [m.payload for m in msgs][::2] == ["BEGIN", "COMMIT"]


def test_bad_plugin_option(lconn, slot):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    # the plugin rejects it when the stream starts
    with pytest.raises(psycopg2.errors.InvalidParameterValue):
        cur.start_replication(slot, options={"no-such-option": "1"})


def test_consume_stream_requires_start(lconn):
    cur = lconn.cursor()
    with pytest.raises(psycopg2.ProgrammingError, match="not replicating"):
        cur.consume_stream(lambda msg: None)
    with pytest.raises(psycopg2.ProgrammingError,
                       match="keepalive_interval"):
        cur.consume_stream(lambda msg: None, keepalive_interval=0.5)


def test_consume_stream_not_callable(lconn, slot):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot)
    with pytest.raises(TypeError, match="callable"):
        cur.consume_stream(42)


def test_consumer_error_propagates(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN)
    admin.cursor().execute("insert into %s values (1, 'a')" % table)

    def consume(msg):
        raise ZeroDivisionError("in consume")

    with pytest.raises(ZeroDivisionError, match="in consume"):
        cur.consume_stream(consume)


def test_consume_stream_not_reentrant(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN)
    admin.cursor().execute("insert into %s values (1, 'a')" % table)

    def consume(msg):
        cur.consume_stream(consume)

    with pytest.raises(psycopg2.ProgrammingError, match="consume loop"):
        cur.consume_stream(consume)


def test_commands_refused_while_streaming(lconn, slot):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot)
    with pytest.raises(psycopg2.OperationalError, match="COPY BOTH"):
        lconn.cursor().execute("IDENTIFY_SYSTEM")
    with pytest.raises(psycopg2.OperationalError, match="COPY BOTH"):
        cur.start_replication(slot)


def test_read_message_sync(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN, decode=True)
    admin.cursor().execute("insert into %s values (1, 'a')" % table)
    payloads = []
    while len(payloads) < 3:
        msg = cur.read_message()
        if msg is None:
            select.select([cur], [], [], 10)
        else:
            payloads.append(msg.payload)
    assert payloads[0] == "BEGIN" and payloads[2] == "COMMIT"
    assert cur.fileno() == lconn.fileno()


def test_read_message_requires_start(lconn):
    with pytest.raises(psycopg2.ProgrammingError, match="not replicating"):
        lconn.cursor().read_message()


def test_async_read_message(repl_dsn, admin, slot, table):
    conn = psycopg2.connect(repl_dsn, async_=True,
                            connection_factory=LogicalReplicationConnection)
    try:
        assert conn.async_ == 1
        wait(conn)
        cur = conn.cursor()
        cur.create_replication_slot(slot, output_plugin="test_decoding")
        wait(conn)
        assert cur.fetchone()[0] == slot

        cur.start_replication(slot, options=PLAIN, decode=True)
        assert conn.isexecuting()
        with pytest.raises(psycopg2.ProgrammingError):
            cur.read_message()      # the start is not complete
        wait(conn)
        assert not conn.isexecuting()
        with pytest.raises(psycopg2.ProgrammingError, match="asynchronous"):
            cur.consume_stream(lambda msg: None)
        assert cur.read_message() is None

        admin.cursor().execute("insert into %s values (1, 'a'), (2, 'b')"
                               % table)
        payloads = []
        while len(payloads) < 4:
            msg = cur.read_message()
            if msg is None:
                ready = select.select([cur], [], [], 10)[0]
                assert ready, "no message from the server"
                continue
            payloads.append(msg.payload)
            cur.send_feedback(flush_lsn=msg.data_start)
        assert payloads[0] == "BEGIN"
        assert payloads[3] == "COMMIT"
        assert "'b'" in payloads[2]
    finally:
        conn.close()


def test_async_start_error(repl_dsn):
    conn = psycopg2.connect(repl_dsn, async_=True,
                            connection_factory=LogicalReplicationConnection)
    try:
        wait(conn)
        cur = conn.cursor()
        cur.start_replication("psycopg2_no_such_slot")
        with pytest.raises(psycopg2.errors.UndefinedObject):
            wait(conn)
        assert not conn.isexecuting()
        # the connection is usable again
        cur.execute("IDENTIFY_SYSTEM")
        wait(conn)
        assert cur.fetchone() is not None
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Feedback and keepalives
# ---------------------------------------------------------------------------

def slot_confirmed_flush(admin, slot):
    cur = admin.cursor()
    cur.execute("select confirmed_flush_lsn::text from pg_replication_slots"
                " where slot_name = %s", (slot,))
    return lsn_int(cur.fetchone()[0])


def test_send_feedback_advances_slot(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN, decode=True)
    before = slot_confirmed_flush(admin, slot)
    admin.cursor().execute("insert into %s values (1, 'a')" % table)
    msgs = collect_until(cur, is_commit)
    target = msgs[-1].data_start
    assert target > before

    sent = cur.feedback_timestamp
    cur.send_feedback(flush_lsn=target, force=True)
    assert cur.feedback_timestamp >= sent
    # the walsender applies the status update when it reads it
    deadline = time.monotonic() + 30
    while slot_confirmed_flush(admin, slot) < target:
        assert time.monotonic() < deadline, "the slot didn't move"
        time.sleep(0.05)
    assert slot_confirmed_flush(admin, slot) >= target


def test_send_feedback_arguments(lconn, slot):
    cur = lconn.cursor()
    # before starting it only records the positions
    cur.send_feedback(write_lsn=1, flush_lsn=1, apply_lsn=1)
    cur.send_feedback()
    with pytest.raises(TypeError, match="write_lsn"):
        cur.send_feedback(write_lsn="0/0")
    with pytest.raises(ValueError, match="flush_lsn"):
        cur.send_feedback(flush_lsn=-1)
    with pytest.raises(ValueError, match="apply_lsn"):
        cur.send_feedback(apply_lsn=1 << 64)
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot)
    cur.send_feedback(reply=True)
    cur.send_feedback(write_lsn=0, flush_lsn=0, apply_lsn=0, force=True)


def test_keepalive_replies(repl_dsn, admin, slot, table):
    # The server drops a walsender that doesn't answer its keepalives
    # within wal_sender_timeout: with a status interval much longer, the
    # stream survives only if the client replies when asked.
    conn = psycopg2.connect(
        repl_dsn + " options='-c wal_sender_timeout=2000'",
        connection_factory=LogicalReplicationConnection)
    try:
        cur = conn.cursor()
        cur.create_replication_slot(slot, output_plugin="test_decoding")
        cur.start_replication(slot, options=PLAIN, decode=True,
                              status_interval=60)

        def insert_later():
            time.sleep(5)   # longer than wal_sender_timeout
            other = psycopg2.connect(repl_dsn)
            other.autocommit = True
            other.cursor().execute("insert into %s values (1, 'late')"
                                   % table)
            other.close()

        # the thread runs while consume_stream waits: the GIL is released
        th = threading.Thread(target=insert_later)
        th.start()
        try:
            msgs = collect_until(cur, lambda m: "INSERT" in m.payload)
        finally:
            th.join()
        assert msgs[-1].payload.endswith("'late'")
        assert cur.feedback_timestamp > datetime.datetime(2000, 1, 1)
    finally:
        conn.close()


def test_signal_interrupts_consume(lconn, slot):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN)

    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted()

    old = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        with pytest.raises(Interrupted):
            cur.consume_stream(lambda msg: None)
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, old)


def test_server_terminates_stream(lconn, admin, slot):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot)
    admin.cursor().execute("select pg_terminate_backend(%s)",
                           (lconn.get_backend_pid(),))
    with pytest.raises(psycopg2.OperationalError):
        cur.consume_stream(lambda msg: None)
    assert lconn.closed


def test_server_shutdown_during_stream(pgserver):
    if pgserver is None:
        pytest.skip("needs its own server")
    from pgserver import PgServer
    srv = PgServer(settings={"wal_level": "logical", "max_wal_senders": "2",
                             "max_replication_slots": "2"})
    try:
        srv.initdb()
        with open(os.path.join(srv.datadir, "pg_hba.conf"), "a") as f:
            f.write("host replication all 127.0.0.1/32 trust\n")
        srv.start()
        conn = psycopg2.connect(
            "host=%s port=%s user=%s dbname=postgres"
            % (srv.host, srv.port, srv.user),
            connection_factory=LogicalReplicationConnection)
        cur = conn.cursor()
        cur.create_replication_slot("s", output_plugin="test_decoding")
        cur.start_replication("s")
        stopper = threading.Timer(0.5, srv.stop)
        stopper.start()
        try:
            # the stream fails (no hang) when the server goes away
            with pytest.raises(psycopg2.OperationalError):
                cur.consume_stream(lambda msg: None)
        finally:
            stopper.join()
        assert conn.closed == 2
        conn.close()
    finally:
        srv.cleanup()


# ---------------------------------------------------------------------------
# Physical streams
# ---------------------------------------------------------------------------

def test_physical_slot_stream(pconn, admin, slot, table):
    cur = pconn.cursor()
    cur.create_replication_slot(slot)
    start = current_lsn(admin)
    cur.start_replication(slot, start_lsn=start)
    admin.cursor().execute("insert into %s values (1, 'wal')" % table)
    msgs = collect_until(cur, lambda m: True)
    msg = msgs[0]
    assert isinstance(msg.payload, bytes)
    assert msg.data_size == len(msg.payload) > 0
    assert msg.data_start >= lsn_int(start)
    assert msg.wal_end >= msg.data_start
    assert cur.wal_end >= msg.data_start


def test_physical_without_slot(pconn, admin, table):
    cur = pconn.cursor()
    cur.start_replication(start_lsn=lsn_int(current_lsn(admin)))
    admin.cursor().execute("insert into %s values (1, 'wal')" % table)
    msgs = collect_until(cur, lambda m: True)
    assert msgs[0].data_size > 0


def test_physical_timeline(pconn, admin, table):
    cur = pconn.cursor()
    cur.execute("IDENTIFY_SYSTEM")
    timeline = cur.fetchone()[1]
    cur.start_replication(start_lsn=current_lsn(admin), timeline=timeline)
    admin.cursor().execute("insert into %s values (1, 'wal')" % table)
    assert collect_until(cur, lambda m: True)[0].data_size > 0


def test_logical_on_physical_connection(pconn, lconn, slot):
    # logical decoding needs a database connection
    with pytest.raises(psycopg2.errors.ObjectNotInPrerequisiteState):
        pconn.cursor().create_replication_slot(
            slot, slot_type=extras.REPLICATION_LOGICAL,
            output_plugin="test_decoding")
    lconn.cursor().create_replication_slot(slot,
                                           output_plugin="test_decoding")
    with pytest.raises(psycopg2.errors.ObjectNotInPrerequisiteState):
        pconn.cursor().start_replication(
            slot, slot_type=extras.REPLICATION_LOGICAL)


def test_physical_on_logical_connection(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, slot_type=extras.REPLICATION_PHYSICAL)
    cur.start_replication(slot, slot_type=extras.REPLICATION_PHYSICAL,
                          start_lsn=current_lsn(admin))
    admin.cursor().execute("insert into %s values (1, 'wal')" % table)
    assert isinstance(collect_until(cur, lambda m: True)[0].payload, bytes)


# ---------------------------------------------------------------------------
# Plain connections
# ---------------------------------------------------------------------------

def test_replication_commands_on_plain_connection(conn):
    assert not hasattr(conn.cursor(), "start_replication_expert")
    with pytest.raises(psycopg2.errors.SyntaxError):
        conn.cursor().execute("IDENTIFY_SYSTEM")
    conn.rollback()
    cur = extras.ReplicationCursor(conn)
    with pytest.raises(psycopg2.errors.SyntaxError):
        cur.start_replication_expert("START_REPLICATION 0/0")
    conn.rollback()
    with pytest.raises(psycopg2.ProgrammingError, match="not replicating"):
        cur.read_message()
    with pytest.raises(AttributeError):
        cur.create_replication_slot("x", output_plugin="test_decoding")


def test_closed_cursor(lconn):
    cur = lconn.cursor()
    cur.close()
    with pytest.raises(psycopg2.InterfaceError):
        cur.start_replication_expert("IDENTIFY_SYSTEM")
    with pytest.raises(psycopg2.InterfaceError):
        cur.consume_stream(lambda msg: None)
    with pytest.raises(psycopg2.InterfaceError):
        cur.read_message()
    with pytest.raises(psycopg2.InterfaceError):
        cur.send_feedback()


# ---------------------------------------------------------------------------
# ReplicationMessage
# ---------------------------------------------------------------------------

def test_message_type(lconn):
    cur = lconn.cursor()
    msg = extras.ReplicationMessage(cur, b"data")
    assert msg.cursor is cur
    assert msg.payload == b"data"
    assert (msg.data_size, msg.data_start, msg.wal_end) == (0, 0, 0)
    assert msg.send_time == datetime.datetime.fromtimestamp(946684800)
    assert repr(msg).startswith("<ReplicationMessage object at ")
    assert "data_start: 0/0" in repr(msg)
    for name in ("payload", "cursor", "data_size", "data_start", "wal_end",
                 "send_time"):
        with pytest.raises(AttributeError):
            setattr(msg, name, 1)
    with pytest.raises(TypeError):
        extras.ReplicationMessage()
    with pytest.raises(TypeError, match="cursor"):
        extras.ReplicationMessage(42, b"x")
    with pytest.raises(TypeError):
        extras.ReplicationMessage(cur, b"x", extra=1)


def test_cursor_initial_state(lconn):
    cur = lconn.cursor()
    epoch = datetime.datetime.fromtimestamp(0)
    assert cur.io_timestamp == epoch
    assert cur.feedback_timestamp == epoch
    assert cur.wal_end == 0
    assert repr(cur).startswith("<ReplicationCursor object at ")


# ---------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------

MESSAGES = 5000
PY_SLACK = 64 * 1024
RSS_SLACK = 512 * 1024


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def stream_growths(cur, admin, table, measure):
    """Consume MESSAGES messages from the started cursor three times
    (warm-up, two measured phases); the growths of measure() over the
    measured phases."""
    acur = admin.cursor()
    state = {"next": 0, "count": 0, "last": 0}

    def consume(msg):
        state["count"] += 1
        state["last"] = msg.data_start
        msg.cursor.send_feedback(flush_lsn=msg.data_start)
        if state["count"] >= MESSAGES:
            raise StopReplication()

    def phase():
        # BEGIN + inserts + COMMIT: slightly more messages than consumed
        acur.execute(
            "insert into %s select i, 'row ' || i "
            "from generate_series(%%s, %%s) as i" % table,
            (state["next"], state["next"] + MESSAGES - 1))
        state["next"] += MESSAGES
        state["count"] = 0
        try:
            cur.consume_stream(consume)
        except StopReplication:
            pass
        gc.collect()
        return measure()

    phase()
    m0 = measure()
    m1 = phase()
    m2 = phase()
    return m1 - m0, m2 - m1


def test_memory_python_flat(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN, decode=True)
    tracemalloc.start()
    try:
        g1, g2 = stream_growths(
            cur, admin, table, lambda: tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert min(g1, g2) < PY_SLACK, (g1, g2)


def test_memory_rss_flat(lconn, admin, slot, table):
    cur = lconn.cursor()
    cur.create_replication_slot(slot, output_plugin="test_decoding")
    cur.start_replication(slot, options=PLAIN)
    g1, g2 = stream_growths(cur, admin, table, rss)
    assert min(g1, g2) < RSS_SLACK, (g1, g2)


# ---------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------

def test_doc_page_examples(repl_dsn, admin):
    path = os.path.join(os.path.dirname(__file__), "..", "doc",
                        "replication.rst")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    test = doctest.DocTestParser().get_doctest(
        text, {"dsn": repl_dsn}, "replication.rst", path, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    assert runner.tries > 20
