"""Behaviours that must be exactly psycopg2 2.9's: query placeholders,
bytea results, typecaster errors, named cursors, fetch errors.

Each expectation here was first recorded with psycopg2-binary 2.9.10
against a real PostgreSQL server.
"""

import pytest

import psycopg2
import psycopg2.extensions as ext


@pytest.fixture
def cur(conn):
    c = conn.cursor()
    yield c
    c.close()


# ---------------------------------------------------------------------------
# Malformed placeholders: same exception class and message as psycopg2, in
# the same order (arguments before a bad placeholder are looked up first).

PLACEHOLDER_CASES = [
    ('select %', (1,), ('ValueError', 'incomplete format')),
    ('select %', {}, ('TypeError', 'dict is not a sequence')),
    ('select %(', {}, ('ProgrammingError', "incomplete placeholder: '%(' without ')'")),
    ('select %(x', {'x': 1}, ('ProgrammingError', "incomplete placeholder: '%(' without ')'")),
    ('select %(x)', {'x': 1}, ('ValueError', 'incomplete format')),
    ('select %(foo, %(bar)s', {'foo': 1, 'bar': 2}, ('ProgrammingError', "incomplete placeholder: '%(' without ')'")),
    ('select %(a%)s', {'a%': 1}, ('ProgrammingError', "incomplete placeholder: '%(' without ')'")),
    ('select %(a)s, %(', {'a': 1}, ('ProgrammingError', "incomplete placeholder: '%(' without ')'")),
    ('select %(a)s, %(', {}, ('KeyError', "'a'")),
    ('select %s, %(', (1,), ('ProgrammingError', "argument formats can't be mixed")),
    ('select %s, %(', {'a': 1}, ('TypeError', 'dict is not a sequence')),
    ('select %s, %(', (), ('IndexError', 'tuple index out of range')),
    ('select %s, %(a)s', (1,), ('ProgrammingError', "argument formats can't be mixed")),
    ('select %(a)s, %s', {'a': 1}, ('ProgrammingError', "argument formats can't be mixed")),
    ('select %s, %(a)s', {'a': 1}, ('TypeError', 'dict is not a sequence')),
    ('select %(a)s, %s', (1, 2), ('TypeError', 'tuple indices must be integers or slices, not str')),
    ('select %s', {'a': 1}, ('TypeError', 'dict is not a sequence')),
    ('select %(a)s', (1,), ('TypeError', 'tuple indices must be integers or slices, not str')),
    ('select %(a)s', [1], ('TypeError', 'list indices must be integers or slices, not str')),
    ('select %s, %s', (1,), ('IndexError', 'tuple index out of range')),
    ('select %s', (1, 2), ('TypeError', 'not all arguments converted during string formatting')),
    ('select %s', (), ('IndexError', 'tuple index out of range')),
    ('select %s', 1, ('TypeError', "'int' object does not support indexing")),
    ('select %s', 'ab', ('TypeError', 'not all arguments converted during string formatting')),
    ('select 1', (1,), ('ok', b'select 1')),
    ('select 1', {'a': 1}, ('ok', b'select 1')),
    ('select 1 %%', (), ('ok', b'select 1 %')),
    ('select 1 %%', {}, ('ok', b'select 1 %')),
    ('select 1 %%, %s', (1,), ('ok', b'select 1 %, 1')),
    ('select %d', (1,), ('ValueError', "unsupported format character 'd' (0x64) at index 8")),
    ('select %(a)d', {'a': 1}, ('ValueError', "unsupported format character 'd' (0x64) at index 11")),
    ('select %  s', (1,), ('ValueError', "unsupported format character ' ' (0x20) at index 8")),
    ('select %5s', (1,), ('ValueError', "unsupported format character '5' (0x35) at index 8")),
    ('select %s %', (1,), ('IndexError', 'tuple index out of range')),
    ('select %(a)s %', {'a': 1}, ('ProgrammingError', "argument formats can't be mixed")),
    ('select %(a)s', {}, ('KeyError', "'a'")),
    ('select %(a))s', {'a)': 1}, ('KeyError', "'a'")),
    ('select %(a)%', {'a': 1}, ('ProgrammingError', "argument formats can't be mixed")),
    ('select %(a)%%s', {'a': 1}, ('ok', b'select %1')),
    ('select %(a)%%(b)s', {'a': 1, 'b': 2}, ('KeyError', "'b'")),
    ('select %((a)s', {'(a': 1}, ('ValueError', 'incomplete format key')),
    ('select %(a(b)c)s', {'a(b': 1}, ('KeyError', "'a(b)c'")),
    ('select %(a)s %(a)s', {'a': 1}, ('ok', b'select 1 1')),
    ('select %()s', {'': 1}, ('ok', b'select 1')),
    ('select %(a)x %(b)s', {'a': 1}, ('KeyError', "'b'")),
    ('select %x %s', (1,), ('IndexError', 'tuple index out of range')),
    ('select %s%s', (1, None), ('ok', b'select 1NULL')),
]


def _outcome(func):
    try:
        return ("ok", func())
    except Exception as e:
        return (type(e).__name__, str(e))


@pytest.mark.parametrize("query, vars, expected", PLACEHOLDER_CASES)
def test_placeholder_mogrify(cur, query, vars, expected):
    assert _outcome(lambda: cur.mogrify(query, vars)) == expected


@pytest.mark.parametrize(
    "query, vars, expected",
    [c for c in PLACEHOLDER_CASES if c[2][0] != "ok"])
