"""Tests for psycopg2.sql: composing queries out of SQL text, identifiers,
literals and placeholders."""

import datetime
import doctest
import io
import os

import pytest

import psycopg2
from psycopg2 import sql
from psycopg2.extras import execute_batch, execute_values


@pytest.fixture
def cur(conn):
    with conn.cursor() as c:
        yield c


# --- SQL ------------------------------------------------------------------

def test_sql_requires_str():
    with pytest.raises(TypeError, match="SQL values must be strings"):
        sql.SQL(b"select 1")
    with pytest.raises(TypeError):
        sql.SQL(None)


def test_sql_string_and_repr(conn):
    s = sql.SQL("select 1")
    assert s.string == "select 1"
    assert repr(s) == "SQL('select 1')"
    assert str(s) == "SQL('select 1')"
    assert s.as_string(conn) == "select 1"
    assert s.as_string(conn.cursor()) == "select 1"


def test_format_auto_numbered(conn):
    q = sql.SQL("select {} from {}").format(
        sql.Identifier("a"), sql.Identifier("t"))
    assert isinstance(q, sql.Composed)
    assert q.as_string(conn) == 'select "a" from "t"'


def test_format_numbered_can_repeat(conn):
    q = sql.SQL("select {0}, {1}, {0}").format(
        sql.Literal(1), sql.Literal("x"))
    assert q.as_string(conn) == "select 1, 'x', 1"


def test_format_named(conn):
    q = sql.SQL("select {col} from {tbl} where {col} = %s").format(
        col=sql.Identifier("id"), tbl=sql.Identifier("s", "people"))
    assert q.as_string(conn) == \
        'select "id" from "s"."people" where "id" = %s'


def test_format_escaped_braces(conn):
    q = sql.SQL("select '{{}}', {} {{x}}").format(sql.Literal(2))
    assert q.as_string(conn) == "select '{}', 2 {x}"


def test_format_no_fields():
    q = sql.SQL("select 1").format()
    assert q == sql.Composed([sql.SQL("select 1")])
    assert sql.SQL("").format() == sql.Composed([])


def test_format_result_structure():
    q = sql.SQL("a {} b").format(sql.Identifier("x"))
    assert q.seq == [sql.SQL("a "), sql.Identifier("x"), sql.SQL(" b")]


def test_format_extra_args_ignored(conn):
    q = sql.SQL("select {}").format(sql.Literal(1), sql.Literal(2))
    assert q.as_string(conn) == "select 1"


def test_format_switch_numbering():
    with pytest.raises(ValueError, match="automatic field numbering"):
        sql.SQL("{} {0}").format(sql.Literal(1))
    with pytest.raises(ValueError, match="manual field numbering"):
        sql.SQL("{0} {}").format(sql.Literal(1))


def test_format_conversion_and_spec_rejected():
    with pytest.raises(ValueError, match="no format conversion"):
        sql.SQL("{!r}").format(sql.Literal(1))
    with pytest.raises(ValueError, match="no format specification"):
        sql.SQL("{:>3}").format(sql.Literal(1))


def test_format_missing_args():
    with pytest.raises(IndexError):
        sql.SQL("select {}").format()
    with pytest.raises(IndexError):
        sql.SQL("select {1}").format(sql.Literal(1))
    with pytest.raises(KeyError):
        sql.SQL("select {x}").format(y=sql.Literal(1))


def test_format_non_composable_rejected():
    with pytest.raises(TypeError, match="elements must be Composable"):
        sql.SQL("select {}").format("x")
    with pytest.raises(TypeError):
        sql.SQL("select {x}").format(x=10)


def test_format_unbalanced_braces():
    with pytest.raises(ValueError):
        sql.SQL("select {").format()
    with pytest.raises(ValueError):
        sql.SQL("select }").format()


def test_join(conn):
    j = sql.SQL(", ").join(
        [sql.Identifier("a"), sql.Literal(1), sql.Placeholder()])
    assert isinstance(j, sql.Composed)
    assert j.as_string(conn) == '"a", 1, %s'


