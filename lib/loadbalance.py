"""YugabyteDB smart load balancing for `psycopg2.connect()`.

With ``load_balance=true`` (or another mode) `~psycopg2.connect()` reads the
cluster's node list with ``select * from yb_servers()`` through the hosts
given in the DSN, then connects to the eligible node this process has the
fewest connections to.  See ``doc/loadbalance.rst`` for the properties.

Public functions:

- `extract_properties()`: remove the load-balancing properties from a DSN
  and keyword arguments (called by `psycopg2.connect()`);
- `connect()`: open a load-balanced connection;
- `cluster_state()`: the node lists with per-node connection counts and
  failure state, per cluster;
- `reset()`: forget every cluster (node lists, counts, failures).

Diagnostics go to the logger ``psycopg2.loadbalance`` at DEBUG level.
"""

import ipaddress
import logging
import socket
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from psycopg2 import _psycopg
from psycopg2._psycopg import Error, OperationalError
from psycopg2 import _lb_props, _lb_target
from psycopg2._lb_cluster import SWEEP_STEP, Cluster, Node, registry
from psycopg2._lb_props import LBProperties, PROPERTY_NAMES

__all__ = ["extract_properties", "connect", "cluster_state", "reset",
           "PROPERTY_NAMES", "LBProperties"]

logger = logging.getLogger("psycopg2.loadbalance")

YB_SERVERS_QUERY = "select * from yb_servers()"
UNDEFINED_FUNCTION = "42883"

# Server-side refusals that concern one node (try another) rather than the
# client's parameters (same answer from every node: raise at once).
_NODE_SQLSTATE_PREFIXES = ("08", "53", "57P")
_NODE_FATAL_MESSAGES = ("starting up", "shutting down", "in recovery",
                        "too many clients", "remaining connection slots",
                        "not accepting connections", "terminating connection",
                        "not yet accepting connections")

_CACHE_SIZE = 256
# DSN -> (DSN without the properties, their raw values, LBProperties)
_dsn_cache: Dict[str, Tuple[str, Dict[str, str],
                            Optional[LBProperties]]] = {}
_props_cache: Dict[Any, LBProperties] = {}


# -- properties ----------------------------------------------------------

def _properties(raw: Dict[str, Any]) -> LBProperties:
    try:
        key: Any = tuple(sorted((k, type(v).__name__, v)
                                for k, v in raw.items()))
        props = _props_cache.get(key)
    except TypeError:
        key, props = None, None
    if props is None:
        props = _lb_props.build_properties(raw)
        if key is not None:
            if len(_props_cache) >= _CACHE_SIZE:
                _props_cache.clear()
            _props_cache[key] = props
    return props


def extract_properties(dsn: Optional[str], kwargs: Dict[str, Any]
                       ) -> Tuple[Optional[str], Dict[str, Any],
                                  Optional[LBProperties]]:
    """Remove the load-balancing properties from `dsn` and `kwargs`.

    Return ``(dsn, kwargs, props)``: the DSN and keyword arguments libpq
    may see, and the validated properties (None if none was given; falsy
    if load balancing is not enabled).  Keyword arguments override the DSN.
    Raise `~psycopg2.ProgrammingError` for a malformed value.
    """
    kw_found: Dict[str, Any] = {}
    if kwargs and not PROPERTY_NAMES.isdisjoint(kwargs):
        kwargs, kw_found = _lb_props.strip_kwargs(kwargs)
    if isinstance(dsn, str):
        entry = _dsn_cache.get(dsn)
        if entry is None:
            clean, found = _lb_props.strip_dsn(dsn)
            entry = (clean, found, _properties(found) if found else None)
            if len(_dsn_cache) >= _CACHE_SIZE:
                _dsn_cache.clear()
            _dsn_cache[dsn] = entry
        dsn, found, props = entry
        if kw_found:
            props = _properties(dict(found, **kw_found))
    else:
        props = _properties(kw_found) if kw_found else None
    if props is not None and not props and len(props.given) > (
            _lb_props.LOAD_BALANCE in props.given):
        logger.warning("connection properties %s ignored: load_balance is "
                       "not enabled", ", ".join(
                           n for n in props.given
                           if n != _lb_props.LOAD_BALANCE))
    return dsn, kwargs, props


# -- helpers -------------------------------------------------------------

def _open(dsn: str, factory: Any, async_: bool) -> Any:
    return _psycopg._connect(dsn, connection_factory=factory,
                             async_=bool(async_))