def test_placeholder_execute_errors(conn, query, vars, expected):
    cur = conn.cursor()
    assert _outcome(lambda: cur.execute(query, vars)) == expected
    assert _outcome(lambda: cur.executemany(query, [vars])) == expected
    # a good argument set before the bad one runs first, as in psycopg2
    assert _outcome(
        lambda: cur.executemany("select %s", [(1,), {"a": 1}])) == (
        "TypeError", "dict is not a sequence")
    # nothing was sent: the connection is still usable
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_placeholder_errors_are_psycopg2_classes(cur):
    # the cases the issue names: never a KeyError out of a bad "%("
    for query in ("select %(foo, %(bar)s", "select %(", "select %(x"):
        with pytest.raises(psycopg2.ProgrammingError,
                           match=r"incomplete placeholder: '%\(' without '\)'"):
            cur.execute(query, {"foo": 1, "bar": 2, "x": 3})
    with pytest.raises(psycopg2.ProgrammingError, match="can't be mixed"):
        cur.execute("select %(a)s, %s", {"a": 1})


# ---------------------------------------------------------------------------
# bytea results: a memoryview of format 'c', as psycopg2 returns


@pytest.mark.parametrize("output", ["hex", "escape"])
def test_bytea_memoryview_items_are_bytes(conn, output):
    cur = conn.cursor()
    cur.execute("set bytea_output to %s", (output,))
    cur.execute(r"select 'ab\000c'::bytea, ''::bytea")
    mv, empty = cur.fetchone()
    assert type(mv) is memoryview
    assert (mv.format, mv.itemsize, mv.ndim, mv.shape) == ("c", 1, 1, (4,))
    assert mv.readonly and mv.c_contiguous
    assert mv[0] == b"a" and mv[-1] == b"c"
    assert list(mv) == [b"a", b"b", b"\x00", b"c"]
    assert mv.tolist() == [b"a", b"b", b"\x00", b"c"]
    assert ord(mv[0]) == 97
    assert b"".join(mv) == b"ab\x00c"
    assert len(mv) == 4 and mv.nbytes == 4
    assert mv.tobytes() == bytes(mv) == bytearray(mv) == b"ab\x00c"
    assert mv.hex() == "61620063"
    assert mv[1:3].format == "c" and mv[1:3].tobytes() == b"b\x00"
    assert mv.cast("B").tolist() == [97, 98, 0, 99]
    # as in psycopg2, items of format 'c' never equal those of bytes ('B')
    assert mv != b"ab\x00c"
    assert mv != memoryview(b"ab\x00c")
    assert mv == mv.cast("B").cast("c")
    assert hash(mv) == hash(b"ab\x00c")
    with pytest.raises(TypeError, match="cannot modify read-only memory"):
        mv[0] = b"z"
    assert (empty.format, len(empty), empty.tobytes(), list(empty)) == (
        "c", 0, b"", [])


def test_bytea_memoryview_obj(cur):
    import pickle

    cur.execute(r"select '\x6869'::bytea")
    mv = cur.fetchone()[0]
    chunk = mv.obj
    assert type(chunk).__name__ == "chunk"
    assert type(chunk).__module__ == "psycopg2._psycopg"
    assert repr(chunk).startswith("<memory chunk at 0x")
    assert repr(chunk).endswith(" size 2>")
    assert bytes(chunk) == b"hi"
    assert memoryview(chunk).format == "c"
    with pytest.raises(TypeError, match="cannot create"):
        type(chunk)()
    with pytest.raises(TypeError, match="cannot pickle 'memoryview' object"
                       "|cannot pickle memoryview"):
        pickle.dumps(mv)
    with pytest.raises(TypeError, match="cannot pickle "
                       "'psycopg2._psycopg.chunk' object"):
        pickle.dumps(chunk)
    mv.release()
    with pytest.raises(ValueError, match="released memoryview"):
        len(mv)
    assert bytes(chunk) == b"hi"     # the chunk outlives the view


def test_bytea_caster_and_roundtrip(cur):
    mv = psycopg2.BINARY(r"\x4142", cur)
    assert mv.format == "c" and list(mv) == [b"A", b"B"]
    assert psycopg2.BINARY(None, cur) is None
    # a fetched value goes back to the server unchanged
    data = bytes(range(256)) * 4
    cur.execute("select %s::bytea", (psycopg2.Binary(data),))
    back = cur.fetchone()[0]
    cur.execute("select %s::bytea = %s::bytea", (back, data))
    assert cur.fetchone()[0] is True
    assert back.tobytes() == data
    cur.execute("select array[%s::bytea, null]", (data[:3],))
    arr = cur.fetchone()[0]
    assert arr[0].format == "c" and arr[0].tobytes() == data[:3]
    assert arr[1] is None


# ---------------------------------------------------------------------------
# Date/time typecasters called on strings, as psycopg2 2.9 parses them.
# Columns: DATE, TIME, DATETIME, DATETIMETZ, INTERVAL.  None: psycopg2 returns
# a meaningless value or fails on a valid one; see CASTER_DIFFERENCES.

from datetime import date, datetime, time, timedelta, timezone  # noqa: E402

BAD_DATE = ("DataError", "unable to parse date")
BAD_TIME = ("DataError", "unable to parse time")
CASTERS = ("DATE", "TIME", "DATETIME", "DATETIMETZ", "INTERVAL")

