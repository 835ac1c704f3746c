"""Failed nodes, seed hosts, node list refresh, discovery queries."""

import socket
import threading

import pytest

import psycopg2
from psycopg2 import loadbalance

from lbhelpers import (NodeSpec, expected_counts, lb_dsn, node_counts,
                       only_cluster_state, start_cluster)


@pytest.fixture(scope="module")
def cluster():
    c = start_cluster([NodeSpec("c.r.a"), NodeSpec("c.r.b"),
                       NodeSpec("c.r.c")])
    yield c
    c.destroy()


@pytest.fixture
def fresh():
    """A 3-node cluster of its own, for tests that change the node list."""
    clusters = []

    def make(specs=None, **kwargs):
        c = start_cluster(specs or [NodeSpec("c.r.a"), NodeSpec("c.r.b"),
                                    NodeSpec("c.r.c")], **kwargs)
        clusters.append(c)
        return c

    yield make
    for c in clusters:
        c.destroy()


def open_n(n, dsn, conns):
    for _ in range(n):
        conns.append(psycopg2.connect(dsn))


def state_node(host):
    return next(n for n in only_cluster_state()["nodes"] if n["host"] == host)


def test_failed_node_is_skipped_then_retried_after_ttl(cluster, conns):
    base = lb_dsn(cluster, "load_balance=true")
    open_n(3, base, conns)     # 1 each, node list cached
    cluster.stop_node(2)
    try:
        # node 2 has the fewest connections once node 1 and 3 have 2: it
        # is tried, fails, and the same connect() goes on to another node
        open_n(4, base + " failed_host_ttl_seconds=60", conns)
        host2 = cluster.nodes[2].host
        node = state_node(host2)
        assert node["failed"] and node["fail_reason"]
        assert cluster.wait_counts(expected_counts(cluster, n1=3, n3=3)) == \
            expected_counts(cluster, n1=3, n3=3)
    finally:
        cluster.start_node(2)
    # within the TTL the node stays skipped although it is back
    open_n(2, base + " failed_host_ttl_seconds=60", conns)
    assert all(c.info.host != cluster.nodes[2].host for c in conns[-2:])
    # after the TTL (0 here) it is tried again, and used
    open_n(1, base + " failed_host_ttl_seconds=0", conns)
    assert conns[-1].info.host == cluster.nodes[2].host
    assert not state_node(cluster.nodes[2].host)["failed"]


def test_failed_node_is_not_retried_at_every_connect(cluster, conns):
    cluster.stop_node(3)
    try:
        # with 3 connections over 3 nodes, node 3 is tried at some point
        open_n(3, lb_dsn(cluster, "load_balance=true"), conns)
        node = state_node(cluster.nodes[3].host)
        assert node["failed"]
        first = node["failed_seconds_ago"]
        threading.Event().wait(0.3)
        open_n(4, lb_dsn(cluster, "load_balance=true"), conns)
        # skipped, not tried (and marked) again
        assert state_node(cluster.nodes[3].host)["failed_seconds_ago"] >= \
            first + 0.3
    finally:
        cluster.start_node(3)
    counts = cluster.wait_counts(expected_counts(cluster, n1=4, n2=3))
    assert counts[cluster.nodes[3].host] == 0
    assert sorted(counts.values()) == [0, 3, 4]


def test_every_node_down_lists_each_node_and_error(cluster):
    psycopg2.connect(lb_dsn(cluster, "load_balance=true")).close()
    for i in (1, 2, 3):
        cluster.stop_node(i)
    try:
        with pytest.raises(psycopg2.OperationalError) as exc:
            psycopg2.connect(lb_dsn(cluster, "load_balance=true"))
        msg = str(exc.value)
        for i in (1, 2, 3):
            assert "%s:%d" % (cluster.nodes[i].host, cluster.port) in msg
    finally:
        for i in (1, 2, 3):
            cluster.start_node(i)


