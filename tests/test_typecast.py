"""Typecasting: PostgreSQL values read from a real server -> Python objects.

Every built-in type and its array, with exact values and exact result
types, the typecaster objects themselves (names, oids, comparisons) and
custom typecasters registered globally, per connection and per cursor.
"""

import datetime as dt
import decimal
import math

import pytest

import psycopg2
import psycopg2.extensions as ext
from psycopg2 import _psycopg

UTC = dt.timezone.utc


def tz(seconds):
    return dt.timezone(dt.timedelta(seconds=seconds))


def fetch(conn, sql, args=None):
    """The first column of the first row of a query."""
    cur = conn.cursor()
    cur.execute(sql, args)
    return cur.fetchone()[0]


def assert_same(got, want):
    """Equal values of the very same types (recursively for lists)."""
    assert type(got) is type(want), (got, want)
    if isinstance(want, list):
        assert len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            assert_same(g, w)
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    elif isinstance(want, decimal.Decimal) and want.is_nan():
        assert got.is_nan()
    else:
        assert got == want, (got, want)
        if isinstance(want, (dt.datetime, dt.time)):
            assert got.utcoffset() == want.utcoffset(), (got, want)


# ---------------------------------------------------------------------------
# The typecaster objects

BUILTIN_OIDS = {
    "BINARY": (17,), "BINARYARRAY": (1001,), "BOOLEAN": (16,),
    "BOOLEANARRAY": (1000,), "BYTES": (19, 18, 25, 1042, 1043),
    "BYTESARRAY": (1002, 1003, 1009, 1014, 1015), "CIDRARRAY": (651,),
    "DATE": (1082,), "DATEARRAY": (1182,), "DATETIME": (1114,),
    "DATETIMEARRAY": (1115,), "DATETIMETZ": (1184,),
    "DATETIMETZARRAY": (1185,), "DECIMAL": (1700,), "DECIMALARRAY": (1231,),
    "FLOAT": (701, 700), "FLOATARRAY": (1021, 1022), "INETARRAY": (1041,),
    "INTEGER": (23, 21), "INTEGERARRAY": (1005, 1006, 1007),
    "INTERVAL": (704, 1186), "INTERVALARRAY": (1187,),
    "LONGINTEGER": (20,), "LONGINTEGERARRAY": (1016,),
    "MACADDRARRAY": (1040,), "NUMBER": (20, 23, 21, 701, 700, 1700),
    "PYDATE": (1082,), "PYDATEARRAY": (1182,), "PYDATETIME": (1114,),
    "PYDATETIMEARRAY": (1115,), "PYDATETIMETZ": (1184,),
    "PYDATETIMETZARRAY": (1185,), "PYINTERVAL": (704, 1186),
    "PYINTERVALARRAY": (1187,), "PYTIME": (1083, 1266),
    "PYTIMEARRAY": (1183, 1270), "ROWID": (26,), "ROWIDARRAY": (1028, 1013),
    "STRING": (19, 18, 25, 1042, 1043),
    "STRINGARRAY": (1002, 1003, 1009, 1014, 1015),
    "TIME": (1083, 1266), "TIMEARRAY": (1183, 1270),
    "UNICODE": (19, 18, 25, 1042, 1043),
    "UNICODEARRAY": (1002, 1003, 1009, 1014, 1015), "UNKNOWN": (705,),
}

# oid -> name of the caster registered globally by default
DEFAULT_REGISTRY = {
    16: "BOOLEAN", 17: "BINARY", 18: "STRING", 19: "STRING",
    20: "LONGINTEGER", 21: "INTEGER", 23: "INTEGER", 25: "STRING",
    26: "ROWID", 651: "CIDRARRAY", 700: "FLOAT", 701: "FLOAT",
    704: "INTERVAL", 705: "UNKNOWN", 1000: "BOOLEANARRAY",
    1001: "BINARYARRAY", 1002: "STRINGARRAY", 1003: "STRINGARRAY",
    1005: "INTEGERARRAY", 1006: "INTEGERARRAY", 1007: "INTEGERARRAY",
    1009: "STRINGARRAY", 1013: "ROWIDARRAY", 1014: "STRINGARRAY",
    1015: "STRINGARRAY", 1016: "LONGINTEGERARRAY", 1021: "FLOATARRAY",
    1022: "FLOATARRAY", 1028: "ROWIDARRAY", 1040: "MACADDRARRAY",
    1041: "INETARRAY", 1042: "STRING", 1043: "STRING", 1082: "DATE",
    1083: "TIME", 1114: "DATETIME", 1115: "DATETIMEARRAY",
    1182: "DATEARRAY", 1183: "TIMEARRAY", 1184: "DATETIMETZ",
    1185: "DATETIMETZARRAY", 1186: "INTERVAL", 1187: "INTERVALARRAY",
    1231: "DECIMALARRAY", 1266: "TIME", 1270: "TIMEARRAY",
    1700: "DECIMAL",
}


