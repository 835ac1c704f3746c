"""Per-cluster state of the load balancer: node list, counts, failures.

A `Cluster` holds the nodes listed by ``yb_servers()`` with, for each, the
number of connections this process has open to it and when it last failed.
The cluster owns its lock: callers use its methods (begin and finish a
refresh, store a node list, reserve a node, report a failure or a success)
and never take the lock themselves.  Nothing here does network I/O or logs
while holding the lock; the choice itself is `_lb_policy.choose()`.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import time
import weakref
from typing import TYPE_CHECKING

from psycopg2 import _lb_policy
from psycopg2._lb_failure import TLS_SPECIFIC
from psycopg2._lb_target import host_port_label

if TYPE_CHECKING:   # pragma: no cover
    from typing import (Any, Callable, Dict, Hashable, Iterable, List,
                        Optional, Sequence, Tuple)
    from psycopg2._lb_props import LBProperties

logger = logging.getLogger("psycopg2.loadbalance")

READ_REPLICA_TYPES = frozenset(["read_replica", "readreplica", "rr"])

# Tracked connections checked for a server-side drop at each connect: a
# bounded number, so that a connect costs O(1) whatever the number of open
# connections (each check is a system call); every connection is checked
# again after (open connections / SWEEP_STEP) connects, and all of them by
# cluster_state() and at every node list refresh.
SWEEP_STEP = 16

# At most one refresh asked by a failure per this many seconds.
EARLY_REFRESH_GAP = 1.0


class Node:
    """A node of the cluster as yb_servers() lists it, plus our counts."""

    __slots__ = ("host", "port", "node_type", "cloud", "region", "zone",
                 "public_ip", "uuid", "is_rr", "placement", "connect_host",
                 "addr", "resolved", "count", "failed_at", "fail_reason",
                 "tls_failed_at", "tls_fail_reason", "listed", "opened",
                 "failures", "last_failure", "last_failed_wall")

    def __init__(self, host: str, port: int):
        self.host = host
        self.port = port
        self.node_type = "primary"
        self.cloud = self.region = self.zone = ""
        self.public_ip = ""
        self.uuid = ""
        self.is_rr = False
        self.placement: Tuple[str, str, str] = ("", "", "")
        self.connect_host = host    # host or public_ip, as reached
        self.addr: Optional[str] = None     # resolved address, for names
        # False while the name does not resolve: never chosen then (libpq
        # would try to resolve it at every connect)
        self.resolved = True
        self.count = 0              # open connections (and reservations)
        self.failed_at: Optional[float] = None  # time.monotonic()
        self.fail_reason = ""
        # failures for connections with some TLS parameters only
        self.tls_failed_at: Dict[Hashable, float] = {}
        self.tls_fail_reason: Dict[Hashable, str] = {}
        self.listed = True
        # counters for cluster_state()
        self.opened = 0             # connections opened to it
        self.failures = 0           # failed connection attempts
        self.last_failure = ""      # reason of the last one (kept)
        self.last_failed_wall: Optional[float] = None   # time.time()

    def update(self, row: Dict[str, Any], public_ip: Optional[str]) -> None:
        """Take the placement and type from a yb_servers() row."""
        self.node_type = str(row.get("node_type") or "primary")
        self.is_rr = self.node_type.lower() in READ_REPLICA_TYPES
        self.cloud = str(row.get("cloud") or "")
        self.region = str(row.get("region") or "")
        self.zone = str(row.get("zone") or "")
        self.placement = (self.cloud.casefold(), self.region.casefold(),
                          self.zone.casefold())
        self.public_ip = public_ip or ""
        self.uuid = str(row.get("uuid") or "")

    def mark_failed(self, reason: str, now: float) -> None:
        self.failed_at = now
        self.fail_reason = reason

    def mark_ok(self, tls: Hashable = ()) -> None:
        """The node accepted a connection: it is no longer failed."""
        self.failed_at = None
        self.fail_reason = ""
        if tls in self.tls_failed_at:
            del self.tls_failed_at[tls]
            del self.tls_fail_reason[tls]

    @property
    def label(self) -> str:
        return host_port_label(self.connect_host, self.port)

    def why_failed(self, tls: Hashable, now: float) -> str:
        at = self.failed_at
        reason = self.fail_reason
        tls_at = self.tls_failed_at.get(tls)
        if tls_at is not None and (at is None or tls_at > at):
            at, reason = tls_at, self.tls_fail_reason.get(tls, "")
        if at is None:
            return reason
        return "failed %.1fs ago (%s)" % (now - at, reason)

    def snapshot(self, now: float, ttl: float) -> Dict[str, Any]:
        return {
            "host": self.host, "port": self.port,
            "node_type": self.node_type, "cloud": self.cloud,
            "region": self.region, "zone": self.zone,
            "public_ip": self.public_ip, "uuid": self.uuid,
            "connect_host": self.connect_host,
            "connections": self.count,
            # not eligible now: inside its TTL, or a name that does not
            # resolve
            "failed": not _lb_policy.is_eligible(self, now, ttl),
            "failed_seconds_ago": (None if self.failed_at is None
                                   else round(now - self.failed_at, 3)),
            "fail_reason": self.fail_reason or None,
            "tls_failures": len(self.tls_failed_at),
            "connections_opened": self.opened,
            "failures": self.failures,
            "last_failure_reason": self.last_failure or None,
            "last_failed_at": self.last_failed_wall,
        }


class ConnectionRelease:
    """The `_lb_hook` of a load-balanced connection: called by the
    connection when it ends (close(), broken, garbage collected), it gives
    back the connection's slot on its node exactly once."""

    __slots__ = ("cluster", "node", "props", "tls", "__weakref__")

    def __init__(self, cluster: "Cluster", node: Node,
                 props: Optional["LBProperties"] = None,
                 tls: Hashable = ()):
        self.cluster: Optional[Cluster] = cluster
        self.node = node
        self.props = props      # of the connect() that opened it
        self.tls = tls

    def __call__(self, *args: Any) -> None:
        # *args: also used as a weakref callback (gets the dead reference)
        cluster = self.cluster
        if cluster is not None:
            cluster.release(self)


