"""Tests of the exception classes, psycopg2.errors, psycopg2.errorcodes and
of the errors raised from real server errors."""

import os
import pickle
import subprocess
import sys
import threading

import pytest

import psycopg2
import psycopg2.errorcodes
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import errorcodes, errors
from psycopg2.extensions import Diagnostics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ERRCODES_15 = "/usr/share/postgresql/15/errcodes.txt"

DIAG_FIELDS = [
    "column_name", "constraint_name", "context", "datatype_name",
    "internal_position", "internal_query", "message_detail",
    "message_hint", "message_primary", "schema_name", "severity",
    "severity_nonlocalized", "source_file", "source_function",
    "source_line", "sqlstate", "statement_position", "table_name",
]


def raises_on(conn, query, args=None):
    """Execute `query` and return the exception it raises; roll back."""
    cur = conn.cursor()
    with pytest.raises(psycopg2.Error) as excinfo:
        cur.execute(query, args)
    if not conn.closed:
        conn.rollback()
    return excinfo.value


# ------------------------------------------------------------------
# The class hierarchy

@pytest.mark.parametrize("name, base", [
    ("Warning", Exception),
    ("Error", Exception),
    ("InterfaceError", psycopg2.Error),
    ("DatabaseError", psycopg2.Error),
    ("DataError", psycopg2.DatabaseError),
    ("OperationalError", psycopg2.DatabaseError),
    ("IntegrityError", psycopg2.DatabaseError),
    ("InternalError", psycopg2.DatabaseError),
    ("ProgrammingError", psycopg2.DatabaseError),
    ("NotSupportedError", psycopg2.DatabaseError),
])
def test_dbapi_hierarchy(name, base):
    cls = getattr(psycopg2, name)
    assert cls.__bases__ == (base,)
    assert cls.__module__ == "psycopg2"
    assert cls.__name__ == name
    assert getattr(psycopg2.extensions, name, cls) is cls
    assert getattr(psycopg2.errors, name) is cls
    assert getattr(psycopg2._psycopg, name) is cls


@pytest.mark.parametrize("name", [
    "QueryCanceledError", "TransactionRollbackError"])
def test_extensions_errors(name):
    cls = getattr(psycopg2.extensions, name)
    assert cls.__bases__ == (psycopg2.OperationalError,)
    assert cls.__module__ == "psycopg2.extensions"
    assert getattr(psycopg2.errors, name) is cls
    assert not hasattr(psycopg2, name)


def test_warning_is_not_an_error():
    assert not issubclass(psycopg2.Warning, psycopg2.Error)


def test_error_attributes_default():
    e = psycopg2.Error("hello", 42)
    assert e.args == ("hello", 42)
    assert str(psycopg2.Error("hello")) == "hello"
    assert e.pgerror is None
    assert e.pgcode is None
    assert e.cursor is None
    assert isinstance(e.diag, Diagnostics)
    for field in DIAG_FIELDS:
        assert getattr(e.diag, field) is None


@pytest.mark.parametrize("attr", ["pgerror", "pgcode", "cursor", "diag"])
def test_error_attributes_read_only(attr):
    e = psycopg2.DatabaseError("x")
    with pytest.raises(AttributeError):
        setattr(e, attr, "foo")


def test_error_no_keyword_args():
    with pytest.raises(TypeError):
        psycopg2.Error(pgerror="x")


class MyError(psycopg2.ProgrammingError):
    pass


def test_error_subclass_and_dict():
    e = MyError("boom")
    e.extra = 10
    assert e.pgcode is None
    assert e.diag.sqlstate is None
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is MyError
    assert e2.args == ("boom",)
    assert e2.extra == 10


def test_error_pickle_no_server_data():
    e = psycopg2.DataError("a", "b")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is psycopg2.DataError
    assert e2.args == ("a", "b")
    assert e2.pgerror is None and e2.pgcode is None


def test_error_setstate():
    e = psycopg2.Error()
    e.__setstate__({"pgerror": "msg", "pgcode": "42000"})
    assert e.pgerror == "msg"
    assert e.pgcode == "42000"
    e.__setstate__(None)
    assert e.pgcode == "42000"
    with pytest.raises(TypeError):
        e.__setstate__(1)