CASTER_CASES = [
    ('', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 10: ''")),
    (' ', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 10: ' '")),
    ('1', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=1)),
    ('13', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=13)),
    ('13:30', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(seconds=48600)),
    ('13:30:', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, None),
    ('13:30:1', BAD_DATE, time(13, 30, 1), BAD_DATE, BAD_DATE, timedelta(seconds=48601)),
    ('13:30:15', BAD_DATE, time(13, 30, 15), BAD_DATE, BAD_DATE, timedelta(seconds=48615)),
    ('13:30:15.', BAD_DATE, time(13, 30, 15), BAD_DATE, BAD_DATE, timedelta(seconds=48615)),
    ('13:30:15.1', BAD_DATE, time(13, 30, 15, 100000), BAD_DATE, BAD_DATE, timedelta(seconds=48615, microseconds=100000)),
    ('13:30:15.1234567', BAD_DATE, None, BAD_DATE, BAD_DATE, timedelta(seconds=48615, microseconds=123457)),
    ('13:30:15+02', BAD_DATE, time(13, 30, 15, tzinfo=timezone(timedelta(seconds=7200))), BAD_DATE, BAD_DATE, None),
    ('13:30:15-02:30', BAD_DATE, time(13, 30, 15, tzinfo=timezone(timedelta(days=-1, seconds=77400))), BAD_DATE, BAD_DATE, None),
    ('13:30:15+02:30:45', BAD_DATE, time(13, 30, 15, tzinfo=timezone(timedelta(seconds=9045))), BAD_DATE, BAD_DATE, None),
    ('24:00:00', BAD_DATE, time(0, 0), BAD_DATE, BAD_DATE, timedelta(days=1)),
    ('25:00:00', BAD_DATE, ('ValueError', 'hour must be in 0..23'), BAD_DATE, BAD_DATE, timedelta(days=1, seconds=3600)),
    ('13:60:00', BAD_DATE, ('ValueError', 'minute must be in 0..59'), BAD_DATE, BAD_DATE, timedelta(seconds=50400)),
    ('13:30:60', BAD_DATE, time(13, 31), BAD_DATE, BAD_DATE, timedelta(seconds=48660)),
    ('13:30:61', BAD_DATE, time(13, 31, 1), BAD_DATE, BAD_DATE, timedelta(seconds=48661)),
    ('00:00:00', BAD_DATE, time(0, 0), BAD_DATE, BAD_DATE, timedelta(0)),
    ('23:59:59.999999', BAD_DATE, time(23, 59, 59, 999999), BAD_DATE, BAD_DATE, timedelta(seconds=86399, microseconds=999999)),
    ('23:59:59.9999995', BAD_DATE, None, BAD_DATE, BAD_DATE, timedelta(days=1)),
    ('2020-01-02', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 0, 0), datetime(2020, 1, 2, 0, 0), ('ValueError', "invalid literal for int() with base 10: '2020-01-02'")),
    ('2020-01-02 13:30', date(2020, 1, 2), BAD_TIME, BAD_TIME, BAD_TIME, None),
    ('2020-01-02 13', date(2020, 1, 2), BAD_TIME, BAD_TIME, BAD_TIME, ('ValueError', "invalid literal for int() with base 10: '2020-01-02 13'")),
    ('2020-01-02 13:30:15', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 13, 30, 15), datetime(2020, 1, 2, 13, 30, 15), None),
    ('2020-01-02T13:30:15', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 13, 30, 15), datetime(2020, 1, 2, 13, 30, 15), None),
    ('2020-01-02 13:30:15+01', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 13, 30, 15, tzinfo=timezone(timedelta(seconds=3600))), datetime(2020, 1, 2, 13, 30, 15, tzinfo=timezone(timedelta(seconds=3600))), None),
    ('2020-01-02 13:30:15.5-08', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 13, 30, 15, 500000, tzinfo=timezone(timedelta(days=-1, seconds=57600))), datetime(2020, 1, 2, 13, 30, 15, 500000, tzinfo=timezone(timedelta(days=-1, seconds=57600))), None),
    ('2020-01-02 ', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 0, 0), datetime(2020, 1, 2, 0, 0), ('ValueError', "invalid literal for int() with base 10: '2020-01-02 '")),
    ('2020-01', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 10: '2020-01'")),
    ('2020', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=2020)),
    ('2020-13-01', ('ValueError', 'month must be in 1..12'), BAD_TIME, ('ValueError', 'month must be in 1..12'), ('ValueError', 'month must be in 1..12'), ('ValueError', "invalid literal for int() with base 10: '2020-13-01'")),
    ('2020-02-30', ('ValueError', 'day is out of range for month'), BAD_TIME, ('ValueError', 'day is out of range for month'), ('ValueError', 'day is out of range for month'), ('ValueError', "invalid literal for int() with base 10: '2020-02-30'")),
    ('0001-01-01', date(1, 1, 1), BAD_TIME, datetime(1, 1, 1, 0, 0), datetime(1, 1, 1, 0, 0), ('ValueError', "invalid literal for int() with base 0: '0001-01-01'")),
    ('10000-01-01', ('ValueError', 'year 10000 is out of range'), BAD_TIME, ('ValueError', 'year 10000 is out of range'), ('ValueError', 'year 10000 is out of range'), ('ValueError', "invalid literal for int() with base 10: '10000-01-01'")),
    ('infinity', date(9999, 12, 31), BAD_TIME, datetime(9999, 12, 31, 23, 59, 59, 999999), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc), None),
    ('-infinity', date(1, 1, 1), BAD_TIME, datetime(1, 1, 1, 0, 0), datetime(1, 1, 1, 0, 0, tzinfo=timezone.utc), None),
    ('2020-01-02 BC', ('ValueError', 'year -2020 is out of range'), BAD_TIME, BAD_TIME, BAD_TIME, ('ValueError', "invalid literal for int() with base 10: '2020-01-02 BC'")),
    ('2020-01-02 13:30:15 BC', ('ValueError', 'year -2020 is out of range'), BAD_TIME, ('ValueError', 'year -2020 is out of range'), ('ValueError', 'year -2020 is out of range'), None),
    ('2020-01-02 13:30:15+01 BC', ('ValueError', 'year -2020 is out of range'), BAD_TIME, ('ValueError', 'year -2020 is out of range'), ('ValueError', 'year -2020 is out of range'), None),
    ('2020-01-02 24:00:00', date(2020, 1, 2), BAD_TIME, None, None, None),
    ('20-01-02', date(20, 1, 2), BAD_TIME, datetime(20, 1, 2, 0, 0), datetime(20, 1, 2, 0, 0), ('ValueError', "invalid literal for int() with base 10: '20-01-02'")),
    ('2020-1-2 1:2:3', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 1, 2, 3), datetime(2020, 1, 2, 1, 2, 3), None),
    ('abc', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 10: 'abc'")),
    ('2020-01-02 13:30:15+14', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 13, 30, 15, tzinfo=timezone(timedelta(seconds=50400))), datetime(2020, 1, 2, 13, 30, 15, tzinfo=timezone(timedelta(seconds=50400))), None),
    ('2020-01-02 13:30:15+25', date(2020, 1, 2), BAD_TIME, ('ValueError', 'offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(days=1, seconds=3600).'), ('ValueError', 'offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(days=1, seconds=3600).'), None),
    ('2020-01-02 13:30:15+01:30:30', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 13, 30, 15, tzinfo=timezone(timedelta(seconds=5430))), datetime(2020, 1, 2, 13, 30, 15, tzinfo=timezone(timedelta(seconds=5430))), None),
    ('1 day', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=1)),
    ('1', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=1)),
    ('-1', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=-1, seconds=86399, microseconds=999999)),
    ('2', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=2)),
    ('1 days', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=1)),
    ('1 day 02:03:04', None, None, None, None, timedelta(days=1, seconds=7384)),
    ('-1 days -02:03:04', None, BAD_TIME, None, None, timedelta(days=-2, seconds=79016)),
    ('02:03:04', BAD_DATE, time(2, 3, 4), BAD_DATE, BAD_DATE, timedelta(seconds=7384)),
    ('-02:03:04', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=-1, seconds=79016)),
    ('1 year 2 mons 3 days', None, BAD_TIME, None, None, timedelta(days=428)),
    ('1 year', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=365)),
    ('1 mon', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=30)),
    ('1 mons', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=30)),
    ('3 days 04:05:06.789', None, None, None, None, timedelta(days=3, seconds=14706, microseconds=789000)),
    ('00:00:00.000001', BAD_DATE, time(0, 0, 0, 1), BAD_DATE, BAD_DATE, timedelta(microseconds=1)),
    ('00:00:00.0000001', BAD_DATE, None, BAD_DATE, BAD_DATE, timedelta(0)),
    ('1 day 00:00:00.5', None, None, None, None, timedelta(days=1, microseconds=500000)),
    ('999999999 days', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=999999999)),
    ('1000000000 days', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('OverflowError', 'days=1000000000; must have magnitude <= 999999999')),
    ('-999999999 days', None, BAD_TIME, None, None, timedelta(days=-999999999)),
    ('-1000000000 days', None, BAD_TIME, None, None, ('OverflowError', 'days=-1000000000; must have magnitude <= 999999999')),
    ('2147483647 days', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('OverflowError', 'days=2147483647; must have magnitude <= 999999999')),
    ('2147483647 days 23:59:59', None, None, None, None, ('OverflowError', 'days=2147483647; must have magnitude <= 999999999')),
    ('178956970 years 7 mons', None, BAD_TIME, None, None, None),
    ('-178956970 years -8 mons', None, BAD_TIME, None, None, None),
    ('100000000 years', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, None),
    ('@ 1 day', None, BAD_TIME, None, None, timedelta(days=1)),
    ('P1D', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('NotSupportedError', 'iso_8601 intervalstyle currently not supported')),
    ('1 week', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 10: '1 week'")),
    ('1 hour', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, None),
    ('1:2', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(seconds=3720)),
    ('1:2:3', BAD_DATE, time(1, 2, 3), BAD_DATE, BAD_DATE, timedelta(seconds=3723)),
    ('1 day 1:2', None, BAD_TIME, None, None, timedelta(days=1, seconds=3720)),
    ('1 day -1:2:3', None, BAD_TIME, None, None, timedelta(seconds=82677)),
    ('1 2', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 10: '1 2'")),
    ('1 days 2', None, BAD_TIME, None, None, None),
    (' 1 day', None, BAD_TIME, None, None, timedelta(days=1)),
    ('1 day ', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=1)),
    ('-0', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(0)),
    ('0', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(0)),
    ('00:00:00', BAD_DATE, time(0, 0), BAD_DATE, BAD_DATE, timedelta(0)),
    ('1.5', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 10: '1.5'")),
    ('1.5 days', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, None),
    ('1e3', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 10: '1e3'")),
    ('99999999999999999999', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('OverflowError', 'interval component too big')),
    ('1 day 99999999:00:00', None, None, None, None, timedelta(days=4166667, seconds=54000)),
    ('2562047788:00:54.775807', BAD_DATE, None, BAD_DATE, BAD_DATE, None),
    ('-2562047788:00:54.775808', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, None),
    ('2562047789:00:00', BAD_DATE, None, BAD_DATE, BAD_DATE, None),
    ('1 day 25:61:61', None, None, None, None, timedelta(days=2, seconds=7321)),
    ('10:99', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(seconds=41940)),
    ('1 year -1 mons', None, BAD_TIME, None, None, timedelta(days=335)),
    ('5 mon', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=150)),
    ('5 years 1 day 1:1:1.1', None, None, None, None, timedelta(days=1826, seconds=3661, microseconds=100000)),
    ('x', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 10: 'x'")),
    ('1 dayx', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, None),
    ('1d', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, None),
    ('01:02:03.1234567', BAD_DATE, None, BAD_DATE, BAD_DATE, timedelta(seconds=3723, microseconds=123457)),
    ('01:02:03.999999999', BAD_DATE, None, BAD_DATE, BAD_DATE, timedelta(seconds=3724)),
    ('2020-01-02 13:30:15.1234567', date(2020, 1, 2), BAD_TIME, None, None, None),
    ('2020-01-02 23:59:59.9999999', date(2020, 1, 2), BAD_TIME, None, None, None),
    ('13:30:15.9999999', BAD_DATE, None, BAD_DATE, BAD_DATE, timedelta(seconds=48616)),
    ('23:59:60', BAD_DATE, ('ValueError', 'minute must be in 0..59'), BAD_DATE, BAD_DATE, timedelta(days=1)),
    ('23:59:60.5', BAD_DATE, ('ValueError', 'minute must be in 0..59'), BAD_DATE, BAD_DATE, timedelta(days=1, microseconds=500000)),
    ('13:30:15+02:30:45', BAD_DATE, time(13, 30, 15, tzinfo=timezone(timedelta(seconds=9045))), BAD_DATE, BAD_DATE, None),
    ('13:30:15+0230', BAD_DATE, None, BAD_DATE, BAD_DATE, None),
    ('13:30:15 +02', BAD_DATE, None, BAD_DATE, BAD_DATE, None),
    ('13:30:15.5+02', BAD_DATE, time(13, 30, 15, 500000, tzinfo=timezone(timedelta(seconds=7200))), BAD_DATE, BAD_DATE, None),
    ('2020-01-02 13:30:60', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 13, 31), datetime(2020, 1, 2, 13, 31), None),
    ('2020-01-02 13:30:15.', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 13, 30, 15), datetime(2020, 1, 2, 13, 30, 15), None),
    ('2020-01-02 13:30:15.5+02:30:45', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 13, 30, 15, 500000, tzinfo=timezone(timedelta(seconds=9045))), datetime(2020, 1, 2, 13, 30, 15, 500000, tzinfo=timezone(timedelta(seconds=9045))), None),
    ('2020-01-02 1:2:3', date(2020, 1, 2), BAD_TIME, datetime(2020, 1, 2, 1, 2, 3), datetime(2020, 1, 2, 1, 2, 3), None),
    ('2020-01-02 13:30:15Z', date(2020, 1, 2), BAD_TIME, None, None, None),
    ('2020-01-02  13:30:15', date(2020, 1, 2), BAD_TIME, None, None, None),
    ('2020-01-02 13:30:15 BC', ('ValueError', 'year -2020 is out of range'), BAD_TIME, ('ValueError', 'year -2020 is out of range'), ('ValueError', 'year -2020 is out of range'), None),
    ('0010-01-02 BC', ('ValueError', 'year -10 is out of range'), BAD_TIME, BAD_TIME, BAD_TIME, ('ValueError', "invalid literal for int() with base 0: '0010-01-02 BC'")),
    ('2020-01-02 BC', ('ValueError', 'year -2020 is out of range'), BAD_TIME, BAD_TIME, BAD_TIME, ('ValueError', "invalid literal for int() with base 10: '2020-01-02 BC'")),
    ('2020-01-02 13:30', date(2020, 1, 2), BAD_TIME, BAD_TIME, BAD_TIME, None),
    ('2020-01-02 13', date(2020, 1, 2), BAD_TIME, BAD_TIME, BAD_TIME, ('ValueError', "invalid literal for int() with base 10: '2020-01-02 13'")),
    ('1 day', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=1)),
    ('1 days 01:00', None, BAD_TIME, None, None, timedelta(days=1, seconds=3600)),
    ('1 day -01:00', None, BAD_TIME, None, None, timedelta(seconds=82800)),
    ('-1 days +01:02:03', None, BAD_TIME, None, None, timedelta(days=-1, seconds=3723)),
    ('@ 1 day', None, BAD_TIME, None, None, timedelta(days=1)),
    ('1 mon 2 days', None, BAD_TIME, None, None, timedelta(days=32)),
    ('-00:00:01', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=-1, seconds=86399)),
    ('00:00:01.5', BAD_DATE, time(0, 0, 1, 500000), BAD_DATE, BAD_DATE, timedelta(seconds=1, microseconds=500000)),
    ('-00:00:01.5', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=-1, seconds=86398, microseconds=500000)),
    ('00:00:00.1234567', BAD_DATE, None, BAD_DATE, BAD_DATE, timedelta(microseconds=123457)),
    ('1 day 00:00:00.0000005', None, None, None, None, timedelta(days=1, microseconds=1)),
    ('0x10', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=16)),
    ('1_000', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=1000)),
    (' 1', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=1)),
    ('1 ', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=1)),
    ('+1', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(microseconds=1)),
    ('--1', None, BAD_TIME, None, None, ('ValueError', "invalid literal for int() with base 10: '--1'")),
    ('00', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(0)),
    ('007', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, ('ValueError', "invalid literal for int() with base 0: '007'")),
    ('9223372036854775807', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=106751991, seconds=14454, microseconds=775807)),
    ('86400000000', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=1)),
    ('86399999999999999', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=999999, seconds=86399, microseconds=999999)),
    ('-86399999999999999', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=-1000000, microseconds=1)),
    ('1 year 1 day', None, BAD_TIME, None, None, timedelta(days=366)),
    ('1 yr', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, None),
    ('2 years', BAD_DATE, BAD_TIME, BAD_DATE, BAD_DATE, timedelta(days=730)),
    ('1 mons 1 days 1:1:1', None, None, None, None, timedelta(days=31, seconds=3661)),
]

