"""The connection object: connecting, transactions, session
characteristics, messages from the server, threads, lost connections, the
load balancer hook, async and green mode, and the module-level helpers of
the connection (parse_dsn, quote_ident, encrypt_password...).
"""

import collections
import gc
import pickle
import select
import threading
import time
import weakref

import pytest

import psycopg2
import psycopg2.extensions as ext
from psycopg2 import _psycopg

from pgserver import PgServer


def query(conn, sql, args=None):
    cur = conn.cursor()
    cur.execute(sql, args)
    return cur.fetchone()[0]


@pytest.fixture
def admin(dsn):
    c = psycopg2.connect(dsn)
    c.autocommit = True
    yield c
    c.close()


def terminate(admin, victim):
    cur = admin.cursor()
    cur.execute("SELECT pg_terminate_backend(%s, 60000)",
                (victim.get_backend_pid(),))
    assert cur.fetchone() == (True,)


# -- connecting -------------------------------------------------------------

def test_connect_attributes(conn):
    assert conn.closed == 0
    assert conn.status == ext.STATUS_READY
    assert conn.protocol_version == 3
    assert conn.server_version >= 90100
    assert conn.encoding == "UTF8"
    assert conn.autocommit is False
    assert conn.isolation_level is None
    assert conn.readonly is None
    assert conn.deferrable is None
    assert conn.async_ == 0 and getattr(conn, "async") == 0
    assert conn.notices == [] and conn.notifies == []
    assert conn.string_types == {} and conn.binary_types == {}
    assert conn.cursor_factory is None
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_connect_uri(dsn):
    params = ext.parse_dsn(dsn)
    uri = "postgresql://%s@%s:%s/%s" % (
        params["user"], params["host"], params["port"], params["dbname"])
    c = psycopg2.connect(uri)
    try:
        assert query(c, "SELECT current_database()") == params["dbname"]
        assert c.dsn == uri
    finally:
        c.close()


def test_dsn_password_masked(dsn):
    c = psycopg2.connect(dsn + " password=s3cr'et")
    try:
        assert "s3cr" not in c.dsn
        assert "password=xxx" in c.dsn
        assert ext.parse_dsn(c.dsn)["dbname"] == ext.parse_dsn(dsn)["dbname"]
    finally:
        c.close()


def test_dsn_without_password_unchanged(conn, dsn):
    assert conn.dsn == dsn


def test_connect_refused():
    with pytest.raises(psycopg2.OperationalError) as exc:
        psycopg2.connect("host=127.0.0.1 port=1 connect_timeout=5")
    assert "refused" in str(exc.value)


def test_connection_class_bad_dsn():
    with pytest.raises(psycopg2.InternalError):
        ext.connection("foo=bar")


def test_connection_class_requires_dsn():
    with pytest.raises(TypeError):
        ext.connection()


def test_repr(conn):
    assert repr(conn).startswith("<connection object at 0x")
    assert "closed: 0>" in repr(conn)
    assert conn.dsn in repr(conn)


def test_connect_factory_called_positionally(dsn):
    calls = []

    def factory(*args, **kwargs):
        calls.append((args, kwargs))
        return ext.connection(*args, **kwargs)

    c = _psycopg._connect(dsn, connection_factory=factory)
    c.close()
    c = _psycopg._connect(dsn, connection_factory=factory, async_=True)
    c.close()
    assert calls == [((dsn,), {}), ((dsn, 1), {})]


def test_subclass(dsn):
    class MyConn(ext.connection):
        def __init__(self, dsn, *args, **kwargs):
            super().__init__(dsn, *args, **kwargs)
            self.extra = 42

    c = psycopg2.connect(dsn, connection_factory=MyConn)
    try:
        assert isinstance(c, MyConn)
        assert c.extra == 42
        assert query(c, "SELECT 1") == 1
    finally:
        c.close()


def test_weakref_and_instance_dict(conn):
    assert weakref.ref(conn)() is conn
    conn.my_attribute = "hello"
    assert conn.my_attribute == "hello"


def test_pickle_refused(conn):
    with pytest.raises(TypeError):
        pickle.dumps(conn)


def test_exception_attributes(conn):
    assert conn.Error is psycopg2.Error
    assert conn.OperationalError is psycopg2.OperationalError
    assert conn.ProgrammingError is psycopg2.ProgrammingError
    assert conn.NotSupportedError is psycopg2.NotSupportedError


def test_readonly_attributes(conn):
    for name in ("closed", "status", "dsn", "server_version",
                 "protocol_version", "encoding", "string_types", "async_"):
        with pytest.raises(AttributeError):
            setattr(conn, name, 1)
    with pytest.raises(AttributeError):
        conn.info = None


def test_delete_session_attribute_refused(conn):
    for name in ("autocommit", "isolation_level", "readonly", "deferrable"):
        with pytest.raises(AttributeError):
            delattr(conn, name)


# -- information ------------------------------------------------------------

