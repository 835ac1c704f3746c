"""Tests for the range types support (psycopg2._range, via psycopg2.extras)."""

import datetime
import os
import pickle
import subprocess
import sys
from decimal import Decimal

import pytest

import psycopg2
import psycopg2.extensions as ext
from psycopg2.extras import (
    DateRange, DateTimeRange, DateTimeTZRange, NumericRange, Range,
    RangeAdapter, RangeCaster, register_range)

UTC = datetime.timezone.utc


@pytest.fixture(autouse=True)
def restore_globals():
    """Undo the global registrations (adapters, typecasters) of a test."""
    adapters = dict(ext.adapters)
    string_types = dict(ext.string_types)
    yield
    ext.adapters.clear()
    ext.adapters.update(adapters)
    ext.string_types.clear()
    ext.string_types.update(string_types)


@pytest.fixture
def cur(conn):
    return conn.cursor()


# --- the Range object -------------------------------------------------------

def test_range_defaults():
    r = Range(1, 5)
    assert r.lower == 1 and r.upper == 5
    assert not r.isempty
    assert r.lower_inc and not r.upper_inc
    assert not r.lower_inf and not r.upper_inf
    assert bool(r)
    assert repr(r) == "Range(1, 5, '[)')"
    assert str(r) == "[1, 5)"


@pytest.mark.parametrize("bounds, lower_inc, upper_inc", [
    ("[)", True, False), ("(]", False, True),
    ("()", False, False), ("[]", True, True)])
def test_range_bounds(bounds, lower_inc, upper_inc):
    r = Range(10, 20, bounds)
    assert r.lower_inc is lower_inc
    assert r.upper_inc is upper_inc
    assert (10 in r) is lower_inc
    assert (20 in r) is upper_inc
    assert 15 in r
    assert 9 not in r and 21 not in r


def test_range_bad_bounds():
    for bounds in ("", "[", "[x", "])", None, "[ )"):
        with pytest.raises(ValueError, match="bound flags not valid"):
            Range(1, 2, bounds)


def test_range_empty():
    r = Range(empty=True)
    assert r.isempty
    assert r.lower is None and r.upper is None
    assert not r.lower_inf and not r.upper_inf
    assert not r.lower_inc and not r.upper_inc
    assert not bool(r)
    assert 1 not in r
    assert repr(r) == "Range(empty=True)"
    assert str(r) == "empty"
    # the other arguments are ignored
    assert Range(1, 2, "bad", empty=True) == Range(empty=True)


def test_range_infinite():
    r = Range(None, None, "()")
    assert r.lower_inf and r.upper_inf
    assert not r.lower_inc and not r.upper_inc
    assert -10 ** 20 in r and "anything" in r
    r = Range(None, 3, "[]")
    assert r.lower_inf and not r.upper_inf
    assert not r.lower_inc and r.upper_inc
    assert 3 in r and -100 in r and 4 not in r
    r = Range(3, None)
    assert r.upper_inf and r.lower_inc
    assert 3 in r and 10 ** 9 in r and 2 not in r
    assert repr(r) == "Range(3, None, '[)')"


def test_range_readonly():
    r = NumericRange(1, 2)
    with pytest.raises(AttributeError):
        r.lower = 10


def test_range_equality():
    assert Range(1, 2) == Range(1, 2)
    assert NumericRange(1, 2) == Range(1, 2)
    assert Range(1, 2) == NumericRange(1, 2)
    assert Range(1, 2) != Range(1, 2, "[]")
    assert Range(1, 2) != Range(1, 3)
    assert Range(empty=True) == NumericRange(empty=True)
    assert Range(empty=True) != Range(None, None)
    assert Range(1, 2) != (1, 2)
    assert not (Range(1, 2) == 1)
    assert hash(Range(1, 2)) == hash(NumericRange(1, 2))
    assert len({Range(1, 2), NumericRange(1, 2), Range(2, 3)}) == 2