# Where this driver deliberately differs (doc/differences.rst): fractions
# of more than 6 digits are rounded (psycopg2 raises ValueError, or reads
# '.0000001' as 1 microsecond); a timestamp at 24:00:00 is refused
# (psycopg2 returns midnight of the same day); intervals up to
# PostgreSQL's largest are returned (psycopg2: "interval component too big");
# verbose units such as '1 hour' are read.  Any other None above is a
# string that is no PostgreSQL output, which raises DataError here.
CASTER_DIFFERENCES = {
    ("13:30:15.1234567", "TIME"): time(13, 30, 15, 123457),
    ("00:00:00.0000001", "TIME"): time(0, 0),
    ("23:59:59.9999995", "TIME"): time(23, 59, 59, 999999),
    ("13:30:15.9999999", "TIME"): time(13, 30, 15, 999999),
    ("01:02:03.999999999", "TIME"): time(1, 2, 3, 999999),
    ("01:02:03.1234567", "TIME"): time(1, 2, 3, 123457),
    ("00:00:00.1234567", "TIME"): time(0, 0, 0, 123457),
    ("2020-01-02 23:59:59.9999999", "DATETIME"):
        datetime(2020, 1, 2, 23, 59, 59, 999999),
    ("2020-01-02 13:30:15.1234567", "DATETIME"):
        datetime(2020, 1, 2, 13, 30, 15, 123457),
    ("2020-01-02 24:00:00", "DATETIME"): ("ValueError", "hour must be in 0..23"),
    ("2562047788:00:54.775807", "INTERVAL"):
        timedelta(days=106751991, seconds=14454, microseconds=775807),
    ("-2562047788:00:54.775808", "INTERVAL"):
        timedelta(days=-106751992, seconds=71945, microseconds=224192),
    ("2562047789:00:00", "INTERVAL"):
        timedelta(days=106751991, seconds=18000),
    ("1 hour", "INTERVAL"): timedelta(hours=1),
    ("100000000 years", "INTERVAL"): ("OverflowError",
        "days=36500000000; must have magnitude <= 999999999"),
}


