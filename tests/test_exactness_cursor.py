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
