"""Tests of the client-side cursor: execute, parameters, fetch, attributes."""

import datetime
import decimal
import pickle
import threading
import weakref

import pytest

import psycopg2
import psycopg2.extensions as ext
from psycopg2 import sql


@pytest.fixture
def cur(conn):
    c = conn.cursor()
    yield c
    c.close()


# ---------------------------------------------------------------------------
# Attributes of a new cursor


def test_defaults(cur, conn):
    assert cur.rowcount == -1
    assert cur.rownumber == 0
    assert cur.arraysize == 1
    assert cur.itersize == 2000
    assert cur.description is None
    assert cur.query is None
    assert cur.statusmessage is None
    assert cur.lastrowid == 0
    assert cur.closed is False
    assert cur.name is None
    assert cur.scrollable is None
    assert cur.withhold is False
    assert cur.connection is conn
    assert cur.row_factory is None
    assert cur.tzinfo_factory is datetime.timezone
    assert cur.string_types is None
    assert cur.binary_types is None
    assert cur.pgresult_ptr is None
    assert cur.typecaster is None
    assert repr(cur).startswith("<cursor object at 0x")
    assert type(cur) is ext.cursor


def test_readonly_attributes(cur):
    with pytest.raises(AttributeError):
        cur.rowcount = 10
    with pytest.raises(AttributeError):
        cur.description = None
    with pytest.raises(AttributeError):
        cur.connection = None


def test_writable_attributes(cur):
    cur.arraysize = 5
    cur.itersize = 10
    assert (cur.arraysize, cur.itersize) == (5, 10)
    with pytest.raises(TypeError):
        cur.arraysize = "a"


def test_withhold_scrollable_unnamed(cur):
    with pytest.raises(psycopg2.ProgrammingError):
        cur.withhold = True
    with pytest.raises(psycopg2.ProgrammingError):
        cur.scrollable = True


def test_constructor(conn):
    c = ext.cursor(conn)
    assert c.connection is conn and c.name is None
    assert ext.cursor(conn, "foo").name == "foo"
    assert ext.cursor(conn, b"foo").name == "foo"
    with pytest.raises(TypeError):
        ext.cursor(conn, 3)
    with pytest.raises(TypeError):
        ext.cursor(None)
    with pytest.raises(TypeError):
        ext.cursor()


def test_subclass_dict_weakref(conn):
    class MyCursor(ext.cursor):
        def execute(self, query, vars=None):
            self.seen = query
            return super().execute(query, vars)

    c = conn.cursor(cursor_factory=MyCursor)
    c.execute("select %s", (42,))
    assert c.seen == "select %s"
    assert c.fetchone() == (42,)
    c.foo = "bar"
    assert c.__dict__["foo"] == "bar"
    r = weakref.ref(c)
    assert r() is c
    del c
    assert r() is None


# ---------------------------------------------------------------------------
# execute() and parameters


def test_execute_returns_none(cur):
    assert cur.execute("select 1") is None
    assert cur.fetchall() == [(1,)]
    assert cur.query == b"select 1"
    assert cur.statusmessage == "SELECT 1"
    assert cur.rowcount == 1


def test_positional_params(cur):
    cur.execute("select %s, %s, %s, %s", (1, "a'b", None, 1.5))
    assert cur.fetchone() == (1, "a'b", None, 1.5)
    assert cur.query == b"select 1, 'a''b', NULL, 1.5"
    cur.execute("select %s", [10])
    assert cur.fetchone() == (10,)


def test_named_params(cur):
    cur.execute("select %(a)s, %(b)s, %(a)s", {"a": 1, "b": "x", "c": 3})
    assert cur.fetchone() == (1, "x", 1)
    assert cur.query == b"select 1, 'x', 1"


def test_percent_escape(cur):
    cur.execute("select 'a%%', %s", (1,))
    assert cur.fetchone() == ("a%", 1)
    cur.execute("select 'a%%'", ())
    assert cur.fetchone() == ("a%",)
    # no vars: the query is not formatted at all
    cur.execute("select 'a%%'")
    assert cur.fetchone() == ("a%%",)
    cur.execute("select 'a%'")
    assert cur.fetchone() == ("a%",)


