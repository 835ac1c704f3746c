"""Connection targets of the load balancer: seed hosts and per-node DSNs.

A `Target` is the parsed form of the DSN given to `connect()` (load-balancing
properties already removed, a service already written in): its libpq
parameters, the seed hosts through which the cluster is first reached, and
the DSN for each node, cached so that a connect with a cached node list
does no parsing and no DNS lookup.  The seeds are the hosts libpq would
try: the DSN's ``host``, ``hostaddr`` and ``port`` lists, or else the
``PGHOST``, ``PGHOSTADDR`` and ``PGPORT`` variables, matched as libpq
matches them.
"""

import os
from typing import Any, Dict, List, Mapping, Optional, Tuple

from psycopg2._psycopg import OperationalError
from psycopg2._lb_dsn import join_params, quote_value, split_list  # noqa: F401
from psycopg2.extensions import make_dsn, parse_dsn

_CACHE_SIZE = 256
DEFAULT_PORT = "5432"
_ENV = {"host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT"}


def host_port_label(host: str, port: Any) -> str:
    """``host:port``, an IPv6 address written in brackets (``[::1]:5480``)."""
    if ":" in host and not host.startswith(("/", "@", "[")):
        host = "[%s]" % host
    return "%s:%s" % (host, port)


def effective(params: Mapping[str, str], key: str,
              env: Mapping[str, str]) -> Optional[str]:
    """The value libpq uses for host, hostaddr or port: the parameter if
    set (even empty), else its environment variable."""
    value = params.get(key)
    if value is None:
        value = env.get(_ENV[key])
    return value


def host_slots(params: Mapping[str, str], env: Optional[Mapping[str, str]]
               = None) -> List[Tuple[str, str, str]]:
    """The (host, hostaddr, port) libpq tries, in order, empty strings for
    what is not given; raise OperationalError, with libpq's message, when
    the lists do not match."""
    if env is None:
        env = os.environ
    host = effective(params, "host", env) or ""
    addr = effective(params, "hostaddr", env) or ""
    port = effective(params, "port", env) or ""
    addrs = split_list(addr) if addr else []
    hosts = split_list(host) if host else []
    count = len(addrs) or len(hosts) or 1
    if hosts and addrs and len(hosts) != count:
        raise OperationalError(
            "could not match %d host names to %d hostaddr values\n"
            % (len(hosts), count))
    ports = split_list(port) if port else []
    if len(ports) == 1:
        ports = ports * count
    elif ports and len(ports) != count:
        raise OperationalError(
            "could not match %d port numbers to %d hosts\n"
            % (len(ports), count))
    return [(hosts[i] if hosts else "", addrs[i] if addrs else "",
             ports[i] if ports else "") for i in range(count)]


class Seed:
    """A host given in the DSN, through which the cluster can be reached."""

    __slots__ = ("host", "port", "hostaddr", "dsn")

    def __init__(self, host: str, port: str, hostaddr: Optional[str],
                 dsn: str):
        self.host = host
        self.port = port
        self.hostaddr = hostaddr
        self.dsn = dsn

    @property
    def label(self) -> str:
        return host_port_label(self.host or self.hostaddr or "(default)",
                               self.port or DEFAULT_PORT)


class Target:
    """The parsed DSN of a load-balanced `connect()` call."""

    __slots__ = ("dsn", "params", "seeds", "seed_key", "label", "_node_dsns")

    def __init__(self, dsn: str):
        self.dsn = dsn
        self.params: Dict[str, str] = parse_dsn(dsn)
        self.seeds = self._make_seeds()
        self.seed_key = tuple(sorted((s.host, s.hostaddr or "", s.port)
                                     for s in self.seeds))
        self.label = ",".join(s.label for s in self.seeds)
        self._node_dsns: Dict[Tuple[str, int, Optional[str]], str] = {}

    def _base_params(self) -> Dict[str, str]:
        return {k: v for k, v in self.params.items()
                if k not in ("host", "hostaddr", "port")}

    def _make_seeds(self) -> List[Seed]:
        seeds = []
        for host, addr, port in host_slots(self.params):
            params = self._base_params()
            if host:
                params["host"] = host
            if addr:
                params["hostaddr"] = addr
            if port:
                params["port"] = port
            seeds.append(Seed(host, port or DEFAULT_PORT, addr or None,
                              join_params(params)))
        return seeds

    def node_dsn(self, host: str, port: int, addr: Optional[str]) -> str:
        """The DSN reaching a node: host and port replaced, and its
        resolved address as hostaddr when the host is a name (so libpq does
        no DNS lookup and still checks certificates against the name)."""
        key = (host, port, addr)
        dsn = self._node_dsns.get(key)
        if dsn is None:
            params = self._base_params()
            params["host"] = host
            if addr:
                params["hostaddr"] = addr
            elif os.environ.get("PGHOSTADDR"):
                params["hostaddr"] = ""     # not the variable's address
            params["port"] = str(port)
            dsn = self._node_dsns[key] = join_params(params)
        return dsn


_targets: Dict[Any, Target] = {}


def target_for(dsn: Optional[str], kwargs: Dict[str, Any]) -> Target:
    """The (cached) Target of a DSN and connect() keyword arguments."""
    try:
        key: Any = (dsn, tuple(sorted(kwargs.items())),
                    tuple(os.environ.get(v) for v in _ENV.values()))
        target = _targets.get(key)
    except TypeError:       # unhashable or unorderable values: no caching
        key, target = None, None
    if target is None:
        merged = make_dsn(dsn, **kwargs) if kwargs or dsn is None else dsn
        target = Target(merged)
        if key is not None:
            if len(_targets) >= _CACHE_SIZE:
                _targets.clear()
            _targets[key] = target
    return target


def clear_cache() -> None:
    _targets.clear()