@pytest.mark.parametrize("name", sorted(BUILTIN_OIDS))
def test_builtin_caster(name):
    caster = getattr(_psycopg, name)
    assert type(caster).__name__ == "type"
    assert caster.name == name
    assert caster.values == BUILTIN_OIDS[name]
    assert type(caster.values) is tuple


def test_default_registry():
    for oid, name in DEFAULT_REGISTRY.items():
        assert ext.string_types[oid].name == name
        assert ext.string_types[oid] is getattr(_psycopg, name)
    assert isinstance(ext.binary_types, dict)


def test_extensions_exports():
    for name in ["UNICODE", "UNICODEARRAY", "BOOLEAN", "INTEGER", "LONGINTEGER",
                 "FLOAT", "DECIMAL", "DATE", "TIME", "INTERVAL", "BYTES",
                 "PYDATE", "PYTIME", "PYDATETIME", "PYDATETIMETZ",
                 "PYINTERVAL", "BINARYARRAY", "BOOLEANARRAY", "DATEARRAY",
                 "DATETIMEARRAY", "DECIMALARRAY", "FLOATARRAY",
                 "INTEGERARRAY", "INTERVALARRAY", "LONGINTEGERARRAY",
                 "ROWIDARRAY", "STRINGARRAY", "TIMEARRAY", "BYTESARRAY",
                 "PYDATEARRAY", "PYTIMEARRAY", "PYDATETIMEARRAY",
                 "PYDATETIMETZARRAY", "PYINTERVALARRAY"]:
        assert getattr(ext, name) is getattr(_psycopg, name)
    for name in ["STRING", "BINARY", "NUMBER", "DATETIME", "ROWID"]:
        assert getattr(psycopg2, name) is getattr(_psycopg, name)


def test_dbapi_type_objects_compare():
    assert psycopg2.STRING == 25
    assert 1043 == psycopg2.STRING
    assert psycopg2.STRING != 17
    assert not (psycopg2.STRING != 25)
    assert psycopg2.NUMBER == 20 and psycopg2.NUMBER == 1700
    assert psycopg2.BINARY == 17
    assert psycopg2.DATETIME == 1114
    assert psycopg2.ROWID == 26
    # casters compare equal when they share an oid
    assert psycopg2.NUMBER == ext.INTEGER
    assert ext.INTEGER == psycopg2.NUMBER
    assert psycopg2.STRING == ext.UNICODE
    assert psycopg2.STRING != psycopg2.BINARY
    # the other operand is converted with int()
    assert psycopg2.STRING == "25"
    with pytest.raises(TypeError):
        psycopg2.STRING == None  # noqa: E711
    with pytest.raises(ValueError):
        psycopg2.STRING == "x"


def test_caster_object():
    with pytest.raises(TypeError):
        hash(psycopg2.STRING)
    assert repr(psycopg2.STRING).startswith(
        "<psycopg2._psycopg.type 'STRING' at 0x")
    with pytest.raises(AttributeError):
        psycopg2.STRING.name = "foo"
    with pytest.raises(AttributeError):
        psycopg2.STRING.values = (1,)


def test_description_type_code(conn):
    cur = conn.cursor()
    cur.execute("select 1::int4, 'a'::text, now(), 'x'::bytea, 1::oid, "
                "1.5::numeric, now()::timestamp")
    codes = [d.type_code for d in cur.description]
    assert codes[0] == psycopg2.NUMBER and codes[0] != psycopg2.STRING
    assert codes[1] == psycopg2.STRING
    assert codes[2] != psycopg2.DATETIME   # psycopg2: DATETIME is 1114 only
    assert codes[3] == psycopg2.BINARY
    assert codes[4] == psycopg2.ROWID
    assert codes[5] == psycopg2.NUMBER
    assert codes[6] == psycopg2.DATETIME


# ---------------------------------------------------------------------------
# Scalars from the server

