"""Tests for the pool options beyond psycopg2's: getconn timeout, check,
reset and rebalance (against a real server; the rebalancing decision and
its rate limiter also as pure functions)."""

import math
import threading
import time
import uuid

import pytest

import psycopg2
import psycopg2.extensions as ext
from psycopg2 import loadbalance, pool

HANG = 10.0     # seconds: longer than this is a hang, not slowness


@pytest.fixture
def appname():
    return "poolx-%s" % uuid.uuid4().hex[:12]


@pytest.fixture
def monitor(dsn):
    c = psycopg2.connect(dsn)
    c.autocommit = True
    yield c
    c.close()


def backends(monitor, appname, expected=None):
    """Count the server sessions named *appname*, waiting up to 10 s for
    the *expected* count (a backend exits shortly after its client)."""
    cur = monitor.cursor()
    deadline = time.monotonic() + HANG
    while True:
        cur.execute("select count(*) from pg_stat_activity"
                    " where application_name = %s", (appname,))
        n = cur.fetchone()[0]
        if expected is None or n == expected or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


def terminate(monitor, conn):
    """Kill the server process of *conn* and wait until it is gone."""
    pid = conn.get_backend_pid()
    cur = monitor.cursor()
    cur.execute("select pg_terminate_backend(%s)", (pid,))
    assert cur.fetchone() == (True,)
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        cur.execute("select 1 from pg_stat_activity where pid = %s", (pid,))
        if cur.fetchone() is None:
            return
        time.sleep(0.05)
    raise AssertionError("backend %s still alive" % pid)


@pytest.fixture
def pools():
    made = []
    yield made
    for p in made:
        if not p.closed:
            p.closeall()


@pytest.fixture
def threaded(dsn, appname, pools):
    def make(minconn=1, maxconn=1, **kwargs):
        kwargs.setdefault("application_name", appname)
        p = pool.ThreadedConnectionPool(minconn, maxconn, dsn, **kwargs)
        pools.append(p)
        return p
    return make


@pytest.fixture(params=[pool.SimpleConnectionPool,
                        pool.ThreadedConnectionPool])
def make_pool(request, dsn, appname, pools):
    def make(minconn=1, maxconn=2, **kwargs):
        kwargs.setdefault("application_name", appname)
        p = request.param(minconn, maxconn, dsn, **kwargs)
        pools.append(p)
        return p
    return make


def in_thread(func, *args):
    """Run *func* in a thread; return (thread, result dict)."""
    out = {}

    def run():
        try:
            out["value"] = func(*args)
        except BaseException as e:      # reported by the test
            out["error"] = e
        finally:
            out["end"] = time.monotonic()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


# -- getconn(timeout=) --------------------------------------------------------

def test_waiter_gets_connection_given_back(threaded):
    p = threaded(1, 1)
    held = p.getconn()
    timer = threading.Timer(0.5, p.putconn, (held,))
    start = time.monotonic()
    timer.start()
    try:
        conn = p.getconn(timeout=HANG)
    finally:
        timer.join()
    assert conn is held
    assert 0.4 <= time.monotonic() - start < HANG
    cur = conn.cursor()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_waiter_gets_new_connection_when_returned_one_is_closed(
        threaded, monitor, appname):
    p = threaded(0, 1)          # minconn 0: a connection given back is closed
    held = p.getconn()
    threading.Timer(0.3, p.putconn, (held,)).start()
    conn = p.getconn(timeout=HANG)
    assert held.closed
    assert conn is not held and not conn.closed
    assert backends(monitor, appname, 1) == 1


def test_timeout_without_return_raises(threaded):
    p = threaded(1, 1)
    p.getconn()
    start = time.monotonic()
    with pytest.raises(pool.PoolError, match="connection pool exhausted"):
        p.getconn(timeout=0.5)
    assert 0.45 <= time.monotonic() - start < HANG


@pytest.mark.parametrize("timeout", [None, 0, 0.0])
def test_no_timeout_raises_at_once(threaded, timeout):
    p = threaded(0, 1)
    p.getconn()
    start = time.monotonic()
    with pytest.raises(pool.PoolError) as excinfo:
        p.getconn(timeout=timeout)
    assert time.monotonic() - start < HANG
    if timeout is None:
        assert str(excinfo.value) == "connection pool exhausted"


@pytest.mark.parametrize("timeout", [-1, "1", True, math.nan, [1]])
def test_bad_timeout(threaded, timeout):
    p = threaded(1, 1)
    with pytest.raises(pool.PoolError, match="timeout"):
        p.getconn(timeout=timeout)
    # nothing was lent
    assert p.getconn(timeout=0) is not None


