"""Tests of the module-level API: DB-API attributes and constructors,
psycopg2.extensions' namespace, make_dsn/parse_dsn and connect()."""

import datetime
import os
import subprocess
import sys

import pytest

import psycopg2
import psycopg2.extensions as ext
from psycopg2.extensions import make_dsn, parse_dsn

LIB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "lib")


def run_python(code, env=None):
    """Run `code` in a fresh interpreter, return its stdout (str)."""
    return subprocess.run(
        [sys.executable, "-c", code], check=True, stdout=subprocess.PIPE,
        env=env).stdout.decode()


# ------------------------------------------------------------------
# DB-API module attributes

def test_dbapi_globals():
    assert psycopg2.apilevel == "2.0"
    assert psycopg2.threadsafety == 2
    assert psycopg2.paramstyle == "pyformat"


def test_version():
    assert psycopg2.__version__.startswith("2.9.")
    assert "(" in psycopg2.__version__      # feature flags, like psycopg2
    assert isinstance(psycopg2.__libpq_version__, int)
    assert psycopg2.__libpq_version__ >= 90100
    assert psycopg2.__libpq_version__ == ext.libpq_version()


@pytest.mark.parametrize("name", [
    "connect", "apilevel", "threadsafety", "paramstyle",
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
    "OperationalError", "IntegrityError", "InternalError",
    "ProgrammingError", "NotSupportedError",
    "Binary", "Date", "Time", "Timestamp", "DateFromTicks",
    "TimeFromTicks", "TimestampFromTicks",
    "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID",
    "__version__", "__libpq_version__", "errors", "extensions",
])
def test_module_names(name):
    assert hasattr(psycopg2, name)


def test_import_side_effects():
    out = run_python(
        "import logging, sys, threading\n"
        "import psycopg2\n"
        "print(threading.active_count())\n"
        "print(len(logging.getLogger().handlers))\n"
        "print(any(logging.getLogger(n).handlers\n"
        "          for n in logging.root.manager.loggerDict))\n"
        "print('psycopg2.loadbalance' in sys.modules)\n"
        "print('psycopg2.errors' in sys.modules)\n")
    assert out.split() == ["1", "0", "False", "False", "True"]


def test_plain_connect_skips_loadbalance(dsn):
    out = run_python(
        "import sys, psycopg2\n"
        "c = psycopg2.connect(%r, application_name='x')\n"
        "c.close()\n"
        "print('psycopg2.loadbalance' in sys.modules)\n" % dsn)
    assert out.split() == ["False"]


# ------------------------------------------------------------------
# Constructors and type objects

def test_date_time_constructors(conn):
    cur = conn.cursor()
    cur.execute("select %s, %s, %s", (
        psycopg2.Date(2020, 1, 2), psycopg2.Time(10, 20, 30),
        psycopg2.Timestamp(2020, 1, 2, 10, 20, 30)))
    assert cur.fetchone() == (
        datetime.date(2020, 1, 2), datetime.time(10, 20, 30),
        datetime.datetime(2020, 1, 2, 10, 20, 30))
    assert psycopg2.Date(2020, 1, 2).getquoted() == b"'2020-01-02'::date"


def test_ticks_constructors(conn):
    ticks = 1600000000.5
    cur = conn.cursor()
    cur.execute("select %s, %s, %s", (
        psycopg2.DateFromTicks(ticks), psycopg2.TimeFromTicks(ticks),
        psycopg2.TimestampFromTicks(ticks)))
    date, time, ts = cur.fetchone()
    local = datetime.datetime.fromtimestamp(ticks)
    assert date == local.date()
    assert time == local.time()
    assert ts == datetime.datetime.fromtimestamp(
        ticks, datetime.timezone.utc)


def test_binary_constructor(conn):
    cur = conn.cursor()
    data = bytes(range(256))
    cur.execute("select %s", (psycopg2.Binary(data),))
    assert bytes(cur.fetchone()[0]) == data


def test_type_objects(conn):
    cur = conn.cursor()
    cur.execute("select 1::int4, 2.5::numeric, 'a'::text, 'b'::varchar, "
                "'x'::bytea, 1::oid, '2020-01-01'::timestamp")
    codes = [d.type_code for d in cur.description]
    assert psycopg2.NUMBER == codes[0]
    assert psycopg2.NUMBER == codes[1]
    assert psycopg2.STRING == codes[2]
    assert psycopg2.STRING == codes[3]
    assert psycopg2.BINARY == codes[4]
    assert psycopg2.ROWID == codes[5]
    assert psycopg2.DATETIME == codes[6]
    assert psycopg2.STRING != codes[0]
    assert psycopg2.NUMBER != codes[2]


# ------------------------------------------------------------------
# psycopg2.extensions