def test_several_seed_hosts_first_down(cluster, conns):
    # nothing listens on 127.0.0.9
    dsn = ("host=127.0.0.9,127.0.0.2 port=%d user=yugabyte dbname=yugabyte "
           "load_balance=true" % cluster.port)
    open_n(6, dsn, conns)
    want = expected_counts(cluster, n1=2, n2=2, n3=2)
    assert cluster.wait_counts(want) == want


def test_no_seed_reachable_raises(cluster):
    dsn = ("host=127.0.0.9,127.0.0.10 port=%d user=yugabyte dbname=yugabyte "
           "load_balance=true" % cluster.port)
    with pytest.raises(psycopg2.OperationalError) as exc:
        psycopg2.connect(dsn)
    assert "127.0.0.9" in str(exc.value) and "127.0.0.10" in str(exc.value)


def test_connect_timeout_applies_to_each_node(cluster, conns):
    """A node that accepts TCP but never answers times out and is skipped."""
    cluster.stop_node(3)
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind((cluster.nodes[3].host, cluster.port))
    silent.listen(16)
    try:
        # with 3 connections over 3 nodes, node 3 is tried at some point
        open_n(3, lb_dsn(cluster, "load_balance=true connect_timeout=2"),
               conns)
        node = state_node(cluster.nodes[3].host)
        assert node["failed"]
        assert "timeout" in node["fail_reason"]
        assert {c.info.host for c in conns} == {cluster.nodes[1].host,
                                                cluster.nodes[2].host}
    finally:
        silent.close()
        cluster.start_node(3)


def test_wrong_database_raises_without_marking_nodes(cluster):
    psycopg2.connect(lb_dsn(cluster, "load_balance=true")).close()
    dsn = ("host=127.0.0.1 port=%d user=yugabyte dbname=nosuchdb "
           "load_balance=true" % cluster.port)
    with pytest.raises(psycopg2.OperationalError) as exc:
        psycopg2.connect(dsn)
    assert "nosuchdb" in str(exc.value)


def test_yb_servers_read_once_per_interval_from_8_threads(cluster):
    cluster.reset_yb_servers_calls()
    dsn = lb_dsn(cluster, "load_balance=true")
    barrier = threading.Barrier(8)
    errors = []

    def worker():
        try:
            barrier.wait()
            for _ in range(40):
                psycopg2.connect(dsn).close()
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cluster.yb_servers_calls() == 1
    assert set(node_counts(only_cluster_state()["nodes"]).values()) == {0}


def test_refresh_interval_0_reads_the_list_at_every_connect(cluster):
    cluster.reset_yb_servers_calls()
    dsn = lb_dsn(cluster, "load_balance=true yb_servers_refresh_interval=0")
    for _ in range(5):
        psycopg2.connect(dsn).close()
    assert cluster.yb_servers_calls() == 5


def test_node_added_and_removed_after_refresh(fresh, conns):
    c = fresh()
    cached = lb_dsn(c, "load_balance=true yb_servers_refresh_interval=600")
    every = lb_dsn(c, "load_balance=true yb_servers_refresh_interval=0")
    open_n(3, cached, conns)
    c.add_node(NodeSpec("c.r.d"))
    # the list is cached: the new node is not known yet
    open_n(1, cached, conns)
    assert conns[-1].info.host != c.nodes[4].host
    # refreshed: the new node, with no connection, is chosen
    open_n(1, every, conns)
    assert conns[-1].info.host == c.nodes[4].host
    assert len(only_cluster_state()["nodes"]) == 4
    # node 1 leaves yb_servers() (still running): no longer chosen
    c.unlist_node(1)
    conns.close_all()
    open_n(6, every, conns)
    want = expected_counts(c, n2=2, n3=2, n4=2)
    assert c.wait_counts(want) == want
    assert c.nodes[1].host not in {n["host"]
                                   for n in only_cluster_state()["nodes"]}


