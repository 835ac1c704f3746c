"""libpq connection strings: quoting, joining and scanning.

The rules are libpq's (``conninfo_parse()``): items ``key = value``
separated by white space, which is ASCII white space only (space, tab,
newline, carriage return, vertical tab, form feed: a non-breaking space is
part of a value); a value is either a run of non-blank characters or a
single-quoted string, a backslash escaping the next character in both.
`quote_value()` is the quoting of `psycopg2.extensions.make_dsn()`.  This
module imports nothing from the C extension and does no I/O.
"""

import re
from typing import Dict, List, Mapping, Tuple

#: The characters libpq's conninfo parser takes for white space (C isspace()
#: in the C locale).
WHITESPACE = " \t\n\r\f\v"

# make_dsn() quotes a value containing any (Unicode) white space, as
# psycopg2 does; quoting more than libpq needs is harmless.
_needs_quotes = re.compile(r"\s")


def quote_value(value: str) -> str:
    """Write a value for a libpq key=value string.

    Backslashes and single quotes are escaped; an empty value and a value
    with white space are enclosed in single quotes.
    """
    if not value:
        return "''"
    value = value.replace("\\", "\\\\").replace("'", "\\'")
    if _needs_quotes.search(value):
        value = "'" + value + "'"
    return value


def join_params(params: Mapping[str, object]) -> str:
    """A libpq key=value string from a mapping of parameters."""
    return " ".join("%s=%s" % (k, quote_value(str(v)))
                    for k, v in params.items())


class ConninfoError(Exception):
    """The key=value string is malformed (libpq reports why)."""


def _skip_blanks(dsn: str, i: int) -> int:
    n = len(dsn)
    while i < n and dsn[i] in WHITESPACE:
        i += 1
    return i


def scan_conninfo(dsn: str) -> List[Tuple[str, str, int, int]]:
    """Split a key=value string into ``(key, value, start, end)`` items.

    The value has its quotes and escapes decoded; ``dsn[start:end]`` is the
    item as written.  Raise `ConninfoError` where libpq's parser fails
    (a key without ``=``, an unterminated quoted value); unknown or empty
    keys are left to libpq.
    """
    items = []
    n = len(dsn)
    i = _skip_blanks(dsn, 0)
    while i < n:
        start = i
        while i < n and dsn[i] != "=" and dsn[i] not in WHITESPACE:
            i += 1
        key = dsn[start:i]
        i = _skip_blanks(dsn, i)
        if i >= n or dsn[i] != "=":
            raise ConninfoError('missing "=" after %r' % key)
        i = _skip_blanks(dsn, i + 1)
        value, i = _scan_value(dsn, i)
        items.append((key, value, start, i))
        i = _skip_blanks(dsn, i)
    return items


def _scan_value(dsn: str, i: int) -> Tuple[str, int]:
    """Read the value starting at `i`; return it and where it ends."""
    out: List[str] = []
    n = len(dsn)
    if i < n and dsn[i] == "'":
        i += 1
        while True:
            if i >= n:
                raise ConninfoError("unterminated quoted string")
            c = dsn[i]
            if c == "'":
                return "".join(out), i + 1
            if c == "\\":
                i += 1
                if i >= n:
                    continue        # the error above, at the next turn
                c = dsn[i]
            out.append(c)
            i += 1
    while i < n and dsn[i] not in WHITESPACE:
        if dsn[i] == "\\":
            i += 1
            if i >= n:              # a trailing backslash is dropped
                break
        out.append(dsn[i])
        i += 1
    return "".join(out), i


def conninfo_dict(dsn: str) -> Dict[str, str]:
    """The parameters of a key=value string, a later setting winning."""
    return {key: value for key, value, _, _ in scan_conninfo(dsn)}


def split_list(value: str) -> List[str]:
    """The elements of a comma-separated host, hostaddr or port list, as
    libpq splits it (no white space stripped, no escapes)."""
    return value.split(",")
