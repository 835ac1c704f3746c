"""Tests of the json adaptation (psycopg2._json): Json, register_json and
the default json/jsonb typecasters."""

import decimal
import json

import pytest

import psycopg2
import psycopg2.extensions as ext
from psycopg2 import _json
from psycopg2._json import (
    JSON_OID, JSONARRAY_OID, JSONB_OID, JSONBARRAY_OID, Json,
    register_default_json, register_default_jsonb, register_json)


@pytest.fixture
def restore_global_casters():
    """Put back the default json casters after a test registering
    globally."""
    yield
    for caster in (ext.JSON, ext.JSONARRAY, ext.JSONB, ext.JSONBARRAY):
        ext.register_type(caster)


def fetch(conn, query, args=None):
    cur = conn.cursor()
    cur.execute(query, args)
    return cur.fetchone()[0]


def test_oids():
    assert (JSON_OID, JSONARRAY_OID, JSONB_OID, JSONBARRAY_OID) \
        == (114, 199, 3802, 3807)


def test_default_casters():
    for caster, oid, name in [
            (ext.JSON, JSON_OID, "JSON"),
            (ext.JSONARRAY, JSONARRAY_OID, "JSONARRAY"),
            (ext.JSONB, JSONB_OID, "JSONB"),
            (ext.JSONBARRAY, JSONBARRAY_OID, "JSONBARRAY")]:
        assert caster.values == (oid,)
        assert caster.name == name
        assert ext.string_types[oid] is caster


# ------------------------------------------------------------------
# Json adapter

def test_json_quoting():
    obj = {"a": [1, "x'y"]}
    j = Json(obj)
    assert j.adapted is obj
    assert j.getquoted() == b"""'{"a": [1, "x''y"]}'"""
    assert str(j) == """'{"a": [1, "x''y"]}'"""
    assert Json(None).getquoted() == b"'null'"
    # Unprepared, the backslash is escaped like libpq's PQescapeString
    # does, which depends on the standard_conforming_strings setting of
    # the last connection the process opened (the same in psycopg2).
    assert Json("\u00e9").getquoted() in (
        b"""'"\\u00e9"'""", b"""'"\\\\u00e9"'""")


def test_json_quoting_prepared(conn):
    j = Json("\u00e9")
    j.prepare(conn)
    assert j.getquoted() == b"""'"\\u00e9"'"""
    cur = conn.cursor()
    cur.execute("select %s::json #>> '{}'", [Json("\u00e9")])
    assert cur.fetchone()[0] == "\u00e9"


def test_json_conform():
    j = Json(1)
    assert j.__conform__(ext.ISQLQuote) is j
    assert j.__conform__(object) is None
    assert ext.adapt(j) is j


def test_json_prepare(conn):
    j = Json({"a": "x'y"})
    j.prepare(conn)
    assert j.getquoted() == b"""'{"a": "x''y"}'"""


def test_json_dumps_argument():
    j = Json({"b": 1, "a": 2}, dumps=lambda o: json.dumps(o, sort_keys=True))
    assert j.getquoted() == b"""'{"a": 2, "b": 1}'"""


def test_json_dumps_subclass():
    class DecimalJson(Json):
        def dumps(self, obj):
            return json.dumps(obj, default=str)

    assert DecimalJson([decimal.Decimal("1.5")]).getquoted() \
        == b"""'["1.5"]'"""
    with pytest.raises(TypeError):
        Json([decimal.Decimal("1.5")]).getquoted()


def test_json_mogrify(conn):
    cur = conn.cursor()
    assert cur.mogrify("%s", [Json({"a": 1})]) == b"""'{"a": 1}'"""


def test_json_non_ascii(conn):
    obj = {"k": "\u00e8\u20ac", "n": [1, 2.5, None, True]}
    j = Json(obj, dumps=lambda o: json.dumps(o, ensure_ascii=False))
    assert fetch(conn, "select %s::json", [j]) == obj
    assert fetch(conn, "select %s::jsonb", [j]) == obj


# ------------------------------------------------------------------
# Round trips with the default casters

@pytest.mark.parametrize("typ", ["json", "jsonb"])
@pytest.mark.parametrize("obj", [
    {"a": [1, 2, {"b": None}], "c": "str", "d": 1.5, "e": True},
    [1, "two", 3.0],
    "just a string",
    42,
    None,
    {},
])
def test_roundtrip(conn, typ, obj):
    assert fetch(conn, "select %%s::%s" % typ, [Json(obj)]) == obj


@pytest.mark.parametrize("typ", ["json", "jsonb"])
def test_null(conn, typ):
    assert fetch(conn, "select null::%s" % typ) is None


@pytest.mark.parametrize("typ", ["json", "jsonb"])
def test_arrays(conn, typ):
    res = fetch(conn, "select array['{\"a\": 1}', '[2]', null]::%s[]" % typ)
    assert res == [{"a": 1}, [2], None]


def test_table_roundtrip(conn):
    cur = conn.cursor()
    cur.execute("create temp table jt (j json, jb jsonb)")
    obj = {"x": [1, {"y": "z"}]}
    cur.execute("insert into jt values (%s, %s)", (Json(obj), Json(obj)))
    cur.execute("select j, jb from jt")
    assert cur.fetchone() == (obj, obj)


# ------------------------------------------------------------------
# register_json and friends

def loads_tagged(s):
    return ("tagged", json.loads(s))


