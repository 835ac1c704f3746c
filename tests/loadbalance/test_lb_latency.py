"""A zone far away: topology keys keep connections on the local zone.

Zone ``near`` has nodes 1 and 2; zone ``far`` has nodes 3 and 4, which
yb_servers() lists at 127.0.0.13 and 127.0.0.14, where a proxy
(tests/loadbalance/tcpdelay.py) forwards to them with DELAY seconds each
way.
"""

import logging
import statistics
import time

import pytest

import psycopg2

from lbhelpers import NodeSpec, expected_counts, lb_dsn, start_cluster
from tcpdelay import DelayProxy

logger = logging.getLogger("lbfault")

DELAY = 0.05


@pytest.fixture(scope="module")
def cluster():
    c = start_cluster([NodeSpec("c.r.near"), NodeSpec("c.r.near"),
                       NodeSpec("c.r.far", advertise_host="127.0.0.13"),
                       NodeSpec("c.r.far", advertise_host="127.0.0.14")])
    proxies = []
    try:
        for i in (3, 4):
            proxies.append(DelayProxy((c.nodes[i].advertise_host, c.port),
                                      (c.nodes[i].host, c.port), DELAY))
        c.proxies = proxies
        yield c
    finally:
        for p in proxies:
            p.close()
        c.destroy()


def round_trip(conn):
    """Seconds taken by one `select 1`."""
    cur = conn.cursor()
    t0 = time.monotonic()
    cur.execute("select 1")
    cur.fetchone()
    return time.monotonic() - t0


def timed_connects(n, dsn, conns):
    """n connects; return (connect durations, query round trips)."""
    connect, query = [], []
    for _ in range(n):
        t0 = time.monotonic()
        conns.append(psycopg2.connect(dsn))
        connect.append(time.monotonic() - t0)
        query.append(round_trip(conns[-1]))
    return connect, query


def test_far_zone_is_slow(cluster, conns):
    # the proxy works: a far node costs at least a delayed round trip
    conns.append(psycopg2.connect(cluster.node_dsn(1).replace(
        cluster.nodes[1].host, "127.0.0.13")))
    assert conns[-1].info.host == "127.0.0.13"
    assert round_trip(conns[-1]) >= 2 * DELAY
    assert sum(p.connections for p in cluster.proxies) >= 1


def test_topology_keys_keep_connections_local(cluster, conns):
    local_connect, local_query = timed_connects(
        8, lb_dsn(cluster, "load_balance=true topology_keys=c.r.near"), conns)
    want = expected_counts(cluster, n1=4, n2=4)
    assert cluster.wait_counts(want) == want
    conns.close_all()
    spread_connect, spread_query = timed_connects(
        8, lb_dsn(cluster, "load_balance=true"), conns)
    want = expected_counts(cluster, n1=2, n2=2, n3=2, n4=2)
    assert cluster.wait_counts(want) == want
    far = [q for c, q in zip(conns, spread_query)
           if c.info.host in ("127.0.0.13", "127.0.0.14")]
    assert len(far) == 4 and min(far) >= 2 * DELAY
    logger.info("delay proxy %.0f ms each way: with topology_keys=c.r.near "
                "8/8 connections local, median connect %.1f ms, query "
                "%.1f ms; without keys 4/8 far, median connect %.1f ms, "
                "far query %.1f ms", DELAY * 1000,
                statistics.median(local_connect) * 1000,
                statistics.median(local_query) * 1000,
                statistics.median(spread_connect) * 1000,
                statistics.median(far) * 1000)


def test_far_zone_used_when_local_zone_is_down(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=true topology_keys=c.r.near:1,"
                 "c.r.far:2 failed_host_ttl_seconds=60", index=3)
    for i in (1, 2):
        cluster.stop_node(i)
    try:
        for _ in range(4):
            conns.append(psycopg2.connect(dsn))
    finally:
        for i in (1, 2):
            cluster.start_node(i)
    assert sorted(c.info.host for c in conns) == [
        "127.0.0.13", "127.0.0.13", "127.0.0.14", "127.0.0.14"]