def test_join_generator_and_composed(conn):
    j = sql.SQL(" and ").join(
        sql.SQL("{} = %s").format(sql.Identifier(c)) for c in "ab")
    assert j.as_string(conn) == '"a" = %s and "b" = %s'
    comp = sql.Identifier("x") + sql.Identifier("y")
    assert sql.SQL("|").join(comp).as_string(conn) == '"x"|"y"'


def test_join_empty_and_single():
    assert sql.SQL(", ").join([]) == sql.Composed([])
    assert sql.SQL(", ").join([sql.SQL("x")]) == \
        sql.Composed([sql.SQL("x")])


def test_join_non_composable():
    with pytest.raises(TypeError):
        sql.SQL(", ").join(["a", "b"])


# --- Identifier -----------------------------------------------------------

def test_identifier_quoting(conn):
    assert sql.Identifier("foo").as_string(conn) == '"foo"'
    assert sql.Identifier('ba"z').as_string(conn) == '"ba""z"'
    assert sql.Identifier("Mixed Case").as_string(conn) == '"Mixed Case"'
    assert sql.Identifier("tèst").as_string(conn) == '"tèst"'


def test_identifier_multi_part(conn):
    i = sql.Identifier("schema", "ta.ble")
    assert i.strings == ("schema", "ta.ble")
    assert i.as_string(conn) == '"schema"."ta.ble"'
    assert repr(i) == "Identifier('schema', 'ta.ble')"


def test_identifier_string():
    assert sql.Identifier("x").string == "x"
    assert sql.Identifier("x").strings == ("x",)
    assert repr(sql.Identifier("x")) == "Identifier('x')"
    with pytest.raises(AttributeError):
        sql.Identifier("a", "b").string


def test_identifier_bad_args():
    with pytest.raises(TypeError, match="Identifier cannot be empty"):
        sql.Identifier()
    with pytest.raises(TypeError, match="must be strings"):
        sql.Identifier(10)
    with pytest.raises(TypeError):
        sql.Identifier("a", None)


def test_identifier_needs_context():
    with pytest.raises(TypeError):
        sql.Identifier("a").as_string(None)


def test_identifier_in_query(conn, cur):
    cur.execute(sql.SQL("select 1 as {}").format(sql.Identifier("My Col")))
    assert cur.description[0].name == "My Col"


# --- Literal --------------------------------------------------------------

def test_literal_values(conn):
    assert sql.Literal(42).as_string(conn) == "42"
    assert sql.Literal("it's").as_string(conn) == "'it''s'"
    assert sql.Literal(None).as_string(conn) == "NULL"
    assert sql.Literal(True).as_string(conn) == "true"
    assert sql.Literal([1, 2]).as_string(conn) == "ARRAY[1,2]"
    assert sql.Literal(datetime.date(2020, 1, 2)).as_string(conn) == \
        "'2020-01-02'::date"


def test_literal_wrapped_and_repr():
    lit = sql.Literal("x")
    assert lit.wrapped == "x"
    assert repr(lit) == "Literal('x')"


def test_literal_with_cursor_context(conn):
    assert sql.Literal("a").as_string(conn.cursor()) == "'a'"


def test_literal_unicode_in_other_encoding(conn):
    conn.set_client_encoding("LATIN1")
    s = sql.Literal("\xe9t\xe9").as_string(conn)
    assert s == "'\xe9t\xe9'"
    cur = conn.cursor()
    cur.execute(sql.SQL("select {}").format(sql.Literal("\xe9t\xe9")))
    assert cur.fetchone()[0] == "\xe9t\xe9"


def test_literal_unadaptable(conn):
    with pytest.raises(psycopg2.ProgrammingError, match="can't adapt"):
        sql.Literal(object()).as_string(conn)


def test_literal_bad_context():
    with pytest.raises(TypeError):
        sql.Literal(1).as_string(None)


