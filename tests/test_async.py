"""Asynchronous connections: connect(async_=True) driven by poll()."""

import gc
import io
import select
import time

import pytest

import psycopg2
import psycopg2.errors
import psycopg2.extensions as ext
import psycopg2.extras

STATES = (ext.POLL_OK, ext.POLL_READ, ext.POLL_WRITE)


def wait(conn, timeout=30.0):
    """Drive conn.poll() with select() until POLL_OK; return the states.

    The timeout only keeps a broken driver from hanging the test run.
    """
    states = []
    while True:
        state = conn.poll()
        states.append(state)
        if state == ext.POLL_OK:
            return states
        if state == ext.POLL_READ:
            ready = select.select([conn.fileno()], [], [], timeout)[0]
        elif state == ext.POLL_WRITE:
            ready = select.select([], [conn.fileno()], [], timeout)[1]
        else:
            raise AssertionError("unexpected poll() state %r" % state)
        assert ready, "the connection did not become ready"


@pytest.fixture
def aconn(dsn):
    """An asynchronous connection, already connected."""
    conn = psycopg2.connect(dsn, async_=True)
    wait(conn)
    yield conn
    conn.close()


# -- connecting ---------------------------------------------------------------

def test_connect_poll_loop(dsn):
    conn = psycopg2.connect(dsn, async_=True)
    try:
        assert conn.async_ == 1
        assert conn.isexecuting()
        assert conn.status == ext.STATUS_SETUP
        states = wait(conn)
        assert states[0] in (ext.POLL_READ, ext.POLL_WRITE)
        assert set(states) <= set(STATES)
        assert not conn.isexecuting()
        assert conn.status == ext.STATUS_READY
        assert conn.closed == 0
        assert conn.server_version >= 90000
        assert conn.encoding == "UTF8"
        # polling an idle connection is harmless
        assert conn.poll() == ext.POLL_OK
        assert conn.poll() == ext.POLL_OK
    finally:
        conn.close()


def test_async_keyword_alias(dsn):
    conn = psycopg2.connect(dsn, **{"async": True})
    try:
        wait(conn)
        assert conn.async_ == 1
        assert getattr(conn, "async") == 1
    finally:
        conn.close()


def test_sync_connection_attributes(conn):
    assert conn.async_ == 0
    assert getattr(conn, "async") == 0
    assert not conn.isexecuting()
    # poll() on a synchronous connection just answers POLL_OK
    assert conn.poll() == ext.POLL_OK
    conn.cursor().execute("select 1")
    assert conn.poll() == ext.POLL_OK


def test_async_attributes(aconn):
    assert getattr(aconn, "async") == 1
    assert aconn.autocommit is True
    assert aconn.isolation_level is None
    assert isinstance(aconn.fileno(), int) and aconn.fileno() >= 0
    assert aconn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_cursor_before_connection_is_ready(dsn):
    conn = psycopg2.connect(dsn, async_=True)
    try:
        with pytest.raises(psycopg2.OperationalError,
                           match="asynchronous connection attempt underway"):
            conn.cursor()
        wait(conn)
        assert conn.cursor() is not None
    finally:
        conn.close()


def test_connection_refused_is_raised_by_poll():
    # connect() itself returns: the failure surfaces when polling
    conn = psycopg2.connect("host=127.0.0.1 port=1 connect_timeout=5",
                            async_=True)
    try:
        with pytest.raises(psycopg2.OperationalError,
                           match="Connection refused"):
            wait(conn)
    finally:
        conn.close()


def test_missing_database_is_raised_by_poll(dsn):
    conn = psycopg2.connect(dsn + " dbname=no_such_db", async_=True)
    try:
        with pytest.raises(psycopg2.OperationalError,
                           match='database "no_such_db" does not exist'):
            wait(conn)
    finally:
        conn.close()


def test_connection_factory(dsn):
    conn = psycopg2.connect(dsn, async_=True,
                            connection_factory=psycopg2.extras.DictConnection)
    try:
        wait(conn)
        assert isinstance(conn, psycopg2.extras.DictConnection)
        cur = conn.cursor()
        cur.execute("select 1 as a")
        wait(conn)
        assert cur.fetchone()["a"] == 1
    finally:
        conn.close()


