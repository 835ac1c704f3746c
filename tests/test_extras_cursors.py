"""Tests for the cursor and connection classes of psycopg2.extras: dict,
real dict and named tuple cursors, logging connections, wait_select."""

import doctest
import io
import json
import os
import logging
import pickle
import signal
import threading
import time
from collections import OrderedDict

import pytest

import psycopg2
import psycopg2.extensions as ext
import psycopg2.extras as extras
from psycopg2.extras import (
    DictConnection, DictCursor, DictCursorBase, DictRow, LoggingConnection,
    LoggingCursor, MinTimeLoggingConnection, MinTimeLoggingCursor,
    NamedTupleConnection, NamedTupleCursor, RealDictConnection,
    RealDictCursor, RealDictRow)


QUERY3 = "select x as id, x * 10 as num, 'r' || x as data " \
         "from generate_series(1, 3) x order by x"


# --- DictCursor -----------------------------------------------------------

def test_dictcursor_fetchone(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute("select 1 as a, 'x' as b")
    row = cur.fetchone()
    assert isinstance(row, DictRow)
    assert isinstance(row, list)
    assert row[0] == 1 and row[1] == "x"
    assert row["a"] == 1 and row["b"] == "x"
    assert row == [1, "x"]
    assert row[-1] == "x"
    assert row[0:1] == [1]
    assert repr(row) == "[1, 'x']"


def test_dictcursor_fetchmany_fetchall_iter(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute(QUERY3)
    rows = cur.fetchmany(2)
    assert [r["id"] for r in rows] == [1, 2]
    rows = cur.fetchall()
    assert [r["data"] for r in rows] == ["r3"]
    cur.execute(QUERY3)
    assert [r["num"] for r in cur] == [10, 20, 30]
    assert cur.fetchone() is None


def test_dictrow_mapping_methods(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute("select 1 as a, 'x' as b, null as c")
    row = cur.fetchone()
    assert list(row.keys()) == ["a", "b", "c"]
    assert list(row.values()) == [1, "x", None]
    assert list(row.items()) == [("a", 1), ("b", "x"), ("c", None)]
    assert dict(row.items()) == {"a": 1, "b": "x", "c": None}
    assert row.get("a") == 1
    assert row.get("zz") is None
    assert row.get("zz", 42) == 42
    assert row.get(1) == "x"
    assert row.get(10, "d") == "d"
    assert "a" in row and "zz" not in row
    assert 1 not in row     # `in` looks at the keys
    copy = row.copy()
    assert isinstance(copy, OrderedDict)
    assert copy == OrderedDict([("a", 1), ("b", "x"), ("c", None)])


def test_dictrow_errors(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute("select 1 as a")
    row = cur.fetchone()
    with pytest.raises(KeyError):
        row["nope"]
    with pytest.raises(IndexError):
        row[5]


def test_dictrow_setitem(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute("select 1 as a, 2 as b")
    row = cur.fetchone()
    row["b"] = 20
    row[0] = 10
    assert row == [10, 20]
    assert row["a"] == 10


def test_dictrow_pickle(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute("select 1 as a, 'x' as b")
    row = cur.fetchone()
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        row2 = pickle.loads(pickle.dumps(row, proto))
        assert isinstance(row2, DictRow)
        assert row2 == [1, "x"]
        assert row2["b"] == "x"
        assert list(row2.keys()) == ["a", "b"]


def test_dictcursor_duplicate_columns(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute("select 1 as a, 2 as a, 3 as b")
    row = cur.fetchone()
    assert row == [1, 2, 3]
    assert row["a"] == 2
    assert list(row.keys()) == ["a", "b"]


def test_dictcursor_index(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute("select 1 as a, 2 as b")
    cur.fetchone()
    assert cur.index == OrderedDict([("a", 0), ("b", 1)])
    cur.execute("select 1 as c")
    cur.fetchone()
    assert cur.index == OrderedDict([("c", 0)])


def test_dictcursor_old_rows_keep_their_keys(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute("select 1 as a")
    r1 = cur.fetchone()
    cur.execute("select 2 as b")
    r2 = cur.fetchone()
    assert r1["a"] == 1 and list(r1.keys()) == ["a"]
    assert r2["b"] == 2 and list(r2.keys()) == ["b"]


def test_dictcursor_scroll(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute(QUERY3)
    cur.scroll(2)
    assert cur.fetchone()["id"] == 3
    cur.scroll(0, "absolute")
    assert cur.fetchone()["data"] == "r1"


def test_dictcursor_empty_result(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.execute("select 1 as a where false")
    assert cur.fetchall() == []
    assert cur.fetchone() is None


def test_dictcursor_callproc(conn):
    cur = conn.cursor(cursor_factory=DictCursor)
    cur.callproc("abs", (-5,))
    row = cur.fetchone()
    assert row["abs"] == 5


def test_dictcursor_named(conn):
    cur = conn.cursor("dictnamed", cursor_factory=DictCursor)
    cur.itersize = 2
    cur.execute("select x as n from generate_series(1, 5) x")
    assert [r["n"] for r in cur] == [1, 2, 3, 4, 5]


def test_dictcursor_named_fetch_methods(conn):
    cur = conn.cursor("dictnamed2", cursor_factory=DictCursor)
    cur.execute(QUERY3)
    assert cur.fetchone()["id"] == 1
    assert [r["num"] for r in cur.fetchmany(1)] == [20]
    assert [r["data"] for r in cur.fetchall()] == ["r3"]


def test_dictcursor_in_with_block(conn):
    with conn.cursor(cursor_factory=DictCursor) as cur:
        cur.execute("select 1 as a")
        assert cur.fetchone()["a"] == 1
    assert cur.closed


def test_dictcursorbase_needs_row_factory(conn):
    with pytest.raises(NotImplementedError):
        DictCursorBase(conn)


def test_dictconnection(dsn):
    conn = psycopg2.connect(dsn, connection_factory=DictConnection)
    try:
        cur = conn.cursor()
        assert isinstance(cur, DictCursor)
        cur.execute("select 1 as a")
        assert cur.fetchone()["a"] == 1
        # an explicit factory wins
        assert type(conn.cursor(cursor_factory=ext.cursor)) is ext.cursor
        assert isinstance(conn.cursor("n"), DictCursor)
    finally:
        conn.close()


def test_dictconnection_honours_cursor_factory(dsn):
    conn = psycopg2.connect(dsn, connection_factory=DictConnection,
                            cursor_factory=RealDictCursor)
    try:
        assert isinstance(conn.cursor(), RealDictCursor)
    finally:
        conn.close()


def test_connect_cursor_factory(dsn):
    conn = psycopg2.connect(dsn, cursor_factory=DictCursor)
    try:
        cur = conn.cursor()
        assert isinstance(cur, DictCursor)
        cur.execute("select 1 as a")
        assert cur.fetchone()["a"] == 1
    finally:
        conn.close()


# --- RealDictCursor -------------------------------------------------------

def test_realdictcursor_rows(conn):
    cur = conn.cursor(cursor_factory=RealDictCursor)
    cur.execute(QUERY3)
    row = cur.fetchone()
    assert isinstance(row, RealDictRow)
    assert isinstance(row, dict)
    assert row == {"id": 1, "num": 10, "data": "r1"}
    assert list(row) == ["id", "num", "data"]
    assert [r["id"] for r in cur.fetchmany(1)] == [2]
    assert cur.fetchall() == [{"id": 3, "num": 30, "data": "r3"}]
    cur.execute(QUERY3)
    assert [r["data"] for r in cur] == ["r1", "r2", "r3"]


def test_realdictrow_is_a_real_dict(conn):
    cur = conn.cursor(cursor_factory=RealDictCursor)
    cur.execute("select 1 as a, 'x' as b")
    row = cur.fetchone()
    with pytest.raises(KeyError):
        row[0]
    assert json.loads(json.dumps(row)) == {"a": 1, "b": "x"}
    row["c"] = 3
    assert row == {"a": 1, "b": "x", "c": 3}
    assert repr(cur.fetchall()) == "[]"


def test_realdictrow_repr_copy_pickle(conn):
    cur = conn.cursor(cursor_factory=RealDictCursor)
    cur.execute("select 1 as a, 'x' as b")
    row = cur.fetchone()
    # the repr of an OrderedDict, whose format changed in Python 3.12
    assert repr(row) == repr(OrderedDict([("a", 1), ("b", "x")])).replace(
        "OrderedDict", "RealDictRow")
    c = row.copy()
    assert isinstance(c, RealDictRow) and c == row
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        r2 = pickle.loads(pickle.dumps(row, proto))
        assert isinstance(r2, RealDictRow)
        assert r2 == row
        assert list(r2) == ["a", "b"]
        r2[0] = "zero"      # an ordinary dict now: int keys are keys
        assert r2[0] == "zero"


def test_realdictrow_built_by_hand():
    r = RealDictRow(a=1)
    r["b"] = 2
    assert r == {"a": 1, "b": 2}
    assert RealDictRow([("x", 1)]) == {"x": 1}


def test_realdictcursor_duplicate_columns(conn):
    cur = conn.cursor(cursor_factory=RealDictCursor)
    cur.execute("select 1 as a, 'x' as b, 3 as a")
    assert cur.fetchall() == [{"a": 3, "b": "x"}]


def test_realdictcursor_column_mapping(conn):
    cur = conn.cursor(cursor_factory=RealDictCursor)
    cur.execute("select 1 as a, 2 as b")
    cur.fetchone()
    assert cur.column_mapping == ["a", "b"]


def test_realdictcursor_named(conn):
    cur = conn.cursor("rdnamed", cursor_factory=RealDictCursor)
    cur.itersize = 2
    cur.execute("select x as n, -x as m from generate_series(1, 5) x")
    rows = list(cur)
    assert rows == [{"n": i, "m": -i} for i in range(1, 6)]


def test_realdictcursor_named_fetch(conn):
    cur = conn.cursor("rdnamed2", cursor_factory=RealDictCursor)
    cur.execute(QUERY3)
    assert cur.fetchone() == {"id": 1, "num": 10, "data": "r1"}
    assert cur.fetchmany(1) == [{"id": 2, "num": 20, "data": "r2"}]
    assert cur.fetchall() == [{"id": 3, "num": 30, "data": "r3"}]


def test_realdictcursor_old_rows(conn):
    cur = conn.cursor(cursor_factory=RealDictCursor)
    cur.execute("select 1 as a")
    r1 = cur.fetchone()
    cur.execute("select 2 as b, 3 as c")
    r2 = cur.fetchone()
    assert r1 == {"a": 1}
    assert r2 == {"b": 2, "c": 3}


def test_realdictconnection(dsn):
    conn = psycopg2.connect(dsn, connection_factory=RealDictConnection)
    try:
        cur = conn.cursor()
        assert isinstance(cur, RealDictCursor)
        cur.execute("select 1 as a")
        assert cur.fetchone() == {"a": 1}
    finally:
        conn.close()


# --- NamedTupleCursor -----------------------------------------------------

def test_namedtuple_fetchone(conn):
    cur = conn.cursor(cursor_factory=NamedTupleCursor)
    cur.execute(QUERY3)
    rec = cur.fetchone()
    assert isinstance(rec, tuple)
    assert type(rec).__name__ == "Record"
    assert rec.id == 1 and rec.num == 10 and rec.data == "r1"
    assert rec[2] == "r1"
    assert rec == (1, 10, "r1")
    assert rec._fields == ("id", "num", "data")
    assert repr(rec) == "Record(id=1, num=10, data='r1')"


def test_namedtuple_fetchmany_fetchall_iter(conn):
    cur = conn.cursor(cursor_factory=NamedTupleCursor)
    cur.execute(QUERY3)
    assert [r.id for r in cur.fetchmany(2)] == [1, 2]
    assert [r.data for r in cur.fetchall()] == ["r3"]
    assert cur.fetchone() is None
    assert cur.fetchall() == []
    cur.execute(QUERY3)
    assert [r.num for r in cur] == [10, 20, 30]
    cur.execute(QUERY3)
    cur.arraysize = 2
    assert [r.id for r in cur.fetchmany()] == [1, 2]


def test_namedtuple_empty(conn):
    cur = conn.cursor(cursor_factory=NamedTupleCursor)
    cur.execute("select 1 as a where false")
    assert cur.fetchone() is None
    assert cur.fetchall() == []
    assert list(cur) == []


def test_namedtuple_class_cached(conn):
    cur = conn.cursor(cursor_factory=NamedTupleCursor)
    cur.execute("select 1 as a, 2 as b")
    r1 = cur.fetchone()
    cur.execute("select 3 as a, 4 as b")
    r2 = cur.fetchone()
    assert type(r1) is type(r2)
    cur2 = conn.cursor(cursor_factory=NamedTupleCursor)
    cur2.execute("select 5 as a, 6 as b")
    assert type(cur2.fetchone()) is type(r1)
    cur.execute("select 1 as b, 2 as a")
    r3 = cur.fetchone()
    assert type(r3) is not type(r1)
    assert r3.a == 2


def test_namedtuple_record_reset(conn):
    cur = conn.cursor(cursor_factory=NamedTupleCursor)
    cur.execute("select 1 as a")
    assert cur.fetchone().a == 1
    cur.execute("select 2 as b")
    assert cur.fetchone().b == 2


def test_namedtuple_invalid_names(conn):
    cur = conn.cursor(cursor_factory=NamedTupleCursor)
    cur.execute('select 1, 2 as "a b", 3 as "_x", 4 as "1abc", '
                '5 as "a-b.c", 6 as "x\xe9"')
    rec = cur.fetchone()
    assert rec._fields == ("f_column_", "a_b", "f_x", "f1abc", "a_b_c",
                           "x\xe9")
    assert rec.f_column_ == 1 and rec.a_b == 2 and rec.f1abc == 4


def test_namedtuple_bad_names_raise(conn):
    cur = conn.cursor(cursor_factory=NamedTupleCursor)
    cur.execute("select 1 as a, 2 as a")
    with pytest.raises(ValueError):
        cur.fetchone()
    cur.execute('select 1 as "class"')
    with pytest.raises(ValueError):
        cur.fetchall()


def test_namedtuple_named_cursor(conn):
    cur = conn.cursor("ntnamed", cursor_factory=NamedTupleCursor)
    cur.itersize = 2
    cur.execute("select x as n from generate_series(1, 5) x")
    assert [r.n for r in cur] == [1, 2, 3, 4, 5]


def test_namedtuple_named_cursor_fetch(conn):
    cur = conn.cursor("ntnamed2", cursor_factory=NamedTupleCursor)
    cur.execute(QUERY3)
    assert cur.fetchone().id == 1
    assert [r.id for r in cur.fetchmany(1)] == [2]
    assert [r.id for r in cur.fetchall()] == [3]


def test_namedtuple_callproc_and_executemany(conn):
    cur = conn.cursor(cursor_factory=NamedTupleCursor)
    cur.callproc("abs", (-3,))
    assert cur.fetchone().abs == 3
    cur.execute("create temp table tnt (x int)")
    cur.executemany("insert into tnt values (%s)", [(1,), (2,)])
    cur.execute("select x from tnt order by x")
    assert [r.x for r in cur.fetchall()] == [1, 2]


def test_namedtupleconnection(dsn):
    conn = psycopg2.connect(dsn, connection_factory=NamedTupleConnection)
    try:
        cur = conn.cursor()
        assert isinstance(cur, NamedTupleCursor)
        cur.execute("select 1 as a")
        assert cur.fetchone().a == 1
    finally:
        conn.close()


# --- all the row factories -------------------------------------------------

@pytest.mark.parametrize("factory", [DictCursor, RealDictCursor,
                                     NamedTupleCursor])
@pytest.mark.parametrize("name", [None, "bigiter"])
def test_iterate_many_rows(conn, factory, name):
    # more rows than the recursion limit: iteration must not recurse
    if name:
        cur = conn.cursor(name, cursor_factory=factory)
    else:
        cur = conn.cursor(cursor_factory=factory)
    cur.execute("select x as n from generate_series(1, 5000) x")
    total = 0
    for row in cur:
        total += row.n if factory is NamedTupleCursor else row["n"]
    assert total == sum(range(1, 5001))


@pytest.mark.parametrize("factory", [DictCursor, RealDictCursor,
                                     NamedTupleCursor])
def test_fetch_after_iteration_stopped(conn, factory):
    cur = conn.cursor(cursor_factory=factory)
    cur.execute("select x as n from generate_series(1, 3) x")
    it = iter(cur)
    next(it)
    assert len(cur.fetchall()) == 2
    assert list(it) == []


# --- Logging --------------------------------------------------------------

@pytest.fixture
def logconn(dsn):
    c = psycopg2.connect(dsn, connection_factory=LoggingConnection)
    yield c
    c.close()


def test_logging_needs_initialize(logconn):
    with pytest.raises(psycopg2.ProgrammingError, match="initialize"):
        logconn.cursor()


def test_logging_to_file(logconn):
    f = io.StringIO()
    logconn.initialize(f)
    cur = logconn.cursor()
    assert isinstance(cur, LoggingCursor)
    cur.execute("select %s, %s", (1, "x"))
    cur.execute("select 2")
    assert f.getvalue().splitlines() == ["select 1, 'x'", "select 2"]


def test_logging_failed_query(logconn):
    f = io.StringIO()
    logconn.initialize(f)
    cur = logconn.cursor()
    with pytest.raises(psycopg2.ProgrammingError):
        cur.execute("selectt 1")
    assert f.getvalue().splitlines() == ["selectt 1"]


def test_logging_callproc(logconn):
    f = io.StringIO()
    logconn.initialize(f)
    cur = logconn.cursor()
    cur.callproc("abs", (-1,))
    assert cur.fetchone() == (1,)
    assert "abs" in f.getvalue()


def test_logging_to_logger(logconn, caplog):
    logger = logging.getLogger("test_extras.logconn")
    logconn.initialize(logger)
    with caplog.at_level(logging.DEBUG, logger="test_extras.logconn"):
        logconn.cursor().execute("select 42")
    msgs = [r.getMessage() for r in caplog.records
            if r.name == "test_extras.logconn"]
    assert len(msgs) == 1
    assert "select 42" in msgs[0]
    assert caplog.records[-1].levelno == logging.DEBUG


def test_logging_to_logger_adapter(logconn, caplog):
    logger = logging.LoggerAdapter(
        logging.getLogger("test_extras.adapter"), {})
    logconn.initialize(logger)
    with caplog.at_level(logging.DEBUG, logger="test_extras.adapter"):
        logconn.cursor().execute("select 43")
    assert any("select 43" in r.getMessage() for r in caplog.records)


def test_logging_filter_override(dsn):
    class Quiet(LoggingConnection):
        def filter(self, msg, curs):
            if b"secret" in msg:
                return None
            return msg.decode().upper()

    conn = psycopg2.connect(dsn, connection_factory=Quiet)
    try:
        f = io.StringIO()
        conn.initialize(f)
        cur = conn.cursor()
        cur.execute("select 'secret'")
        cur.execute("select 'public'")
        assert f.getvalue().splitlines() == ["SELECT 'PUBLIC'"]
    finally:
        conn.close()


def test_logging_custom_cursor_factory(logconn):
    logconn.initialize(io.StringIO())
    cur = logconn.cursor(cursor_factory=MinTimeLoggingCursor)
    assert isinstance(cur, MinTimeLoggingCursor)


@pytest.fixture
def mintimeconn(dsn):
    c = psycopg2.connect(dsn, connection_factory=MinTimeLoggingConnection)
    yield c
    c.close()


def test_mintime_logs_slow(mintimeconn):
    f = io.StringIO()
    mintimeconn.initialize(f, mintime=-1)
    cur = mintimeconn.cursor()
    assert isinstance(cur, MinTimeLoggingCursor)
    cur.execute("select 1")
    lines = f.getvalue().splitlines()
    assert lines[0] == "select 1"
    assert lines[1].startswith("  (execution time: ")
    assert lines[1].endswith(" ms)")


def test_mintime_skips_fast(mintimeconn):
    f = io.StringIO()
    mintimeconn.initialize(f, mintime=10 ** 9)
    cur = mintimeconn.cursor()
    cur.execute("select 1")
    cur.callproc("abs", (-1,))
    assert f.getvalue() == ""


def test_mintime_default(mintimeconn):
    mintimeconn.initialize(io.StringIO())
    cur = mintimeconn.cursor()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


# --- wait_select ----------------------------------------------------------

@pytest.fixture
def green(dsn):
    """A connection with wait_select as the global wait callback."""
    ext.set_wait_callback(extras.wait_select)
    try:
        assert ext.get_wait_callback() is extras.wait_select
        c = psycopg2.connect(dsn)
        try:
            yield c
        finally:
            c.close()
    finally:
        ext.set_wait_callback(None)


def test_wait_select_queries(green):
    cur = green.cursor()
    cur.execute("select x from generate_series(1, 1000) x")
    assert len(cur.fetchall()) == 1000
    with pytest.raises(psycopg2.errors.DivisionByZero):
        cur.execute("select 1/0")
    green.rollback()
    cur.execute("select 'ok'")
    assert cur.fetchone() == ("ok",)


def test_wait_select_cancel_on_keyboard_interrupt(green, dsn):
    pid = green.get_backend_pid()
    main_ident = threading.get_ident()
    monitor = psycopg2.connect(dsn)
    monitor.autocommit = True

    def interrupt_when_running():
        # wait until the query is running on the server, then Ctrl-C
        mcur = monitor.cursor()
        for _ in range(2000):
            mcur.execute(
                "select state, query from pg_stat_activity where pid = %s",
                (pid,))
            row = mcur.fetchone()
            if row and row[0] == "active" and "pg_sleep" in row[1]:
                # a real signal, to wake the main thread up from select()
                signal.pthread_kill(main_ident, signal.SIGINT)
                return
            time.sleep(0.01)

    t = threading.Thread(target=interrupt_when_running)
    t.start()
    try:
        cur = green.cursor()
        with pytest.raises(ext.QueryCanceledError):
            cur.execute("select pg_sleep(30)")
    finally:
        t.join()
        monitor.close()
    green.rollback()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_wait_select_async_connection(dsn):
    aconn = psycopg2.connect(dsn, async_=True)
    try:
        extras.wait_select(aconn)
        cur = aconn.cursor()
        cur.execute("select 10")
        extras.wait_select(aconn)
        assert cur.fetchone() == (10,)
    finally:
        aconn.close()


# --- documentation ----------------------------------------------------------

def run_doctests(tests):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = []
    for test in tests:
        runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    return runner.tries


@pytest.fixture
def saved_globals():
    """Undo the global registrations (adapters, typecasters) of a test."""
    adapters = dict(ext.adapters)
    string_types = dict(ext.string_types)
    yield
    ext.adapters.clear()
    ext.adapters.update(adapters)
    ext.string_types.clear()
    ext.string_types.update(string_types)


def test_doc_page_examples(conn, dsn, saved_globals):
    path = os.path.join(os.path.dirname(__file__), "..", "doc", "extras.rst")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    test = doctest.DocTestParser().get_doctest(
        text, {"conn": conn, "dsn": dsn}, "extras.rst", path, 0)
    assert run_doctests([test]) > 50
