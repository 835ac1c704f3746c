"""Uniform spread and exact connection counts on a 10-node cluster."""

import gc
import threading

import pytest

import psycopg2
import psycopg2.extensions
import psycopg2.pool
from psycopg2 import loadbalance

from lbhelpers import (NodeSpec, expected_counts, lb_dsn, node_counts,
                       only_cluster_state, start_cluster)


@pytest.fixture(scope="module")
def cluster():
    specs = [NodeSpec("aws.east.z%d" % i) for i in range(1, 6)]
    specs += [NodeSpec("aws.west.z%d" % i) for i in range(6, 11)]
    c = start_cluster(specs)
    yield c
    c.destroy()


def hosts_of(cluster, *indexes):
    return [cluster.nodes[i].host for i in indexes]


def connect_many(n, dsn, conns, **kwargs):
    for _ in range(n):
        conns.append(psycopg2.connect(dsn, **kwargs))


def test_100_connections_over_10_nodes_give_10_each(cluster, conns):
    connect_many(100, lb_dsn(cluster, "load_balance=true"), conns)
    want = {h: 10 for h in hosts_of(cluster, *range(1, 11))}
    assert cluster.wait_counts(want) == want
    assert node_counts(only_cluster_state()["nodes"]) == want


def test_not_divisible_count_differs_by_one_at_most(cluster, conns):
    connect_many(12, lb_dsn(cluster, "load_balance=true"), conns)
    counts = cluster.wait_counts(expected_counts(cluster))
    assert sorted(counts.values()) == [1] * 8 + [2] * 2
    assert node_counts(only_cluster_state()["nodes"]) == counts


def test_12_over_5_nodes_of_a_region(cluster, conns):
    connect_many(12, lb_dsn(cluster, "load_balance=true",
                            "topology_keys=aws.east.*"), conns)
    counts = cluster.connection_counts()
    for _ in range(50):
        if sum(counts.values()) == 12:
            break
        counts = cluster.connection_counts()
    east = [counts[h] for h in hosts_of(cluster, 1, 2, 3, 4, 5)]
    west = [counts[h] for h in hosts_of(cluster, 6, 7, 8, 9, 10)]
    assert sorted(east) == [2, 2, 2, 3, 3]
    assert west == [0] * 5