@pytest.mark.parametrize("name, value", [
    ("ISOLATION_LEVEL_AUTOCOMMIT", 0),
    ("ISOLATION_LEVEL_READ_UNCOMMITTED", 4),
    ("ISOLATION_LEVEL_READ_COMMITTED", 1),
    ("ISOLATION_LEVEL_REPEATABLE_READ", 2),
    ("ISOLATION_LEVEL_SERIALIZABLE", 3),
    ("ISOLATION_LEVEL_DEFAULT", None),
    ("STATUS_SETUP", 0),
    ("STATUS_READY", 1),
    ("STATUS_BEGIN", 2),
    ("STATUS_SYNC", 3),
    ("STATUS_ASYNC", 4),
    ("STATUS_PREPARED", 5),
    ("STATUS_IN_TRANSACTION", 2),
    ("POLL_OK", 0),
    ("POLL_READ", 1),
    ("POLL_WRITE", 2),
    ("POLL_ERROR", 3),
    ("TRANSACTION_STATUS_IDLE", 0),
    ("TRANSACTION_STATUS_ACTIVE", 1),
    ("TRANSACTION_STATUS_INTRANS", 2),
    ("TRANSACTION_STATUS_INERROR", 3),
    ("TRANSACTION_STATUS_UNKNOWN", 4),
    ("JSON", ext.JSON),
])
def test_extensions_constants(name, value):
    assert getattr(ext, name) == value


@pytest.mark.parametrize("name", [
    "connection", "cursor", "Column", "ConnectionInfo", "Diagnostics",
    "QueryCanceledError", "TransactionRollbackError",
    "adapt", "adapters", "register_adapter", "ISQLQuote", "AsIs",
    "QuotedString", "Binary", "Boolean", "Float", "Int", "SQL_IN",
    "NoneAdapter", "DateFromPy", "TimeFromPy", "TimestampFromPy",
    "IntervalFromPy",
    "new_type", "new_array_type", "register_type", "string_types",
    "binary_types",
    "UNICODE", "UNICODEARRAY", "STRINGARRAY", "BOOLEAN", "BOOLEANARRAY",
    "INTEGER", "INTEGERARRAY", "LONGINTEGER", "LONGINTEGERARRAY", "FLOAT",
    "FLOATARRAY", "DECIMAL", "DECIMALARRAY", "DATE", "DATEARRAY", "TIME",
    "TIMEARRAY", "INTERVAL", "INTERVALARRAY", "DATETIMEARRAY",
    "ROWIDARRAY", "BINARYARRAY", "BYTES", "BYTESARRAY", "PYDATE",
    "PYDATEARRAY", "PYTIME", "PYTIMEARRAY", "PYDATETIME",
    "PYDATETIMEARRAY", "PYDATETIMETZ", "PYDATETIMETZARRAY", "PYINTERVAL",
    "PYINTERVALARRAY", "JSON", "JSONARRAY", "JSONB", "JSONBARRAY",
    "make_dsn", "parse_dsn", "quote_ident", "encodings", "libpq_version",
    "encrypt_password", "set_wait_callback", "get_wait_callback",
])
def test_extensions_names(name):
    assert hasattr(ext, name)


def test_extensions_no_decimal():
    # like psycopg2: a star import must not shadow decimal.Decimal
    assert not hasattr(ext, "Decimal")


def test_connection_types(conn):
    assert isinstance(conn, ext.connection)
    assert isinstance(conn.cursor(), ext.cursor)


def test_register_adapter(conn):
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    def adapt_point(p):
        return ext.AsIs("point(%s, %s)" % (ext.adapt(p.x).getquoted()
                                           .decode(), p.y))

    ext.register_adapter(Point, adapt_point)
    try:
        assert ext.adapters[(Point, ext.ISQLQuote)] is adapt_point
        cur = conn.cursor()
        cur.execute("select %s::text", (Point(1.5, 2),))
        assert cur.fetchone()[0] == "(1.5,2)"
    finally:
        del ext.adapters[(Point, ext.ISQLQuote)]


def test_sql_in(conn):
    assert ext.SQL_IN((1, 2)).getquoted() == b"(1, 2)"
    assert ext.SQL_IN((1,)).getquoted() == b"(1)"
    assert ext.SQL_IN(("a", None)).getquoted() == b"('a', NULL)"
    a = ext.SQL_IN(("it's", 3))
    a.prepare(conn)
    assert a.getquoted() == b"('it''s', 3)"
    assert str(ext.SQL_IN((1, 2))) == "b'(1, 2)'"
    # the default tuple adapter quotes the same way
    assert ext.adapt((1, "a")).getquoted() \
        == ext.SQL_IN((1, "a")).getquoted()


def test_none_adapter():
    assert ext.NoneAdapter(None).getquoted() == b"NULL"
    assert type(ext.adapt(None)) is ext.NoneAdapter