def test_get_parameter_status(conn):
    assert conn.get_parameter_status("DateStyle").startswith("ISO")
    assert conn.get_parameter_status("nosuchparam") is None
    with pytest.raises(TypeError):
        conn.get_parameter_status(b"DateStyle")


def test_get_backend_pid(conn):
    assert conn.get_backend_pid() == query(conn, "SELECT pg_backend_pid()")


def test_get_dsn_parameters(conn, dsn):
    params = conn.get_dsn_parameters()
    for k, v in ext.parse_dsn(dsn).items():
        assert params[k] == v
    assert "password" not in params


def test_get_dsn_parameters_no_password(dsn):
    c = psycopg2.connect(dsn + " password=foo")
    try:
        assert "password" not in c.get_dsn_parameters()
    finally:
        c.close()


def test_native_connection(conn):
    cap = conn.get_native_connection()
    assert type(cap).__name__ == "PyCapsule"
    assert "psycopg2.connection.native_connection" in repr(cap)
    assert isinstance(conn.pgconn_ptr, int) and conn.pgconn_ptr != 0


def test_fileno(conn):
    assert conn.fileno() == conn.info.socket
    assert conn.fileno() > 2


def test_transaction_status(conn):
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_INTRANS
    with pytest.raises(psycopg2.DataError):
        cur.execute("SELECT 1/0")
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_INERROR
    conn.rollback()
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


# -- transactions -----------------------------------------------------------

@pytest.fixture
def table(conn, admin):
    cur = admin.cursor()
    cur.execute("DROP TABLE IF EXISTS conn_test")
    cur.execute("CREATE TABLE conn_test (id int)")
    yield "conn_test"
    conn.close()
    cur.execute("DROP TABLE IF EXISTS conn_test")


def count_from(dsn, table):
    c = psycopg2.connect(dsn)
    try:
        return query(c, "SELECT count(*) FROM %s" % table)
    finally:
        c.close()


def test_commit(conn, dsn, table):
    cur = conn.cursor()
    cur.execute("INSERT INTO conn_test VALUES (1)")
    assert conn.status == ext.STATUS_BEGIN
    assert count_from(dsn, table) == 0
    conn.commit()
    assert conn.status == ext.STATUS_READY
    assert count_from(dsn, table) == 1


def test_rollback(conn, dsn, table):
    cur = conn.cursor()
    cur.execute("INSERT INTO conn_test VALUES (1)")
    conn.rollback()
    assert conn.status == ext.STATUS_READY
    assert count_from(dsn, table) == 0
    conn.rollback()     # nothing to roll back: fine
    conn.commit()


def test_commit_error_ends_transaction(conn):
    cur = conn.cursor()
    cur.execute("CREATE TEMP TABLE deferred_t (id int UNIQUE "
                "DEFERRABLE INITIALLY DEFERRED)")
    conn.commit()
    cur.execute("INSERT INTO deferred_t VALUES (1), (1)")
    with pytest.raises(psycopg2.IntegrityError):
        conn.commit()
    assert conn.status == ext.STATUS_READY
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    assert query(conn, "SELECT count(*) FROM deferred_t") == 0


def test_autocommit(conn, dsn, table):
    conn.autocommit = True
    assert conn.autocommit is True
    cur = conn.cursor()
    cur.execute("INSERT INTO conn_test VALUES (1)")
    assert conn.status == ext.STATUS_READY
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    assert count_from(dsn, table) == 1
    conn.autocommit = 0
    assert conn.autocommit is False


def test_autocommit_inside_transaction(conn):
    query(conn, "SELECT 1")
    with pytest.raises(psycopg2.ProgrammingError,
                       match="set_session cannot be used inside a "
                             "transaction"):
        conn.autocommit = True


def test_begin_sends_characteristics(conn):
    conn.set_session("serializable", readonly=True, deferrable=True)
    assert query(conn, "SHOW transaction_isolation") == "serializable"
    assert query(conn, "SHOW transaction_read_only") == "on"
    assert query(conn, "SHOW transaction_deferrable") == "on"
    conn.rollback()
    conn.set_session("repeatable read", readonly=False, deferrable=False)
    assert query(conn, "SHOW transaction_isolation") == "repeatable read"
    assert query(conn, "SHOW transaction_read_only") == "off"
    assert query(conn, "SHOW transaction_deferrable") == "off"
    conn.rollback()
    conn.set_session("default", "default", "default")
    assert (conn.isolation_level, conn.readonly, conn.deferrable) == (
        None, None, None)
    assert query(conn, "SHOW transaction_isolation") == "read committed"


@pytest.mark.parametrize("value, expected", [
    (1, 1), (2, 2), (3, 3), (4, 4), (True, 1),
    ("serializable", 3), ("READ UNCOMMITTED", 4), ("Repeatable Read", 2),
    ("default", None), ("DEFAULT", None),
])
def test_set_session_isolation_values(conn, value, expected):
    conn.set_session(isolation_level=value)
    assert conn.isolation_level == expected