@pytest.mark.parametrize("sql, want", [
    ("select 7::int2", 7),
    ("select '-32768'::int2", -32768),
    ("select 2147483647::int4", 2147483647),
    ("select '-2147483648'::int4", -2147483648),
    ("select 9223372036854775807::int8", 9223372036854775807),
    ("select '-9223372036854775808'::int8", -9223372036854775808),
    ("select 12345678901234::int8", 12345678901234),
    ("select 0::int8", 0),
    ("select 4294967295::oid", 4294967295),
    ("select 1.5::float8", 1.5),
    ("select 1.1::float4", 1.1),
    ("select -0.1::float8", -0.1),
    ("select 1e300::float8", 1e300),
    ("select 'Infinity'::float8", float("inf")),
    ("select '-Infinity'::float4", float("-inf")),
    ("select 'NaN'::float8", float("nan")),
    ("select 1.50::numeric", decimal.Decimal("1.50")),
    ("select -0.000001::numeric", decimal.Decimal("-0.000001")),
    ("select 123456789012345678901234567890.123456789::numeric",
     decimal.Decimal("123456789012345678901234567890.123456789")),
    ("select 'NaN'::numeric", decimal.Decimal("NaN")),
    ("select 'Infinity'::numeric", decimal.Decimal("Infinity")),
    ("select '-Infinity'::numeric", decimal.Decimal("-Infinity")),
    ("select true", True),
    ("select false", False),
    ("select 'abc'::text", "abc"),
    ("select ''::text", ""),
    ("select 'abc'::varchar(10)", "abc"),
    ("select 'ab'::char(4)", "ab  "),
    ("select 'abc'::name", "abc"),
    ("select 'a'::\"char\"", "a"),
    ("select 'àè€ 😀'::text", "àè€ 😀"),
    ("select 'x'::unknown", "x"),
])
def test_scalar(conn, sql, want):
    assert_same(fetch(conn, sql), want)


@pytest.mark.parametrize("typ", [
    "int2", "int4", "int8", "oid", "float4", "float8", "numeric", "bool",
    "text", "varchar", "bpchar", "name", "bytea", "date", "time", "timetz",
    "timestamp", "timestamptz", "interval", "inet", "uuid", "int4[]",
    "text[]", "bytea[]", "date[]", "timestamptz[]", "interval[]"])
def test_null(conn, typ):
    assert fetch(conn, "select null::%s" % typ) is None


@pytest.mark.parametrize("sql, want", [
    ("select '192.168.0.1'::inet", "192.168.0.1"),
    ("select '10.0.0.0/8'::cidr", "10.0.0.0/8"),
    ("select '08:00:2b:01:02:03'::macaddr", "08:00:2b:01:02:03"),
    ("select '00000000-0000-0000-0000-000000000001'::uuid",
     "00000000-0000-0000-0000-000000000001"),
    ("select '(1,2)'::point", "(1,2)"),
    ("select '1 2'::int2vector", "1 2"),
    ("select 'ab'::xml", "ab"),
    ("select '{00000000-0000-0000-0000-000000000001}'::uuid[]",
     "{00000000-0000-0000-0000-000000000001}"),
    ("select '{(1,2),(3,4);(5,6),(7,8)}'::box[]",
     "{(3,4),(1,2);(7,8),(5,6)}"),
])
def test_unknown_oids_are_str(conn, sql, want):
    assert_same(fetch(conn, sql), want)


def test_bytea_hex(conn):
    got = fetch(conn, "select '\\x00ff415c270a'::bytea")
    assert type(got) is memoryview
    assert bytes(got) == b"\x00\xffA\\'\n"
    got = fetch(conn, "select ''::bytea")
    assert type(got) is memoryview and bytes(got) == b""


def test_bytea_escape(conn):
    cur = conn.cursor()
    cur.execute("set bytea_output to escape")
    cur.execute("select '\\x00ff415c270a7f80'::bytea, ''::bytea")
    got, empty = cur.fetchone()
    assert type(got) is memoryview
    assert bytes(got) == b"\x00\xffA\\'\n\x7f\x80"
    assert bytes(empty) == b""


@pytest.mark.parametrize("fmt", ["hex", "escape"])
def test_bytea_all_bytes(conn, fmt):
    cur = conn.cursor()
    cur.execute("set bytea_output to %s" % fmt)
    cur.execute("select decode(%s, 'hex')", (bytes(range(256)).hex(),))
    assert bytes(cur.fetchone()[0]) == bytes(range(256))


