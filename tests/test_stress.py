"""Stress and edge cases of the public API: bad input, re-entrant callbacks,
threads sharing objects.

Whatever the input, the driver must answer with an exception (a
psycopg2 one for database matters, TypeError/ValueError & co. for wrong
arguments), never crash, hang or return values read from freed memory.
Run these under scripts/asan_test.sh (and valgrind) to see the memory
errors behind some of them.
"""

import io
import random
import select
import threading

import pytest

import psycopg2
import psycopg2.extensions as ext
import psycopg2.extras

# exceptions a wrong argument may raise: anything else is a finding
ARG_ERRORS = (psycopg2.Error, TypeError, ValueError, OverflowError,
              AttributeError, KeyError, IndexError, UnicodeError,
              ArithmeticError)    # decimal.InvalidOperation, as psycopg2

ODD_VALUES = [
    None, 0, -1, -2 ** 63, 2 ** 64, 1.5, float("nan"), "", "x" * 100000,
    "a\x00b", b"a\x00b", b"", object(), [], {}, (), [1, 2], {"a": 1}, True,
    io.BytesIO(), "%s", "%(x)s", "%", b"%s",
]


def _value_id(value):
    return repr(value)[:20]


def call(f, *args, **kwargs):
    """Call f; let only the expected argument errors through."""
    try:
        f(*args, **kwargs)
    except ARG_ERRORS:
        pass


@pytest.fixture
def aconn(dsn):
    """An autocommit connection."""
    c = psycopg2.connect(dsn)
    c.autocommit = True
    yield c
    c.close()


# ------------------------------------------------------------------
# Wrong arguments

@pytest.mark.parametrize("value", ODD_VALUES, ids=_value_id)
def test_cursor_methods_with_odd_values(aconn, value):
    cur = aconn.cursor()
    call(cur.execute, value)
    call(cur.execute, "select %s", value)
    call(cur.execute, "select %s", (value,))
    call(cur.execute, "select %(a)s", {"a": value})
    call(cur.mogrify, value)
    call(cur.mogrify, "select %s", (value,))
    call(cur.executemany, "select %s", value)
    call(cur.executemany, "select %s", [value])
    call(cur.callproc, value)
    call(cur.callproc, "now", value)
    cur.execute("select generate_series(1, 10)")
    call(cur.fetchmany, value)
    call(cur.scroll, value)
    call(cur.scroll, 0, value)
    call(setattr, cur, "arraysize", value)
    call(setattr, cur, "itersize", value)
    call(cur.cast, value, "1")
    call(cur.cast, 23, value)
    call(cur.copy_from, value, "t")
    call(cur.copy_to, value, "t")
    call(cur.copy_expert, value, io.StringIO())
    call(cur.copy_expert, "copy (select 1) to stdout", value)
    call(cur.setinputsizes, value)
    call(cur.setoutputsize, value)
    # the cursor is still usable
    cur.execute("select 42")
    assert cur.fetchone() == (42,)


@pytest.mark.parametrize("value", ODD_VALUES, ids=_value_id)
def test_module_functions_with_odd_values(aconn, value):
    call(ext.new_type, value, "x", None)
    call(ext.new_type, (1,), value, None)
    call(ext.new_array_type, value, "x", ext.INTEGER)
    call(ext.register_type, value)
    call(ext.adapt, value)
    call(lambda: ext.QuotedString(value).getquoted())
    call(lambda: ext.Binary(value).getquoted())
    call(lambda: ext.AsIs(value).getquoted())
    call(lambda: ext.SQL_IN(value).getquoted())
    call(lambda: ext.Column().__setstate__(value))
    call(lambda: ext.Notify(value, value, value))
    call(lambda: ext.Xid.from_string(value))
    call(lambda: ext.Diagnostics(value))
    call(ext.quote_ident, value, aconn)
    call(ext.encrypt_password, value, "u")
    call(ext.parse_dsn, value)
    call(aconn.set_session, value)
    call(aconn.set_isolation_level, value)
    call(aconn.set_client_encoding, value)
    call(aconn.get_parameter_status, value)
    call(aconn.xid, value, "a", "b")
    for name in ("INTEGER", "FLOAT", "DECIMAL", "BOOLEAN", "PYDATE",
                 "PYTIME", "PYDATETIMETZ", "PYINTERVAL", "INTEGERARRAY",
                 "UNICODEARRAY", "BYTES"):
        caster = getattr(ext, name)
        call(caster, value, None)
        call(caster, "1", value)
    aconn.rollback()