# -- queries ------------------------------------------------------------------

def test_execute_then_poll(aconn):
    cur = aconn.cursor()
    assert cur.execute("select pg_sleep(0.1), 42") is None
    assert aconn.isexecuting()
    assert aconn.get_transaction_status() == ext.TRANSACTION_STATUS_ACTIVE
    wait(aconn)
    assert not aconn.isexecuting()
    assert cur.fetchone() == ("", 42)
    assert cur.rowcount == 1
    assert [d.name for d in cur.description] == ["pg_sleep", "?column?"]
    assert aconn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_fetch_many_rows(aconn):
    cur = aconn.cursor()
    cur.execute("select generate_series(1, 5)")
    wait(aconn)
    assert cur.rowcount == 5
    assert cur.statusmessage == "SELECT 5"
    assert cur.fetchmany(2) == [(1,), (2,)]
    assert cur.fetchall() == [(3,), (4,), (5,)]


def test_parameters_and_query(aconn):
    cur = aconn.cursor()
    cur.execute("select %s, %s", (1, "a"))
    assert cur.query == b"select 1, 'a'"
    wait(aconn)
    assert cur.fetchone() == (1, "a")
    # an argument error is raised by execute() and starts nothing
    with pytest.raises(IndexError):
        cur.execute("select %s", ())
    assert not aconn.isexecuting()


def test_data_changes_are_autocommitted(aconn, conn):
    cur = aconn.cursor()
    cur.execute("drop table if exists test_async_ins")
    wait(aconn)
    cur.execute("create table test_async_ins (a int)")
    wait(aconn)
    try:
        cur.execute("insert into test_async_ins "
                    "select generate_series(1, 4)")
        wait(aconn)
        assert cur.rowcount == 4
        assert cur.statusmessage == "INSERT 0 4"
        assert cur.description is None
        # visible at once from another connection: no transaction is open
        other = conn.cursor()
        other.execute("select count(*) from test_async_ins")
        assert other.fetchone() == (4,)
        conn.rollback()
    finally:
        cur.execute("drop table test_async_ins")
        wait(aconn)


def test_several_statements_give_the_last_result(aconn):
    cur = aconn.cursor()
    cur.execute("select 1; select 2")
    wait(aconn)
    assert cur.fetchall() == [(2,)]


def test_two_connections_interleaved(dsn, aconn):
    other = psycopg2.connect(dsn, async_=True)
    try:
        wait(other)
        cur1, cur2 = aconn.cursor(), other.cursor()
        cur1.execute("select 1")
        cur2.execute("select 2")
        wait(other)
        wait(aconn)
        assert cur1.fetchone() == (1,)
        assert cur2.fetchone() == (2,)
    finally:
        other.close()


@pytest.mark.parametrize("factory, expected", [
    (psycopg2.extras.DictCursor, [[1, 2]]),
    (psycopg2.extras.RealDictCursor, [{"a": 1, "b": 2}]),
    (psycopg2.extras.NamedTupleCursor, [(1, 2)]),
])
def test_cursor_factories(aconn, factory, expected):
    cur = aconn.cursor(cursor_factory=factory)
    cur.execute("select 1 as a, 2 as b")
    wait(aconn)
    rows = cur.fetchall()
    assert rows == expected
    if factory is psycopg2.extras.NamedTupleCursor:
        assert rows[0].b == 2


def test_cursor_context_manager(aconn):
    with aconn.cursor() as cur:
        cur.execute("select 1")
        wait(aconn)
        assert cur.fetchone() == (1,)
    assert cur.closed


# -- errors -------------------------------------------------------------------

def test_error_raised_from_poll(aconn):
    cur = aconn.cursor()
    cur.execute("select 1/0")
    with pytest.raises(psycopg2.errors.DivisionByZero,
                       match="division by zero") as exc:
        wait(aconn)
    assert exc.value.pgcode == "22012"
    assert isinstance(exc.value, psycopg2.DataError)
    assert not aconn.isexecuting()
    # the connection is still usable, without rollback (autocommit)
    assert aconn.poll() == ext.POLL_OK
    assert aconn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    cur.execute("select 7")
    wait(aconn)
    assert cur.fetchall() == [(7,)]


