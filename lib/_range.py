"""Support for PostgreSQL range types.

`Range` and its subclasses represent range values in Python; `RangeCaster`
converts range values read from the database and `RangeAdapter` writes them
back as SQL.  The built-in range types (int4range, int8range, numrange,
daterange, tsrange, tstzrange) are registered when the module is imported,
which `import psycopg2` does.
"""

import re
from typing import Any, Dict, Optional, Type, Union

from psycopg2._psycopg import InterfaceError, ProgrammingError
from psycopg2.extensions import (
    ISQLQuote, adapt, new_array_type, new_type, register_adapter,
    register_type)

__all__ = [
    "Range", "NumericRange", "DateRange", "DateTimeRange", "DateTimeTZRange",
    "RangeAdapter", "NumberRangeAdapter", "RangeCaster", "register_range",
]

_VALID_BOUNDS = ("[)", "(]", "()", "[]")


class Range:
    """A range value: the Python side of the PostgreSQL range types.

    :param lower: the lower bound, `!None` for no bound (minus infinity).
    :param upper: the upper bound, `!None` for no bound (infinity).
    :param bounds: a two-character string: ``[`` or ``(`` for an inclusive
        or exclusive lower bound, then ``]`` or ``)`` for the upper bound.
    :param empty: `!True` for the empty range (the other arguments are then
        ignored).

    Ranges are immutable and hashable.  ``x in r`` tests if *x* falls in the
    range.  Two ranges are equal when they have equal bounds, whatever their
    subclass; ``<`` and friends give an arbitrary but stable total order
    (comparing lower bound, then upper bound, then bound flags), so that
    ranges can be sorted.
    """

    __slots__ = ("_lower", "_upper", "_bounds")

    def __init__(self, lower: Any = None, upper: Any = None,
                 bounds: str = "[)", empty: bool = False) -> None:
        if empty:
            self._lower = self._upper = self._bounds = None
            return
        if bounds not in _VALID_BOUNDS:
            raise ValueError("bound flags not valid: %r" % (bounds,))
        self._lower = lower
        self._upper = upper
        self._bounds = bounds

    def __repr__(self) -> str:
        name = self.__class__.__name__
        if self._bounds is None:
            return "%s(empty=True)" % name
        return "%s(%r, %r, %r)" % (
            name, self._lower, self._upper, self._bounds)

    def __str__(self) -> str:
        if self._bounds is None:
            return "empty"
        return "%s%s, %s%s" % (
            self._bounds[0], self._lower, self._upper, self._bounds[1])

    @property
    def lower(self) -> Any:
        """The lower bound; `!None` when unbounded or empty."""
        return self._lower

    @property
    def upper(self) -> Any:
        """The upper bound; `!None` when unbounded or empty."""
        return self._upper

    @property
    def isempty(self) -> bool:
        """Whether this is the empty range."""
        return self._bounds is None

    @property
    def lower_inf(self) -> bool:
        """Whether the range extends to minus infinity (never for empty)."""
        return self._bounds is not None and self._lower is None

    @property
    def upper_inf(self) -> bool:
        """Whether the range extends to infinity (never for empty)."""
        return self._bounds is not None and self._upper is None

    @property
    def lower_inc(self) -> bool:
        """Whether the lower bound is a value of the range."""
        if self._bounds is None or self._lower is None:
            return False
        return self._bounds[0] == "["

    @property
    def upper_inc(self) -> bool:
        """Whether the upper bound is a value of the range."""
        if self._bounds is None or self._upper is None:
            return False
        return self._bounds[1] == "]"

    def __contains__(self, x: Any) -> bool:
        if self._bounds is None:
            return False
        if self._lower is not None:
            if self._bounds[0] == "[":
                if x < self._lower:
                    return False
            elif x <= self._lower:
                return False
        if self._upper is not None:
            if self._bounds[1] == "]":
                if x > self._upper:
                    return False
            elif x >= self._upper:
                return False
        return True

    def __bool__(self) -> bool:
        return self._bounds is not None

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Range):
            return False
        return (self._lower == other._lower
                and self._upper == other._upper
                and self._bounds == other._bounds)

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((self._lower, self._upper, self._bounds))

    def _sort_key_lt(self, other: "Range") -> bool:
        """Compare (lower, upper, bounds) in turn; a missing value (None:
        unbounded, or the bounds of an empty range) sorts first."""
        for mine, theirs in ((self._lower, other._lower),
                             (self._upper, other._upper),
                             (self._bounds, other._bounds)):
            if mine == theirs:
                continue
            if mine is None:
                return True
            if theirs is None:
                return False
            return mine < theirs
        return False

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return self._sort_key_lt(other)

    def __le__(self, other: Any) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return self == other or self._sort_key_lt(other)

    def __gt__(self, other: Any) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return other._sort_key_lt(self)

    def __ge__(self, other: Any) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return self == other or other._sort_key_lt(self)

    def __getstate__(self) -> Dict[str, Any]:
        # Range.__slots__: subclasses have a __dict__ and no slots of theirs
        return {slot: getattr(self, slot) for slot in Range.__slots__
                if hasattr(self, slot)}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        for slot, value in state.items():
            setattr(self, slot, value)