def _cast_outcome(caster, s, cur):
    try:
        return caster(s, cur)
    except Exception as e:
        return (type(e).__name__, str(e))


def test_datetime_casters_table(cur):
    import psycopg2._psycopg as _psycopg

    wrong = []
    for s, *expected in CASTER_CASES:
        for name, exp in zip(CASTERS, expected):
            for prefix in ("", "PY"):
                got = _cast_outcome(getattr(_psycopg, prefix + name), s, cur)
                if exp is None:
                    exp = CASTER_DIFFERENCES.get(
                        (s, name.replace("DATETIMETZ", "DATETIME")))
                    if exp is None:
                        if not (isinstance(got, tuple)
                                and got[0] in ("DataError", "OverflowError")):
                            wrong.append((s, prefix + name, got, "DataError"))
                        continue
                if got != exp and not _same_int_error(got, exp):
                    wrong.append((s, prefix + name, got, exp))
    assert wrong == []


def _same_int_error(got, exp):
    # int()'s message names the base it guessed, differently across Python
    # versions (psycopg2 gets the same message as we do on each)
    prefix = "invalid literal for int() with base "
    return (isinstance(got, tuple) and isinstance(exp, tuple)
            and got[0] == exp[0] == "ValueError"
            and got[1].startswith(prefix) and exp[1].startswith(prefix)
            and got[1].split(": ", 1)[1] == exp[1].split(": ", 1)[1])


