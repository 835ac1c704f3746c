"""Two-phase commit: the Xid type and the connection tpc_* methods."""

import datetime

import pytest

import psycopg2
import psycopg2.extensions as ext
from psycopg2.extensions import Xid


# -- Xid --------------------------------------------------------------------

def test_xid_attributes():
    x = Xid(42, "gtrid", "bqual")
    assert (x.format_id, x.gtrid, x.bqual) == (42, "gtrid", "bqual")
    assert (x.prepared, x.owner, x.database) == (None, None, None)
    assert len(x) == 3
    assert (x[0], x[1], x[2], x[-1]) == (42, "gtrid", "bqual", "bqual")
    assert tuple(x) == (42, "gtrid", "bqual")
    with pytest.raises(IndexError):
        x[3]
    with pytest.raises(AttributeError):
        x.gtrid = "other"
    assert Xid(format_id=1, gtrid="a", bqual="b")[0] == 1


def test_xid_str_repr():
    x = Xid(42, "gtrid", "bqual")
    assert str(x) == "42_Z3RyaWQ=_YnF1YWw="
    assert repr(x) == "<Xid: (42, 'gtrid', 'bqual')>"
    assert str(Xid(1, "", "")) == "1__"


@pytest.mark.parametrize("args, exc, msg", [
    ((-1, "a", "b"), ValueError,
     "format_id must be a non-negative 32-bit integer"),
    ((1, "a" * 65, "b"), ValueError,
     "gtrid must be a string no longer than 64 characters"),
    ((1, "a", "b" * 65), ValueError,
     "bqual must be a string no longer than 64 characters"),
    ((1, "a\n", "b"), ValueError,
     "gtrid must contain only printable characters."),
    ((1, "a", "b\x7f"), ValueError,
     "bqual must contain only printable characters."),
    ((1, "a", "\xe8"), ValueError,
     "bqual must contain only printable characters."),
    ((1, 1, "b"), TypeError, None),
    ((1, b"a", "b"), TypeError, None),
    (("1", "a", "b"), TypeError, None),
    ((2 ** 31, "a", "b"), OverflowError, None),
])
def test_xid_invalid(args, exc, msg):
    with pytest.raises(exc) as e:
        Xid(*args)
    if msg:
        assert str(e.value) == msg


def test_xid_max_length():
    x = Xid(0x7fffffff, "a" * 64, "b" * 64)
    assert tuple(Xid.from_string(str(x))) == (0x7fffffff, "a" * 64, "b" * 64)


@pytest.mark.parametrize("s, expected", [
    ("42_Z3RyaWQ=_YnF1YWw=", (42, "gtrid", "bqual")),
    ("1_YQ==_", (1, "a", "")),
    ("1__", (1, "", "")),
    ("01_YQ==_Yg==", (1, "a", "b")),
    ("1_YQ==_Yg==\n", (1, "a", "b")),
])
def test_from_string_parsed(s, expected):
    x = Xid.from_string(s)
    assert tuple(x) == expected


@pytest.mark.parametrize("s", [
    "foo", "1_YQ_", "+1_YQ==_Yg==", "1_YQ==_Yg==_", "1_/w==_Yg==",
    "1_YQo=_Yg==", "2147483648_YQ==_Yg==", " 1_YQ==_Yg==", "_YQ==_Yg==",
    "1_" + "YWFh" * 22 + "_",
])
def test_from_string_unparsed(s):
    x = Xid.from_string(s)
    assert (x.format_id, x.gtrid, x.bqual) == (None, s, None)
    assert str(x) == s
    assert repr(x) == "<Xid: %r (unparsed)>" % s


def test_from_string_errors():
    with pytest.raises(TypeError, match="not a valid transaction id"):
        Xid.from_string(1)
    with pytest.raises(TypeError):
        Xid.from_string(s="1")


def test_xid_subclass_and_identity():
    class MyXid(Xid):
        pass

    x = MyXid(1, "a", "b")
    assert isinstance(x, Xid)
    # no value equality: Xid objects compare by identity
    assert Xid(1, "a", "b") != Xid(1, "a", "b")


def test_connection_xid(conn):
    x = conn.xid(1, "a", "b")
    assert isinstance(x, Xid)
    assert tuple(x) == (1, "a", "b")
    with pytest.raises(ValueError):
        conn.xid(-1, "a", "b")


# -- two-phase transactions -------------------------------------------------

