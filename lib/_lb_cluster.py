"""Per-cluster state of the load balancer: node list, counts, failures.

A `Cluster` holds the nodes listed by ``yb_servers()`` with, for each, the
number of connections this process has open to it and when it last failed.
Everything here runs under the cluster's lock and does no network I/O: the
caller reads ``yb_servers()`` and opens connections outside the lock.
"""

import collections
import logging
import random
import threading
import time
import weakref
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from psycopg2._lb_props import LBProperties

logger = logging.getLogger("psycopg2.loadbalance")

READ_REPLICA_TYPES = frozenset(["read_replica", "readreplica", "rr"])

# Tracked connections checked for a server-side drop at each connect: a
# bounded number, so that a connect costs O(1) whatever the number of open
# connections (each check is a system call); every connection is checked
# again after (open connections / SWEEP_STEP) connects, and all of them by
# cluster_state() and at every node list refresh.
SWEEP_STEP = 16



class Node:
    """A node of the cluster as yb_servers() lists it, plus our counts."""

    __slots__ = ("host", "port", "node_type", "cloud", "region", "zone",
                 "public_ip", "uuid", "is_rr", "placement", "connect_host",
                 "addr", "resolved", "count", "failed_at", "fail_reason",
                 "listed")

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
        self.listed = True

    def update(self, row: Dict[str, Any]) -> None:
        """Take the placement and type from a yb_servers() row."""
        self.node_type = str(row.get("node_type") or "primary")
        self.is_rr = self.node_type.lower() in READ_REPLICA_TYPES
        self.cloud = str(row.get("cloud") or "")
        self.region = str(row.get("region") or "")
        self.zone = str(row.get("zone") or "")
        self.placement = (self.cloud.casefold(), self.region.casefold(),
                          self.zone.casefold())
        self.public_ip = str(row.get("public_ip") or "")
        self.uuid = str(row.get("uuid") or "")

    def is_failed(self, now: float, ttl: float) -> bool:
        return self.failed_at is not None and now - self.failed_at < ttl

    def mark_failed(self, reason: str) -> None:
        self.failed_at = time.monotonic()
        self.fail_reason = reason

    def mark_ok(self) -> None:
        """The node accepted a connection: it is no longer failed."""
        self.failed_at = None
        self.fail_reason = ""

    @property
    def label(self) -> str:
        return "%s:%s" % (self.connect_host, self.port)

    def snapshot(self, now: float) -> Dict[str, Any]:
        return {
            "host": self.host, "port": self.port,
            "node_type": self.node_type, "cloud": self.cloud,
            "region": self.region, "zone": self.zone,
            "public_ip": self.public_ip, "uuid": self.uuid,
            "connect_host": self.connect_host,
            "connections": self.count,
            "failed": self.failed_at is not None,
            "failed_seconds_ago": (None if self.failed_at is None
                                   else round(now - self.failed_at, 3)),
            "fail_reason": self.fail_reason or None,
        }


