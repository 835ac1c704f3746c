"""DB-API 2.0 (PEP 249) conformance of the psycopg2 module.

Every test runs against a real PostgreSQL server and checks the values that
psycopg2 2.9 gives for the same calls.
"""

import datetime
import time

import pytest

import psycopg2
import psycopg2.extensions


EXCEPTIONS = [
    # name, direct base
    ("Warning", Exception),
    ("Error", Exception),
    ("InterfaceError", "Error"),
    ("DatabaseError", "Error"),
    ("DataError", "DatabaseError"),
    ("OperationalError", "DatabaseError"),
    ("IntegrityError", "DatabaseError"),
    ("InternalError", "DatabaseError"),
    ("ProgrammingError", "DatabaseError"),
    ("NotSupportedError", "DatabaseError"),
]


@pytest.fixture
def table(conn):
    """A temporary table `dbapi_t(a int, b text)`, empty."""
    cur = conn.cursor()
    cur.execute("CREATE TEMP TABLE dbapi_t (a int, b text)")
    conn.commit()
    return "dbapi_t"


def fill(conn, n):
    cur = conn.cursor()
    cur.execute("INSERT INTO dbapi_t SELECT i, 'v' || i "
                "FROM generate_series(1, %s) AS i", (n,))
    cur.close()


# --- module interface ------------------------------------------------------

def test_module_globals():
    assert psycopg2.apilevel == "2.0"
    assert psycopg2.threadsafety == 2
    assert psycopg2.paramstyle == "pyformat"


@pytest.mark.parametrize("name, base", EXCEPTIONS)
def test_exception_hierarchy(name, base):
    exc = getattr(psycopg2, name)
    assert issubclass(exc, Exception)
    if isinstance(base, str):
        base = getattr(psycopg2, base)
    assert exc.__bases__ == (base,)


def test_exceptions_not_warnings():
    # PEP 249: Error is not a subclass of Warning nor the other way round.
    assert not issubclass(psycopg2.Error, psycopg2.Warning)
    assert not issubclass(psycopg2.Warning, psycopg2.Error)


@pytest.mark.parametrize("name", [n for n, _ in EXCEPTIONS])
def test_exceptions_on_connection(conn, name):
    # the optional DB-API extension: connection.Error etc. are the module's
    assert getattr(conn, name) is getattr(psycopg2, name)


# --- connect / close --------------------------------------------------------

def test_connect_dsn(dsn):
    c = psycopg2.connect(dsn)
    try:
        assert isinstance(c, psycopg2.extensions.connection)
        assert c.closed == 0
        assert c.dsn == dsn
        assert c.server_version >= 90000
    finally:
        c.close()


def test_connect_keywords(dsn):
    params = dict(p.split("=", 1) for p in dsn.split())
    c = psycopg2.connect(**params)
    try:
        cur = c.cursor()
        cur.execute("SELECT current_database()")
        assert cur.fetchone() == (params["dbname"],)
    finally:
        c.close()


def test_connect_bad_dsn():
    with pytest.raises(psycopg2.ProgrammingError):
        psycopg2.connect("bogus")


def test_connect_bad_keyword(dsn):
    with pytest.raises(psycopg2.ProgrammingError):
        psycopg2.connect(dsn, nonexistent_option="x")


def test_connect_refused():
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect("host=127.0.0.1 port=1 dbname=x connect_timeout=5")


def test_close_twice(dsn):
    c = psycopg2.connect(dsn)
    c.close()
    assert c.closed == 1
    c.close()
    assert c.closed == 1


@pytest.mark.parametrize("method", ["cursor", "commit", "rollback"])
def test_closed_connection_methods(dsn, method):
    c = psycopg2.connect(dsn)
    c.close()
    with pytest.raises(psycopg2.InterfaceError, match="already closed"):
        getattr(c, method)()


def test_cursor_of_closed_connection(dsn):
    c = psycopg2.connect(dsn)
    cur = c.cursor()
    c.close()
    with pytest.raises(psycopg2.InterfaceError):
        cur.execute("SELECT 1")
    assert cur.closed


