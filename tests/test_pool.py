"""Tests for psycopg2.pool against a real server."""

import doctest
import os
import threading
import time
import uuid

import pytest

import psycopg2
import psycopg2.extensions as ext
import psycopg2.extras
from psycopg2 import pool


@pytest.fixture
def appname():
    """A unique application_name, to count the pool's server sessions."""
    return "pooltest-%s" % uuid.uuid4().hex[:12]


@pytest.fixture
def monitor(dsn):
    c = psycopg2.connect(dsn)
    c.autocommit = True
    yield c
    c.close()


def backends(monitor, appname, expected=None):
    """Count the server sessions named *appname*.

    A server process exits shortly after its client closes the connection:
    when a count is *expected*, retry for a while until it is reached.
    """
    cur = monitor.cursor()
    deadline = time.monotonic() + 10
    while True:
        cur.execute(
            "select count(*) from pg_stat_activity"
            " where application_name = %s", (appname,))
        n = cur.fetchone()[0]
        if expected is None or n == expected or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


@pytest.fixture(params=[pool.SimpleConnectionPool,
                        pool.ThreadedConnectionPool])
def pool_class(request):
    return request.param


@pytest.fixture
def make_pool(dsn, appname, pool_class):
    pools = []

    def make(minconn=1, maxconn=3, **kwargs):
        kwargs.setdefault("application_name", appname)
        p = pool_class(minconn, maxconn, dsn, **kwargs)
        pools.append(p)
        return p

    yield make
    for p in pools:
        if not p.closed:
            p.closeall()


def test_pool_error_class():
    assert issubclass(pool.PoolError, psycopg2.Error)


def test_minconn_opened_at_start(make_pool, monitor, appname):
    p = make_pool(2, 5)
    assert p.minconn == 2
    assert p.maxconn == 5
    assert p.closed is False
    assert backends(monitor, appname, 2) == 2


def test_getconn_distinct_connections(make_pool):
    p = make_pool(1, 3)
    conns = [p.getconn() for _ in range(3)]
    assert len(set(map(id, conns))) == 3
    for c in conns:
        cur = c.cursor()
        cur.execute("select 1")
        assert cur.fetchone() == (1,)


def test_exhausted(make_pool, monitor, appname):
    p = make_pool(0, 2)
    p.getconn()
    p.getconn()
    with pytest.raises(pool.PoolError, match="connection pool exhausted"):
        p.getconn()
    assert backends(monitor, appname, 2) == 2


def test_getconn_same_key_same_conn(make_pool):
    p = make_pool(1, 2)
    a = p.getconn("a")
    assert p.getconn("a") is a
    b = p.getconn(("tuple", 1))
    assert b is not a
    assert p.getconn(("tuple", 1)) is b
    # both slots used: a new key is refused, a known key is fine
    with pytest.raises(pool.PoolError):
        p.getconn("c")
    assert p.getconn("a") is a


def test_putconn_reuses_connection(make_pool, monitor, appname):
    p = make_pool(1, 3)
    c = p.getconn()
    pid = c.get_backend_pid()
    p.putconn(c)
    assert not c.closed
    c2 = p.getconn()
    assert c2 is c
    assert c2.get_backend_pid() == pid
    assert backends(monitor, appname, 1) == 1


def test_putconn_over_minconn_closes(make_pool, monitor, appname):
    p = make_pool(1, 3)
    a = p.getconn()
    b = p.getconn()
    assert backends(monitor, appname, 2) == 2
    p.putconn(a)
    assert not a.closed
    p.putconn(b)
    assert b.closed
    assert backends(monitor, appname, 1) == 1


def test_putconn_close_true(make_pool):
    p = make_pool(2, 3)
    c = p.getconn()
    p.putconn(c, close=True)
    assert c.closed
    # a fresh connection is made when needed
    c2 = p.getconn()
    assert c2 is not c and not c2.closed


def test_putconn_with_key(make_pool):
    p = make_pool(1, 2)
    c = p.getconn("k")
    p.putconn(c, "k")
    assert not c.closed
    # the key is free again: getconn gives the idle connection back
    assert p.getconn("other") is c


def test_putconn_rolls_back_open_transaction(make_pool, monitor, dsn):
    p = make_pool(1, 1)
    c = p.getconn()
    cur = c.cursor()
    cur.execute("create temp table ptx (x int)")
    cur.execute("select 1")
    assert c.get_transaction_status() == ext.TRANSACTION_STATUS_INTRANS
    p.putconn(c)
    assert not c.closed
    assert c.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    # the work was rolled back: the temp table doesn't exist
    c = p.getconn()
    cur = c.cursor()
    with pytest.raises(psycopg2.errors.UndefinedTable):
        cur.execute("select * from ptx")
    c.rollback()


