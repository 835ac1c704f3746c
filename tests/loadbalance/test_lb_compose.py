"""Load balancing with every connection class: extras connections, async
connections, green mode, connection pools.

Cluster: 4 nodes, 1 and 2 in aws.east, 3 and 4 in aws.west.
"""

import io
import logging
import select
import threading

import pytest

import psycopg2
import psycopg2.extensions as ext
import psycopg2.extras
import psycopg2.pool

from lbhelpers import (NodeSpec, expected_counts, lb_dsn, node_counts,
                       only_cluster_state, start_cluster)

NODES = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def cluster():
    c = start_cluster([NodeSpec("aws.east.a"), NodeSpec("aws.east.b"),
                       NodeSpec("aws.west.a"), NodeSpec("aws.west.b")])
    yield c
    c.destroy()


def each_node(cluster, count):
    """{host: count} for every node."""
    return {cluster.nodes[i].host: count for i in NODES}


def wait_async(conn, timeout=30.0):
    """Drive an asynchronous connection with select() until POLL_OK."""
    while True:
        state = conn.poll()
        if state == ext.POLL_OK:
            return
        if state == ext.POLL_READ:
            ready = select.select([conn.fileno()], [], [], timeout)[0]
        elif state == ext.POLL_WRITE:
            ready = select.select([], [conn.fileno()], [], timeout)[1]
        else:
            raise AssertionError("unexpected poll() state %r" % state)
        assert ready, "the connection did not become ready"


def assert_spread(cluster, conns, per_node):
    """Server-side counts and the balancer's counts are `per_node` on every
    node, and the connections themselves say where they are."""
    want = each_node(cluster, per_node)
    assert cluster.wait_counts(want) == want
    assert node_counts(only_cluster_state()["nodes"]) == want
    hosts = [c.info.host for c in conns]
    assert {h: hosts.count(h) for h in set(hosts)} == want


def assert_all_released(cluster):
    assert set(node_counts(only_cluster_state()["nodes"]).values()) == {0}
    want = expected_counts(cluster)
    assert cluster.wait_counts(want) == want


# -- psycopg2.extras connection classes ---------------------------------------

@pytest.mark.parametrize("factory, row_check", [
    (psycopg2.extras.RealDictConnection,
     lambda row: row == {"node": row["node"], "one": 1}),
    (psycopg2.extras.NamedTupleConnection,
     lambda row: row.one == 1 and row._fields == ("node", "one")),
    (psycopg2.extras.DictConnection,
     lambda row: row["one"] == 1 and row[1] == 1),
])
def test_extras_connection_factories(cluster, conns, factory, row_check):
    dsn = lb_dsn(cluster, "load_balance=true")
    for _ in range(8):
        conns.append(psycopg2.connect(dsn, connection_factory=factory))
    for conn in conns:
        assert type(conn) is factory
        cur = conn.cursor()
        cur.execute("select inet_server_addr()::text as node, 1 as one")
        row = cur.fetchone()
        assert row_check(row)
        # the query ran on the node the connection reports
        node = row["node"] if isinstance(row, dict) else row[0]
        assert node.split("/")[0] == conn.info.host
        conn.rollback()
    assert_spread(cluster, conns, 2)
    conns.close_all()
    assert_all_released(cluster)