def test_public_ip_used_when_reached_through_it(fresh, conns):
    # yb_servers() lists hosts 127.0.1.i (nothing listens there) and
    # public_ip 127.0.0.i: the client reaches 127.0.0.1, a public IP
    specs = [NodeSpec("c.r.%s" % z, advertise_host="127.0.1.%d" % i,
                      public_ip="127.0.0.%d" % i)
             for i, z in ((1, "a"), (2, "b"), (3, "c"))]
    c = fresh(specs)
    open_n(6, lb_dsn(c, "load_balance=true"), conns)
    want = expected_counts(c, n1=2, n2=2, n3=2)
    assert c.wait_counts(want) == want
    state = only_cluster_state()
    assert state["use_public_ip"] is True
    assert not any(n["failed"] for n in state["nodes"])


def test_host_names_ipv6_and_unresolvable_names(fresh, conns):
    # a 64-character label is not a valid DNS name: resolution fails
    # locally, without any query leaving the machine
    bad = "x" * 64 + ".invalid"
    c = fresh([NodeSpec("c.r.a", advertise_host="localhost"),
               NodeSpec("c.r.b", advertise_host="::1", extra_listen=["::1"]),
               NodeSpec("c.r.c", advertise_host=bad)])
    open_n(4, lb_dsn(c, "load_balance=true"), conns)
    want = expected_counts(c, n1=2, n2=2)
    assert c.wait_counts(want) == want
    nodes = {n["host"]: n for n in only_cluster_state()["nodes"]}
    assert nodes[bad]["failed"]
    assert "resolve" in nodes[bad]["fail_reason"]
    # a name is reached through its address, the name kept for TLS checks
    named = [conn for conn in conns if "localhost" in conn.dsn]
    assert len(named) == 2
    assert all("hostaddr=127.0.0.1" in conn.dsn for conn in named)


def test_not_yugabytedb_gives_a_plain_connection(fresh, caplog):
    c = fresh([NodeSpec("c.r.a")])
    c.psql(1, "DROP FUNCTION yb_servers()")
    caplog.set_level("WARNING", logger="psycopg2.loadbalance")
    dsn = lb_dsn(c, "load_balance=true")
    conn = psycopg2.connect(dsn)
    conn2 = psycopg2.connect(dsn)
    try:
        # no transaction left open by the discovery query
        assert conn.status == psycopg2.extensions.STATUS_READY
        assert not conn.autocommit
        cur = conn.cursor()
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
        assert c.wait_counts({c.nodes[1].host: 2}) == {c.nodes[1].host: 2}
    finally:
        conn.close()
        conn2.close()
    warnings = [r for r in caplog.records if "yb_servers" in r.getMessage()]
    assert len(warnings) == 1
    assert c.wait_counts({c.nodes[1].host: 0}) == {c.nodes[1].host: 0}


def test_two_clusters_never_share_counts(fresh, conns):
    a = fresh(universe_uuid="11111111-aaaa")
    b = fresh(universe_uuid="22222222-bbbb")
    open_n(3, lb_dsn(a, "load_balance=true"), conns)
    open_n(6, lb_dsn(b, "load_balance=true"), conns)
    state = loadbalance.cluster_state()
    assert set(state) == {"11111111-aaaa", "22222222-bbbb"}
    assert sum(n["connections"] for n in state["11111111-aaaa"]["nodes"]) == 3
    assert sum(n["connections"] for n in state["22222222-bbbb"]["nodes"]) == 6
    assert a.wait_counts(expected_counts(a, n1=1, n2=1, n3=1)) == \
        expected_counts(a, n1=1, n2=1, n3=1)
    assert b.wait_counts(expected_counts(b, n1=2, n2=2, n3=2)) == \
        expected_counts(b, n1=2, n2=2, n3=2)


def test_one_universe_through_two_seeds_shares_counts(fresh, conns):
    c = fresh(universe_uuid="33333333-cccc")
    open_n(3, lb_dsn(c, "load_balance=true", index=1), conns)
    open_n(3, lb_dsn(c, "load_balance=true", index=2), conns)
    state = loadbalance.cluster_state()
    assert list(state) == ["33333333-cccc"]
    want = expected_counts(c, n1=2, n2=2, n3=2)
    assert c.wait_counts(want) == want


# -- what a failed attempt tells the balancer (psycopg/connection_attempt.c) --

