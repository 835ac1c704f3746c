"""Extra features of psycopg2 built on the core driver.

This module collects the features built on top of the core driver: cursors
returning rows as dictionaries or named tuples, logging connections, fast
execution helpers (`execute_batch()`, `execute_values()`), and adapters and
typecasters for several PostgreSQL types (uuid, inet, hstore, composite
types, ranges, json).
"""

import json  # noqa: F401 (psycopg2.extras.json exists in psycopg2)
import logging as _logging
import os as _os
import re as _re
import string as _string
import time as _time
import uuid as _uuid
from collections import OrderedDict, namedtuple
from contextlib import contextmanager as _contextmanager
from functools import lru_cache
from itertools import islice as _islice
from typing import (TYPE_CHECKING, Any, Dict, Iterable, Iterator, List,
                    Literal, Optional, Sequence, Tuple, Union, overload)

import psycopg2
from psycopg2 import _psycopg
from psycopg2 import extensions as _ext
from psycopg2.extensions import adapt as _A  # noqa: F401
from psycopg2.extensions import quote_ident as quote_ident  # noqa: F401
from psycopg2.extensions import connection as _connection
from psycopg2.extensions import cursor as _cursor

# Names re-exported from the private modules, as psycopg2 does.
from psycopg2._json import (  # noqa: F401
    Json as Json, register_json as register_json,
    register_default_json as register_default_json,
    register_default_jsonb as register_default_jsonb)
from psycopg2._range import (  # noqa: F401
    Range as Range, NumericRange as NumericRange, DateRange as DateRange,
    DateTimeRange as DateTimeRange, DateTimeTZRange as DateTimeTZRange,
    register_range as register_range, RangeAdapter as RangeAdapter,
    RangeCaster as RangeCaster)
from psycopg2._range import _unescape
from psycopg2._ipaddress import (  # noqa: F401
    register_ipaddress as register_ipaddress)

logger = _logging.getLogger("psycopg2.extras")

if TYPE_CHECKING:
    from psycopg2.sql import Composable as _Composable

# A query: text, bytes or a psycopg2.sql object (for the annotations).
_Query = Union[str, bytes, "_Composable"]


# ---------------------------------------------------------------------------
# Cursors returning rows as dictionaries
# ---------------------------------------------------------------------------

# a value never returned by a cursor: iteration ends on StopIteration
_NO_MORE_ROWS = object()


def _next_until_stop(cursor: Any) -> Iterator[Any]:
    """Iterate over the rows of *cursor* by calling its C ``__next__``.

    ``for row in cursor`` can't be used inside a cursor's own ``__iter__``:
    it would call that ``__iter__`` again, recursively.
    """
    return iter(cursor.__next__, _NO_MORE_ROWS)