class Cluster:
    """State shared by every connect() naming the same cluster."""

    def __init__(self, key: str):
        self.key = key
        self.lock = threading.RLock()   # reentrant: hooks may run from GC
        self.refreshed = threading.Condition(self.lock)
        self.nodes: Optional[List[Node]] = None     # None: never read
        self.by_addr: Dict[Tuple[str, int], Node] = {}
        self.refreshed_at: Optional[float] = None
        self.refreshing = 0     # ident of the refreshing thread, or 0
        self.early_refresh = False      # a failure asked for a refresh
        self.is_yb: Optional[bool] = None   # False: no yb_servers()
        self.universe_uuid: Optional[str] = None
        self.use_public_ip = False
        self.forward: Optional["Cluster"] = None    # merged into another
        self.tracked: Dict[ConnectionRelease, Tuple[Any, bool]] = {}
        # round-robin order of the incremental sweep (released hooks are
        # dropped from it when reached)
        self.rotation: collections.deque = collections.deque()
        self.warned_keys: set = set()
        self.refresh_count = 0
        self.refresh_attempts = 0
        self.refresh_errors = 0
        self.last_refresh_error: Optional[str] = None
        self.forced = False     # refresh() asked for a refresh
        # how to reach the cluster again: (target, props, tls) of the last
        # connect, for refresh()
        self.last_target: Optional[Tuple[Any, Any, Hashable]] = None
        self.ttl = 5.0      # failed_host_ttl of the last connect

    def current(self) -> "Cluster":
        """The cluster this one was merged into, or itself."""
        cluster = self
        while cluster.forward is not None:
            cluster = cluster.forward
        return cluster

    # -- refresh bookkeeping ---------------------------------------------

    def begin_refresh(self, interval: float, ttl: Optional[float] = None
                      ) -> bool:
        """True if the caller must read yb_servers() now (and then call
        finish_refresh() or store_node_list()); `ttl` is the connect's
        failed_host_ttl.

        Only one thread refreshes at a time; the others use the current
        list, or wait for the first one when there is none yet."""
        with self.lock:
            if ttl is not None:
                self.ttl = ttl
            while True:
                now = time.monotonic()
                if not self.forced and not _lb_policy.refresh_due(
                        self.refreshed_at, interval, self.early_refresh,
                        now, EARLY_REFRESH_GAP):
                    return False
                if not self.refreshing:
                    self.refreshing = threading.get_ident()
                    self.early_refresh = False
                    self.forced = False
                    self.refresh_attempts += 1
                    return True
                if self.nodes is not None or self.is_yb is False:
                    return False        # a stale list is good meanwhile
                self.refreshed.wait(1.0)
                if self.forward is not None:
                    return False

    def force_refresh(self) -> None:
        """Make the next connect (or refresh()) read the node list."""
        with self.lock:
            self.forced = True

    def finish_refresh(self, ok: bool, error: Optional[str] = None
                       ) -> None:
        """The refresh of this thread ended (ok: the list was read or the
        server turned out not to be YugabyteDB; else `error` says why);
        no-op if this thread is not refreshing."""
        with self.lock:
            if self.refreshing != threading.get_ident():
                return
            if error is not None:
                self.refresh_errors += 1
                self.last_refresh_error = error
            self.refreshing = 0
            if ok or self.nodes is not None:
                # On failure with a usable old list, wait for the next
                # interval instead of trying again at every connect.
                self.refreshed_at = time.monotonic()
            self.refreshed.notify_all()

    def request_refresh(self) -> None:
        """A failure suggests the node list changed: read it again soon
        (at most once per EARLY_REFRESH_GAP)."""
        with self.lock:
            self.early_refresh = True

    def has_node_list(self) -> bool:
        with self.lock:
            return self.nodes is not None

    def set_not_yugabyte(self) -> bool:
        """The server has no yb_servers(); True the first time."""
        with self.lock:
            first = self.is_yb is not False
            self.is_yb = False
        self.finish_refresh(True)
        return first

    def store_node_list(self, rows: Sequence[Tuple[Tuple[str, int],
                                                   Optional[str],
                                                   Dict[str, Any]]],
                        use_public_ip: bool,
                        resolved: Dict[str, Tuple[Optional[str], str]]
                        ) -> List[str]:
        """Replace the node list with checked yb_servers() rows
        ``((host, port), public_ip, row)``, keeping counts and failures of
        the nodes already known.  `resolved` maps a connect host to
        (address or None, error).  Returns the debug messages to log."""
        messages = []
        now = time.monotonic()
        with self.lock:
            nodes = []
            by_addr = {}
            for key, public_ip, row in rows:
                if key in by_addr:
                    continue
                node = self.by_addr.get(key) or Node(*key)
                node.update(row, public_ip)
                node.listed = True
                node.connect_host = (node.public_ip if use_public_ip
                                     and node.public_ip else node.host)
                addr, error = resolved.get(node.connect_host, (None, ""))
                node.addr = addr
                node.resolved = not error
                if error:
                    node.mark_failed(error, now)
                elif node.fail_reason.startswith("could not resolve"):
                    node.mark_ok()
                nodes.append(node)
                by_addr[key] = node
            for key, node in self.by_addr.items():
                if key not in by_addr:
                    node.listed = False
                    messages.append("cluster %s: node %s left the list"
                                    % (self.key, node.label))
            self.nodes = nodes
            self.by_addr = by_addr
            self.use_public_ip = use_public_ip
            self.is_yb = True
            self.warned_keys = set()
            self.refresh_count += 1
            self.refreshed_at = now
            self.refreshed.notify_all()
        return messages

    # -- choice ------------------------------------------------------------

    def _unmatched_keys(self, props: LBProperties) -> List[str]:
        out = []
        for key in props.topology_keys:
            if key in self.warned_keys:
                continue
            self.warned_keys.add(key)
            if not any(key.matches(n.placement) for n in self.nodes or ()):
                out.append(str(key))
        return out

    def reserve(self, props: LBProperties, tried: Iterable[Node] = (),
                tls: Hashable = (), prefer: Optional[Node] = None
                ) -> Tuple[Optional[Node], bool]:
        """Choose the node of the next connection (`_lb_policy.choose()`)
        and count it at once: ``(node, last_resort)``, ``(None, False)`` if
        there is nothing to try.  Ties are broken at random, or for
        `prefer` when among the best."""
        unmatched: List[str] = []
        now = time.monotonic()
        excluded = set(map(id, tried))
        with self.lock:
            self.ttl = props.failed_host_ttl
            if props.topology_keys and len(self.warned_keys) < 64:
                unmatched = self._unmatched_keys(props)
            best, last_resort = _lb_policy.choose(
                self.nodes or (), props.tiers(), now,
                props.failed_host_ttl, tls, excluded,
                props.max_connections_per_node)
            node = None
            if best:
                node = (prefer if prefer is not None and prefer in best
                        else random.choice(best) if len(best) > 1
                        else best[0])
                node.count += 1
        for key in unmatched:
            logger.warning("cluster %s: topology key %s matches no node",
                           self.key, key)
        return node, last_resort

    def unreserve(self, node: Node) -> None:
        """Give back a slot taken by reserve()."""
        with self.lock:
            node.count -= 1

    def report_failure(self, node: Node, reason: str, kind: str,
                       tls: Hashable = ()) -> None:
        """A connection attempt to `node` failed (`kind` as
        `_lb_failure.classify()`, NODE_DOWN or TLS_SPECIFIC); a node
        failure also asks for an early refresh of the list."""
        now = time.monotonic()
        wall = time.time()
        with self.lock:
            node.failures += 1
            node.last_failure = reason
            node.last_failed_wall = wall
            if kind == TLS_SPECIFIC:
                node.tls_failed_at[tls] = now
                node.tls_fail_reason[tls] = reason
            else:
                node.mark_failed(reason, now)
                self.early_refresh = True

    def report_success(self, node: Node, tls: Hashable = ()) -> None:
        """`node` accepted a connection."""
        if node.failed_at is None and not node.tls_failed_at:
            return
        with self.lock:
            node.mark_ok(tls)

    def find_node(self, match: Callable[[Node], bool]) -> Optional[Node]:
        """The first listed node for which `match(node)` is true."""
        with self.lock:
            nodes = list(self.nodes or ())
        return next((n for n in nodes if match(n)), None)

    def eligible_nodes(self, tls: Hashable = ()) -> List[Node]:
        """The listed nodes that may be tried now."""
        now = time.monotonic()
        with self.lock:
            return [n for n in self.nodes or ()
                    if _lb_policy.is_eligible(n, now, self.ttl, tls)]

    def failure_reasons(self, props: LBProperties, tls: Hashable = ()
                        ) -> List[str]:
        """Why each node not eligible now was skipped."""
        now = time.monotonic()
        out = []
        cap = props.max_connections_per_node
        with self.lock:
            for node in self.nodes or ():
                if not _lb_policy.is_eligible(node, now,
                                              props.failed_host_ttl, tls):
                    out.append("%s: skipped, %s" % (
                        node.label, node.why_failed(tls, now)))
                elif _lb_policy.at_cap(node, cap):
                    out.append("%s: skipped, %d connections open "
                               "(max_connections_per_node=%d)"
                               % (node.label, node.count, cap))
        return out

    def misplacement(self, hook: ConnectionRelease, margin: int = 2
                     ) -> Optional[str]:
        """Why the connection of `hook` should move to another node
        (`_lb_policy.misplacement()`), None if it should not or is no
        longer tracked."""
        props = hook.props
        if props is None:
            return None
        now = time.monotonic()
        with self.lock:
            if hook not in self.tracked:
                return None
            return _lb_policy.misplacement(
                hook.node, self.nodes or (), props.tiers(), now,
                props.failed_host_ttl, hook.tls, margin,
                props.max_connections_per_node)

    def listed_count(self) -> int:
        with self.lock:
            return len(self.nodes or ())

    # -- connection tracking -------------------------------------------

    def track(self, conn: Any, node: Node, is_async: bool,
              props: Optional["LBProperties"] = None, tls: Hashable = ()
              ) -> ConnectionRelease:
        """Register an open connection to `node` (counted by choose())
        opened with `props` and TLS parameters `tls`; returns the hook the
        connection must call when it ends."""
        hook = ConnectionRelease(self, node, props, tls)
        ref = weakref.ref(conn, hook)
        with self.lock:
            node.opened += 1
            self.tracked[hook] = (ref, is_async)
            self.rotation.append(hook)
        return hook

    def release(self, hook: ConnectionRelease) -> None:
        """A tracked connection ended: decrease its node's count, once."""
        try:
            with self.lock:
                if self.tracked.pop(hook, None) is not None:
                    hook.node.count -= 1
                hook.cluster = None
        except Exception:   # never raise from a hook (it runs in dealloc)
            pass

    def sweep(self, step: Optional[int] = None) -> None:
        """Release the tracked connections that ended without telling us:
        collected, closed, or (checked without blocking) dropped by the
        server.  Checks `step` connections in turn, or all of them when
        `step` is None.  Called outside the lock."""
        if step is None:
            with self.lock:
                hooks = list(self.tracked)
                self.rotation = collections.deque(hooks)
            for hook in hooks:
                self._check(hook)
            return
        rotation = self.rotation
        for _ in range(min(step, len(rotation))):
            try:
                hook = rotation.popleft()
            except IndexError:
                return
            if self._check(hook):
                rotation.append(hook)

    def _check(self, hook: ConnectionRelease) -> bool:
        """Check one tracked connection; False if it has ended."""
        entry = self.tracked.get(hook)
        if entry is None:
            return False
        ref, is_async = entry
        conn = ref()
        if conn is None or conn.closed:
            hook()
            return False
        if not is_async:
            try:
                conn._check_broken()
            except Exception:   # e.g. no such method: hooks suffice
                return True
            if conn.closed:
                hook()
                return False
        return True

    def tracked_count(self) -> int:
        with self.lock:
            return len(self.tracked)

    # -- inspection ------------------------------------------------------

    def snapshot(self) -> Dict[str, Any]:
        now = time.monotonic()
        with self.lock:
            ttl = self.ttl
            return {
                "key": self.key,
                "universe_uuid": self.universe_uuid,
                "yugabytedb": self.is_yb,
                "use_public_ip": self.use_public_ip,
                "refreshed_seconds_ago": (
                    None if self.refreshed_at is None
                    else round(now - self.refreshed_at, 3)),
                "refreshes": self.refresh_count,
                "refresh_attempts": self.refresh_attempts,
                "refresh_errors": self.refresh_errors,
                "last_refresh_error": self.last_refresh_error,
                "open_connections": len(self.tracked),
                "nodes": [n.snapshot(now, ttl) for n in self.nodes or ()],
            }