class NumericRange(Range):
    """Range of numbers: int4range, int8range and numrange values.

    Python ints, floats and Decimals can be used as bounds; the value is
    sent as an untyped literal that PostgreSQL casts to the range type the
    query needs.
    """


class DateRange(Range):
    """Range of `datetime.date`: daterange values."""


class DateTimeRange(Range):
    """Range of naive `datetime.datetime`: tsrange values."""


class DateTimeTZRange(Range):
    """Range of aware `datetime.datetime`: tstzrange values."""


class RangeAdapter:
    """`ISQLQuote` adapter for `Range` subclasses.

    A concrete adapter sets `name` to the name of the PostgreSQL range type:
    a range is then written as a call to its constructor function, e.g.
    ``daterange('2020-01-01'::date, NULL, '[)')``, and an empty one as
    ``'empty'::daterange``.
    """

    name: Optional[str] = None

    # connection from prepare(), used to prepare the bounds' adapters
    _conn: Any = None

    def __init__(self, adapted: Range) -> None:
        self.adapted = adapted

    def __conform__(self, proto: Any) -> Any:
        if proto is ISQLQuote:
            return self
        return None

    def prepare(self, conn: Any) -> None:
        self._conn = conn

    def _quote_bound(self, value: Any) -> bytes:
        if value is None:
            return b"NULL"
        a = adapt(value)
        if hasattr(a, "prepare"):
            a.prepare(self._conn)
        return a.getquoted()

    def getquoted(self) -> bytes:
        if self.name is None:
            raise NotImplementedError(
                "RangeAdapter must be subclassed overriding its name "
                "or the getquoted() method")

        r = self.adapted
        name = self.name.encode("utf8")
        if r.isempty:
            return b"'empty'::" + name

        return b"".join([
            name, b"(",
            self._quote_bound(r.lower), b", ",
            self._quote_bound(r.upper), b", '",
            r._bounds.encode("ascii"), b"')",
        ])


class NumberRangeAdapter(RangeAdapter):
    """Adapt a range of numbers as an untyped string literal, e.g. '[1,5)'.

    The literal takes its type (int4range, int8range, numrange) from the
    context in the query, as a numeric constant would.
    """

    def getquoted(self) -> bytes:
        r = self.adapted
        if r.isempty:
            return b"'empty'"

        lower = b"" if r.lower is None else adapt(r.lower).getquoted()
        upper = b"" if r.upper is None else adapt(r.upper).getquoted()
        return b"".join([
            b"'", r._bounds[0].encode("ascii"), lower, b",", upper,
            r._bounds[1].encode("ascii"), b"'",
        ])