class DictCursorBase(_cursor):
    """Base class of the cursors returning rows as mappings.

    Subclasses pass a *row_factory* keyword argument: a callable receiving
    the cursor and returning an empty row object, which the cursor fills
    with ``row[i] = value`` for each column.

    After every `execute()` or `callproc()` the attribute `!_query_executed`
    is true until `_build_index()` has looked at the new `description`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        row_factory = kwargs.pop("row_factory", None)
        if row_factory is None:
            raise NotImplementedError(
                "DictCursorBase can't be instantiated without a row factory.")
        super().__init__(*args, **kwargs)
        self._query_executed = False
        self.row_factory = row_factory

    def _reset_index(self) -> None:
        """Forget the column index of the previous query."""
        self._query_executed = True

    def _build_index(self) -> None:
        """Compute the column index from `description` (subclasses)."""
        self._query_executed = False

    def execute(self, query: Any, vars: Any = None) -> None:
        self._reset_index()
        return super().execute(query, vars)

    def callproc(self, procname: str, vars: Any = None) -> Any:
        self._reset_index()
        return super().callproc(procname, vars)

    # The fetch methods below make sure that _build_index() runs for the
    # subclasses whose row factory relies on it: before fetching if the
    # description is known, else (named cursors) right after the first
    # fetch.  DictCursor and RealDictCursor build their index lazily and
    # use the plain cursor methods instead.

    def _index_if_needed(self) -> None:
        if self._query_executed and self.description is not None:
            self._build_index()

    def fetchone(self) -> Any:
        self._index_if_needed()
        res = super().fetchone()
        self._index_if_needed()
        return res

    def fetchmany(self, size: Optional[int] = None) -> List[Any]:
        self._index_if_needed()
        if size is None:
            res = super().fetchmany()
        else:
            res = super().fetchmany(size)
        self._index_if_needed()
        return res

    def fetchall(self) -> List[Any]:
        self._index_if_needed()
        res = super().fetchall()
        self._index_if_needed()
        return res

    def __iter__(self) -> Iterator[Any]:
        self._index_if_needed()
        it = super().__iter__()
        try:
            first = next(it)
        except StopIteration:
            return
        self._index_if_needed()
        yield first
        yield from _next_until_stop(it)


class DictConnection(_connection):
    """A connection that uses `DictCursor` automatically."""

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory", self.cursor_factory or DictCursor)
        return super().cursor(*args, **kwargs)


class DictCursor(DictCursorBase):
    """A cursor returning `DictRow` objects: lists that can also be
    indexed by column name.

    The `index` attribute maps every column name to its position in the
    rows of the last query.  For a named cursor it is available after the
    first fetch, when the cursor has its `description`.
    """

    if TYPE_CHECKING:
        # The rows are DictRow objects, not the tuples of the base cursor.
        def fetchone(  # type: ignore[override]
                self) -> Optional["DictRow"]: ...

        def fetchmany(  # type: ignore[override]
                self, size: Optional[int] = None) -> List["DictRow"]: ...

        def fetchall(  # type: ignore[override]
                self) -> List["DictRow"]: ...

        def __iter__(  # type: ignore[override]
                self) -> Iterator["DictRow"]: ...
    else:
        fetchone = _cursor.fetchone
        fetchmany = _cursor.fetchmany
        fetchall = _cursor.fetchall
        __iter__ = _cursor.__iter__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["row_factory"] = DictRow
        super().__init__(*args, **kwargs)
        self._index: "OrderedDict[str, int]" = OrderedDict()

    def _reset_index(self) -> None:
        # A new dict: rows of the previous query keep their own.
        self._index = OrderedDict()
        self._query_executed = True

    def _build_index(self) -> None:
        if self.description is None:
            return
        for i, column in enumerate(self.description):
            self._index[column[0]] = i
        self._query_executed = False

    @property
    def index(self) -> "OrderedDict[str, int]":
        """Mapping from the column names to their position in the rows."""
        if self._query_executed:
            self._build_index()
        return self._index


class DictRow(list):
    """A row of `DictCursor`: a list also indexable by column name.

    The row is a list of the column values in query order, so it can be
    indexed by position, sliced and compared with lists; it can also be
    indexed by column name, and has the mapping methods `keys()`,
    `values()`, `items()`, `get()` and `copy()`.  With duplicate column
    names, the name gives the last of the columns.
    """

    __slots__ = ("_index",)

    def __init__(self, cursor: DictCursor) -> None:
        self._index = cursor.index
        # the slots that the cursor fills with row[i] = value
        list.extend(self, [None] * len(cursor.description))

    def __getitem__(self, x: Any) -> Any:
        if not isinstance(x, (int, slice)):
            x = self._index[x]
        return super().__getitem__(x)

    def __setitem__(self, x: Any, v: Any) -> None:
        if not isinstance(x, (int, slice)):
            x = self._index[x]
        super().__setitem__(x, v)

    def items(self) -> Iterator[Tuple[str, Any]]:
        """Return an iterator over the (column name, value) pairs."""
        return ((name, self[i]) for name, i in self._index.items())

    def keys(self) -> Iterator[str]:
        """Return an iterator over the column names."""
        return iter(self._index)

    def values(self) -> Iterator[Any]:
        """Return an iterator over the values, in the order of `keys()`."""
        return (self[i] for i in self._index.values())

    def get(self, x: Any, default: Any = None) -> Any:
        """Return the value for a column name or position, or *default*."""
        try:
            return self[x]
        except (KeyError, IndexError, TypeError):
            return default

    def copy(self) -> "OrderedDict[str, Any]":
        """Return the row as a new `!OrderedDict` of column name -> value."""
        return OrderedDict(self.items())

    def __contains__(self, x: Any) -> bool:
        # "in" tests the column names, as for a mapping
        return x in self._index

    # Copied and pickled as psycopg2 does: list's own reduction (the class,
    # the values) with this state (values, index).  Without it, copy and
    # pickle would add the values again after setting the state.
    def __reduce__(self) -> Any:
        return super().__reduce__()

    def __getstate__(self) -> Tuple[List[Any], "OrderedDict[str, int]"]:
        return list(self), self._index.copy()

    def __setstate__(self, data: Tuple[List[Any], Any]) -> None:
        self[:] = data[0]
        self._index = data[1]


class RealDictConnection(_connection):
    """A connection that uses `RealDictCursor` automatically."""

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory",
                          self.cursor_factory or RealDictCursor)
        return super().cursor(*args, **kwargs)


class RealDictCursor(DictCursorBase):
    """A cursor returning each row as a dictionary of column name -> value.

    Rows are `RealDictRow` objects: ordered dictionaries of column name ->
    value, with no access by position.  With duplicate column names, the
    last column wins.  The `column_mapping` attribute lists the column
    names of the last query.
    """

    if TYPE_CHECKING:
        # The rows are RealDictRow objects, not the tuples of the base cursor.
        def fetchone(  # type: ignore[override]
                self) -> Optional["RealDictRow"]: ...

        def fetchmany(  # type: ignore[override]
                self, size: Optional[int] = None) -> List["RealDictRow"]: ...

        def fetchall(  # type: ignore[override]
                self) -> List["RealDictRow"]: ...

        def __iter__(  # type: ignore[override]
                self) -> Iterator["RealDictRow"]: ...
    else:
        fetchone = _cursor.fetchone
        fetchmany = _cursor.fetchmany
        fetchall = _cursor.fetchall
        __iter__ = _cursor.__iter__

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["row_factory"] = RealDictRow
        super().__init__(*args, **kwargs)
        self._column_mapping: List[str] = []

    def _reset_index(self) -> None:
        self._column_mapping = []
        self._query_executed = True

    def _build_index(self) -> None:
        if self.description is None:
            return
        self._column_mapping = [column[0] for column in self.description]
        self._query_executed = False

    @property
    def column_mapping(self) -> List[str]:
        """The column names of the last query, in order."""
        if self._query_executed:
            self._build_index()
        return self._column_mapping


class RealDictRow(OrderedDict):
    """A row of `RealDictCursor`: an ordered dictionary.

    Created by `RealDictCursor` with the cursor as only argument, in which
    case the cursor then sets the values by position (``row[i] = value``)
    and they are stored under the column names.  Otherwise it builds like
    any dict.
    """

    # Column names while the cursor fills a new row; None afterwards.
    _names: Optional[List[str]] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], _cursor):
            names = args[0].column_mapping
            super().__init__(*args[1:], **kwargs)
            if names:
                self._names = names
        else:
            super().__init__(*args, **kwargs)

    def __setitem__(self, key: Any, value: Any) -> None:
        names = self._names
        if names is None:
            OrderedDict.__setitem__(self, key, value)
            return
        OrderedDict.__setitem__(self, names[key], value)
        if key == len(names) - 1:
            # the last column: the row is complete
            del self._names


# ---------------------------------------------------------------------------
# Cursor returning rows as named tuples
# ---------------------------------------------------------------------------

class NamedTupleConnection(_connection):
    """A connection that uses `NamedTupleCursor` automatically."""

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory",
                          self.cursor_factory or NamedTupleCursor)
        return super().cursor(*args, **kwargs)


# ASCII characters that can't appear in a Python identifier; a column name
# gets them replaced by "_" to make a namedtuple field name.
_re_clean = _re.compile(
    "[" + _re.escape(" " + _string.punctuation.replace("_", "")) + "]")


class NamedTupleCursor(_cursor):
    """A cursor returning each row as a `~collections.namedtuple`.

    The values can be read by position or as attributes named after the
    columns::

        >>> cur = conn.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor)
        >>> cur.execute("select 1 as id, 'x' as label")
        >>> row = cur.fetchone()
        >>> row.label, row[0]
        ('x', 1)

    The namedtuple class, named ``Record``, is made once per set of column
    names (and cached across queries); it is available as `!Record` after
    the first fetch.
    """
    Record: Optional[type] = None
    MAX_CACHE = 1024

    def execute(self, query: Any, vars: Any = None) -> None:
        self.Record = None
        return super().execute(query, vars)

    def executemany(self, query: Any, vars: Any) -> None:
        self.Record = None
        return super().executemany(query, vars)

    def callproc(self, procname: str, vars: Any = None) -> Any:
        self.Record = None
        return super().callproc(procname, vars)

    def _record(self) -> Any:
        """The namedtuple class of the rows of the current query."""
        nt = self.Record
        if nt is None:
            nt = self.Record = self._make_nt()
        return nt

    def _make_nt(self) -> Any:
        key = tuple(d[0] for d in self.description) if self.description else ()
        return self._cached_make_nt(key)

    @classmethod
    def _do_make_nt(cls, key: Tuple[str, ...]) -> Any:
        """Return a namedtuple class "Record" with a field per column name.

        Column names are made valid identifiers where possible: punctuation
        becomes "_", and names starting with "_" or a digit get an "f"
        prefix (``?column?`` -> ``f_column_``).  Duplicate names or Python
        keywords raise `ValueError`, as namedtuple does.
        """
        fields = []
        for name in key:
            name = _re_clean.sub("_", name)
            if not name or name[0] == "_" or name[0].isdigit():
                name = "f" + name
            fields.append(name)
        return namedtuple("Record", fields)

    def fetchone(self) -> Any:
        t = super().fetchone()
        if t is not None:
            return self._record()._make(t)
        return None

    def fetchmany(self, size: Optional[int] = None) -> List[Any]:
        if size is None:
            ts = super().fetchmany()
        else:
            ts = super().fetchmany(size)
        return list(map(self._record()._make, ts))

    def fetchall(self) -> List[Any]:
        ts = super().fetchall()
        return list(map(self._record()._make, ts))

    def __iter__(self) -> Iterator[Any]:
        it = super().__iter__()
        # A named cursor knows its description only after the first fetch:
        # get a row before making the namedtuple class.
        try:
            t = next(it)
        except StopIteration:
            return
        make = self._record()._make
        yield make(t)
        for t in _next_until_stop(it):
            yield make(t)


@lru_cache(512)
def _cached_make_nt(cls: Any, key: Tuple[str, ...]) -> Any:
    return cls._do_make_nt(key)


# The namedtuple classes are cached per cursor class and column names, as in
# psycopg2: exposed so that the cache can be cleared or resized (replace it
# with classmethod(lru_cache(n)(...))).
NamedTupleCursor._cached_make_nt = classmethod(  # type: ignore[attr-defined]
    _cached_make_nt)


# ---------------------------------------------------------------------------
# Logging connections and cursors
# ---------------------------------------------------------------------------

class LoggingConnection(_connection):
    """A connection whose cursors log every query they execute.

    Call `initialize()` with the log destination before creating cursors.
    """

    def initialize(self, logobj: Any) -> None:
        """Set where the queries are logged.

        *logobj* is a `logging.Logger` or `logging.LoggerAdapter` (queries
        are logged at DEBUG level) or any object with a ``write()`` method,
        such as an open text file (one line per query).
        """
        self._logobj = logobj
        if isinstance(logobj, (_logging.Logger, _logging.LoggerAdapter)):
            self.log = self._logtologger
        else:
            self.log = self._logtofile

    def filter(self, msg: Any, curs: Any) -> Any:
        """Return what to log for the query *msg* run by *curs*.

        Override it to change the message or to skip queries (return a false
        value).  The default returns *msg* unchanged.
        """
        return msg

    def _logtofile(self, msg: Any, curs: Any) -> None:
        msg = self.filter(msg, curs)
        if msg:
            if isinstance(msg, bytes):
                msg = msg.decode(_ext.encodings[self.encoding], "replace")
            self._logobj.write(msg + _os.linesep)

    def _logtologger(self, msg: Any, curs: Any) -> None:
        msg = self.filter(msg, curs)
        if msg:
            self._logobj.debug(msg)

    def _check(self) -> None:
        if not hasattr(self, "_logobj"):
            raise psycopg2.ProgrammingError(
                "LoggingConnection object has not been initialize()d")

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        self._check()
        kwargs.setdefault("cursor_factory",
                          self.cursor_factory or LoggingCursor)
        return super().cursor(*args, **kwargs)


class LoggingCursor(_cursor):
    """A cursor passing every query it runs to its connection's log."""

    connection: "LoggingConnection"

    def execute(self, query: Any, vars: Any = None) -> None:
        try:
            return super().execute(query, vars)
        finally:
            self.connection.log(self.query, self)

    def callproc(self, procname: str, vars: Any = None) -> Any:
        try:
            return super().callproc(procname, vars)
        finally:
            self.connection.log(self.query, self)


