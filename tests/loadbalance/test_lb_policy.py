"""The load balancer's pure decisions, without servers: the node choice
(exhaustively over modes x topology keys x fallback x failures), the
classification of failed attempts, yb_servers() row checks, public IPs."""

import itertools
import zlib

import pytest

from psycopg2 import _lb_failure, _lb_policy, _lb_props
from psycopg2._lb_failure import (CLIENT_ERROR, NODE_DOWN, TLS_SPECIFIC,
                                  Facts, classify)
from psycopg2._lb_policy import NodeState, choose

NOW = 1000.0
TTL = 5.0
TLS_A = (("sslmode", "verify-full"),)
TLS_B = (("sslmode", "require"),)

# Four nodes: two primaries, two read replicas, in zones a and b.
LAYOUT = [("p-a", False, ("c", "r", "a")), ("p-b", False, ("c", "r", "b")),
          ("rr-a", True, ("c", "r", "a")), ("rr-b", True, ("c", "r", "b"))]

# What may have happened to a node (applied for TLS_A connections).
STATES = ["ok", "failed", "expired", "tls-a", "unresolved", "tried"]
# (failures for other TLS parameters: test_tls_failure_is_per_parameters)


def make_node(i, state, count):
    name, is_rr, placement = LAYOUT[i]
    node = NodeState(name, is_rr, placement, count)
    if state == "failed":
        node.failed_at = NOW - 1 - i      # older for higher i
    elif state == "expired":
        node.failed_at = NOW - TTL - 1
    elif state == "tls-a":
        node.tls_failed_at[TLS_A] = NOW - 2
    elif state == "tls-b":
        node.tls_failed_at[TLS_B] = NOW - 2
    elif state == "unresolved":
        node.resolved = False
        node.failed_at = NOW - 100
    return node


def props(mode, keys, fallback_only):
    raw = {"load_balance": mode}
    if keys:
        raw["topology_keys"] = keys
    if fallback_only:
        raw["fallback_to_topology_keys_only"] = "true"
    return _lb_props.build_properties(raw)


def tier_of(p, node):
    """Index of the first tier of `p` that `node` belongs to, or None."""
    for i, (node_type, keys) in enumerate(p.tiers()):
        if _lb_policy.in_tier(node, node_type, keys):
            return i
    return None


def check_choice(p, nodes, tried, result):
    """The properties a choice must have, stated independently of how
    choose() computes it."""
    got, last_resort = result
    tried_ids = {id(n) for n in tried}
    usable = [n for n in nodes if n.resolved and id(n) not in tried_ids
              and tier_of(p, n) is not None]
    eligible = [n for n in usable
                if _lb_policy.failure_time(n, TLS_A, NOW, TTL) is None]
    if eligible:
        assert not last_resort
        assert got, "an eligible node exists"
        # the best tier first, and within it the fewest connections
        tiers = p.tiers()
        first = min(i for i in range(len(tiers)) if any(
            _lb_policy.in_tier(n, *tiers[i]) for n in eligible))
        in_first = [n for n in eligible
                    if _lb_policy.in_tier(n, *tiers[first])]
        low = min(n.count for n in in_first)
        assert sorted(n.name for n in got) == sorted(
            n.name for n in in_first if n.count == low)
    elif usable:
        # every candidate is inside its TTL: the oldest failure
        assert last_resort and len(got) == 1
        oldest = min(_lb_policy.failure_time(n, TLS_A, NOW, TTL)
                     for n in usable)
        assert _lb_policy.failure_time(got[0], TLS_A, NOW, TTL) == oldest
    else:
        assert got == [] and not last_resort


MODES = ["true", "only-primary", "only-rr", "prefer-primary", "prefer-rr"]
KEYS = [None, "c.r.b:1,c.r.a:2", "c.r.z"]


def test_choose_exhaustive():
    cases = 0
    for mode, keys, fallback_only in itertools.product(MODES, KEYS,
                                                       [False, True]):
        p = props(mode, keys, fallback_only)
        for states in itertools.product(STATES, repeat=len(LAYOUT)):
            # counts vary with the case, ties included
            seed = zlib.crc32(repr(states).encode())
            counts = [(seed >> (2 * i)) % 3 for i in range(4)]
            nodes = [make_node(i, s, counts[i]) for i, s in enumerate(states)]
            tried = [n for n, s in zip(nodes, states) if s == "tried"]
            result = choose(nodes, p.tiers(), NOW, TTL, TLS_A,
                            {id(n) for n in tried})
            check_choice(p, nodes, tried, result)
            cases += 1
    assert cases == len(MODES) * len(KEYS) * 2 * len(STATES) ** 4


