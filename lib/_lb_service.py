"""Connection service files (``pg_service.conf``) read as libpq reads them.

libpq rejects a service whose group holds a key it does not know, such as
``load_balance`` ("syntax error in service file").  To let a service carry
the load-balancing properties, the driver reads the group itself: the
load-balancing keys become properties, the others are written into the
connection string handed to libpq (see `psycopg2._lb_props`).

The files searched are libpq's (version 15): ``PGSERVICEFILE``, or else
``.pg_service.conf`` in the home directory of the effective user; then, if
the service was not found there, ``pg_service.conf`` in ``PGSYSCONFDIR``,
or else in the system configuration directory of Debian's libpq
(``/etc/postgresql-common``).  Files are parsed again only when their size
or modification time changes.
"""

import os
from typing import Dict, List, Mapping, Optional, Tuple

#: libpq's compiled-in system configuration directory (Debian's libpq5),
#: used when PGSYSCONFDIR is not set.
DEFAULT_SYSCONFDIR = "/etc/postgresql-common"

_cache: Dict[Tuple[str, str], Tuple[Tuple[int, int], "ServiceGroup"]] = {}
_CACHE_SIZE = 64


class ServiceGroup:
    """The ``[name]`` group of a service file, as libpq would read it.

    `params` holds the settings in file order (the first setting of a key
    wins, as in libpq); `error` is set when libpq would refuse the group
    for a reason other than an unknown key (line without ``=``, nested
    ``service``): then the group must be left to libpq to report.
    """

    __slots__ = ("name", "path", "found", "params", "lines", "error")

    def __init__(self, name: str, path: str):
        self.name = name
        self.path = path
        self.found = False
        self.params: Dict[str, str] = {}
        self.lines: Dict[str, int] = {}
        self.error = ""

    def where(self) -> str:
        return 'service "%s" (%s)' % (self.name, self.path)


def parse_group(text: str, name: str, path: str) -> ServiceGroup:
    """Read the group `name` from the text of a service file."""
    group = ServiceGroup(name, path)
    inside = False
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.strip(" \t\n\r\f\v")
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if inside:
                break           # the end of the group: libpq stops here
            inside = (line[1:1 + len(name)] == name
                      and line[1 + len(name):2 + len(name)] == "]")
            group.found = group.found or inside
            continue
        if not inside:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key or any(c in key for c in " \t\n\r\f\v"):
            # libpq: no "=", or a key that is no keyword (it keeps the
            # blanks around the "=")
            group.error = "syntax error in service file \"%s\", line %d" % (
                path, lineno)
            break
        if key == "service":
            group.error = ("nested service specifications not supported in "
                           "service file \"%s\", line %d" % (path, lineno))
            break
        if key not in group.params:
            group.params[key] = value
            group.lines[key] = lineno
    return group


def service_files(env: Mapping[str, str], home: Optional[str]) -> List[str]:
    """The files libpq searches for a service, in order."""
    files = []
    if env.get("PGSERVICEFILE") is not None:
        files.append(env["PGSERVICEFILE"])
    elif home is not None:
        files.append(os.path.join(home, ".pg_service.conf"))
    sysconf = env.get("PGSYSCONFDIR")
    files.append(os.path.join(
        DEFAULT_SYSCONFDIR if sysconf is None else sysconf,
        "pg_service.conf"))
    return files


def _home() -> Optional[str]:
    """The home directory of the effective user, as libpq 15 finds it
    (from the password database, not $HOME)."""
    try:
        import pwd
        return pwd.getpwuid(os.geteuid()).pw_dir
    except (ImportError, KeyError, OSError):
        return None


def _read_group(path: str, name: str) -> Optional[ServiceGroup]:
    """The group `name` of the file at `path`; None if there is no file."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    stamp = (st.st_mtime_ns, st.st_size)
    entry = _cache.get((path, name))
    if entry is not None and entry[0] == stamp:
        return entry[1]
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    group = parse_group(text, name, path)
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    _cache[(path, name)] = (stamp, group)
    return group


def find_service(name: str, env: Optional[Mapping[str, str]] = None
                 ) -> Optional[ServiceGroup]:
    """The group of service `name` where libpq would find it; None if it is
    in no file (libpq reports "definition of service not found")."""
    if env is None:
        env = os.environ
    home = None if env.get("PGSERVICEFILE") is not None else _home()
    for path in service_files(env, home):
        group = _read_group(path, name)
        if group is not None and (group.found or group.error):
            return group
    return None


def clear_cache() -> None:
    _cache.clear()