@pytest.mark.parametrize("text", [
    "", "{", "}", "{{{", "{1,2", '{"a', "{1}}", "{{}", "[1:2", "[1:2]=",
    "{" * 10000, '{"\\', "{{1},{2,3}}", "\\x0", "\\xzz", "\\",
])
def test_array_and_bytes_casters_on_garbage(text):
    for caster in (ext.INTEGERARRAY, ext.UNICODEARRAY, ext.BYTES):
        call(caster, text, None)


def test_copy_from_nul_in_options_raises_valueerror(aconn):
    # a NUL would cut the COPY statement short: psycopg2 refuses it
    cur = aconn.cursor()
    cur.execute("create temp table t (a int, b text)")
    with pytest.raises(ValueError):
        cur.copy_from(io.StringIO("1\n"), "t", null="\x00")
    with pytest.raises(ValueError):
        cur.copy_from(io.StringIO("1\n"), "t", sep="\x00")


def test_deeply_nested_tuple_raises_recursion_error(aconn):
    # each level recurses in C: without a recursion guard the C stack
    # overflows (segmentation fault)
    value = (1,)
    for _ in range(300000):
        value = (value,)
    with pytest.raises(RecursionError):
        aconn.cursor().mogrify("select %s", (value,))


def test_deeply_nested_list_raises_recursion_error(aconn):
    value = [1]
    for _ in range(300000):
        value = [value]
    with pytest.raises(RecursionError):
        aconn.cursor().mogrify("select %s", (value,))


# ------------------------------------------------------------------
# Closed and broken objects

def test_methods_after_close(dsn):
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("select generate_series(1, 5)")
    named = conn.cursor("named")
    conn.close()
    for f in (cur.fetchone, cur.fetchall, lambda: cur.fetchmany(2),
              lambda: cur.execute("select 1"), lambda: cur.scroll(1),
              lambda: list(cur), lambda: cur.callproc("now"),
              lambda: cur.copy_expert("copy (select 1) to stdout",
                                      io.StringIO()),
              lambda: named.execute("select 1"), named.fetchone,
              conn.cursor, conn.commit, conn.rollback, conn.cancel,
              conn.poll, conn.fileno, conn.reset, conn.get_backend_pid,
              conn.get_dsn_parameters, conn.tpc_recover,
              lambda: conn.set_session(autocommit=True),
              lambda: conn.get_parameter_status("TimeZone"),
              lambda: conn.set_client_encoding("LATIN1"),
              lambda: ext.quote_ident("x", conn)):
        with pytest.raises(psycopg2.InterfaceError):
            f()
    call(lambda: conn.info.status)
    call(lambda: conn.info.backend_pid)
    call(lambda: conn.info.error_message)
    cur.close()
    named.close()
    conn.close()


def test_methods_after_server_kills_connection(dsn, aconn):
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    named = conn.cursor("n")
    named.itersize = 2
    named.execute("select generate_series(1, 100)")
    named.fetchone()
    aconn.cursor().execute("select pg_terminate_backend(%s)",
                           (conn.get_backend_pid(),))
    with pytest.raises(psycopg2.OperationalError):
        cur.execute("select 1")
    assert conn.closed == 2
    for f in (cur.fetchone, lambda: named.fetchmany(10), lambda: list(named),
              conn.commit, lambda: conn.cursor().execute("select 1")):
        with pytest.raises(psycopg2.InterfaceError):
            f()
    named.close()
    conn.close()


# ------------------------------------------------------------------
# Callbacks that misbehave

def test_row_factory_and_tzinfo_factory_raising(aconn):
    cur = aconn.cursor()

    def boom(*args):
        raise ZeroDivisionError("boom")

    cur.row_factory = boom
    for f in (cur.fetchone, cur.fetchall, lambda: list(cur)):
        cur.execute("select 1, 2")
        with pytest.raises(ZeroDivisionError):
            f()
    cur.row_factory = lambda c: None
    cur.execute("select 1, 2")
    with pytest.raises(TypeError):
        cur.fetchone()
    cur.row_factory = None
    cur.tzinfo_factory = boom
    cur.execute("select now()")
    with pytest.raises(ZeroDivisionError):
        cur.fetchone()
    cur.tzinfo_factory = None
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_typecasters_raising_or_returning_garbage(aconn):
    cur = aconn.cursor()

    def boom(value, cur):
        raise ZeroDivisionError("cast")

    def interrupt(value, cur):
        raise KeyboardInterrupt

    ext.register_type(ext.new_type((23,), "BOOM", boom), cur)
    cur.execute("select generate_series(1, 3)::int4")
    with pytest.raises(ZeroDivisionError):
        cur.fetchall()
    ext.register_type(ext.new_type((23,), "KI", interrupt), cur)
    cur.execute("select 1::int4")
    with pytest.raises(KeyboardInterrupt):
        cur.fetchone()
    ext.register_type(ext.new_type((23,), "SELF", lambda v, c: c), cur)
    cur.execute("select 1::int4")
    assert cur.fetchone() == (cur,)
    ext.register_type(ext.new_type((23,), "ARGS", lambda: 1), cur)
    cur.execute("select 1::int4")
    with pytest.raises(TypeError):
        cur.fetchone()