# --- transactions -----------------------------------------------------------

def test_commit_makes_changes_visible(conn, dsn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE dbapi_commit (a int)")
    conn.commit()
    try:
        cur.execute("INSERT INTO dbapi_commit VALUES (42)")
        other = psycopg2.connect(dsn)
        try:
            ocur = other.cursor()
            ocur.execute("SELECT count(*) FROM dbapi_commit")
            assert ocur.fetchone() == (0,)
            other.rollback()
            conn.commit()
            ocur.execute("SELECT a FROM dbapi_commit")
            assert ocur.fetchall() == [(42,)]
        finally:
            other.close()
    finally:
        cur.execute("DROP TABLE dbapi_commit")
        conn.commit()


def test_rollback_discards(conn, table):
    cur = conn.cursor()
    fill(conn, 3)
    conn.rollback()
    cur.execute("SELECT count(*) FROM dbapi_t")
    assert cur.fetchone() == (0,)


def test_implicit_transaction(conn):
    ext = psycopg2.extensions
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert conn.status == ext.STATUS_BEGIN
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_INTRANS
    conn.commit()
    assert conn.status == ext.STATUS_READY
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_autocommit_no_transaction(conn):
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert conn.get_transaction_status() == \
        psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_error_aborts_transaction(conn):
    cur = conn.cursor()
    with pytest.raises(psycopg2.DataError):
        cur.execute("SELECT 1 / 0")
    with pytest.raises(psycopg2.InternalError):
        cur.execute("SELECT 1")
    conn.rollback()
    cur.execute("SELECT 2")
    assert cur.fetchone() == (2,)


def test_connection_context_manager_commits(conn, table):
    with conn:
        fill(conn, 2)
    assert not conn.closed
    assert conn.status == psycopg2.extensions.STATUS_READY
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM dbapi_t")
    assert cur.fetchone() == (2,)


def test_connection_context_manager_rolls_back(conn, table):
    with pytest.raises(ZeroDivisionError):
        with conn:
            fill(conn, 2)
            1 / 0
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM dbapi_t")
    assert cur.fetchone() == (0,)


# --- cursor attributes --------------------------------------------------------

def test_new_cursor_attributes(conn):
    cur = conn.cursor()
    assert cur.connection is conn
    assert cur.description is None
    assert cur.rowcount == -1
    assert cur.arraysize == 1
    assert cur.rownumber == 0
    assert cur.lastrowid == 0
    assert cur.query is None
    assert cur.statusmessage is None
    assert cur.closed is False


def test_description(conn):
    cur = conn.cursor()
    cur.execute("SELECT 1 AS a, 'x'::text AS b, 1.5::numeric(10, 2) AS c")
    desc = cur.description
    assert len(desc) == 3
    assert [d.name for d in desc] == ["a", "b", "c"]
    assert [d[0] for d in desc] == ["a", "b", "c"]
    assert [d.type_code for d in desc] == [23, 25, 1700]
    for d in desc:
        assert len(d) == 7
    assert tuple(desc[2]) == ("c", 1700, None, 10, 10, 2, None)
    assert desc[2].precision == 10
    assert desc[2].scale == 2


def test_description_types_compare_to_type_objects(conn):
    cur = conn.cursor()
    cur.execute("SELECT 1::int4, 'x'::text, 'y'::bytea, "
                "'2020-01-01 00:00'::timestamp, 1.5::float8, 'abc'::varchar")
    codes = [d.type_code for d in cur.description]
    assert codes[0] == psycopg2.NUMBER
    assert codes[1] == psycopg2.STRING
    assert codes[2] == psycopg2.BINARY
    assert codes[3] == psycopg2.DATETIME
    assert codes[4] == psycopg2.NUMBER
    assert codes[5] == psycopg2.STRING
    assert codes[0] != psycopg2.STRING


def test_description_none_for_commands(conn):
    cur = conn.cursor()
    cur.execute("CREATE TEMP TABLE dbapi_d (a int)")
    assert cur.description is None
    assert cur.statusmessage == "CREATE TABLE"


def test_description_of_empty_result(conn):
    cur = conn.cursor()
    cur.execute("SELECT 1 AS x WHERE false")
    assert [d.name for d in cur.description] == ["x"]
    assert cur.rowcount == 0
    assert cur.fetchall() == []


def test_rowcount_select(conn, table):
    fill(conn, 7)
    cur = conn.cursor()
    cur.execute("SELECT * FROM dbapi_t")
    assert cur.rowcount == 7


def test_rowcount_dml(conn, table):
    cur = conn.cursor()
    cur.execute("INSERT INTO dbapi_t SELECT generate_series(1, 10)")
    assert cur.rowcount == 10
    assert cur.statusmessage == "INSERT 0 10"
    cur.execute("UPDATE dbapi_t SET b = 'x' WHERE a <= 4")
    assert cur.rowcount == 4
    cur.execute("DELETE FROM dbapi_t WHERE a > 8")
    assert cur.rowcount == 2
    cur.execute("CREATE TEMP TABLE dbapi_other (a int)")
    assert cur.rowcount == -1


def test_query_attribute(conn):
    cur = conn.cursor()
    cur.execute("SELECT %s, %s", (10, "o'k"))
    assert cur.query == b"SELECT 10, 'o''k'"


# --- fetch semantics --------------------------------------------------------

def test_fetch_without_result(conn):
    cur = conn.cursor()
    with pytest.raises(psycopg2.ProgrammingError, match="no results"):
        cur.fetchone()
    cur.execute("CREATE TEMP TABLE dbapi_nr (a int)")
    for meth in (cur.fetchone, cur.fetchmany, cur.fetchall):
        with pytest.raises(psycopg2.ProgrammingError):
            meth()


def test_fetchone(conn, table):
    fill(conn, 2)
    cur = conn.cursor()
    cur.execute("SELECT a, b FROM dbapi_t ORDER BY a")
    assert cur.fetchone() == (1, "v1")
    assert cur.rownumber == 1
    assert cur.fetchone() == (2, "v2")
    assert cur.fetchone() is None
    assert cur.fetchone() is None
    assert cur.rownumber == 2


def test_fetchmany_uses_arraysize(conn, table):
    fill(conn, 10)
    cur = conn.cursor()
    cur.execute("SELECT a FROM dbapi_t ORDER BY a")
    assert cur.fetchmany() == [(1,)]
    cur.arraysize = 4
    assert cur.fetchmany() == [(2,), (3,), (4,), (5,)]
    assert cur.fetchmany(3) == [(6,), (7,), (8,)]
    assert cur.fetchmany(size=100) == [(9,), (10,)]
    assert cur.fetchmany() == []
    assert cur.rownumber == 10


def test_fetchall(conn, table):
    fill(conn, 5)
    cur = conn.cursor()
    cur.execute("SELECT a FROM dbapi_t ORDER BY a")
    cur.fetchone()
    assert cur.fetchall() == [(2,), (3,), (4,), (5,)]
    assert cur.fetchall() == []
    assert cur.fetchone() is None


def test_rows_are_tuples(conn):
    cur = conn.cursor()
    cur.execute("SELECT 1, 2")
    row = cur.fetchone()
    assert type(row) is tuple


def test_iteration(conn, table):
    fill(conn, 3)
    cur = conn.cursor()
    cur.execute("SELECT a FROM dbapi_t ORDER BY a")
    assert iter(cur) is cur
    assert list(cur) == [(1,), (2,), (3,)]
    assert list(cur) == []


def test_scroll(conn, table):
    fill(conn, 5)
    cur = conn.cursor()
    cur.execute("SELECT a FROM dbapi_t ORDER BY a")
    cur.scroll(2)
    assert cur.fetchone() == (3,)
    cur.scroll(0, mode="absolute")
    assert cur.fetchone() == (1,)
    cur.scroll(-1)
    assert cur.fetchone() == (1,)
    with pytest.raises(psycopg2.ProgrammingError):
        cur.scroll(10)
    with pytest.raises(psycopg2.ProgrammingError, match="scroll mode"):
        cur.scroll(0, mode="sideways")


# --- execute / parameters ------------------------------------------------------

def test_execute_params_sequence_and_mapping(conn):
    cur = conn.cursor()
    cur.execute("SELECT %s::text", ["list"])
    assert cur.fetchone() == ("list",)
    cur.execute("SELECT %(a)s + %(a)s, %(b)s", {"a": 2, "b": None})
    assert cur.fetchone() == (4, None)


def test_execute_percent_handling(conn):
    cur = conn.cursor()
    cur.execute("SELECT 'no params %'")
    assert cur.fetchone() == ("no params %",)
    cur.execute("SELECT '%%', %s", ("x",))
    assert cur.fetchone() == ("%", "x")


def test_execute_wrong_arguments(conn):
    cur = conn.cursor()
    with pytest.raises(TypeError):
        cur.execute("SELECT %s", ("a", "b"))
    with pytest.raises(IndexError):
        cur.execute("SELECT %s, %s", ("a",))
    with pytest.raises(KeyError):
        cur.execute("SELECT %(x)s", {"y": 1})
    with pytest.raises(psycopg2.ProgrammingError, match="can't adapt"):
        cur.execute("SELECT %s", (object(),))
    # nothing was sent: the connection is still usable
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)


