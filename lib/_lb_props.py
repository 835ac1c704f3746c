"""Load-balancing connection properties: their table, parsing and sources.

Each YugabyteDB smart-driver property (``load_balance``, ``topology_keys``,
...) is declared once, in `PROPERTIES`: its name, environment variable,
default, accepted values, parser and a one-line description.  The parsing,
the error messages, `PROPERTY_NAMES`, `LBProperties` and the property
tables of README.rst and doc/loadbalance.rst (written by
``scripts/lb_props_table.py``) all come from that table.

The properties may come from, in decreasing order of precedence: the
keyword arguments of `~psycopg2.connect()`, the DSN (key=value string or
the query string of a ``postgresql://`` URI), the connection service
(``service=`` or ``PGSERVICE``, see `psycopg2._lb_service`) and the
environment variables.  libpq rejects unknown options, so they are removed
from the DSN and the keyword arguments, and a service that holds some is
expanded into the DSN, before libpq sees them.  `extract_properties()` does
all of this without network I/O.  This module is imported by
``import psycopg2``: it imports nothing heavy.
"""

import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from psycopg2._psycopg import OperationalError, ProgrammingError
from psycopg2 import _lb_dsn

LOAD_BALANCE = "load_balance"
TOPOLOGY_KEYS = "topology_keys"
FALLBACK_ONLY = "fallback_to_topology_keys_only"
FAILED_HOST_TTL = "failed_host_ttl_seconds"
REFRESH_INTERVAL = "yb_servers_refresh_interval"
MAX_PER_NODE = "max_connections_per_node"

# load_balance value -> mode (None: no load balancing)
LB_MODES = {
    "false": None,
    "true": "any",
    "any": "any",
    "only-primary": "only-primary",
    "only-rr": "only-rr",
    "prefer-primary": "prefer-primary",
    "prefer-rr": "prefer-rr",
}
# load_balance mode -> node types tried in order (None: any type)
MODE_TIERS = {
    "any": (None,),
    "only-primary": ("primary",),
    "only-rr": ("rr",),
    "prefer-primary": ("primary", None),
    "prefer-rr": ("rr", None),
}
LB_ACCEPTED = "true, false, any, only-primary, only-rr, prefer-primary, prefer-rr"

DEFAULT_FAILED_HOST_TTL = 5
FAILED_HOST_TTL_RANGE = (0, 60)
DEFAULT_REFRESH_INTERVAL = 300
REFRESH_INTERVAL_RANGE = (0, 600)
DEFAULT_MAX_PER_NODE = 0
MAX_PER_NODE_RANGE = (0, 1000000)
MAX_PREFERENCE = 10

TOPOLOGY_ACCEPTED = (
    "comma-separated cloud.region.zone entries, the zone may be '*', each "
    "optionally followed by :N with N a preference from 1 to %d"
    % MAX_PREFERENCE)


def _warning(msg: str, *args: Any) -> None:
    # logging is imported only when there is something to log
    import logging
    logging.getLogger("psycopg2.loadbalance").warning(msg, *args)


class TopologyKey:
    """One ``cloud.region.zone[:N]`` entry; `zone` None means any zone."""

    __slots__ = ("cloud", "region", "zone", "level")

    def __init__(self, cloud: str, region: str, zone: Optional[str],
                 level: int):
        self.cloud = cloud
        self.region = region
        self.zone = zone
        self.level = level

    def matches(self, placement: Tuple[str, str, str]) -> bool:
        """True if a node at `placement` (casefolded) is in this key."""
        return (placement[0] == self.cloud and placement[1] == self.region
                and (self.zone is None or placement[2] == self.zone))

    def __str__(self) -> str:
        return "%s.%s.%s:%d" % (self.cloud, self.region, self.zone or "*",
                                self.level)

    __repr__ = __str__


