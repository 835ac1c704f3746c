"""connection.cancel() and connection.notices."""

import collections
import threading
import time

import pytest

import psycopg2
import psycopg2.errors
import psycopg2.extensions as ext


def cancel_when_running(dsn, conn, timeout=30.0):
    """Start a thread calling conn.cancel() once conn's backend is running
    pg_sleep() (checked from another connection)."""
    pid = conn.info.backend_pid

    def run():
        watcher = psycopg2.connect(dsn)
        try:
            watcher.autocommit = True
            cur = watcher.cursor()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                cur.execute("select wait_event from pg_stat_activity "
                            "where pid = %s and state = 'active'", (pid,))
                if cur.fetchone() == ("PgSleep",):
                    conn.cancel()
                    return
                time.sleep(0.02)
        finally:
            watcher.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


# -- cancel ------------------------------------------------------------------

def test_cancel_from_another_thread(dsn, conn):
    cur = conn.cursor()
    thread = cancel_when_running(dsn, conn)
    try:
        with pytest.raises(ext.QueryCanceledError,
                           match="canceling statement due to user "
                                 "request") as exc:
            cur.execute("select pg_sleep(30)")
    finally:
        thread.join()
    assert type(exc.value) is psycopg2.errors.QueryCanceled
    assert isinstance(exc.value, psycopg2.OperationalError)
    assert exc.value.pgcode == "57014"
    assert exc.value.pgerror.startswith("ERROR:  canceling statement")
    assert exc.value.diag.sqlstate == "57014"
    # the transaction failed: usable again after a rollback
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_INERROR
    assert not conn.closed
    conn.rollback()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_cancel_in_autocommit(dsn, conn):
    conn.autocommit = True
    cur = conn.cursor()
    thread = cancel_when_running(dsn, conn)
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled):
            cur.execute("select pg_sleep(30)")
    finally:
        thread.join()
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    cur.execute("select 2")
    assert cur.fetchone() == (2,)


def test_cancel_keeps_earlier_work_of_the_transaction_rollbackable(dsn,
                                                                   conn):
    cur = conn.cursor()
    cur.execute("create temp table cancel_t (a int)")
    conn.commit()
    cur.execute("insert into cancel_t values (1)")
    thread = cancel_when_running(dsn, conn)
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled):
            cur.execute("select pg_sleep(30)")
    finally:
        thread.join()
    conn.rollback()
    cur.execute("select count(*) from cancel_t")
    assert cur.fetchone() == (0,)


def test_cancel_an_idle_connection(conn):
    assert conn.cancel() is None
    cur = conn.cursor()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_cancel_a_closed_connection(dsn):
    conn = psycopg2.connect(dsn)
    conn.close()
    with pytest.raises(psycopg2.InterfaceError,
                       match="connection already closed"):
        conn.cancel()


def test_cancel_named_cursor_query(dsn, conn):
    cur = conn.cursor("cancel_named")
    thread = cancel_when_running(dsn, conn)
    try:
        with pytest.raises(psycopg2.errors.QueryCanceled):
            cur.execute("select pg_sleep(30) from generate_series(1, 2)")
            cur.fetchall()
    finally:
        thread.join()
    conn.rollback()
    cur = conn.cursor()
    cur.execute("select 3")
    assert cur.fetchone() == (3,)


def test_statement_timeout_is_the_same_error(conn):
    cur = conn.cursor()
    cur.execute("set statement_timeout = 50")
    with pytest.raises(psycopg2.errors.QueryCanceled,
                       match="canceling statement due to statement "
                             "timeout"):
        cur.execute("select pg_sleep(10)")
    conn.rollback()


# -- notices -----------------------------------------------------------------

def test_notices_is_an_empty_list(conn):
    assert conn.notices == []
    assert isinstance(conn.notices, list)


