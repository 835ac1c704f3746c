"""Tests for psycopg2.extras.execute_batch() and execute_values()."""

import datetime
import decimal
import io

import pytest

import psycopg2
from psycopg2 import sql
from psycopg2.extras import LoggingConnection, execute_batch, execute_values


@pytest.fixture
def cur(conn):
    c = conn.cursor()
    c.execute("create temp table tb (id int primary key, data text)")
    yield c
    c.close()


@pytest.fixture
def logconn(dsn):
    """A connection logging every query it runs into `conn.log_lines`."""
    c = psycopg2.connect(dsn, connection_factory=LoggingConnection)
    c.log_stream = io.StringIO()
    c.initialize(c.log_stream)
    c.cursor().execute("create temp table tb (id int primary key, data text)")
    c.log_stream.seek(0)
    c.log_stream.truncate()
    yield c
    c.close()


def statements(logconn):
    return logconn.log_stream.getvalue().splitlines()


def rows(cur, table="tb"):
    cur.execute("select * from %s order by 1" % table)
    return cur.fetchall()


# --- execute_batch ----------------------------------------------------------

def test_batch_sequences(cur):
    execute_batch(cur, "insert into tb values (%s, %s)",
                  [(1, "a"), (2, "b"), (3, None)])
    assert rows(cur) == [(1, "a"), (2, "b"), (3, None)]


def test_batch_mappings(cur):
    execute_batch(cur, "insert into tb values (%(id)s, %(data)s)",
                  [{"id": 1, "data": "x"}, {"data": "y", "id": 2}])
    assert rows(cur) == [(1, "x"), (2, "y")]


def test_batch_generator(cur):
    execute_batch(cur, "insert into tb values (%s, %s)",
                  ((i, str(i)) for i in range(250)), page_size=30)
    assert len(rows(cur)) == 250


def test_batch_empty(cur):
    execute_batch(cur, "insert into tb values (%s, %s)", [])
    assert rows(cur) == []


def test_batch_pages(logconn):
    cur = logconn.cursor()
    execute_batch(cur, "insert into tb values (%s, %s)",
                  [(i, "x") for i in range(5)], page_size=2)
    stmts = statements(logconn)
    assert len(stmts) == 3
    assert stmts[0] == \
        "insert into tb values (0, 'x');insert into tb values (1, 'x')"
    assert stmts[2] == "insert into tb values (4, 'x')"
    assert len(rows(cur)) == 5


def test_batch_default_page_size(logconn):
    cur = logconn.cursor()
    execute_batch(cur, "insert into tb values (%s, %s)",
                  [(i, "x") for i in range(250)])
    assert len(statements(logconn)) == 3


def test_batch_composable(cur):
    q = sql.SQL("insert into {} values (%s, %s)").format(sql.Identifier("tb"))
    execute_batch(cur, q, [(1, "a"), (2, "b")])
    assert rows(cur) == [(1, "a"), (2, "b")]


def test_batch_bytes_query(cur):
    execute_batch(cur, b"insert into tb values (%s, %s)", [(1, "a")])
    assert rows(cur) == [(1, "a")]


def test_batch_percent_and_unicode(cur):
    execute_batch(cur, "insert into tb values (%s, %s || '%%')",
                  [(1, "\u20ac"), (2, "\xe8 '")])
    assert rows(cur) == [(1, "\u20ac%"), (2, "\xe8 '%")]


def test_batch_error(conn, cur):
    with pytest.raises(psycopg2.errors.UniqueViolation):
        execute_batch(cur, "insert into tb values (%s, %s)",
                      [(1, "a"), (2, "b"), (1, "c")])
    assert conn.info.transaction_status == \
        psycopg2.extensions.TRANSACTION_STATUS_INERROR
    conn.rollback()


def test_batch_wrong_args(cur):
    # (the exact class is the one of cursor.mogrify())
    with pytest.raises((TypeError, IndexError)):
        execute_batch(cur, "insert into tb values (%s, %s)", [(1,)])
    with pytest.raises((KeyError, TypeError)):
        execute_batch(cur, "insert into tb values (%(id)s, %(data)s)",
                      [{"id": 1}])


def test_batch_autocommit(conn, cur):
    conn.commit()
    conn.autocommit = True
    execute_batch(cur, "insert into tb values (%s, %s)", [(1, "a"), (2, "b")])
    assert rows(cur) == [(1, "a"), (2, "b")]


# --- execute_values ---------------------------------------------------------

def test_values_basic(cur):
    res = execute_values(cur, "insert into tb values %s",
                         [(1, "a"), (2, "b"), (3, None)])
    assert res is None
    assert rows(cur) == [(1, "a"), (2, "b"), (3, None)]


def test_values_lists_and_generator(cur):
    execute_values(cur, "insert into tb values %s",
                   ([i, "n%d" % i] for i in range(10)))
    assert len(rows(cur)) == 10


def test_values_empty(cur):
    assert execute_values(cur, "insert into tb values %s", []) is None
    assert execute_values(cur, "insert into tb values %s", [],
                          fetch=True) == []
    assert rows(cur) == []


def test_values_statement_text(logconn):
    cur = logconn.cursor()
    execute_values(cur, "insert into tb (id, data) values %s",
                   [(1, "a"), (2, "b")])
    assert statements(logconn) == [
        "insert into tb (id, data) values (1,'a'),(2,'b')"]