def test_range_ordering():
    assert Range(1, 2) < Range(1, 3)
    assert Range(1, 3) > Range(1, 2)
    assert Range(1, 2) < Range(2, 3)
    assert Range(None, 2) < Range(1, 2)
    assert not Range(1, 2) < Range(None, 2)
    assert Range(empty=True) < Range(1, 2)
    assert not Range(1, 2) < Range(empty=True)
    assert Range(1, 2, "()") < Range(1, 2, "[)")
    assert Range(1, 2) <= Range(1, 2)
    assert Range(1, 2) >= Range(1, 2)
    assert not Range(1, 2) < Range(1, 2)
    assert not Range(1, 2) > Range(1, 2)
    assert sorted([Range(3, 4), Range(1, 2), Range(None, 1),
                   Range(empty=True)]) == \
        [Range(empty=True), Range(None, 1), Range(1, 2), Range(3, 4)]


def test_range_ordering_with_other_types():
    with pytest.raises(TypeError):
        Range(1, 2) < 3
    with pytest.raises(TypeError):
        Range(1, 2) >= 3


@pytest.mark.parametrize("r", [
    NumericRange(1, 2, "(]"), NumericRange(empty=True),
    NumericRange(None, Decimal("1.5")), Range(1, 2),
    DateRange(datetime.date(2020, 1, 1), None),
    DateTimeRange(datetime.datetime(2020, 1, 1, 1), None, "()"),
    DateTimeTZRange(empty=True)])
def test_range_pickle(r):
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        r2 = pickle.loads(pickle.dumps(r, proto))
        assert type(r2) is type(r)
        assert r2 == r
        assert repr(r2) == repr(r)


def test_subclasses():
    for cls in (NumericRange, DateRange, DateTimeRange, DateTimeTZRange):
        assert issubclass(cls, Range)
        assert repr(cls(1, 2)) == "%s(1, 2, '[)')" % cls.__name__


# --- built-in range types ---------------------------------------------------

def test_builtin_ranges_cast(cur):
    cur.execute("""select int4range(1, 5), int8range(null, 3),
        numrange(1.5, 2.5, '[]'), 'empty'::int4range,
        daterange('2020-01-01', '2020-02-01'),
        tsrange('2020-01-01 10:00', null),
        tstzrange('2020-01-01 10:00+02', '2020-01-02 00:00+00', '(]'),
        null::int4range""")
    r = cur.fetchone()
    assert r[0] == NumericRange(1, 5, "[)")
    assert type(r[0]) is NumericRange
    assert r[1] == NumericRange(None, 3, "()")
    assert r[2] == NumericRange(Decimal("1.5"), Decimal("2.5"), "[]")
    assert isinstance(r[2].lower, Decimal)
    assert r[3] == NumericRange(empty=True)
    assert r[4] == DateRange(datetime.date(2020, 1, 1),
                             datetime.date(2020, 2, 1))
    assert type(r[4]) is DateRange
    assert r[5] == DateTimeRange(datetime.datetime(2020, 1, 1, 10), None)
    assert type(r[5]) is DateTimeRange
    assert type(r[6]) is DateTimeTZRange
    assert r[6].lower == datetime.datetime(2020, 1, 1, 8, tzinfo=UTC)
    assert r[6].upper == datetime.datetime(2020, 1, 2, tzinfo=UTC)
    assert r[6].lower.utcoffset() is not None
    assert not r[6].lower_inc and r[6].upper_inc
    assert r[7] is None


def test_builtin_range_arrays(cur):
    cur.execute("select array[int4range(1, 2), 'empty', null], "
                "array[daterange('2020-01-01', null)]")
    r = cur.fetchone()
    assert r[0] == [NumericRange(1, 2), NumericRange(empty=True), None]
    assert r[1] == [DateRange(datetime.date(2020, 1, 1), None)]