# -- value parsers -----------------------------------------------------------
#
# A parser takes (property, value, where) and returns the parsed value or
# raises the ProgrammingError of bad_value(); `where` names the source of a
# value for the error message ("connection property load_balance",
# "environment variable PGLOADBALANCE (load_balance)").

def bad_value(where: str, value: Any, accepted: str,
              detail: str = "") -> ProgrammingError:
    """The error for a malformed property value."""
    msg = "invalid value for %s: %r" % (where, value)
    if detail:
        msg += " (%s)" % detail
    return ProgrammingError(msg + "; accepted: " + accepted)


def _parse_mode(prop: "Property", value: Any, where: str) -> Optional[str]:
    if value is True or value is False:
        return "any" if value else None
    if isinstance(value, str):
        key = value.strip().lower()
        if key in LB_MODES:
            return LB_MODES[key]
    raise bad_value(where, value, prop.accepted)


def _parse_bool(prop: "Property", value: Any, where: str) -> bool:
    if value is True or value is False:
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        if key in ("true", "false"):
            return key == "true"
    raise bad_value(where, value, prop.accepted)


def _parse_int(prop: "Property", value: Any, where: str) -> int:
    """An integer; out of its range it falls back to the default with a
    warning (as the other YugabyteDB smart drivers do)."""
    assert prop.range is not None
    lo, hi = prop.range
    if isinstance(value, bool):
        raise bad_value(where, value, prop.accepted)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if not digits.isdigit() or not digits.isascii():
            raise bad_value(where, value, prop.accepted)
        number = int(text)
    else:
        raise bad_value(where, value, prop.accepted)
    if not lo <= number <= hi:
        _warning("%s=%s is outside %d-%d: using the default, %d",
                 prop.name, number, lo, hi, prop.default)
        return prop.default
    return number


def _parse_topology_entry(entry: str, whole: str, where: str,
                          accepted: str) -> TopologyKey:
    def bad(detail: str) -> ProgrammingError:
        return bad_value(where, whole, accepted,
                         "entry %r: %s" % (entry, detail))

    placement, sep, pref = entry.partition(":")
    level = 1
    if sep:
        pref = pref.strip()
        if not pref.isdigit() or not pref.isascii():
            raise bad("the preference after ':' must be a number")
        level = int(pref)
        if not 1 <= level <= MAX_PREFERENCE:
            raise bad("the preference must be from 1 to %d" % MAX_PREFERENCE)
    parts = [p.strip() for p in placement.split(".")]
    if len(parts) != 3 or not all(parts):
        raise bad("expected cloud.region.zone")
    cloud, region, zone = parts
    if "*" in cloud or "*" in region:
        raise bad("'*' is only allowed as the zone")
    if "*" in zone and zone != "*":
        raise bad("the zone is either a name or '*'")
    return TopologyKey(cloud.casefold(), region.casefold(),
                       None if zone == "*" else zone.casefold(), level)


def _parse_topology(prop: "Property", value: Any, where: str
                    ) -> Tuple[TopologyKey, ...]:
    if not isinstance(value, str):
        raise bad_value(where, value, prop.accepted)
    if not value.strip():
        return ()
    keys = []
    for entry in value.split(","):
        if not entry.strip():
            raise bad_value(where, value, prop.accepted, "empty entry")
        keys.append(_parse_topology_entry(entry.strip(), value, where,
                                          prop.accepted))
    return tuple(keys)


def _show_mode(value: Optional[str]) -> str:
    return "false" if value is None else value


def _show_keys(value: Tuple[TopologyKey, ...]) -> str:
    return ",".join(map(str, value))


def _show_bool(value: bool) -> str:
    return "true" if value else "false"


# -- the table -----------------------------------------------------------