class Registry:
    """Every cluster known to this process, by seed host set and by
    universe_uuid."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_seed: Dict[Any, Cluster] = {}
        self.by_uuid: Dict[str, Cluster] = {}

    def cluster_for(self, seed_key: Any, label: str) -> Cluster:
        cluster = self.by_seed.get(seed_key)
        if cluster is None:
            with self.lock:
                cluster = self.by_seed.get(seed_key)
                if cluster is None:
                    cluster = self.by_seed[seed_key] = Cluster(label)
        return cluster.current()

    def identify(self, cluster: Cluster, seed_key: Any,
                 universe_uuid: str) -> Cluster:
        """The cluster reported `universe_uuid`: return the one cluster
        object for that universe (`cluster` itself, or an older one that
        `cluster` now forwards to)."""
        with self.lock:
            owner = self.by_uuid.get(universe_uuid)
            if owner is None or owner is cluster:
                self.by_uuid[universe_uuid] = cluster
                cluster.universe_uuid = universe_uuid
                return cluster
            self.by_seed[seed_key] = owner
        with cluster.lock:
            cluster.forward = owner
            cluster.refreshed.notify_all()
        logger.debug("seed set %s is cluster %s", cluster.key, owner.key)
        return owner

    def clusters(self) -> List[Cluster]:
        with self.lock:
            seen = []
            for c in list(self.by_seed.values()) + list(self.by_uuid.values()):
                while c.forward is not None:
                    c = c.forward
                if c not in seen:
                    seen.append(c)
            return seen

    def clear(self) -> None:
        with self.lock:
            self.by_seed.clear()
            self.by_uuid.clear()


registry = Registry()