@pytest.mark.parametrize("value, exc, msg", [
    (0, ValueError, "isolation_level must be between 1 and 4"),
    (5, ValueError, "isolation_level must be between 1 and 4"),
    ("foo", ValueError, "bad value for isolation_level: 'foo'"),
    (1.0, TypeError, "Expected bytes or unicode string, got float instead"),
])
def test_set_session_isolation_errors(conn, value, exc, msg):
    with pytest.raises(exc) as e:
        conn.set_session(isolation_level=value)
    assert str(e.value) == msg


def test_set_session_readonly_values(conn):
    conn.set_session(readonly=True, deferrable=False)
    assert (conn.readonly, conn.deferrable) == (True, False)
    conn.set_session(readonly=0)
    assert conn.readonly is False
    conn.set_session(readonly=None)     # None: unchanged
    assert conn.readonly is False
    conn.set_session(readonly="DEFAULT", deferrable="default")
    assert (conn.readonly, conn.deferrable) == (None, None)
    with pytest.raises(ValueError,
                       match="the only string accepted is 'default'; got on"):
        conn.set_session(readonly="on")


def test_set_session_in_transaction(conn):
    query(conn, "SELECT 1")
    for kwargs in ({"readonly": True}, {"autocommit": True}, {}):
        with pytest.raises(psycopg2.ProgrammingError,
                           match="set_session cannot be used inside a "
                                 "transaction"):
            conn.set_session(**kwargs)
    with pytest.raises(psycopg2.ProgrammingError):
        conn.readonly = True
    with pytest.raises(psycopg2.ProgrammingError):
        conn.isolation_level = 1


def test_set_session_autocommit_sets_defaults(conn):
    conn.set_session("serializable", readonly=True, autocommit=True)
    assert query(conn, "SHOW default_transaction_isolation") == \
        "serializable"
    assert query(conn, "SHOW default_transaction_read_only") == "on"
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    # leaving autocommit puts the session defaults back
    conn.autocommit = False
    assert query(conn, "SHOW default_transaction_isolation") == \
        "read committed"
    assert query(conn, "SHOW default_transaction_read_only") == "off"
    # and BEGIN carries the characteristics
    assert query(conn, "SHOW transaction_isolation") == "serializable"
    assert query(conn, "SHOW transaction_read_only") == "on"


def test_switching_autocommit_keeps_characteristics_unsent(conn):
    # psycopg2 sends nothing when only autocommit changes
    conn.set_session("serializable")
    conn.autocommit = True
    assert conn.isolation_level == 3
    assert query(conn, "SHOW default_transaction_isolation") == \
        "read committed"


def test_isolation_level_attribute(conn):
    conn.isolation_level = "repeatable read"
    assert conn.isolation_level == 2
    conn.isolation_level = ext.ISOLATION_LEVEL_SERIALIZABLE
    assert conn.isolation_level == 3
    conn.isolation_level = None
    assert conn.isolation_level is None
    with pytest.raises(ValueError):
        conn.isolation_level = 0
    with pytest.raises(ValueError):
        conn.isolation_level = 5


def test_readonly_deferrable_attributes(conn):
    conn.readonly = True
    conn.deferrable = "default"
    assert (conn.readonly, conn.deferrable) == (True, None)
    assert query(conn, "SHOW transaction_read_only") == "on"
    conn.rollback()
    conn.readonly = None
    assert conn.readonly is None
    with pytest.raises(ValueError):
        conn.readonly = "x"


def test_set_isolation_level(conn):
    conn.set_isolation_level(3)
    assert (conn.isolation_level, conn.autocommit) == (3, False)
    assert query(conn, "SHOW transaction_isolation") == "serializable"
    # it rolls back the transaction
    conn.set_isolation_level(2)
    assert conn.status == ext.STATUS_READY
    conn.set_isolation_level(0)
    assert (conn.isolation_level, conn.autocommit) == (2, True)
    conn.set_isolation_level(None)
    assert (conn.isolation_level, conn.autocommit) == (None, False)
    conn.set_isolation_level("anything")
    assert conn.isolation_level == 1
    for bad in (5, -1):
        with pytest.raises(ValueError,
                           match="isolation level must be between 0 and 4"):
            conn.set_isolation_level(bad)


def test_with_commits(conn, dsn, table):
    with conn as c:
        assert c is conn
        conn.cursor().execute("INSERT INTO conn_test VALUES (1)")
    assert conn.closed == 0
    assert conn.status == ext.STATUS_READY
    assert count_from(dsn, table) == 1


def test_with_rolls_back(conn, dsn, table):
    with pytest.raises(ZeroDivisionError):
        with conn:
            conn.cursor().execute("INSERT INTO conn_test VALUES (1)")
            1 / 0
    assert conn.closed == 0
    assert count_from(dsn, table) == 0


def test_with_autocommit_makes_transaction(conn):
    conn.autocommit = True
    with conn:
        query(conn, "SELECT 1")
        assert conn.status == ext.STATUS_BEGIN
        assert conn.get_transaction_status() == \
            ext.TRANSACTION_STATUS_INTRANS
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    query(conn, "SELECT 1")
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_with_not_reentrant(conn):
    with conn:
        with pytest.raises(psycopg2.ProgrammingError,
                           match="cannot be re-entered recursively"):
            conn.__enter__()