def test_choose_prefers_local_then_falls_back():
    p = props("true", "c.r.a", False)
    nodes = [make_node(i, "ok", 0) for i in range(4)]
    assert {n.name for n in choose(nodes, p.tiers(), NOW, TTL)[0]} == {
        "p-a", "rr-a"}
    nodes[0].failed_at = nodes[2].failed_at = NOW
    got, last = choose(nodes, p.tiers(), NOW, TTL)
    assert {n.name for n in got} == {"p-b", "rr-b"} and not last
    # fallback_to_topology_keys_only: the failed local nodes, oldest first
    p = props("true", "c.r.a", True)
    nodes[2].failed_at = NOW - 3
    got, last = choose(nodes, p.tiers(), NOW, TTL)
    assert [n.name for n in got] == ["rr-a"] and last


def test_tls_failure_is_per_parameters():
    nodes = [make_node(i, "ok", 0) for i in range(2)]
    nodes[0].tls_failed_at[TLS_A] = NOW
    p = props("true", None, False)
    assert [n.name for n in choose(nodes, p.tiers(), NOW, TTL, TLS_A)[0]] \
        == ["p-b"]
    assert len(choose(nodes, p.tiers(), NOW, TTL, TLS_B)[0]) == 2
    assert _lb_policy.is_eligible(nodes[0], NOW, TTL, TLS_B)
    assert not _lb_policy.is_eligible(nodes[0], NOW, TTL, TLS_A)
    assert _lb_policy.is_eligible(nodes[0], NOW + TTL, TTL, TLS_A)


def test_refresh_due():
    due = _lb_policy.refresh_due
    assert due(None, 300, False, NOW)
    assert not due(NOW - 10, 300, False, NOW)
    assert due(NOW - 300, 300, False, NOW)
    assert due(NOW - 1.5, 300, True, NOW)
    assert not due(NOW - 0.5, 300, True, NOW)     # at most one per second


# -- classification ----------------------------------------------------------

C = _lb_failure

CLASSIFY = [
    # (facts, expected)
    (Facts(io_started=False, status=C.CONNECTION_NEEDED,
           message='invalid sslmode value: "bogus"\n'), CLIENT_ERROR),
    (Facts(status=C.ATTEMPT_OPTION_ERROR), CLIENT_ERROR),
    (Facts(io_started=False, message='could not translate host name "x" '
           'to address: Name or service not known\n'), NODE_DOWN),
    (Facts(status=C.CONNECTION_STARTED,
           message="Connection refused\n"), NODE_DOWN),
    (Facts(status=C.CONNECTION_STARTED, timed_out=True), NODE_DOWN),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, timed_out=True),
     NODE_DOWN),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE,
           message="server closed the connection unexpectedly"), NODE_DOWN),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, sqlstate="57P03"),
     NODE_DOWN),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, sqlstate="57P01"),
     NODE_DOWN),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, sqlstate="53300"),
     NODE_DOWN),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, sqlstate="08P01"),
     NODE_DOWN),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, sqlstate="28P01"),
     CLIENT_ERROR),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, sqlstate="28000"),
     CLIENT_ERROR),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, sqlstate="3D000"),
     CLIENT_ERROR),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, sqlstate="22023"),
     CLIENT_ERROR),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, needs_password=True,
           message="fe_sendauth: no password supplied\n"), CLIENT_ERROR),
    (Facts(status=C.CONNECTION_SSL_STARTUP,
           message='root certificate file "/x" does not exist'),
     CLIENT_ERROR),
    (Facts(status=C.CONNECTION_SSL_STARTUP,
           message='server certificate for "a" does not match host name '
           '"b"'), TLS_SPECIFIC),
    (Facts(status=C.CONNECTION_SSL_STARTUP,
           message="server does not support SSL, but SSL was required"),
     TLS_SPECIFIC),
    (Facts(status=C.CONNECTION_SSL_STARTUP, timed_out=True), NODE_DOWN),
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE, session_attrs="standby",
           message="server is not in hot standby mode\n"), CLIENT_ERROR),
    (Facts(status=C.CONNECTION_CHECK_WRITABLE, session_attrs="read-write",
           message="session is read-only\n"), CLIENT_ERROR),
    # attempts made by PQconnectdb(): the message decides
    (Facts(status=C.ATTEMPT_NO_FACTS, message='connection to server at '
           '"x" failed: FATAL:  database "d" does not exist'), CLIENT_ERROR),
    (Facts(status=C.ATTEMPT_NO_FACTS, message='connection to server at '
           '"x" failed: FATAL:  the database system is starting up'),
     NODE_DOWN),
    (Facts(status=C.ATTEMPT_NO_FACTS, message="Connection refused"),
     NODE_DOWN),
    (Facts(status=C.ATTEMPT_NO_FACTS, needs_password=True), CLIENT_ERROR),
    # the same words without target_session_attrs: not the client's
    (Facts(status=C.CONNECTION_AWAITING_RESPONSE,
           message="server is not in hot standby mode\n"), NODE_DOWN),
]


