"""Adaptation of Python objects to SQL: adapt(), the adapter classes, and
query parameters of every builtin type sent to a real server.

The expected bytes of the mogrify tests are what psycopg2 2.9 produces for
the same values and connection settings.
"""

import enum
import gc
import tracemalloc
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

import psycopg2
from psycopg2 import _psycopg
from psycopg2 import extensions as ext
from psycopg2.extensions import (
    AsIs, Binary, ISQLQuote, QuotedString, adapt, register_adapter)

TZ2 = timezone(timedelta(hours=2))


@pytest.fixture
def registry():
    """The adapters registry, restored after the test."""
    saved = dict(ext.adapters)
    yield ext.adapters
    ext.adapters.clear()
    ext.adapters.update(saved)


@pytest.fixture
def stdoff_conn(dsn):
    """A connection with standard_conforming_strings off from the start."""
    c = psycopg2.connect(dsn + " options='-c standard_conforming_strings=off'")
    yield c
    c.close()


def mogrify(conn, value):
    return conn.cursor().mogrify("%s", (value,))


def select_one(conn, query, args=None):
    cur = conn.cursor()
    cur.execute(query, args)
    return cur.fetchone()[0]


# ---------------------------------------------------------------------------
# mogrify: exact bytes

MOGRIFY_CASES = [
    (None, b"NULL"),
    (True, b"true"),
    (False, b"false"),
    (0, b"0"),
    (42, b"42"),
    (-42, b" -42"),
    (10 ** 30, b"1000000000000000000000000000000"),
    (-10 ** 30, b" -1000000000000000000000000000000"),
    (2 ** 63, b"9223372036854775808"),
    (-2 ** 63 - 1, b" -9223372036854775809"),
    (1.5, b"1.5"),
    (-1.5, b" -1.5"),
    (0.1, b"0.1"),
    (1e100, b"1e+100"),
    (1e-07, b"1e-07"),
    (-0.0, b" -0.0"),
    (float("nan"), b"'NaN'::float"),
    (float("inf"), b"'Infinity'::float"),
    (float("-inf"), b"'-Infinity'::float"),
    (Decimal("1.10"), b"1.10"),
    (Decimal("-1.5"), b" -1.5"),
    (Decimal("1E+10"), b"1E+10"),
    (Decimal("NaN"), b"'NaN'::numeric"),
    (Decimal("Infinity"), b"'NaN'::numeric"),
    (Decimal("-Infinity"), b"'NaN'::numeric"),
    ("abc", b"'abc'"),
    ("", b"''"),
    ("a'b", b"'a''b'"),
    ("a\\b", b"'a\\b'"),
    ("a\\'b", b"'a\\''b'"),
    ("caf\u00e9", b"'caf\xc3\xa9'"),
    ("\U0001F600", b"'\xf0\x9f\x98\x80'"),
    ("\u20ac\u4e2d", b"'\xe2\x82\xac\xe4\xb8\xad'"),
    (b"", b"'\\x'::bytea"),
    (b"abc", b"'\\x616263'::bytea"),
    (b"a'\\\x00\xff", b"'\\x61275c00ff'::bytea"),
    (bytearray(b"xy"), b"'\\x7879'::bytea"),
    (memoryview(b"mv"), b"'\\x6d76'::bytea"),
    ([], b"'{}'"),
    ([1, 2], b"ARRAY[1,2]"),
    ([[1, 2], [3, 4]], b"ARRAY[ARRAY[1,2],ARRAY[3,4]]"),
    ([None, 1], b"ARRAY[NULL,1]"),
    (["a", None], b"ARRAY['a',NULL]"),
    ([None], b"'{NULL}'"),
    ([None, [None]], b"'{NULL,{NULL}}'"),
    ([[None], [1]], b"ARRAY['{NULL}',ARRAY[1]]"),
    ([[]], b"ARRAY[ARRAY[]]"),
    ([1.5, -2], b"ARRAY[1.5, -2]"),
    (["a'b", "c\\d"], b"ARRAY['a''b','c\\d']"),
    ([b"x"], b"ARRAY['\\x78'::bytea]"),
    ([date(2020, 1, 1)], b"ARRAY['2020-01-01'::date]"),
    ((1, 2), b"(1, 2)"),
    (("a",), b"('a')"),
    ((1, "b", None), b"(1, 'b', NULL)"),
    ((), b"()"),
    (date(2020, 1, 2), b"'2020-01-02'::date"),
    (date(1, 1, 1), b"'0001-01-01'::date"),
    (date(9999, 12, 31), b"'9999-12-31'::date"),
    (time(10, 20, 30), b"'10:20:30'::time"),
    (time(10, 20, 30, 1), b"'10:20:30.000001'::time"),
    (time(10, 20, 30, tzinfo=TZ2), b"'10:20:30+02:00'::timetz"),
    (datetime(2020, 1, 2, 10, 20, 30), b"'2020-01-02T10:20:30'::timestamp"),
    (datetime(2020, 1, 2, 10, 20, 30, 5),
     b"'2020-01-02T10:20:30.000005'::timestamp"),
    (datetime(2020, 1, 2, 10, 20, 30, tzinfo=TZ2),
     b"'2020-01-02T10:20:30+02:00'::timestamptz"),
    (datetime(2020, 1, 2, 10, 20, 30,
              tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
     b"'2020-01-02T10:20:30-05:30'::timestamptz"),
    (datetime(2020, 1, 2, 10, 20, 30,
              tzinfo=timezone(timedelta(seconds=3601))),
     b"'2020-01-02T10:20:30+01:00:01'::timestamptz"),
    (datetime(999, 1, 1, 1, 1, 1, 1),
     b"'0999-01-01T01:01:01.000001'::timestamp"),
    (timedelta(0), b"'0 days 0.000000 seconds'::interval"),
    (timedelta(days=1, seconds=3600),
     b"'1 days 3600.000000 seconds'::interval"),
    (timedelta(days=-1), b"'-1 days 0.000000 seconds'::interval"),
    (timedelta(microseconds=1), b"'0 days 0.000001 seconds'::interval"),
    (timedelta(seconds=-0.5), b"'-1 days 86399.500000 seconds'::interval"),
    (timedelta(days=3, seconds=5, microseconds=123456),
     b"'3 days 5.123456 seconds'::interval"),
]


@pytest.mark.parametrize("value, expected", MOGRIFY_CASES)
def test_mogrify(conn, value, expected):
    assert mogrify(conn, value) == expected


@pytest.mark.parametrize("value, expected", [
    ("abc", b"E'abc'"),
    ("a'b", b"E'a''b'"),
    ("a\\b", b"E'a\\\\b'"),
    (b"a\\b", b"E'\\\\x615c62'::bytea"),
    (["a\\b"], b"ARRAY[E'a\\\\b']"),
])
def test_mogrify_no_standard_conforming_strings(stdoff_conn, value, expected):
    assert mogrify(stdoff_conn, value) == expected


def test_mogrify_many_params(conn):
    cur = conn.cursor()
    q = cur.mogrify("insert into t values (%s, %s, %s, %s, %s)",
                    (1, "x", None, 2.5, date(2020, 1, 1)))
    assert q == (b"insert into t values "
                 b"(1, 'x', NULL, 2.5, '2020-01-01'::date)")
    q = cur.mogrify("%(a)s %(b)s %(a)s", {"a": -1, "b": [1, None]})
    assert q == b" -1 ARRAY[1,NULL]  -1"


# ---------------------------------------------------------------------------
# adapt(...).getquoted() without a connection

STANDALONE_CASES = [
    (None, b"NULL"),
    (True, b"true"),
    (False, b"false"),
    (42, b"42"),
    (-42, b" -42"),
    (10 ** 30, b"1000000000000000000000000000000"),
    (1.5, b"1.5"),
    (-1.5, b" -1.5"),
    (float("nan"), b"'NaN'::float"),
    (float("-inf"), b"'-Infinity'::float"),
    (Decimal("1.10"), b"1.10"),
    (Decimal("-1.5"), b" -1.5"),
    (Decimal("Infinity"), b"'NaN'::numeric"),
    ("abc", b"'abc'"),
    ("", b"''"),
    ("a'b", b"'a''b'"),
    (b"", b"''::bytea"),
    (b"abc", b"'abc'::bytea"),
    (bytearray(b"xy"), b"'xy'::bytea"),
    (memoryview(b"mv"), b"'mv'::bytea"),
    ([], b"'{}'"),
    ([1, 2], b"ARRAY[1,2]"),
    ([[1, 2], [3, 4]], b"ARRAY[ARRAY[1,2],ARRAY[3,4]]"),
    ([None], b"'{NULL}'"),
    ([[None], [1]], b"ARRAY['{NULL}',ARRAY[1]]"),
    ([1.5, -2], b"ARRAY[1.5, -2]"),
    ([b"x"], b"ARRAY['x'::bytea]"),
    ((1, 2), b"(1, 2)"),
    (("a",), b"('a')"),
    ((), b"()"),
    (date(2020, 1, 2), b"'2020-01-02'::date"),
    (time(10, 20, 30, 1), b"'10:20:30.000001'::time"),
    (time(10, 20, 30, tzinfo=TZ2), b"'10:20:30+02:00'::timetz"),
    (datetime(2020, 1, 2, 10, 20, 30), b"'2020-01-02T10:20:30'::timestamp"),
    (datetime(2020, 1, 2, 10, 20, 30, tzinfo=TZ2),
     b"'2020-01-02T10:20:30+02:00'::timestamptz"),
    (timedelta(days=1, seconds=3600),
     b"'1 days 3600.000000 seconds'::interval"),
]


@pytest.mark.parametrize("value, expected", STANDALONE_CASES)
def test_adapt_getquoted(value, expected):
    assert adapt(value).getquoted() == expected


@pytest.mark.parametrize("value, cls", [
    (None, ext.NoneAdapter), (True, ext.Boolean), (1, ext.Int),
    (1.0, ext.Float), (Decimal(1), _psycopg.Decimal), ("x", QuotedString),
    (b"x", Binary), (bytearray(b"x"), Binary), (memoryview(b"x"), Binary),
    ([1], _psycopg.List), ((1,), ext.SQL_IN),
])
def test_adapt_class(value, cls):
    assert type(adapt(value)) is cls


def test_standalone_string_encoding_is_latin1():
    q = QuotedString("x")
    assert q.encoding == "latin1"
    with pytest.raises(UnicodeEncodeError):
        adapt("\U0001F600").getquoted()


# ---------------------------------------------------------------------------
# round trip through the server

ROUNDTRIP_CASES = [
    (True, "true"),
    (False, "false"),
    (0, "0"),
    (-42, "-42"),
    (2 ** 63 - 1, "9223372036854775807::int8"),
    (10 ** 30, "1000000000000000000000000000000::numeric"),
    (-10 ** 30, "-1000000000000000000000000000000::numeric"),
    (1.5, "1.5::float8"),
    (-0.1, "-0.1::float8"),
    (1e100, "1e100::float8"),
    (float("nan"), "'NaN'::float8"),
    (float("inf"), "'Infinity'::float8"),
    (float("-inf"), "'-Infinity'::float8"),
    (Decimal("1.10"), "1.10::numeric"),
    (Decimal("-123456789012345678901234567890.123"),
     "-123456789012345678901234567890.123::numeric"),
    (Decimal("NaN"), "'NaN'::numeric"),
    ("abc", "'abc'"),
    ("", "''"),
    ("a'b''c", "'a''b''''c'"),
    ("a\\b\\\\", "E'a\\\\b\\\\\\\\'"),
    ("caf\u00e9 \u20ac \U0001F600", "U&'caf\\00e9 \\20ac \\+01F600'"),
    (b"", "''::bytea"),
    (b"\x00\x01\xff'\\", "'\\x0001ff275c'::bytea"),
    (bytearray(b"\x00ab"), "'\\x006162'::bytea"),
    (memoryview(b"\xfe\xff"), "'\\xfeff'::bytea"),
    ([1, 2, 3], "'{1,2,3}'::int[]"),
    ([[1, 2], [3, 4]], "'{{1,2},{3,4}}'::int[]"),
    ([1, None], "'{1,NULL}'::int[]"),
    (["a", "b'c", None], "'{a,b''c,NULL}'::text[]"),
    ([1.5, -2.5], "'{1.5,-2.5}'::numeric[]"),
    ([date(2020, 1, 1)], "'{2020-01-01}'::date[]"),
    (date(2020, 1, 2), "'2020-01-02'::date"),
    (date(1, 1, 1), "'0001-01-01'::date"),
    (date(9999, 12, 31), "'9999-12-31'::date"),
    (time(10, 20, 30, 123456), "'10:20:30.123456'::time"),
    (time(10, 20, 30, tzinfo=TZ2), "'10:20:30+02'::timetz"),
    (datetime(2020, 1, 2, 10, 20, 30), "'2020-01-02 10:20:30'::timestamp"),
    (datetime(2020, 1, 2, 10, 20, 30, 5),
     "'2020-01-02 10:20:30.000005'::timestamp"),
    (datetime(2020, 1, 2, 10, 20, 30, tzinfo=TZ2),
     "'2020-01-02 08:20:30+00'::timestamptz"),
    (timedelta(0), "'0'::interval"),
    (timedelta(days=1, seconds=3600), "'1 day 1 hour'::interval"),
    (timedelta(days=-1, microseconds=1),
     "'-1 day 0.000001 seconds'::interval"),
    (timedelta(days=3, seconds=5, microseconds=123456),
     "'3 days 5.123456 seconds'::interval"),
]


@pytest.mark.parametrize("value, literal", ROUNDTRIP_CASES)
def test_equal_in_sql(conn, value, literal):
    assert select_one(conn, "select %%s = %s" % literal, (value,)) is True


def test_null(conn):
    assert select_one(conn, "select %s is null", (None,)) is True
    assert select_one(conn, "select %s", (None,)) is None


@pytest.mark.parametrize("value", [
    True, False, 0, -42, 2 ** 63 - 1, 10 ** 30, Decimal("1.10"), Decimal("-1E+10"), "abc", "", "a'b\\c",
    "caf\u00e9 \U0001F600", [1, 2, 3], [[1, 2], [3, 4]], [1, None],
    ["a", None, "b'c"], date(2020, 1, 2), time(10, 20, 30, 123456),
    datetime(2020, 1, 2, 10, 20, 30, 5), timedelta(days=3, seconds=5),
    timedelta(days=-1, microseconds=1),
])
def test_read_back(conn, value):
    assert select_one(conn, "select %s", (value,)) == value


def test_read_back_binary(conn):
    data = bytes(range(256))
    for value in (data, bytearray(data), memoryview(data)):
        assert bytes(select_one(conn, "select %s", (value,))) == data


def test_read_back_float(conn):
    # a float literal without cast is a numeric for the server
    assert select_one(conn, "select %s", (1.5,)) == Decimal("1.5")
    assert select_one(conn, "select %s::float8", (-0.1,)) == -0.1
    assert select_one(conn, "select %s::float8", (1e100,)) == 1e100


def test_read_back_float_special(conn):
    assert select_one(conn, "select %s", (float("inf"),)) == float("inf")
    assert select_one(conn, "select %s", (float("-inf"),)) == float("-inf")
    nan = select_one(conn, "select %s", (float("nan"),))
    assert nan != nan


def test_read_back_datetime_tz(conn):
    value = datetime(2020, 1, 2, 10, 20, 30, tzinfo=TZ2)
    got = select_one(conn, "select %s", (value,))
    assert got == value and got.utcoffset() is not None


def test_negative_after_minus(conn):
    # without the leading space `1 - -1` would read `1 --1`: a comment
    assert select_one(conn, "select 1 -%s", (-1,)) == 2
    assert select_one(conn, "select 1 -%s", (-1.5,)) == 2.5
    assert select_one(conn, "select 1 -%s", (Decimal("-1"),)) == 2


def test_array_all_null_takes_context_type(conn):
    assert select_one(conn, "select %s::int[]", ([None, None],)) == [None,
                                                                      None]
    assert select_one(conn, "select %s::int[]", ([],)) == []
    assert select_one(
        conn, "select array_length(%s::int[], 1)", ([None] * 3,)) == 3


def test_tuple_in(conn):
    assert select_one(conn, "select 2 in %s", ((1, 2, 3),)) is True
    assert select_one(conn, "select 'b' in %s", (("a", "c"),)) is False
    assert select_one(conn, "select %s", ((1, "a"),)) == "(1,a)"


def test_empty_tuple_in_is_a_syntax_error(conn):
    cur = conn.cursor()
    with pytest.raises(psycopg2.ProgrammingError):
        cur.execute("select 1 in %s", ((),))
    conn.rollback()
    assert select_one(conn, "select 1") == 1


# ---------------------------------------------------------------------------
# strings

def test_backslashes_and_quotes(conn):
    for s in ["\\", "\\\\", "'", "''", "\\'", "'\\", "a\\nb", "\\x41"]:
        assert select_one(conn, "select %s", (s,)) == s
        assert select_one(conn, "select length(%s)", (s,)) == len(s)


def test_backslashes_no_standard_conforming_strings(stdoff_conn):
    cur = stdoff_conn.cursor()
    for s in ["\\", "a\\b'c", "\\x41"]:
        cur.execute("select %s", (s,))
        assert cur.fetchone()[0] == s
    cur.execute("select %s", (b"\\\x00'",))
    assert bytes(cur.fetchone()[0]) == b"\\\x00'"


def test_standard_conforming_strings_changed_in_session(conn):
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("set standard_conforming_strings = off")
    assert cur.mogrify("%s", ("a\\b",)) == b"'a\\\\b'"
    assert cur.mogrify("%s", (b"a",)) == b"'\\\\x61'::bytea"
    cur.execute("set standard_conforming_strings = on")
    assert cur.mogrify("%s", ("a\\b",)) == b"'a\\b'"


def test_four_byte_unicode(conn):
    s = "\U0001F600\U00010348 \u00e9"
    assert select_one(conn, "select %s", (s,)) == s
    assert select_one(conn, "select length(%s)", (s,)) == 4


def test_long_string(conn):
    s = ("x'\\y" * 50000) + "\u20ac"
    assert select_one(conn, "select %s", (s,)) == s


def test_nul_in_string_raises_value_error(conn):
    cur = conn.cursor()
    with pytest.raises(ValueError) as excinfo:
        cur.execute("select %s", ("a\x00b",))
    assert "NUL (0x00)" in str(excinfo.value)
    with pytest.raises(ValueError):
        cur.mogrify("%s", (["ok", "\x00"],))
    with pytest.raises(ValueError):
        QuotedString(b"a\x00").getquoted()
    # the connection is still usable, and NUL is fine in binary data
    cur.execute("select %s", (b"a\x00b",))
    assert bytes(cur.fetchone()[0]) == b"a\x00b"


def test_unencodable_surrogate(conn):
    with pytest.raises(UnicodeEncodeError):
        mogrify(conn, "\udc80")
    assert select_one(conn, "select %s", ("ok",)) == "ok"


def test_latin1_client_encoding(conn):
    conn.set_client_encoding("LATIN1")
    assert mogrify(conn, "caf\u00e9") == b"'caf\xe9'"
    assert select_one(conn, "select %s", ("caf\u00e9",)) == "caf\u00e9"
    with pytest.raises(UnicodeEncodeError):
        mogrify(conn, "\U0001F600")
    assert select_one(conn, "select %s", (["\u00e9"],)) == ["\u00e9"]
    assert mogrify(conn, ("\u00e9",)) == b"('\xe9')"


def test_quoted_string_prepare(conn):
    q = QuotedString("caf\u00e9'")
    assert q.encoding == "latin1"
    q.prepare(conn)
    assert q.encoding == ext.encodings[conn.encoding]
    assert q.getquoted() == b"'caf\xc3\xa9'''"
    assert q.buffer == b"'caf\xc3\xa9'''"
    assert q.adapted == "caf\u00e9'"


def test_quoted_string_encoding_attribute():
    q = QuotedString("\u00e9")
    q.encoding = "utf8"
    assert q.encoding == "utf8"
    assert q.getquoted() == b"'\xc3\xa9'"
    q = QuotedString("\u00e9")
    q.encoding = "ascii"
    with pytest.raises(UnicodeEncodeError):
        q.getquoted()
    with pytest.raises(TypeError):
        q.encoding = 5


def test_quoted_string_non_string():
    with pytest.raises(TypeError):
        QuotedString(1).getquoted()
    assert QuotedString(b"ab").getquoted() == b"'ab'"


# ---------------------------------------------------------------------------
# binary

def test_binary_prepare(conn):
    b = Binary(b"a\\\x00'")
    b.prepare(conn)
    assert b.getquoted() == b"'\\x615c0027'::bytea"
    assert b.adapted == b"a\\\x00'"
    assert b.buffer == b"'\\x615c0027'::bytea"


def test_binary_none_and_errors():
    assert Binary(None).getquoted() == b"NULL"
    with pytest.raises(TypeError, match="can't escape str to binary"):
        Binary("ab").getquoted()
    with pytest.raises(BufferError):
        Binary(memoryview(b"abcdef")[::2]).getquoted()


def test_binary_large(conn):
    data = bytes(range(256)) * 4096
    assert bytes(select_one(conn, "select %s", (data,))) == data


# ---------------------------------------------------------------------------
# adapters API

def test_asis():
    assert AsIs(None).getquoted() == b"NULL"
    assert AsIs(42).getquoted() == b"42"
    assert AsIs("now()").getquoted() == b"now()"
    assert AsIs("\u00e9").getquoted() == b"\xc3\xa9"
    assert AsIs(5).adapted == 5
    assert str(AsIs("x y")) == "x y"


def test_asis_as_parameter(conn):
    assert mogrify(conn, AsIs("now()")) == b"now()"
    assert select_one(conn, "select %s", (AsIs("1 + 1"),)) == 2


def test_number_adapters():
    assert ext.Int(1.5).getquoted() == b"1"
    assert ext.Float(1).getquoted() == b"1"
    assert ext.Boolean(0).getquoted() == b"false"
    assert ext.Boolean("x").getquoted() == b"true"
    assert str(ext.Float(-1.5)) == " -1.5"
    with pytest.raises(ValueError):
        ext.Int("x").getquoted()


def test_conform_returns_self():
    for a in [AsIs(1), QuotedString("x"), Binary(b"x"), ext.Int(1),
              ext.Float(1.0), ext.Boolean(True), _psycopg.Decimal(Decimal(1)),
              _psycopg.List([1])]:
        assert a.__conform__(ISQLQuote) is a
        assert a.__conform__(int) is None
        assert adapt(a) is a


def test_isqlquote():
    q = ISQLQuote(5)
    assert q._wrapped == 5
    assert q.getquoted() is None
    assert q.getbinary() is None
    assert q.getbuffer() is None
    with pytest.raises(TypeError):
        ISQLQuote()

    class Quoter(ISQLQuote):
        def getquoted(self):
            return b"'quoted'"

    assert Quoter(1)._wrapped == 1


def test_sql_in_and_none_adapter(conn):
    s = adapt((1, "a"))
    assert s.getquoted() == b"(1, 'a')"
    assert str(s) == "b\"(1, 'a')\""
    s.prepare(conn)
    assert s._conn is conn
    assert ext.NoneAdapter(None).getquoted() == b"NULL"


def test_list_adapter(conn):
    a = _psycopg.List(["a'", None])
    assert a.adapted == ["a'", None]
    a.prepare(conn)
    assert a.getquoted() == b"ARRAY['a''',NULL]"
    assert str(_psycopg.List([1])) == "ARRAY[1]"


def test_prepare_wants_a_connection():
    for a in (QuotedString("x"), Binary(b"x"), _psycopg.List([1])):
        with pytest.raises(TypeError):
            a.prepare(5)


def test_uninitialized_adapters_do_not_crash():
    for cls in (AsIs, QuotedString, Binary, ext.Int, ext.Float,
                ext.Boolean, _psycopg.Decimal):
        obj = cls.__new__(cls)
        try:
            obj.getquoted()
        except (TypeError, AttributeError, ValueError):
            pass


# ---------------------------------------------------------------------------
# date/time constructors

def test_datetime_adapters():
    d = ext.DateFromPy(date(2020, 1, 2))
    assert d.getquoted() == b"'2020-01-02'::date"
    assert d.adapted == date(2020, 1, 2)
    assert d.type == 1
    assert str(d) == "'2020-01-02'::date"
    assert ext.TimeFromPy(time(1, 2)).type == 0
    assert ext.TimestampFromPy(datetime(2020, 1, 1)).type == 2
    assert ext.IntervalFromPy(timedelta(1)).type == 3
    with pytest.raises(TypeError):
        ext.DateFromPy(1)
    with pytest.raises(TypeError):
        ext.TimestampFromPy(date(2020, 1, 2))


def test_dbapi_constructors(conn):
    assert psycopg2.Date(2020, 1, 2).getquoted() == b"'2020-01-02'::date"
    assert psycopg2.Time(10, 20, 30.5).getquoted() == \
        b"'10:20:30.500000'::time"
    assert psycopg2.Time(10, 20, 30, timezone.utc).getquoted() == \
        b"'10:20:30+00:00'::timetz"
    assert psycopg2.Timestamp(2020, 1, 2).getquoted() == \
        b"'2020-01-02T00:00:00'::timestamp"
    assert psycopg2.Timestamp(2020, 1, 2, 3, 4, 5.25).getquoted() == \
        b"'2020-01-02T03:04:05.250000'::timestamp"
    assert psycopg2.Timestamp(2020, 1, 2, 3, 4, 5, timezone.utc).getquoted() \
        == b"'2020-01-02T03:04:05+00:00'::timestamptz"
    with pytest.raises(ValueError):
        psycopg2.Date(2020, 13, 1)
    cur = conn.cursor()
    cur.execute("select %s, %s, %s",
                (psycopg2.Date(2020, 1, 2), psycopg2.Time(1, 2, 3),
                 psycopg2.Timestamp(2020, 1, 2, 3, 4, 5)))
    assert cur.fetchone() == (date(2020, 1, 2), time(1, 2, 3),
                              datetime(2020, 1, 2, 3, 4, 5))


def test_dbapi_ticks_constructors():
    ticks = 1600000000.25
    expected = datetime.fromtimestamp(ticks)
    assert psycopg2.DateFromTicks(ticks).adapted == expected.date()
    assert psycopg2.TimeFromTicks(ticks).adapted == expected.time()
    ts = psycopg2.TimestampFromTicks(ticks).adapted
    assert ts == expected.astimezone()
    assert ts.tzinfo is not None
    with pytest.raises(psycopg2.InterfaceError):
        psycopg2.TimestampFromTicks(1e20)
    with pytest.raises(TypeError):
        psycopg2.DateFromTicks("x")


def test_binary_constructor_is_the_adapter():
    assert psycopg2.Binary is Binary


# ---------------------------------------------------------------------------
# lookup: subclasses, __conform__, registered adapters

class MyInt(int):
    def __str__(self):
        return "not used"


class MyStr(str):
    pass


class Color(enum.IntEnum):
    RED = 5


def test_subclasses_of_builtins(conn):
    assert mogrify(conn, MyInt(5)) == b"5"
    assert mogrify(conn, Color.RED) == b"5"
    assert mogrify(conn, MyStr("a'b")) == b"'a''b'"
    assert select_one(conn, "select %s", (MyStr("x"),)) == "x"

    class MyList(list):
        pass

    assert mogrify(conn, MyList([1, None])) == b"ARRAY[1,NULL]"

    class MyFloat(float):
        def __repr__(self):
            return "2.5"

    assert mogrify(conn, MyFloat(1.0)) == b"2.5"


def test_conform(conn):
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

        def __conform__(self, proto):
            if proto is ISQLQuote:
                return AsIs("point(%s, %s)" % (self.x, self.y))

    assert mogrify(conn, Point(1, 2)) == b"point(1, 2)"
    assert select_one(conn, "select %s ~= point(1, 2)", (Point(1, 2),))


def test_conform_wins_over_base_adapter(registry):
    class Base:
        pass

    class Derived(Base):
        def __conform__(self, proto):
            return AsIs("conform")

    register_adapter(Base, lambda obj: AsIs("base"))
    assert adapt(Derived()).getquoted() == b"conform"


def test_registered_adapter(conn, registry):
    class Money:
        def __init__(self, cents):
            self.cents = cents

    class MoneyAdapter:
        prepared = None

        def __init__(self, obj):
            self.obj = obj

        def prepare(self, conn):
            MoneyAdapter.prepared = conn

        def getquoted(self):
            return b"%d.%02d" % divmod(self.obj.cents, 100)

    class MoreMoney(Money):
        pass

    register_adapter(Money, MoneyAdapter)
    assert mogrify(conn, Money(1234)) == b"12.34"
    assert MoneyAdapter.prepared is conn
    assert mogrify(conn, MoreMoney(5)) == b"0.05"
    assert mogrify(conn, [Money(1), (Money(2),)]) == b"ARRAY[0.01,(0.02)]"
    assert select_one(conn, "select %s::numeric", (Money(250),)) == \
        Decimal("2.50")


def test_adapter_returning_str_is_encoded(conn, registry):
    class Thing:
        pass

    class ThingAdapter:
        def __init__(self, obj):
            pass

        def getquoted(self):
            return "'\u00e9'"

    register_adapter(Thing, ThingAdapter)
    assert mogrify(conn, Thing()) == b"'\xc3\xa9'"
    conn.set_client_encoding("LATIN1")
    assert mogrify(conn, Thing()) == b"'\xe9'"


def test_override_builtin_adapter(conn, registry):
    register_adapter(int, lambda obj: AsIs("'%s'::text" % obj))
    assert mogrify(conn, 5) == b"'5'::text"
    assert mogrify(conn, [5]) == b"ARRAY['5'::text]"
    assert mogrify(conn, (5,)) == b"('5'::text)"
    assert mogrify(conn, True) == b"true"
    del registry[(int, ISQLQuote)]
    with pytest.raises(psycopg2.ProgrammingError):
        mogrify(conn, 5)


def test_restored_builtin_adapter(conn, registry):
    register_adapter(str, lambda obj: AsIs("x"))
    assert mogrify(conn, "a") == b"x"
    register_adapter(str, QuotedString)
    assert mogrify(conn, "a") == b"'a'"


def test_unadaptable(conn):
    class Foo:
        pass

    cur = conn.cursor()
    with pytest.raises(psycopg2.ProgrammingError,
                       match="can't adapt type 'Foo'"):
        cur.execute("select %s", (Foo(),))
    with pytest.raises(psycopg2.ProgrammingError,
                       match="can't adapt type 'dict'"):
        cur.mogrify("select %s", ({"a": 1},))
    with pytest.raises(psycopg2.ProgrammingError,
                       match="can't adapt type 'complex'"):
        adapt(1j)
    with pytest.raises(psycopg2.ProgrammingError):
        cur.mogrify("%s", ([1, object()],))
    assert select_one(conn, "select 1") == 1


def test_adapt_protocol_hooks(registry):
    class Proto:
        @staticmethod
        def __adapt__(obj):
            return AsIs("adapted")

    class Conforming:
        def __conform__(self, proto):
            return AsIs("conformed")

    assert adapt(5, Proto).getquoted() == b"adapted"
    assert adapt(Conforming(), Proto).getquoted() == b"adapted"
    assert adapt(Conforming()).getquoted() == b"conformed"
    registry[(int, Proto)] = lambda obj: AsIs("registered")
    assert adapt(5, Proto).getquoted() == b"registered"
    with pytest.raises(psycopg2.ProgrammingError):
        adapt(5, int)


def test_conform_type_error_means_cannot_adapt():
    class Bad:
        def __conform__(self, proto):
            raise TypeError("no")

    class Worse:
        def __conform__(self, proto):
            raise KeyError("boom")

    with pytest.raises(psycopg2.ProgrammingError):
        adapt(Bad())
    with pytest.raises(KeyError):
        adapt(Worse())


def test_getquoted_must_return_bytes(conn, registry):
    class Thing:
        pass

    class BadAdapter:
        def __init__(self, obj):
            pass

        def getquoted(self):
            return 42

    register_adapter(Thing, BadAdapter)
    with pytest.raises(ValueError):
        mogrify(conn, Thing())


def test_adapters_registry_defaults():
    for t in (bool, int, float, Decimal, str, bytes, bytearray, memoryview,
              list, tuple, type(None), date, time, datetime, timedelta):
        assert (t, ISQLQuote) in ext.adapters


# ---------------------------------------------------------------------------
# memory

LEAK_VALUES = [
    None, True, 12345, -10 ** 30, 1.5, float("nan"), Decimal("1.5"),
    Decimal("NaN"), "text'\\\u00e9", b"\x00bin", bytearray(b"ba"),
    memoryview(b"mv"), [1, [None, "a"]], [None], (1, "b"),
    date(2020, 1, 2), time(1, 2, 3, tzinfo=TZ2),
    datetime(2020, 1, 2, 3, 4, 5), datetime(2020, 1, 2, tzinfo=TZ2),
    timedelta(1, 2, 3), MyInt(3), AsIs("x"),
]


def test_no_leaks(conn):
    cur = conn.cursor()

    def run(n):
        for _ in range(n):
            cur.mogrify("%s" * len(LEAK_VALUES), LEAK_VALUES)
            for v in LEAK_VALUES:
                adapt(v).getquoted()
            try:
                cur.mogrify("%s", ("\x00",))
            except ValueError:
                pass

    run(200)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        run(2000)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 100 * 1024