def test_with_closed(conn):
    conn.close()
    with pytest.raises(psycopg2.InterfaceError):
        with conn:
            pass


def test_exit_calls_overridden_methods(dsn):
    calls = []

    class MyConn(ext.connection):
        def commit(self):
            calls.append("commit")
            super().commit()

        def rollback(self):
            calls.append("rollback")
            super().rollback()

    c = psycopg2.connect(dsn, connection_factory=MyConn)
    try:
        with c:
            pass
        with pytest.raises(KeyError):
            with c:
                raise KeyError
        assert calls == ["commit", "rollback"]
    finally:
        c.close()


def test_reset(conn):
    conn.set_session("serializable", autocommit=True)
    cur = conn.cursor()
    cur.execute("SET TIME ZONE 'Asia/Tokyo'")
    conn.reset()
    assert conn.autocommit is False
    assert conn.isolation_level is None
    assert conn.status == ext.STATUS_READY
    assert query(conn, "SHOW TimeZone") != "Asia/Tokyo"
    assert query(conn, "SHOW default_transaction_isolation") == \
        "read committed"


def test_reset_rolls_back(conn):
    query(conn, "SELECT 1")
    conn.reset()
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


# -- closed connection ------------------------------------------------------

@pytest.mark.parametrize("method, args", [
    ("commit", ()), ("rollback", ()), ("cursor", ()),
    ("get_backend_pid", ()), ("fileno", ()), ("get_parameter_status", ("x",)),
    ("reset", ()), ("set_session", ()), ("cancel", ()),
    ("get_dsn_parameters", ()), ("get_native_connection", ()), ("poll", ()),
    ("set_client_encoding", ("utf8",)), ("tpc_recover", ()),
    ("xid", (1, "a", "b")), ("set_isolation_level", (1,)),
])
def test_closed_methods_raise(conn, method, args):
    conn.close()
    with pytest.raises(psycopg2.InterfaceError,
                       match="connection already closed"):
        getattr(conn, method)(*args)


def test_close_idempotent(conn):
    conn.close()
    conn.close()
    assert conn.closed == 1
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_UNKNOWN
    assert conn.isexecuting() is False
    assert conn.pgconn_ptr is None
    with pytest.raises(psycopg2.InterfaceError):
        conn.autocommit = True


def test_close_in_transaction_rolls_back(conn, dsn, table):
    conn.cursor().execute("INSERT INTO conn_test VALUES (1)")
    conn.close()
    assert count_from(dsn, table) == 0


def test_uninitialized_connection_is_closed():
    c = ext.connection.__new__(ext.connection)
    assert c.closed == 1
    with pytest.raises(psycopg2.InterfaceError):
        c.cursor()
    c.close()


# -- cursors ----------------------------------------------------------------

def test_cursor_factory_argument(conn):
    class MyCursor(ext.cursor):
        pass

    assert type(conn.cursor(cursor_factory=MyCursor)) is MyCursor
    conn.cursor_factory = MyCursor
    assert type(conn.cursor()) is MyCursor
    assert type(conn.cursor(cursor_factory=ext.cursor)) is ext.cursor
    conn.cursor_factory = None
    assert type(conn.cursor()) is ext.cursor


def test_cursor_factory_must_return_cursor(conn):
    with pytest.raises(TypeError, match="cursor factory must be subclass"):
        conn.cursor(cursor_factory=lambda conn, name: object())


def test_cursor_factory_called_with_conn_and_name(conn):
    calls = []

    def factory(*args):
        calls.append(args)
        return ext.cursor(*args)

    conn.cursor(cursor_factory=factory)
    conn.cursor("named", cursor_factory=factory)
    assert calls == [(conn, None), (conn, "named")]


def test_cursor_options(conn):
    cur = conn.cursor("n", None, True)
    assert (cur.name, cur.withhold, cur.scrollable) == ("n", True, None)
    cur = conn.cursor("n2", withhold=False, scrollable=True)
    assert (cur.withhold, cur.scrollable) == (False, True)
    with pytest.raises(psycopg2.ProgrammingError):
        conn.cursor(withhold=True)
    with pytest.raises(psycopg2.ProgrammingError):
        conn.cursor(scrollable=True)


# -- client encoding --------------------------------------------------------

def test_set_client_encoding(conn):
    conn.set_client_encoding("latin-1")
    assert conn.encoding == "LATIN1"
    assert conn.get_parameter_status("client_encoding") == "LATIN1"
    assert query(conn, "SELECT %s", ("caf\xe9",)) == "caf\xe9"
    assert query(conn, "SELECT chr(233)") == "\xe9"
    conn.set_client_encoding("UTF8")
    assert conn.encoding == "UTF8"
    assert query(conn, "SELECT chr(8364)") == "\u20ac"


