"""YugabyteDB smart load balancing for `psycopg2.connect()`.

With ``load_balance=true`` (or another mode) `~psycopg2.connect()` reads the
cluster's node list with ``select * from yb_servers()`` through the hosts
given in the DSN, then connects to the eligible node this process has the
fewest connections to.  See ``doc/loadbalance.rst`` for the properties.

Public functions:

- `extract_properties()`: remove the load-balancing properties from a DSN
  and keyword arguments (called by `psycopg2.connect()`);
- `connect()`: open a load-balanced connection;
- `cluster_state()`: the node lists with per-node connection counts,
  failure state and counters, per cluster;
- `is_misplaced()`, `misplacement()`: whether (and why) an open
  connection should move to another node (for pools, see
  `psycopg2.pool`);
- `refresh()`: read the node lists again now;
- `reset()`: forget every cluster (node lists, counts, failures).

Diagnostics go to the logger ``psycopg2.loadbalance`` at DEBUG level.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import weakref
from typing import TYPE_CHECKING

from psycopg2 import _psycopg
from psycopg2._psycopg import Error, OperationalError, ProgrammingError
from psycopg2 import _lb_failure, _lb_policy, _lb_props, _lb_target
from psycopg2._lb_cluster import (SWEEP_STEP, Cluster, ConnectionRelease,
                                  Node, registry)
from psycopg2._lb_failure import CLIENT_ERROR, TLS_SPECIFIC, classify_error
from psycopg2._lb_props import (  # noqa: F401 (re-exported)
    LBProperties, PROPERTY_NAMES, extract_properties)

if TYPE_CHECKING:   # pragma: no cover
    from typing import (Any, Dict, Hashable, Iterator, List, Optional,
                        Sequence, Set, Tuple)

__all__ = ["extract_properties", "connect", "cluster_state", "reset",
           "is_misplaced", "misplacement", "refresh", "PROPERTY_NAMES",
           "LBProperties"]

logger = logging.getLogger("psycopg2.loadbalance")

YB_SERVERS_QUERY = "select * from yb_servers()"
UNDEFINED_FUNCTION = "42883"


# -- helpers -------------------------------------------------------------

def _open(dsn: str, factory: Any, async_: bool) -> Any:
    """A connection attempt whose error carries the facts needed by
    `_lb_failure.classify()`."""
    return _psycopg._lb_connect(dsn, connection_factory=factory,
                                async_=bool(async_))


def _plain_connect(dsn: str, factory: Any, cursor_factory: Any,
                   async_: bool) -> Any:
    conn = _psycopg._connect(dsn, connection_factory=factory,
                             async_=bool(async_))
    if cursor_factory is not None:
        conn.cursor_factory = cursor_factory
    return conn


def _first_line(exc: BaseException) -> str:
    msg = str(exc).strip()
    return " ".join(line.strip() for line in msg.splitlines() if line.strip())


def _is_numeric_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _addresses(host: str, port: Any) -> Set[str]:
    """Every address of `host` (itself if numeric); empty if it does not
    resolve or is a socket directory."""
    if not host or host.startswith("/"):
        return set()
    if _is_numeric_host(host):
        return {str(ipaddress.ip_address(host))}
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        return set()
    return {str(ipaddress.ip_address(str(i[4][0]).split("%")[0]))
            for i in infos}


def _resolve(host: str, port: int) -> Tuple[Optional[str], str]:
    """(address, "") for a host name, (None, reason) if it can't be
    resolved; numeric hosts need no address."""
    if not host or _is_numeric_host(host) or host.startswith("/"):
        return None, ""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as e:
        return None, "could not resolve host name %r: %s" % (host, e)
    if not infos:
        return None, "could not resolve host name %r" % host
    return str(infos[0][4][0]), ""


def _track(cluster: Cluster, conn: Any, node: Node, cursor_factory: Any,
           async_: bool, props: Optional[LBProperties] = None,
           tls: Hashable = ()) -> Any:
    """Attach the count-keeping hook to a new connection to `node`."""
    hook = cluster.track(conn, node, bool(async_), props, tls)
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


def _check_rows(cluster: Cluster, rows: Sequence[Dict[str, Any]]
                ) -> List[Tuple[Tuple[str, int], Optional[str],
                                Dict[str, Any]]]:
    """The usable rows as ((host, port), public_ip, row); the others are
    skipped with a warning."""
    good = []
    for row in rows:
        key, public, problems = _lb_policy.check_row(row)
        if problems:
            logger.warning("cluster %s: yb_servers() row %s: %s", cluster.key,
                           "skipped" if key is None else "used",
                           "; ".join(problems) + " in " + repr(row))
        if key is not None:
            good.append((key, public, row))
    return good


def _uses_public_ip(rows: Sequence[Tuple[Tuple[str, int], Optional[str],
                                         Dict[str, Any]]],
                    contacted: Set[str]) -> bool:
    """True if the client reached the cluster at a node's public_ip rather
    than at its host, comparing addresses."""
    if not contacted or not any(public for _, public, _ in rows):
        return False
    hosts: Set[str] = set()
    public: Set[str] = set()
    for (host, port), public_ip, _ in rows:
        hosts |= _addresses(host, port)
        if public_ip:
            public |= _addresses(public_ip, port)
    return _lb_policy.uses_public_ip(contacted, hosts, public)


def _resolve_rows(rows: Sequence[Tuple[Tuple[str, int], Optional[str],
                                       Dict[str, Any]]],
                  use_public_ip: bool
                  ) -> Dict[str, Tuple[Optional[str], str]]:
    resolved: Dict[str, Tuple[Optional[str], str]] = {}
    for (host, port), public, _ in rows:
        if use_public_ip and public:
            host = public
        if host not in resolved:
            resolved[host] = _resolve(host, port)
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

    __slots__ = ("label", "host", "hostaddr", "port", "dsn", "addrs",
                 "node")

    def __init__(self, label: str, host: str, hostaddr: Optional[str],
                 port: str, dsn: str, node: Optional[Node] = None):
        self.label = label
        self.host = host
        self.hostaddr = hostaddr
        self.port = port
        self.dsn = dsn
        self.node = node
        if hostaddr:
            self.addrs = _addresses(hostaddr, port)
        else:
            self.addrs = _addresses(host, port)

    def same_name(self, node: Node) -> bool:
        """True if this contact reaches `node` by the name the node list
        gives (a connection to it can serve as a connection to the node)."""
        if self.node is not None:
            return self.node is node
        if str(node.port) != self.port:
            return False
        return bool(self.host) and self.host == node.connect_host and (
            not self.hostaddr or self.hostaddr == node.addr
            or self.hostaddr == node.connect_host)

    def is_node(self, node: Node) -> bool:
        """True if this contact is `node`, comparing addresses."""
        if self.same_name(node):
            return True
        if self.node is not None or str(node.port) != self.port:
            return False
        there = [a for a in (node.connect_host, node.addr)
                 if a and _is_numeric_host(a)]
        return bool(self.addrs) and bool(self.addrs & {
            str(ipaddress.ip_address(a)) for a in there})


def _contacts(cluster: Cluster, target: _lb_target.Target,
              tls: Hashable) -> Iterator[_Contact]:
    """Where the node list can be read, each host once: the seeds (those
    known to be failed last), then the known nodes that are eligible now
    (computed when reached, so that a seed failing meanwhile is left
    out)."""
    seeds = [_Contact(s.label, s.host, s.hostaddr, s.port, s.dsn)
             for s in target.seeds]
    eligible = cluster.eligible_nodes(tls)
    healthy = [c for c in seeds if any(c.is_node(n) for n in eligible)
               or cluster.find_node(c.is_node) is None]
    for contact in healthy:
        yield contact
    for node in cluster.eligible_nodes(tls):
        if any(c.is_node(node) for c in seeds):
            continue
        yield _Contact(node.label, node.connect_host, node.addr,
                       str(node.port), target.node_dsn(
                           node.connect_host, node.port, node.addr), node)
    for contact in seeds:
        if contact not in healthy:
            yield contact


def _refresh(cluster: Cluster, target: _lb_target.Target,
             props: LBProperties, factory: Any, cursor_factory: Any,
             async_: bool, tls: Hashable, connecting: bool = True
             ) -> _RefreshResult:
    """Read yb_servers() and update the cluster (this thread holds the
    cluster's refresh turn); raise OperationalError if no host answers and
    there is no node list to fall back on.  A client-side error (bad
    option, password, database...) is raised as libpq reported it.
    Without `connecting` (refresh()), no connection is returned."""
    reusable = connecting and not async_ and (
        factory is None or factory is _psycopg.connection)
    cluster.sweep()
    errors: List[str] = []
    tls_errors: List[BaseException] = []
    answered = False
    try:
        for contact in _contacts(cluster, target, tls):
            try:
                ctl = _open(contact.dsn, factory if reusable else None, False)
            except OperationalError as e:
                kind = classify_error(e)
                if kind == CLIENT_ERROR:
                    raise
                if kind == TLS_SPECIFIC:
                    tls_errors.append(e)
                errors.append("%s: %s" % (contact.label, _first_line(e)))
                node = cluster.find_node(contact.is_node)
                if node is not None:
                    cluster.report_failure(node, _first_line(e), kind, tls)
                logger.debug("cluster %s: %s unreachable: %s", cluster.key,
                             contact.label, _first_line(e))
                continue
            answered = True
            try:
                rows = _read_yb_servers(ctl)
            except Error as e:
                if getattr(e, "pgcode", None) == UNDEFINED_FUNCTION:
                    if not connecting:
                        ctl.close()
                        cluster.set_not_yugabyte()
                        return _RefreshResult(cluster)
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
                                      ctl, reusable, cursor_factory, tls)
            except BaseException:
                ctl.close()
                raise
    finally:
        cluster.finish_refresh(False, "; ".join(errors)
                               or "no host answered")
    if not cluster.has_node_list():
        if tls_errors and len(tls_errors) == len(errors):
            raise tls_errors[0]
        if answered and not connecting:
            raise OperationalError(
                "could not read the node list (yb_servers()) of the "
                "cluster: %s" % "; ".join(errors))
        if answered:
            # reachable, but the list can't be read: connect as given
            logger.warning("cluster %s: could not read the node list (%s): "
                           "load balancing not applied, connecting normally",
                           cluster.key, "; ".join(errors))
            return _RefreshResult(cluster, _plain_connect(
                target.dsn, factory, cursor_factory, async_))
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
    if cluster.set_not_yugabyte():
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
                   cursor_factory: Any, tls: Hashable) -> _RefreshResult:
    """Store a node list read through `contact`; return the connection
    `ctl` if its node is the one to connect to (a connection saved), else
    close it."""
    checked = _check_rows(cluster, rows)
    use_public = _uses_public_ip(checked, contact.addrs)
    resolved = _resolve_rows(checked, use_public)
    universe = next((str(r["universe_uuid"]) for r in rows
                     if r.get("universe_uuid")), None)
    owner = cluster
    if universe:
        owner = registry.identify(cluster, target.seed_key, universe)
    for msg in owner.store_node_list(checked, use_public, resolved):
        logger.debug("%s", msg)
    cluster.finish_refresh(True)
    logger.debug("cluster %s: %d nodes listed by %s%s", owner.key,
                 len(checked), contact.label,
                 " (using public IPs)" if use_public else "")
    if reusable:
        here = owner.find_node(contact.same_name)
        node = None
        if here is not None:
            node, _ = owner.reserve(props, (), tls, prefer=here)
            if node is not None and node is not here:
                owner.unreserve(node)
                node = None
        if node is not None:
            owner.report_success(node, tls)
            logger.debug("cluster %s: control connection to %s kept",
                         owner.key, node.label)
            return _RefreshResult(owner, _track(owner, ctl, node,
                                                cursor_factory, False,
                                                props, tls))
    ctl.close()
    return _RefreshResult(owner)


# -- connecting ------------------------------------------------------------

def _no_node_error(cluster: Cluster, props: LBProperties,
                   errors: List[str], tls: Hashable) -> OperationalError:
    tried = {e.split(": ", 1)[0] for e in errors}
    reasons = errors + [r for r in cluster.failure_reasons(props, tls)
                        if r.split(": ", 1)[0] not in tried]
    what = "load_balance=%s" % props.load_balance
    if props.max_connections_per_node:
        what += ", max_connections_per_node=%d" % (
            props.max_connections_per_node)
    if props.topology_keys:
        what += ", topology_keys=%s" % ",".join(map(str, props.topology_keys))
        if props.fallback_only:
            what += ", fallback_to_topology_keys_only=true"
    if not reasons:
        reasons = ["no node of the %d listed matches"
                   % cluster.listed_count()]
    return OperationalError(
        "could not connect to any eligible node of cluster %s (%s): %s"
        % (cluster.key, what, "; ".join(reasons)))


class _Attempt:
    """The nodes one connect() tried and why they failed."""

    __slots__ = ("cluster", "target", "props", "tls", "tried", "errors",
                 "tls_errors", "node_errors")

    def __init__(self, cluster: Cluster, target: _lb_target.Target,
                 props: LBProperties, tls: Hashable):
        self.cluster = cluster
        self.target = target
        self.props = props
        self.tls = tls
        self.tried: List[Node] = []
        self.errors: List[str] = []
        self.tls_errors: List[BaseException] = []
        self.node_errors = 0

    def next_node(self) -> Optional[Node]:
        """Reserve the next node to try (None: nothing left)."""
        node, last_resort = self.cluster.reserve(self.props, self.tried,
                                                 self.tls)
        if node is not None:
            self.tried.append(node)
            if last_resort:
                logger.info("cluster %s: every eligible node failed less "
                            "than %ss ago: trying %s anyway",
                            self.cluster.key, self.props.failed_host_ttl,
                            node.label)
        return node

    def failed(self, node: Node, exc: BaseException,
               release: bool = True) -> bool:
        """Account for a failed attempt to `node` (its slot is given back
        if `release`); False if the error is the client's, to raise as
        is."""
        if release:
            self.cluster.unreserve(node)
        kind = classify_error(exc)
        if kind == CLIENT_ERROR:
            return False
        reason = _first_line(exc)
        self.cluster.report_failure(node, reason, kind, self.tls)
        if kind == TLS_SPECIFIC:
            self.tls_errors.append(exc)
        else:
            self.node_errors += 1
        self.errors.append("%s: %s" % (node.label, reason))
        logger.debug("cluster %s: node %s failed: %s", self.cluster.key,
                     node.label, reason)
        return True

    def error(self) -> BaseException:
        """The error to raise when no node is left."""
        if self.tls_errors and not self.node_errors:
            # every node refused these TLS parameters: libpq's own error
            return self.tls_errors[0]
        return _no_node_error(self.cluster, self.props, self.errors,
                              self.tls)

    def dsn(self, node: Node) -> str:
        return self.target.node_dsn(node.connect_host, node.port, node.addr)


class _Failover:
    """The `_lb_failover` of an async load-balanced connection: called by
    poll() when the attempt fails, it marks the node and returns the DSN of
    the next node to try (or None, or raises when none is left); called
    with None when the attempt succeeded."""

    __slots__ = ("attempt", "node", "conn", "cursor_factory")

    def __init__(self, attempt: _Attempt, node: Node, conn: Any,
                 cursor_factory: Any):
        self.attempt = attempt
        self.node = node
        self.conn = weakref.ref(conn)
        self.cursor_factory = cursor_factory

    def __call__(self, exc: Optional[BaseException]) -> Optional[str]:
        if exc is None:     # the attempt succeeded
            self.attempt.cluster.report_success(self.node, self.attempt.tls)
            return None
        conn = self.conn()
        if conn is None:
            return None
        hook = conn._lb_hook
        conn._lb_hook = None
        if hook is not None:
            hook()      # gives back the failed node's slot
        attempt = self.attempt
        if not attempt.failed(self.node, exc, release=False):
            return None
        node = attempt.next_node()
        if node is None:
            raise attempt.error()
        self.node = node
        _track(attempt.cluster, conn, node, None, True, attempt.props,
               attempt.tls)
        return attempt.dsn(node)


def _connect_to_nodes(cluster: Cluster, target: _lb_target.Target,
                      props: LBProperties, factory: Any,
                      cursor_factory: Any, async_: bool,
                      tls: Hashable) -> Any:
    """Connect to the best eligible node, trying the next ones when a node
    does not accept; raise OperationalError when none does."""
    attempt = _Attempt(cluster, target, props, tls)
    while True:
        node = attempt.next_node()
        if node is None:
            raise attempt.error()
        try:
            conn = _open(attempt.dsn(node), factory, async_)
        except OperationalError as e:
            if not attempt.failed(node, e):
                raise
            continue
        except BaseException:
            cluster.unreserve(node)
            raise
        if not async_:
            cluster.report_success(node, tls)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("cluster %s: connected to %s (%d open)",
                         cluster.key, node.label, node.count)
        conn = _track(cluster, conn, node, cursor_factory, async_, props,
                      tls)
        if async_:
            try:
                conn._lb_failover = _Failover(attempt, node, conn,
                                              cursor_factory)
            except Exception as e:
                logger.debug("cannot set _lb_failover on %r: %s",
                             type(conn), e)
        return conn


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
    tls = _lb_failure.tls_key(target.params)
    cluster = registry.cluster_for(target.seed_key, target.label)
    cluster.last_target = (target, props, tls)
    cluster.sweep(SWEEP_STEP)
    if cluster.begin_refresh(props.refresh_interval, props.failed_host_ttl):
        result = _refresh(cluster, target, props, connection_factory,
                          cursor_factory, async_, tls)
        if result.conn is not None:
            return result.conn
        cluster = result.cluster
    cluster = cluster.current()
    if cluster.is_yb is False:
        return _plain_connect(target.dsn, connection_factory,
                              cursor_factory, async_)
    return _connect_to_nodes(cluster, target, props, connection_factory,
                             cursor_factory, async_, tls)


# -- inspection ----------------------------------------------------------

def cluster_state() -> Dict[str, Dict[str, Any]]:
    """The state of every cluster this process connected to, by cluster.

    Each value has ``nodes``: one dict per node listed by yb_servers() with
    ``host``, ``port``, ``node_type``, ``cloud``, ``region``, ``zone``,
    ``public_ip``, ``connections`` (connections this process has open to
    it), ``failed`` (True if the node is not eligible now: it failed less
    than failed_host_ttl_seconds ago, or its name does not resolve), when
    and why it last failed, and ``tls_failures`` (the TLS parameter sets it
    failed for), the counters ``connections_opened``, ``failures``,
    ``last_failure_reason`` and ``last_failed_at`` (`time.time()`); and the
    cluster's ``universe_uuid``, ``yugabytedb`` (False if the server has no
    yb_servers()), ``refreshed_seconds_ago``, ``refreshes`` (lists read),
    ``refresh_attempts``, ``refresh_errors`` and ``last_refresh_error``.
    The shape is documented in doc/loadbalance.rst.  Connections found
    closed meanwhile are accounted for first.
    """
    out = {}
    for cluster in registry.clusters():
        cluster.sweep()
        snap = cluster.snapshot()
        out[cluster.universe_uuid or cluster.key] = snap
    return out


def misplacement(conn: Any, margin: int = 2) -> Optional[str]:
    """Return why the load-balanced connection *conn* should be moved to
    another node, or `!None` if it is well placed.

    A connection is misplaced when its node is no longer listed by
    ``yb_servers()``; when it is a read replica or a primary against the
    ``load_balance`` mode it was opened with, or outside its
    ``topology_keys`` with ``fallback_to_topology_keys_only``; when a node
    of a more preferred topology level is eligible again; or when its node
    has at least *margin* more of this process's connections than the
    least-loaded eligible node.  Only the balancer's state is read: no
    network I/O, cost proportional to the number of nodes.  `!None` for a
    closed connection and for one that was not load balanced.
    """
    if isinstance(margin, bool) or not isinstance(margin, int) \
            or margin < 1:
        raise ProgrammingError("margin must be an integer >= 1, got %r"
                               % (margin,))
    hook = getattr(conn, "_lb_hook", None)
    if not isinstance(hook, ConnectionRelease):
        return None
    cluster = hook.cluster
    if cluster is None or getattr(conn, "closed", True):
        return None
    return cluster.misplacement(hook, margin)


def is_misplaced(conn: Any, margin: int = 2) -> bool:
    """Return `!True` if the load-balanced connection *conn* should be
    moved to another node (see `misplacement()`).

    Closing such a connection when it is idle and opening a new one with
    the same parameters moves it to the best node: the pools of
    `psycopg2.pool` do so with *rebalance*.
    """
    return misplacement(conn, margin) is not None


def _refresh_cluster(cluster: Cluster, target: _lb_target.Target,
                     props: LBProperties, tls: Hashable) -> None:
    cluster.force_refresh()
    if not cluster.begin_refresh(props.refresh_interval):
        return      # another thread is reading it now
    _refresh(cluster, target, props, None, None, False, tls,
             connecting=False)


def refresh(dsn: Optional[str] = None, **kwargs: Any) -> None:
    """Read the node list (``yb_servers()``) again now.

    Without arguments, every cluster this process connected to is read
    again, through the hosts and with the parameters of its last
    `!connect()`; with a *dsn* (and keyword arguments, as for
    `psycopg2.connect()`), the cluster they name.  A cluster whose list
    cannot be read keeps its old list; the error is in
    `cluster_state()` (``last_refresh_error``).  Raise `OperationalError`
    if a cluster never read cannot be read now.
    """
    if dsn is not None or kwargs:
        dsn, kwargs, props = extract_properties(dsn, kwargs)
        if not props:
            props = _lb_props.build_properties({"load_balance": "true"})
        target = _lb_target.target_for(dsn, kwargs)
        tls = _lb_failure.tls_key(target.params)
        cluster = registry.cluster_for(target.seed_key, target.label)
        cluster.last_target = cluster.last_target or (target, props, tls)
        _refresh_cluster(cluster, target, props, tls)
        return
    errors = []
    for cluster in registry.clusters():
        last = cluster.last_target
        if last is None:
            continue
        try:
            _refresh_cluster(cluster, *last)
        except Error as e:
            logger.warning("cluster %s: refresh failed: %s", cluster.key, e)
            errors.append("%s: %s" % (cluster.key, _first_line(e)))
    if errors:
        raise OperationalError("could not refresh the node list of: %s"
                               % "; ".join(errors))


def reset() -> None:
    """Forget every cluster: node lists, counts and failures.

    Connections already open keep working; they are no longer counted.
    """
    registry.clear()
    _lb_target.clear_cache()
    _lb_props.clear_cache()