def _plain_connect(dsn: str, factory: Any, cursor_factory: Any,
                   async_: bool) -> Any:
    conn = _open(dsn, factory, async_)
    if cursor_factory is not None:
        conn.cursor_factory = cursor_factory
    return conn


def _is_node_failure(exc: Exception) -> bool:
    """True if a connection failure concerns the node (unreachable, down,
    starting, full) rather than the client's parameters."""
    code = getattr(exc, "pgcode", None)
    if code:
        return code.startswith(_NODE_SQLSTATE_PREFIXES)
    msg = str(exc)
    if "FATAL" not in msg:
        return True     # no server answer: refused, timeout, unreachable
    return any(s in msg for s in _NODE_FATAL_MESSAGES)


def _first_line(exc: Exception) -> str:
    msg = str(exc).strip()
    return " ".join(line.strip() for line in msg.splitlines() if line.strip())


def _is_numeric_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _resolve(host: str, port: int) -> Tuple[Optional[str], str]:
    """(address, "") for a host name, (None, reason) if it can't be
    resolved; numeric hosts need no address."""
    if not host or _is_numeric_host(host) or host.startswith("/"):
        return None, ""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        return None, "could not resolve host name %r: %s" % (host, e)
    if not infos:
        return None, "could not resolve host name %r" % host
    return infos[0][4][0], ""


def _track(cluster: Cluster, conn: Any, node: Node, cursor_factory: Any,
           async_: bool) -> Any:
    """Attach the count-keeping hook to a new connection to `node`."""
    hook = cluster.track(conn, node, bool(async_))
    try:
        conn._lb_hook = hook
    except Exception as e:   # the sweep and the weakref still release it
        logger.debug("cannot set _lb_hook on %r: %s", type(conn), e)
    if conn.closed:
        hook()
    if cursor_factory is not None:
        conn.cursor_factory = cursor_factory
    return conn


# -- node list refresh -----------------------------------------------------

def _read_yb_servers(conn: Any) -> List[Dict[str, Any]]:
    """Run yb_servers() outside any transaction; rows as dicts."""
    conn.autocommit = True
    cur = conn.cursor()
    try:
        cur.execute(YB_SERVERS_QUERY)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        cur.close()
    conn.autocommit = False
    return rows


def _uses_public_ip(rows: Sequence[Dict[str, Any]], contacted: str) -> bool:
    """True if the client reached the cluster through a node's public_ip
    rather than its host: then every node is reached by its public_ip."""
    if not contacted:
        return False
    hosts = {str(r["host"]) for r in rows}
    public = {str(r.get("public_ip") or "") for r in rows}
    return contacted in public and contacted not in hosts


def _resolve_rows(rows: Sequence[Dict[str, Any]], use_public_ip: bool
                  ) -> Dict[str, Tuple[Optional[str], str]]:
    resolved = {}
    for row in rows:
        host = str(row["host"])
        if use_public_ip and row.get("public_ip"):
            host = str(row["public_ip"])
        if host not in resolved:
            resolved[host] = _resolve(host, int(row["port"]))
            if resolved[host][1]:
                logger.warning("%s: the node is marked failed",
                               resolved[host][1])
    return resolved


class _RefreshResult:
    """What a refresh produced: the cluster to use, and maybe a connection
    to return as is (the control connection, reused)."""

    __slots__ = ("cluster", "conn")

    def __init__(self, cluster: Cluster, conn: Any = None):
        self.cluster = cluster
        self.conn = conn


class _Contact:
    """A host through which the node list can be read."""

    __slots__ = ("label", "host", "hostaddr", "port", "dsn")

    def __init__(self, label: str, host: str, hostaddr: Optional[str],
                 port: str, dsn: str):
        self.label = label
        self.host = host
        self.hostaddr = hostaddr
        self.port = port
        self.dsn = dsn

    def is_node(self, node: Node) -> bool:
        """True if this contact is `node` (as the node list names it)."""
        if str(node.port) != self.port:
            return False
        if self.host and self.host == node.connect_host:
            return True
        return bool(self.hostaddr) and self.hostaddr in (node.connect_host,
                                                         node.addr)


def _contacts(cluster: Cluster, target: _lb_target.Target
              ) -> List[_Contact]:
    """Where the node list can be read: the seed hosts, then the known
    nodes that are not marked failed."""
    out = [_Contact(s.label, s.host, s.hostaddr, s.port, s.dsn)
           for s in target.seeds]
    with cluster.lock:
        known = [n for n in cluster.nodes or () if n.failed_at is None]
    for n in known:
        out.append(_Contact(n.label, n.connect_host, n.addr, str(n.port),
                            target.node_dsn(n.connect_host, n.port, n.addr)))
    return out