class MinTimeLoggingConnection(LoggingConnection):
    """A `LoggingConnection` logging only the slow queries.

    ``initialize(logobj, mintime=0)`` sets the threshold in milliseconds:
    only the queries taking longer are logged, followed by their execution
    time.  Its cursors are `MinTimeLoggingCursor`.
    """

    def initialize(self, logobj: Any, mintime: float = 0) -> None:
        LoggingConnection.initialize(self, logobj)
        self._mintime = mintime

    def filter(self, msg: Any, curs: Any) -> Any:
        t = (_time.time() - curs.timestamp) * 1000
        if t > self._mintime:
            if isinstance(msg, bytes):
                msg = msg.decode(_ext.encodings[self.encoding], "replace")
            return "%s%s  (execution time: %s ms)" % (msg, _os.linesep, t)
        return None

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory",
                          self.cursor_factory or MinTimeLoggingCursor)
        return LoggingConnection.cursor(self, *args, **kwargs)


class MinTimeLoggingCursor(LoggingCursor):
    """Cursor of `MinTimeLoggingConnection`: records when each query starts."""

    def execute(self, query: Any, vars: Any = None) -> None:
        self.timestamp = _time.time()
        return LoggingCursor.execute(self, query, vars)

    def callproc(self, procname: str, vars: Any = None) -> Any:
        self.timestamp = _time.time()
        return LoggingCursor.callproc(self, procname, vars)


# ---------------------------------------------------------------------------
# Replication
#
# The protocol (ReplicationConnection, ReplicationCursor.start_replication_
# expert(), consume_stream(), read_message(), send_feedback(),
# ReplicationMessage) is in the C extension; the slot commands and the
# START_REPLICATION command builder are here, as in psycopg2.
# ---------------------------------------------------------------------------

REPLICATION_PHYSICAL = _psycopg.REPLICATION_PHYSICAL
REPLICATION_LOGICAL = _psycopg.REPLICATION_LOGICAL


