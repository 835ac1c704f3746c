"""Connection targets of the load balancer: seed hosts and per-node DSNs.

A `Target` is the parsed form of the DSN given to `connect()` (load-balancing
properties already removed): its libpq parameters, the seed hosts through
which the cluster is first reached, and the DSN for each node, cached so
that a connect with a cached node list does no parsing and no DNS lookup.
"""

import os
from typing import Any, Dict, List, Optional, Tuple

from psycopg2.extensions import make_dsn, parse_dsn

_NEEDS_QUOTES = frozenset(" \t\n\r\f\v'\\")
_CACHE_SIZE = 256


def quote_value(value: str) -> str:
    """Quote a value for a libpq key=value string when needed."""
    if value and not _NEEDS_QUOTES.intersection(value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def join_params(params: Dict[str, str]) -> str:
    """A libpq key=value string from a parameters dict."""
    return " ".join("%s=%s" % (k, quote_value(str(v)))
                    for k, v in params.items())


def _split_list(value: Optional[str]) -> List[str]:
    return [] if value is None else value.split(",")


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
        return "%s:%s" % (self.host or self.hostaddr or "(default)",
                          self.port or "(default)")


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
        hosts = _split_list(self.params.get("host"))
        addrs = _split_list(self.params.get("hostaddr"))
        ports = _split_list(self.params.get("port"))
        count = max(len(hosts), len(addrs), 1)
        default_port = os.environ.get("PGPORT", "5432")
        seeds = []
        for i in range(count):
            host = hosts[i].strip() if i < len(hosts) else ""
            addr = addrs[i].strip() if i < len(addrs) else ""
            if len(ports) == 1:
                port = ports[0].strip()
            else:
                port = ports[i].strip() if i < len(ports) else ""
            params = self._base_params()
            if host:
                params["host"] = host
            if addr:
                params["hostaddr"] = addr
            if port:
                params["port"] = port
            seeds.append(Seed(host, port or default_port, addr or None,
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
            params["port"] = str(port)
            dsn = self._node_dsns[key] = join_params(params)
        return dsn


_targets: Dict[Any, Target] = {}


def target_for(dsn: Optional[str], kwargs: Dict[str, Any]) -> Target:
    """The (cached) Target of a DSN and connect() keyword arguments."""
    try:
        key: Any = (dsn, tuple(sorted(kwargs.items())))
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