def test_raise_notice_from_a_do_block(conn):
    cur = conn.cursor()
    cur.execute("do $$begin raise notice 'hello %', 42; end$$")
    assert conn.notices == ["NOTICE:  hello 42\n"]
    cur.execute("do $$begin raise notice 'again'; end$$")
    assert conn.notices == ["NOTICE:  hello 42\n", "NOTICE:  again\n"]


def test_severities(conn):
    cur = conn.cursor()
    cur.execute("do $$begin raise warning 'w'; raise info 'i'; "
                "raise debug 'd'; raise log 'l'; end$$")
    # debug and log are below client_min_messages (notice)
    assert conn.notices == ["WARNING:  w\n", "INFO:  i\n"]


def test_notices_of_a_failing_statement(conn):
    cur = conn.cursor()
    with pytest.raises(psycopg2.errors.DivisionByZero):
        cur.execute("do $$begin raise notice 'before'; "
                    "perform 1/0; end$$")
    assert conn.notices == ["NOTICE:  before\n"]
    conn.rollback()


def test_server_notices(conn):
    cur = conn.cursor()
    cur.execute("drop table if exists no_such_table_for_notices")
    assert conn.notices == [
        'NOTICE:  table "no_such_table_for_notices" does not exist, '
        'skipping\n']


def test_notices_capped_at_50(conn):
    cur = conn.cursor()
    cur.execute("do $$begin for i in 1..60 loop "
                "raise notice 'n%', i; end loop; end$$")
    assert len(conn.notices) == 50
    # the oldest ones are dropped
    assert conn.notices[0] == "NOTICE:  n11\n"
    assert conn.notices[-1] == "NOTICE:  n60\n"
    cur.execute("do $$begin raise notice 'one more'; end$$")
    assert len(conn.notices) == 50
    assert conn.notices[0] == "NOTICE:  n12\n"
    assert conn.notices[-1] == "NOTICE:  one more\n"


def test_notices_replaced_by_a_deque(conn):
    conn.notices = collections.deque(maxlen=3)
    cur = conn.cursor()
    cur.execute("do $$begin for i in 1..10 loop "
                "raise notice 'x%', i; end loop; end$$")
    assert isinstance(conn.notices, collections.deque)
    assert list(conn.notices) == [
        "NOTICE:  x8\n", "NOTICE:  x9\n", "NOTICE:  x10\n"]


def test_unbounded_deque_keeps_everything(conn):
    # the cap applies only to lists
    conn.notices = collections.deque()
    cur = conn.cursor()
    cur.execute("do $$begin for i in 1..60 loop "
                "raise notice 'n%', i; end loop; end$$")
    assert len(conn.notices) == 60


def test_notices_replaced_by_any_object_with_append(conn):
    class Collector:
        def __init__(self):
            self.got = []

        def append(self, item):
            self.got.append(item)

    collector = Collector()
    conn.notices = collector
    assert conn.notices is collector
    conn.cursor().execute("do $$begin raise notice 'obj'; end$$")
    assert collector.got == ["NOTICE:  obj\n"]


def test_notices_with_client_encoding(conn):
    conn.set_client_encoding("LATIN1")
    conn.cursor().execute("do $$begin raise notice 'caf\u00e9'; end$$")
    assert conn.notices == ["NOTICE:  caf\u00e9\n"]


def test_notices_in_autocommit_and_after_commit(conn):
    conn.autocommit = True
    conn.cursor().execute("do $$begin raise notice 'auto'; end$$")
    conn.autocommit = False
    conn.commit()
    assert conn.notices == ["NOTICE:  auto\n"]


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


# The pages below have no test module of their own among engineer L's
# files: doc/usage.rst (core usage, including errors and notices) and
# doc/tpc.rst (two-phase commit).

def test_usage_doc_page_examples(dsn):
    assert run_doc_page("usage.rst", dsn) > 40


def test_tpc_doc_page_examples(dsn):
    assert run_doc_page("tpc.rst", dsn) > 25
