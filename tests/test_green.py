"""Green mode: a wait callback set with extensions.set_wait_callback().

With a callback set, every blocking operation of a synchronous connection
runs in non-blocking mode and the callback waits for the socket: this is how
coroutine libraries (gevent, eventlet) integrate with psycopg2.
"""

import io
import os
import select
import signal
import threading
import time

import pytest

import psycopg2
import psycopg2.errors
import psycopg2.extensions as ext
import psycopg2.extras
from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE


def poll_wait(conn):
    """A wait callback in the style of gevent's, built on select.poll()."""
    poller = select.poll()
    fd = conn.fileno()
    while True:
        state = conn.poll()
        if state == POLL_OK:
            return
        if state == POLL_READ:
            poller.register(fd, select.POLLIN)
        elif state == POLL_WRITE:
            poller.register(fd, select.POLLOUT)
        else:
            raise conn.OperationalError("bad state from poll: %s" % state)
        poller.poll()


class CountingWait:
    """A wait callback recording the connections it waited for."""

    def __init__(self, wait=psycopg2.extras.wait_select):
        self.wait = wait
        self.calls = []

    def __call__(self, conn):
        self.calls.append(conn)
        self.wait(conn)


@pytest.fixture
def green(dsn):
    """Set extras.wait_select as wait callback; yield a connection."""
    ext.set_wait_callback(psycopg2.extras.wait_select)
    conn = psycopg2.connect(dsn)
    yield conn
    conn.close()
    ext.set_wait_callback(None)


def backend_is_running(dsn, pid, timeout=30.0):
    """Wait until backend `pid` is running a query (from another
    connection); return True if it was seen running."""
    watcher = psycopg2.connect(dsn)
    try:
        watcher.autocommit = True
        cur = watcher.cursor()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cur.execute("select state, wait_event from pg_stat_activity "
                        "where pid = %s", (pid,))
            row = cur.fetchone()
            if row and row[0] == "active" and row[1] == "PgSleep":
                return True
            time.sleep(0.02)
        return False
    finally:
        watcher.close()


# -- the callback registry ---------------------------------------------------

def test_no_callback_by_default():
    assert ext.get_wait_callback() is None


def test_set_get_and_clear():
    ext.set_wait_callback(psycopg2.extras.wait_select)
    assert ext.get_wait_callback() is psycopg2.extras.wait_select
    ext.set_wait_callback(poll_wait)
    assert ext.get_wait_callback() is poll_wait
    ext.set_wait_callback(None)
    assert ext.get_wait_callback() is None


def test_cleared_callback_is_not_called(dsn):
    counter = CountingWait()
    ext.set_wait_callback(counter)
    ext.set_wait_callback(None)
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
        assert counter.calls == []
    finally:
        conn.close()


# -- queries -----------------------------------------------------------------

def test_queries(green):
    assert green.async_ == 0
    assert not green.isexecuting()
    cur = green.cursor()
    cur.execute("select %s, %s", (1, "a"))
    assert cur.fetchone() == (1, "a")
    cur.execute("select generate_series(1, 3)")
    assert cur.fetchall() == [(1,), (2,), (3,)]
    assert cur.rowcount == 3
    assert green.get_transaction_status() == ext.TRANSACTION_STATUS_INTRANS
    green.commit()
    assert green.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_callback_is_called_for_connect_and_queries(dsn):
    counter = CountingWait()
    ext.set_wait_callback(counter)
    conn = psycopg2.connect(dsn)
    try:
        assert counter.calls and counter.calls[0] is conn
        del counter.calls[:]
        cur = conn.cursor()
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
        assert counter.calls and all(c is conn for c in counter.calls)
        del counter.calls[:]
        conn.commit()
        assert counter.calls == [conn]
    finally:
        conn.close()


def test_callback_applies_to_existing_connections(conn):
    # the callback is looked up at each operation, not at connect time
    counter = CountingWait()
    ext.set_wait_callback(counter)
    cur = conn.cursor()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)
    assert counter.calls and counter.calls[0] is conn