def test_numeric_range_adapt(cur):
    assert cur.mogrify("%s", (NumericRange(1, 5),)) == b"'[1,5)'"
    assert cur.mogrify("%s", (NumericRange(empty=True),)) == b"'empty'"
    assert cur.mogrify("%s", (NumericRange(None, 3, "(]"),)) == b"'(,3]'"
    assert cur.mogrify("%s", (NumericRange(Decimal("1.5"), 2.5),)) == \
        b"'[1.5,2.5)'"


@pytest.mark.parametrize("r, pgtype", [
    (NumericRange(1, 5), "int4range"),
    (NumericRange(-5, 10 ** 12), "int8range"),
    (NumericRange(Decimal("-1.25"), None), "numrange"),
    (NumericRange(empty=True), "int4range"),
    (NumericRange(None, None, "()"), "numrange"),
    (DateRange(datetime.date(2020, 1, 1), datetime.date(2021, 1, 1)),
     "daterange"),
    (DateRange(empty=True), "daterange"),
    (DateTimeRange(datetime.datetime(2020, 1, 1, 10, 30), None, "()"),
     "tsrange"),
    (DateTimeTZRange(datetime.datetime(2020, 1, 1, tzinfo=UTC),
                     datetime.datetime(2020, 6, 1, tzinfo=UTC), "[]"),
     "tstzrange"),
])
def test_builtin_roundtrip(cur, r, pgtype):
    cur.execute("select %%s::%s" % pgtype, (r,))
    assert cur.fetchone()[0] == r


def test_date_range_sql(cur):
    assert cur.mogrify("%s", (DateRange(datetime.date(2020, 1, 1), None),)) \
        == b"daterange('2020-01-01'::date, NULL, '[)')"
    assert cur.mogrify("%s", (DateTimeTZRange(empty=True),)) == \
        b"'empty'::tstzrange"


def test_range_operators_in_queries(cur):
    cur.execute("create temp table tr (id int, during daterange)")
    cur.execute("insert into tr values (1, %s), (2, %s)", (
        DateRange(datetime.date(2020, 1, 1), datetime.date(2020, 2, 1)),
        DateRange(datetime.date(2020, 3, 1), None)))
    cur.execute("select id from tr where during @> %s::date order by id",
                (datetime.date(2020, 1, 15),))
    assert cur.fetchall() == [(1,)]
    cur.execute("select id from tr where during && %s order by id",
                (DateRange(datetime.date(2020, 1, 20), None),))
    assert cur.fetchall() == [(1,), (2,)]


def test_range_arrays_adapt(cur):
    cur.execute("select %s::int4range[]",
                ([NumericRange(1, 2), NumericRange(empty=True)],))
    assert cur.fetchone()[0] == [NumericRange(1, 2), NumericRange(empty=True)]


def test_plain_range_not_adaptable(cur):
    with pytest.raises(psycopg2.ProgrammingError, match="can't adapt"):
        cur.execute("select %s", (Range(1, 2),))


def test_ranges_registered_at_import(dsn):
    # the built-in ranges work without importing psycopg2.extras
    code = """if 1:
        import sys, psycopg2
        assert "psycopg2.extras" not in sys.modules
        conn = psycopg2.connect(sys.argv[1])
        cur = conn.cursor()
        cur.execute("select int4range(1, 2)")
        r = cur.fetchone()[0]
        print(type(r).__module__, type(r).__name__, r.lower, r.upper)
    """
    out = subprocess.run(
        [sys.executable, "-c", code, dsn], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=dict(os.environ), check=True)
    assert out.stdout.decode().split() == [
        "psycopg2._range", "NumericRange", "1", "2"]


# --- register_range ---------------------------------------------------------

@pytest.fixture(scope="module")
def range_types(dsn):
    c = psycopg2.connect(dsn)
    c.autocommit = True
    cur = c.cursor()
    cur.execute("""
        drop schema if exists h_rng cascade;
        drop type if exists public.h_floatrange cascade;
        create schema h_rng;
        create type public.h_floatrange as range (subtype = float8);
        create type h_rng.textrange as range (subtype = text);
        create type h_rng.h_hidden as range (subtype = int4);
    """)
    yield
    cur.execute("drop schema h_rng cascade; drop type public.h_floatrange")
    c.close()