def test_mogrify(cur):
    assert cur.mogrify("select %s, %s", (1, "x")) == b"select 1, 'x'"
    assert cur.mogrify("select %(x)s", {"x": None}) == b"select NULL"
    assert cur.mogrify(b"select %s", [True]) == b"select true"
    assert cur.mogrify("select 1") == b"select 1"
    assert cur.mogrify(query="select %s", vars=(2,)) == b"select 2"
    assert cur.mogrify("select %s", ["\u20ac"]) == "select '\u20ac'".encode()


@pytest.mark.parametrize("query, vars, exc, msg", [
    ("select %s, %s", (1,), IndexError, "tuple index out of range"),
    ("select %s, %s", [1], IndexError, "list index out of range"),
    ("select %s", (1, 2), TypeError,
     "not all arguments converted during string formatting"),
    ("select %s", "abc", TypeError, "not all arguments converted"),
    ("select %d", (1,), ValueError,
     "unsupported format character 'd' (0x64) at index 8"),
    ("select %(a)d", {"a": 1}, ValueError,
     "unsupported format character 'd' (0x64) at index 11"),
    ("select %(a)", {"a": 1}, ValueError, "incomplete format"),
    ("select %(a)s, %s", {"a": 1}, psycopg2.ProgrammingError,
     "argument formats can't be mixed"),
    ("select %s, %(a)s", (1,), psycopg2.ProgrammingError,
     "argument formats can't be mixed"),
    ("select %(a)s", {}, KeyError, "a"),
    ("select %(a", {"a": 1}, psycopg2.ProgrammingError,
     "incomplete placeholder"),
    ("select %s", 42, TypeError, "does not support indexing"),
    ("select %s", {"a": 1}, TypeError, "dict is not a sequence"),
    ("select %(a)s", (1,), TypeError, "tuple indices must be integers"),
    ("select %s", [object()], psycopg2.ProgrammingError, "can't adapt"),
])
def test_param_errors(conn, query, vars, exc, msg):
    cur = conn.cursor()
    with pytest.raises(exc) as excinfo:
        cur.execute(query, vars)
    assert msg in str(excinfo.value)
    with pytest.raises(exc):
        cur.mogrify(query, vars)
    # nothing was sent: the connection is fine
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_bad_query_type(cur):
    with pytest.raises(TypeError, match="argument 1 must be a string"):
        cur.execute(42)


def test_extra_args_without_placeholders(cur):
    cur.execute("select 1", [1])
    assert cur.fetchone() == (1,)
    cur.execute("select 1", {"a": 1})
    assert cur.fetchone() == (1,)


def test_nul_in_query(conn, cur):
    with pytest.raises(ValueError, match="NUL"):
        cur.execute("select 'a\x00b'")
    with pytest.raises(ValueError, match="NUL"):
        cur.execute("select %s", ["a\x00b"])
    cur.execute("select 2")
    assert cur.fetchone() == (2,)
    conn.commit()


def test_composable(cur):
    q = sql.SQL("select {} from {}").format(
        sql.Literal(3), sql.SQL("generate_series(1, %s)"))
    cur.execute(q, (2,))
    assert cur.fetchall() == [(3,), (3,)]
    assert cur.query == b"select 3 from generate_series(1, 2)"
    assert cur.mogrify(sql.SQL("select {}").format(sql.Identifier("a"))) \
        == b'select "a"'


def test_empty_query(cur):
    with pytest.raises(psycopg2.ProgrammingError, match="empty query"):
        cur.execute("")
    cur.execute("select 1")


def test_command_results(conn, cur):
    cur.execute("create temp table t (id serial, data text)")
    assert cur.rowcount == -1
    assert cur.statusmessage == "CREATE TABLE"
    assert cur.description is None
    with pytest.raises(psycopg2.ProgrammingError, match="no results to fetch"):
        cur.fetchone()
    cur.execute("insert into t (data) values ('a'), ('b'), ('c')")
    assert cur.rowcount == 3
    assert cur.statusmessage == "INSERT 0 3"
    assert cur.lastrowid == 0
    assert cur.pgresult_ptr is None
    cur.execute("select 1")
    assert isinstance(cur.pgresult_ptr, int)
    cur.execute("update t set data = 'x' where id > 1")
    assert cur.rowcount == 2
    cur.execute("delete from t where id = 100")
    assert cur.rowcount == 0
    with pytest.raises(psycopg2.ProgrammingError):
        list(cur)