def test_transactions_and_session(green):
    # unlike asynchronous connections, green ones keep the transaction API
    cur = green.cursor()
    cur.execute("create temp table green_tx (a int)")
    green.commit()
    cur.execute("insert into green_tx values (1)")
    green.rollback()
    cur.execute("select count(*) from green_tx")
    assert cur.fetchone() == (0,)
    green.rollback()
    green.set_session(readonly=True)
    cur.execute("show transaction_read_only")
    assert cur.fetchone() == ("on",)
    green.rollback()
    green.set_session(readonly=False)
    green.autocommit = True
    cur.execute("select 1")
    assert green.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_executemany_and_execute_values(green):
    cur = green.cursor()
    cur.execute("create temp table green_many (a int, b text)")
    cur.executemany("insert into green_many values (%s, %s)",
                    [(1, "a"), (2, "b")])
    psycopg2.extras.execute_values(
        cur, "insert into green_many values %s", [(3, "c"), (4, "d")])
    cur.execute("select * from green_many order by a")
    assert cur.fetchall() == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]


def test_errors(green):
    cur = green.cursor()
    with pytest.raises(psycopg2.errors.DivisionByZero,
                       match="division by zero"):
        cur.execute("select 1/0")
    assert green.get_transaction_status() == ext.TRANSACTION_STATUS_INERROR
    with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
        cur.execute("select 1")
    green.rollback()
    cur.execute("select 2")
    assert cur.fetchone() == (2,)


def test_connection_errors(dsn):
    ext.set_wait_callback(psycopg2.extras.wait_select)
    with pytest.raises(psycopg2.OperationalError,
                       match='database "no_such_db" does not exist'):
        psycopg2.connect(dsn + " dbname=no_such_db")
    with pytest.raises(psycopg2.OperationalError,
                       match="Connection refused"):
        psycopg2.connect("host=127.0.0.1 port=1")


def test_named_cursors(green):
    cur = green.cursor("green_named")
    cur.itersize = 2
    cur.execute("select generate_series(1, 5)")
    assert list(cur) == [(1,), (2,), (3,), (4,), (5,)]
    cur.close()
    cur = green.cursor("green_scroll", scrollable=True)
    cur.execute("select generate_series(1, 3)")
    cur.scroll(2)
    assert cur.fetchall() == [(3,)]
    cur.scroll(0, "absolute")
    assert cur.fetchone() == (1,)
    cur.close()
    cur = green.cursor("green_hold", withhold=True)
    cur.execute("select generate_series(1, 3)")
    green.commit()
    assert cur.fetchall() == [(1,), (2,), (3,)]
    cur.close()


@pytest.mark.parametrize("method, args", [
    ("copy_expert", ("copy (select 1) to stdout", io.StringIO())),
    ("copy_from", (io.StringIO("1\n"), "green_copy")),
    ("copy_to", (io.StringIO(), "green_copy")),
])
def test_copy_is_refused(green, method, args):
    # COPY needs blocking calls: psycopg2 refuses it in green mode
    cur = green.cursor()
    cur.execute("create temp table green_copy (a int)")
    with pytest.raises(psycopg2.ProgrammingError,
                       match="%s cannot be used with an asynchronous "
                             "callback." % method):
        getattr(cur, method)(*args)
    cur.execute("select count(*) from green_copy")
    assert cur.fetchone() == (0,)


def test_copy_works_again_without_callback(green):
    cur = green.cursor()
    ext.set_wait_callback(None)
    out = io.StringIO()
    cur.copy_expert("copy (select generate_series(1, 2)) to stdout", out)
    assert out.getvalue() == "1\n2\n"


def test_lobject_is_refused(green):
    with pytest.raises(psycopg2.ProgrammingError,
                       match="lobject cannot be used with an asynchronous "
                             "callback."):
        green.lobject()


def test_notifies_arrive_with_queries(dsn, green):
    green.autocommit = True
    cur = green.cursor()
    cur.execute("listen green_chan")
    sender = psycopg2.connect(dsn)
    try:
        sender.autocommit = True
        sender.cursor().execute("notify green_chan, 'hi'")
        pid = sender.info.backend_pid
    finally:
        sender.close()
    cur.execute("select 1")
    assert green.notifies == [(pid, "green_chan")]
    assert green.notifies[0].payload == "hi"


def test_notices(green):
    cur = green.cursor()
    cur.execute("do $$begin raise notice 'green notice'; end$$")
    assert green.notices == ["NOTICE:  green notice\n"]


# -- custom callbacks --------------------------------------------------------

