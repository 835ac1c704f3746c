"""Pools that move their connections back when a node returns
(is_misplaced()), the per-node cap, refresh() and the counters of
cluster_state(), on a 4-node cluster (3 nodes in aws.east, 1 in aws.west)."""

import logging
import threading
import time

import pytest

import psycopg2
import psycopg2.pool
from psycopg2 import loadbalance

from lbhelpers import (NodeSpec, lb_dsn, node_counts, only_cluster_state,
                       start_cluster)

logger = logging.getLogger(__name__)
TTL = 2


@pytest.fixture(scope="module")
def cluster():
    specs = [NodeSpec("aws.east.z%d" % i) for i in range(1, 4)]
    specs.append(NodeSpec("aws.west.z4"))
    c = start_cluster(specs)
    yield c
    c.destroy()


def spread(cluster, total, timeout=15):
    """Server-side counts of the running nodes once they sum to `total`."""
    deadline = time.monotonic() + timeout
    while True:
        counts = cluster.connection_counts()
        if sum(counts.values()) == total or time.monotonic() > deadline:
            return counts
        time.sleep(0.1)


def select_one(conn):
    cur = conn.cursor()
    cur.execute("select 1")
    cur.fetchone()
    conn.rollback()


def churn(pool, nthreads, each, seconds, errors, use=select_one):
    """getconn/putconn in `nthreads` threads, `each` connections at a time
    per thread, each `use`d once, for `seconds`; exceptions go to
    `errors`."""
    stop = time.monotonic() + seconds

    def worker():
        while time.monotonic() < stop:
            held = []
            try:
                for _ in range(each):
                    held.append(pool.getconn())
                for conn in held:
                    use(conn)
            except Exception as e:
                errors.append(e)
            finally:
                for conn in held:
                    pool.putconn(conn)
            time.sleep(0.01)

    threads = [threading.Thread(target=worker) for _ in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "churn threads hung"


def node_2_down_and_back(cluster, pool, label, use=select_one):
    """The pool's 12 connections at 3/3/3/3 on 4 nodes; node 2 stopped while
    4 threads use the pool (the connections go 4/4/4 on the others), then
    started again: the pool, still in use, comes back to 3/3/3/3 within the
    TTL plus 15 s, with no error seen by the threads."""
    hosts = [cluster.nodes[i].host for i in (1, 2, 3, 4)]
    before = spread(cluster, 12)
    assert sorted(before.values()) == [3, 3, 3, 3], before
    cluster.stop_node(2)
    try:
        errors = []
        # checkout checks find node 2's connections dead and open new ones,
        # which the balancer puts on the other nodes
        churn(pool, 4, 3, 1.5, errors, use)
        down = spread(cluster, 12)
        assert hosts[1] not in down
        assert sorted(down.values()) == [4, 4, 4], (down, errors)
    finally:
        cluster.start_node(2)
    started = time.monotonic()
    errors = []
    after = {}
    while time.monotonic() < started + TTL + 15:
        churn(pool, 4, 3, 0.5, errors, use)
        after = cluster.connection_counts()
        if sorted(after.values()) == [3, 3, 3, 3]:
            break
    logger.warning("%s: before %s, node 2 down %s, after %s, "
                   "converged in %.1fs (TTL %ds)", label,
                   [before[h] for h in hosts],
                   [down.get(h, 0) for h in hosts],
                   [after.get(h, 0) for h in hosts],
                   time.monotonic() - started, TTL)
    assert not errors, errors
    assert sorted(after.values()) == [3, 3, 3, 3], after
    return after


def test_pool_converges_back_when_a_node_returns(cluster):
    dsn = lb_dsn(cluster, "load_balance=true",
                 "failed_host_ttl_seconds=%d" % TTL)
    pool = psycopg2.pool.ThreadedConnectionPool(12, 12, dsn, check=True,
                                                check_idle=0)
    try:
        assert pool.rebalance
        after = node_2_down_and_back(cluster, pool, "rebalance")
        assert node_counts(only_cluster_state()["nodes"]) == after
        # balanced: nothing is misplaced any more
        conns = [pool.getconn() for _ in range(12)]
        try:
            assert not any(loadbalance.is_misplaced(c) for c in conns)
        finally:
            for c in conns:
                pool.putconn(c)
    finally:
        pool.closeall()


def test_pool_comes_back_to_the_preferred_zone(cluster):
    west = cluster.nodes[4].host
    dsn = lb_dsn(cluster, "load_balance=true",
                 "topology_keys=aws.west.z4:1,aws.east.*:2",
                 "failed_host_ttl_seconds=%d" % TTL)
    pool = psycopg2.pool.ThreadedConnectionPool(6, 6, dsn, check=True,
                                                check_idle=0)
    try:
        assert spread(cluster, 6)[west] == 6
        cluster.stop_node(4)
        try:
            errors = []
            churn(pool, 2, 3, 1.0, errors)
            down = spread(cluster, 6)
            assert sorted(down.values()) == [2, 2, 2], (down, errors)
        finally:
            cluster.start_node(4)
        started = time.monotonic()
        errors = []
        after = {}
        while time.monotonic() < started + TTL + 15:
            churn(pool, 2, 3, 0.5, errors)
            after = cluster.connection_counts()
            if after[west] == 6:
                break
        logger.warning("zone fallback: down %s, back %s in %.1fs", down,
                       after, time.monotonic() - started)
        assert not errors, errors
        assert after[west] == 6, after
    finally:
        pool.closeall()


def test_misplacement_of_real_connections(cluster):
    plain = psycopg2.connect(cluster.seed_dsn)
    try:
        assert loadbalance.misplacement(plain) is None
        assert loadbalance.is_misplaced(plain) is False
    finally:
        plain.close()
    with pytest.raises(psycopg2.ProgrammingError, match="margin"):
        loadbalance.is_misplaced(plain, margin=0)
    dsn = lb_dsn(cluster, "load_balance=true")
    conns = [psycopg2.connect(dsn) for _ in range(6)]
    try:
        assert not any(loadbalance.is_misplaced(c) for c in conns)
        # close the connections of one node: the others' nodes now have 2
        # more than it
        by_host = {}
        for c in conns:
            by_host.setdefault(c.info.host, []).append(c)
        full = [cs for cs in by_host.values() if len(cs) == 2]
        assert len(full) == 2, by_host
        for c in full[0]:
            c.close()
        why = loadbalance.misplacement(full[1][0])
        assert why and "margin 2" in why, why
        assert loadbalance.is_misplaced(full[1][0], margin=3) is False
        # a zone preference: the west node is misplaced for east-first
        west = psycopg2.connect(lb_dsn(
            cluster, "load_balance=true",
            "topology_keys=aws.west.z4:1,aws.east.*:2"))
        conns.append(west)
        assert west.info.host == cluster.nodes[4].host
        assert not loadbalance.is_misplaced(west)
        assert loadbalance.is_misplaced(full[0][0]) is False   # closed
    finally:
        for c in conns:
            c.close()


def cap_dsn(cluster, cap=2):
    return lb_dsn(cluster, "load_balance=true", "topology_keys=aws.east.*",
                  "fallback_to_topology_keys_only=true",
                  "max_connections_per_node=%d" % cap)


def test_cap_two_on_three_nodes(cluster):
    conns = []
    try:
        for _ in range(6):
            conns.append(psycopg2.connect(cap_dsn(cluster)))
        with pytest.raises(psycopg2.OperationalError,
                           match="max_connections_per_node=2"):
            psycopg2.connect(cap_dsn(cluster))
        counts = spread(cluster, 6)
        east = [cluster.nodes[i].host for i in (1, 2, 3)]
        assert counts == dict({h: 2 for h in east},
                              **{cluster.nodes[4].host: 0}), counts
        # a slot given back is usable again
        conns.pop().close()
        conns.append(psycopg2.connect(cap_dsn(cluster)))
    finally:
        for c in conns:
            c.close()


def test_cap_is_exact_under_threads(cluster):
    nthreads = 8
    barrier = threading.Barrier(nthreads)
    lock = threading.Lock()
    conns, errors = [], []

    def worker():
        barrier.wait()
        for _ in range(2):
            try:
                conn = psycopg2.connect(cap_dsn(cluster, 3))
            except psycopg2.OperationalError as e:
                with lock:
                    errors.append(e)
            else:
                with lock:
                    conns.append(conn)

    threads = [threading.Thread(target=worker) for _ in range(nthreads)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(conns) == 9 and len(errors) == 7, (conns, errors)
        assert all("max_connections_per_node=3" in str(e) for e in errors)
        counts = spread(cluster, 9)
        assert max(counts.values()) == 3 and sum(counts.values()) == 9
        assert counts[cluster.nodes[4].host] == 0
    finally:
        for c in conns:
            c.close()


def test_refresh_and_counters(cluster):
    dsn = lb_dsn(cluster, "load_balance=true", "failed_host_ttl_seconds=60")
    conns = [psycopg2.connect(dsn) for _ in range(4)]
    try:
        state = only_cluster_state()
        assert state["refreshes"] == 1 and state["refresh_errors"] == 0
        assert state["last_refresh_error"] is None
        for node in state["nodes"]:
            assert node["connections_opened"] == 1
            assert node["failures"] == 0
            assert node["last_failure_reason"] is None
            assert node["last_failed_at"] is None
        loadbalance.refresh()
        assert only_cluster_state()["refreshes"] == 2
        loadbalance.refresh(dsn)
        assert only_cluster_state()["refreshes"] == 3
        host3 = cluster.nodes[3].host
        conn3 = next(c for c in conns if c.info.host == host3)
        conn3.close()   # node 3 has the fewest: the next connect tries it
        cluster.stop_node(3)
        try:
            t0 = time.time()
            conns.append(psycopg2.connect(dsn))
            assert conns[-1].info.host != host3
            node3 = next(n for n in only_cluster_state()["nodes"]
                         if n["host"] == host3)
            assert node3["failures"] == 1 and node3["failed"]
            assert node3["last_failure_reason"]
            assert t0 - 1 <= node3["last_failed_at"] <= time.time() + 1
            # a cluster reached through node 3 only: never read, the
            # refresh raises, and the error is kept
            with pytest.raises(psycopg2.OperationalError, match=host3):
                loadbalance.refresh(lb_dsn(cluster, index=3))
            states = loadbalance.cluster_state()
            assert len(states) == 2
            other = next(s for s in states.values() if s["nodes"] == [])
            assert other["refresh_errors"] == 1
            assert other["refresh_attempts"] == 1
            assert host3 in other["last_refresh_error"]
            assert other["refreshes"] == 0
            # refresh() of all: the main cluster is read, the error of the
            # other one is raised
            with pytest.raises(psycopg2.OperationalError,
                               match="could not refresh"):
                loadbalance.refresh()
            main = next(s for s in loadbalance.cluster_state().values()
                        if s["nodes"])
            assert main["refreshes"] == 4 and main["refresh_errors"] == 0
        finally:
            cluster.start_node(3)
    finally:
        for c in conns:
            c.close()


def test_sqlalchemy_queuepool_converges_with_the_checkin_recipe(cluster):
    # the recipe of doc/pool.rst: a checkin listener invalidating the
    # connections that psycopg2.pool.Rebalancer says to close
    try:
        from sqlalchemy import create_engine, event, text
    except ImportError:
        pytest.fail("SQLAlchemy is not installed in this Python: "
                    "pip install -r tests/requirements.txt")
    from ybcluster import DATABASE, SUPERUSER
    url = ("postgresql+psycopg2://%s@%s:%d/%s?load_balance=true"
           "&failed_host_ttl_seconds=%d" % (
               SUPERUSER, cluster.nodes[1].host, cluster.port, DATABASE, TTL))
    engine = create_engine(url, pool_size=12, max_overflow=0,
                           pool_pre_ping=True, pool_timeout=30)
    rebalancer = psycopg2.pool.Rebalancer()

    @event.listens_for(engine, "checkin")
    def rebalance(dbapi_connection, connection_record):
        if dbapi_connection is not None \
                and rebalancer.should_close(dbapi_connection):
            connection_record.invalidate()

    class EnginePool:
        """The engine's pool seen through getconn()/putconn()."""
        getconn = engine.connect

        @staticmethod
        def putconn(conn):
            conn.close()

    try:
        held = [engine.connect() for _ in range(12)]
        for conn in held:
            conn.close()
        node_2_down_and_back(
            cluster, EnginePool, "SQLAlchemy QueuePool",
            use=lambda conn: conn.execute(text("select 1")).scalar_one())
    finally:
        engine.dispose()