def test_time_caster_needs_seconds(cur):
    with pytest.raises(psycopg2.DataError, match="unable to parse time"):
        ext.TIME("13:30", cur)
    with pytest.raises(psycopg2.DataError, match="unable to parse time"):
        psycopg2.DATETIME("2020-01-02 13:30", cur)
    with pytest.raises(psycopg2.DataError, match="unable to parse time"):
        psycopg2.DATETIME("2020-01-02 13", cur)
    assert ext.TIME("13:30:00", cur) == time(13, 30)
    # the date caster takes the date of a timestamp
    assert ext.DATE("2020-01-02 13:30:15+02", cur) == date(2020, 1, 2)


def test_interval_caster_bare_number_is_microseconds(cur):
    # Redshift sends intervals as a number of microseconds
    assert ext.INTERVAL("1", cur) == timedelta(microseconds=1)
    assert ext.INTERVAL("-1", cur) == timedelta(microseconds=-1)
    assert ext.INTERVAL("86400000000", cur) == timedelta(days=1)
    with pytest.raises(OverflowError, match="interval component too big"):
        ext.INTERVAL("99999999999999999999999", cur)
    with pytest.raises(OverflowError):
        ext.INTERVAL("100000000 years", cur)
    with pytest.raises(ValueError, match="invalid literal for int"):
        ext.INTERVAL("1.5", cur)


def test_interval_from_server(cur):
    cur.execute("""select '1 day'::interval, '-1 day +02:03:04.5'::interval,
        '178000000 years'::interval < '178956970 years'::interval""")
    assert cur.fetchone() == (
        timedelta(days=1), timedelta(days=-1, seconds=7384.5), True)
    cur.execute("select '178956970 years'::interval")
    with pytest.raises(OverflowError):
        cur.fetchone()


# ---------------------------------------------------------------------------
# A typecaster raising during a fetch: the fetch moves past the bad row, as
# psycopg2 does (the rows built before it in the same call are lost).


def _bad_int(bad):
    def cast(s, cur):
        if s in bad:
            raise ZeroDivisionError("bad row %s" % s)
        return int(s)
    return ext.new_type((23,), "BADINT", cast)


def _fetch_loop(cur, fetch, limit=8):
    out = []
    for _ in range(limit):
        try:
            r = fetch()
        except ZeroDivisionError as e:
            out.append(str(e))
        else:
            out.append(r)
            if not r:
                break
        out.append(cur.rownumber)
    return out


@pytest.fixture
def badcur(conn):
    def make(bad=("2",), name=None):
        cur = conn.cursor(name) if name else conn.cursor()
        ext.register_type(_bad_int(bad), cur)
        cur.execute("select i from generate_series(1, 4) i")
        return cur
    return make


def test_fetchone_skips_bad_row(badcur):
    cur = badcur()
    assert _fetch_loop(cur, cur.fetchone) == [
        (1,), 1, "bad row 2", 2, (3,), 3, (4,), 4, None]
    assert cur.rowcount == 4