def test_set_client_encoding_rolls_back(conn):
    query(conn, "SELECT 1")
    conn.set_client_encoding("WIN1252")
    assert conn.status == ext.STATUS_READY
    assert conn.encoding == "WIN1252"
    assert query(conn, "SELECT chr(8364)") == "\u20ac"


def test_set_client_encoding_errors(conn):
    with pytest.raises(psycopg2.OperationalError,
                       match="no Python encoding for PostgreSQL encoding "
                             "'EUCTW'"):
        conn.set_client_encoding("EUC_TW")
    conn.set_client_encoding("UTF8")
    with pytest.raises(psycopg2.DataError):
        conn.set_client_encoding("foo")
    conn.rollback()
    with pytest.raises(TypeError):
        conn.set_client_encoding(b"utf8")
    with pytest.raises(TypeError):
        conn.set_client_encoding(None)


def test_client_encoding_in_dsn(dsn):
    c = psycopg2.connect(dsn + " client_encoding=latin9")
    try:
        assert c.encoding == "LATIN9"
        assert query(c, "SELECT chr(8364)") == "\u20ac"
    finally:
        c.close()


def test_encodings_table():
    enc = ext.encodings
    assert enc["UTF8"] == enc["UNICODE"] == "utf_8"
    assert enc["LATIN1"] == enc["ISO_8859_1"] == enc["ISO88591"] \
        == "iso8859_1"
    assert enc["WIN1252"] == "cp1252"
    assert enc["SQL_ASCII"] == enc["SQLASCII"] == "ascii"
    assert enc["EUC_JP"] == enc["EUCJP"] == "euc_jp"
    assert enc["SJIS"] == "cp932"
    assert "EUC_TW" not in enc and "MULE_INTERNAL" not in enc
    import codecs
    for name in set(enc.values()):
        codecs.lookup(name)


# -- notices and notifications ----------------------------------------------

def raise_notices(conn, n, level="notice"):
    conn.cursor().execute(
        "DO $$BEGIN FOR i IN 1..%d LOOP RAISE %s 'n%%', i; END LOOP; END$$"
        % (n, level))


def test_notices(conn):
    raise_notices(conn, 2)
    assert conn.notices == ["NOTICE:  n1\n", "NOTICE:  n2\n"]
    raise_notices(conn, 1, "warning")
    assert conn.notices[-1] == "WARNING:  n1\n"


def test_notices_capped_at_50(conn):
    raise_notices(conn, 60)
    assert len(conn.notices) == 50
    assert conn.notices[0] == "NOTICE:  n11\n"
    assert conn.notices[-1] == "NOTICE:  n60\n"


def test_notices_replaceable(conn):
    conn.notices = collections.deque(maxlen=3)
    raise_notices(conn, 5)
    assert list(conn.notices) == ["NOTICE:  n%d\n" % i for i in (3, 4, 5)]

    class Broken:
        def append(self, x):
            raise ValueError("nope")

    for container in (None, 1, Broken()):
        conn.notices = container
        raise_notices(conn, 1)     # no error: psycopg2 ignores them
    del conn.notices
    assert conn.notices is None
    raise_notices(conn, 1)


def test_notices_decoded(conn):
    conn.cursor().execute("DO $$BEGIN RAISE NOTICE 'caf\xe9 \u20ac'; END$$")
    assert conn.notices == ["NOTICE:  caf\xe9 \u20ac\n"]


def test_notifies(conn, dsn):
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("LISTEN test_chan")
    cur.execute("NOTIFY test_chan")
    cur.execute("NOTIFY test_chan, 'hello'")
    pid = conn.get_backend_pid()
    assert conn.notifies == [ext.Notify(pid, "test_chan"),
                             ext.Notify(pid, "test_chan", "hello")]
    assert conn.notifies[0] == (pid, "test_chan")


def test_notifies_from_other_connection_via_poll(conn, admin):
    conn.autocommit = True
    conn.cursor().execute("LISTEN poll_chan")
    admin.cursor().execute("NOTIFY poll_chan, 'p'")
    deadline = time.monotonic() + 30
    while not conn.notifies and time.monotonic() < deadline:
        select.select([conn], [], [], 1)
        assert conn.poll() == ext.POLL_OK
    n = conn.notifies.pop()
    assert (n.pid, n.channel, n.payload) == (
        admin.get_backend_pid(), "poll_chan", "p")


def test_notifies_replaceable(conn):
    conn.autocommit = True
    conn.notifies = collections.deque()
    cur = conn.cursor()
    cur.execute("LISTEN c2")
    cur.execute("NOTIFY c2, 'x'")
    assert isinstance(conn.notifies, collections.deque)
    assert conn.notifies.popleft().payload == "x"
    conn.notifies = None
    cur.execute("NOTIFY c2, 'y'")
    assert conn.notifies is None


def test_notifies_after_commit_only(conn):
    cur = conn.cursor()
    cur.execute("LISTEN c3")
    conn.commit()
    cur.execute("NOTIFY c3")
    assert conn.notifies == []
    conn.commit()
    cur.execute("SELECT 1")
    assert len(conn.notifies) == 1


# -- cancel and threads -----------------------------------------------------

