"""Tests of named (server-side) cursors."""

import pytest

import psycopg2


def server_cursors(conn):
    """Names of the cursors open on the server in conn's session."""
    with conn.cursor() as c:
        c.execute("select name from pg_cursors order by name")
        return [r[0] for r in c.fetchall()]


def test_declare_and_fetch(conn):
    cur = conn.cursor("nc")
    assert cur.name == "nc"
    cur.execute("select generate_series(1, %s) as x", (10,))
    assert cur.query == (b'DECLARE "nc" CURSOR WITHOUT HOLD FOR '
                         b'select generate_series(1, 10) as x')
    assert cur.statusmessage == "DECLARE CURSOR"
    assert cur.description is None     # known after the first fetch
    assert cur.rowcount == -1
    assert server_cursors(conn) == ["nc"]

    assert cur.fetchone() == (1,)
    assert cur.description[0].name == "x"
    assert (cur.rowcount, cur.rownumber) == (1, 1)
    assert cur.fetchmany(3) == [(2,), (3,), (4,)]
    assert (cur.rowcount, cur.rownumber) == (3, 3)
    assert cur.statusmessage == "FETCH 3"
    assert cur.fetchall() == [(5,), (6,), (7,), (8,), (9,), (10,)]
    assert cur.fetchone() is None
    assert cur.fetchall() == []
    cur.close()
    assert cur.closed
    assert server_cursors(conn) == []


def test_iteration_itersize(conn):
    cur = conn.cursor("it")
    cur.itersize = 2
    cur.execute("select generate_series(1, 5)")
    seen = [(r, cur.rownumber, cur.rowcount) for r in cur]
    assert seen == [((1,), 1, 2), ((2,), 2, 2), ((3,), 1, 2), ((4,), 2, 2),
                    ((5,), 1, 1)]
    assert list(cur) == []


def test_large_iteration(conn):
    cur = conn.cursor("big")
    cur.execute("select i, repeat('x', 10) from generate_series(1, 25000) i")
    n = 0
    for row in cur:
        n += 1
        assert row[0] == n
    assert n == 25000


def test_scroll(conn):
    cur = conn.cursor("sc", scrollable=True)
    assert cur.scrollable is True
    cur.execute("select generate_series(1, 10)")
    assert b"DECLARE \"sc\" SCROLL CURSOR" in cur.query
    cur.scroll(3)
    assert cur.fetchone() == (4,)
    cur.scroll(0, "absolute")
    assert cur.fetchone() == (1,)
    cur.scroll(-1)
    assert cur.fetchone() == (1,)
    cur.scroll(100)     # the server just goes to the end
    assert cur.fetchone() is None


def test_no_scroll(conn):
    cur = conn.cursor("ns", scrollable=False)
    cur.execute("select generate_series(1, 4)")
    assert b"NO SCROLL CURSOR" in cur.query
    assert cur.fetchall() == [(1,), (2,), (3,), (4,)]
    with pytest.raises(psycopg2.errors.ObjectNotInPrerequisiteState):
        cur.scroll(-1)
    conn.rollback()


def test_execute_twice(conn):
    cur = conn.cursor("tw")
    cur.execute("select 1")
    with pytest.raises(psycopg2.ProgrammingError, match="more than once"):
        cur.execute("select 2")


def test_unsupported_methods(conn):
    cur = conn.cursor("um")
    with pytest.raises(psycopg2.ProgrammingError, match="executemany"):
        cur.executemany("select 1", [()])
    with pytest.raises(psycopg2.ProgrammingError, match="callproc"):
        cur.callproc("now")
    assert cur.mogrify("select %s", (1,)) == b"select 1"


def test_invalid_after_commit(conn):
    cur = conn.cursor("ic")
    cur.execute("select generate_series(1, 3)")
    conn.commit()
    with pytest.raises(psycopg2.ProgrammingError, match="isn't valid"):
        cur.fetchone()
    # as psycopg2: close() says so too, and the cursor stays open
    with pytest.raises(psycopg2.ProgrammingError, match="isn't valid"):
        cur.close()
    assert not cur.closed


def test_withhold(conn):
    cur = conn.cursor("wh", withhold=True)
    assert cur.withhold is True
    cur.execute("select generate_series(1, 4)")
    assert b"WITH HOLD" in cur.query
    conn.commit()
    assert cur.fetchone() == (1,)
    conn.commit()
    assert cur.fetchall() == [(2,), (3,), (4,)]
    cur.close()
    conn.commit()
    assert server_cursors(conn) == []


def test_autocommit_needs_withhold(conn):
    conn.autocommit = True
    cur = conn.cursor("ac")
    with pytest.raises(psycopg2.ProgrammingError, match="outside of trans"):
        cur.execute("select 1")
    cur = conn.cursor("ac2", withhold=True)
    cur.execute("select generate_series(1, 3)")
    assert cur.fetchall() == [(1,), (2,), (3,)]
    cur.close()
    assert server_cursors(conn) == []


def test_quoted_name(conn):
    cur = conn.cursor('a "strange" name')
    cur.execute("select 1")
    assert cur.query.startswith(b'DECLARE "a ""strange"" name" CURSOR')
    assert cur.fetchall() == [(1,)]
    cur.close()


def test_unicode_name(conn):
    cur = conn.cursor("curs\u20ac")
    cur.execute("select %s", ("\u00e8",))
    assert cur.fetchone() == ("\u00e8",)
    assert cur.name == "curs\u20ac"
    cur.close()


def test_error_in_declare(conn):
    cur = conn.cursor("err")
    with pytest.raises(psycopg2.errors.SyntaxError):
        cur.execute("insert into nothing values (1)")
    cur.close()         # the transaction is failed: no CLOSE is sent
    conn.rollback()
    with conn.cursor() as c:
        c.execute("select 1")
        assert c.fetchone() == (1,)


def test_error_during_fetch(conn):
    cur = conn.cursor("ef")
    cur.execute("select 1 / (3 - i) from generate_series(1, 5) i")
    with pytest.raises(psycopg2.errors.DivisionByZero):
        cur.fetchall()
    conn.rollback()


def test_close_unexecuted(conn):
    cur = conn.cursor("never")
    cur.close()
    assert cur.closed


def test_context_manager_closes(conn):
    with conn.cursor("cm") as cur:
        cur.execute("select generate_series(1, 3)")
        assert cur.fetchone() == (1,)
        assert server_cursors(conn) == ["cm"]
    assert cur.closed
    assert server_cursors(conn) == []


def test_row_factory_and_types(conn):
    cur = conn.cursor("rf")
    cur.row_factory = lambda c: [None] * len(c.description)
    cur.execute("select 1, 'a'::text, null::int")
    assert cur.fetchall() == [[1, "a", None]]