def test_cursor_factory_with_a_connection_factory(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=true")
    for _ in range(4):
        conns.append(psycopg2.connect(
            dsn, connection_factory=psycopg2.extras.NamedTupleConnection,
            cursor_factory=psycopg2.extras.RealDictCursor))
    for conn in conns:
        cur = conn.cursor()
        assert isinstance(cur, psycopg2.extras.RealDictCursor)
        cur.execute("select 1 as one")
        assert cur.fetchone() == {"one": 1}
    assert_spread(cluster, conns, 1)


def test_logging_connection(cluster, conns):
    stream = io.StringIO()
    dsn = lb_dsn(cluster, "load_balance=true")
    for _ in range(4):
        conn = psycopg2.connect(
            dsn, connection_factory=psycopg2.extras.LoggingConnection)
        conns.append(conn)
        conn.initialize(stream)
        cur = conn.cursor()
        cur.execute("select %s as marker", ("lb-logged",))
        assert cur.fetchone() == ("lb-logged",)
    logged = stream.getvalue()
    assert logged.count("select 'lb-logged' as marker") == 4
    # discovery queries are not run through the application's connections
    assert "yb_servers" not in logged
    assert_spread(cluster, conns, 1)


def test_logging_connection_to_a_logger(cluster, conns, caplog):
    logger = logging.getLogger("test_lb_compose")
    dsn = lb_dsn(cluster, "load_balance=true")
    with caplog.at_level(logging.DEBUG, logger="test_lb_compose"):
        for _ in range(4):
            conn = psycopg2.connect(
                dsn,
                connection_factory=psycopg2.extras.MinTimeLoggingConnection)
            conns.append(conn)
            conn.initialize(logger, mintime=0)
            conn.cursor().execute("select 'min-time'")
    assert sum("select 'min-time'" in r.getMessage()
               for r in caplog.records) == 4
    assert_spread(cluster, conns, 1)


# -- asynchronous connections -------------------------------------------------

def test_async_connection_poll_loop(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=true")
    for _ in range(8):
        conn = psycopg2.connect(dsn, async_=True)
        conns.append(conn)
        assert conn.async_ == 1
        wait_async(conn)
        cur = conn.cursor()
        cur.execute("select inet_server_addr()::text")
        assert conn.isexecuting()
        wait_async(conn)
        assert cur.fetchone()[0].split("/")[0] == conn.info.host
    assert_spread(cluster, conns, 2)
    conns.close_all()
    assert_all_released(cluster)


def test_async_connections_interleaved(cluster, conns):
    """Several async connections polled together, like an event loop."""
    dsn = lb_dsn(cluster, "load_balance=true")
    for _ in range(4):
        conns.append(psycopg2.connect(dsn, async_=True))
    pending = {c.fileno(): c for c in conns}
    while pending:
        readers, writers = [], []
        for fd, conn in list(pending.items()):
            state = conn.poll()
            if state == ext.POLL_OK:
                del pending[fd]
            elif state == ext.POLL_READ:
                readers.append(fd)
            else:
                writers.append(fd)
        if pending:
            assert select.select(readers, writers, [], 30) != ([], [], [])
    curs = [c.cursor() for c in conns]
    for cur in curs:
        cur.execute("select pg_sleep(0.05), 7")
    for conn in conns:
        wait_async(conn)
    assert [cur.fetchone()[1] for cur in curs] == [7] * 4
    assert_spread(cluster, conns, 1)


def test_async_with_connection_factory(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=true")
    for _ in range(4):
        conn = psycopg2.connect(
            dsn, async_=True,
            connection_factory=psycopg2.extras.RealDictConnection)
        conns.append(conn)
        wait_async(conn)
        cur = conn.cursor()
        cur.execute("select 1 as one")
        wait_async(conn)
        assert cur.fetchone() == {"one": 1}
    assert_spread(cluster, conns, 1)


# -- green mode ---------------------------------------------------------------

class CountingWait:
    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, conn):
        with self.lock:
            self.calls += 1
        psycopg2.extras.wait_select(conn)


def test_green_mode(cluster, conns):
    counter = CountingWait()
    ext.set_wait_callback(counter)
    dsn = lb_dsn(cluster, "load_balance=true")
    for _ in range(8):
        conns.append(psycopg2.connect(dsn))
    assert counter.calls >= 8
    for conn in conns:
        assert conn.async_ == 0
        cur = conn.cursor()
        cur.execute("select inet_server_addr()::text")
        assert cur.fetchone()[0].split("/")[0] == conn.info.host
        conn.commit()
    assert_spread(cluster, conns, 2)
    conns.close_all()
    assert_all_released(cluster)


def test_green_mode_threads(cluster, conns):
    ext.set_wait_callback(psycopg2.extras.wait_select)
    dsn = lb_dsn(cluster, "load_balance=true")
    lock = threading.Lock()
    errors = []

    def worker():
        try:
            for _ in range(3):
                conn = psycopg2.connect(dsn)
                with lock:
                    conns.append(conn)
                conn.cursor().execute("select pg_sleep(0.01)")
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_spread(cluster, conns, 3)


# -- pools -------------------------------------------------------------------

def test_threaded_pool_spreads_its_connections(cluster):
    pool = psycopg2.pool.ThreadedConnectionPool(
        4, 8, lb_dsn(cluster, "load_balance=true"))
    try:
        # minconn connections are opened at once, one per node
        want = each_node(cluster, 1)
        assert cluster.wait_counts(want) == want
        got = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)
        errors = []

        def borrow():
            try:
                barrier.wait()
                conn = pool.getconn()
                with lock:
                    got.append(conn)
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=borrow) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(set(map(id, got))) == 8
        with pytest.raises(psycopg2.pool.PoolError,
                           match="connection pool exhausted"):
            pool.getconn()
        assert_spread(cluster, got, 2)
        for conn in got:
            cur = conn.cursor()
            cur.execute("select inet_server_addr()::text")
            assert cur.fetchone()[0].split("/")[0] == conn.info.host
            pool.putconn(conn)
        # minconn idle connections are kept, the others closed
        assert sum(node_counts(
            only_cluster_state()["nodes"]).values()) == 4
    finally:
        pool.closeall()
    assert_all_released(cluster)


def test_pool_with_a_connection_factory(cluster):
    pool = psycopg2.pool.ThreadedConnectionPool(
        0, 4, lb_dsn(cluster, "load_balance=true"),
        connection_factory=psycopg2.extras.RealDictConnection)
    try:
        got = [pool.getconn() for _ in range(4)]
        for conn in got:
            assert isinstance(conn, psycopg2.extras.RealDictConnection)
            cur = conn.cursor()
            cur.execute("select 1 as one")
            assert cur.fetchone() == {"one": 1}
        assert_spread(cluster, got, 1)
        for conn in got:
            pool.putconn(conn)
    finally:
        pool.closeall()
    assert_all_released(cluster)


def test_pool_replaces_a_broken_connection_on_the_emptiest_node(cluster):
    pool = psycopg2.pool.ThreadedConnectionPool(
        0, 4, lb_dsn(cluster, "load_balance=true", "application_name=pooled"))
    try:
        got = [pool.getconn() for _ in range(4)]
        assert_spread(cluster, got, 1)
        victim = got.pop(0)
        host = victim.info.host
        index = next(i for i in NODES if cluster.nodes[i].host == host)
        assert cluster.terminate_backends(index,
                                          application_name="pooled") == 1
        with pytest.raises(psycopg2.OperationalError):
            victim.cursor().execute("select 1")
        pool.putconn(victim)            # broken: discarded by the pool
        fresh = pool.getconn()
        assert fresh is not victim
        assert fresh.info.host == host
        got.append(fresh)
        assert_spread(cluster, got, 1)
        for conn in got:
            pool.putconn(conn)
    finally:
        pool.closeall()
    assert_all_released(cluster)