# The text form of a range as the server writes it: a bound flag, the lower
# bound, a comma, the upper bound, a bound flag.  A bound is either missing
# (infinite), or double-quoted (doubled quotes or backslashes escape a
# character), or a plain run of characters.
_re_range = re.compile(r"""
    ([\[(])
    (?: "(?P<lq>(?:[^"\\]|\\.|"")*)" | (?P<lp>[^",]*) )
    ,
    (?: "(?P<uq>(?:[^"\\]|\\.|"")*)" | (?P<up>[^"\])]*) )
    ([\])])
    \Z
    """, re.VERBOSE | re.DOTALL)

_re_unescape = re.compile(r'\\(.)|""', re.DOTALL)


def _unescape(s: str) -> str:
    return _re_unescape.sub(lambda m: m.group(1) or '"', s)


def _bound_text(quoted: Optional[str], plain: Optional[str]) -> Optional[str]:
    """Text of a bound as matched by _re_range, None if infinite."""
    if quoted is not None:
        return _unescape(quoted)
    if plain:
        return plain
    return None


class RangeCaster:
    """Converter between one PostgreSQL range type and a `Range` subclass.

    `register_range()` builds one from the catalog; build one by hand to
    avoid querying the database, giving the OIDs yourself (then call
    `!register_type()` on its typecasters and `!register_adapter()` on its
    range class).

    :param pgrange: the name of the PostgreSQL range type, or a strict
        `RangeAdapter` subclass adapting the Python ranges.
    :param pyrange: a strict `Range` subclass, or the name of one to create.
    :param oid: the OID of the range type.
    :param subtype_oid: the OID of the type of the range bounds.
    :param array_oid: the OID of the array of the range type, if any.

    Attributes: `range` (the Python class), `adapter` (the adapter class),
    `typecaster` and `array_typecaster` (the casters to register),
    `subtype_oid`.
    """

    def __init__(self, pgrange: Union[str, Type[RangeAdapter]],
                 pyrange: Union[str, Type[Range]], oid: int,
                 subtype_oid: int, array_oid: Optional[int] = None) -> None:
        self.subtype_oid = subtype_oid
        self.adapter = self._adapter_class(pgrange)
        self.range = self._range_class(pyrange)

        name = self.adapter.name or self.adapter.__name__
        self.typecaster = new_type((oid,), name, self.parse)
        if array_oid is not None:
            self.array_typecaster = new_array_type(
                (array_oid,), name + "ARRAY", self.typecaster)
        else:
            self.array_typecaster = None

    @staticmethod
    def _adapter_class(pgrange: Any) -> Type[RangeAdapter]:
        """Return the adapter class to use for *pgrange*, making a new one
        named after the PostgreSQL type if a name is given."""
        if isinstance(pgrange, str):
            return type(pgrange, (RangeAdapter,), {"name": pgrange})
        if (isinstance(pgrange, type) and issubclass(pgrange, RangeAdapter)
                and pgrange is not RangeAdapter):
            return pgrange
        raise TypeError(
            "pgrange must be a string or a RangeAdapter strict subclass")

    @staticmethod
    def _range_class(pyrange: Any) -> Type[Range]:
        """Return the Range subclass for *pyrange*, making a new one if a
        name is given."""
        if isinstance(pyrange, str):
            return type(pyrange, (Range,), {})
        if (isinstance(pyrange, type) and issubclass(pyrange, Range)
                and pyrange is not Range):
            return pyrange
        raise TypeError("pyrange must be a type or a Range strict subclass")

    @classmethod
    def _from_db(cls, name: str, pyrange: Union[str, Type[Range]],
                 conn_or_curs: Any) -> "RangeCaster":
        """Return a `RangeCaster` for the range type *name*, looking its
        OIDs up in the database."""
        # the catalog helpers live in extras, which imports this module
        from psycopg2.extras import (
            _catalog_transaction, _find_type, _solve_conn_curs)

        if not isinstance(name, str):
            raise TypeError("the range type name must be a string, got %r"
                            % (name,))
        conn, curs = _solve_conn_curs(conn_or_curs)
        if conn.info.server_version < 90200:
            raise ProgrammingError(
                "range types not available in version %s"
                % conn.info.server_version)

        rec = None
        with _catalog_transaction(conn):
            typ = _find_type(curs, name)
            if typ is not None:
                curs.execute("""\
SELECT r.rngsubtype, t.typarray
FROM pg_catalog.pg_range r
JOIN pg_catalog.pg_type t ON t.oid = r.rngtypid
WHERE r.rngtypid = %s
""", (typ[0],))
                rec = curs.fetchone()

        if rec is None:
            raise ProgrammingError("PostgreSQL range '%s' not found" % name)

        subtype_oid, array_oid = rec
        return cls(name, pyrange, oid=typ[0], subtype_oid=subtype_oid,
                   array_oid=array_oid or None)

    def parse(self, s: Optional[str], cur: Any = None) -> Optional[Range]:
        """Convert the text of a range value into a `Range` (typecaster)."""
        if s is None:
            return None
        if s == "empty":
            return self.range(empty=True)

        m = _re_range.match(s)
        if m is None:
            raise InterfaceError("failed to parse range: '%s'" % s)

        lower = _bound_text(m.group("lq"), m.group("lp"))
        upper = _bound_text(m.group("uq"), m.group("up"))
        if cur is not None:
            lower = cur.cast(self.subtype_oid, lower)
            upper = cur.cast(self.subtype_oid, upper)
        return self.range(lower, upper, m.group(1) + m.group(6))

    def _register(self, scope: Any = None) -> None:
        register_type(self.typecaster, scope)
        if self.array_typecaster is not None:
            register_type(self.array_typecaster, scope)
        register_adapter(self.range, self.adapter)