def test_error_is_collected():
    import gc
    import weakref

    e = MyError("cycle")
    e.me = e
    ref = weakref.ref(e)
    del e
    gc.collect()
    assert ref() is None


# ------------------------------------------------------------------
# Diagnostics objects

def test_diagnostics_type():
    assert Diagnostics.__module__ == "psycopg2.extensions"
    assert Diagnostics.__name__ == "Diagnostics"
    assert [n for n in dir(Diagnostics) if not n.startswith("_")] \
        == sorted(DIAG_FIELDS)


def test_diagnostics_constructor():
    e = psycopg2.errors.UniqueViolation("x")
    d = Diagnostics(e)
    assert d.sqlstate is None
    with pytest.raises(TypeError, match="psycopg2.Error"):
        Diagnostics(ValueError("x"))
    with pytest.raises(TypeError):
        Diagnostics()
    with pytest.raises(TypeError):
        Diagnostics(e, e)


def test_diagnostics_read_only():
    d = psycopg2.Error().diag
    with pytest.raises(AttributeError):
        d.sqlstate = "42000"


# ------------------------------------------------------------------
# psycopg2.errorcodes

def test_errorcodes_constants():
    assert errorcodes.UNIQUE_VIOLATION == "23505"
    assert errorcodes.CLASS_INTEGRITY_CONSTRAINT_VIOLATION == "23"
    assert errorcodes.CLASS_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION == "42"
    assert errorcodes.UNDEFINED_TABLE == "42P01"
    assert errorcodes.QUERY_CANCELED == "57014"
    assert errorcodes.SERIALIZATION_FAILURE == "40001"
    assert errorcodes.CLASS_PL_PGSQL_ERROR == "P0"
    assert errorcodes.CLASS_NO_DATA == "02"
    assert errorcodes.CLASS_SYSTEM_ERROR == "58"
    assert errorcodes.CLASS_FOREIGN_DATA_WRAPPER_ERROR == "HV"
    # a condition in two classes: the earlier one gets an underscore
    assert errorcodes.STRING_DATA_RIGHT_TRUNCATION == "22001"
    assert errorcodes.STRING_DATA_RIGHT_TRUNCATION_ == "01004"
    assert errorcodes.NULL_VALUE_NOT_ALLOWED == "39004"
    assert errorcodes.NULL_VALUE_NOT_ALLOWED_ == "22004"
    # kept for compatibility with psycopg2
    assert errorcodes.INVALID_LIMIT_VALUE == "22020"
    assert errorcodes.TRANSACTION_TIMEOUT == "25P04"


def test_errorcodes_lookup():
    assert errorcodes.lookup("23505") == "UNIQUE_VIOLATION"
    assert errorcodes.lookup("23") == "CLASS_INTEGRITY_CONSTRAINT_VIOLATION"
    # like psycopg2: the condition name, without the disambiguating "_"
    assert errorcodes.lookup("01004") == "STRING_DATA_RIGHT_TRUNCATION"
    assert errorcodes.lookup("22001") == "STRING_DATA_RIGHT_TRUNCATION"
    assert errorcodes.lookup("2F002") == "MODIFYING_SQL_DATA_NOT_PERMITTED"
    assert errorcodes.lookup("42P01") == "UNDEFINED_TABLE"
    # cached: same answers again
    assert errorcodes.lookup("23505") == "UNIQUE_VIOLATION"
    with pytest.raises(KeyError):
        errorcodes.lookup("XXXXX")
    with pytest.raises(KeyError):
        errorcodes.lookup("lookup")


def test_errorcodes_complete():
    names = [n for n in dir(errorcodes) if n.isupper()]
    values = [getattr(errorcodes, n) for n in names]
    assert len(values) == len(set(values)), "a code has two names"
    for name in names:
        assert errorcodes.lookup(getattr(errorcodes, name)) \
            == name.rstrip("_")
    assert len([v for v in values if len(v) == 2]) >= 40
    assert len([v for v in values if len(v) == 5]) >= 260


# ------------------------------------------------------------------
# psycopg2.errors