@pytest.mark.parametrize("size, expected", [
    (1, [[(1,)], 1, "bad row 2", 2, [(3,)], 3, [(4,)], 4, []]),
    (2, ["bad row 2", 2, [(3,), (4,)], 4, []]),
    (3, ["bad row 2", 2, [(3,), (4,)], 4, []]),
])
def test_fetchmany_skips_bad_row(badcur, size, expected):
    cur = badcur()
    assert _fetch_loop(cur, lambda: cur.fetchmany(size)) == expected


def test_fetchall_skips_bad_row(badcur):
    cur = badcur()
    assert _fetch_loop(cur, cur.fetchall) == [
        "bad row 2", 2, [(3,), (4,)], 4, []]
    assert cur.rownumber == 4
    cur = badcur(bad=("1", "3"))
    assert _fetch_loop(cur, cur.fetchall) == [
        "bad row 1", 1, "bad row 3", 3, [(4,)], 4, []]


def test_iteration_skips_bad_row(badcur):
    cur = badcur()
    it = iter(cur)
    got = _fetch_loop(cur, lambda: next(it, None), 6)
    assert got == [(1,), 1, "bad row 2", 2, (3,), 3, (4,), 4, None]
    cur = badcur()
    rows = []
    with pytest.raises(ZeroDivisionError):
        for r in cur:
            rows.append(r)
    assert rows == [(1,)] and cur.rownumber == 2
    assert cur.fetchall() == [(3,), (4,)]


def test_scroll_back_to_bad_row(badcur):
    cur = badcur()
    cur.scroll(1)
    with pytest.raises(ZeroDivisionError):
        cur.fetchone()
    assert cur.rownumber == 2
    cur.scroll(0, "absolute")
    assert cur.fetchone() == (1,)
    with pytest.raises(ZeroDivisionError):
        cur.fetchmany(3)
    assert cur.rownumber == 2
    assert cur.fetchall() == [(3,), (4,)]


def test_named_cursor_skips_bad_row(conn, badcur):
    cur = badcur(name="badnamed")
    assert _fetch_loop(cur, cur.fetchone) == [
        (1,), 1, "bad row 2", 1, (3,), 1, (4,), 1, None]
    conn.rollback()
    cur = badcur(name="badnamed2")
    cur.itersize = 2
    rows = []
    with pytest.raises(ZeroDivisionError):
        for r in cur:
            rows.append(r)
    assert rows == [(1,)] and (cur.rownumber, cur.rowcount) == (2, 2)
    assert list(cur) == [(3,), (4,)]


def test_row_factory_skips_bad_row(conn):
    import psycopg2.extras

    cur = conn.cursor(cursor_factory=psycopg2.extras.DictCursor)
    ext.register_type(_bad_int(("2",)), cur)
    cur.execute("select i from generate_series(1, 4) i")
    got = _fetch_loop(cur, cur.fetchone)
    assert got == [[1], 1, "bad row 2", 2, [3], 3, [4], 4, None]


# ---------------------------------------------------------------------------
# Named cursors: close() of a cursor closed or re-declared behind its back,
# WITH HOLD cursors used outside transactions.


def _status(conn):
    return conn.status, conn.info.transaction_status


def test_close_stolen_named_cursor(conn):
    cur = conn.cursor("stolen")
    cur.execute("select generate_series(1, 10)")
    conn.cursor().execute("close stolen")
    with pytest.raises(psycopg2.errors.InvalidCursorName):
        cur.close()
    assert not cur.closed
    assert _status(conn) == (ext.STATUS_BEGIN, ext.TRANSACTION_STATUS_INERROR)
    cur.close()     # in a failed transaction: nothing sent
    assert cur.closed
    conn.rollback()


def test_close_redeclared_named_cursor(conn):
    cur = conn.cursor("stolen3")
    cur.execute("select generate_series(1, 10)")
    other = conn.cursor()
    other.execute("close stolen3")
    other.execute("declare stolen3 cursor for select 'x'")
    assert cur.fetchone() == ("x",)
    cur.close()     # closes the cursor of that name
    assert cur.closed and cur.statusmessage == "CLOSE CURSOR"
    with pytest.raises(psycopg2.errors.InvalidCursorName):
        other.execute("fetch all from stolen3")
    conn.rollback()


def test_close_never_executed_named_cursor(conn):
    cur = conn.cursor("absent")
    cur.close()
    assert cur.closed and cur.statusmessage == "SELECT 0"
    assert _status(conn) == (ext.STATUS_READY, ext.TRANSACTION_STATUS_IDLE)
    # one declared by a function (a refcursor) is closed
    other = conn.cursor()
    other.execute("""create function pg_temp.rc() returns refcursor
        language plpgsql as $$ declare r refcursor := 'myrc';
        begin open r for select generate_series(1, 3); return r; end $$""")
    other.execute("select pg_temp.rc()")
    cur = conn.cursor("myrc")
    assert cur.fetchall() == [(1,), (2,), (3,)]
    cur.close()
    assert cur.closed and cur.statusmessage == "CLOSE CURSOR"
    other.execute("select count(*) from pg_cursors where name = 'myrc'")
    assert other.fetchone() == (0,)
    conn.rollback()


def test_close_named_cursor_after_commit(conn):
    cur = conn.cursor("x1")
    cur.execute("select 1")
    conn.commit()
    for _ in range(2):
        with pytest.raises(psycopg2.ProgrammingError,
                           match="named cursor isn't valid anymore"):
            cur.close()
        assert not cur.closed
    cur = conn.cursor("x3")
    cur.execute("select 1")
    conn.rollback()
    with pytest.raises(psycopg2.ProgrammingError, match="isn't valid"):
        cur.close()