class StopReplication(Exception):
    """Raise it from the *consume* callable to leave
    `ReplicationCursor.consume_stream()`.

    Subclass of `Exception`, not of `psycopg2.Error`: stopping the stream is
    not an error.  `!consume_stream()` lets it propagate to its caller.
    """


def _lsn_text(lsn: Any) -> str:
    """The text form ``XXX/XXXXXXXX`` of an LSN given as int or as text."""
    if isinstance(lsn, str):
        parts = lsn.split("/")
        try:
            if len(parts) != 2:
                raise ValueError
            high, low = int(parts[0], 16), int(parts[1], 16)
            if not (0 <= high <= 0xFFFFFFFF and 0 <= low <= 0xFFFFFFFF):
                raise ValueError
        except ValueError:
            raise ValueError(
                "invalid LSN: %r, expected two hexadecimal numbers such as "
                "'16/B374D848'" % lsn) from None
    elif isinstance(lsn, int) and not isinstance(lsn, bool):
        if not 0 <= lsn <= 0xFFFFFFFFFFFFFFFF:
            raise ValueError("invalid LSN: %d, out of range" % lsn)
        high, low = lsn >> 32, lsn & 0xFFFFFFFF
    else:
        raise TypeError(
            "start_lsn must be an int or a 'XXX/XXX' string, not %s"
            % type(lsn).__name__)
    return "%X/%08X" % (high, low)


# The C types exist once the extension registers them at import
# (replication_setup() in the module initialisation).
if hasattr(_psycopg, "ReplicationConnection"):
    _replicationConnection = _psycopg.ReplicationConnection
    _replicationCursor = _psycopg.ReplicationCursor
    ReplicationMessage = _psycopg.ReplicationMessage

    class LogicalReplicationConnection(_replicationConnection):
        """A connection for logical replication (``replication=database``).

        Pass it as *connection_factory* to `psycopg2.connect()`; its
        cursors are `ReplicationCursor`.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["replication_type"] = REPLICATION_LOGICAL
            super().__init__(*args, **kwargs)

    class PhysicalReplicationConnection(_replicationConnection):
        """A connection for physical replication (``replication=true``).

        Pass it as *connection_factory* to `psycopg2.connect()`; its
        cursors are `ReplicationCursor`.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["replication_type"] = REPLICATION_PHYSICAL
            super().__init__(*args, **kwargs)

    class ReplicationCursor(_replicationCursor):
        """A cursor used for communication on replication connections."""

        def _slot_type(self, slot_type: Optional[int]) -> int:
            if slot_type is None:
                return self.connection.replication_type
            return slot_type

        def create_replication_slot(self, slot_name: str,
                                    slot_type: Optional[int] = None,
                                    output_plugin: Optional[str] = None
                                    ) -> None:
            """Create streaming replication slot.

            :param slot_name: name of the slot to create.
            :param slot_type: `REPLICATION_LOGICAL` or
                `REPLICATION_PHYSICAL`; by default the type of the
                connection.
            :param output_plugin: the logical decoding output plugin of the
                slot: required for logical slots, refused for physical ones.

            The slot description returned by the server (slot_name,
            consistent_point, snapshot_name, output_plugin) can be fetched
            from the cursor.
            """
            slot_type = self._slot_type(slot_type)
            command = "CREATE_REPLICATION_SLOT %s " % quote_ident(
                slot_name, self)
            if slot_type == REPLICATION_LOGICAL:
                if output_plugin is None:
                    raise psycopg2.ProgrammingError(
                        "output plugin name is required to create "
                        "logical replication slot")
                command += "LOGICAL %s" % quote_ident(output_plugin, self)
            elif slot_type == REPLICATION_PHYSICAL:
                if output_plugin is not None:
                    raise psycopg2.ProgrammingError(
                        "cannot specify output plugin name when creating "
                        "physical replication slot")
                command += "PHYSICAL"
            else:
                raise psycopg2.ProgrammingError(
                    "unrecognized replication type: %r" % (slot_type,))
            logger.debug("creating replication slot: %s", command)
            self.execute(command)

        def drop_replication_slot(self, slot_name: str) -> None:
            """Drop streaming replication slot."""
            command = "DROP_REPLICATION_SLOT %s" % quote_ident(
                slot_name, self)
            logger.debug("dropping replication slot: %s", command)
            self.execute(command)

        def start_replication(
                self, slot_name: Optional[str] = None,
                slot_type: Optional[int] = None, start_lsn: Any = 0,
                timeline: int = 0, options: Optional[Dict[str, Any]] = None,
                decode: bool = False, status_interval: float = 10) -> None:
            """Start replication stream.

            :param slot_name: the replication slot: required for logical
                replication, optional for physical replication.
            :param slot_type: `REPLICATION_LOGICAL` or
                `REPLICATION_PHYSICAL`; by default the type of the
                connection.
            :param start_lsn: the LSN to start from, as an int or as a
                ``'XXX/XXX'`` string; 0 lets the server choose (where the
                slot's client confirmed, or the oldest available).
            :param timeline: the WAL timeline to stream (physical only).
            :param options: a dict of options for the logical decoding
                output plugin (logical only).
            :param decode: deliver the payloads as `!str`, decoded from the
                connection encoding, rather than as `!bytes`.
            :param status_interval: seconds between the status updates sent
                automatically to the server.

            Then read the stream with `consume_stream()` or
            `read_message()`.
            """
            slot_type = self._slot_type(slot_type)
            command = "START_REPLICATION "
            if slot_type == REPLICATION_LOGICAL:
                if not slot_name:
                    raise psycopg2.ProgrammingError(
                        "slot name is required for logical replication")
                command += "SLOT %s LOGICAL " % quote_ident(slot_name, self)
            elif slot_type == REPLICATION_PHYSICAL:
                # "PHYSICAL" is optional and the slot too
                if slot_name:
                    command += "SLOT %s " % quote_ident(slot_name, self)
            else:
                raise psycopg2.ProgrammingError(
                    "unrecognized replication type: %r" % (slot_type,))

            command += _lsn_text(start_lsn)

            if timeline != 0:
                if slot_type == REPLICATION_LOGICAL:
                    raise psycopg2.ProgrammingError(
                        "cannot specify timeline for logical replication")
                command += " TIMELINE %d" % timeline

            if options:
                if slot_type == REPLICATION_PHYSICAL:
                    raise psycopg2.ProgrammingError(
                        "cannot specify output plugin options for physical "
                        "replication")
                from psycopg2 import sql as _sql
                command += " (%s)" % ", ".join(
                    "%s %s" % (quote_ident(k, self),
                               _sql.Literal(str(v)).as_string(self))
                    for k, v in options.items())

            logger.debug("starting replication: %s", command)
            self.start_replication_expert(
                command, decode=decode, status_interval=status_interval)

        # allows replication cursors to be used in select.select() directly
        def fileno(self) -> int:
            """The file descriptor of the connection's socket, so that the
            cursor can be passed to `select.select()` or `selectors`."""
            return self.connection.fileno()


