"""Connections whose server goes away: terminated backends, stopped and
killed servers.

The driver must raise OperationalError, mark the connection broken
(``closed == 2``), never crash or hang, and leave other connections alone.
"""

import os
import signal
import threading
import time

import pytest

import psycopg2
import psycopg2.extensions

from pgserver import PgServer

BROKEN = 2


@pytest.fixture(scope="module")
def own_server():
    """A private server that the tests may stop and kill."""
    srv = PgServer()
    srv.initdb()
    srv.start()
    srv.psql("CREATE DATABASE psycopg2_test")
    yield srv
    srv.cleanup()


@pytest.fixture
def own_dsn(own_server):
    """DSN of the private server, started if a previous test stopped it."""
    if not own_server.is_running():
        own_server.start()
    return own_server.dsn


@pytest.fixture
def admin(dsn):
    """An autocommit connection used to terminate other backends."""
    c = psycopg2.connect(dsn)
    c.autocommit = True
    yield c
    c.close()


def terminate(admin, victim):
    """Terminate the backend of `victim` and wait until it is gone."""
    pid = victim.get_backend_pid()
    cur = admin.cursor()
    cur.execute("SELECT pg_terminate_backend(%s, 60000)", (pid,))
    assert cur.fetchone() == (True,)


def check_still_works(conn):
    cur = conn.cursor()
    cur.execute("SELECT 'alive'")
    assert cur.fetchone() == ("alive",)


# --- pg_terminate_backend ------------------------------------------------------

def test_terminated_in_transaction(conn, admin):
    cur = conn.cursor()
    cur.execute("SELECT 1")
    terminate(admin, conn)
    with pytest.raises(psycopg2.OperationalError):
        cur.execute("SELECT 1")
    assert conn.closed == BROKEN
    assert cur.closed
    check_still_works(admin)


def test_terminated_autocommit(conn, admin):
    conn.autocommit = True
    cur = conn.cursor()
    terminate(admin, conn)
    with pytest.raises(psycopg2.OperationalError):
        cur.execute("SELECT 1")
    assert conn.closed == BROKEN


def test_broken_connection_refuses_work(conn, admin):
    cur = conn.cursor()
    terminate(admin, conn)
    with pytest.raises(psycopg2.OperationalError):
        cur.execute("SELECT 1")
    with pytest.raises(psycopg2.InterfaceError, match="cursor already closed"):
        cur.execute("SELECT 1")
    for meth in (conn.cursor, conn.commit, conn.rollback, conn.reset):
        with pytest.raises(psycopg2.InterfaceError,
                           match="connection already closed"):
            meth()
    assert conn.closed == BROKEN


def test_close_broken_connection(conn, admin):
    terminate(admin, conn)
    with pytest.raises(psycopg2.OperationalError):
        conn.cursor().execute("SELECT 1")
    conn.close()
    assert conn.closed == 1
    conn.close()
    assert conn.closed == 1


def test_terminated_then_commit(conn, admin):
    conn.cursor().execute("SELECT 1")
    terminate(admin, conn)
    with pytest.raises(psycopg2.OperationalError):
        conn.commit()
    assert conn.closed == BROKEN


def test_terminated_then_rollback(conn, admin):
    conn.cursor().execute("SELECT 1")
    terminate(admin, conn)
    with pytest.raises(psycopg2.OperationalError):
        conn.rollback()
    assert conn.closed == BROKEN


def test_terminated_inside_with_block(conn, admin):
    with pytest.raises(psycopg2.OperationalError):
        with conn:
            conn.cursor().execute("SELECT 1")
            terminate(admin, conn)
    assert conn.closed == BROKEN


def test_terminated_named_cursor(conn, admin):
    cur = conn.cursor("lost_named")
    cur.itersize = 10
    cur.execute("SELECT generate_series(1, 1000)")
    assert cur.fetchmany(5) == [(i,) for i in range(1, 6)]
    terminate(admin, conn)
    with pytest.raises(psycopg2.OperationalError):
        cur.fetchmany(5)
    assert conn.closed == BROKEN
    cur.close()