@pytest.fixture
def tpc_table(conn, dsn):
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    cur = admin.cursor()
    cur.execute("DROP TABLE IF EXISTS tpc_test")
    cur.execute("CREATE TABLE tpc_test (data text)")
    yield admin
    # roll back what the tests left prepared
    cur.execute("SELECT gid FROM pg_prepared_xacts "
                "WHERE database = current_database()")
    for (gid,) in cur.fetchall():
        cur.execute("ROLLBACK PREPARED %s", (gid,))
    cur.execute("DROP TABLE IF EXISTS tpc_test")
    admin.close()


def count(admin):
    cur = admin.cursor()
    cur.execute("SELECT count(*) FROM tpc_test")
    return cur.fetchone()[0]


def count_prepared(admin):
    cur = admin.cursor()
    cur.execute("SELECT count(*) FROM pg_prepared_xacts "
                "WHERE database = current_database()")
    return cur.fetchone()[0]


def test_tpc_commit_two_phases(conn, tpc_table):
    admin = tpc_table
    conn.tpc_begin(conn.xid(1, "gtrid", "bqual"))
    assert conn.status == ext.STATUS_BEGIN
    conn.cursor().execute("INSERT INTO tpc_test VALUES ('x')")
    conn.tpc_prepare()
    assert conn.status == ext.STATUS_PREPARED
    assert count_prepared(admin) == 1
    assert count(admin) == 0
    conn.tpc_commit()
    assert conn.status == ext.STATUS_READY
    assert count_prepared(admin) == 0
    assert count(admin) == 1


def test_tpc_rollback_two_phases(conn, tpc_table):
    admin = tpc_table
    conn.tpc_begin("plain-gid")
    conn.cursor().execute("INSERT INTO tpc_test VALUES ('x')")
    conn.tpc_prepare()
    conn.tpc_rollback()
    assert conn.status == ext.STATUS_READY
    assert count_prepared(admin) == 0
    assert count(admin) == 0


def test_tpc_one_phase(conn, tpc_table):
    admin = tpc_table
    conn.tpc_begin(conn.xid(1, "g", "b"))
    conn.cursor().execute("INSERT INTO tpc_test VALUES ('x')")
    conn.tpc_commit()
    assert conn.status == ext.STATUS_READY
    assert count(admin) == 1
    assert count_prepared(admin) == 0
    conn.tpc_begin(conn.xid(1, "g", "b"))
    conn.cursor().execute("INSERT INTO tpc_test VALUES ('x')")
    conn.tpc_rollback()
    assert count(admin) == 1


def test_tpc_recover_and_finish_elsewhere(conn, dsn, tpc_table):
    admin = tpc_table
    x = conn.xid(7, "g'quote", "b")
    conn.tpc_begin(x)
    conn.cursor().execute("INSERT INTO tpc_test VALUES ('x')")
    conn.tpc_prepare()
    conn.close()

    other = psycopg2.connect(dsn)
    try:
        xids = [x for x in other.tpc_recover() if x.database == "psycopg2_test"
                or x.database == other.info.dbname]
        assert other.status == ext.STATUS_READY
        assert other.get_transaction_status() == \
            ext.TRANSACTION_STATUS_IDLE
        assert len(xids) == 1
        rx = xids[0]
        assert tuple(rx) == (7, "g'quote", "b")
        assert isinstance(rx.prepared, datetime.datetime)
        assert rx.owner == other.info.user
        other.tpc_commit(rx)
        assert count(admin) == 1
        with pytest.raises(psycopg2.ProgrammingError):
            other.tpc_rollback(rx)    # no more there
        other.rollback()
    finally:
        other.close()


def test_tpc_finish_by_string(conn, dsn, tpc_table):
    admin = tpc_table
    conn.tpc_begin("my'gid")
    conn.tpc_prepare()
    conn.close()
    other = psycopg2.connect(dsn)
    try:
        [x] = [x for x in other.tpc_recover() if x.gtrid == "my'gid"]
        assert x.format_id is None
        other.tpc_rollback("my'gid")
        assert count_prepared(admin) == 0
    finally:
        other.close()


def test_tpc_recover_keeps_transaction(conn, tpc_table):
    conn.cursor().execute("SELECT 1")
    conn.tpc_recover()
    assert conn.status == ext.STATUS_BEGIN
    conn.rollback()
    conn.autocommit = True
    conn.tpc_recover()
    assert conn.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE


def test_tpc_recover_ignores_cursor_factory(conn, tpc_table):
    from psycopg2.extras import RealDictCursor
    conn.cursor_factory = RealDictCursor
    conn.tpc_begin("with-factory")
    conn.tpc_prepare()
    conn.tpc_rollback()
    assert isinstance(conn.tpc_recover(), list)


class _DictCursorConnection(ext.connection):
    """A factory whose cursor() sets cursor_factory itself."""

    def cursor(self, *args, **kwargs):
        import psycopg2.extras
        kwargs["cursor_factory"] = psycopg2.extras.DictCursor
        return super().cursor(*args, **kwargs)