# ---------------------------------------------------------------------------
# uuid
# ---------------------------------------------------------------------------

class UUID_adapter:
    """Adapter writing a `uuid.UUID` as an SQL uuid literal."""

    def __init__(self, uuid: _uuid.UUID) -> None:
        self._uuid = uuid

    def __conform__(self, proto: Any) -> Any:
        if proto is _ext.ISQLQuote:
            return self
        return None

    def getquoted(self) -> bytes:
        return ("'%s'::uuid" % self._uuid).encode("utf8")

    def __str__(self) -> str:
        return "'%s'::uuid" % self._uuid


def _cast_uuid(value: Optional[str], cur: Any) -> Optional[_uuid.UUID]:
    return _uuid.UUID(value) if value else None


def register_uuid(oids: Any = None, conn_or_curs: Any = None) -> Any:
    """Convert uuid values to and from `uuid.UUID`.

    :param oids: the OID of the uuid type, or a pair (uuid OID, uuid[] OID);
        by default the standard OIDs of PostgreSQL.
    :param conn_or_curs: a connection or cursor to register the typecasters
        on; by default they apply to every connection.
    :return: the uuid typecaster (also stored as ``extensions.UUID``).

    The adapter of `uuid.UUID` is always registered globally.
    """
    if not oids:
        oid1, oid2 = 2950, 2951
    elif isinstance(oids, (list, tuple)):
        oid1, oid2 = oids
    else:
        oid1, oid2 = oids, 2951

    _ext.UUID = _ext.new_type((oid1,), "UUID", _cast_uuid)
    _ext.UUIDARRAY = _ext.new_array_type((oid2,), "UUID[]", _ext.UUID)

    _ext.register_type(_ext.UUID, conn_or_curs)
    _ext.register_type(_ext.UUIDARRAY, conn_or_curs)
    _ext.register_adapter(_uuid.UUID, UUID_adapter)

    return _ext.UUID


# ---------------------------------------------------------------------------
# inet (deprecated in favour of register_ipaddress)
# ---------------------------------------------------------------------------

class Inet:
    """An inet value, held as a string in `!addr`.

    It is written to the database as a quoted string cast to inet; the
    string is quoted like any other, but not validated as an address.
    Prefer `register_ipaddress()` and the `ipaddress` module.
    """

    _conn: Any = None

    def __init__(self, addr: str) -> None:
        self.addr = addr

    def __repr__(self) -> str:
        return "%s(%r)" % (self.__class__.__name__, self.addr)

    def prepare(self, conn: Any) -> None:
        self._conn = conn

    def getquoted(self) -> bytes:
        obj = _A(self.addr)
        if hasattr(obj, "prepare") and self._conn is not None:
            obj.prepare(self._conn)
        return obj.getquoted() + b"::inet"

    def __conform__(self, proto: Any) -> Any:
        if proto is _ext.ISQLQuote:
            return self
        return None

    def __str__(self) -> str:
        return str(self.addr)


def _cast_inet(value: Optional[str], cur: Any) -> Optional[Inet]:
    return Inet(value) if value else None


def register_inet(oid: Any = None, conn_or_curs: Any = None) -> Any:
    """Return inet values as `Inet` objects (deprecated).

    :param oid: the OID of the inet type, or a pair (inet OID, inet[] OID);
        by default the standard OIDs of PostgreSQL.
    :param conn_or_curs: a connection or cursor to register the typecasters
        on; by default they apply to every connection.
    :return: the inet typecaster (also stored as ``extensions.INET``).
    """
    import warnings
    warnings.warn(
        "the inet adapter is deprecated, it's not very useful",
        DeprecationWarning)

    if not oid:
        oid1, oid2 = 869, 1041
    elif isinstance(oid, (list, tuple)):
        oid1, oid2 = oid
    else:
        oid1, oid2 = oid, 1041

    _ext.INET = _ext.new_type((oid1,), "INET", _cast_inet)
    _ext.INETARRAY = _ext.new_array_type((oid2,), "INETARRAY", _ext.INET)

    _ext.register_type(_ext.INET, conn_or_curs)
    _ext.register_type(_ext.INETARRAY, conn_or_curs)

    return _ext.INET


# ---------------------------------------------------------------------------
# Green (wait callback) support
# ---------------------------------------------------------------------------

def wait_select(conn: Any) -> None:
    """Wait callback driving *conn* with `select.select()`.

    Pass it to `~psycopg2.extensions.set_wait_callback()` to run every
    blocking operation through `!poll()`: the process then stays responsive
    to signals.  On `KeyboardInterrupt` (Ctrl-C) the running query is
    cancelled and the wait goes on until the server reports the
    cancellation, raised as `~psycopg2.extensions.QueryCanceledError`.
    """
    import select
    from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE

    while True:
        try:
            state = conn.poll()
            if state == POLL_OK:
                break
            elif state == POLL_READ:
                select.select([conn.fileno()], [], [])
            elif state == POLL_WRITE:
                select.select([], [conn.fileno()], [])
            else:
                raise conn.OperationalError("bad state from poll: %s" % state)
        except KeyboardInterrupt:
            # ask the server to stop: the next poll() raises
            # QueryCanceledError, which ends the loop
            conn.cancel()
            continue


# ---------------------------------------------------------------------------
# Catalog helpers for the register_*() functions
# ---------------------------------------------------------------------------

def _solve_conn_curs(conn_or_curs: Any) -> Tuple[Any, Any]:
    """Return the connection and a new plain cursor from a connection or a
    cursor."""
    if conn_or_curs is None:
        raise TypeError("a connection or a cursor is required, got None")
    if hasattr(conn_or_curs, "execute"):
        conn = conn_or_curs.connection
    else:
        conn = conn_or_curs
    # a plain cursor: the connection may have a dict cursor_factory
    curs = conn.cursor(cursor_factory=_cursor)
    return conn, curs