@pytest.mark.parametrize("sql, want", [
    ("select '2020-01-02'::date", dt.date(2020, 1, 2)),
    ("select '0001-01-01'::date", dt.date(1, 1, 1)),
    ("select '9999-12-31'::date", dt.date(9999, 12, 31)),
    ("select 'infinity'::date", dt.date.max),
    ("select '-infinity'::date", dt.date.min),
    ("select '12:34:56'::time", dt.time(12, 34, 56)),
    ("select '23:59:59.999999'::time", dt.time(23, 59, 59, 999999)),
    ("select '00:00:00.000001'::time", dt.time(0, 0, 0, 1)),
    ("select '24:00:00'::time", dt.time(0, 0)),
    ("select '12:34:56+05:30'::timetz", dt.time(12, 34, 56, tzinfo=tz(19800))),
    ("select '12:34:56.5-03'::timetz",
     dt.time(12, 34, 56, 500000, tzinfo=tz(-10800))),
    ("select '12:00:00+00'::timetz", dt.time(12, tzinfo=UTC)),
    ("select '2020-01-02 03:04:05'::timestamp", dt.datetime(2020, 1, 2, 3, 4, 5)),
    ("select '2020-01-02 03:04:05.1'::timestamp",
     dt.datetime(2020, 1, 2, 3, 4, 5, 100000)),
    ("select '2020-01-02 03:04:05.000001'::timestamp",
     dt.datetime(2020, 1, 2, 3, 4, 5, 1)),
    ("select '2020-01-02 03:04:05.123456789'::timestamp",
     dt.datetime(2020, 1, 2, 3, 4, 5, 123457)),
    ("select '0001-01-01 00:00:00'::timestamp", dt.datetime(1, 1, 1)),
    ("select '9999-12-31 23:59:59.999999'::timestamp",
     dt.datetime(9999, 12, 31, 23, 59, 59, 999999)),
    ("select 'infinity'::timestamp", dt.datetime.max),
    ("select '-infinity'::timestamp", dt.datetime.min),
    ("select '2020-01-02 03:04:05+05:30'::timestamptz",
     dt.datetime(2020, 1, 1, 21, 34, 5, tzinfo=UTC)),
    ("select '2020-01-02 03:04:05.25-02'::timestamptz",
     dt.datetime(2020, 1, 2, 5, 4, 5, 250000, tzinfo=UTC)),
    ("select 'infinity'::timestamptz", dt.datetime.max.replace(tzinfo=UTC)),
    ("select '-infinity'::timestamptz", dt.datetime.min.replace(tzinfo=UTC)),
])
def test_datetime(conn, sql, want):
    assert_same(fetch(conn, sql), want)


def test_timestamptz_session_timezone(conn):
    cur = conn.cursor()
    cur.execute("set timezone to 'Asia/Kolkata'")
    cur.execute("select '2000-01-01 00:00:00'::timestamptz, "
                "'2020-06-01 12:00:00+00'::timestamptz")
    a, b = cur.fetchone()
    assert_same(a, dt.datetime(2000, 1, 1, tzinfo=tz(19800)))
    assert_same(b, dt.datetime(2020, 6, 1, 17, 30, tzinfo=tz(19800)))
    assert a.tzinfo == dt.timezone(dt.timedelta(hours=5, minutes=30))


def test_timestamptz_offset_seconds(conn):
    # historical offsets have seconds: LMT of Amsterdam is +00:19:32
    cur = conn.cursor()
    cur.execute("set timezone to 'Europe/Amsterdam'")
    cur.execute("select '1900-01-01 00:00:00'::timestamptz")
    assert_same(cur.fetchone()[0], dt.datetime(1900, 1, 1, tzinfo=tz(1172)))


def test_timestamptz_negative_offset(conn):
    cur = conn.cursor()
    cur.execute("set timezone to 'America/St_Johns'")
    cur.execute("select '2020-01-02 03:04:05+00'::timestamptz")
    assert_same(cur.fetchone()[0],
                dt.datetime(2020, 1, 1, 23, 34, 5, tzinfo=tz(-12600)))


def test_tzinfo_factory_none(conn):
    cur = conn.cursor()
    cur.tzinfo_factory = None
    cur.execute("select '2020-01-02 03:04:05+02'::timestamptz, "
                "'infinity'::timestamptz, '12:00+02'::timetz")
    ts, inf, t = cur.fetchone()
    assert_same(ts, dt.datetime(2020, 1, 2, 1, 4, 5))
    assert_same(inf, dt.datetime.max)
    assert_same(t, dt.time(12))


def test_tzinfo_factory_custom(conn):
    calls = []

    def factory(offset):
        calls.append(offset)
        return dt.timezone(offset, "custom")

    cur = conn.cursor()
    cur.tzinfo_factory = factory
    cur.execute("set timezone to 'Asia/Kolkata'")
    cur.execute("select '2020-01-02 03:04:05+02'::timestamptz, "
                "'12:00-03'::timetz")
    ts, t = cur.fetchone()
    assert ts.tzname() == "custom" and t.tzname() == "custom"
    assert calls == [dt.timedelta(seconds=19800), dt.timedelta(hours=-3)]
    assert ts == dt.datetime(2020, 1, 2, 1, 4, 5, tzinfo=UTC)


def test_tzinfo_factory_fixed_offset(conn):
    from psycopg2.tz import FixedOffsetTimezone
    cur = conn.cursor()
    cur.tzinfo_factory = FixedOffsetTimezone
    cur.execute("set timezone to 'Asia/Kolkata'")
    cur.execute("select '2020-01-02 03:04:05+02'::timestamptz")
    got = cur.fetchone()[0]
    assert isinstance(got.tzinfo, FixedOffsetTimezone)
    assert got.utcoffset() == dt.timedelta(seconds=19800)