def test_threads_opening_at_once_give_an_exact_spread(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=true")
    nthreads, each = 8, 25
    barrier = threading.Barrier(nthreads)
    lock = threading.Lock()
    errors = []

    def worker():
        try:
            barrier.wait()
            for _ in range(each):
                conn = psycopg2.connect(dsn)
                with lock:
                    conns.append(conn)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    want = {h: 20 for h in hosts_of(cluster, *range(1, 11))}
    assert cluster.wait_counts(want) == want
    assert node_counts(only_cluster_state()["nodes"]) == want


def test_dsn_uri_and_kwargs_forms(cluster, conns):
    port = cluster.port
    connect_many(4, lb_dsn(cluster, "load_balance = 'true'"), conns)
    connect_many(3, "postgresql://yugabyte@127.0.0.1:%d/yugabyte"
                    "?load_balance=true&application_name=lbtest" % port,
                 conns)
    connect_many(3, None, conns, host="127.0.0.1", port=port,
                 user="yugabyte", dbname="yugabyte", load_balance="True")
    want = {h: 1 for h in hosts_of(cluster, *range(1, 11))}
    assert cluster.wait_counts(want) == want
    # the URI's other parameters are kept
    assert sum(c.get_parameter_status("application_name") == "lbtest"
               for c in conns) == 3


def test_count_falls_on_close(cluster, conns):
    connect_many(20, lb_dsn(cluster, "load_balance=true"), conns)
    on3 = [c for c in conns if c.info.host == cluster.nodes[3].host]
    assert len(on3) == 2
    for c in on3:
        c.close()
        conns.remove(c)
    state = node_counts(only_cluster_state()["nodes"])
    assert state[cluster.nodes[3].host] == 0
    connect_many(2, lb_dsn(cluster, "load_balance=true"), conns)
    want = {h: 2 for h in hosts_of(cluster, *range(1, 11))}
    assert cluster.wait_counts(want) == want
    # closing twice does not count twice
    conns[0].close()
    conns[0].close()
    state = node_counts(only_cluster_state()["nodes"])
    assert sum(state.values()) == 19


def test_count_falls_on_garbage_collection(cluster, conns):
    connect_many(10, lb_dsn(cluster, "load_balance=true"), conns)
    host2 = cluster.nodes[2].host
    victim = next(c for c in conns if c.info.host == host2)
    conns.remove(victim)
    del victim
    gc.collect()
    assert node_counts(only_cluster_state()["nodes"])[host2] == 0
    connect_many(1, lb_dsn(cluster, "load_balance=true"), conns)
    assert conns[-1].info.host == host2


def test_count_falls_when_the_server_terminates_the_backend(cluster, conns):
    connect_many(10, lb_dsn(cluster, "load_balance=true",
                            "application_name=victims"), conns)
    assert cluster.terminate_backends(4, application_name="victims") == 1
    host4 = cluster.nodes[4].host
    counts = node_counts(only_cluster_state()["nodes"])
    for _ in range(100):        # the backend exits asynchronously
        if counts[host4] == 0:
            break
        threading.Event().wait(0.05)
        counts = node_counts(only_cluster_state()["nodes"])
    assert counts[host4] == 0
    assert sum(counts.values()) == 9
    connect_many(1, lb_dsn(cluster, "load_balance=true"), conns)
    assert conns[-1].info.host == host4


def test_no_drift_after_many_opens_and_closes(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=true")
    keep = []
    for i in range(600):
        conn = psycopg2.connect(dsn)
        if i % 3 == 0:
            conn.close()
        elif i % 3 == 1:
            del conn
        else:
            keep.append(conn)
            if len(keep) > 15:
                keep.pop(0).close()
    gc.collect()
    state = node_counts(only_cluster_state()["nodes"])
    assert sum(state.values()) == len(keep)
    for c in keep:
        c.close()
    state = node_counts(only_cluster_state()["nodes"])
    assert set(state.values()) == {0}
    assert cluster.wait_counts(expected_counts(cluster)) == \
        expected_counts(cluster)


def test_pool_of_load_balanced_connections_spreads(cluster):
    pool = psycopg2.pool.ThreadedConnectionPool(
        10, 10, lb_dsn(cluster, "load_balance=true"))
    try:
        got = [pool.getconn() for _ in range(10)]
        want = {h: 1 for h in hosts_of(cluster, *range(1, 11))}
        assert cluster.wait_counts(want) == want
        for c in got:
            pool.putconn(c)
    finally:
        pool.closeall()
    assert set(node_counts(only_cluster_state()["nodes"]).values()) == {0}


def test_sqlalchemy_engine_spreads_its_pool(cluster):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(
        "postgresql+psycopg2://yugabyte@127.0.0.1:%d/yugabyte"
        "?load_balance=true" % cluster.port, pool_size=10, max_overflow=0)
    try:
        held = [engine.connect() for _ in range(10)]
        for c in held:
            assert c.execute(sqlalchemy.text("select 1")).scalar() == 1
        want = {h: 1 for h in hosts_of(cluster, *range(1, 11))}
        assert cluster.wait_counts(want) == want
        for c in held:
            c.close()
    finally:
        engine.dispose()
    assert cluster.wait_counts(expected_counts(cluster)) == \
        expected_counts(cluster)


class MyConnection(psycopg2.extensions.connection):
    def __init__(self, dsn, *args, **kwargs):
        self.created_with = dsn
        super().__init__(dsn, *args, **kwargs)


class MyCursor(psycopg2.extensions.cursor):
    pass


def test_connection_and_cursor_factories(cluster, conns):
    connect_many(10, lb_dsn(cluster, "load_balance=true"), conns,
                 connection_factory=MyConnection, cursor_factory=MyCursor)
    for c in conns:
        assert isinstance(c, MyConnection)
        assert "load_balance" not in c.created_with
        cur = c.cursor()
        assert isinstance(cur, MyCursor)
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
    want = {h: 1 for h in hosts_of(cluster, *range(1, 11))}
    assert cluster.wait_counts(want) == want


def test_async_connections_are_balanced(cluster, conns):
    import select
    for _ in range(10):
        conn = psycopg2.connect(lb_dsn(cluster, "load_balance=true"),
                                async_=True)
        conns.append(conn)
        while True:
            state = conn.poll()
            if state == psycopg2.extensions.POLL_OK:
                break
            if state == psycopg2.extensions.POLL_READ:
                select.select([conn.fileno()], [], [], 10)
            else:
                select.select([], [conn.fileno()], [], 10)
    want = {h: 1 for h in hosts_of(cluster, *range(1, 11))}
    assert cluster.wait_counts(want) == want
    conns.close_all()
    assert set(node_counts(only_cluster_state()["nodes"]).values()) == {0}


def test_cluster_state_lists_nodes_with_counts(cluster, conns):
    assert loadbalance.cluster_state() == {}
    connect_many(3, lb_dsn(cluster, "load_balance=true"), conns)
    state = only_cluster_state()
    assert state["yugabytedb"] is True
    assert len(state["nodes"]) == 10
    node = state["nodes"][0]
    for key in ("host", "port", "node_type", "cloud", "region", "zone",
                "public_ip", "uuid", "connections", "failed"):
        assert key in node
    assert sum(n["connections"] for n in state["nodes"]) == 3
    assert not any(n["failed"] for n in state["nodes"])