def wait_active(admin, conn):
    """Wait until the backend of `conn` runs a query (to cancel it)."""
    pid = conn.info.backend_pid
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if query(admin, "SELECT count(*) FROM pg_stat_activity "
                        "WHERE pid = %s AND state = 'active'", (pid,)):
            return
        time.sleep(0.05)
    raise AssertionError("the query didn't start")


def test_cancel_from_other_thread(conn, admin):
    cur = conn.cursor()
    errors = []

    def run():
        try:
            cur.execute("SELECT pg_sleep(60)")
        except Exception as e:
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    wait_active(admin, conn)
    conn.cancel()
    t.join(60)
    assert not t.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], ext.QueryCanceledError)
    assert isinstance(errors[0], psycopg2.OperationalError)
    conn.rollback()
    assert query(conn, "SELECT 1") == 1


def test_cancel_idle(conn):
    conn.cancel()
    assert query(conn, "SELECT 1") == 1


def test_threads_share_connection(conn):
    conn.autocommit = True
    errors = []
    results = collections.Counter()

    def worker(n):
        try:
            cur = conn.cursor()
            for i in range(50):
                cur.execute("SELECT %s, pg_backend_pid()", (n * 1000 + i,))
                value, pid = cur.fetchone()
                assert value == n * 1000 + i
                assert pid == conn.get_backend_pid()
                results[n] += 1
        except Exception as e:     # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert all(results[n] == 50 for n in range(8))


def test_threads_with_notices(conn):
    conn.autocommit = True
    conn.notices = collections.deque()

    def worker():
        for i in range(20):
            raise_notices(conn, 1)

    threads = [threading.Thread(target=worker) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(conn.notices) == 80


def test_other_thread_runs_while_query_waits(conn):
    # the GIL is released while waiting for the server
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        conn.cursor().execute("SELECT pg_sleep(0.5)")
    finally:
        stop.set()
        t.join()
    assert len(ticks) > 3


# -- lost connections, _check_broken, load balancer hook --------------------

def test_terminated_backend(conn, admin):
    terminate(admin, conn)
    with pytest.raises(psycopg2.OperationalError):
        conn.cursor().execute("SELECT 1")
    assert conn.closed == 2
    with pytest.raises(psycopg2.InterfaceError):
        conn.commit()
    with pytest.raises(psycopg2.InterfaceError):
        conn.rollback()
    assert conn.info.status == 1    # CONNECTION_BAD
    conn.close()
    assert conn.closed == 1


def test_terminated_backend_in_transaction(conn, admin):
    query(conn, "SELECT 1")
    terminate(admin, conn)
    with pytest.raises(psycopg2.OperationalError):
        conn.commit()
    assert conn.closed == 2
    assert conn.status == ext.STATUS_READY


def test_check_broken_detects_terminated(conn, admin):
    assert conn._check_broken() is False
    assert conn.closed == 0
    terminate(admin, conn)
    deadline = time.monotonic() + 30
    while not conn._check_broken() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert conn.closed == 2
    assert conn._check_broken() is True


def test_check_broken_alive_connection_unchanged(conn):
    conn.autocommit = True
    for i in range(5):
        assert conn._check_broken() is False
    assert query(conn, "SELECT 1") == 1
    conn.close()
    assert conn._check_broken() is False


def test_check_broken_keeps_notifications(conn, admin):
    conn.autocommit = True
    conn.cursor().execute("LISTEN cb_chan")
    admin.cursor().execute("NOTIFY cb_chan, 'z'")
    deadline = time.monotonic() + 30
    while not conn.notifies and time.monotonic() < deadline:
        assert conn._check_broken() is False
        time.sleep(0.02)
    assert conn.notifies[0].payload == "z"


class Hook:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1


def test_lb_hook_on_close(dsn):
    c = psycopg2.connect(dsn)
    hook = Hook()
    c._lb_hook = hook
    assert c._lb_hook is hook
    c.close()
    c.close()
    assert hook.calls == 1
    assert c._lb_hook is None


def test_lb_hook_cleared_with_none(dsn):
    c = psycopg2.connect(dsn)
    hook = Hook()
    c._lb_hook = hook
    c._lb_hook = None
    c.close()
    assert hook.calls == 0


def test_lb_hook_on_broken_then_close(dsn, admin):
    c = psycopg2.connect(dsn)
    hook = Hook()
    c._lb_hook = hook
    terminate(admin, c)
    with pytest.raises(psycopg2.OperationalError):
        c.cursor().execute("SELECT 1")
    assert hook.calls == 1
    c.close()
    del c
    gc.collect()
    assert hook.calls == 1


def test_lb_hook_on_check_broken(dsn, admin):
    c = psycopg2.connect(dsn)
    hook = Hook()
    c._lb_hook = hook
    terminate(admin, c)
    deadline = time.monotonic() + 30
    while not c._check_broken() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hook.calls == 1
    c.close()
    assert hook.calls == 1


def test_lb_hook_on_dealloc(dsn):
    c = psycopg2.connect(dsn)
    hook = Hook()
    c._lb_hook = hook
    del c
    assert hook.calls == 1


def test_lb_hook_on_gc_cycle(dsn):
    c = psycopg2.connect(dsn)
    hook = Hook()
    c._lb_hook = hook
    c.myself = c    # a cycle through the instance dict
    del c
    gc.collect()
    assert hook.calls == 1


def test_lb_hook_error_does_not_propagate(dsn, monkeypatch):
    c = psycopg2.connect(dsn)
    reported = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)

    def bad_hook():
        raise RuntimeError("hook failed")

    c._lb_hook = bad_hook
    c.close()   # reported as unraisable, not raised
    assert c.closed == 1
    assert len(reported) == 1
    assert isinstance(reported[0].exc_value, RuntimeError)