def test_withhold_cursor_autocommit_stays_ready(conn):
    conn.autocommit = True
    cur = conn.cursor("wh", withhold=True)
    cur.execute("select generate_series(1, 5)")
    ready = (ext.STATUS_READY, ext.TRANSACTION_STATUS_IDLE)
    assert _status(conn) == ready
    assert cur.fetchone() == (1,)
    assert _status(conn) == ready
    assert cur.fetchmany(2) == [(2,), (3,)]
    assert _status(conn) == ready
    assert cur.fetchall() == [(4,), (5,)]
    assert _status(conn) == ready
    with pytest.raises(psycopg2.errors.ObjectNotInPrerequisiteState):
        cur.scroll(0, "absolute")
    assert _status(conn) == ready
    cur.close()
    assert _status(conn) == ready
    cur = conn.cursor("wh2", withhold=True)
    cur.execute("select generate_series(1, 3)")
    assert list(cur) == [(1,), (2,), (3,)]
    assert _status(conn) == ready
    conn.cursor().execute("close wh2")
    with pytest.raises(psycopg2.errors.InvalidCursorName):
        cur.close()
    assert not cur.closed and _status(conn) == ready


def test_withhold_cursor_after_commit_stays_ready(conn):
    cur = conn.cursor("wh4", withhold=True)
    cur.execute("select generate_series(1, 5)")
    assert conn.status == ext.STATUS_BEGIN
    conn.commit()
    ready = (ext.STATUS_READY, ext.TRANSACTION_STATUS_IDLE)
    assert cur.fetchone() == (1,)
    assert _status(conn) == ready       # no BEGIN before the FETCH
    assert list(cur) == [(2,), (3,), (4,), (5,)]
    assert _status(conn) == ready
    cur.close()
    assert _status(conn) == ready


# ---------------------------------------------------------------------------
# extras: copies of the rows, the namedtuple class cache


@pytest.fixture
def dictrow(conn):
    import psycopg2.extras

    cur = conn.cursor(cursor_factory=psycopg2.extras.DictCursor)
    cur.execute("select 1 as a, 'x' as b")
    return cur.fetchone()


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle", "pickle0"])
def test_dictrow_copies(dictrow, how):
    import copy
    import pickle

    r = dictrow
    if how == "copy":
        c = copy.copy(r)
    elif how == "deepcopy":
        c = copy.deepcopy(r)
    else:
        c = pickle.loads(pickle.dumps(r, 0 if how == "pickle0" else None))
    assert type(c) is type(r)
    assert c == [1, "x"] and len(c) == 2 and list(c) == [1, "x"]
    assert list(c.keys()) == ["a", "b"]
    assert list(c.items()) == [("a", 1), ("b", "x")]
    assert (c["a"], c[1], c.get("b"), "a" in c) == (1, "x", "x", True)
    assert c._index == r._index and c._index is not r._index
    assert not hasattr(c, "__dict__")
    c[0] = 99
    assert c == [99, "x"] and r == [1, "x"]


def test_dictrow_reduce(dictrow):
    import copyreg

    assert dictrow.__reduce_ex__(2)[0] is copyreg._reconstructor
    assert dictrow.__getstate__() == ([1, "x"], {"a": 0, "b": 1})


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_realdictrow_copies(conn, how):
    import copy
    import pickle
    import psycopg2.extras

    cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
    cur.execute("select 1 as a, 'x' as b")
    r = cur.fetchone()
    if how == "copy":
        c = copy.copy(r)
    elif how == "deepcopy":
        c = copy.deepcopy(r)
    else:
        c = pickle.loads(pickle.dumps(r))
    assert type(c) is psycopg2.extras.RealDictRow
    assert list(c.items()) == [("a", 1), ("b", "x")] and c == r
    assert vars(c) == {} and vars(r) == {}
    c["c"] = 3
    assert list(c) == ["a", "b", "c"] and list(r) == ["a", "b"]


def test_namedtuple_cache(conn):
    from psycopg2.extras import NamedTupleCursor

    cached = NamedTupleCursor._cached_make_nt
    cached.cache_clear()
    assert cached.cache_info() == (0, 0, 512, 0)
    assert cached.cache_parameters() == {"maxsize": 512, "typed": False}
    cur = conn.cursor(cursor_factory=NamedTupleCursor)
    cur.execute("select 1 as a, 2 as b")
    r1 = cur.fetchone()
    assert (type(r1).__name__, r1._fields, r1.a) == ("Record", ("a", "b"), 1)
    assert cached.cache_info() == (0, 1, 512, 1)
    cur.execute("select 3 as a, 4 as b")
    assert type(cur.fetchone()) is type(r1)
    assert cached.cache_info() == (1, 1, 512, 1)
    # called with the column names, as psycopg2's
    assert cached(("a", "b")) is type(r1)
    assert NamedTupleCursor._do_make_nt(("x y", "1z", "_w"))._fields == (
        "x_y", "f1z", "f_w")
    cached.cache_clear()
    assert cached.cache_info().currsize == 0


def test_namedtuple_cache_patched(conn):
    # code out there replaces the cache (e.g. to disable it)
    from functools import lru_cache
    from psycopg2 import extras

    saved = extras.NamedTupleCursor._cached_make_nt
    calls = []

    class MyCursor(extras.NamedTupleCursor):
        @classmethod
        def _do_make_nt(cls, key):
            calls.append(key)
            return super()._do_make_nt(key)

    try:
        extras.NamedTupleCursor._cached_make_nt = classmethod(
            lru_cache(None)(lambda cls, key: cls._do_make_nt(key)))
        cur = conn.cursor(cursor_factory=MyCursor)
        for _ in range(2):
            cur.execute("select 1 as c")
            assert cur.fetchone().c == 1
        assert calls == [("c",)]
    finally:
        extras.NamedTupleCursor._cached_make_nt = saved