def _refresh(cluster: Cluster, target: _lb_target.Target,
             props: LBProperties, factory: Any, cursor_factory: Any,
             async_: bool) -> _RefreshResult:
    """Read yb_servers() and update the cluster (this thread holds the
    cluster's refresh turn); raise OperationalError if no host answers and
    there is no node list to fall back on."""
    reusable = not async_ and (factory is None
                               or factory is _psycopg.connection)
    cluster.sweep()
    errors: List[str] = []
    try:
        for contact in _contacts(cluster, target):
            try:
                ctl = _open(contact.dsn, factory if reusable else None, False)
            except OperationalError as e:
                if not _is_node_failure(e):
                    raise
                errors.append("%s: %s" % (contact.label, _first_line(e)))
                logger.debug("cluster %s: %s unreachable: %s", cluster.key,
                             contact.label, _first_line(e))
                continue
            try:
                rows = _read_yb_servers(ctl)
            except Error as e:
                if getattr(e, "pgcode", None) == UNDEFINED_FUNCTION:
                    return _not_yugabyte(cluster, target, ctl, reusable,
                                         factory, cursor_factory, async_)
                ctl.close()
                errors.append("%s: %s" % (contact.label, _first_line(e)))
                continue
            except BaseException:
                ctl.close()
                raise
            try:
                return _apply_refresh(cluster, target, props, rows, contact,
                                      ctl, reusable, cursor_factory)
            except BaseException:
                ctl.close()
                raise
    finally:
        with cluster.lock:
            if cluster.refreshing == threading.get_ident():
                cluster.end_refresh(False)
    with cluster.lock:
        have_list = cluster.nodes is not None
    if not have_list:
        raise OperationalError(
            "could not read the node list (yb_servers()) of the cluster "
            "through any of its hosts: %s" % "; ".join(errors))
    logger.warning("cluster %s: node list not refreshed, using the old one: "
                   "%s", cluster.key, "; ".join(errors))
    return _RefreshResult(cluster)


def _not_yugabyte(cluster: Cluster, target: _lb_target.Target, ctl: Any,
                  reusable: bool, factory: Any, cursor_factory: Any,
                  async_: bool) -> _RefreshResult:
    """The server has no yb_servers(): plain connections from now on (until
    the next refresh interval)."""
    with cluster.lock:
        first = cluster.is_yb is not False
        cluster.is_yb = False
        cluster.end_refresh(True)
    if first:
        logger.warning("%s is not a YugabyteDB cluster (no yb_servers() "
                       "function): load balancing disabled, connecting "
                       "normally", cluster.key)
    if reusable:
        ctl.autocommit = False
        if cursor_factory is not None:
            ctl.cursor_factory = cursor_factory
        return _RefreshResult(cluster, ctl)
    ctl.close()
    return _RefreshResult(cluster, _plain_connect(
        target.dsn, factory, cursor_factory, async_))


def _apply_refresh(cluster: Cluster, target: _lb_target.Target,
                   props: LBProperties, rows: List[Dict[str, Any]],
                   contact: _Contact, ctl: Any, reusable: bool,
                   cursor_factory: Any) -> _RefreshResult:
    """Store a node list read through `contact`; return the connection
    `ctl` if its node is the one to connect to (a connection saved), else
    close it."""
    use_public = _uses_public_ip(rows, contact.host or contact.hostaddr or "")
    resolved = _resolve_rows(rows, use_public)
    universe = next((str(r["universe_uuid"]) for r in rows
                     if r.get("universe_uuid")), None)
    owner = cluster
    if universe:
        owner = registry.identify(cluster, target.seed_key, universe)
    with owner.lock:
        owner.apply_node_list(rows, use_public, resolved)
        owner.refreshed_at = time.monotonic()
        owner.refreshed.notify_all()
    with cluster.lock:
        cluster.end_refresh(True)
    logger.debug("cluster %s: %d nodes listed by %s%s", owner.key, len(rows),
                 contact.label, " (using public IPs)" if use_public else "")
    if reusable:
        with owner.lock:
            here = next((n for n in owner.nodes or ()
                         if contact.is_node(n)), None)
            node = owner.choose(props, (), prefer=here) if here else None
            if node is not None and node is not here:
                owner.unreserve(node)
                node = None
        if node is not None:
            logger.debug("cluster %s: control connection to %s kept",
                         owner.key, node.label)
            return _RefreshResult(owner, _track(owner, ctl, node,
                                                cursor_factory, False))
    ctl.close()
    return _RefreshResult(owner)