class Property:
    """One load-balancing connection property.

    `name` is the connection parameter, `env` the environment variable,
    `default` the parsed default value, `accepted` the accepted values (for
    error messages and the docs), `parse` the parser, `show` the inverse of
    the parser (for `repr()` and the docs), `doc` a one-line description,
    `range` the (min, max) of a number, `alias` the short attribute name
    `LBProperties` also answers to.
    """

    __slots__ = ("name", "env", "default", "accepted", "parse", "show",
                 "doc", "range", "alias")

    def __init__(self, name: str, env: str, default: Any, accepted: str,
                 parse: Callable[["Property", Any, str], Any],
                 show: Callable[[Any], str], doc: str,
                 range: Optional[Tuple[int, int]] = None,
                 alias: Optional[str] = None):
        self.name = name
        self.env = env
        self.default = default
        self.accepted = accepted
        self.parse = parse
        self.show = show
        self.doc = doc
        self.range = range
        self.alias = alias

    def __repr__(self) -> str:
        return "<Property %s>" % self.name


def _int_property(name: str, env: str, default: int,
                  range: Tuple[int, int], doc: str, alias: str) -> Property:
    return Property(name, env, default,
                    "an integer from %d to %d" % range, _parse_int, str,
                    doc, range=range, alias=alias)


PROPERTIES: Tuple[Property, ...] = (
    Property(
        LOAD_BALANCE, "PGLOADBALANCE", None, LB_ACCEPTED, _parse_mode,
        _show_mode,
        "Which nodes may be chosen: any (true), only or preferably primary "
        "or read-replica nodes; false: no load balancing."),
    Property(
        TOPOLOGY_KEYS, "PGTOPOLOGYKEYS", (), TOPOLOGY_ACCEPTED,
        _parse_topology, _show_keys,
        "Placements whose nodes are chosen first, by preference (lower "
        "first); then any node."),
    Property(
        FALLBACK_ONLY, "PGFALLBACKTOTOPOLOGYKEYSONLY", False, "true, false",
        _parse_bool, _show_bool,
        "true: never connect outside the topology_keys placements.",
        alias="fallback_only"),
    _int_property(
        FAILED_HOST_TTL, "PGFAILEDHOSTTTLSECONDS", DEFAULT_FAILED_HOST_TTL,
        FAILED_HOST_TTL_RANGE,
        "Seconds a node that failed to accept a connection is skipped.",
        alias="failed_host_ttl"),
    _int_property(
        REFRESH_INTERVAL, "PGYBSERVERSREFRESHINTERVAL",
        DEFAULT_REFRESH_INTERVAL, REFRESH_INTERVAL_RANGE,
        "Seconds a node list is used before yb_servers() is read again.",
        alias="refresh_interval"),
    _int_property(
        MAX_PER_NODE, "PGMAXCONNECTIONSPERNODE", DEFAULT_MAX_PER_NODE,
        MAX_PER_NODE_RANGE,
        "Most connections this process opens to one node (0: no limit); "
        "when every eligible node has that many, connect() fails.",
        alias="max_per_node"),
)

BY_NAME: Dict[str, Property] = {p.name: p for p in PROPERTIES}
BY_ENV: Dict[str, Property] = {p.env: p for p in PROPERTIES}
PROPERTY_NAMES = frozenset(BY_NAME)
ENV_NAMES = tuple(p.env for p in PROPERTIES)


def where_connection(prop: Property) -> str:
    return "connection property %s" % prop.name


def where_env(prop: Property) -> str:
    return "environment variable %s (%s)" % (prop.env, prop.name)


# -- validated properties --------------------------------------------------

