"""tzinfo implementations for psycopg2.

`FixedOffsetTimezone` is a time zone with a constant offset from UTC, the
kind PostgreSQL returns with a ``timestamptz`` value; `LocalTimezone`
(instance `LOCAL`) follows the local time zone of the machine.

psycopg2 2.9 builds the aware datetimes it reads with `datetime.timezone`
by default: these classes remain available for `cursor.tzinfo_factory`
and for compatibility.
"""

import datetime
import threading as _threading
import time
from typing import (
    Any as _Any, Dict as _Dict, Optional as _Optional, Tuple as _Tuple,
    Union as _Union)

ZERO = datetime.timedelta(0)

_Offset = _Union[None, int, float, datetime.timedelta]


class FixedOffsetTimezone(datetime.tzinfo):
    """A time zone at a fixed offset east of UTC.

    :param offset: the offset from UTC, as a `~datetime.timedelta` or a
        number of minutes; None means UTC.
    :param name: the name returned by `tzname()`; if None it is built
        from the offset, e.g. ``+05:30``.

    Instances are cached: creating a time zone with the same *offset* and
    *name* as an existing one returns the existing object.  Two instances
    compare equal if their offsets are equal.
    """

    _name: _Optional[str] = None
    _offset = ZERO

    _cache: _Dict[_Tuple[type, _Any, _Optional[str]],
                  "FixedOffsetTimezone"] = {}
    _cache_lock = _threading.Lock()

    def __new__(cls, offset: _Offset = None,
                name: _Optional[str] = None) -> "FixedOffsetTimezone":
        key = (cls, offset, name)
        try:
            return cls._cache[key]
        except KeyError:
            pass
        except TypeError:
            # unhashable offset: let __init__ report it
            return super().__new__(cls)

        tz = super().__new__(cls)
        tz._setup(offset, name)
        with cls._cache_lock:
            return cls._cache.setdefault(key, tz)

    def __init__(self, offset: _Offset = None,
                 name: _Optional[str] = None) -> None:
        # Cached instances are shared: __init__ must not change them.
        if "_offset" not in self.__dict__:
            self._setup(offset, name)

    def _setup(self, offset: _Offset, name: _Optional[str]) -> None:
        if offset is None:
            offset = ZERO
        elif not isinstance(offset, datetime.timedelta):
            offset = datetime.timedelta(minutes=offset)
        self._offset = offset
        self._name = name

    def __repr__(self) -> str:
        return "psycopg2.tz.FixedOffsetTimezone(offset=%r, name=%r)" % (
            self._offset, self._name)

    def __eq__(self, other: _Any) -> _Any:
        if isinstance(other, FixedOffsetTimezone):
            return self._offset == other._offset
        return NotImplemented

    def __ne__(self, other: _Any) -> _Any:
        if isinstance(other, FixedOffsetTimezone):
            return self._offset != other._offset
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._offset)

    def __getinitargs__(self) -> _Tuple[datetime.timedelta, _Optional[str]]:
        return self._offset, self._name

    def utcoffset(self, dt: _Optional[datetime.datetime]
                  ) -> datetime.timedelta:
        return self._offset

    def tzname(self, dt: _Optional[datetime.datetime]) -> str:
        if self._name is not None:
            return self._name
        return self._offset_name()

    def _offset_name(self) -> str:
        """The offset as ``+HH``, ``+HH:MM`` or ``+HH:MM:SS``."""
        seconds = self._offset.total_seconds()
        sign = "+" if seconds >= 0 else "-"
        hours, rest = divmod(abs(seconds), 3600)
        minutes, seconds = divmod(rest, 60)
        if seconds:
            return "%s%02d:%02d:%02d" % (sign, hours, minutes, seconds)
        if minutes:
            return "%s%02d:%02d" % (sign, hours, minutes)
        return "%s%02d" % (sign, hours)

    def dst(self, dt: _Optional[datetime.datetime]) -> datetime.timedelta:
        return ZERO


# Offsets of the local time zone, from the C library's settings.
STDOFFSET = datetime.timedelta(seconds=-time.timezone)
if time.daylight:
    DSTOFFSET = datetime.timedelta(seconds=-time.altzone)
else:
    DSTOFFSET = STDOFFSET
DSTDIFF = DSTOFFSET - STDOFFSET


class LocalTimezone(datetime.tzinfo):
    """The local time zone of the machine, with its daylight saving time
    rules, as known by the C library (`time.localtime()`)."""

    def utcoffset(self, dt: datetime.datetime) -> datetime.timedelta:
        return DSTOFFSET if self._isdst(dt) else STDOFFSET

    def dst(self, dt: datetime.datetime) -> datetime.timedelta:
        return DSTDIFF if self._isdst(dt) else ZERO

    def tzname(self, dt: datetime.datetime) -> str:
        return time.tzname[self._isdst(dt)]

    def _isdst(self, dt: datetime.datetime) -> bool:
        # Let mktime() decide whether DST is in effect (flag -1).
        fields = (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second,
                  dt.weekday(), 0, -1)
        stamp = time.mktime(fields)
        return time.localtime(stamp).tm_isdst > 0


LOCAL = LocalTimezone()