@pytest.mark.parametrize("code, name, base", [
    ("23505", "UniqueViolation", psycopg2.IntegrityError),
    ("23502", "NotNullViolation", psycopg2.IntegrityError),
    ("23503", "ForeignKeyViolation", psycopg2.IntegrityError),
    ("23514", "CheckViolation", psycopg2.IntegrityError),
    ("22012", "DivisionByZero", psycopg2.DataError),
    ("42601", "SyntaxError", psycopg2.ProgrammingError),
    ("42P01", "UndefinedTable", psycopg2.ProgrammingError),
    ("40001", "SerializationFailure",
        psycopg2.extensions.TransactionRollbackError),
    ("40P01", "DeadlockDetected",
        psycopg2.extensions.TransactionRollbackError),
    ("57014", "QueryCanceled", psycopg2.extensions.QueryCanceledError),
    ("57P01", "AdminShutdown", psycopg2.OperationalError),
    ("08006", "ConnectionFailure", psycopg2.OperationalError),
    ("0A000", "FeatureNotSupported", psycopg2.NotSupportedError),
    ("25P02", "InFailedSqlTransaction", psycopg2.InternalError),
    ("XX000", "InternalError_", psycopg2.InternalError),
    ("P0001", "RaiseException", psycopg2.InternalError),
    ("02000", "NoData", psycopg2.DatabaseError),
    ("2F002", "ModifyingSqlDataNotPermitted", psycopg2.InternalError),
    ("38002", "ModifyingSqlDataNotPermittedExt", psycopg2.InternalError),
    ("25P04", "TransactionTimeout", psycopg2.InternalError),
])
def test_errors_classes(code, name, base):
    cls = errors.lookup(code)
    assert cls is getattr(errors, name)
    assert cls.__name__ == name
    assert cls.__module__ == "psycopg2.errors"
    assert cls.__bases__ == (base,)
    assert cls.sqlstate == code
    assert psycopg2._psycopg.sqlstate_errors[code] is cls


def test_errors_lookup_unknown():
    with pytest.raises(KeyError):
        errors.lookup("XXXXX")
    with pytest.raises(KeyError):
        errors.lookup("01000")      # warnings have no class


def test_errors_internal_error_not_shadowed():
    assert errors.InternalError is psycopg2.InternalError
    assert issubclass(errors.InternalError_, psycopg2.InternalError)
    assert issubclass(errors.DataCorrupted, psycopg2.InternalError)


def test_errors_match_errorcodes():
    classes = psycopg2._psycopg.sqlstate_errors
    for name in dir(errorcodes):
        code = getattr(errorcodes, name)
        if not name.isupper() or len(code) != 5:
            continue
        if code[:2] in ("00", "01") or code == "22020":
            assert code not in classes
        else:
            assert classes[code].sqlstate == code


def test_errors_pickle_classes():
    e = errors.UniqueViolation("dup")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is errors.UniqueViolation
    assert e2.args == ("dup",)


@pytest.mark.skipif(not os.path.exists(ERRCODES_15),
                    reason="PostgreSQL 15 errcodes.txt not installed")
def test_generator_reproduces_modules(tmp_path):
    script = os.path.join(ROOT, "scripts", "make_errors.py")
    subprocess.run([sys.executable, script, ERRCODES_15,
                    "--outdir", str(tmp_path)], check=True)
    for name in ("errors.py", "errorcodes.py"):
        with open(os.path.join(ROOT, "lib", name), "rb") as f:
            committed = f.read()
        assert (tmp_path / name).read_bytes() == committed, name
    res = subprocess.run([sys.executable, script, ERRCODES_15, "--check"])
    assert res.returncode == 0


def test_generator_check_detects_changes(tmp_path):
    script = os.path.join(ROOT, "scripts", "make_errors.py")
    errcodes = tmp_path / "errcodes.txt"
    errcodes.write_text(
        "# comment\n"
        "Section: Class 22 - Data Exception\n"
        "22000    E    ERRCODE_DATA_EXCEPTION          data_exception\n"
        "22012    E    ERRCODE_DIVISION_BY_ZERO        division_by_zero\n"
        "Section: Class XX - Internal Error\n"
        "XX000    E    ERRCODE_INTERNAL_ERROR          internal_error\n"
        "XX001    E    ERRCODE_DATA_CORRUPTED\n")
    subprocess.run([sys.executable, script, str(errcodes),
                    "--outdir", str(tmp_path)], check=True)
    text = (tmp_path / "errors.py").read_text()
    assert "class DivisionByZero(DataError):\n    sqlstate = '22012'" in text
    assert "class InternalError_(InternalError):" in text
    assert "DataCorrupted" not in text      # no condition name: an alias
    codes = (tmp_path / "errorcodes.py").read_text()
    assert "CLASS_DATA_EXCEPTION = '22'" in codes
    assert "INVALID_LIMIT_VALUE = '22020'" in codes
    res = subprocess.run([sys.executable, script, str(errcodes),
                          "--outdir", str(tmp_path), "--check"])
    assert res.returncode == 0
    (tmp_path / "errors.py").write_text(text + "# changed\n")
    res = subprocess.run([sys.executable, script, str(errcodes),
                          "--outdir", str(tmp_path), "--check"],
                         stderr=subprocess.PIPE)
    assert res.returncode == 1
    assert b"out of date" in res.stderr