@pytest.fixture
def own_server():
    srv = PgServer()
    srv.initdb()
    srv.start()
    srv.psql("CREATE DATABASE psycopg2_test")
    yield srv
    srv.cleanup()


def test_server_killed(own_server):
    c = psycopg2.connect(own_server.dsn)
    c2 = psycopg2.connect(own_server.dsn)
    hook = Hook()
    c._lb_hook = hook
    query(c, "SELECT 1")
    own_server.stop("immediate")
    with pytest.raises(psycopg2.OperationalError):
        c.cursor().execute("SELECT 1")
    assert c.closed == 2
    assert hook.calls == 1
    # without a query
    deadline = time.monotonic() + 30
    while not c2._check_broken() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c2.closed == 2
    c.close()
    c2.close()
    assert hook.calls == 1


# -- async connections ------------------------------------------------------

def wait(conn):
    while True:
        state = conn.poll()
        if state == ext.POLL_OK:
            return
        if state == ext.POLL_READ:
            select.select([conn], [], [], 10)
        elif state == ext.POLL_WRITE:
            select.select([], [conn], [], 10)
        else:
            raise AssertionError("bad poll state %s" % state)


@pytest.fixture
def aconn(dsn):
    c = psycopg2.connect(dsn, async_=True)
    yield c
    c.close()


def test_async_connect(aconn):
    assert aconn.async_ == 1
    assert aconn.isexecuting() is True
    assert aconn.status == ext.STATUS_SETUP
    with pytest.raises(psycopg2.OperationalError,
                       match="asynchronous connection attempt underway"):
        aconn.cursor()
    assert aconn.poll() == ext.POLL_WRITE
    wait(aconn)
    assert aconn.isexecuting() is False
    assert aconn.status == ext.STATUS_READY
    assert aconn.autocommit is True
    assert aconn.encoding == "UTF8"
    assert aconn.server_version > 0


def test_async_query(aconn):
    wait(aconn)
    cur = aconn.cursor()
    cur.execute("SELECT pg_sleep(0.05), 42")
    assert aconn.isexecuting() is True
    with pytest.raises(psycopg2.ProgrammingError):
        cur.execute("SELECT 1")
    wait(aconn)
    assert aconn.isexecuting() is False
    assert cur.fetchone() == ("", 42)
    cur.execute("SELECT 1; SELECT 2")
    wait(aconn)
    assert cur.fetchall() == [(2,)]


def test_async_error(aconn):
    wait(aconn)
    cur = aconn.cursor()
    cur.execute("SELECT 1/0")
    with pytest.raises(psycopg2.DataError):
        wait(aconn)
    assert aconn.isexecuting() is False
    assert aconn.closed == 0
    cur.execute("SELECT 3")
    wait(aconn)
    assert cur.fetchone() == (3,)


@pytest.mark.parametrize("method, args", [
    ("commit", ()), ("rollback", ()), ("set_session", ()), ("reset", ()),
    ("set_client_encoding", ("utf8",)), ("tpc_begin", ("x",)),
])
def test_async_refuses(aconn, method, args):
    wait(aconn)
    with pytest.raises(psycopg2.ProgrammingError,
                       match="cannot be used in asynchronous mode"):
        getattr(aconn, method)(*args)


def test_async_no_named_cursor(aconn):
    wait(aconn)
    with pytest.raises(psycopg2.ProgrammingError,
                       match="asynchronous connections cannot produce "
                             "named cursors"):
        aconn.cursor("x")


def test_async_cancel(aconn, admin):
    wait(aconn)
    cur = aconn.cursor()
    cur.execute("SELECT pg_sleep(60)")
    aconn.poll()
    wait_active(admin, aconn)
    aconn.cancel()
    with pytest.raises(ext.QueryCanceledError):
        wait(aconn)


def test_async_connect_failure():
    c = psycopg2.connect("host=127.0.0.1 port=1", async_=True)
    with pytest.raises(psycopg2.OperationalError):
        wait(c)
    c.close()


def test_sync_poll_returns_ok(conn):
    assert conn.poll() == ext.POLL_OK
    assert conn.isexecuting() is False


# -- green mode -------------------------------------------------------------