def test_literal_roundtrip(conn, cur):
    value = "quote ' backslash \\ percent % brace {}"
    cur.execute(sql.SQL("select {}").format(sql.Literal(value)))
    assert cur.fetchone()[0] == value


# --- Placeholder ----------------------------------------------------------

def test_placeholder_positional(conn):
    p = sql.Placeholder()
    assert p.name is None
    assert repr(p) == "Placeholder()"
    assert p.as_string(conn) == "%s"


def test_placeholder_named(conn):
    p = sql.Placeholder("foo")
    assert p.name == "foo"
    assert repr(p) == "Placeholder('foo')"
    assert p.as_string(conn) == "%(foo)s"


def test_placeholder_validation():
    with pytest.raises(ValueError, match="invalid name"):
        sql.Placeholder("a)b")
    with pytest.raises(TypeError, match="expected string or None"):
        sql.Placeholder(10)


def test_placeholders_in_execute(cur):
    names = ["a", "b"]
    q = sql.SQL("select {}").format(
        sql.SQL(", ").join(map(sql.Placeholder, names)))
    cur.execute(q, {"a": 1, "b": "two"})
    assert cur.fetchone() == (1, "two")

    q = sql.SQL("select {}").format(
        sql.SQL(", ").join(sql.Placeholder() * 3))
    cur.execute(q, (1, 2, 3))
    assert cur.fetchone() == (1, 2, 3)


# --- Composed and operators -----------------------------------------------

def test_composed_from_list(conn):
    c = sql.Composed([sql.SQL("select "), sql.Literal(1)])
    assert c.seq == [sql.SQL("select "), sql.Literal(1)]
    assert list(c) == c.seq
    assert c.as_string(conn) == "select 1"
    assert repr(c) == "Composed([SQL('select '), Literal(1)])"


def test_composed_rejects_non_composable():
    with pytest.raises(TypeError, match="elements must be Composable"):
        sql.Composed([sql.SQL("a"), "b"])
    with pytest.raises(TypeError):
        sql.Composed("ab")


def test_composed_seq_is_a_copy():
    c = sql.Composed([sql.SQL("a")])
    c.seq.append(sql.SQL("b"))
    assert c.seq == [sql.SQL("a")]


def test_composed_join(conn):
    c = sql.Composed([sql.Identifier("a"), sql.Identifier("b")])
    assert c.join(", ").as_string(conn) == '"a", "b"'
    assert c.join(sql.SQL(" + ")).as_string(conn) == '"a" + "b"'
    with pytest.raises(TypeError, match="must be a string or an SQL"):
        c.join(sql.Literal(1))
    with pytest.raises(TypeError):
        c.join(None)


def test_add():
    a, b, c = sql.SQL("a"), sql.Identifier("b"), sql.Literal("c")
    assert a + b == sql.Composed([a, b])
    assert (a + b) + c == sql.Composed([a, b, c])
    assert a + (b + c) == sql.Composed([a, b, c])
    assert (a + b) + (b + c) == sql.Composed([a, b, b, c])
    with pytest.raises(TypeError):
        a + "b"
    with pytest.raises(TypeError):
        "a" + a
    with pytest.raises(TypeError):
        (a + b) + 10


def test_mul():
    p = sql.Placeholder()
    assert p * 3 == sql.Composed([p, p, p])
    assert p * 0 == sql.Composed([])
    with pytest.raises(TypeError):
        p * sql.SQL("x")


def test_equality():
    assert sql.SQL("a") == sql.SQL("a")
    assert sql.SQL("a") != sql.SQL("b")
    assert sql.SQL("a") != sql.Identifier("a")
    assert sql.Literal(1) == sql.Literal(1)
    assert sql.Literal(1) != sql.Literal("1")
    assert sql.Identifier("a", "b") == sql.Identifier("a", "b")
    assert sql.Identifier("a", "b") != sql.Identifier("a")
    assert sql.Placeholder() == sql.Placeholder()
    assert sql.Placeholder("x") != sql.Placeholder()
    assert sql.Composed([sql.SQL("a")]) == sql.Composed([sql.SQL("a")])
    assert sql.SQL("a") != "a"