def test_default_adapters_are_the_extensions_classes():
    # like psycopg2: the registered adapters are the documented classes
    assert ext.adapters[(tuple, ext.ISQLQuote)] is ext.SQL_IN
    assert ext.adapters[(type(None), ext.ISQLQuote)] is ext.NoneAdapter


# ------------------------------------------------------------------
# make_dsn / parse_dsn

@pytest.mark.parametrize("args, kwargs, result", [
    ((), {}, ""),
    ((None,), {}, ""),
    (("",), {}, ""),
    (("dbname=foo",), {}, "dbname=foo"),
    (("  dbname = foo  ",), {}, "  dbname = foo  "),
    (("postgresql://u@h/db",), {}, "postgresql://u@h/db"),
    (("dbname=foo",), {"user": "bar"}, "dbname=foo user=bar"),
    (("dbname=foo",), {"dbname": "baz"}, "dbname=baz"),
    (("dbname=foo",), {"database": "baz"}, "dbname=baz"),
    (("dbname=foo user=x",), {"dbname": "baz"}, "user=x dbname=baz"),
    ((), {"database": "baz"}, "dbname=baz"),
    ((), {"dsn": "dbname=foo"}, "dbname=foo"),
    ((), {"user": None}, ""),
    (("user=x dbname=foo",), {"user": None}, "user=x dbname=foo"),
    ((), {"port": 5432}, "port=5432"),
    ((), {"host": "h", "port": 5432, "sslmode": "require"},
        "host=h port=5432 sslmode=require"),
    ((), {"password": "a b"}, "password='a b'"),
    ((), {"password": "it's"}, "password=it\\'s"),
    ((), {"password": "a'b c"}, "password='a\\'b c'"),
    ((), {"password": "back\\slash"}, "password=back\\\\slash"),
    ((), {"password": ""}, "password=''"),
    ((), {"password": "a\tb"}, "password='a\tb'"),
    ((), {"password": "a=b"}, "password=a=b"),
    ((), {"dbname": "foo bar=baz"}, "dbname='foo bar=baz'"),
    ((), {"options": "-c search_path=a,b"},
        "options='-c search_path=a,b'"),
    (("dbname=foo",), {"application_name": "\u00e9 x"},
        "dbname=foo application_name='\u00e9 x'"),
    (("postgresql://u@h/db",), {"port": 5433},
        "user=u dbname=db host=h port=5433"),
    (("postgresql://u@h/db?sslmode=disable",), {"user": "w"},
        "user=w dbname=db host=h sslmode=disable"),
    (("host=a,b port=1,2",), {}, "host=a,b port=1,2"),
    ((b"dbname=x",), {}, b"dbname=x"),
    ((b"dbname=x",), {"user": "u"}, "dbname=x user=u"),
])
def test_make_dsn(args, kwargs, result):
    assert make_dsn(*args, **kwargs) == result


@pytest.mark.parametrize("args, kwargs, exc, match", [
    (("bad",), {}, psycopg2.ProgrammingError, "invalid dsn"),
    (("dbname=x nosuch=1",), {}, psycopg2.ProgrammingError,
        'invalid connection option "nosuch"'),
    ((), {"nosuch": 1}, psycopg2.ProgrammingError,
        'invalid connection option "nosuch"'),
    ((), {"dbname": "a", "database": "b"}, TypeError, "both"),
    ((), {"dbname": "a", "database": None}, TypeError, "both"),
    ((1,), {}, TypeError, None),
    ((1,), {"user": "x"}, TypeError, None),
])
def test_make_dsn_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_dsn(*args, **kwargs)


@pytest.mark.parametrize("value", [
    "simple", "with space", "it's", "back\\slash", "\\'mix ' \\", "",
    "tab\tnl\n", "=", "'", "\u00e8\u20ac",
])
def test_make_dsn_roundtrip(value):
    assert parse_dsn(make_dsn(password=value))["password"] == value
    assert parse_dsn(make_dsn("dbname=x", application_name=value)) == {
        "dbname": "x", "application_name": value}


def test_parse_dsn():
    assert parse_dsn("dbname=x password='a b'") == {
        "dbname": "x", "password": "a b"}
    assert parse_dsn("postgresql://u:p@h:1/db?connect_timeout=3") == {
        "user": "u", "password": "p", "host": "h", "port": "1",
        "dbname": "db", "connect_timeout": "3"}
    assert parse_dsn("") == {}
    with pytest.raises(psycopg2.ProgrammingError):
        parse_dsn("bad")
    with pytest.raises(TypeError):
        parse_dsn(None)


# ------------------------------------------------------------------
# connect()

def current(conn, what="current_database()"):
    cur = conn.cursor()
    cur.execute("select " + what)
    return cur.fetchone()[0]