def test_syntax_error_raised_from_poll(aconn):
    cur = aconn.cursor()
    cur.execute("selec 1")
    with pytest.raises(psycopg2.errors.SyntaxError,
                       match='syntax error at or near "selec"'):
        wait(aconn)
    with pytest.raises(psycopg2.ProgrammingError,
                       match="no results to fetch"):
        cur.fetchone()


def test_execute_while_a_query_is_underway(aconn):
    msg = "execute cannot be used while an asynchronous query is underway"
    cur = aconn.cursor()
    cur.execute("select pg_sleep(0.1)")
    with pytest.raises(psycopg2.ProgrammingError, match=msg):
        cur.execute("select 1")
    # another cursor of the same connection is refused as well
    with pytest.raises(psycopg2.ProgrammingError, match=msg):
        aconn.cursor().execute("select 1")
    wait(aconn)
    cur.execute("select 10")
    wait(aconn)
    assert cur.fetchone() == (10,)


def test_fetch_before_poll_completes(aconn):
    cur = aconn.cursor()
    cur.execute("select pg_sleep(0.1), 1")
    with pytest.raises(psycopg2.ProgrammingError,
                       match="no results to fetch"):
        cur.fetchone()
    wait(aconn)
    assert cur.fetchone() == ("", 1)


def test_mogrify_while_executing(aconn):
    cur = aconn.cursor()
    cur.execute("select pg_sleep(0.1)")
    assert cur.mogrify("select %s", (1,)) == b"select 1"
    wait(aconn)


@pytest.mark.parametrize("method, args, msg", [
    ("commit", (), "commit cannot be used in asynchronous mode"),
    ("rollback", (), "rollback cannot be used in asynchronous mode"),
    ("set_session", (), "set_session cannot be used in asynchronous mode"),
    ("set_isolation_level", (1,),
     '"isolation_level" cannot be used in asynchronous mode'),
    ("set_client_encoding", ("LATIN1",),
     "set_client_encoding cannot be used in asynchronous mode"),
    ("tpc_begin", ("xid",), "tpc_begin cannot be used in asynchronous mode"),
    ("reset", (), "reset cannot be used in asynchronous mode"),
    ("lobject", (), "lobject cannot be used in asynchronous mode"),
])
def test_connection_methods_refused(aconn, method, args, msg):
    with pytest.raises(psycopg2.ProgrammingError, match=msg):
        getattr(aconn, method)(*args)


def test_set_session_keywords_refused(aconn):
    with pytest.raises(psycopg2.ProgrammingError,
                       match="set_session cannot be used in asynchronous"):
        aconn.set_session(readonly=True)
    with pytest.raises(psycopg2.ProgrammingError,
                       match="set_session cannot be used in asynchronous"):
        aconn.autocommit = False
    assert aconn.autocommit is True


def test_connection_context_manager_refused(aconn):
    with pytest.raises(psycopg2.ProgrammingError,
                       match="commit cannot be used in asynchronous mode"):
        with aconn:
            pass


def test_named_cursor_refused(aconn):
    with pytest.raises(psycopg2.ProgrammingError,
                       match="asynchronous connections cannot produce "
                             "named cursors"):
        aconn.cursor("named")


def test_executemany_refused(aconn):
    with pytest.raises(psycopg2.ProgrammingError,
                       match="executemany cannot be used in asynchronous "
                             "mode"):
        aconn.cursor().executemany("select %s", [(1,), (2,)])
    assert not aconn.isexecuting()


@pytest.mark.parametrize("method, args", [
    ("copy_expert", ("copy (select 1) to stdout", io.StringIO())),
    ("copy_from", (io.StringIO(""), "test_async_copy")),
    ("copy_to", (io.StringIO(), "test_async_copy")),
])
def test_copy_refused(aconn, method, args):
    cur = aconn.cursor()
    with pytest.raises(psycopg2.ProgrammingError,
                       match="%s cannot be used in asynchronous mode"
                             % method):
        getattr(cur, method)(*args)
    # nothing was started: the connection is still usable
    assert not aconn.isexecuting()
    cur.execute("select 1")
    wait(aconn)
    assert cur.fetchone() == (1,)