@pytest.mark.parametrize("facts, expected", CLASSIFY,
                         ids=[repr(f) for f, _ in CLASSIFY])
def test_classify(facts, expected):
    assert classify(facts) == expected


def test_classify_error_without_facts():
    assert _lb_failure.classify_error(Exception("Connection refused")) == \
        NODE_DOWN
    err = Exception("x")
    err._lb_facts = (True, False, C.CONNECTION_AWAITING_RESPONSE, "3D000",
                     False, "any")
    assert _lb_failure.classify_error(err) == CLIENT_ERROR


def test_tls_key():
    key = _lb_failure.tls_key({"sslmode": "require", "host": "h",
                               "sslrootcert": "/r", "sslcert": ""})
    assert key == (("sslmode", "require"), ("sslrootcert", "/r"))
    assert _lb_failure.tls_key({"host": "h"}) == ()


# -- yb_servers() rows and public IPs ---------------------------------------

GOOD = {"host": "10.0.0.1", "port": 5433, "public_ip": "1.2.3.4"}


@pytest.mark.parametrize("change", [
    {"port": None}, {"port": "abc"}, {"port": "5433x"}, {"port": 0},
    {"port": 70000}, {"port": True}, {"port": 54.5}, {"host": ""},
    {"host": "  "}, {"host": None}, {"host": "/some/dir"},
    {"host": "a/b"}, {"host": "bad\x01host"}, {"host": "a\nb"},
    {"host": "two words"}, {"host": "a,b"},
])
def test_bad_row_is_skipped(change):
    row = dict(GOOD, **change)
    key, public, problems = _lb_policy.check_row(row)
    assert key is None and public is None
    assert problems and all(isinstance(p, str) for p in problems)


def test_good_rows():
    assert _lb_policy.check_row(GOOD) == (("10.0.0.1", 5433), "1.2.3.4", [])
    assert _lb_policy.check_row(dict(GOOD, port="5433"))[0] == (
        "10.0.0.1", 5433)
    assert _lb_policy.check_row(dict(GOOD, public_ip=None))[1] is None
    key, public, problems = _lb_policy.check_row(
        dict(GOOD, public_ip="/tmp\x00"))
    assert key == ("10.0.0.1", 5433) and public is None and problems
    assert _lb_policy.check_row(dict(GOOD, host="::1"))[0] == ("::1", 5433)


def test_uses_public_ip():
    uses = _lb_policy.uses_public_ip
    assert uses({"127.0.0.1", "::1"}, {"127.0.0.101"}, {"127.0.0.1"})
    assert not uses({"127.0.0.1"}, {"127.0.0.1"}, {"127.0.0.1"})
    assert not uses({"127.0.0.9"}, {"127.0.0.101"}, {"127.0.0.1"})
    assert not uses(set(), set(), {"127.0.0.1"})


# -- misplacement and the per-node cap ----------------------------------------

def four_nodes(counts, states=("ok",) * 4):
    return [make_node(i, state, count)
            for i, (state, count) in enumerate(zip(states, counts))]


def misplaced(nodes, i, mode="true", keys=None, fallback_only=False,
              margin=2):
    p = props(mode, keys, fallback_only)
    return _lb_policy.misplacement(nodes[i], nodes, p.tiers(), NOW, TTL,
                                   TLS_A, margin)


def test_balanced_connections_are_not_misplaced():
    nodes = four_nodes([3, 3, 3, 3])
    assert all(misplaced(nodes, i) is None for i in range(4))
    nodes = four_nodes([4, 3, 3, 3])    # one more: moving gains nothing
    assert all(misplaced(nodes, i) is None for i in range(4))