class _BadFile:
    def __init__(self, exc=None, value=None):
        self.exc = exc
        self.value = value

    def read(self, size=-1):
        if self.exc:
            raise self.exc
        return self.value

    readline = read

    def write(self, data):
        raise self.exc


@pytest.mark.parametrize("f", [
    _BadFile(ZeroDivisionError("r")), _BadFile(KeyboardInterrupt()),
    _BadFile(value=42), _BadFile(value=None), _BadFile(value=[b"1\n"]),
], ids=["raises", "interrupt", "int", "none", "list"])
def test_copy_from_bad_file(aconn, f):
    cur = aconn.cursor()
    cur.execute("create temp table t (a int)")
    with pytest.raises(psycopg2.Error):
        cur.copy_from(f, "t")
    with pytest.raises(psycopg2.Error):
        cur.copy_expert("copy t from stdin", f)
    cur.execute("select count(*) from t")
    assert cur.fetchone() == (0,)


@pytest.mark.parametrize("exc", [ZeroDivisionError("w"), KeyboardInterrupt()],
                         ids=["raises", "interrupt"])
def test_copy_to_bad_file(aconn, exc):
    cur = aconn.cursor()
    with pytest.raises(type(exc)):
        cur.copy_expert("copy (select generate_series(1, 50000)) to stdout",
                        _BadFile(exc))
    # the rest of the data was drained: the connection is usable
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


# ------------------------------------------------------------------
# Re-entrancy: callbacks that use the cursor being fetched

ROWS = [(i, "abc") for i in range(1, 6)]


def _fetch_result_or_error(f):
    """Either the rows of the original query or a ProgrammingError: never
    values read from a result freed meanwhile."""
    try:
        rows = f()
    except psycopg2.ProgrammingError:
        return
    rows = rows if isinstance(rows, list) else [rows]
    for row in rows:
        assert tuple(row) in ROWS


def test_typecaster_running_a_query_on_the_fetched_cursor(aconn):
    cur = aconn.cursor()

    def cast(value, c):
        if value is not None:
            c.execute("select 'zzz'::text, 2, 3")
            return int(value)

    ext.register_type(ext.new_type((23,), "REEXEC", cast), cur)
    cur.execute("select generate_series(1, 5)::int4, 'abc'::text")
    _fetch_result_or_error(cur.fetchall)


def test_typecaster_closing_the_fetched_cursor(aconn):
    cur = aconn.cursor()

    def cast(value, c):
        c.close()
        return value and int(value)

    ext.register_type(ext.new_type((23,), "CLOSER", cast), cur)
    cur.execute("select generate_series(1, 5)::int4, 'abc'::text")
    try:
        _fetch_result_or_error(cur.fetchall)
    except psycopg2.InterfaceError:
        pass


@pytest.mark.parametrize("action", ["execute", "close"])
@pytest.mark.parametrize("method", ["fetchone", "fetchall", "iter"])
def test_row_factory_using_the_fetched_cursor(aconn, action, method):
    cur = aconn.cursor()

    class Row(list):
        def __init__(self, c):
            if action == "execute":
                c.execute("select 1")
            else:
                c.close()
            super().__init__([None, None])

    cur.row_factory = Row
    cur.execute("select generate_series(1, 5)::int4, 'abc'::text")
    f = {"fetchone": cur.fetchone, "fetchall": cur.fetchall,
         "iter": lambda: list(cur)}[method]
    try:
        _fetch_result_or_error(f)
    except psycopg2.InterfaceError:
        pass