def test_tzinfo_factory_error_propagates(conn):
    def factory(offset):
        raise ZeroDivisionError("no tz")

    cur = conn.cursor()
    cur.tzinfo_factory = factory
    cur.execute("select '2020-01-02 03:04:05+02'::timestamptz")
    with pytest.raises(ZeroDivisionError):
        cur.fetchone()


def test_default_tzinfo_shared(conn):
    cur = conn.cursor()
    cur.execute("set timezone to 'Asia/Kolkata'")
    cur.execute("select now() from generate_series(1, 3)")
    rows = cur.fetchall()
    assert rows[0][0].tzinfo == rows[2][0].tzinfo == tz(19800)
    assert type(rows[0][0].tzinfo) is dt.timezone


@pytest.mark.parametrize("sql", [
    "select '2020-01-02 BC'::date",
    "select '2020-01-02 03:04:05 BC'::timestamp",
    "select '2020-01-02 03:04:05+02 BC'::timestamptz",
    "select '12345-01-02'::date",
    "select '12345-01-02 01:02:03'::timestamp",
])
def test_date_out_of_range(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    with pytest.raises(ValueError, match="out of range"):
        cur.fetchone()


@pytest.mark.parametrize("value, want", [
    ("1 day", dt.timedelta(days=1)),
    ("-1 day", dt.timedelta(days=-1)),
    ("3 mons", dt.timedelta(days=90)),
    ("2 years", dt.timedelta(days=730)),
    ("1 year -1 mons", dt.timedelta(days=330)),   # the server says 11 mons
    ("1 year 2 mons 3 days 04:05:06.5",
     dt.timedelta(days=428, seconds=14706, microseconds=500000)),
    ("-1 year -2 mons +3 days -04:05:06.5",
     dt.timedelta(days=-423, seconds=71693, microseconds=500000)),
    ("1 day -00:00:01", dt.timedelta(seconds=86399)),
    ("-00:00:00.000001", dt.timedelta(microseconds=-1)),
    ("00:00:01.5", dt.timedelta(seconds=1.5)),
    ("100000000 hours", dt.timedelta(hours=100000000)),
    ("1 day 25:00:01", dt.timedelta(days=2, seconds=3601)),
    ("0", dt.timedelta(0)),
    ("999999999 days", dt.timedelta(days=999999999)),
])
def test_interval(conn, value, want):
    assert_same(fetch(conn, "select %s::interval", (value,)), want)


def test_interval_overflow(conn):
    cur = conn.cursor()
    cur.execute("select '178000000 years'::interval")
    with pytest.raises(OverflowError):
        cur.fetchone()


@pytest.mark.parametrize("value", [
    "1 year 2 mons -3 days 04:05:06.5", "-00:00:00.5", "1 day ago",
    "-1 year -2 mons +3 days -04:05:06.5", "0", "100000000 hours"])
def test_interval_verbose_style(conn, value):
    cur = conn.cursor()
    cur.execute("select %s::interval", (value,))
    want = cur.fetchone()[0]
    cur.execute("set intervalstyle to postgres_verbose")
    cur.execute("select %s::interval", (value,))
    assert_same(cur.fetchone()[0], want)


def test_interval_iso_style_not_supported(conn):
    cur = conn.cursor()
    cur.execute("set intervalstyle to iso_8601")
    cur.execute("select '1 day'::interval")
    with pytest.raises(psycopg2.NotSupportedError):
        cur.fetchone()


def test_text_client_encoding(conn):
    conn.set_client_encoding("LATIN1")
    cur = conn.cursor()
    cur.execute("select 'àè'::text, '{à,\"è x\"}'::text[], "
                "convert_to('à', 'LATIN1')")
    s, arr, b = cur.fetchone()
    assert_same(s, "àè")
    assert_same(arr, ["à", "è x"])
    assert bytes(b) == b"\xe0"


# ---------------------------------------------------------------------------
# Arrays

@pytest.mark.parametrize("sql, want", [
    ("select '{1,2,3}'::int4[]", [1, 2, 3]),
    ("select '{1,NULL,3}'::int2[]", [1, None, 3]),
    ("select '{{1,2},{3,4}}'::int4[]", [[1, 2], [3, 4]]),
    ("select '{{{1}},{{2}}}'::int4[]", [[[1]], [[2]]]),
    ("select '[0:1]={1,2}'::int4[]", [1, 2]),
    ("select '{}'::int4[]", []),
    ("select '{NULL}'::int4[]", [None]),
    ("select '{1,-2}'::int8[]", [1, -2]),
    ("select '{1,2}'::oid[]", [1, 2]),
    ("select '{1.5,NaN,Infinity,-Infinity}'::float8[]",
     [1.5, float("nan"), float("inf"), float("-inf")]),
    ("select '{1.5}'::float4[]", [1.5]),
    ("select '{1.5,NaN,NULL}'::numeric[]",
     [decimal.Decimal("1.5"), decimal.Decimal("NaN"), None]),
    ("select '{t,f,NULL}'::bool[]", [True, False, None]),
    ("select '{a,b}'::text[]", ["a", "b"]),
    ("select '{a,b}'::varchar[]", ["a", "b"]),
    ("select '{a,b}'::name[]", ["a", "b"]),
    ("select '{a,b}'::char[]", ["a", "b"]),
    ("select '{ab}'::char(3)[]", ["ab "]),
    ("select '{a,b}'::\"char\"[]", ["a", "b"]),
    ("select array['a b', 'c\"d', NULL, 'NULL', '', 'e\\f', '{x}', ',', "
     "' sp ', 'àè']",
     ["a b", 'c"d', None, "NULL", "", "e\\f", "{x}", ",", " sp ", "àè"]),
    ("select array[array['a', 'b'], array['c', NULL]]",
     [["a", "b"], ["c", None]]),
    ("select '{2020-01-02,2021-03-04}'::date[]",
     [dt.date(2020, 1, 2), dt.date(2021, 3, 4)]),
    ("select '{12:00:00,13:00:00.5}'::time[]",
     [dt.time(12), dt.time(13, 0, 0, 500000)]),
    ("select '{12:00:00+02}'::timetz[]", [dt.time(12, tzinfo=tz(7200))]),
    ("select '{\"2020-01-02 03:04:05\",\"2020-01-02 03:04:05.5\"}'"
     "::timestamp[]",
     [dt.datetime(2020, 1, 2, 3, 4, 5), dt.datetime(2020, 1, 2, 3, 4, 5, 500000)]),
    ("select '{\"2020-01-02 03:04:05+02\"}'::timestamptz[]",
     [dt.datetime(2020, 1, 2, 1, 4, 5, tzinfo=UTC)]),
    ("select '{\"1 day\",\"-2 hours\",NULL}'::interval[]",
     [dt.timedelta(days=1), dt.timedelta(hours=-2), None]),
    ("select '{192.168.0.1,10.0.0.0/8}'::inet[]", ["192.168.0.1", "10.0.0.0/8"]),
    ("select '{10.0.0.0/8}'::cidr[]", ["10.0.0.0/8"]),
    ("select '{08:00:2b:01:02:03}'::macaddr[]", ["08:00:2b:01:02:03"]),
])
def test_array(conn, sql, want):
    assert_same(fetch(conn, sql), want)


def test_array_bytea(conn):
    for fmt in ("hex", "escape"):
        cur = conn.cursor()
        cur.execute("set bytea_output to %s" % fmt)
        cur.execute("select array['\\x41ff'::bytea, ''::bytea, "
                    "'\\x5c22'::bytea]")
        got = cur.fetchone()[0]
        assert [type(x) for x in got] == [memoryview] * 3
        assert [bytes(x) for x in got] == [b"A\xff", b"", b'\\"']


def test_array_bytea_null(conn):
    got = fetch(conn, "select array['\\x41'::bytea, NULL]")
    assert bytes(got[0]) == b"A" and got[1] is None


def test_array_infinity_dates(conn):
    got = fetch(conn, "select '{2020-01-02,infinity,-infinity}'::date[]")
    assert_same(got, [dt.date(2020, 1, 2), dt.date.max, dt.date.min])


def test_array_multidim_bounds(conn):
    got = fetch(conn, "select '[1:2][3:4]={{1,2},{3,4}}'::int4[]")
    assert_same(got, [[1, 2], [3, 4]])


# ---------------------------------------------------------------------------
# Calling the casters from Python

@pytest.mark.parametrize("caster, value, want", [
    (ext.INTEGER, "42", 42),
    (ext.LONGINTEGER, "-12345678901234", -12345678901234),
    (ext.INTEGER, "99999999999999999999999", 99999999999999999999999),
    (ext.INTEGER, None, None),
    (ext.FLOAT, "1.5", 1.5),
    (psycopg2.NUMBER, "15", 15.0),
    (ext.DECIMAL, "1.50", decimal.Decimal("1.50")),
    (ext.BOOLEAN, "t", True),
    (ext.BOOLEAN, "f", False),
    (psycopg2.STRING, "abc", "abc"),
    (psycopg2.STRING, b"abc", "abc"),
    (ext.UNICODE, "àè", "àè"),
    (ext.BYTES, "abc", b"abc"),
    (ext.DATE, "2020-01-02", dt.date(2020, 1, 2)),
    (ext.TIME, "12:00:00", dt.time(12)),
    (psycopg2.DATETIME, "2020-01-02 03:04:05", dt.datetime(2020, 1, 2, 3, 4, 5)),
    (ext.PYDATETIMETZ, "2020-01-02 03:04:05+02",
     dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=tz(7200))),
    (ext.INTERVAL, "1 day 00:00:01", dt.timedelta(days=1, seconds=1)),
    (ext.INTEGERARRAY, "{1,2,NULL}", [1, 2, None]),
    (ext.STRINGARRAY, '{a,"b c"}', ["a", "b c"]),
    (ext.BYTESARRAY, '{a,"b c"}', [b"a", b"b c"]),
])
def test_call_caster(caster, value, want):
    assert_same(caster(value, None), want)