@pytest.fixture
def rcur(conn, range_types):
    return conn.cursor()


def test_register_range(conn, rcur):
    caster = register_range("h_floatrange", "FloatRange", conn)
    assert isinstance(caster, RangeCaster)
    assert issubclass(caster.range, Range)
    assert caster.range.__name__ == "FloatRange"
    assert issubclass(caster.adapter, RangeAdapter)
    assert caster.adapter.name == "h_floatrange"
    assert caster.subtype_oid == 701
    rcur.execute("select 'h_floatrange'::regtype::oid")
    assert caster.typecaster.values == (rcur.fetchone()[0],)
    conn.rollback()

    FloatRange = caster.range
    rcur.execute("select '[1.5,2.5)'::h_floatrange, "
                 "array['(,3]'::h_floatrange, 'empty'], null::h_floatrange")
    r = rcur.fetchone()
    assert r[0] == FloatRange(1.5, 2.5, "[)")
    assert type(r[0]) is FloatRange
    assert r[1] == [FloatRange(None, 3.0, "(]"), FloatRange(empty=True)]
    assert r[2] is None

    assert rcur.mogrify("%s", (FloatRange(1.0, 2.0),)) == \
        b"h_floatrange(1.0, 2.0, '[)')"
    rcur.execute("select %s", (FloatRange(-1.0, None, "()"),))
    assert rcur.fetchone()[0] == FloatRange(-1.0, None, "()")
    rcur.execute("select %s", (FloatRange(empty=True),))
    assert rcur.fetchone()[0] == FloatRange(empty=True)


def test_register_range_existing_class(conn, rcur):
    class MyRange(Range):
        pass

    caster = register_range("h_floatrange", MyRange, conn)
    assert caster.range is MyRange
    rcur.execute("select %s", (MyRange(1.0, 2.0, "[]"),))
    assert rcur.fetchone()[0] == MyRange(1.0, 2.0, "[]")


def test_register_range_text_quoting(conn, rcur):
    caster = register_range("h_rng.textrange", "TextRange", conn)
    assert caster.adapter.name == "h_rng.textrange"
    TextRange = caster.range
    rcur.execute("""select h_rng.textrange('a"b', 'z\\x', '[]'),
        h_rng.textrange('', 'a b', '()'), h_rng.textrange(null, ',')""")
    assert rcur.fetchone() == (
        TextRange('a"b', "z\\x", "[]"), TextRange("", "a b", "()"),
        TextRange(None, ",", "()"))
    for r in [TextRange("a,b", "c)d", "[]"), TextRange('"', "\\\\"),
              TextRange("(", "[ ]", "()"), TextRange("", None)]:
        rcur.execute("select %s", (r,))
        assert rcur.fetchone()[0] == r


def test_register_range_search_path(conn, rcur):
    with pytest.raises(psycopg2.ProgrammingError,
                       match="PostgreSQL range 'h_hidden' not found"):
        register_range("h_hidden", "Hidden", conn)
    rcur.execute("set search_path to h_rng, public")
    caster = register_range("h_hidden", "Hidden", conn)
    rcur.execute("select int4range(1, 3)::text::h_hidden")
    assert rcur.fetchone()[0] == caster.range(1, 3)


def test_register_range_not_found(conn, range_types):
    with pytest.raises(psycopg2.ProgrammingError,
                       match="PostgreSQL range 'h_nope' not found"):
        register_range("h_nope", "Nope", conn)
    with pytest.raises(psycopg2.ProgrammingError, match="not found"):
        register_range("h_rng.h_nope", "Nope", conn)
    # a type that is not a range
    with pytest.raises(psycopg2.ProgrammingError, match="not found"):
        register_range("int4", "Nope", conn)
    assert conn.info.transaction_status == ext.TRANSACTION_STATUS_IDLE