# -- connecting ------------------------------------------------------------

def _no_node_error(cluster: Cluster, props: LBProperties,
                   errors: List[str]) -> OperationalError:
    with cluster.lock:
        reasons = errors + cluster.skipped_reasons(props)
        listed = len(cluster.nodes or ())
    what = "load_balance=%s" % props.load_balance
    if props.topology_keys:
        what += ", topology_keys=%s" % ",".join(map(str, props.topology_keys))
        if props.fallback_only:
            what += ", fallback_to_topology_keys_only=true"
    if not reasons:
        reasons = ["no node of the %d listed matches" % listed]
    return OperationalError(
        "could not connect to any eligible node of cluster %s (%s): %s"
        % (cluster.key, what, "; ".join(reasons)))


def _connect_to_nodes(cluster: Cluster, target: _lb_target.Target,
                      props: LBProperties, factory: Any,
                      cursor_factory: Any, async_: bool) -> Any:
    """Connect to the best eligible node, trying the next ones when a node
    does not accept; raise OperationalError when none does."""
    tried: List[Node] = []
    errors: List[str] = []
    while True:
        with cluster.lock:
            node = cluster.choose(props, tried)
        if node is None:
            raise _no_node_error(cluster, props, errors)
        tried.append(node)
        try:
            conn = _open(target.node_dsn(node.connect_host, node.port,
                                         node.addr), factory, async_)
        except OperationalError as e:
            with cluster.lock:
                cluster.unreserve(node)
                if _is_node_failure(e):
                    node.mark_failed(_first_line(e))
            if not _is_node_failure(e):
                raise
            errors.append("%s: %s" % (node.label, _first_line(e)))
            logger.debug("cluster %s: node %s failed: %s", cluster.key,
                         node.label, _first_line(e))
            continue
        except BaseException:
            with cluster.lock:
                cluster.unreserve(node)
            raise
        if node.failed_at is not None:
            with cluster.lock:
                node.mark_ok()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("cluster %s: connected to %s (%d open)",
                         cluster.key, node.label, node.count)
        return _track(cluster, conn, node, cursor_factory, async_)


def connect(dsn: Optional[str] = None, props: Optional[LBProperties] = None,
            connection_factory: Any = None, cursor_factory: Any = None,
            async_: bool = False, **kwargs: Any) -> Any:
    """Open a load-balanced connection.

    `dsn` and `kwargs` are as for `psycopg2.connect()`, without the
    load-balancing properties, which come validated in `props` (as returned
    by `extract_properties()`; when None they are extracted here).
    """
    if props is None:
        dsn, kwargs, props = extract_properties(dsn, kwargs)
    target = _lb_target.target_for(dsn, kwargs)
    if not props:
        return _plain_connect(target.dsn, connection_factory,
                              cursor_factory, async_)
    cluster = registry.cluster_for(target.seed_key, target.label)
    cluster.sweep(SWEEP_STEP)
    with cluster.lock:
        must_refresh = cluster.begin_refresh(props.refresh_interval)
    if must_refresh:
        result = _refresh(cluster, target, props, connection_factory,
                          cursor_factory, async_)
        if result.conn is not None:
            return result.conn
        cluster = result.cluster
    while cluster.forward is not None:
        cluster = cluster.forward
    if cluster.is_yb is False:
        return _plain_connect(target.dsn, connection_factory,
                              cursor_factory, async_)
    return _connect_to_nodes(cluster, target, props, connection_factory,
                             cursor_factory, async_)


# -- inspection ----------------------------------------------------------

def cluster_state() -> Dict[str, Dict[str, Any]]:
    """The state of every cluster this process connected to, by cluster.

    Each value has ``nodes``: one dict per node listed by yb_servers() with
    ``host``, ``port``, ``node_type``, ``cloud``, ``region``, ``zone``,
    ``public_ip``, ``connections`` (connections this process has open to
    it) and ``failed`` (plus when and why), and the cluster's
    ``universe_uuid``, ``yugabytedb`` (False if the server has no
    yb_servers()), ``refreshed_seconds_ago`` and ``refreshes``.
    Connections found closed meanwhile are accounted for first.
    """
    out = {}
    for cluster in registry.clusters():
        cluster.sweep()
        snap = cluster.snapshot()
        out[cluster.universe_uuid or cluster.key] = snap
    return out


def reset() -> None:
    """Forget every cluster: node lists, counts and failures.

    Connections already open keep working; they are no longer counted.
    """
    registry.clear()
    _lb_target.clear_cache()
    _dsn_cache.clear()
    _props_cache.clear()