class BlackHole:
    """A loopback listener whose accept queue is full: a TCP connection to
    it is never established, so a connect waits for connect_timeout."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.fillers.append(s)

    def close(self):
        for s in self.fillers + [self.sock]:
            s.close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def attempt_error(dsn, async_=False):
    """The OperationalError of _lb_connect() and of plain _connect()."""
    from psycopg2 import _psycopg
    import psycopg2.extras
    errors = []
    for func in (_psycopg._lb_connect, _psycopg._connect):
        with pytest.raises(psycopg2.OperationalError) as exc:
            conn = func(dsn, async_=async_)
            try:
                psycopg2.extras.wait_select(conn)
            finally:
                conn.close()
        errors.append(exc.value)
    return errors


@pytest.mark.parametrize("async_", [False, True], ids=["sync", "async"])
def test_attempt_facts_and_plain_messages(cluster, async_):
    from psycopg2 import _lb_failure
    seed = cluster.node_dsn(1)
    cases = [
        ("host=127.0.0.1 port=%d" % closed_port(), _lb_failure.NODE_DOWN),
        (seed + " dbname=lb_nosuchdb", _lb_failure.CLIENT_ERROR),
        (seed + " user=lb_nosuchuser", _lb_failure.CLIENT_ERROR),
        (seed + " options='-c work_mem=bogus'", _lb_failure.CLIENT_ERROR),
        (seed + " sslmode=bogus", _lb_failure.CLIENT_ERROR),
        (seed + " target_session_attrs=standby", _lb_failure.CLIENT_ERROR),
        (seed + " sslmode=require", _lb_failure.TLS_SPECIFIC),
    ]
    if not async_:
        cases.append((seed + " connect_timeout=x", _lb_failure.CLIENT_ERROR))
        # a name (several addresses) with a timeout: PQconnectdb's attempt
        named = "host=localhost port=%d user=yugabyte connect_timeout=5" % (
            cluster.port)
        cases.append((named + " dbname=lb_nosuchdb", _lb_failure.CLIENT_ERROR))
        cases.append(("host=localhost port=%d connect_timeout=5"
                      % closed_port(), _lb_failure.NODE_DOWN))
    for dsn, kind in cases:
        lb, plain = attempt_error(dsn, async_)
        assert str(lb) == str(plain), dsn
        assert lb.pgcode is None and lb.pgerror == plain.pgerror
        assert _lb_failure.classify_error(lb) == kind, (dsn, lb._lb_facts)
    lb, _ = attempt_error(seed + " dbname=lb_nosuchdb", async_)
    assert lb._lb_facts[3] == "3D000"


def test_attempt_timeout_as_libpq(cluster):
    import time
    from psycopg2 import _lb_failure
    hole = BlackHole()
    try:
        t0 = time.monotonic()
        lb, plain = attempt_error("host=127.0.0.1 port=%d connect_timeout=2"
                                  % hole.port)
        took = time.monotonic() - t0
    finally:
        hole.close()
    assert str(lb) == str(plain)
    assert "timeout expired" in str(lb)
    assert lb._lb_facts[4] is True
    assert _lb_failure.classify_error(lb) == _lb_failure.NODE_DOWN
    assert took < 20        # two attempts of 2 s, with a generous margin


def test_query_errors_after_an_lb_attempt_are_not_verbose(cluster):
    from psycopg2 import _psycopg
    conn = _psycopg._lb_connect(cluster.node_dsn(1))
    try:
        cur = conn.cursor()
        with pytest.raises(psycopg2.DataError) as exc:
            cur.execute("select 1/0")
        assert exc.value.pgerror == "ERROR:  division by zero\n"
    finally:
        conn.close()


def wait_with_select(conn):
    """A hand-written async wait loop (as event loops do)."""
    import select
    import psycopg2.extensions as ext
    while True:
        state = conn.poll()
        if state == ext.POLL_OK:
            return
        if state == ext.POLL_READ:
            select.select([conn.fileno()], [], [], 10)
        else:
            select.select([], [conn.fileno()], [], 10)


def test_async_failover_inside_poll(cluster, conns):
    base = lb_dsn(cluster, "load_balance=true failed_host_ttl_seconds=60")
    open_n(1, base, conns)             # node list cached
    conns.close_all()
    cluster.stop_node(2)
    try:
        for _ in range(6):
            conn = psycopg2.connect(base, async_=True)
            conns.append(conn)
            wait_with_select(conn)
            assert cluster.nodes[2].host not in conn.dsn
            assert conn.info.host != cluster.nodes[2].host
        host2 = cluster.nodes[2].host
        assert state_node(host2)["failed"]
        assert node_counts(only_cluster_state()["nodes"]) == {
            cluster.nodes[1].host: 3, host2: 0, cluster.nodes[3].host: 3}
        # node 2 back, the others down: tried as a last resort, and no
        # longer failed once it accepted
        conns.close_all()
        cluster.start_node(2)
        cluster.stop_node(1)
        cluster.stop_node(3)
        conn = psycopg2.connect(base, async_=True)
        conns.append(conn)
        wait_with_select(conn)
        assert conn.info.host == host2
        assert not state_node(host2)["failed"]
        assert state_node(cluster.nodes[1].host)["failed"]
        # every node down: the error names each node, counts back to 0
        cluster.stop_node(2)
        conns.close_all()
        conn = psycopg2.connect(base + " failed_host_ttl_seconds=0",
                                async_=True)
        with pytest.raises(psycopg2.OperationalError) as exc:
            wait_with_select(conn)
        conn.close()
        for i in (1, 2, 3):
            assert cluster.nodes[i].host in str(exc.value)
        assert set(node_counts(only_cluster_state()["nodes"]).values()) \
            == {0}
    finally:
        for i in (1, 2, 3):
            cluster.start_node(i)


BAD_ROWS_SQL = """
DROP FUNCTION yb_servers();
CREATE FUNCTION yb_servers()
RETURNS TABLE (host text, port text, num_connections int, node_type text,
               cloud text, region text, zone text, public_ip text, uuid text)