def test_putconn_rolls_back_failed_transaction(make_pool):
    p = make_pool(1, 1)
    c = p.getconn()
    cur = c.cursor()
    with pytest.raises(psycopg2.DataError):
        cur.execute("select 1/0")
    assert c.get_transaction_status() == ext.TRANSACTION_STATUS_INERROR
    p.putconn(c)
    assert c.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    c = p.getconn()
    cur = c.cursor()
    cur.execute("select 42")
    assert cur.fetchone() == (42,)


def test_putconn_keeps_autocommit(make_pool):
    p = make_pool(1, 1)
    c = p.getconn()
    c.autocommit = True
    p.putconn(c)
    c = p.getconn()
    assert c.autocommit is True


def test_putconn_closed_connection_discarded(make_pool, monitor, appname):
    p = make_pool(1, 2)
    c = p.getconn()
    c.close()
    p.putconn(c)
    c2 = p.getconn()
    assert c2 is not c
    assert not c2.closed
    assert backends(monitor, appname, 1) == 1


def test_putconn_broken_connection_discarded(make_pool, monitor):
    p = make_pool(1, 2)
    c = p.getconn()
    mcur = monitor.cursor()
    mcur.execute("select pg_terminate_backend(%s)", (c.get_backend_pid(),))
    cur = c.cursor()
    with pytest.raises(psycopg2.OperationalError):
        cur.execute("select 1")
    assert c.closed
    p.putconn(c)
    c2 = p.getconn()
    assert c2 is not c
    cur = c2.cursor()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_putconn_unknown_connection(make_pool, dsn):
    p = make_pool(1, 2)
    other = psycopg2.connect(dsn)
    try:
        with pytest.raises(pool.PoolError, match="unkeyed connection"):
            p.putconn(other)
    finally:
        other.close()


def test_closeall(make_pool, monitor, appname):
    p = make_pool(2, 4)
    lent = p.getconn()
    p.closeall()
    assert p.closed is True
    assert lent.closed
    assert backends(monitor, appname, 0) == 0
    with pytest.raises(psycopg2.InterfaceError):
        lent.cursor()


def test_closed_pool_errors(make_pool):
    p = make_pool(1, 2)
    c = p.getconn()
    p.closeall()
    with pytest.raises(pool.PoolError, match="connection pool is closed"):
        p.getconn()
    with pytest.raises(pool.PoolError, match="connection pool is closed"):
        p.putconn(c)
    with pytest.raises(pool.PoolError, match="connection pool is closed"):
        p.closeall()


def test_connect_arguments_passed(dsn, pool_class):
    p = pool_class(1, 2, dsn,
                   connection_factory=psycopg2.extras.RealDictConnection)
    try:
        c = p.getconn()
        assert isinstance(c, psycopg2.extras.RealDictConnection)
        cur = c.cursor()
        cur.execute("select 1 as x")
        assert cur.fetchone() == {"x": 1}
    finally:
        p.closeall()


def test_connect_error_propagates(pool_class):
    with pytest.raises(psycopg2.ProgrammingError):
        pool_class(1, 2, "nosuchoption=1")


def test_threaded_pool_shared(dsn, appname, monitor):
    p = pool.ThreadedConnectionPool(0, 4, dsn, application_name=appname)
    errors = []
    seen = set()

    def work(n):
        try:
            for i in range(20):
                c = p.getconn()
                seen.add(id(c))
                cur = c.cursor()
                cur.execute("select %s * %s", (n, i))
                assert cur.fetchone()[0] == n * i
                p.putconn(c)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert backends(monitor, appname, 0) == 0  # minconn = 0: none kept
    finally:
        p.closeall()


def test_threaded_pool_key_per_thread(dsn):
    p = pool.ThreadedConnectionPool(1, 3, dsn)
    got = {}

    def work(key):
        c1 = p.getconn(key)
        c2 = p.getconn(key)
        got[key] = (c1, c2)

    threads = [threading.Thread(target=work, args=(k,)) for k in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert all(c1 is c2 for c1, c2 in got.values())
        assert len({id(c1) for c1, _ in got.values()}) == 3
        with pytest.raises(pool.PoolError, match="exhausted"):
            p.getconn()
    finally:
        p.closeall()


def test_doc_page_examples(dsn):
    path = os.path.join(os.path.dirname(__file__), "..", "doc", "pool.rst")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    test = doctest.DocTestParser().get_doctest(
        text, {"dsn": dsn, "psycopg2": psycopg2}, "pool.rst", path, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    assert runner.tries > 10