def test_register_json_on_connection(dsn, conn):
    casters = register_json(conn, loads=loads_tagged)
    assert len(casters) == 2
    assert casters[0].values == (JSON_OID,)
    assert casters[1].values == (JSONARRAY_OID,)
    assert casters[0].name == "JSON"
    assert fetch(conn, "select '[1]'::json") == ("tagged", [1])
    assert fetch(conn, "select array['1']::json[]") == [("tagged", 1)]
    # jsonb is untouched
    assert fetch(conn, "select '[1]'::jsonb") == [1]
    # other connections are untouched
    other = psycopg2.connect(dsn)
    try:
        assert fetch(other, "select '[1]'::json") == [1]
    finally:
        other.close()


def test_register_json_on_cursor(conn):
    cur = conn.cursor()
    register_json(cur, loads=loads_tagged)
    cur.execute("select '{}'::json")
    assert cur.fetchone()[0] == ("tagged", {})
    assert fetch(conn, "select '{}'::json") == {}


def test_register_json_globally(dsn, conn, restore_global_casters):
    register_json(conn, globally=True, loads=loads_tagged)
    other = psycopg2.connect(dsn)
    try:
        assert fetch(other, "select '2'::json") == ("tagged", 2)
    finally:
        other.close()


def test_register_json_jsonb_by_name(conn):
    json_caster, array_caster = register_json(
        conn, loads=loads_tagged, name="jsonb")
    assert json_caster.values == (JSONB_OID,)
    assert array_caster.values == (JSONBARRAY_OID,)
    assert json_caster.name == "JSONB"
    assert fetch(conn, "select '3'::jsonb") == ("tagged", 3)


def test_register_json_keeps_transaction_status(conn):
    assert conn.get_transaction_status() \
        == ext.TRANSACTION_STATUS_IDLE
    register_json(conn)
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    cur = conn.cursor()
    cur.execute("create temp table keep_me (x int)")
    register_json(conn)
    # the transaction the user started is still open: the table exists
    assert conn.get_transaction_status() \
        == ext.TRANSACTION_STATUS_INTRANS
    cur.execute("select count(*) from keep_me")
    assert cur.fetchone()[0] == 0


def test_register_json_autocommit(conn):
    conn.autocommit = True
    register_json(conn, loads=loads_tagged)
    assert fetch(conn, "select '1'::json") == ("tagged", 1)


def test_register_json_with_dict_cursor_factory(dsn):
    class DictLikeCursor(ext.cursor):
        def fetchone(self):
            row = super().fetchone()
            return None if row is None else {"row": row}

    conn = psycopg2.connect(dsn, cursor_factory=DictLikeCursor)
    try:
        register_json(conn, loads=loads_tagged)
        cur = conn.cursor()
        cur.execute("select '5'::json")
        assert cur.fetchone() == {"row": (("tagged", 5),)}
    finally:
        conn.close()


def test_register_json_not_found(conn):
    with pytest.raises(psycopg2.ProgrammingError,
                       match="nosuchjson data type not found"):
        register_json(conn, name="nosuchjson")
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_register_json_no_connection():
    with pytest.raises(psycopg2.ProgrammingError,
                       match="no connection or cursor provided"):
        register_json()


def test_register_json_explicit_oids(conn):
    json_caster, array_caster = register_json(
        conn, loads=loads_tagged, oid=JSON_OID)
    assert array_caster is None
    assert fetch(conn, "select '8'::json") == ("tagged", 8)
    assert fetch(conn, "select array['8']::json[]") == [8]


def test_register_json_explicit_oids_globally(conn,
                                              restore_global_casters):
    register_json(None, loads=loads_tagged, oid=JSON_OID,
                  array_oid=JSONARRAY_OID)
    assert fetch(conn, "select '9'::json") == ("tagged", 9)
    assert fetch(conn, "select array['9']::json[]") == [("tagged", 9)]


def test_register_default_json(conn):
    json_caster, array_caster = register_default_json(
        conn, loads=loads_tagged)
    assert json_caster.values == (JSON_OID,)
    assert array_caster.values == (JSONARRAY_OID,)
    assert fetch(conn, "select '{\"a\": 1}'::json") == ("tagged", {"a": 1})
    assert fetch(conn, "select '{\"a\": 1}'::jsonb") == {"a": 1}


def test_register_default_jsonb(conn):
    json_caster, array_caster = register_default_jsonb(
        conn, loads=loads_tagged)
    assert json_caster.name == "JSONB"
    assert json_caster.values == (JSONB_OID,)
    assert array_caster.values == (JSONBARRAY_OID,)
    assert fetch(conn, "select '[]'::jsonb") == ("tagged", [])
    assert fetch(conn, "select array['[]']::jsonb[]") == [("tagged", [])]
    assert fetch(conn, "select '[]'::json") == []


def test_register_default_json_globally(dsn, restore_global_casters):
    register_default_json(globally=True, loads=loads_tagged)
    register_default_jsonb(globally=True, loads=loads_tagged)
    conn = psycopg2.connect(dsn)
    try:
        assert fetch(conn, "select '1'::json") == ("tagged", 1)
        assert fetch(conn, "select '1'::jsonb") == ("tagged", 1)
    finally:
        conn.close()


def test_loads_decimal(conn):
    register_default_jsonb(
        conn, loads=lambda s: json.loads(s, parse_float=decimal.Decimal))
    assert fetch(conn, "select '{\"x\": 1.10}'::jsonb") \
        == {"x": decimal.Decimal("1.10")}


def test_create_json_typecasters_unregistered():
    json_caster, array_caster = _json._create_json_typecasters(
        JSON_OID, None, loads=loads_tagged, name="MYJSON")
    assert array_caster is None
    assert json_caster.name == "MYJSON"
    assert ext.string_types[JSON_OID] is not json_caster