def test_execute_server_errors(conn):
    cur = conn.cursor()
    with pytest.raises(psycopg2.ProgrammingError) as exc:
        cur.execute("SELEC 1")
    assert exc.value.pgcode == "42601"
    conn.rollback()
    with pytest.raises(psycopg2.ProgrammingError) as exc:
        cur.execute("SELECT * FROM no_such_table_here")
    assert exc.value.pgcode == "42P01"
    conn.rollback()


def test_integrity_error(conn):
    cur = conn.cursor()
    cur.execute("CREATE TEMP TABLE dbapi_u (a int PRIMARY KEY)")
    cur.execute("INSERT INTO dbapi_u VALUES (1)")
    with pytest.raises(psycopg2.IntegrityError) as exc:
        cur.execute("INSERT INTO dbapi_u VALUES (1)")
    assert exc.value.pgcode == "23505"


def test_executemany(conn, table):
    cur = conn.cursor()
    cur.executemany("INSERT INTO dbapi_t VALUES (%s, %s)",
                    [(i, "r%d" % i) for i in range(5)])
    assert cur.rowcount == 5
    cur.executemany("INSERT INTO dbapi_t VALUES (%(a)s, %(b)s)",
                    iter([{"a": 10, "b": "x"}, {"a": 11, "b": "y"}]))
    assert cur.rowcount == 2
    cur.execute("SELECT a, b FROM dbapi_t ORDER BY a")
    rows = cur.fetchall()
    assert rows[0] == (0, "r0")
    assert rows[-1] == (11, "y")
    assert len(rows) == 7