def test_not_hashable():
    with pytest.raises(TypeError):
        hash(sql.SQL("a"))


def test_composable_abstract(conn):
    with pytest.raises(NotImplementedError):
        sql.Composable("x").as_string(conn)


def test_null_default(conn):
    assert sql.NULL == sql.SQL("NULL")
    assert sql.DEFAULT == sql.SQL("DEFAULT")
    assert sql.NULL.as_string(conn) == "NULL"
    assert sql.DEFAULT.as_string(conn) == "DEFAULT"


def test_subclass_as_string(conn, cur):
    class Upper(sql.Composable):
        def as_string(self, context):
            return self._wrapped.upper()

    cur.execute(sql.SQL("select {}").format(Upper("'abc'")))
    assert cur.fetchone()[0] == "ABC"


# --- usable wherever a query is accepted ----------------------------------

def test_execute_with_params(cur):
    cur.execute(sql.SQL("select {}, %s, {}").format(
        sql.Literal("a"), sql.Literal(3)), ("b",))
    assert cur.fetchone() == ("a", "b", 3)


def test_executemany(conn, cur):
    cur.execute("create temp table tsql (id int, data text)")
    q = sql.SQL("insert into {} values (%s, %s)").format(
        sql.Identifier("tsql"))
    cur.executemany(q, [(1, "a"), (2, "b")])
    cur.execute("select * from tsql order by id")
    assert cur.fetchall() == [(1, "a"), (2, "b")]


def test_mogrify(cur):
    q = sql.SQL("select {} = %s").format(sql.Identifier("x"))
    assert cur.mogrify(q, (10,)) == b'select "x" = 10'


def test_copy_expert(conn, cur):
    cur.execute("create temp table tcopy (id int, data text)")
    q = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier("tcopy"),
        sql.SQL(", ").join([sql.Identifier("id"), sql.Identifier("data")]))
    cur.copy_expert(q, io.StringIO("1\ta\n2\tb\n"))
    q = sql.SQL("copy (select * from {} order by id) to stdout").format(
        sql.Identifier("tcopy"))
    out = io.StringIO()
    cur.copy_expert(q, out)
    assert out.getvalue() == "1\ta\n2\tb\n"


def test_execute_values_and_batch(conn, cur):
    cur.execute("create temp table tev (id int, data text)")
    execute_values(cur, sql.SQL("insert into {} values %s").format(
        sql.Identifier("tev")), [(1, "a"), (2, "b")])
    execute_batch(cur, sql.SQL("insert into {} values (%s, %s)").format(
        sql.Identifier("tev")), [(3, "c"), (4, "d")])
    cur.execute("select * from tev order by id")
    assert cur.fetchall() == [(1, "a"), (2, "b"), (3, "c"), (4, "d")]


def test_named_cursor(conn):
    with conn.cursor("sqlnamed") as cur:
        cur.execute(sql.SQL("select {} from generate_series(1, 3) x").format(
            sql.Identifier("x")))
        assert [r[0] for r in cur] == [1, 2, 3]


def test_as_string_with_percent(conn, cur):
    # literal % in the SQL text must be doubled when params are passed
    cur.execute(sql.SQL("select {} || '%%', %s").format(
        sql.Literal("50")), (1,))
    assert cur.fetchone() == ("50%", 1)


# --- documentation examples -------------------------------------------------

def run_doctests(tests):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = []
    for test in tests:
        runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    return runner.tries


def test_doc_page_examples(conn):
    path = os.path.join(os.path.dirname(__file__), "..", "doc", "sql.rst")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    test = doctest.DocTestParser().get_doctest(
        text, {"conn": conn, "psycopg2": psycopg2}, "sql.rst", path, 0)
    assert run_doctests([test]) > 10


def test_docstring_examples(conn):
    tests = doctest.DocTestFinder().find(
        sql, globs={"conn": conn, "sql": sql, "psycopg2": psycopg2})
    assert run_doctests(tests) > 5