class _NoCursorConnection(ext.connection):
    """A factory whose cursor() is not the DB-API one at all."""

    def cursor(self):
        return "not a cursor"


@pytest.mark.parametrize("factory", [
    "LoggingConnection", "MinTimeLoggingConnection", "DictConnection",
    "RealDictConnection", "NamedTupleConnection", _DictCursorConnection,
    _NoCursorConnection,
])
def test_tpc_recover_with_connection_factory(dsn, tpc_table, factory):
    import io
    import psycopg2.extras

    if isinstance(factory, str):
        factory = getattr(psycopg2.extras, factory)
    conn = psycopg2.connect(dsn, connection_factory=factory)
    try:
        log = io.StringIO()
        if hasattr(conn, "initialize"):
            conn.initialize(log)
        xid = conn.xid(7, "factory-%s" % factory.__name__, "bq")
        conn.tpc_begin(xid)
        conn.tpc_prepare()
        conn.reset()
        # psycopg2 doesn't go through conn.cursor(): a plain cursor
        found = [x for x in conn.tpc_recover() if x.gtrid == xid.gtrid]
        assert len(found) == 1
        assert (found[0].format_id, found[0].bqual) == (7, "bq")
        assert isinstance(found[0].prepared, datetime.datetime)
        assert found[0].database == conn.info.dbname
        assert conn.status == ext.STATUS_READY
        # the LoggingConnection's log doesn't see the recover query
        assert "pg_prepared_xacts" not in log.getvalue()
        conn.tpc_rollback(found[0])
        assert not [x for x in conn.tpc_recover() if x.gtrid == xid.gtrid]
    finally:
        conn.close()


def test_tpc_errors(conn, tpc_table):
    conn.cursor().execute("SELECT 1")
    with pytest.raises(psycopg2.ProgrammingError,
                       match="tpc_begin cannot be used inside a transaction"):
        conn.tpc_begin(conn.xid(1, "a", "b"))
    conn.rollback()
    with pytest.raises(psycopg2.ProgrammingError,
                       match="prepare must be called inside a two-phase "
                             "transaction"):
        conn.tpc_prepare()
    for method in (conn.tpc_commit, conn.tpc_rollback):
        with pytest.raises(psycopg2.ProgrammingError,
                           match="with no parameter must be called in a "
                                 "two-phase transaction"):
            method()
    with pytest.raises(TypeError, match="not a valid transaction id"):
        conn.tpc_begin(1)
    conn.autocommit = True
    with pytest.raises(psycopg2.ProgrammingError,
                       match="tpc_begin can't be called in autocommit mode"):
        conn.tpc_begin("x")


def test_tpc_state_errors(conn, tpc_table):
    conn.tpc_begin("state-test")
    with pytest.raises(psycopg2.ProgrammingError,
                       match="commit cannot be used during a two-phase "
                             "transaction"):
        conn.commit()
    with pytest.raises(psycopg2.ProgrammingError,
                       match="rollback cannot be used during a two-phase "
                             "transaction"):
        conn.rollback()
    with pytest.raises(psycopg2.ProgrammingError):
        conn.tpc_begin("again")
    conn.tpc_prepare()
    with pytest.raises(psycopg2.ProgrammingError,
                       match="tpc_prepare cannot be used with a prepared "
                             "two-phase transaction"):
        conn.tpc_prepare()
    with pytest.raises(psycopg2.ProgrammingError,
                       match="with a prepared two-phase transaction"):
        conn.set_isolation_level(1)
    with pytest.raises(psycopg2.ProgrammingError,
                       match="tpc_recover cannot be used with a prepared"):
        conn.tpc_recover()
    with pytest.raises(psycopg2.ProgrammingError,
                       match="with a xid must be called outside a "
                             "transaction"):
        conn.tpc_commit("other")
    with pytest.raises(psycopg2.ProgrammingError,
                       match="cancel cannot be used with a prepared"):
        conn.cancel()
    conn.tpc_rollback()
    assert conn.status == ext.STATUS_READY


def test_tpc_unknown_xid(conn, tpc_table):
    with pytest.raises(psycopg2.ProgrammingError) as e:
        conn.tpc_commit("nonexistent")
    assert e.value.pgcode == "42704"
    assert conn.closed == 0


def test_tpc_reset_keeps_prepared(conn, tpc_table):
    admin = tpc_table
    conn.tpc_begin("reset-test")
    conn.tpc_prepare()
    conn.reset()
    assert conn.status == ext.STATUS_READY
    assert count_prepared(admin) == 1