def test_executemany_empty(conn, table):
    cur = conn.cursor()
    cur.executemany("INSERT INTO dbapi_t VALUES (%s, %s)", [])
    assert cur.rowcount == 0


def test_executemany_select_no_results(conn):
    cur = conn.cursor()
    cur.executemany("SELECT %s", [(1,), (2,)])
    with pytest.raises(psycopg2.ProgrammingError):
        cur.fetchone()


def test_callproc(conn):
    cur = conn.cursor()
    cur.execute("CREATE FUNCTION pg_temp.dbapi_add(a int, b int) "
                "RETURNS int LANGUAGE sql AS 'SELECT a + b'")
    res = cur.callproc("pg_temp.dbapi_add", (2, 3))
    assert res == (2, 3)
    assert cur.fetchall() == [(5,)]
    cur.callproc("pg_temp.dbapi_add", {"a": 4, "b": 5})
    assert cur.fetchall() == [(9,)]


def test_callproc_missing_function(conn):
    cur = conn.cursor()
    with pytest.raises(psycopg2.ProgrammingError) as exc:
        cur.callproc("dbapi_no_such_function", (1,))
    assert exc.value.pgcode == "42883"


def test_nextset_not_supported(conn):
    cur = conn.cursor()
    cur.execute("SELECT 1")
    with pytest.raises(psycopg2.NotSupportedError):
        cur.nextset()