def test_margin_over_the_least_loaded_eligible_node():
    nodes = four_nodes([4, 0, 4, 4])    # node 1 is back, empty
    why = misplaced(nodes, 0)
    assert why and "p-a" in why and "p-b" in why and "margin 2" in why
    assert misplaced(nodes, 1) is None
    assert misplaced(nodes, 0, margin=5) is None
    assert misplaced(nodes, 0, margin=4) is not None
    # the empty node inside its TTL does not count
    nodes = four_nodes([4, 0, 4, 4], ("ok", "failed", "ok", "ok"))
    assert all(misplaced(nodes, i) is None for i in range(4))
    # nor a node that failed for these TLS parameters
    nodes = four_nodes([4, 0, 4, 4], ("ok", "tls-a", "ok", "ok"))
    assert misplaced(nodes, 0) is None
    nodes = four_nodes([4, 0, 4, 4], ("ok", "tls-b", "ok", "ok"))
    assert misplaced(nodes, 0) is not None


def test_convergence_by_moving_misplaced_connections():
    """Moving one misplaced connection at a time ends at an even spread."""
    nodes = four_nodes([4, 0, 4, 4])
    moves = 0
    while True:
        src = next((n for i, n in enumerate(nodes)
                    if misplaced(nodes, i) is not None), None)
        if src is None:
            break
        src.count -= 1
        best, _ = choose(nodes, props("true", None, False).tiers(), NOW,
                         TTL, TLS_A)
        best[0].count += 1
        moves += 1
        assert moves < 20
    assert sorted(n.count for n in nodes) == [3, 3, 3, 3]
    assert 3 <= moves <= 6     # 3 at best; a few more in this order


def test_nodes_at_the_cap_are_not_better():
    nodes = four_nodes([4, 2, 4, 4])
    tiers = props("true", None, False).tiers()
    assert _lb_policy.misplacement(nodes[0], nodes, tiers, NOW, TTL)
    assert _lb_policy.misplacement(nodes[0], nodes, tiers, NOW, TTL,
                                   cap=2) is None
    assert _lb_policy.misplacement(nodes[0], nodes, tiers, NOW, TTL,
                                   cap=3)


def test_unlisted_node_is_misplaced():
    nodes = four_nodes([1, 1, 1, 1])
    gone = nodes.pop(2)
    gone.listed = False
    tiers = props("true", None, False).tiers()
    why = _lb_policy.misplacement(gone, nodes, tiers, NOW, TTL)
    assert why and "no longer listed" in why


def test_node_type_against_the_mode():
    nodes = four_nodes([1, 1, 1, 1])
    why = misplaced(nodes, 2, "only-primary")
    assert why and "read replica" in why
    why = misplaced(nodes, 0, "only-rr")
    assert why and "primary" in why
    # prefer-primary: a replica is misplaced while a primary is eligible
    why = misplaced(nodes, 2, "prefer-primary")
    assert why and "tier 2" in why and "tier 1" in why
    nodes = four_nodes([1, 1, 1, 1], ("failed", "failed", "ok", "ok"))
    assert misplaced(nodes, 2, "prefer-primary") is None
    # only-primary, no primary eligible: nowhere better to go
    assert misplaced(nodes, 2, "only-primary") is None


def test_zone_recovered_makes_fallback_connections_misplaced():
    keys = "c.r.a:1,c.r.b:2"
    nodes = four_nodes([0, 3, 0, 2], ("failed", "ok", "failed", "ok"))
    # zone a down: zone b is the best there is
    assert misplaced(nodes, 1, keys=keys) is None
    nodes = four_nodes([0, 3, 0, 2])    # zone a back
    why = misplaced(nodes, 1, keys=keys)
    assert why and "tier 2" in why
    # outside the keys with fallback only: misplaced when a key node is up
    why = misplaced(nodes, 1, keys="c.r.a", fallback_only=True)
    assert why and "topology_keys" in why


def test_cap_leaves_full_nodes_out():
    p = props("true", None, False)
    nodes = four_nodes([2, 2, 1, 2])
    best, resort = choose(nodes, p.tiers(), NOW, TTL, cap=2)
    assert [n.name for n in best] == ["rr-a"] and not resort
    nodes[2].count = 2
    assert choose(nodes, p.tiers(), NOW, TTL, cap=2) == ([], False)
    assert choose(nodes, p.tiers(), NOW, TTL, cap=3)[0] == nodes
    # not as a last resort either
    nodes = four_nodes([2, 2, 2, 2], ("ok", "failed", "ok", "ok"))
    assert choose(nodes, p.tiers(), NOW, TTL, cap=2) == ([], False)
    nodes = four_nodes([2, 1, 2, 2], ("ok", "failed", "ok", "ok"))
    assert choose(nodes, p.tiers(), NOW, TTL, cap=2) == ([nodes[1]], True)
    assert _lb_policy.at_cap(nodes[0], 2) and not _lb_policy.at_cap(
        nodes[0], 0)