# ------------------------------------------------------------------
# Errors raised by the server

def test_undefined_table(conn):
    cur = conn.cursor()
    with pytest.raises(errors.UndefinedTable) as excinfo:
        cur.execute("select * from nosuchtable")
    e = excinfo.value
    assert isinstance(e, psycopg2.ProgrammingError)
    assert e.pgcode == "42P01" == errorcodes.UNDEFINED_TABLE
    assert e.pgerror.startswith(
        'ERROR:  relation "nosuchtable" does not exist')
    assert str(e) == e.pgerror[len("ERROR:  "):]
    assert str(e) == (
        'relation "nosuchtable" does not exist\n'
        'LINE 1: select * from nosuchtable\n'
        '                      ^\n')
    assert e.args == (str(e),)
    assert e.cursor is cur
    d = e.diag
    assert d.sqlstate == "42P01"
    assert d.severity == "ERROR"
    assert d.severity_nonlocalized == "ERROR"
    assert d.message_primary == 'relation "nosuchtable" does not exist'
    assert d.statement_position == "15"
    assert d.source_file is not None
    assert d.source_line.isdigit()
    assert d.source_function is not None
    assert d.message_detail is None
    assert d.table_name is None


def test_syntax_error(conn):
    e = raises_on(conn, "selec 1")
    assert type(e) is errors.SyntaxError
    assert e.pgcode == "42601"
    assert e.diag.statement_position == "1"


def test_division_by_zero(conn):
    e = raises_on(conn, "select 1 / 0")
    assert type(e) is errors.DivisionByZero
    assert isinstance(e, psycopg2.DataError)
    assert str(e) == "division by zero\n"
    assert e.pgerror == "ERROR:  division by zero\n"


@pytest.fixture
def table(conn):
    cur = conn.cursor()
    cur.execute("""
        create temp table parent (id int primary key);
        create temp table child (
            id int primary key,
            parent_id int references parent (id),
            val int not null check (val > 0));
        insert into parent values (1);
        insert into child values (1, 1, 10);
        """)
    conn.commit()
    return cur


def test_unique_violation(conn, table):
    e = raises_on(conn, "insert into child values (1, 1, 20)")
    assert type(e) is errors.UniqueViolation
    assert isinstance(e, psycopg2.IntegrityError)
    assert e.pgcode == "23505"
    assert "DETAIL:  Key (id)=(1) already exists." in str(e)
    assert e.diag.message_detail == "Key (id)=(1) already exists."
    assert e.diag.constraint_name == "child_pkey"
    assert e.diag.table_name == "child"
    assert e.diag.schema_name.startswith("pg_temp")


def test_not_null_violation(conn, table):
    e = raises_on(conn, "insert into child values (2, 1, null)")
    assert type(e) is errors.NotNullViolation
    assert e.pgcode == "23502"
    assert e.diag.column_name == "val"
    assert e.diag.table_name == "child"


def test_check_violation(conn, table):
    e = raises_on(conn, "insert into child values (2, 1, -1)")
    assert type(e) is errors.CheckViolation
    assert e.diag.constraint_name == "child_val_check"


def test_foreign_key_violation(conn, table):
    e = raises_on(conn, "insert into child values (2, 42, 1)")
    assert type(e) is errors.ForeignKeyViolation
    assert e.diag.constraint_name == "child_parent_id_fkey"
    assert "is not present in table" in e.diag.message_detail