def test_call_binary_caster():
    got = psycopg2.BINARY("\\x4142", None)
    assert type(got) is memoryview and bytes(got) == b"AB"


@pytest.mark.parametrize("caster, value, exc", [
    (ext.INTEGER, "x", ValueError),
    (ext.INTEGER, "12abc", ValueError),
    (ext.FLOAT, "1.5x", ValueError),
    (ext.DECIMAL, "1.5x", decimal.InvalidOperation),
    (ext.BOOLEAN, "x", psycopg2.InterfaceError),
    (ext.DATE, "xx", psycopg2.DataError),
    (ext.DATE, "2020-02-30", ValueError),
    (ext.TIME, "xx", psycopg2.DataError),
    (ext.TIME, "25:00:00", ValueError),
    (psycopg2.DATETIME, "garbage", psycopg2.DataError),
    (ext.INTERVAL, "P1D", psycopg2.NotSupportedError),
    (ext.INTEGERARRAY, "1,2}", psycopg2.DataError),
    (ext.INTEGERARRAY, "{1,2}}", psycopg2.DataError),
    (ext.INTEGER, 42, TypeError),
])
def test_call_caster_error(caster, value, exc):
    with pytest.raises(exc):
        caster(value, None)


def test_call_caster_arguments():
    with pytest.raises(TypeError):
        psycopg2.STRING("abc")
    with pytest.raises(TypeError):
        psycopg2.STRING("abc", None, None)