def test_register_range_bad_classes(conn, range_types):
    with pytest.raises(TypeError, match="pyrange must be"):
        register_range("h_floatrange", 1, conn)
    with pytest.raises(TypeError, match="pyrange must be"):
        register_range("h_floatrange", Range, conn)
    with pytest.raises(TypeError, match="pyrange must be"):
        register_range("h_floatrange", int, conn)


def test_register_range_transaction_state(conn, rcur):
    register_range("h_floatrange", "F", conn)
    assert conn.info.transaction_status == ext.TRANSACTION_STATUS_IDLE
    rcur.execute("select 1")
    register_range("h_floatrange", "F", conn)
    assert conn.info.transaction_status == ext.TRANSACTION_STATUS_INTRANS
    conn.rollback()


def test_register_range_scope(conn, dsn, range_types):
    register_range("h_floatrange", "F", conn)
    c2 = psycopg2.connect(dsn)
    try:
        cur2 = c2.cursor()
        cur2.execute("select '[1,2)'::h_floatrange")
        assert cur2.fetchone()[0] == "[1,2)"
    finally:
        c2.close()


def test_register_range_cursor_scope(conn, rcur):
    caster = register_range("h_floatrange", "F", rcur)
    rcur.execute("select '[1,2)'::h_floatrange")
    assert rcur.fetchone()[0] == caster.range(1.0, 2.0)
    other = conn.cursor()
    other.execute("select '[1,2)'::h_floatrange")
    assert other.fetchone()[0] == "[1,2)"


def test_register_range_globally(conn, dsn, range_types):
    caster = register_range("h_floatrange", "F", conn, globally=True)
    c2 = psycopg2.connect(dsn)
    try:
        cur2 = c2.cursor()
        cur2.execute("select '[1,2)'::h_floatrange")
        assert cur2.fetchone()[0] == caster.range(1.0, 2.0)
    finally:
        c2.close()


# --- RangeCaster and RangeAdapter -------------------------------------------

def test_range_caster_manual():
    caster = RangeCaster("myrange", "MyRange", oid=1, subtype_oid=2,
                         array_oid=3)
    assert caster.range.__name__ == "MyRange"
    assert caster.adapter.name == "myrange"
    assert caster.typecaster.values == (1,)
    assert caster.array_typecaster.values == (3,)
    assert RangeCaster("x", "X", 1, 2).array_typecaster is None


def test_range_caster_parse():
    caster = RangeCaster("x", "X", 1, 2)
    X = caster.range
    assert caster.parse(None) is None
    assert caster.parse("empty") == X(empty=True)
    assert caster.parse("[1,2)") == X("1", "2", "[)")
    assert caster.parse("(,)") == X(None, None, "()")
    assert caster.parse('["a,b","c""d"]') == X("a,b", 'c"d', "[]")
    assert caster.parse('("\\\\x","")') == X("\\x", "", "()")
    with pytest.raises(psycopg2.InterfaceError, match="failed to parse"):
        caster.parse("junk")
    with pytest.raises(psycopg2.InterfaceError):
        caster.parse("[1,2")


def test_range_caster_bad_args():
    with pytest.raises(TypeError, match="pgrange must be"):
        RangeCaster(1, "X", 1, 2)
    with pytest.raises(TypeError, match="pgrange must be"):
        RangeCaster(RangeAdapter, "X", 1, 2)
    with pytest.raises(TypeError, match="pyrange must be"):
        RangeCaster("x", Range, 1, 2)


def test_range_adapter_needs_name():
    with pytest.raises(NotImplementedError):
        RangeAdapter(Range(1, 2)).getquoted()


def test_range_adapter_subclass(cur):
    class Int4Adapter(RangeAdapter):
        name = "int4range"

    a = Int4Adapter(NumericRange(1, 10, "(]"))
    a.prepare(cur.connection)
    assert a.getquoted() == b"int4range(1, 10, '(]')"
    cur.execute("select " + a.getquoted().decode())
    assert cur.fetchone()[0] == NumericRange(2, 11, "[)")