@pytest.fixture
def params(dsn):
    return parse_dsn(dsn)


def test_connect_dsn(dsn, params):
    conn = psycopg2.connect(dsn)
    try:
        assert isinstance(conn, ext.connection)
        assert current(conn) == params["dbname"]
        assert conn.cursor_factory is None
        assert not conn.async_
    finally:
        conn.close()


def test_connect_dsn_keyword(dsn, params):
    conn = psycopg2.connect(dsn=dsn)
    try:
        assert current(conn) == params["dbname"]
    finally:
        conn.close()


def test_connect_kwargs(params):
    conn = psycopg2.connect(**params)
    try:
        assert current(conn) == params["dbname"]
    finally:
        conn.close()


def test_connect_database_alias(params):
    params = dict(params)
    params["database"] = params.pop("dbname")
    conn = psycopg2.connect(**params)
    try:
        assert current(conn) == params["database"]
    finally:
        conn.close()


def test_connect_dsn_overridden(dsn):
    conn = psycopg2.connect(dsn, dbname="postgres",
                            application_name="over ride")
    try:
        assert current(conn) == "postgres"
        assert current(conn, "current_setting('application_name')") \
            == "over ride"
    finally:
        conn.close()


def test_connect_none_values_ignored(dsn, params):
    conn = psycopg2.connect(dsn, dbname=None, connection_factory=None,
                            cursor_factory=None)
    try:
        assert current(conn) == params["dbname"]
    finally:
        conn.close()


def test_connect_uri(params):
    uri = "postgresql://%s@%s:%s/%s" % (
        params["user"], params["host"], params["port"], params["dbname"])
    conn = psycopg2.connect(uri)
    try:
        assert current(conn) == params["dbname"]
    finally:
        conn.close()
    conn = psycopg2.connect(uri, application_name="from kw")
    try:
        assert current(conn, "current_setting('application_name')") \
            == "from kw"
    finally:
        conn.close()


def test_connect_no_arguments(params, monkeypatch):
    for key, var in [("host", "PGHOST"), ("port", "PGPORT"),
                     ("user", "PGUSER"), ("dbname", "PGDATABASE"),
                     ("password", "PGPASSWORD")]:
        if key in params:
            monkeypatch.setenv(var, params[key])
    monkeypatch.setenv("PGAPPNAME", "from env")
    conn = psycopg2.connect()
    try:
        assert current(conn) == params["dbname"]
        assert current(conn, "current_setting('application_name')") \
            == "from env"
    finally:
        conn.close()


class MyConnection(ext.connection):
    pass


class MyCursor(ext.cursor):
    pass


def test_connect_factories(dsn):
    conn = psycopg2.connect(dsn, connection_factory=MyConnection,
                            cursor_factory=MyCursor)
    try:
        assert type(conn) is MyConnection
        assert conn.cursor_factory is MyCursor
        assert type(conn.cursor()) is MyCursor
    finally:
        conn.close()


def test_connect_positional_factory(dsn):
    conn = psycopg2.connect(dsn, MyConnection)
    try:
        assert type(conn) is MyConnection
    finally:
        conn.close()


@pytest.mark.parametrize("kwargs", [
    {"async_": True}, {"async": True}, {"async": 1, "async_": False}])
def test_connect_async(dsn, kwargs):
    conn = psycopg2.connect(dsn, **kwargs)
    try:
        assert conn.async_
    finally:
        conn.close()


def test_connect_bad_option(dsn):
    with pytest.raises(psycopg2.ProgrammingError,
                       match='invalid dsn: invalid connection option '
                             '"nosuch"'):
        psycopg2.connect(dsn, nosuch=1)
    with pytest.raises(psycopg2.ProgrammingError, match="invalid dsn"):
        psycopg2.connect(dsn + " nosuch=1")


def test_connect_bad_types(dsn):
    with pytest.raises(TypeError):
        psycopg2.connect(1)
    with pytest.raises(TypeError):
        psycopg2.connect(dsn, 2)
    with pytest.raises(TypeError):
        psycopg2.connect(dsn, dbname="a", database="b")


def test_connect_unreachable():
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="127.0.0.1", port=1, connect_timeout=5)


@pytest.mark.skipif(
    not os.path.exists(os.path.join(LIB, "loadbalance.py")),
    reason="psycopg2.loadbalance not available")
def test_connect_lb_property_without_load_balance(dsn, params):
    # A load-balancing property without load_balance: stripped (libpq
    # would reject it), then a plain connection.
    conn = psycopg2.connect(dsn, yb_servers_refresh_interval=10)
    try:
        assert current(conn) == params["dbname"]
    finally:
        conn.close()
    conn = psycopg2.connect(dsn + " load_balance=false")
    try:
        assert current(conn) == params["dbname"]
    finally:
        conn.close()