# ---------------------------------------------------------------------------
# Custom typecasters

def test_new_type_arguments():
    t = ext.new_type((1, 2), "FOO", lambda v, c: v)
    assert t.name == "FOO" and t.values == (1, 2)
    assert t == 1 and t != 3
    assert ext.new_type((1,), "X").name == "X"
    with pytest.raises(TypeError):
        ext.new_type([1, 2], "X", str)
    with pytest.raises(TypeError):
        ext.new_type(1, "X", str)
    with pytest.raises(TypeError):
        ext.new_type((1,), b"X", str)
    with pytest.raises(TypeError):
        ext.new_array_type((1,), "X", str)
    with pytest.raises(TypeError):
        ext.register_type(3)
    with pytest.raises(TypeError):
        ext.register_type(t, 3)


def test_new_type_call():
    seen = []

    def cast(value, cur):
        seen.append((value, cur))
        return None if value is None else value.upper()

    t = ext.new_type((1,), "UP", cast)
    assert t("abc", None) == "ABC"
    assert t(b"abc", None) == "ABC"
    assert t(None, None) is None
    # like psycopg2, a direct call with None doesn't call the function
    assert seen == [("abc", None), ("abc", None)]
    a = ext.new_array_type((2,), "UPARRAY", t)
    assert a('{abc,NULL,"d e"}', None) == ["ABC", None, "D E"]
    assert a(None, None) is None


def test_register_cursor_scope(conn):
    got = []

    def cast(value, cur):
        got.append((value, cur))
        return ("int", value)

    t = ext.new_type((23,), "MYINT", cast)
    cur = conn.cursor()
    ext.register_type(t, cur)
    assert cur.string_types == {23: t}
    cur.execute("select 1::int4, null::int4, 2::int8")
    assert cur.fetchone() == (("int", "1"), ("int", None), 2)
    assert got == [("1", cur), (None, cur)]
    # other cursors and the global registry are untouched
    assert fetch(conn, "select 1::int4") == 1
    assert ext.string_types[23] is ext.INTEGER


def test_register_connection_scope(conn, dsn):
    t = ext.new_type((25,), "UPPER",
                     lambda v, c: v.upper() if v is not None else None)
    ext.register_type(t, conn)
    assert conn.string_types[25] is t
    assert fetch(conn, "select 'abc'::text") == "ABC"
    assert fetch(conn, "select null::text") is None
    # the array caster can use a Python base caster
    ta = ext.new_array_type((1009,), "UPPERARRAY", t)
    ext.register_type(ta, conn)
    assert fetch(conn, "select '{abc,NULL,\"d e\"}'::text[]") == \
        ["ABC", None, "D E"]
    conn2 = psycopg2.connect(dsn)
    try:
        assert fetch(conn2, "select 'abc'::text") == "abc"
    finally:
        conn2.close()