def test_setinputsizes_setoutputsize(conn):
    cur = conn.cursor()
    assert cur.setinputsizes([10, None]) is None
    assert cur.setoutputsize(100) is None
    assert cur.setoutputsize(100, 0) is None
    cur.execute("SELECT 'abcdef'::text")
    assert cur.fetchone() == ("abcdef",)


# --- cursor close --------------------------------------------------------------

def test_cursor_close_twice(conn):
    cur = conn.cursor()
    cur.close()
    assert cur.closed
    cur.close()
    assert cur.closed


@pytest.mark.parametrize("call", [
    lambda c: c.execute("SELECT 1"),
    lambda c: c.executemany("SELECT %s", [(1,)]),
    lambda c: c.fetchone(),
    lambda c: c.fetchmany(),
    lambda c: c.fetchall(),
    lambda c: c.callproc("now"),
])
def test_closed_cursor(conn, call):
    cur = conn.cursor()
    cur.execute("SELECT 1")
    cur.close()
    with pytest.raises(psycopg2.InterfaceError, match="cursor already closed"):
        call(cur)


def test_cursor_context_manager(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT 7")
        assert cur.fetchone() == (7,)
    assert cur.closed
    assert not conn.closed


# --- type objects and constructors -----------------------------------------------

def test_type_objects():
    assert psycopg2.STRING == 25 and psycopg2.STRING == 1043
    assert psycopg2.BINARY == 17
    assert psycopg2.NUMBER == 23 and psycopg2.NUMBER == 1700
    assert psycopg2.NUMBER == 20 and psycopg2.NUMBER == 701
    assert psycopg2.DATETIME == 1114
    assert psycopg2.ROWID == 26
    assert psycopg2.STRING != 17
    assert psycopg2.BINARY != 25


def test_date_time_constructors(conn):
    d = psycopg2.Date(2020, 1, 2)
    t = psycopg2.Time(1, 2, 3)
    ts = psycopg2.Timestamp(2020, 1, 2, 3, 4, 5)
    assert d.getquoted() == b"'2020-01-02'::date"
    assert t.getquoted() == b"'01:02:03'::time"
    assert ts.getquoted() == b"'2020-01-02T03:04:05'::timestamp"
    cur = conn.cursor()
    cur.execute("SELECT %s, %s, %s", (d, t, ts))
    assert cur.fetchone() == (
        datetime.date(2020, 1, 2), datetime.time(1, 2, 3),
        datetime.datetime(2020, 1, 2, 3, 4, 5))


def test_ticks_constructors(conn):
    ticks = 1600000000.0
    cur = conn.cursor()
    cur.execute("SELECT %s, %s, %s", (
        psycopg2.DateFromTicks(ticks), psycopg2.TimeFromTicks(ticks),
        psycopg2.TimestampFromTicks(ticks)))
    d, t, ts = cur.fetchone()
    local = datetime.datetime.fromtimestamp(ticks)
    assert d == local.date()
    assert t == local.time()
    assert ts.timestamp() == ticks
    assert time.mktime(local.timetuple()) == ticks


def test_binary(conn):
    data = bytes(range(256))
    b = psycopg2.Binary(data)
    assert isinstance(b, psycopg2.extensions.Binary)
    cur = conn.cursor()
    cur.execute("SELECT %s, pg_typeof(%s)::text", (b, b))
    value, typ = cur.fetchone()
    assert typ == "bytea"
    assert isinstance(value, memoryview)
    assert bytes(value) == data


@pytest.mark.parametrize("data", [bytearray(b"\x00ab"), memoryview(b"\x00ab")])
def test_binary_buffers(conn, data):
    cur = conn.cursor()
    cur.execute("SELECT %s", (psycopg2.Binary(data),))
    assert bytes(cur.fetchone()[0]) == b"\x00ab"


def test_null_roundtrip(conn):
    cur = conn.cursor()
    cur.execute("SELECT %s, NULL::int, NULL::text", (None,))
    assert cur.fetchone() == (None, None, None)