@_contextmanager
def _catalog_transaction(conn: Any) -> Iterator[None]:
    """Run catalog queries without leaving a transaction behind.

    If the queries start a transaction (not in autocommit, none in
    progress), roll it back at the end, so that the connection is left as
    it was found.
    """
    started_here = (
        not conn.autocommit
        and conn.get_transaction_status() == _ext.TRANSACTION_STATUS_IDLE)
    try:
        yield
    finally:
        if started_here:
            logger.debug("rolling back the catalog lookup transaction")
            conn.rollback()


_re_ident_part = _re.compile(r'"((?:[^"]|"")+)"|([^".]+)')


def _parse_qualified_name(name: str) -> Optional[Tuple[Optional[str], str]]:
    """Split an SQL type name into (schema or None, type name).

    Parts are double-quoted (case kept) or not (folded to lower case), as
    in SQL.  Return None if *name* is not such a name.
    """
    parts = []
    pos = 0
    while True:
        m = _re_ident_part.match(name, pos)
        if m is None:
            return None
        if m.group(1) is not None:
            parts.append(m.group(1).replace('""', '"'))
        else:
            part = m.group(2).strip()
            if not part or any(c.isspace() for c in part):
                return None
            parts.append(part.lower())
        pos = m.end()
        if pos == len(name):
            break
        if name[pos] != ".":
            return None
        pos += 1

    if len(parts) == 1:
        return None, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    return None


# Find a type by name: first as "schema.name" taken literally ("public" when
# no schema is given); failing that, as an SQL name resolved like in a
# query (quotes, case folding, search_path for an unqualified name).
_FIND_TYPE_SQL = """\
SELECT t.oid, t.typname, n.nspname, t.typarray, t.typrelid
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE (t.typname = %s AND n.nspname = %s)
    OR (t.typname = %s AND CASE
        WHEN %s::text IS NULL THEN pg_catalog.pg_type_is_visible(t.oid)
        ELSE n.nspname = %s END)
ORDER BY (t.typname = %s AND n.nspname = %s) DESC
LIMIT 1
"""


def _find_type(curs: Any, name: str) -> Optional[Tuple[Any, ...]]:
    """Look up a type by name; return (oid, typname, nspname, typarray,
    typrelid) or None if there is no such type."""
    if "." in name:
        schema1, tname1 = name.split(".", 1)
    else:
        schema1, tname1 = "public", name

    parsed = _parse_qualified_name(name)
    schema2, tname2 = parsed if parsed is not None else (None, None)

    curs.execute(_FIND_TYPE_SQL, (
        tname1, schema1, tname2, schema2, schema2, tname1, schema1))
    rec = curs.fetchone()
    logger.debug("type %r found in the catalog: %r", name, rec)
    return rec


# ---------------------------------------------------------------------------
# hstore
# ---------------------------------------------------------------------------

# One "key"=>"value" (or NULL) pair of the hstore text output, with the
# separator following it.
_re_hstore_pair = _re.compile(r"""
    \s* "(?P<k>(?:[^"\\]|\\.)*)"
    \s* => \s*
    (?: "(?P<v>(?:[^"\\]|\\.)*)" | (?P<null>(?i:NULL)) )
    \s* (?P<sep>,|\Z)
    """, _re.VERBOSE | _re.DOTALL)

_re_backslash = _re.compile(r"\\(.)", _re.DOTALL)


def _unbackslash(s: str) -> str:
    if "\\" not in s:
        return s
    return _re_backslash.sub(r"\1", s)


class HstoreAdapter:
    """Adapter writing a dict of str (values may be None) as an hstore."""

    # connection from prepare(), used to prepare the keys and values lists
    conn: Any = None

    def __init__(self, wrapped: Dict[str, Optional[str]]) -> None:
        self.wrapped = wrapped

    def prepare(self, conn: Any) -> None:
        self.conn = conn

    def _quoted_list(self, items: List[Any]) -> bytes:
        a = _ext.adapt(items)
        if self.conn is not None:
            a.prepare(self.conn)
        return a.getquoted()

    def getquoted(self) -> bytes:
        """Return the SQL of the dict: ``hstore(ARRAY[k...], ARRAY[v...])``."""
        if not self.wrapped:
            return b"''::hstore"
        return b"".join([
            b"hstore(",
            self._quoted_list(list(self.wrapped.keys())), b", ",
            self._quoted_list(list(self.wrapped.values())), b")",
        ])

    @classmethod
    def parse(cls, s: Optional[str], cur: Any,
              _bsdec: Any = None) -> Optional[Dict[str, Optional[str]]]:
        """Typecaster: convert the text of an hstore into a dict.

        The text is the hstore output format: ``"k1"=>"v1", "k2"=>NULL``,
        keys and values double-quoted with backslash escapes.
        """
        if s is None:
            return None

        rv: Dict[str, Optional[str]] = {}
        if not s or s.isspace():
            return rv

        pos = 0
        while True:
            m = _re_hstore_pair.match(s, pos)
            if m is None:
                raise psycopg2.InterfaceError(
                    "error parsing hstore: unparsed data after char %d" % pos)
            v = m.group("v")
            rv[_unbackslash(m.group("k"))] = (
                None if v is None else _unbackslash(v))
            pos = m.end()
            if m.group("sep") != ",":
                break

        return rv

    @classmethod
    def parse_unicode(cls, s: Optional[str],
                      cur: Any) -> Optional[Dict[str, Optional[str]]]:
        """Like `parse()` (on Python 3 the strings are always unicode)."""
        if isinstance(s, bytes):
            s = s.decode(_ext.encodings[cur.connection.encoding])
        return cls.parse(s, cur)

    @classmethod
    def get_oids(cls, conn_or_curs: Any) -> Tuple[Tuple[int, ...],
                                                  Tuple[int, ...]]:
        """Return (hstore OIDs, hstore[] OIDs) found in the database, as two
        tuples (empty if the extension is not installed)."""
        conn, curs = _solve_conn_curs(conn_or_curs)
        with _catalog_transaction(conn):
            # the extension may be installed in several schemas
            curs.execute("""\
SELECT t.oid, t.typarray
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typname = 'hstore'
ORDER BY t.oid
""")
            recs = curs.fetchall()
        return (tuple(r[0] for r in recs), tuple(r[1] for r in recs))