def test_register_precedence(conn):
    def tag(name):
        return ext.new_type((23,), name, lambda v, c: (name, v))

    g, c, k = tag("global"), tag("conn"), tag("curs")
    try:
        ext.register_type(g)
        assert fetch(conn, "select 1") == ("global", "1")
        ext.register_type(c, conn)
        assert fetch(conn, "select 1") == ("conn", "1")
        cur = conn.cursor()
        ext.register_type(k, cur)
        cur.execute("select 1")
        assert cur.fetchone()[0] == ("curs", "1")
    finally:
        ext.register_type(ext.INTEGER)
    assert ext.string_types[23] is ext.INTEGER


def test_register_global_new_oid(conn):
    oid = fetch(conn, "select 'point'::regtype::oid")
    t = ext.new_type((oid,), "POINT",
                     lambda v, c: tuple(float(x) for x in v[1:-1].split(","))
                     if v is not None else None)
    try:
        ext.register_type(t)
        assert fetch(conn, "select '(1.5,2)'::point") == (1.5, 2.0)
        assert fetch(conn, "select null::point") is None
    finally:
        del ext.string_types[oid]
    assert fetch(conn, "select '(1.5,2)'::point") == "(1.5,2)"


def test_array_of_c_caster(conn):
    oid = fetch(conn, "select 'int4[]'::regtype::oid")
    t = ext.new_array_type((oid,), "MYINTARRAY", ext.FLOAT)
    cur = conn.cursor()
    ext.register_type(t, cur)
    cur.execute("select '{{1,2},{3,NULL}}'::int4[]")
    assert_same(cur.fetchone()[0], [[1.0, 2.0], [3.0, None]])


def test_caster_exception_propagates(conn):
    def boom(value, cur):
        raise ZeroDivisionError("boom")

    cur = conn.cursor()
    ext.register_type(ext.new_type((23,), "BOOM", boom), cur)
    cur.execute("select 1")
    with pytest.raises(ZeroDivisionError):
        cur.fetchone()
    cur.execute("select generate_series(1, 3)")
    with pytest.raises(ZeroDivisionError):
        cur.fetchall()
    # the cursor and the connection are still usable
    cur.execute("select 'ok'::text")
    assert cur.fetchone() == ("ok",)
    assert fetch(conn, "select 1") == 1


def test_array_caster_exception_propagates(conn):
    def boom(value, cur):
        if value == "2":
            raise ZeroDivisionError("boom")
        return value

    cur = conn.cursor()
    t = ext.new_type((23,), "BOOM", boom)
    ext.register_type(ext.new_array_type((1007,), "BOOMARRAY", t), cur)
    cur.execute("select '{1,2,3}'::int4[]")
    with pytest.raises(ZeroDivisionError):
        cur.fetchone()
    cur.execute("select '{1,3}'::int4[]")
    assert cur.fetchone() == (["1", "3"],)


def test_caster_returns_anything(conn):
    marker = object()
    cur = conn.cursor()
    ext.register_type(ext.new_type((25,), "M", lambda v, c: marker), cur)
    cur.execute("select 'a'::text, null::text")
    assert cur.fetchone() == (marker, marker)


def test_many_rows_mixed(conn):
    cur = conn.cursor()
    cur.execute("""
        select i::int4, i::int8 * 1000000000, i / 4.0::float8,
               (i / 3.0)::numeric(10, 3), 'row ' || i, i % 2 = 0,
               '2020-01-01'::date + i,
               '2020-01-01 00:00:00+00'::timestamptz + i * interval '1 sec',
               decode(lpad(to_hex(i), 8, '0'), 'hex'),
               case when i % 3 = 0 then null else i end
        from generate_series(1, 2000) as i""")
    rows = cur.fetchall()
    assert len(rows) == 2000
    for i, row in enumerate(rows, 1):
        assert row[0] == i and row[1] == i * 1000000000
        assert row[2] == i / 4.0
        assert row[3] == (decimal.Decimal(i) / 3).quantize(
            decimal.Decimal("0.001"), rounding=decimal.ROUND_HALF_UP)
        assert row[4] == "row %d" % i and row[5] is (i % 2 == 0)
        assert row[6] == dt.date(2020, 1, 1) + dt.timedelta(days=i)
        assert row[7] == dt.datetime(2020, 1, 1, tzinfo=UTC) + \
            dt.timedelta(seconds=i)
        assert bytes(row[8]) == i.to_bytes(4, "big")
        assert row[9] == (None if i % 3 == 0 else i)