class ConnectionRelease:
    """The `_lb_hook` of a load-balanced connection: called by the
    connection when it ends (close(), broken, garbage collected), it gives
    back the connection's slot on its node exactly once."""

    __slots__ = ("cluster", "node", "__weakref__")

    def __init__(self, cluster: "Cluster", node: Node):
        self.cluster = cluster
        self.node = node

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

    # -- refresh bookkeeping ---------------------------------------------

    def needs_refresh(self, interval: float, now: float) -> bool:
        return (self.refreshed_at is None
                or now - self.refreshed_at >= interval)

    def begin_refresh(self, interval: float) -> bool:
        """Under the lock: True if the caller must read yb_servers() now.

        Only one thread refreshes at a time; the others use the current
        list, or wait for the first one when there is none yet."""
        while True:
            now = time.monotonic()
            if not self.needs_refresh(interval, now):
                return False
            if not self.refreshing:
                self.refreshing = threading.get_ident()
                return True
            if self.nodes is not None or self.is_yb is False:
                return False        # a stale list is good meanwhile
            self.refreshed.wait(1.0)
            if self.forward is not None:
                return False

    def end_refresh(self, ok: bool) -> None:
        """Under the lock: the refresh finished (ok: the list was read or
        the server turned out not to be YugabyteDB)."""
        self.refreshing = 0
        if ok or self.nodes is not None:
            # On failure with a usable old list, wait for the next
            # interval instead of trying again at every connect.
            self.refreshed_at = time.monotonic()
        self.refreshed.notify_all()

    def apply_node_list(self, rows: Sequence[Dict[str, Any]],
                        use_public_ip: bool,
                        resolved: Dict[str, Tuple[Optional[str], str]]
                        ) -> None:
        """Under the lock: replace the node list with yb_servers()' rows,
        keeping counts and failures of the nodes already known.
        `resolved` maps a connect host to (address or None, error)."""
        nodes = []
        by_addr = {}
        for row in rows:
            key = (str(row["host"]), int(row["port"]))
            node = self.by_addr.get(key) or Node(*key)
            node.update(row)
            node.listed = True
            node.connect_host = (node.public_ip if use_public_ip
                                 and node.public_ip else node.host)
            addr, error = resolved.get(node.connect_host, (None, ""))
            node.addr = addr
            node.resolved = not error
            if error:
                node.mark_failed(error)
            elif node.fail_reason.startswith("could not resolve"):
                node.failed_at = None
                node.fail_reason = ""
            nodes.append(node)
            by_addr[key] = node
        for key, node in self.by_addr.items():
            if key not in by_addr:
                node.listed = False
                logger.debug("cluster %s: node %s left the list",
                             self.key, node.label)
        self.nodes = nodes
        self.by_addr = by_addr
        self.use_public_ip = use_public_ip
        self.is_yb = True
        self.warned_keys = set()
        self.refresh_count += 1

    # -- choice ------------------------------------------------------------

    def _warn_unmatched_keys(self, props: LBProperties) -> None:
        for key in props.topology_keys:
            if key in self.warned_keys:
                continue
            self.warned_keys.add(key)
            if not any(key.matches(n.placement) for n in self.nodes or ()):
                logger.warning("cluster %s: topology key %s matches no node",
                               self.key, key)

    def choose(self, props: LBProperties, tried: Iterable[Node],
               prefer: Optional[Node] = None) -> Optional[Node]:
        """Under the lock: the eligible node with the fewest connections
        (ties at random, or `prefer` when among the best), its count
        already raised; None if no node is eligible."""
        if props.topology_keys and len(self.warned_keys) < 64:
            self._warn_unmatched_keys(props)
        now = time.monotonic()
        ttl = props.failed_host_ttl
        excluded = set(map(id, tried)) if tried else ()
        for node_type, keys in props.tiers():
            best: List[Node] = []
            low = -1
            for node in self.nodes or ():
                if node.failed_at is not None and (
                        now - node.failed_at < ttl or not node.resolved):
                    continue
                if excluded and id(node) in excluded:
                    continue
                if node_type is not None and node.is_rr != (node_type == "rr"):
                    continue
                if keys is not None and not any(
                        k.matches(node.placement) for k in keys):
                    continue
                if low < 0 or node.count < low:
                    best = [node]
                    low = node.count
                elif node.count == low:
                    best.append(node)
            if best:
                node = (prefer if prefer is not None and prefer in best
                        else random.choice(best) if len(best) > 1
                        else best[0])
                node.count += 1
                return node
        return None

    def unreserve(self, node: Node) -> None:
        """Under the lock: give back a slot taken by choose()."""
        node.count -= 1

    def skipped_reasons(self, props: LBProperties) -> List[str]:
        """Under the lock: why each currently failed node was skipped."""
        now = time.monotonic()
        out = []
        for node in self.nodes or ():
            if node.is_failed(now, props.failed_host_ttl) or (
                    not node.resolved):
                out.append("%s: skipped, failed %.1fs ago (%s)" % (
                    node.label, now - node.failed_at, node.fail_reason))
        return out

    # -- connection tracking -------------------------------------------

    def track(self, conn: Any, node: Node, is_async: bool
              ) -> ConnectionRelease:
        """Register an open connection to `node` (counted by choose());
        returns the hook the connection must call when it ends."""
        hook = ConnectionRelease(self, node)
        ref = weakref.ref(conn, hook)
        with self.lock:
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
            return {
                "key": self.key,
                "universe_uuid": self.universe_uuid,
                "yugabytedb": self.is_yb,
                "use_public_ip": self.use_public_ip,
                "refreshed_seconds_ago": (
                    None if self.refreshed_at is None
                    else round(now - self.refreshed_at, 3)),
                "refreshes": self.refresh_count,
                "open_connections": len(self.tracked),
                "nodes": [n.snapshot(now) for n in self.nodes or ()],
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
        while cluster.forward is not None:
            cluster = cluster.forward
        return cluster

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