def test_multiple_statements(cur):
    cur.execute("select 1; select 2, 3")
    assert cur.fetchall() == [(2, 3)]
    assert len(cur.description) == 2
    cur.execute("select 1; create temp table t2 (a int)")
    assert cur.description is None
    assert cur.statusmessage == "CREATE TABLE"


def test_error_then_rollback(conn, cur):
    cur.execute("select 1")
    with pytest.raises(psycopg2.errors.DivisionByZero) as excinfo:
        cur.execute("select 1/0")
    assert excinfo.value.pgcode == "22012"
    assert excinfo.value.cursor is cur
    assert cur.rowcount == -1
    assert cur.description is None
    assert cur.statusmessage == ""
    assert cur.query == b"select 1/0"
    with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
        cur.execute("select 1")
    conn.rollback()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_error_in_multiple_statements(conn, cur):
    with pytest.raises(psycopg2.errors.DivisionByZero):
        cur.execute("select 2; select 1/0")
    conn.rollback()
    with pytest.raises(psycopg2.errors.UndefinedTable):
        cur.execute("select * from nosuchtable; select 1")
    conn.rollback()


def test_copy_via_execute_refused(conn, cur):
    cur.execute("create temp table tc (a int)")
    cur.execute("insert into tc values (1), (2)")
    with pytest.raises(psycopg2.ProgrammingError, match="copy_to"):
        cur.execute("copy tc to stdout")
    # COPY TO is drained: the transaction is fine
    cur.execute("select count(*) from tc")
    assert cur.fetchone() == (2,)
    with pytest.raises(psycopg2.ProgrammingError, match="copy_from"):
        cur.execute("copy tc from stdin")
    conn.rollback()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_nextset(cur):
    with pytest.raises(psycopg2.NotSupportedError):
        cur.nextset()


def test_setsizes(cur):
    assert cur.setinputsizes(10) is None
    assert cur.setoutputsize(10) is None
    assert cur.setoutputsize(10, 1) is None


# ---------------------------------------------------------------------------
# fetch


def test_fetch_methods(cur):
    cur.execute("select generate_series(1, 10)")
    assert cur.fetchone() == (1,)
    assert cur.rownumber == 1
    assert cur.fetchmany(3) == [(2,), (3,), (4,)]
    assert cur.fetchmany() == [(5,)]
    cur.arraysize = 2
    assert cur.fetchmany() == [(6,), (7,)]
    assert cur.fetchmany(size=0) == []
    assert cur.fetchall() == [(8,), (9,), (10,)]
    assert cur.rownumber == 10
    assert cur.fetchone() is None
    assert cur.fetchall() == []
    assert cur.fetchmany(5) == []


def test_fetchmany_negative(cur):
    cur.execute("select generate_series(1, 5)")
    assert cur.fetchmany(-1) == [(1,), (2,), (3,), (4,), (5,)]


def test_iteration(cur):
    cur.execute("select generate_series(1, 3)")
    assert iter(cur) is cur
    assert list(cur) == [(1,), (2,), (3,)]
    assert list(cur) == []
    cur.execute("select generate_series(1, 3)")
    assert next(cur) == (1,)
    assert [r for r in cur] == [(2,), (3,)]
    with pytest.raises(StopIteration):
        next(cur)


def test_scroll(cur):
    cur.execute("select generate_series(0, 9)")
    cur.scroll(2)
    assert cur.fetchone() == (2,)
    cur.scroll(0, "absolute")
    assert cur.fetchone() == (0,)
    cur.scroll(9, mode="absolute")
    assert cur.rownumber == 9
    assert cur.fetchone() == (9,)
    cur.scroll(-10)
    assert cur.fetchone() == (0,)
    for args in [(10, "absolute"), (-1, "absolute"), (-100,), (20,)]:
        with pytest.raises(psycopg2.ProgrammingError, match="out of bounds"):
            cur.scroll(*args)
    assert cur.rownumber == 1
    with pytest.raises(psycopg2.ProgrammingError, match="scroll mode"):
        cur.scroll(0, "foo")
    with pytest.raises(TypeError):
        cur.scroll("a")


def test_scroll_no_result(cur):
    with pytest.raises(psycopg2.ProgrammingError):
        cur.scroll(0)