def test_datatype_name(conn):
    cur = conn.cursor()
    cur.execute("create domain posint as int check (value > 0)")
    e = raises_on(conn, "select (-1)::posint")
    assert type(e) is errors.CheckViolation
    assert e.diag.datatype_name == "posint"


def test_raise_hint_context(conn):
    e = raises_on(conn, """
        do $$ begin
            raise exception 'custom %', 42
                using detail = 'the detail', hint = 'the hint';
        end $$""")
    assert type(e) is errors.RaiseException
    assert e.pgcode == "P0001"
    assert e.diag.message_primary == "custom 42"
    assert e.diag.message_detail == "the detail"
    assert e.diag.message_hint == "the hint"
    assert "PL/pgSQL function" in e.diag.context
    assert str(e).startswith("custom 42\nDETAIL:  the detail\nHINT:  the hint")


def test_internal_query(conn):
    cur = conn.cursor()
    cur.execute("""
        create function pg_temp.badfunc() returns int language plpgsql
        as $$ begin return (select nosuchcol from pg_class limit 1); end $$
        """)
    e = raises_on(conn, "select pg_temp.badfunc()")
    assert type(e) is errors.UndefinedColumn
    assert "nosuchcol" in e.diag.internal_query
    assert e.diag.internal_position is not None
    assert e.diag.statement_position is None


@pytest.mark.parametrize("code, cls", [
    ("P0001", errors.RaiseException),
    ("22X99", psycopg2.DataError),          # unknown: by its class
    ("23X99", psycopg2.IntegrityError),
    ("40X99", psycopg2.extensions.TransactionRollbackError),
    ("0AX99", psycopg2.NotSupportedError),
    ("YB999", psycopg2.DatabaseError),
])
def test_custom_sqlstate(conn, code, cls):
    e = raises_on(conn, """
        do $$ begin
            raise exception 'mine' using errcode = '%s';
        end $$""" % code)
    assert type(e) is cls
    assert e.pgcode == code
    assert e.diag.sqlstate == code


def test_query_canceled_statement_timeout(conn):
    cur = conn.cursor()
    cur.execute("set statement_timeout = 100")
    with pytest.raises(errors.QueryCanceled) as excinfo:
        cur.execute("select pg_sleep(10)")
    e = excinfo.value
    assert isinstance(e, psycopg2.extensions.QueryCanceledError)
    assert isinstance(e, psycopg2.OperationalError)
    assert e.pgcode == "57014"
    conn.rollback()
    assert conn.closed == 0


def test_in_failed_transaction(conn):
    cur = conn.cursor()
    with pytest.raises(errors.DivisionByZero):
        cur.execute("select 1 / 0")
    with pytest.raises(errors.InFailedSqlTransaction) as excinfo:
        cur.execute("select 1")
    assert isinstance(excinfo.value, psycopg2.InternalError)
    conn.rollback()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_serialization_failure(dsn, conn):
    cur = conn.cursor()
    cur.execute("drop table if exists ser_test")
    cur.execute("create table ser_test (id int primary key, v int)")
    cur.execute("insert into ser_test values (1, 0)")
    conn.commit()
    conn2 = psycopg2.connect(dsn)
    try:
        conn.set_session(isolation_level="REPEATABLE READ")
        conn2.set_session(isolation_level="REPEATABLE READ")
        cur2 = conn2.cursor()
        cur.execute("select v from ser_test where id = 1")
        cur2.execute("select v from ser_test where id = 1")
        cur.execute("update ser_test set v = 1 where id = 1")
        conn.commit()
        with pytest.raises(errors.SerializationFailure) as excinfo:
            cur2.execute("update ser_test set v = 2 where id = 1")
        e = excinfo.value
        assert isinstance(e, psycopg2.extensions.TransactionRollbackError)
        assert e.pgcode == "40001"
        conn2.rollback()
    finally:
        conn2.close()
        conn.set_session(isolation_level="DEFAULT")
        conn.rollback()
        conn.cursor().execute("drop table ser_test")
        conn.commit()