class LBProperties:
    """Validated load-balancing properties of one `connect()` call.

    One attribute per property of `PROPERTIES`, by property name (and by
    the short aliases ``fallback_only``, ``failed_host_ttl``,
    ``refresh_interval``, ``max_per_node``); `given` names the properties
    set by the DSN, the keyword arguments or the service, `origins` tells
    where each set property came from.  True in a boolean context only when
    load balancing is requested.
    """

    __slots__ = tuple(p.name for p in PROPERTIES) + (
        "given", "origins", "levels", "_tiers")

    def __init__(self, load_balance: Optional[str] = None,
                 topology_keys: Any = (),
                 fallback_to_topology_keys_only: bool = False,
                 failed_host_ttl_seconds: int = DEFAULT_FAILED_HOST_TTL,
                 yb_servers_refresh_interval: int = DEFAULT_REFRESH_INTERVAL,
                 given: Tuple[str, ...] = (),
                 origins: Optional[Dict[str, str]] = None, *,
                 max_connections_per_node: int = DEFAULT_MAX_PER_NODE,
                 max_per_node: Optional[int] = None,
                 fallback_only: Optional[bool] = None,
                 failed_host_ttl: Optional[int] = None,
                 refresh_interval: Optional[int] = None):
        if isinstance(topology_keys, str):
            topology_keys = _parse_topology(
                BY_NAME[TOPOLOGY_KEYS], topology_keys,
                where_connection(BY_NAME[TOPOLOGY_KEYS]))
        self.load_balance = load_balance
        self.topology_keys = tuple(topology_keys)
        self.fallback_to_topology_keys_only = (
            fallback_to_topology_keys_only if fallback_only is None
            else fallback_only)
        self.failed_host_ttl_seconds = (
            failed_host_ttl_seconds if failed_host_ttl is None
            else failed_host_ttl)
        self.yb_servers_refresh_interval = (
            yb_servers_refresh_interval if refresh_interval is None
            else refresh_interval)
        self.max_connections_per_node = (
            max_connections_per_node if max_per_node is None
            else max_per_node)
        self.given = given
        self.origins = dict(origins or {})
        # keys grouped by preference level, most preferred first
        levels: Dict[int, List[TopologyKey]] = {}
        for key in self.topology_keys:
            levels.setdefault(key.level, []).append(key)
        self.levels = tuple(tuple(levels[lv]) for lv in sorted(levels))
        self._tiers: Optional[tuple] = None

    @property
    def fallback_only(self) -> bool:
        return self.fallback_to_topology_keys_only

    @property
    def failed_host_ttl(self) -> int:
        return self.failed_host_ttl_seconds

    @property
    def refresh_interval(self) -> int:
        return self.yb_servers_refresh_interval

    @property
    def max_per_node(self) -> int:
        return self.max_connections_per_node

    def tiers(self) -> tuple:
        """The (node type, topology keys) groups to choose from, most
        preferred first: node type "primary", "rr" or None (any), keys a
        tuple of TopologyKey or None (anywhere)."""
        if self._tiers is None:
            levels: List[Any] = list(self.levels)
            if not levels or not self.fallback_to_topology_keys_only:
                levels.append(None)
            self._tiers = tuple((node_type, keys)
                                for node_type in MODE_TIERS[self.load_balance
                                                            or "any"]
                                for keys in levels)
        return self._tiers

    def __bool__(self) -> bool:
        return self.load_balance is not None

    def get(self, name: str, default: Any = None) -> Any:
        """The value of a property by its connection-parameter name
        (topology_keys as a string, None if empty)."""
        if name not in BY_NAME:
            return default
        value = getattr(self, name)
        if name == TOPOLOGY_KEYS:
            return _show_keys(value) or None
        return value

    def __repr__(self) -> str:
        return "LBProperties(%s)" % ", ".join(
            "%s=%r" % (p.name, p.show(getattr(self, p.name)))
            for p in PROPERTIES)


def build_properties(raw: Mapping[str, Any],
                     where: Optional[Mapping[str, str]] = None,
                     given: Optional[Tuple[str, ...]] = None) -> LBProperties:
    """Validate raw property values (by name) into an LBProperties.

    `where` names the source of each value for the error messages (default:
    "connection property NAME"); `given` the properties to report as set
    explicitly (default: all of `raw`).
    """
    values = {}
    for prop in PROPERTIES:
        if prop.name in raw:
            place = (where or {}).get(prop.name) or where_connection(prop)
            values[prop.name] = prop.parse(prop, raw[prop.name], place)
    return LBProperties(
        given=tuple(sorted(raw)) if given is None else given,
        origins=dict(where or {}), **values)


