"""load_balance modes (primary / read-replica) and topology keys.

Cluster: 1 aws.east.a, 2 aws.east.b, 3 aws.west.a (primaries),
4 aws.west.b, 5 gcp.central.a (read replicas).
"""

import logging

import pytest

import psycopg2
from psycopg2 import loadbalance

from lbhelpers import NodeSpec, expected_counts, lb_dsn, start_cluster

RR = "read_replica"


@pytest.fixture(scope="module")
def cluster():
    c = start_cluster([
        NodeSpec("aws.east.a"), NodeSpec("aws.east.b"),
        NodeSpec("aws.west.a"), NodeSpec("aws.west.b", node_type=RR),
        NodeSpec("gcp.central.a", node_type=RR)])
    yield c
    c.destroy()


@pytest.fixture
def stopped(cluster):
    """Stop nodes for a test; they are started again at its end."""
    down = []

    def stop(*indexes):
        for i in indexes:
            cluster.stop_node(i)
            down.append(i)

    yield stop
    for i in down:
        cluster.start_node(i)


def seeds_dsn(cluster, *extra):
    """DSN with every node as a seed (some tests stop node 1)."""
    hosts = ",".join(cluster.nodes[i].host for i in sorted(cluster.nodes))
    return " ".join(("host=%s port=%d user=yugabyte dbname=yugabyte"
                     % (hosts, cluster.port),) + extra)


def open_n(n, dsn, conns):
    for _ in range(n):
        conns.append(psycopg2.connect(dsn))


def counts_after(cluster, conns, n, dsn, **want):
    open_n(n, dsn, conns)
    return cluster.wait_counts(expected_counts(cluster, **want))


def test_false_is_a_plain_connection(cluster, conns):
    got = counts_after(cluster, conns, 5, lb_dsn(cluster, "load_balance=false"),
                       n1=5)
    assert got == expected_counts(cluster, n1=5)
    assert loadbalance.cluster_state() == {}


@pytest.mark.parametrize("value", ["true", "any", "TRUE", "Any"])
def test_any_node(cluster, conns, value):
    dsn = lb_dsn(cluster, "load_balance=%s" % value)
    want = dict(n1=2, n2=2, n3=2, n4=2, n5=2)
    assert counts_after(cluster, conns, 10, dsn, **want) == \
        expected_counts(cluster, **want)