def test_callproc(aconn):
    cur = aconn.cursor()
    cur.callproc("abs", (-3,))
    wait(aconn)
    assert cur.fetchall() == [(3,)]


def test_close_unnamed_cursor_while_executing(aconn):
    # psycopg2 lets an unnamed cursor be closed during its query
    cur = aconn.cursor()
    cur.execute("select pg_sleep(0.1)")
    cur.close()
    assert cur.closed
    wait(aconn)
    cur = aconn.cursor()
    cur.execute("select 1")
    wait(aconn)
    assert cur.fetchone() == (1,)


def test_close_connection_while_executing(dsn):
    conn = psycopg2.connect(dsn, async_=True)
    wait(conn)
    conn.cursor().execute("select pg_sleep(2)")
    conn.close()
    assert conn.closed
    with pytest.raises(psycopg2.InterfaceError,
                       match="connection already closed"):
        conn.fileno()
    with pytest.raises(psycopg2.InterfaceError,
                       match="connection already closed"):
        conn.poll()


def test_garbage_collect_while_executing(dsn, conn):
    aconn = psycopg2.connect(dsn, async_=True)
    wait(aconn)
    cur = aconn.cursor()
    cur.execute("select pg_sleep(2)")
    pid = aconn.info.backend_pid
    del aconn, cur
    gc.collect()
    # the backend goes away (autocommit: pg_stat_activity is a snapshot
    # taken once per transaction)
    conn.autocommit = True
    check = conn.cursor()
    for _ in range(200):
        check.execute("select count(*) from pg_stat_activity "
                      "where pid = %s", (pid,))
        (count,) = check.fetchone()
        if count == 0:
            break
        time.sleep(0.05)
    assert count == 0


# -- cancel, notices, notifies ------------------------------------------------

def wait_query_running(dsn, conn, timeout=30.0):
    """Wait until conn's backend runs its query (checked from another
    connection): a cancel request arriving while the backend is still
    reading the query is ignored by the server."""
    pid = conn.info.backend_pid
    mon = psycopg2.connect(dsn)
    try:
        mon.autocommit = True
        cur = mon.cursor()
        deadline = time.monotonic() + timeout
        while True:
            cur.execute("select state from pg_stat_activity where pid = %s",
                        (pid,))
            if cur.fetchone() == ("active",):
                return
            assert time.monotonic() < deadline, "the query did not start"
            time.sleep(0.01)
    finally:
        mon.close()


def test_cancel(dsn, aconn):
    cur = aconn.cursor()
    cur.execute("select pg_sleep(10)")
    wait_query_running(dsn, aconn)
    assert aconn.cancel() is None
    with pytest.raises(psycopg2.extensions.QueryCanceledError,
                       match="canceling statement due to user request"):
        wait(aconn)
    cur.execute("select 3")
    wait(aconn)
    assert cur.fetchone() == (3,)


def test_notices(aconn):
    cur = aconn.cursor()
    cur.execute("do $$begin raise notice 'async notice'; end$$")
    wait(aconn)
    assert aconn.notices == ["NOTICE:  async notice\n"]


def test_notifies_arrive_with_poll(dsn, aconn):
    cur = aconn.cursor()
    cur.execute("listen test_async")
    wait(aconn)
    sender = psycopg2.connect(dsn)
    try:
        sender.autocommit = True
        sender.cursor().execute("notify test_async, 'hello'")
        pid = sender.info.backend_pid
    finally:
        sender.close()
    assert select.select([aconn], [], [], 30)[0]
    assert aconn.poll() == ext.POLL_OK
    assert aconn.notifies == [ext.Notify(pid, "test_async", "hello")]


# -- documentation -----------------------------------------------------------

def run_doc_page(name, dsn):
    """Run the examples of doc/`name` as a doctest; return how many."""
    import doctest
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "doc", name)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    test = doctest.DocTestParser().get_doctest(
        text, {"dsn": dsn}, name, path, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    return runner.tries


def test_doc_page_examples(dsn):
    # doc/async.rst covers asynchronous connections and green mode
    assert run_doc_page("async.rst", dsn) > 40