def test_deadlock_detected(dsn, conn):
    cur = conn.cursor()
    cur.execute("drop table if exists dl_test")
    cur.execute("create table dl_test (id int primary key)")
    cur.execute("insert into dl_test values (1), (2)")
    conn.commit()
    conn2 = psycopg2.connect(dsn)
    failures = []

    def lock_second():
        try:
            conn2.cursor().execute(
                "update dl_test set id = id where id = 1")
        except psycopg2.Error as e:
            failures.append(e)
        conn2.rollback()

    try:
        cur.execute("set deadlock_timeout = '100ms'")
        cur2 = conn2.cursor()
        cur2.execute("set deadlock_timeout = '100ms'")
        cur.execute("update dl_test set id = id where id = 1")
        cur2.execute("update dl_test set id = id where id = 2")
        t = threading.Thread(target=lock_second)
        t.start()
        try:
            cur.execute("update dl_test set id = id where id = 2")
        except psycopg2.Error as e:
            failures.append(e)
        conn.rollback()
        t.join(60)
        assert not t.is_alive()
        assert len(failures) == 1
        e = failures[0]
        assert type(e) is errors.DeadlockDetected
        assert isinstance(e, psycopg2.extensions.TransactionRollbackError)
        assert e.pgcode == "40P01"
        assert "deadlock detected" in str(e)
    finally:
        conn2.close()
        conn.rollback()
        conn.cursor().execute("drop table dl_test")
        conn.commit()


def test_pickle_server_error(conn):
    e = raises_on(conn, "select * from nosuchtable")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is errors.UndefinedTable
    assert e2.args == e.args
    assert e2.pgerror == e.pgerror
    assert e2.pgcode == e.pgcode == "42P01"
    # like psycopg2: the cursor and the diagnostics don't travel
    assert e2.cursor is None
    assert e2.diag.sqlstate is None


def test_diag_survives_connection(dsn):
    conn = psycopg2.connect(dsn)
    e = raises_on(conn, "select 1 / 0")
    conn.close()
    assert e.diag.sqlstate == "22012"
    assert e.diag.message_primary == "division by zero"
    assert Diagnostics(e).severity == "ERROR"


def test_error_message_in_client_encoding(conn):
    conn.set_client_encoding("LATIN1")
    e = raises_on(conn, """
        do $$ begin raise exception 'caf\u00e9 \u00e0 la cr\u00e8me'; end $$
        """)
    assert str(e).startswith("caf\u00e9 \u00e0 la cr\u00e8me\n")
    assert e.diag.message_primary == "caf\u00e9 \u00e0 la cr\u00e8me"


def test_error_message_utf8(conn):
    e = raises_on(conn, "select * from \"tab\u20ac\"")
    assert '"tab\u20ac"' in e.diag.message_primary


def test_error_on_commit_has_no_cursor(conn):
    cur = conn.cursor()
    cur.execute("""
        create temp table deferred_t (
            id int primary key, ref int references deferred_t (id)
            deferrable initially deferred)
        """)
    conn.commit()
    cur.execute("insert into deferred_t values (1, 42)")
    with pytest.raises(errors.ForeignKeyViolation) as excinfo:
        conn.commit()
    assert excinfo.value.cursor is None
    assert excinfo.value.pgcode == "23503"


def test_connection_lost(dsn, conn):
    cur = conn.cursor()
    cur.execute("select pg_backend_pid()")
    pid = cur.fetchone()[0]
    conn.rollback()
    killer = psycopg2.connect(dsn)
    try:
        killer.autocommit = True
        killer.cursor().execute("select pg_terminate_backend(%s)", (pid,))
    finally:
        killer.close()
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        cur.execute("select 1")
    assert conn.closed == 2
    e = excinfo.value
    assert str(e)
    with pytest.raises(psycopg2.InterfaceError):
        cur.execute("select 1")


def test_connect_error(dsn):
    params = psycopg2.extensions.parse_dsn(dsn)
    params["dbname"] = "nosuchdb_psycopg2_test"
    with pytest.raises(psycopg2.OperationalError) as excinfo:
        psycopg2.connect(**params)
    assert "nosuchdb_psycopg2_test" in str(excinfo.value)


def test_errors_registered_on_import():
    # A fresh interpreter: importing psycopg2 is enough for the specific
    # classes to be raised.
    code = ("import psycopg2._psycopg as p, psycopg2; "
            "print(p.sqlstate_errors['23505'].__name__)")
    out = subprocess.run([sys.executable, "-c", code], check=True,
                         stdout=subprocess.PIPE).stdout
    assert out.strip() == b"UniqueViolation"