def test_types_and_nulls(cur):
    cur.execute("""
        select 1::int4, 2::int8, 1.5::float8, 1.25::numeric, 'x'::text,
               true, '2020-01-02'::date, '2020-01-02 03:04:05+02'::timestamptz,
               '\\x0001'::bytea, null::int4, null::text, null::numeric,
               null::date, null::bytea, array[1, null, 3]
        """)
    row = cur.fetchone()
    assert row[:7] == (1, 2, 1.5, decimal.Decimal("1.25"), "x", True,
                       datetime.date(2020, 1, 2))
    assert row[7] == datetime.datetime(
        2020, 1, 2, 1, 4, 5, tzinfo=datetime.timezone.utc)
    assert isinstance(row[7].tzinfo, datetime.timezone)
    assert bytes(row[8]) == b"\x00\x01"
    assert row[9:14] == (None,) * 5
    assert row[14] == [1, None, 3]


def test_unicode(conn, cur):
    s = "\u20ac \u00e8 \U0001f600 ascii"
    cur.execute("select %s, %s::text", (s, s))
    assert cur.fetchone() == (s, s)
    cur.execute("select %(\u00e8)s", {"\u00e8": s})
    assert cur.fetchone() == (s,)
    cur.execute("select 1 as \"\u00e8\u20ac\"")
    assert cur.description[0].name == "\u00e8\u20ac"


def test_large_result(cur):
    cur.execute("select i, i::text, null from generate_series(1, 100000) i")
    rows = cur.fetchall()
    assert len(rows) == 100000
    assert rows[0] == (1, "1", None)
    assert rows[-1] == (100000, "100000", None)
    assert cur.rowcount == 100000


def test_rows_are_tuples_gc_safe(cur):
    import gc
    cur.execute("select i, ARRAY[i] from generate_series(1, 100) i")
    rows = cur.fetchall()
    gc.collect()
    assert rows[5] == (6, [6])
    assert gc.is_tracked(rows[5])       # holds a list: must stay tracked


def test_big_result_gc_state(cur):
    import gc
    assert gc.isenabled()
    cur.execute("select i, '\\x01'::bytea, 'x' from generate_series(1, 5000) i")
    rows = cur.fetchall()
    assert gc.isenabled()
    assert gc.is_tracked(rows) and gc.is_tracked(rows[10])
    gc.collect()
    assert bytes(rows[4999][1]) == b"\x01"


@pytest.mark.parametrize("nrows", [1, 10, 3000])
def test_rows_in_cycles_are_collected(cur, nrows):
    import gc

    class Sentinel:
        pass

    cur.execute("select array[i] from generate_series(1, %s) i", (nrows,))
    rows = cur.fetchall() if nrows > 1 else [cur.fetchone()]
    s = Sentinel()
    ref = weakref.ref(s)
    row = rows[-1]
    row[0].append(s)
    row[0].append(row)      # row -> list -> row
    del rows, row, s
    gc.collect()
    assert ref() is None


def test_row_factory(cur):
    cur.row_factory = lambda c: [None] * len(c.description)
    cur.execute("select 1, 'a' union all select 2, 'b'")
    assert cur.fetchone() == [1, "a"]
    assert cur.fetchall() == [[2, "b"]]
    cur.row_factory = None
    cur.execute("select 1, 'a'")
    assert cur.fetchall() == [(1, "a")]


def test_row_factory_errors(cur):
    cur.row_factory = lambda c: ()
    cur.execute("select 1")
    with pytest.raises(TypeError):
        cur.fetchone()
    cur.row_factory = 3
    cur.execute("select 1")
    with pytest.raises(TypeError):
        cur.fetchall()


def test_python_caster_gets_none(conn, cur):
    seen = []

    def cast(value, c):
        seen.append(value)
        return "cast:%s" % value

    t = ext.new_type((23,), "MYINT", cast)
    ext.register_type(t, cur)
    assert 23 in cur.string_types
    cur.execute("select 1::int4, null::int4")
    assert cur.fetchone() == ("cast:1", "cast:None")
    assert seen == ["1", None]
    other = conn.cursor()
    other.execute("select 1::int4")
    assert other.fetchone() == (1,)


def test_cast(cur):
    assert cur.cast(23, "42") == 42
    assert cur.cast(25, "x") == "x"
    assert cur.cast(23, None) is None
    assert cur.cast(1700, "1.5") == decimal.Decimal("1.5")
    assert cur.cast(16, "t") is True
    assert cur.cast(99999, "abc") == "abc"
    assert cur.cast(23, b"42") == 42


