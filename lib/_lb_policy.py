"""The load balancer's choice of a node, as pure functions.

Everything here is a function of its arguments (the node list, the
properties' tiers, the failure state, the connection counts and the time):
no locks, no I/O, no logging, no randomness (ties are returned, the caller
picks one).  `_lb_cluster.Cluster` calls it under its lock.

The rules:

- the tiers of the properties are tried in order (node type, then
  topology preference levels, then anywhere unless
  fallback_to_topology_keys_only); the first tier with an eligible node
  gives the candidates: its eligible nodes with the fewest connections;
- a node is eligible if its name resolves, it was not tried already by
  this connect, and it is not inside its failed TTL (a failure for
  everyone, or one for the connection's TLS parameters);
- last resort: when no tier has an eligible node but some nodes of the
  tiers are only inside their TTL, the one that failed longest ago is
  tried anyway (then the next one, and so on);
- with a per-node cap (max_connections_per_node), a node holding that
  many connections of this process is not chosen at all (not even as a
  last resort);
- a connection is misplaced (`misplacement()`) when a new connection
  would not go to its node and moving it makes a difference: its node
  left the list, is outside every tier (wrong node type, outside
  topology_keys with fallback_to_topology_keys_only), is in a worse tier
  than an eligible node, or holds at least `margin` more connections than
  the least-loaded eligible node of its tier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:   # pragma: no cover
    from typing import (Any, Collection, Dict, Hashable, Iterable, List,
                        Optional, Sequence, Tuple)


class NodeState:
    """What the policy reads of a node.  `_lb_cluster.Node` has the same
    attributes; tests build these directly."""

    __slots__ = ("name", "is_rr", "placement", "count", "failed_at",
                 "tls_failed_at", "resolved", "listed")

    def __init__(self, name: str, is_rr: bool = False,
                 placement: Tuple[str, str, str] = ("", "", ""),
                 count: int = 0, failed_at: Optional[float] = None,
                 tls_failed_at: Optional[Dict[Hashable, float]] = None,
                 resolved: bool = True):
        self.name = name
        self.is_rr = is_rr
        self.placement = placement
        self.count = count
        self.failed_at = failed_at
        self.tls_failed_at = tls_failed_at or {}
        self.resolved = resolved
        self.listed = True

    @property
    def label(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return "NodeState(%r, count=%r)" % (self.name, self.count)


def failure_time(node: Any, tls: Hashable, now: float, ttl: float
                 ) -> Optional[float]:
    """When `node` last failed for a connection with TLS parameters `tls`,
    if that is less than `ttl` seconds before `now`; else None."""
    last = None
    if node.failed_at is not None and now - node.failed_at < ttl:
        last = node.failed_at
    tls_at = node.tls_failed_at.get(tls) if node.tls_failed_at else None
    if tls_at is not None and now - tls_at < ttl:
        last = tls_at if last is None else max(last, tls_at)
    return last


def in_tier(node: Any, node_type: Optional[str],
            keys: Optional[Sequence[Any]]) -> bool:
    """True if `node` belongs to the tier (node type, topology keys)."""
    if node_type is not None and node.is_rr != (node_type == "rr"):
        return False
    if keys is not None and not any(k.matches(node.placement) for k in keys):
        return False
    return True


def tier_index(node: Any, tiers: Sequence[Tuple[Any, Any]]
               ) -> Optional[int]:
    """The index of the first tier `node` belongs to, None if none."""
    for i, (node_type, keys) in enumerate(tiers):
        if in_tier(node, node_type, keys):
            return i
    return None


def at_cap(node: Any, cap: int) -> bool:
    """True if `node` holds `cap` connections already (0: no cap)."""
    return cap > 0 and node.count >= cap


def choose(nodes: Sequence[Any], tiers: Iterable[Tuple[Any, Any]],
           now: float, ttl: float, tls: Hashable = (),
           tried: Collection[int] = (), cap: int = 0
           ) -> Tuple[List[Any], bool]:
    """The candidates for the next connection and whether they are a last
    resort.

    `tiers` as `LBProperties.tiers()`; `tried` holds the id() of the nodes
    already tried by this connect.  Returns ``(nodes, False)``: the
    eligible nodes of the first tier that has some, with the fewest
    connections (pick one at random); ``([node], True)``: no node is
    eligible but this one is only inside its failed TTL, the oldest
    failure; ``([], False)``: nothing to try.  With `cap` > 0, the
    nodes holding `cap` connections are left out.
    """
    resort: List[Tuple[float, int, Any]] = []
    seen = set()
    for node_type, keys in tiers:
        best: List[Any] = []
        low = -1
        for pos, node in enumerate(nodes):
            if not node.resolved or (tried and id(node) in tried):
                continue
            if cap and node.count >= cap:
                continue
            if not in_tier(node, node_type, keys):
                continue
            failed = failure_time(node, tls, now, ttl)
            if failed is not None:
                if id(node) not in seen:
                    seen.add(id(node))
                    resort.append((failed, pos, node))
                continue
            if low < 0 or node.count < low:
                best = [node]
                low = node.count
            elif node.count == low:
                best.append(node)
        if best:
            return best, False
    if resort:
        resort.sort(key=lambda item: (item[0], item[1]))
        return [resort[0][2]], True
    return [], False


def is_eligible(node: Any, now: float, ttl: float, tls: Hashable = ()
                ) -> bool:
    """True if `node` may be chosen now (what cluster_state() shows as not
    failed)."""
    return node.resolved and failure_time(node, tls, now, ttl) is None


def misplacement(node: Any, nodes: Sequence[Any],
                 tiers: Sequence[Tuple[Any, Any]], now: float, ttl: float,
                 tls: Hashable = (), margin: int = 2, cap: int = 0
                 ) -> Optional[str]:
    """Why a connection to `node` should move to another node, or None.

    `nodes` is the node list, `tiers` as `LBProperties.tiers()` of the
    connection.  A connection is misplaced when its node is no longer
    listed, belongs to no tier (e.g. a read replica with only-primary), is
    in a worse tier than an eligible node, or has at least `margin` more
    connections (this one included) than the least-loaded eligible node of
    its tier.  A connection is never misplaced for lack of a better node
    (nodes at the per-node `cap` are not better).
    """
    if not node.listed or not any(n is node for n in nodes):
        return "node %s is no longer listed by yb_servers()" % node.label
    own = tier_index(node, tiers)
    best = None     # (tier, lowest count, node) of the eligible nodes
    for other in nodes:
        if other is node or not is_eligible(other, now, ttl, tls) \
                or at_cap(other, cap):
            continue
        tier = tier_index(other, tiers)
        if tier is None:
            continue
        if best is None or (tier, other.count) < best[:2]:
            best = (tier, other.count, other)
    if best is None:
        return None
    tier, low, other = best
    if own is None:
        if any(in_tier(node, node_type, None) for node_type, _ in tiers):
            why = "outside the topology_keys placements"
        else:
            why = "a read replica" if node.is_rr else "a primary node"
        return ("node %s is %s, against the load_balance settings; %s is "
                "eligible" % (node.label, why, other.label))
    if tier < own:
        return ("node %s is in preference tier %d, %s in tier %d is "
                "eligible" % (node.label, own + 1, other.label, tier + 1))
    if tier == own and node.count - low >= max(1, margin):
        return ("node %s has %d connections, %s has %d (margin %d)"
                % (node.label, node.count, other.label, low, margin))
    return None


def refresh_due(refreshed_at: Optional[float], interval: float,
                early: bool, now: float, min_gap: float = 1.0) -> bool:
    """True if the node list must be read again: never read, older than
    `interval`, or `early` (a failure asked for it) and older than
    `min_gap` (at most one early refresh per `min_gap` seconds)."""
    if refreshed_at is None:
        return True
    age = now - refreshed_at
    return age >= interval or (early and age >= min_gap)


# -- yb_servers() rows -------------------------------------------------------

def _bad_host(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return "not a string"
    if not value.strip():
        return "empty"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "control characters"
    if "/" in value or "\\" in value:
        return "a path, not a host name or address"
    if value != value.strip() or " " in value or "," in value:
        return "spaces or commas"
    return None


def check_row(row: Dict[str, Any]) -> Tuple[Optional[Tuple[str, int]],
                                            Optional[str], List[str]]:
    """Validate a yb_servers() row: ``((host, port), public_ip, [])``, or
    ``(None, None, [reasons])`` if the row is unusable.  A bad public_ip
    is dropped (a reason is returned with the row)."""
    problems = []
    host = row.get("host")
    why = _bad_host(host)
    if why:
        problems.append("host %r: %s" % (host, why))
    port = row.get("port")
    number = None
    if isinstance(port, bool) or port is None:
        problems.append("port %r: not an integer" % (port,))
    elif isinstance(port, int):
        number = port
    elif isinstance(port, str) and port.strip().isdigit() \
            and port.strip().isascii():
        number = int(port.strip())
    else:
        problems.append("port %r: not an integer" % (port,))
    if number is not None and not 0 < number < 65536:
        problems.append("port %r: out of range" % (port,))
    if problems or number is None:
        return None, None, problems
    key = (str(host), number)
    public = row.get("public_ip")
    if public in (None, ""):
        return key, None, []
    why = _bad_host(public)
    if why:
        return key, None, ["public_ip %r: %s (ignored)" % (public, why)]
    return key, str(public), []


def uses_public_ip(contacted: Collection[str],
                   host_addrs: Collection[str],
                   public_addrs: Collection[str]) -> bool:
    """True if the client reached the cluster at a node's public_ip rather
    than at its host (all compared as addresses): then every node is
    reached at its public_ip."""
    contacted = set(contacted)
    return bool(contacted & set(public_addrs)) and not (
        contacted & set(host_addrs))