def register_range(pgrange: str, pyrange: Union[str, Type[Range]],
                   conn_or_curs: Any, globally: bool = False) -> RangeCaster:
    """Make a PostgreSQL range type usable from Python.

    Range values of the type are then returned as instances of *pyrange*,
    and instances of *pyrange* are sent as values of the type.

    :param pgrange: the name of the PostgreSQL range type, optionally
        schema-qualified ("myschema.myrange").
    :param pyrange: a `Range` strict subclass, or just a name to give to a
        new class.
    :param conn_or_curs: a connection or cursor used to find the type OIDs;
        the typecasters are registered on it (only) unless *globally*.
    :param globally: if `!True`, register the typecasters for every
        connection.
    :return: the `RangeCaster` created; its `!range` attribute is the Python
        class of the values.

    The adapter (Python range -> SQL) is always registered globally.
    """
    caster = RangeCaster._from_db(pgrange, pyrange, conn_or_curs)
    caster._register(not globally and conn_or_curs or None)
    return caster


# The built-in range types.  Numeric ranges share the Python class and are
# adapted as untyped literals, so the server picks the right type.
int4range_caster = RangeCaster(NumberRangeAdapter, NumericRange,
                               oid=3904, subtype_oid=23, array_oid=3905)
int4range_caster._register()

int8range_caster = RangeCaster(NumberRangeAdapter, NumericRange,
                               oid=3926, subtype_oid=20, array_oid=3927)
int8range_caster._register()

numrange_caster = RangeCaster(NumberRangeAdapter, NumericRange,
                              oid=3906, subtype_oid=1700, array_oid=3907)
numrange_caster._register()

daterange_caster = RangeCaster("daterange", DateRange,
                               oid=3912, subtype_oid=1082, array_oid=3913)
daterange_caster._register()

tsrange_caster = RangeCaster("tsrange", DateTimeRange,
                             oid=3908, subtype_oid=1114, array_oid=3909)
tsrange_caster._register()

tstzrange_caster = RangeCaster("tstzrange", DateTimeTZRange,
                               oid=3910, subtype_oid=1184, array_oid=3911)
tstzrange_caster._register()
