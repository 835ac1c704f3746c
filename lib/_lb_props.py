"""Load-balancing connection properties: extraction and validation.

The YugabyteDB smart-driver properties (``load_balance``, ``topology_keys``,
...) may appear in a key=value DSN, in the query string of a
``postgresql://`` URI and as keyword arguments of `~psycopg2.connect()`.
libpq rejects unknown options, so they are removed from all three before the
DSN reaches libpq.  This module does no network I/O.
"""

import logging
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote

from psycopg2._psycopg import ProgrammingError

logger = logging.getLogger("psycopg2.loadbalance")

LOAD_BALANCE = "load_balance"
TOPOLOGY_KEYS = "topology_keys"
FALLBACK_ONLY = "fallback_to_topology_keys_only"
FAILED_HOST_TTL = "failed_host_ttl_seconds"
REFRESH_INTERVAL = "yb_servers_refresh_interval"

PROPERTY_NAMES = frozenset(
    [LOAD_BALANCE, TOPOLOGY_KEYS, FALLBACK_ONLY, FAILED_HOST_TTL,
     REFRESH_INTERVAL])

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
MAX_PREFERENCE = 10

TOPOLOGY_ACCEPTED = (
    "comma-separated cloud.region.zone entries, the zone may be '*', each "
    "optionally followed by :N with N a preference from 1 to %d"
    % MAX_PREFERENCE)


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


class LBProperties:
    """Validated load-balancing properties of one `connect()` call.

    True in a boolean context only when load balancing is requested, so that
    ``if props:`` tells whether `psycopg2.loadbalance.connect()` is needed.
    """

    __slots__ = ("load_balance", "topology_keys", "fallback_only",
                 "failed_host_ttl", "refresh_interval", "given", "levels",
                 "_tiers")

    def __init__(self, load_balance: Optional[str] = None,
                 topology_keys: Tuple[TopologyKey, ...] = (),
                 fallback_only: bool = False,
                 failed_host_ttl: int = DEFAULT_FAILED_HOST_TTL,
                 refresh_interval: int = DEFAULT_REFRESH_INTERVAL,
                 given: Tuple[str, ...] = ()):
        self.load_balance = load_balance
        self.topology_keys = topology_keys
        self.fallback_only = fallback_only
        self.failed_host_ttl = failed_host_ttl
        self.refresh_interval = refresh_interval
        self.given = given
        # keys grouped by preference level, most preferred first
        levels: Dict[int, List[TopologyKey]] = {}
        for key in topology_keys:
            levels.setdefault(key.level, []).append(key)
        self.levels = tuple(tuple(levels[lv]) for lv in sorted(levels))
        self._tiers: Optional[tuple] = None

    def tiers(self) -> tuple:
        """The (node type, topology keys) groups to choose from, most
        preferred first: node type "primary", "rr" or None (any), keys a
        tuple of TopologyKey or None (anywhere)."""
        if self._tiers is None:
            levels: List[Any] = list(self.levels)
            if not levels or not self.fallback_only:
                levels.append(None)
            self._tiers = tuple((node_type, keys)
                                for node_type in MODE_TIERS[self.load_balance
                                                            or "any"]
                                for keys in levels)
        return self._tiers

    def __bool__(self) -> bool:
        return self.load_balance is not None

    def get(self, name: str, default: Any = None) -> Any:
        """The value of a property by its connection-parameter name."""
        return {
            LOAD_BALANCE: self.load_balance,
            TOPOLOGY_KEYS: ",".join(map(str, self.topology_keys)) or None,
            FALLBACK_ONLY: self.fallback_only,
            FAILED_HOST_TTL: self.failed_host_ttl,
            REFRESH_INTERVAL: self.refresh_interval,
        }.get(name, default)

    def __repr__(self) -> str:
        return ("LBProperties(load_balance=%r, topology_keys=%r, "
                "fallback_only=%r, failed_host_ttl=%r, refresh_interval=%r)"
                % (self.load_balance, self.topology_keys, self.fallback_only,
                   self.failed_host_ttl, self.refresh_interval))


# -- value validation ------------------------------------------------------

def _bad_value(name: str, value: Any, accepted: str,
               detail: str = "") -> ProgrammingError:
    msg = "invalid value for connection property %s: %r" % (name, value)
    if detail:
        msg += " (%s)" % detail
    return ProgrammingError(msg + "; accepted: " + accepted)


def parse_load_balance(value: Any) -> Optional[str]:
    """The load-balancing mode for a load_balance value (None: disabled)."""
    if value is True or value is False:
        return "any" if value else None
    if isinstance(value, str):
        key = value.strip().lower()
        if key in LB_MODES:
            return LB_MODES[key]
    raise _bad_value(LOAD_BALANCE, value, LB_ACCEPTED)


def parse_bool(name: str, value: Any) -> bool:
    if value is True or value is False:
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        if key in ("true", "false"):
            return key == "true"
    raise _bad_value(name, value, "true, false")