# compatibility with the parsers' former names
def parse_load_balance(value: Any) -> Optional[str]:
    prop = BY_NAME[LOAD_BALANCE]
    return _parse_mode(prop, value, where_connection(prop))


def parse_topology_keys(value: Any) -> Tuple[TopologyKey, ...]:
    prop = BY_NAME[TOPOLOGY_KEYS]
    return _parse_topology(prop, value, where_connection(prop))


# -- removal from DSN strings and keyword arguments --------------------------

def _strip_conninfo(dsn: str) -> Tuple[str, Dict[str, str]]:
    """Remove the properties from a key=value DSN; the other settings are
    kept as written.  A malformed DSN is returned as is, for libpq to
    report."""
    try:
        items = _lb_dsn.scan_conninfo(dsn)
    except _lb_dsn.ConninfoError:
        return dsn, {}
    found: Dict[str, str] = {}
    kept = []
    for key, value, start, end in items:
        if key in PROPERTY_NAMES:
            found[key] = value      # a later setting wins, as in libpq
        else:
            kept.append(dsn[start:end])
    if not found:
        return dsn, found
    return " ".join(kept), found


def _strip_uri(dsn: str) -> Tuple[str, Dict[str, str]]:
    """Remove the properties from the query string of a URI."""
    from urllib.parse import unquote
    base, sep, query = dsn.partition("?")
    if not sep:
        return dsn, {}
    found: Dict[str, str] = {}
    kept = []
    for param in query.split("&"):
        key, _, value = param.partition("=")
        name = unquote(key)
        if name in PROPERTY_NAMES:
            found[name] = unquote(value)
        else:
            kept.append(param)
    if not found:
        return dsn, found
    return (base + "?" + "&".join(kept)) if kept else base, found


def is_uri(dsn: str) -> bool:
    """True if libpq reads `dsn` as a URI."""
    return dsn.startswith(("postgresql://", "postgres://"))


def strip_dsn(dsn: str) -> Tuple[str, Dict[str, str]]:
    """Remove the load-balancing properties from a DSN (key=value or URI);
    return the DSN libpq may see and the raw values found."""
    if is_uri(dsn):
        # libpq decodes the parameter names too: load%5Fbalance
        if "%" in dsn or any(name in dsn for name in PROPERTY_NAMES):
            return _strip_uri(dsn)
        return dsn, {}
    if not any(name in dsn for name in PROPERTY_NAMES):
        return dsn, {}
    return _strip_conninfo(dsn)


def strip_kwargs(kwargs: Dict[str, Any]) -> Tuple[Dict[str, Any],
                                                  Dict[str, Any]]:
    """Split connect() keyword arguments into libpq's and ours (a value of
    None means "not given", as in make_dsn())."""
    if PROPERTY_NAMES.isdisjoint(kwargs):
        return kwargs, {}
    rest = {}
    found = {}
    for key, value in kwargs.items():
        if key in PROPERTY_NAMES:
            if value is not None:
                found[key] = value
        else:
            rest[key] = value
    return rest, found


# -- environment -------------------------------------------------------------

def env_values(env: Optional[Mapping[str, str]] = None
               ) -> Tuple[Tuple[str, str], ...]:
    """The (property name, value) of the load-balancing environment
    variables that are set."""
    if env is None:
        env = os.environ
    return tuple((p.name, env[p.env]) for p in PROPERTIES if p.env in env)


def mentions_properties(dsn: Any, kwargs: Mapping[str, Any]) -> bool:
    """Cheap check of whether a connect() call may involve load-balancing
    properties, or a service that may hold some (false positives only
    cost a closer look)."""
    if "service" in kwargs or not PROPERTY_NAMES.isdisjoint(kwargs):
        return True
    if isinstance(dsn, str) and ("service" in dsn or any(
            name in dsn for name in PROPERTY_NAMES) or (
            "%" in dsn and is_uri(dsn))):
        return True
    return _env_mentions()