def test_tzinfo_factory_running_a_query(aconn):
    import datetime
    cur = aconn.cursor()
    cur.execute("select '2020-01-01 00:00:00+00'::timestamptz, 'abc'::text "
                "from generate_series(1, 3)")

    def tzf(offset):
        cur.execute("select 1")
        return datetime.timezone.utc

    cur.tzinfo_factory = tzf
    try:
        rows = cur.fetchall()
    except psycopg2.ProgrammingError:
        return
    for row in rows:
        assert row == (datetime.datetime(2020, 1, 1,
                                         tzinfo=datetime.timezone.utc), "abc")


def test_wait_callback_removed_during_green_query(dsn):
    # psycopg2 refuses a query while another one runs; a blocking one
    # would steal the results of the first and leave it waiting forever
    ext.set_wait_callback(psycopg2.extras.wait_select)
    try:
        conn = psycopg2.connect(dsn)
        cur = conn.cursor()
        inner = []

        def wait(c):
            ext.set_wait_callback(None)
            try:
                cur.execute("select 1")
            except psycopg2.Error as e:
                inner.append(e)
            while True:
                state = c.poll()
                if state == ext.POLL_OK:
                    break
                fds = [c.fileno()]
                r, w, _ = select.select(
                    fds if state == ext.POLL_READ else [],
                    fds if state == ext.POLL_WRITE else [], [], 30)
                if not r and not w:
                    raise AssertionError("the query never completed")

        ext.set_wait_callback(wait)
        cur.execute("select 2")
        assert cur.fetchone() == (2,)
        assert len(inner) == 1
        assert isinstance(inner[0], psycopg2.ProgrammingError)
        conn.close()
    finally:
        ext.set_wait_callback(None)


# ------------------------------------------------------------------
# Threads

def _run_threads(target, nthreads, *args):
    errors = []

    def wrapper(i):
        try:
            target(i, *args)
        except BaseException as e:     # noqa: B902 - reported below
            errors.append(e)

    threads = [threading.Thread(target=wrapper, args=(i,))
               for i in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_threads_sharing_a_cursor(dsn):
    """8 threads run random operations on one cursor: only psycopg2
    errors (e.g. "no results to fetch") are acceptable."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()

    def slow_int(value, c):
        if value is not None:
            return int(value)      # Python code: other threads run here

    ext.register_type(ext.new_type((23,), "SLOWINT", slow_int), cur)

    def work(i):
        r = random.Random(i)
        for _ in range(150):
            op = r.randrange(9)
            try:
                if op == 0:
                    cur.execute("select generate_series(1, %s)::int4, 'x'",
                                (r.randrange(50),))
                elif op == 1:
                    cur.fetchall()
                elif op == 2:
                    cur.fetchone()
                elif op == 3:
                    cur.fetchmany(r.randrange(5))
                elif op == 4:
                    cur.scroll(r.randrange(-3, 3))
                elif op == 5:
                    list(cur)
                elif op == 6:
                    cur.executemany("select %s", [(1,), (2,), (3,)])
                elif op == 7:
                    cur.copy_expert(
                        "copy (select generate_series(1, 100)) to stdout",
                        io.StringIO())
                else:
                    cur.description, cur.rowcount, cur.statusmessage
            except psycopg2.Error:
                pass

    _run_threads(work, 8)
    conn.close()


def test_threads_using_a_connection_while_it_is_closed(dsn):
    for round in range(5):
        conn = psycopg2.connect(dsn)
        stop = threading.Event()

        def work(i):
            r = random.Random(round * 10 + i)
            while not stop.is_set():
                try:
                    op = r.randrange(6)
                    if op == 0:
                        c = conn.cursor()
                        c.execute("select generate_series(1, 50), 'x'")
                        c.fetchall()
                    elif op == 1:
                        conn.commit()
                    elif op == 2:
                        conn.rollback()
                    elif op == 3:
                        conn.cancel()
                    elif op == 4:
                        conn.cursor().copy_expert(
                            "copy (select generate_series(1, 100)) "
                            "to stdout", io.StringIO())
                    else:
                        conn.get_parameter_status("server_version")
                        conn.info.transaction_status
                        conn.get_transaction_status()
                except psycopg2.Error:
                    pass

        threads = [threading.Thread(target=work, args=(i,))
                   for i in range(8)]
        for t in threads:
            t.start()
        # let the workers run a few queries, then close under their feet
        c = psycopg2.connect(dsn)
        c.cursor().execute("select pg_sleep(0.05)")
        c.close()
        conn.close()
        stop.set()
        for t in threads:
            t.join()
        assert conn.closed