LANGUAGE sql AS $$
    SELECT * FROM (VALUES
        ('%(h1)s', '%(port)s', 0, 'primary', 'c', 'r', 'a', '', 'u1'),
        ('%(h2)s', '%(port)s', 0, 'primary', 'c', 'r', 'b', '', 'u2'),
        ('%(h3)s', NULL, 0, 'primary', 'c', 'r', 'c', '', 'u3'),
        ('%(h3)s', 'abc', 0, 'primary', 'c', 'r', 'c', '', 'u4'),
        ('', '%(port)s', 0, 'primary', 'c', 'r', 'c', '', 'u5'),
        ('%(sockdir)s', '%(port)s', 0, 'primary', 'c', 'r', 'c', '', 'u6'),
        (E'bad\\x01host', '%(port)s', 0, 'primary', 'c', 'r', 'c', '', 'u7')
    ) AS t
$$;
"""


def test_bad_yb_servers_rows_are_skipped(fresh, conns, caplog):
    c = fresh()
    sql = BAD_ROWS_SQL % {"h1": c.nodes[1].host, "h2": c.nodes[2].host,
                          "h3": c.nodes[3].host, "port": c.port,
                          "sockdir": c.nodes[3].datadir}
    for i in sorted(c.nodes):
        c.psql(i, sql)
    with caplog.at_level("WARNING", logger="psycopg2.loadbalance"):
        open_n(4, lb_dsn(c, "load_balance=true"), conns)
    want = expected_counts(c, n1=2, n2=2)
    assert c.wait_counts(want) == want
    assert all(conn.info.host in (c.nodes[1].host, c.nodes[2].host)
               for conn in conns)
    skipped = [r.getMessage() for r in caplog.records
               if "row skipped" in r.getMessage()]
    assert len(skipped) == 5, skipped
    text = "\n".join(skipped)
    for fragment in ("'u3'", "'u4'", "'u5'", repr(c.nodes[3].datadir),
                     "'bad\\x01host'"):
        assert fragment in text
    assert "\x01" not in text