def test_known_key_does_not_wait(threaded):
    p = threaded(1, 1)
    c = p.getconn("k")
    start = time.monotonic()
    assert p.getconn("k", timeout=HANG) is c
    assert time.monotonic() - start < HANG


def test_closeall_wakes_waiters(threaded):
    p = threaded(1, 1)
    p.getconn()
    t, out = in_thread(p.getconn, None, HANG)
    time.sleep(0.2)
    p.closeall()
    t.join(HANG)
    assert not t.is_alive()
    assert isinstance(out.get("error"), pool.PoolError)
    assert "closed" in str(out["error"])


def test_many_waiters_all_served(threaded):
    p = threaded(1, 2)
    got = []
    errors = []

    def work(n):
        try:
            for _ in range(5):
                c = p.getconn(timeout=HANG)
                cur = c.cursor()
                cur.execute("select %s", (n,))
                got.append(cur.fetchone()[0])
                c.rollback()
                p.putconn(c)
        except Exception as e:      # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(4 * HANG)
    assert errors == []
    assert sorted(got) == sorted(list(range(6)) * 5)


# -- check= -------------------------------------------------------------------

def test_check_replaces_terminated_connection(make_pool, monitor, appname):
    p = make_pool(1, 1, check=True, check_idle=0)
    c = p.getconn()
    p.putconn(c)
    terminate(monitor, c)
    c2 = p.getconn()
    assert c2 is not c
    assert c.closed
    cur = c2.cursor()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)
    assert backends(monitor, appname, 1) == 1


def test_check_replaces_every_bad_idle_connection(make_pool, monitor):
    p = make_pool(2, 2, check=True, check_idle=0)
    a, b = p.getconn(), p.getconn()
    p.putconn(a)
    p.putconn(b)
    terminate(monitor, a)
    terminate(monitor, b)
    conns = [p.getconn(), p.getconn()]
    for c in conns:
        assert c is not a and c is not b
        cur = c.cursor()
        cur.execute("select 1")
        assert cur.fetchone() == (1,)


def test_check_replaces_closed_idle_connection(make_pool):
    p = make_pool(1, 1, check=True)
    c = p.getconn()
    p.putconn(c)
    c.close()               # closed by the program after giving it back
    c2 = p.getconn()
    assert c2 is not c and not c2.closed


def test_check_round_trip_only_after_idle_threshold(make_pool, monitor):
    p = make_pool(1, 1, check=True, check_idle=60)
    c = p.getconn()
    p.putconn(c)
    terminate(monitor, c)
    # returned less than a minute ago: lent without a round trip
    assert p.getconn() is c


def test_check_after_idle_threshold(make_pool, monitor):
    p = make_pool(1, 1, check=True, check_idle=0.2)
    c = p.getconn()
    p.putconn(c)
    terminate(monitor, c)
    time.sleep(0.3)
    c2 = p.getconn()
    assert c2 is not c


def test_no_check_by_default(make_pool, monitor):
    p = make_pool(1, 1)
    assert p.check is False
    c = p.getconn()
    p.putconn(c)
    terminate(monitor, c)
    assert p.getconn() is c         # psycopg2's behaviour
    with pytest.raises(psycopg2.OperationalError):
        c.cursor().execute("select 1")


@pytest.mark.parametrize("autocommit", [False, True])
def test_check_leaves_connection_state(make_pool, autocommit):
    p = make_pool(1, 1, check=True, check_idle=0)
    c = p.getconn()
    c.autocommit = autocommit
    p.putconn(c)
    assert p.getconn() is c
    assert c.autocommit is autocommit
    assert c.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_check_replacement_connect_error_frees_slot(make_pool, monitor):
    p = make_pool(1, 1, check=True, check_idle=0)
    c = p.getconn()
    p.putconn(c)
    terminate(monitor, c)
    p._kwargs["sslmode"] = "nosuchmode"     # make the next connect fail
    with pytest.raises(psycopg2.OperationalError, match="sslmode"):
        p.getconn()
    del p._kwargs["sslmode"]
    c2 = p.getconn()
    assert not c2.closed


# -- putconn: rollback and reset= ---------------------------------------------

def setting(conn, name):
    cur = conn.cursor()
    cur.execute("select current_setting(%s, true)", (name,))
    value = cur.fetchone()[0]
    conn.rollback()
    return value