# ---------------------------------------------------------------------------
# description and Column


def test_description(cur):
    cur.execute("""select 1 as a, 'x'::text as b, 1.5::numeric(10,3) as c,
                   1::numeric as d, 'x'::varchar(10) as e, null::int8 as f""")
    d = cur.description
    assert isinstance(d, tuple) and len(d) == 6
    assert [tuple(c) for c in d] == [
        ("a", 23, None, 4, None, None, None),
        ("b", 25, None, -1, None, None, None),
        ("c", 1700, None, 10, 10, 3, None),
        ("d", 1700, None, -1, 65535, 65535, None),
        ("e", 1043, None, 10, None, None, None),
        ("f", 20, None, 8, None, None, None),
    ]
    assert d[0].table_oid is None and d[0].table_column is None


def test_description_table(conn, cur):
    cur.execute("create temp table td (x int, y text)")
    cur.execute("select y, x from td")
    cur2 = conn.cursor()
    cur2.execute("select 'td'::regclass::oid")
    oid = cur2.fetchone()[0]
    assert cur.description[0].table_oid == oid
    assert cur.description[0].table_column == 2
    assert cur.description[1].table_column == 1


def test_column_sequence(cur):
    cur.execute("select 1 as a")
    c = cur.description[0]
    assert len(c) == 7
    assert c[0] == "a" and c[-1] is None
    assert c[1:3] == (23, None)
    assert list(c) == ["a", 23, None, 4, None, None, None]
    assert c == ("a", 23, None, 4, None, None, None)
    assert c != ("b", 23, None, 4, None, None, None)
    assert c < ("b",)
    assert c != ["a", 23, None, 4, None, None, None]
    with pytest.raises(IndexError):
        c[7]
    with pytest.raises(TypeError):
        hash(c)
    with pytest.raises(AttributeError):
        c.name = "b"
    assert repr(c) == "Column(name='a', type_code=23)"


def test_column_pickle_and_new(cur):
    cur.execute("select 1 as a")
    c = cur.description[0]
    c2 = pickle.loads(pickle.dumps(c))
    assert c2 == c and c2.name == "a" and c2.internal_size == 4
    col = ext.Column(name="x", type_code=3, table_oid=5)
    assert (col.name, col.type_code, col.table_oid) == ("x", 3, 5)
    assert ext.Column("x", 3).type_code == 3
    assert ext.Column().name is None
    with pytest.raises(TypeError):
        ext.Column(foo=1)
    col.__setstate__(("z", 1))
    assert (col.name, col.type_code, col.table_oid) == ("z", 1, 5)
    with pytest.raises(TypeError):
        col.__setstate__(["a"])


# ---------------------------------------------------------------------------
# callproc


def test_callproc(cur):
    assert cur.callproc("generate_series", (1, 3)) == (1, 3)
    assert cur.fetchall() == [(1,), (2,), (3,)]
    assert cur.query == b"SELECT * FROM generate_series(1,3)"
    assert cur.callproc("now") is None
    assert cur.query == b"SELECT * FROM now()"
    assert cur.callproc("now", []) == []
    with pytest.raises(TypeError):
        cur.callproc("now", 3)


def test_callproc_named(conn, cur):
    cur.execute("""create function pg_temp.f(a int, "b B" text)
                   returns text language sql as $$ select $2 || $1 $$""")
    params = {"a": 1, "b B": "x"}
    assert cur.callproc("pg_temp.f", params) is params
    assert cur.fetchall() == [("x1",)]
    assert cur.query == b'SELECT * FROM pg_temp.f("a":=1,"b B":=\'x\')'
    with pytest.raises(TypeError):
        cur.callproc("pg_temp.f", {1: 2})


# ---------------------------------------------------------------------------
# closing


def test_close(cur):
    cur.execute("select 1, 2")
    cur.close()
    cur.close()
    assert cur.closed
    for f in [lambda: cur.execute("select 1"), cur.fetchone, cur.fetchall,
              lambda: cur.fetchmany(2), lambda: cur.scroll(1),
              lambda: cur.callproc("now"), lambda: iter(cur),
              lambda: next(cur), lambda: cur.executemany("select 1", [])]:
        with pytest.raises(psycopg2.InterfaceError, match="cursor already"):
            f()
    # still available after close, as in psycopg2
    assert len(cur.description) == 2
    assert cur.mogrify("select %s", (1,)) == b"select 1"
    assert cur.cast(23, "1") == 1