def test_values_pages(logconn):
    cur = logconn.cursor()
    execute_values(cur, "insert into tb values %s",
                   [(i, "x") for i in range(5)], page_size=2)
    stmts = statements(logconn)
    assert stmts == [
        "insert into tb values (0,'x'),(1,'x')",
        "insert into tb values (2,'x'),(3,'x')",
        "insert into tb values (4,'x')",
    ]
    assert len(rows(cur)) == 5


def test_values_many_rows(cur):
    execute_values(cur, "insert into tb values %s",
                   [(i, str(i)) for i in range(10000)], page_size=1000)
    cur.execute("select count(*), sum(id) from tb")
    assert cur.fetchone() == (10000, sum(range(10000)))


def test_values_template(cur):
    execute_values(cur, "insert into tb values %s", [(1,), (2,)],
                   template="(%s, 'const')")
    assert rows(cur) == [(1, "const"), (2, "const")]


def test_values_named_template(cur):
    execute_values(cur, "insert into tb (data, id) values %s",
                   [{"id": 1, "data": "a", "extra": 0},
                    {"id": 2, "data": "b"}],
                   template="(%(data)s, %(id)s)")
    assert rows(cur) == [(1, "a"), (2, "b")]


def test_values_composable(cur):
    q = sql.SQL("insert into {} ({}) values %s").format(
        sql.Identifier("tb"),
        sql.SQL(", ").join(map(sql.Identifier, ["id", "data"])))
    tmpl = sql.SQL("({}, {})").format(
        sql.Placeholder("i"), sql.Placeholder("d"))
    execute_values(cur, q, [{"i": 1, "d": "a"}], template=tmpl)
    assert rows(cur) == [(1, "a")]


def test_values_bytes(cur):
    execute_values(cur, b"insert into tb values %s", [(1, "a")],
                   template=b"(%s, %s)")
    assert rows(cur) == [(1, "a")]


def test_values_fetch(cur):
    res = execute_values(
        cur, "insert into tb values %s returning id * 10, data",
        [(i, "v%d" % i) for i in range(1, 6)], page_size=2, fetch=True)
    assert res == [(i * 10, "v%d" % i) for i in range(1, 6)]


def test_values_fetch_with_row_factory(conn):
    from psycopg2.extras import RealDictCursor
    cur = conn.cursor(cursor_factory=RealDictCursor)
    res = execute_values(cur, "select * from (values %s) as t (a, b)",
                         [(1, "x"), (2, "y")], fetch=True)
    assert res == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


def test_values_update_from(cur):
    execute_values(cur, "insert into tb values %s",
                   [(1, "a"), (2, "b"), (3, "c")])
    execute_values(
        cur, """update tb set data = v.data from (values %s) as v (id, data)
        where tb.id = v.id and tb.data like '%%'""",
        [(1, "A"), (3, "C")])
    assert rows(cur) == [(1, "A"), (2, "b"), (3, "C")]


def test_values_percent_unescaped(cur):
    res = execute_values(cur, "select '%%', v.x from (values %s) v (x)",
                         [(1,)], fetch=True)
    assert res == [("%", 1)]


def test_values_types(conn):
    cur = conn.cursor()
    cur.execute("""create temp table tt (
        i int, n numeric, d date, ts timestamp, b bytea, t text, a int[])""")
    data = [
        (1, decimal.Decimal("1.5"), datetime.date(2020, 1, 2),
         datetime.datetime(2020, 1, 2, 3, 4, 5), b"\x00\x01", "\u20ac",
         [1, 2]),
        (None, None, None, None, None, None, None),
    ]
    execute_values(cur, "insert into tt values %s", data)
    cur.execute("select * from tt order by i nulls last")
    got = cur.fetchall()
    assert got[0][:4] == data[0][:4]
    assert bytes(got[0][4]) == b"\x00\x01"
    assert got[0][5:] == data[0][5:]
    assert got[1] == data[1]


def test_values_latin1_connection(conn):
    conn.set_client_encoding("LATIN1")
    cur = conn.cursor()
    res = execute_values(cur, "select x || '\xe9' from (values %s) v (x)",
                         [("\xe0",)], fetch=True)
    assert res == [("\xe0\xe9",)]


def test_values_placeholder_errors(cur):
    with pytest.raises(ValueError, match="doesn't contain any '%s'"):
        execute_values(cur, "insert into tb values (1, 'a')", [(1,)])
    with pytest.raises(ValueError, match="more than one '%s'"):
        execute_values(cur, "insert into tb values %s, %s", [(1, "a")])
    with pytest.raises(ValueError, match="unsupported format character: 'd'"):
        execute_values(cur, "insert into tb values %d", [(1, "a")])
    with pytest.raises(ValueError, match="unsupported format character"):
        execute_values(cur, "insert into tb values %(x)s", [(1, "a")])


def test_values_error(conn, cur):
    with pytest.raises(psycopg2.errors.UniqueViolation):
        execute_values(cur, "insert into tb values %s", [(1, "a"), (1, "b")])
    conn.rollback()


def test_values_inconsistent_rows(cur):
    with pytest.raises((TypeError, IndexError)):
        execute_values(cur, "insert into tb values %s", [(1, "a"), (2,)])
