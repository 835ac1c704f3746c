"""A node that silently drops packets: connects time out, healthy nodes serve.

The nodes run in network namespaces (tests/loadbalance/netns.py); the
black-holed node's end of its veth is down, so a TCP connect to it waits
for ``connect_timeout`` instead of being refused.  Needs root: without
network namespaces the tests fail saying so.
"""

import logging
import math
import threading
import time

import pytest

import psycopg2

import netns
from lbhelpers import NodeSpec

logger = logging.getLogger("lbfault")

TIMEOUT = 2         # connect_timeout of every connect here
TTL = 5             # failed_host_ttl_seconds
THREADS = 8
RUN_SECONDS = 20


@pytest.fixture(scope="module")
def nscluster():
    c = netns.start_netns_cluster([NodeSpec("c.r.a"), NodeSpec("c.r.b"),
                                   NodeSpec("c.r.c")])
    yield c
    netns.destroy_netns_cluster(c)


def dsn_of(cluster, *extra, index=1):
    return " ".join((cluster.node_dsn(index), "load_balance=true",
                     "connect_timeout=%d" % TIMEOUT,
                     "failed_host_ttl_seconds=%d" % TTL) + extra)


class Hammer:
    """THREADS threads connecting and closing for RUN_SECONDS."""

    def __init__(self, dsn, seconds=RUN_SECONDS):
        self.dsn = dsn
        self.seconds = seconds
        self.durations = []
        self.hosts = {}
        self.errors = []
        self.lock = threading.Lock()

    def worker(self, stop_at):
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            try:
                conn = psycopg2.connect(self.dsn)
            except psycopg2.Error as e:
                with self.lock:
                    self.errors.append(str(e))
                continue
            took = time.monotonic() - t0
            with self.lock:
                self.durations.append(took)
                self.hosts[conn.info.host] = self.hosts.get(
                    conn.info.host, 0) + 1
            conn.close()
            time.sleep(0.05)

    def run(self):
        stop_at = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self.worker, args=(stop_at,))
                   for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.seconds + 10 * TIMEOUT)
        assert not any(t.is_alive() for t in threads), "connects hang"

    def check(self, cluster, down, what):
        """Log the figures; assert no error, no connect to `down`, no
        connect waiting two timeouts, at most one timeout per thread and
        TTL window."""
        d = self.durations
        waited = [x for x in d if x >= TIMEOUT - 1]
        doubled = [x for x in d if x > 1.75 * TIMEOUT]
        logger.info("%s: %d connects by %d threads in %d s, %d errors, "
                    "max %.2f s, %d waited a timeout, %d waited more than "
                    "one; hosts %s", what, len(d), THREADS, self.seconds,
                    len(self.errors), max(d), len(waited), len(doubled),
                    self.hosts)
        assert self.errors == []
        assert cluster.net.address(down) not in self.hosts
        assert len(self.hosts) == len(cluster.nodes) - 1
        assert doubled == [], sorted(d)[-10:]
        windows = math.ceil(self.seconds / TTL) + 1
        assert len(waited) <= THREADS * windows, sorted(d)[-20:]
        return waited


def test_black_holed_connect_times_out(nscluster):
    # the black hole itself: a plain connect waits for connect_timeout
    nscluster.net.black_hole(3)
    try:
        t0 = time.monotonic()
        with pytest.raises(psycopg2.OperationalError) as exc:
            psycopg2.connect(nscluster.node_dsn(3)
                             + " connect_timeout=%d" % TIMEOUT)
        took = time.monotonic() - t0
    finally:
        nscluster.net.restore(3)
    assert "timeout" in str(exc.value)
    assert TIMEOUT - 1 <= took < TIMEOUT + 5
    psycopg2.connect(nscluster.node_dsn(3)).close()


def test_black_holed_node_costs_one_timeout_per_ttl_window(nscluster):
    dsn = dsn_of(nscluster)
    psycopg2.connect(dsn).close()           # node list cached
    hammer = Hammer(dsn)
    nscluster.net.black_hole(3)
    try:
        hammer.run()
    finally:
        nscluster.net.restore(3)
    waited = hammer.check(nscluster, 3, "black hole")
    # the black-holed node was tried (and cost a timeout)
    assert len(waited) >= 1


def test_black_holed_seed_with_frequent_refreshes(nscluster):
    # the seed is the black-holed node and the list is read every second:
    # a refresh goes through the other nodes while the seed is failed
    dsn = dsn_of(nscluster, "yb_servers_refresh_interval=1", index=3)
    psycopg2.connect(dsn).close()
    hammer = Hammer(dsn, seconds=10)
    nscluster.net.black_hole(3)
    try:
        hammer.run()
    finally:
        nscluster.net.restore(3)
    hammer.check(nscluster, 3, "black-holed seed, refresh every 1 s")


def test_refresh_tries_a_black_holed_seed_once(nscluster, conns):
    # the seed (node 1) is also a known node: a refresh must not wait for
    # it twice, and the connect that follows must not choose it
    dsn = dsn_of(nscluster, "yb_servers_refresh_interval=1")
    # one connection per node but node 1: it would be the next chosen
    for _ in range(3):
        conns.append(psycopg2.connect(dsn))
    conns.pop(next(i for i, c in enumerate(conns)
                   if c.info.host == nscluster.net.address(1))).close()
    nscluster.net.black_hole(1)
    try:
        time.sleep(1.2)                     # the list is due for refresh
        t0 = time.monotonic()
        conn = psycopg2.connect(dsn)
        took = time.monotonic() - t0
        conns.append(conn)
    finally:
        nscluster.net.restore(1)
    logger.info("refresh through a black-holed seed: %.2f s", took)
    assert conn.info.host != nscluster.net.address(1)
    assert took < 1.75 * TIMEOUT