@pytest.fixture
def green():
    calls = []

    def callback(conn):
        calls.append(conn.status)
        while True:
            state = conn.poll()
            if state == ext.POLL_OK:
                break
            if state == ext.POLL_READ:
                select.select([conn.fileno()], [], [])
            else:
                select.select([], [conn.fileno()], [])

    ext.set_wait_callback(callback)
    assert ext.get_wait_callback() is callback
    yield calls
    ext.set_wait_callback(None)
    assert ext.get_wait_callback() is None


def test_green_mode(dsn, green):
    c = psycopg2.connect(dsn)
    try:
        assert green == [ext.STATUS_SETUP]
        assert (c.async_, c.autocommit) == (0, False)
        del green[:]
        cur = c.cursor()
        cur.execute("SELECT 1; SELECT 2")
        assert green == [ext.STATUS_READY, ext.STATUS_BEGIN]
        assert cur.fetchall() == [(2,)]
        with pytest.raises(psycopg2.DataError):
            cur.execute("SELECT 1/0")
        assert c.closed == 0
        c.rollback()
        cur.execute("DO $$BEGIN RAISE NOTICE 'green'; END$$")
        assert c.notices == ["NOTICE:  green\n"]
        c.set_client_encoding("LATIN1")
        assert c.encoding == "LATIN1"
    finally:
        c.close()


def test_green_callback_error_breaks_connection(dsn, green):
    c = psycopg2.connect(dsn)
    hook = Hook()
    c._lb_hook = hook

    def bad(conn):
        raise ZeroDivisionError("boom")

    ext.set_wait_callback(bad)
    with pytest.raises(ZeroDivisionError):
        c.cursor().execute("SELECT 1")
    assert c.closed == 2
    assert hook.calls == 1
    with pytest.raises(ZeroDivisionError):
        psycopg2.connect(dsn)


# -- module functions -------------------------------------------------------

def test_parse_dsn():
    assert ext.parse_dsn("dbname=x user=u password=p") == {
        "dbname": "x", "user": "u", "password": "p"}
    assert ext.parse_dsn(b"dbname=x") == {"dbname": "x"}
    assert ext.parse_dsn("postgresql://u:p@h:5/db?sslmode=require") == {
        "user": "u", "password": "p", "dbname": "db", "host": "h",
        "port": "5", "sslmode": "require"}
    with pytest.raises(psycopg2.ProgrammingError,
                       match='invalid dsn: invalid connection option "foo"'):
        ext.parse_dsn("foo=bar")
    with pytest.raises(psycopg2.ProgrammingError, match="invalid dsn"):
        ext.parse_dsn("dbname='x")
    with pytest.raises(TypeError,
                       match="Expected bytes or unicode string, got int"):
        ext.parse_dsn(1)


def test_quote_ident(conn):
    assert ext.quote_ident("a\"b", conn) == '"a""b"'
    assert ext.quote_ident(b"ab", conn) == '"ab"'
    assert ext.quote_ident("caf\xe9", conn.cursor()) == '"caf\xe9"'
    with pytest.raises(TypeError,
                       match="argument 2 must be a connection or a cursor"):
        ext.quote_ident("ab", 1)
    with pytest.raises(TypeError):
        ext.quote_ident(1, conn)
    cur = conn.cursor()
    cur.execute("SELECT 1 AS %s" % ext.quote_ident("we'ird \"col\"", conn))
    assert cur.description[0].name == "we'ird \"col\""


def test_encrypt_password(conn):
    assert ext.encrypt_password("pw", "user", None, "md5") == \
        "md5871c429757b7a0bf1654fad112b77bd4"
    assert ext.encrypt_password(b"pw", b"user", algorithm="md5") == \
        "md5871c429757b7a0bf1654fad112b77bd4"
    assert ext.encrypt_password("pw", "user", conn).startswith(
        "SCRAM-SHA-256$")
    assert ext.encrypt_password("pw", "user", conn.cursor(),
                                "scram-sha-256").startswith("SCRAM-SHA-256$")
    for alg in (None, "scram-sha-256"):
        with pytest.raises(psycopg2.ProgrammingError, match="requires a "
                           "connection or cursor"):
            ext.encrypt_password("pw", "user", None, alg)
    with pytest.raises(psycopg2.ProgrammingError,
                       match="password encryption failed"):
        ext.encrypt_password("pw", "user", conn, "foo")
    with pytest.raises(TypeError, match="the scope must be a connection"):
        ext.encrypt_password("pw", "user", 1)
    with pytest.raises(TypeError):
        ext.encrypt_password(1, "user")


def test_module_constants():
    assert psycopg2.apilevel == "2.0"
    assert psycopg2.threadsafety == 2
    assert psycopg2.paramstyle == "pyformat"
    assert psycopg2.__version__.startswith("2.9.")
    assert psycopg2.__version__.endswith(" (dt dec pq3 ext lo64)")
    assert ext.libpq_version() == psycopg2.__libpq_version__ >= 100000
    assert _psycopg.REPLICATION_PHYSICAL == 12345678
    assert _psycopg.REPLICATION_LOGICAL == 87654321