def test_reset_discard_all(make_pool):
    p = make_pool(1, 1, reset=True)
    assert p.reset == "DISCARD ALL"
    c = p.getconn()
    cur = c.cursor()
    cur.execute("set myapp.owner = 'alice'")
    cur.execute("create temp table t_reset (x int)")
    c.commit()
    p.putconn(c)
    assert p.getconn() is c
    assert c.autocommit is False
    assert c.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    assert setting(c, "myapp.owner") in (None, "")
    cur = c.cursor()
    with pytest.raises(psycopg2.errors.UndefinedTable):
        cur.execute("select * from t_reset")
    c.rollback()


def test_reset_after_open_transaction(make_pool):
    p = make_pool(1, 1, reset="RESET ALL")
    c = p.getconn()
    cur = c.cursor()
    cur.execute("set work_mem = '7MB'")
    c.commit()
    cur.execute("set work_mem = '9MB'")     # left in a transaction
    p.putconn(c)
    assert c.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    c = p.getconn()
    assert setting(c, "work_mem") != "9MB"
    assert setting(c, "work_mem") != "7MB"


def test_reset_autocommit_connection(make_pool):
    p = make_pool(1, 1, reset=True)
    c = p.getconn()
    c.autocommit = True
    c.cursor().execute("set myapp.owner = 'bob'")
    p.putconn(c)
    c = p.getconn()
    assert c.autocommit is True
    assert setting(c, "myapp.owner") in (None, "")


def test_reset_callable(make_pool):
    seen = []

    def reset(conn):
        seen.append(conn)
        conn.cursor().execute("set myapp.mark = 'reset'")

    p = make_pool(1, 1, reset=reset)
    c = p.getconn()
    p.putconn(c)
    assert seen == [c]
    assert c.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    c = p.getconn()
    # the callable's transaction was rolled back
    assert setting(c, "myapp.mark") in (None, "")


def test_reset_failure_discards_connection(make_pool, monitor, appname):
    p = make_pool(1, 2, reset="reset nosuchsetting_at_all")
    c = p.getconn()
    p.putconn(c)                # no error: the connection is dropped
    assert c.closed
    assert backends(monitor, appname, 0) == 0
    c2 = p.getconn()
    assert c2 is not c and not c2.closed


def test_no_reset_by_default(make_pool):
    p = make_pool(1, 1)
    assert p.reset is None
    c = p.getconn()
    c.cursor().execute("set myapp.owner = 'carol'")
    c.commit()
    p.putconn(c)
    assert setting(p.getconn(), "myapp.owner") == "carol"


def test_putconn_over_minconn_not_reset(make_pool):
    seen = []
    p = make_pool(1, 2, reset=seen.append)
    a, b = p.getconn(), p.getconn()
    p.putconn(a)
    p.putconn(b)            # the pool is full: closed, not reset
    assert seen == [a]
    assert b.closed


@pytest.mark.parametrize("kwargs, word", [
    ({"check": 1}, "check"),
    ({"check": "yes"}, "check"),
    ({"check_idle": -1}, "check_idle"),
    ({"check_idle": "1"}, "check_idle"),
    ({"reset": 42}, "reset"),
    ({"rebalance": "on"}, "rebalance"),
])
def test_bad_options(dsn, kwargs, word):
    for cls in (pool.SimpleConnectionPool, pool.ThreadedConnectionPool):
        with pytest.raises(pool.PoolError, match=word):
            cls(0, 1, dsn, **kwargs)