def _raw_env_check() -> Optional[Callable[[], bool]]:
    """A fast check of the variables on os.environ's underlying dict (a
    CPython detail, 3.9 to 3.13; 50 times faster than os.environ lookups,
    whose misses raise KeyError); None where it is not available."""
    try:
        data = os.environ._data                         # type: ignore
        keys = [os.environ.encodekey(n)                 # type: ignore
                for n in ("PGSERVICE",) + ENV_NAMES]
    except (AttributeError, TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return lambda: any(k in data for k in keys)


def _env_lookup() -> bool:
    environ = os.environ
    return any(name in environ for name in ("PGSERVICE",) + ENV_NAMES)


_env_mentions: Callable[[], bool] = _raw_env_check() or _env_lookup


# -- services ----------------------------------------------------------------

class _ServiceUse:
    """The service a connect() call uses, and its load-balancing keys."""

    __slots__ = ("group", "from_env", "found", "rest")

    def __init__(self, group: Any, from_env: bool):
        self.group = group
        self.from_env = from_env
        self.found: Dict[str, str] = {}
        self.rest: Dict[str, str] = {}
        for key, value in group.params.items():
            if key in PROPERTY_NAMES:
                self.found[key] = value
            else:
                self.rest[key] = value


def _explicit_params(dsn: Optional[str], kwargs: Mapping[str, Any]
                     ) -> Optional[Dict[str, str]]:
    """The parameters of the DSN and keyword arguments merged as make_dsn()
    merges them; None if libpq would reject them (it will say why)."""
    from psycopg2.extensions import make_dsn, parse_dsn
    try:
        return parse_dsn(make_dsn(dsn, **kwargs))
    except (ProgrammingError, TypeError):
        return None


def _service_use(params: Mapping[str, str]) -> Optional[_ServiceUse]:
    """The service named by `params` or PGSERVICE, if one is and it has a
    group that the driver can read (else libpq handles it alone)."""
    from psycopg2 import _lb_service
    name = params.get("service")
    from_env = name is None
    if from_env:
        name = os.environ.get("PGSERVICE")
    if not name:
        return None
    group = _lb_service.find_service(name)
    if group is None or group.error:
        return None
    return _ServiceUse(group, from_env)


def _expand_service(params: Dict[str, str], use: _ServiceUse
                    ) -> Optional[str]:
    """The DSN of `params` with the service's other settings written in
    (explicit settings win, as in libpq) and no service; None if libpq
    would reject it."""
    from psycopg2.extensions import parse_dsn
    merged = {k: v for k, v in params.items() if k != "service"}
    for key, value in use.rest.items():
        merged.setdefault(key, value)
    dsn = _lb_dsn.join_params(merged)
    try:
        parse_dsn(dsn)
    except ProgrammingError:
        return None
    return dsn


def _env_service_error(name: str, group: Any, keys: List[str]
                       ) -> OperationalError:
    return OperationalError(
        "%s, named by PGSERVICE, holds the load-balancing setting(s) %s, "
        "which libpq rejects; libpq reads PGSERVICE itself at every "
        "connection, so such a service can only be named in the connection "
        "string (service=%s) with PGSERVICE unset, or the settings moved to "
        "the environment variables %s" % (
            group.where(), ", ".join(keys), name,
            ", ".join(BY_NAME[k].env for k in keys)))


def _check_env_service(dsn: str) -> None:
    """Raise if libpq, given `dsn` (which names no service), would read
    a PGSERVICE group that has load-balancing keys."""
    from psycopg2 import _lb_service
    name = os.environ.get("PGSERVICE")
    if not name:
        return
    group = _lb_service.find_service(name)
    if group is None or group.error:
        return
    keys = [k for k in group.params if k in PROPERTY_NAMES]
    if keys:
        raise _env_service_error(name, group, keys)


# -- extraction ----------------------------------------------------------------

_CACHE_SIZE = 256
# DSN -> (DSN without the properties, their raw values)
_dsn_cache: Dict[str, Tuple[str, Dict[str, str]]] = {}
_props_cache: Dict[Any, LBProperties] = {}


def _stripped(dsn: str) -> Tuple[str, Dict[str, str]]:
    entry = _dsn_cache.get(dsn)
    if entry is None:
        entry = strip_dsn(dsn)
        if len(_dsn_cache) >= _CACHE_SIZE:
            _dsn_cache.clear()
        _dsn_cache[dsn] = entry
    return entry


def _properties(layers: List[Tuple[str, Mapping[str, Any]]]) -> LBProperties:
    """The properties of the value layers (origin, raw values), the later
    layers winning; origin "env" marks environment values."""
    raw: Dict[str, Any] = {}
    where: Dict[str, str] = {}
    for origin, values in layers:
        for name, value in values.items():
            raw[name] = value
            where[name] = origin
    try:
        key: Any = tuple(sorted((k, where[k], type(v).__name__, v)
                                for k, v in raw.items()))
        props = _props_cache.get(key)
    except TypeError:
        key, props = None, None
    if props is None:
        places = {}
        for name, origin in where.items():
            prop = BY_NAME[name]
            if origin == "env":
                places[name] = where_env(prop)
            elif origin.startswith("service "):
                places[name] = "%s in %s" % (name, origin)
            else:
                places[name] = where_connection(prop)
        given = tuple(sorted(n for n, o in where.items() if o != "env"))
        props = build_properties(raw, places, given)
        props.origins = dict(where)
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
    may see, and the validated properties (None if no source sets any;
    falsy if load balancing is not enabled).  Keyword arguments win over
    the DSN, the DSN over the service, the service over the environment.
    When the service holds properties, or when load balancing is enabled,
    the service's other settings are written into the returned DSN (and
    the keyword arguments merged into it).  Raise
    `~psycopg2.ProgrammingError` for a malformed value, naming where it
    comes from.
    """
    kw_found: Dict[str, Any] = {}
    if kwargs and not PROPERTY_NAMES.isdisjoint(kwargs):
        kwargs, kw_found = strip_kwargs(kwargs)
    dsn_found: Dict[str, str] = {}
    if isinstance(dsn, str):
        dsn, dsn_found = _stripped(dsn)
    use = None
    params = None
    if "service" in kwargs or "PGSERVICE" in os.environ or (
            isinstance(dsn, str) and "service" in dsn):
        params = _explicit_params(dsn, kwargs)
        if params is not None:
            use = _service_use(params)
    layers: List[Tuple[str, Mapping[str, Any]]] = []
    env = env_values()
    if env:
        layers.append(("env", dict(env)))
    if use is not None and use.found:
        layers.append((use.group.where(), use.found))
    layers.append(("dsn", dsn_found))
    layers.append(("keyword", kw_found))
    if not any(values for _, values in layers):
        return dsn, kwargs, None
    props = _properties(layers)
    if use is not None and params is not None and (use.found or props):
        expanded = _expand_service(params, use)
        if expanded is not None:
            if use.found or not use.from_env:
                _check_env_service(expanded)
            dsn, kwargs = expanded, {}
    _warn_ignored(props)
    return dsn, kwargs, props


def _warn_ignored(props: LBProperties) -> None:
    if not props and len(props.given) > (LOAD_BALANCE in props.given):
        _warning("connection properties %s ignored: load_balance is not "
                 "enabled", ", ".join(n for n in props.given
                                      if n != LOAD_BALANCE))


def clear_cache() -> None:
    """Forget the parsed DSNs, properties and service files."""
    from psycopg2 import _lb_service
    _dsn_cache.clear()
    _props_cache.clear()
    _lb_service.clear_cache()