def register_hstore(conn_or_curs: Any, globally: bool = False,
                    unicode: bool = False, oid: Any = None,
                    array_oid: Any = None) -> None:
    """Convert hstore values to and from Python dicts.

    :param conn_or_curs: a connection or cursor: used to find the OIDs of
        hstore and hstore[] (unless given), and where the typecasters are
        registered unless *globally*.
    :param globally: register the typecasters for every connection.
    :param unicode: accepted for compatibility: strings are always `!str`.
    :param oid: the OID (or a sequence of OIDs) of hstore, to skip the
        catalog query (e.g. on an asynchronous connection).
    :param array_oid: the OID (or OIDs) of hstore[].

    Raise `~psycopg2.ProgrammingError` if the hstore extension is not
    installed in the database.  The dict adapter is registered globally:
    afterwards every dict passed as a query parameter is sent as an hstore.
    """
    if oid is None:
        oid = HstoreAdapter.get_oids(conn_or_curs)
        if oid is None or not oid[0]:
            raise psycopg2.ProgrammingError(
                "hstore type not found in the database. "
                "please install it from your 'contrib/hstore.sql' file")
        else:
            array_oid = oid[1]
            oid = oid[0]

    if isinstance(oid, int):
        oid = (oid,)
    else:
        oid = tuple(oid)

    if array_oid is not None:
        if isinstance(array_oid, int):
            array_oid = (array_oid,)
        else:
            array_oid = tuple([x for x in array_oid if x])

    cast = HstoreAdapter.parse_unicode if unicode else HstoreAdapter.parse
    scope = None if globally else conn_or_curs

    HSTORE = _ext.new_type(oid, "HSTORE", cast)
    _ext.register_type(HSTORE, scope)
    _ext.register_adapter(dict, HstoreAdapter)

    if array_oid:
        HSTOREARRAY = _ext.new_array_type(array_oid, "HSTOREARRAY", HSTORE)
        _ext.register_type(HSTOREARRAY, scope)


# ---------------------------------------------------------------------------
# composite types
# ---------------------------------------------------------------------------

# One attribute of the text form of a composite value, with its separator:
# double-quoted (doubled quotes or backslashes escape a character), or
# plain, possibly empty (NULL).
_re_composite_token = _re.compile(r"""
    (?: "(?P<q>(?:[^"\\]|\\.|"")*)" | (?P<p>(?:[^,"\\]|\\.)*) )
    (?P<sep>,|\Z)
    """, _re.VERBOSE | _re.DOTALL)


class CompositeCaster:
    """Typecaster of one composite type into Python objects.

    :param name: the type name; *oid* and *array_oid* its OIDs.
    :param attrs: a sequence of (attribute name, attribute type OID).
    :param schema: the schema of the type, informative.

    `register_composite()` builds one from the catalog; building one by hand
    avoids the catalog query (then register its `!typecaster` and
    `!array_typecaster` with `~psycopg2.extensions.register_type()`).
    Values are returned as instances of the namedtuple class `!type`;
    subclass and override `make()` to return something else.
    """

    typecaster: "_psycopg._Typecaster"
    array_typecaster: "Optional[_psycopg._Typecaster]"

    def __init__(self, name: str, oid: int, attrs: Sequence[Tuple[str, int]],
                 array_oid: Optional[int] = None,
                 schema: Optional[str] = None) -> None:
        self.name = name
        self.schema = schema
        self.oid = oid
        self.array_oid = array_oid

        self.attnames = [a[0] for a in attrs]
        self.atttypes = [a[1] for a in attrs]
        self._create_type(name, self.attnames)
        self.typecaster = _ext.new_type((oid,), name, self.parse)
        if array_oid:
            self.array_typecaster = _ext.new_array_type(
                (array_oid,), "%sARRAY" % name, self.typecaster)
        else:
            self.array_typecaster = None

    def parse(self, s: Optional[str], curs: Any) -> Any:
        if s is None:
            return None

        tokens = self.tokenize(s)
        if len(tokens) != len(self.atttypes):
            raise psycopg2.DataError(
                "expecting %d components for the type %s, %d found instead"
                % (len(self.atttypes), self.name, len(tokens)))

        values = [curs.cast(oid, token)
                  for oid, token in zip(self.atttypes, tokens)]

        return self.make(values)

    def make(self, values: List[Any]) -> Any:
        """Build the Python value from the list of the attribute values
        (already converted to Python).  The default makes a `!type`
        namedtuple."""
        return self._ctor(values)

    @classmethod
    def tokenize(cls, s: str) -> List[Optional[str]]:
        """Split the text of a composite value into its attributes' texts
        (None for NULL attributes)."""
        if len(s) < 2 or s[0] != "(" or s[-1] != ")":
            raise psycopg2.DataError(
                "bad composite value, expected '(...)': %r" % (s,))

        body = s[1:-1]
        tokens: List[Optional[str]] = []
        pos = 0
        while True:
            m = _re_composite_token.match(body, pos)
            if m is None:
                raise psycopg2.DataError(
                    "error parsing composite value at char %d: %r"
                    % (pos + 1, s))
            quoted = m.group("q")
            if quoted is not None:
                tokens.append(_unescape(quoted))
            else:
                plain = m.group("p")
                tokens.append(_unbackslash(plain) if plain else None)
            pos = m.end()
            if m.group("sep") != ",":
                break
        return tokens

    def _create_type(self, name: str, attnames: List[str]) -> None:
        # the type name may need cleaning ("my type"), the attribute names
        # are taken as they are (namedtuple rejects invalid ones).
        self.type = namedtuple(_re.sub(r"\W", "_", name), attnames)
        self._ctor = self.type._make

    @classmethod
    def _from_db(cls, name: str, conn_or_curs: Any) -> "CompositeCaster":
        """Build an instance for the composite type *name* from the
        catalog; `~psycopg2.ProgrammingError` if there is no such type."""
        if not isinstance(name, str):
            raise TypeError("the composite type name must be a string, "
                            "got %r" % (name,))
        conn, curs = _solve_conn_curs(conn_or_curs)

        with _catalog_transaction(conn):
            rec = _find_type(curs, name)
            attrs: List[Tuple[str, int]] = []
            if rec is not None and rec[4]:
                curs.execute("""\
SELECT a.attname, a.atttypid
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
""", (rec[4],))
                attrs = curs.fetchall()

        if not attrs:
            raise psycopg2.ProgrammingError(
                "PostgreSQL type '%s' not found" % name)

        type_oid, tname, schema, array_oid = rec[0], rec[1], rec[2], rec[3]
        return cls(tname, type_oid, attrs, array_oid=array_oid or None,
                   schema=schema)