def parse_int_in_range(name: str, value: Any, lo: int, hi: int,
                       default: int) -> int:
    """An integer property; out of range falls back to `default` with a
    warning (as the other YugabyteDB smart drivers do)."""
    accepted = "an integer from %d to %d" % (lo, hi)
    if isinstance(value, bool):
        raise _bad_value(name, value, accepted)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if not digits.isdigit() or not digits.isascii():
            raise _bad_value(name, value, accepted)
        number = int(text)
    else:
        raise _bad_value(name, value, accepted)
    if not lo <= number <= hi:
        logger.warning("%s=%s is outside %d-%d: using the default, %d",
                       name, number, lo, hi, default)
        return default
    return number


def _parse_topology_entry(entry: str, whole: str) -> TopologyKey:
    def bad(detail: str) -> ProgrammingError:
        return _bad_value(TOPOLOGY_KEYS, whole, TOPOLOGY_ACCEPTED,
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


def parse_topology_keys(value: Any) -> Tuple[TopologyKey, ...]:
    """The topology keys of a topology_keys value (empty: none)."""
    if not isinstance(value, str):
        raise _bad_value(TOPOLOGY_KEYS, value, TOPOLOGY_ACCEPTED)
    if not value.strip():
        return ()
    keys = []
    for entry in value.split(","):
        if not entry.strip():
            raise _bad_value(TOPOLOGY_KEYS, value, TOPOLOGY_ACCEPTED,
                             "empty entry")
        keys.append(_parse_topology_entry(entry.strip(), value))
    return tuple(keys)


def build_properties(raw: Dict[str, Any]) -> LBProperties:
    """Validate raw property values (by name) into an LBProperties."""
    props = LBProperties(given=tuple(sorted(raw)))
    if LOAD_BALANCE in raw:
        props.load_balance = parse_load_balance(raw[LOAD_BALANCE])
    if TOPOLOGY_KEYS in raw:
        props = LBProperties(props.load_balance,
                             parse_topology_keys(raw[TOPOLOGY_KEYS]),
                             given=props.given)
    if FALLBACK_ONLY in raw:
        props.fallback_only = parse_bool(FALLBACK_ONLY, raw[FALLBACK_ONLY])
    if FAILED_HOST_TTL in raw:
        props.failed_host_ttl = parse_int_in_range(
            FAILED_HOST_TTL, raw[FAILED_HOST_TTL], *FAILED_HOST_TTL_RANGE,
            default=DEFAULT_FAILED_HOST_TTL)
    if REFRESH_INTERVAL in raw:
        props.refresh_interval = parse_int_in_range(
            REFRESH_INTERVAL, raw[REFRESH_INTERVAL], *REFRESH_INTERVAL_RANGE,
            default=DEFAULT_REFRESH_INTERVAL)
    return props


# -- removal from DSN strings ------------------------------------------------

class _ConninfoError(Exception):
    """The key=value string is malformed: left to libpq to report."""


def _scan_conninfo(dsn: str) -> List[Tuple[str, str, int, int]]:
    """Split a libpq key=value string into (key, value, start, end) items,
    start/end delimiting the item's text (value escapes decoded)."""
    items = []
    i, n = 0, len(dsn)
    while True:
        while i < n and dsn[i].isspace():
            i += 1
        if i >= n:
            return items
        start = i
        while i < n and dsn[i] != "=" and not dsn[i].isspace():
            i += 1
        key = dsn[start:i]
        while i < n and dsn[i].isspace():
            i += 1
        if i >= n or dsn[i] != "=" or not key:
            raise _ConninfoError(key)
        i += 1
        while i < n and dsn[i].isspace():
            i += 1
        value, i = _scan_value(dsn, i)
        items.append((key, value, start, i))


def _scan_value(dsn: str, i: int) -> Tuple[str, int]:
    """Read one (possibly quoted) value at `i`; return it and the end."""
    out = []
    n = len(dsn)
    if i < n and dsn[i] == "'":
        i += 1
        while True:
            if i >= n:
                raise _ConninfoError("unterminated quoted string")
            c = dsn[i]
            if c == "\\" and i + 1 < n:
                out.append(dsn[i + 1])
                i += 2
            elif c == "'":
                return "".join(out), i + 1
            else:
                out.append(c)
                i += 1
    while i < n and not dsn[i].isspace():
        if dsn[i] == "\\" and i + 1 < n:
            out.append(dsn[i + 1])
            i += 2
        else:
            out.append(dsn[i])
            i += 1
    return "".join(out), i


def _strip_conninfo(dsn: str) -> Tuple[str, Dict[str, str]]:
    """Remove the properties from a key=value DSN; the other settings are
    kept as written."""
    try:
        items = _scan_conninfo(dsn)
    except _ConninfoError:
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


def strip_dsn(dsn: str) -> Tuple[str, Dict[str, str]]:
    """Remove the load-balancing properties from a DSN (key=value or URI);
    return the DSN libpq may see and the raw values found."""
    if not any(name in dsn for name in PROPERTY_NAMES):
        return dsn, {}
    if dsn.startswith(("postgresql://", "postgres://")):
        return _strip_uri(dsn)
    return _strip_conninfo(dsn)


def strip_kwargs(kwargs: Dict[str, Any]) -> Tuple[Dict[str, Any],
                                                  Dict[str, Any]]:
    """Split connect() keyword arguments into libpq's and ours (a value of
    None means "not given", as in make_dsn())."""
    if not any(name in kwargs for name in PROPERTY_NAMES):
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