# -- rebalance: pure parts ----------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_rate_limiter_burst_then_rate():
    clock = FakeClock()
    lim = pool._RateLimiter(2.0, 3, clock)
    assert [lim.allow() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.25               # half a token
    assert lim.allow() is False
    clock.now += 0.25               # one token
    assert lim.allow() is True
    assert lim.allow() is False
    clock.now += 100                # refills up to the burst only
    assert [lim.allow() for _ in range(4)] == [True, True, True, False]


def test_rate_limiter_clock_going_back():
    clock = FakeClock()
    lim = pool._RateLimiter(1.0, 1, clock)
    assert lim.allow() is True
    clock.now -= 50
    assert lim.allow() is False
    clock.now += 1
    assert lim.allow() is True


def test_rate_limiter_bad_arguments():
    with pytest.raises(ValueError):
        pool._RateLimiter(0, 1)
    with pytest.raises(ValueError):
        pool._RateLimiter(1, 0)


def test_should_replace():
    clock = FakeClock()
    lim = pool._RateLimiter(1.0, 2, clock)
    conn = object()
    assert pool._should_replace(conn, None, lim) is False
    assert pool._should_replace(conn, lambda c: False, lim) is False
    # a well-placed connection takes no token
    assert pool._should_replace(conn, lambda c: c is conn, lim) is True
    assert pool._should_replace(conn, lambda c: 1, lim) is True
    assert pool._should_replace(conn, lambda c: True, lim) is False  # limit
    clock.now += 1
    assert pool._should_replace(conn, lambda c: True, lim) is True


def test_should_replace_predicate_error():
    lim = pool._RateLimiter(1.0, 1, FakeClock())

    def broken(conn):
        raise RuntimeError("boom")

    assert pool._should_replace(object(), broken, lim) is False
    assert lim.allow() is True      # no token taken


def test_misplaced_predicate_lookup(monkeypatch):
    def fake(conn):
        return False

    monkeypatch.setattr(loadbalance, "is_misplaced", fake, raising=False)
    assert pool._misplaced_predicate() is fake
    monkeypatch.delattr(loadbalance, "is_misplaced")
    assert pool._misplaced_predicate() is None
    monkeypatch.setattr(loadbalance, "is_misplaced", "not callable",
                        raising=False)
    assert pool._misplaced_predicate() is None


def test_rebalancer(monkeypatch):
    clock = FakeClock()
    r = pool.Rebalancer(1.0, 1, clock=clock)
    conn = object()
    monkeypatch.delattr(loadbalance, "is_misplaced", raising=False)
    assert r.should_close(conn) is False
    monkeypatch.setattr(loadbalance, "is_misplaced", lambda c: c is conn,
                        raising=False)
    assert r.should_close(object()) is False
    assert r.should_close(conn) is True
    assert r.should_close(conn) is False        # rate limited
    clock.now += 1
    assert r.should_close(conn) is True


def test_rebalance_default(dsn):
    for cls in (pool.SimpleConnectionPool, pool.ThreadedConnectionPool):
        assert cls(0, 1, dsn).rebalance is False
        assert cls(0, 1, dsn, load_balance="true").rebalance is True
        assert cls(0, 1, dsn + " load_balance=true").rebalance is True
        assert cls(0, 1, dsn=dsn, load_balance="false").rebalance is False
        assert cls(0, 1, dsn, load_balance="true",
                   rebalance=False).rebalance is False
        assert cls(0, 1, dsn, rebalance=True).rebalance is True


# -- rebalance against a server, with a fake predicate ------------------------

def test_rebalance_closes_misplaced_and_refills_lazily(
        make_pool, monitor, appname, monkeypatch):
    misplaced = set()
    monkeypatch.setattr(loadbalance, "is_misplaced",
                        lambda conn: id(conn) in misplaced, raising=False)
    p = make_pool(3, 3, rebalance=True)
    conns = [p.getconn() for _ in range(3)]
    misplaced.add(id(conns[0]))
    for c in conns:
        p.putconn(c)
    assert conns[0].closed
    assert not conns[1].closed and not conns[2].closed
    assert backends(monitor, appname, 2) == 2       # refilled lazily...
    again = [p.getconn() for _ in range(3)]
    assert backends(monitor, appname, 3) == 3       # ...by getconn
    assert conns[0] not in again


def test_rebalance_rate_limited(make_pool, monkeypatch):
    monkeypatch.setattr(loadbalance, "is_misplaced", lambda conn: True,
                        raising=False)
    p = make_pool(4, 4, rebalance=True)
    p._rebalancer = pool.Rebalancer(1.0, 2, clock=FakeClock())
    conns = [p.getconn() for _ in range(4)]
    for c in conns:
        p.putconn(c)
    assert [c.closed for c in conns] == [True, True, False, False]


def test_rebalance_off_does_not_ask(make_pool, monkeypatch):
    asked = []
    monkeypatch.setattr(loadbalance, "is_misplaced",
                        lambda conn: asked.append(conn) or True,
                        raising=False)
    p = make_pool(1, 1, rebalance=False)
    c = p.getconn()
    p.putconn(c)
    assert asked == [] and not c.closed


def test_rebalance_without_is_misplaced(make_pool, monkeypatch):
    monkeypatch.delattr(loadbalance, "is_misplaced", raising=False)
    p = make_pool(1, 1, rebalance=True)
    c = p.getconn()
    p.putconn(c)
    assert not c.closed
    assert p.getconn() is c