def register_composite(name: str, conn_or_curs: Any, globally: bool = False,
                       factory: Any = None) -> CompositeCaster:
    """Return the values of a composite type as named tuples.

    :param name: the type name, optionally schema-qualified
        (``"myschema.mytype"``); a table name works too (its row type).
    :param conn_or_curs: a connection or cursor used to read the type from
        the catalog; the typecasters are registered on it unless *globally*.
    :param globally: register the typecasters for every connection.
    :param factory: a `CompositeCaster` subclass to use instead of it.
    :return: the caster registered (a *factory* instance).

    Arrays of the type are converted too, into lists.  Raise
    `~psycopg2.ProgrammingError` if the type doesn't exist.
    """
    if factory is None:
        factory = CompositeCaster

    caster = factory._from_db(name, conn_or_curs)
    scope = None if globally else conn_or_curs
    _ext.register_type(caster.typecaster, scope)

    if caster.array_typecaster is not None:
        _ext.register_type(caster.array_typecaster, scope)

    return caster


# ---------------------------------------------------------------------------
# Fast execution helpers
# ---------------------------------------------------------------------------

def _paginate(seq: Iterable[Any], page_size: int) -> Iterator[List[Any]]:
    """Yield lists of at most *page_size* consecutive items of *seq*
    (never an empty one)."""
    it = iter(seq)
    while True:
        page = list(_islice(it, page_size))
        if not page:
            return
        yield page


def _check_page_size(page_size: Any) -> None:
    if not isinstance(page_size, int) or page_size < 1:
        raise ValueError(
            "page_size must be a positive integer, got %r" % (page_size,))


def _query_bytes(cur: Any, query: Any) -> bytes:
    """Return a query (str, bytes or Composable) as bytes in the encoding of
    the cursor's connection."""
    from psycopg2.sql import Composable
    if isinstance(query, Composable):
        query = query.as_string(cur)
    if isinstance(query, bytes):
        return query
    return query.encode(_ext.encodings[cur.connection.encoding])


def execute_batch(cur: _cursor, sql: "_Query", argslist: Iterable[Any],
                  page_size: int = 100) -> None:
    """Run *sql* once per item of *argslist*, in few round trips.

    The result is the same as ``cur.executemany(sql, argslist)``: each item
    is a sequence or mapping of parameters.  The statements are merged
    client-side and sent joined with ``;``, *page_size* statements at a
    time.  *sql* may be a `str`, `bytes` or `psycopg2.sql.Composable`.
    `!cur.rowcount` is the one of the last statement only.
    """
    _check_page_size(page_size)
    sql = _query_bytes(cur, sql)
    for page in _paginate(argslist, page_size):
        sqls = [cur.mogrify(sql, args) for args in page]
        cur.execute(b";".join(sqls))


_re_percent = _re.compile(rb"%(.)", _re.DOTALL)


def _split_sql(sql: bytes) -> Tuple[List[bytes], List[bytes]]:
    """Return the parts of *sql* (bytes) before and after its only ``%s``,
    as two lists of bytes, with ``%%`` turned into ``%``."""
    pre: List[bytes] = []
    post: List[bytes] = []
    curr = pre
    pos = 0
    for m in _re_percent.finditer(sql):
        curr.append(sql[pos:m.start()])
        char = m.group(1)
        if char == b"%":
            # the query is executed without arguments: unescape now
            curr.append(b"%")
        elif char == b"s":
            if curr is post:
                raise ValueError(
                    "the query contains more than one '%s' placeholder")
            curr = post
        else:
            raise ValueError(
                "unsupported format character: '%s'"
                % char.decode("ascii", "replace"))
        pos = m.end()
    curr.append(sql[pos:])

    if curr is pre:
        raise ValueError("the query doesn't contain any '%s' placeholder")
    return pre, post


@overload
def execute_values(cur: _cursor, sql: "_Query", argslist: Iterable[Any],
                   template: "Optional[_Query]" = None, page_size: int = 100,
                   fetch: Literal[False] = False) -> None: ...


@overload
def execute_values(cur: _cursor, sql: "_Query", argslist: Iterable[Any],
                   template: "Optional[_Query]" = None, page_size: int = 100,
                   *, fetch: Literal[True]) -> List[Any]: ...


@overload
def execute_values(cur: _cursor, sql: "_Query", argslist: Iterable[Any],
                   template: "Optional[_Query]", page_size: int,
                   fetch: Literal[True]) -> List[Any]: ...


@overload
def execute_values(cur: _cursor, sql: "_Query", argslist: Iterable[Any],
                   template: "Optional[_Query]" = None, page_size: int = 100,
                   fetch: bool = False) -> Optional[List[Any]]: ...


def execute_values(cur: _cursor, sql: "_Query", argslist: Iterable[Any],
                   template: "Optional[_Query]" = None, page_size: int = 100,
                   fetch: bool = False) -> Optional[List[Any]]:
    """Run *sql* with a VALUES list made of all the items of *argslist*.

    :param cur: the cursor executing the query.
    :param sql: the query (`str`, `bytes` or `psycopg2.sql.Composable`), with
        exactly one ``%s``: where the comma-separated rows go, e.g.
        ``"INSERT INTO t (a, b) VALUES %s"``.  A literal ``%`` is written
        ``%%``; other placeholders raise `ValueError`.
    :param argslist: the rows: sequences, or mappings if *template* uses
        named placeholders.
    :param template: how to write one row, e.g. ``"(%s, %s, now())"`` or
        ``"(%(a)s, %(b)s)"``.  By default ``(%s, %s, ...)`` with as many
        placeholders as the first row has items.
    :param page_size: the maximum number of rows per statement: more rows
        run as several statements.
    :param fetch: if `!True`, return the rows produced by all the statements
        (e.g. with ``RETURNING``) as one list.
    :return: the list of rows if *fetch*, else `!None`.

    Works with any statement taking a VALUES list, e.g. an UPDATE joined to
    ``(VALUES %s) AS data (id, v)``.  `!cur.rowcount` is the one of the last
    statement only.
    """
    _check_page_size(page_size)
    pre, post = _split_sql(_query_bytes(cur, sql))
    if template is not None:
        template = _query_bytes(cur, template)

    result: Optional[List[Any]] = [] if fetch else None
    for page in _paginate(argslist, page_size):
        if template is None:
            template = b"(" + b",".join([b"%s"] * len(page[0])) + b")"
        parts = pre[:]
        for args in page:
            parts.append(cur.mogrify(template, args))
            parts.append(b",")
        parts[-1:] = post
        cur.execute(b"".join(parts))
        if fetch:
            result.extend(cur.fetchall())

    return result