def test_only_primary(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=only-primary")
    want = dict(n1=2, n2=2, n3=2)
    assert counts_after(cluster, conns, 6, dsn, **want) == \
        expected_counts(cluster, **want)


def test_only_rr(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=only-rr")
    want = dict(n4=3, n5=3)
    assert counts_after(cluster, conns, 6, dsn, **want) == \
        expected_counts(cluster, **want)


def test_prefer_primary(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=prefer-primary")
    want = dict(n1=2, n2=2, n3=2)
    assert counts_after(cluster, conns, 6, dsn, **want) == \
        expected_counts(cluster, **want)


def test_prefer_rr(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=prefer-rr")
    want = dict(n4=2, n5=2)
    assert counts_after(cluster, conns, 4, dsn, **want) == \
        expected_counts(cluster, **want)


def test_prefer_primary_falls_back_to_read_replicas(cluster, conns, stopped):
    stopped(1, 2, 3)
    dsn = seeds_dsn(cluster, "load_balance=prefer-primary")
    want = dict(n4=2, n5=2)
    assert counts_after(cluster, conns, 4, dsn, **want) == \
        expected_counts(cluster, **want)


def test_prefer_rr_falls_back_to_primaries(cluster, conns, stopped):
    stopped(4, 5)
    dsn = seeds_dsn(cluster, "load_balance=prefer-rr")
    want = dict(n1=2, n2=2, n3=2)
    assert counts_after(cluster, conns, 6, dsn, **want) == \
        expected_counts(cluster, **want)


def test_only_rr_without_read_replicas_fails(cluster, conns, stopped):
    stopped(4, 5)
    dsn = seeds_dsn(cluster, "load_balance=only-rr")
    with pytest.raises(psycopg2.OperationalError) as exc:
        psycopg2.connect(dsn)
    msg = str(exc.value)
    assert "only-rr" in msg
    # each node tried is listed with its error
    assert "127.0.0.4:%d" % cluster.port in msg
    assert "127.0.0.5:%d" % cluster.port in msg
    assert cluster.wait_counts(expected_counts(cluster)) == \
        expected_counts(cluster)


def test_topology_level_1_only(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=true", "topology_keys=aws.east.*")
    want = dict(n1=3, n2=3)
    assert counts_after(cluster, conns, 6, dsn, **want) == \
        expected_counts(cluster, **want)


def test_topology_several_keys_same_level(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=true",
                 "topology_keys='aws.east.a,gcp.central.a:1'")
    want = dict(n1=2, n5=2)
    assert counts_after(cluster, conns, 4, dsn, **want) == \
        expected_counts(cluster, **want)


def test_topology_levels_1_to_3(cluster, conns, stopped):
    keys = "topology_keys=aws.east.a:1,aws.west.*:2,gcp.central.a:3"
    dsn = seeds_dsn(cluster, "load_balance=true", keys)
    assert counts_after(cluster, conns, 3, dsn, n1=3) == \
        expected_counts(cluster, n1=3)
    conns.close_all()
    stopped(1)      # level 1 down: level 2
    want = dict(n3=2, n4=2)
    assert counts_after(cluster, conns, 4, dsn, **want) == \
        expected_counts(cluster, **want)
    conns.close_all()
    stopped(3, 4)   # levels 1 and 2 down: level 3
    assert counts_after(cluster, conns, 2, dsn, n5=2) == \
        expected_counts(cluster, n5=2)


def test_topology_falls_back_to_any_node(cluster, conns, stopped):
    stopped(1, 2)
    dsn = seeds_dsn(cluster, "load_balance=true", "topology_keys=aws.east.*")
    want = dict(n3=2, n4=2, n5=2)
    assert counts_after(cluster, conns, 6, dsn, **want) == \
        expected_counts(cluster, **want)


def test_fallback_to_topology_keys_only(cluster, conns, stopped):
    stopped(1, 2)
    dsn = seeds_dsn(cluster, "load_balance=true", "topology_keys=aws.east.*",
                    "fallback_to_topology_keys_only=true")
    with pytest.raises(psycopg2.OperationalError) as exc:
        psycopg2.connect(dsn)
    assert "fallback_to_topology_keys_only" in str(exc.value)
    assert cluster.wait_counts(expected_counts(cluster)) == \
        expected_counts(cluster)


def test_fallback_only_keeps_to_the_listed_levels(cluster, conns, stopped):
    stopped(1)
    dsn = seeds_dsn(cluster, "load_balance=true",
                    "topology_keys=aws.east.a:1,aws.east.b:2",
                    "fallback_to_topology_keys_only=true")
    assert counts_after(cluster, conns, 3, dsn, n2=3) == \
        expected_counts(cluster, n2=3)


def test_key_matching_nothing_warns_and_falls_back(cluster, conns, caplog):
    caplog.set_level(logging.WARNING, logger="psycopg2.loadbalance")
    dsn = lb_dsn(cluster, "load_balance=true", "topology_keys=azure.x.y")
    want = dict(n1=1, n2=1, n3=1, n4=1, n5=1)
    assert counts_after(cluster, conns, 5, dsn, **want) == \
        expected_counts(cluster, **want)
    warnings = [r for r in caplog.records if "azure.x.y" in r.getMessage()]
    assert len(warnings) == 1


def test_key_matching_nothing_with_fallback_only_fails(cluster):
    dsn = lb_dsn(cluster, "load_balance=true", "topology_keys=azure.x.y",
                 "fallback_to_topology_keys_only=true")
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(dsn)


def test_mode_and_topology_combined(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=only-rr", "topology_keys=aws.west.*")
    assert counts_after(cluster, conns, 3, dsn, n4=3) == \
        expected_counts(cluster, n4=3)


def test_placement_match_ignores_case(cluster, conns):
    dsn = lb_dsn(cluster, "load_balance=true", "topology_keys=AWS.East.A")
    assert counts_after(cluster, conns, 2, dsn, n1=2) == \
        expected_counts(cluster, n1=2)


def test_counts_are_shared_by_every_mode(cluster, conns):
    open_n(3, lb_dsn(cluster, "load_balance=only-primary"), conns)
    # primaries have 1 each: "any" now fills the read replicas first
    want = dict(n1=1, n2=1, n3=1, n4=1, n5=1)
    assert counts_after(cluster, conns, 2, lb_dsn(cluster, "load_balance=any"),
                        **want) == expected_counts(cluster, **want)