def test_closed_connection(dsn):
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("select 1")
    conn.close()
    assert cur.closed
    with pytest.raises(psycopg2.InterfaceError):
        cur.execute("select 1")
    with pytest.raises(psycopg2.InterfaceError):
        cur.fetchone()
    cur.close()


def test_context_manager(conn):
    with conn.cursor() as cur:
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
    assert cur.closed
    with pytest.raises(ZeroDivisionError):
        with conn.cursor() as cur:
            1 / 0
    assert cur.closed


@pytest.fixture
def aconn(dsn):
    import psycopg2.extras

    c = psycopg2.connect(dsn, async_=True)
    psycopg2.extras.wait_select(c)
    yield c
    c.close()


def test_close_during_async_query_keeps_description(aconn):
    import psycopg2.extras

    cur = aconn.cursor()
    cur.execute("select 1 as a, 'x' as b from generate_series(1, 3)")
    cur.close()
    assert cur.closed
    assert aconn.isexecuting()
    psycopg2.extras.wait_select(aconn)
    assert not aconn.isexecuting()
    # as psycopg2: the outcome is recorded, the rows are not reachable
    assert [d.name for d in cur.description] == ["a", "b"]
    assert cur.rowcount == 3
    assert cur.statusmessage == "SELECT 3"
    with pytest.raises(psycopg2.InterfaceError, match="cursor already"):
        cur.fetchall()
    cur2 = aconn.cursor()
    cur2.execute("select 2")
    psycopg2.extras.wait_select(aconn)
    assert cur2.fetchone() == (2,)


def test_close_during_async_query_error_from_poll(aconn):
    import psycopg2.extras

    cur = aconn.cursor()
    cur.execute("select 1/0")
    cur.close()
    with pytest.raises(psycopg2.errors.DivisionByZero):
        psycopg2.extras.wait_select(aconn)
    cur2 = aconn.cursor()
    cur2.execute("select 3")
    psycopg2.extras.wait_select(aconn)
    assert cur2.fetchone() == (3,)


def test_close_during_async_query_cursor_dropped(aconn):
    import psycopg2.extras

    with aconn.cursor() as cur:
        cur.execute("select pg_sleep(0.01), 1")
    ref = weakref.ref(cur)
    del cur
    assert ref() is None
    with pytest.raises(psycopg2.InterfaceError,
                       match="the asynchronous cursor has disappeared"):
        psycopg2.extras.wait_select(aconn)
    assert not aconn.isexecuting()
    cur = aconn.cursor()
    cur.execute("select 4")
    psycopg2.extras.wait_select(aconn)
    assert cur.fetchone() == (4,)


# ---------------------------------------------------------------------------
# threads


def test_threads_shared_connection(conn):
    errors = []
    conn.autocommit = True

    def work(n):
        try:
            with conn.cursor() as c:
                for i in range(30):
                    c.execute("select %s, pg_sleep(0), %s::text",
                              (n * 1000 + i, "t%s" % n))
                    assert c.fetchall() == [(n * 1000 + i, "", "t%s" % n)]
        except Exception as e:      # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# ---------------------------------------------------------------------------
# Python casters replacing the result being fetched


@pytest.mark.parametrize("fetch", ["fetchall", "fetchone", "iter"])
def test_caster_executing_during_fetch(cur, fetch):
    # the caster runs a new query on the cursor being read: the rows of
    # the old result can't be built any more
    calls = []

    def cast(s, c):
        calls.append(s)
        if len(calls) == 2:
            c.execute("SELECT 'x'::text, 1.5::numeric")
        return s

    ext.register_type(ext.new_type((25,), "REEXEC", cast), cur)
    cur.execute("SELECT 'a'::text, 2.5::numeric"
                " FROM generate_series(1, 3)")
    with pytest.raises(psycopg2.ProgrammingError, match="result changed"):
        if fetch == "fetchall":
            cur.fetchall()
        elif fetch == "fetchone":
            for _ in range(3):
                cur.fetchone()
        else:
            list(cur)
    # the new result is there and reads normally
    assert cur.fetchall() == [("x", decimal.Decimal("1.5"))]