def test_terminated_during_query(conn, admin):
    pid = conn.get_backend_pid()
    done = threading.Event()

    def killer():
        # wait until the victim runs its query, then terminate it
        cur = admin.cursor()
        for _ in range(3000):
            cur.execute("SELECT state FROM pg_stat_activity WHERE pid = %s "
                        "AND query LIKE '%%pg_sleep(60)%%'", (pid,))
            if cur.fetchone() == ("active",):
                break
            cur.execute("SELECT pg_sleep(0.01)")
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        done.set()

    t = threading.Thread(target=killer)
    t.start()
    try:
        with pytest.raises(psycopg2.OperationalError):
            conn.cursor().execute("SELECT pg_sleep(60)")
    finally:
        t.join(120)
    assert done.is_set()
    assert conn.closed == BROKEN


def test_other_connections_unaffected(dsn, admin):
    victims = [psycopg2.connect(dsn) for _ in range(3)]
    bystanders = [psycopg2.connect(dsn) for _ in range(3)]
    try:
        for c in victims + bystanders:
            c.cursor().execute("SELECT 1")
        for c in victims:
            terminate(admin, c)
        for c in victims:
            with pytest.raises(psycopg2.OperationalError):
                c.cursor().execute("SELECT 1")
            assert c.closed == BROKEN
        for c in bystanders:
            assert c.closed == 0
            check_still_works(c)
            c.commit()
    finally:
        for c in victims + bystanders:
            c.close()


# --- stopped and killed servers ---------------------------------------------------

def test_server_stopped_while_idle(own_server, own_dsn, conn):
    lost = psycopg2.connect(own_dsn)
    try:
        lost.cursor().execute("SELECT 1")
        own_server.stop("fast")
        with pytest.raises(psycopg2.OperationalError):
            lost.cursor().execute("SELECT 1")
        assert lost.closed == BROKEN
        # the session server is another server: still fine
        check_still_works(conn)
    finally:
        lost.close()
    assert lost.closed == 1


def test_server_stopped_during_query(own_server, own_dsn):
    lost = psycopg2.connect(own_dsn)
    pid = lost.get_backend_pid()
    outcome = {}

    def sleeper():
        try:
            lost.cursor().execute("SELECT pg_sleep(60)")
            outcome["result"] = "finished"
        except BaseException as e:  # noqa: B902 - checked below
            outcome["error"] = e

    t = threading.Thread(target=sleeper)
    t.start()
    try:
        wait_active(own_dsn, pid, "pg_sleep(60)")
        own_server.stop("immediate")
    finally:
        t.join(120)
    try:
        assert not t.is_alive()
        assert isinstance(outcome.get("error"), psycopg2.OperationalError)
        assert lost.closed == BROKEN
    finally:
        lost.close()


def test_backend_killed(own_server, own_dsn, conn):
    lost = psycopg2.connect(own_dsn)
    try:
        lost.cursor().execute("SELECT 1")
        # SIGKILL the backend: the postmaster restarts all its backends
        os.kill(lost.get_backend_pid(), signal.SIGKILL)
        with pytest.raises(psycopg2.OperationalError):
            lost.cursor().execute("SELECT 1")
        assert lost.closed == BROKEN
        check_still_works(conn)
    finally:
        lost.close()
    wait_accepting(own_dsn)


def test_connect_to_stopped_server(own_server, own_dsn):
    own_server.stop("fast")
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(own_dsn + " connect_timeout=10")


def test_reconnect_after_restart(own_server, own_dsn):
    old = psycopg2.connect(own_dsn)
    try:
        own_server.stop("fast")
        own_server.start()
        with pytest.raises(psycopg2.OperationalError):
            old.cursor().execute("SELECT 1")
        assert old.closed == BROKEN
        new = psycopg2.connect(own_dsn)
        try:
            check_still_works(new)
        finally:
            new.close()
    finally:
        old.close()


def wait_accepting(dsn, attempts=600):
    """Wait until the server accepts connections (after crash recovery)."""
    for _ in range(attempts):
        try:
            psycopg2.connect(dsn).close()
            return
        except psycopg2.OperationalError:
            time.sleep(0.1)
    raise AssertionError("the server does not accept connections")


def wait_active(dsn, pid, query_part):
    """Poll pg_stat_activity until backend `pid` runs `query_part`."""
    mon = psycopg2.connect(dsn)
    try:
        mon.autocommit = True
        cur = mon.cursor()
        for _ in range(3000):
            cur.execute("SELECT state, query FROM pg_stat_activity "
                        "WHERE pid = %s", (pid,))
            row = cur.fetchone()
            if row and row[0] == "active" and query_part in row[1]:
                return
            cur.execute("SELECT pg_sleep(0.01)")
        raise AssertionError("backend %s never ran %r" % (pid, query_part))
    finally:
        mon.close()