def test_poll_based_callback(dsn):
    counter = CountingWait(poll_wait)
    ext.set_wait_callback(counter)
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("select pg_sleep(0.05), 'ok'")
        assert cur.fetchone() == ("", "ok")
        with pytest.raises(psycopg2.errors.UndefinedTable):
            cur.execute("select * from green_no_such_table")
        conn.rollback()
        cur = conn.cursor("poll_named")
        cur.execute("select generate_series(1, 3)")
        assert cur.fetchall() == [(1,), (2,), (3,)]
        conn.commit()
        assert len(counter.calls) >= 5
    finally:
        conn.close()


def test_failing_callback_closes_the_connection(dsn):
    def broken(conn):
        raise ZeroDivisionError("callback failed")

    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        ext.set_wait_callback(broken)
        with pytest.raises(ZeroDivisionError, match="callback failed"):
            cur.execute("select 1")
        # psycopg2 closes a connection left in an unknown state
        assert conn.closed == 2
        ext.set_wait_callback(None)
        with pytest.raises(psycopg2.InterfaceError):
            cur.execute("select 1")
    finally:
        conn.close()
    ext.set_wait_callback(broken)
    with pytest.raises(ZeroDivisionError, match="callback failed"):
        psycopg2.connect(dsn)


def test_threads_wait_concurrently(dsn):
    """A connection waiting for a lock doesn't stop other threads' queries.

    The main thread holds an advisory lock that a thread's green query
    waits for: the main thread's own green queries still run, then it
    releases the lock and the thread's query completes.
    """
    ext.set_wait_callback(poll_wait)
    holder = psycopg2.connect(dsn)
    holder.autocommit = True
    results, errors = [], []

    def blocked():
        try:
            conn = psycopg2.connect(dsn)
            try:
                cur = conn.cursor()
                cur.execute("select pg_advisory_lock(4242), 'done'")
                results.append(cur.fetchone()[1])
            finally:
                conn.close()
        except Exception as e:
            errors.append(e)

    try:
        cur = holder.cursor()
        cur.execute("select pg_advisory_lock(4242)")
        thread = threading.Thread(target=blocked)
        thread.start()
        deadline = time.monotonic() + 30
        waiting = 0
        while not waiting and time.monotonic() < deadline:
            cur.execute("select count(*) from pg_locks where locktype = "
                        "'advisory' and objid = 4242 and not granted")
            waiting = cur.fetchone()[0]
        assert waiting == 1
        assert results == []
        cur.execute("select pg_advisory_unlock(4242)")
        thread.join(30)
        assert not thread.is_alive()
        assert errors == []
        assert results == ["done"]
    finally:
        holder.close()


# -- KeyboardInterrupt -------------------------------------------------------

def interrupt_when_sleeping(dsn, pid):
    """Start a thread sending SIGINT to this process once backend `pid`
    is in pg_sleep: the main thread then gets a KeyboardInterrupt while
    wait_select() is waiting."""
    def run():
        if backend_is_running(dsn, pid):
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture
def sigint_raises():
    """Make sure SIGINT raises KeyboardInterrupt during the test."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


@pytest.mark.parametrize("autocommit", [False, True])
def test_keyboard_interrupt_cancels_the_query(dsn, green, sigint_raises,
                                              autocommit):
    green.autocommit = autocommit
    cur = green.cursor()
    thread = interrupt_when_sleeping(dsn, green.info.backend_pid)
    try:
        with pytest.raises(ext.QueryCanceledError,
                           match="canceling statement due to user request"):
            cur.execute("select pg_sleep(30)")
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped wait_select()")
    finally:
        thread.join()
    # the connection stays usable
    assert not green.closed
    if not autocommit:
        assert green.get_transaction_status() == \
            ext.TRANSACTION_STATUS_INERROR
        green.rollback()
    cur.execute("select 42")
    assert cur.fetchone() == (42,)


def test_keyboard_interrupt_error_class(dsn, green, sigint_raises):
    cur = green.cursor()
    thread = interrupt_when_sleeping(dsn, green.info.backend_pid)
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled) as exc:
            cur.execute("select pg_sleep(30)")
    finally:
        thread.join()
    assert exc.value.pgcode == "57014"
    assert isinstance(exc.value, psycopg2.OperationalError)
