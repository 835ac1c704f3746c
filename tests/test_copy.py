"""Tests of COPY: copy_from(), copy_to(), copy_expert()."""

import io
import struct

import pytest

import psycopg2
from psycopg2 import sql


@pytest.fixture
def cur(conn):
    c = conn.cursor()
    c.execute("create temp table tcopy (a int, b text, \"C c\" text)")
    yield c
    c.close()


def table_rows(cur, table="tcopy"):
    cur.execute("select * from %s order by 1" % table)
    return cur.fetchall()


class BrokenRead:
    def read(self, size):
        return 1 / 0

    def readline(self):
        return 1 / 0


class BrokenWrite:
    def write(self, data):
        return 1 / 0


class Recorder:
    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(data)


def test_copy_from_text(cur):
    f = io.StringIO("1\tx\t\\N\n2\ty\tz\u20ac\n")
    assert cur.copy_from(f, "tcopy") is None
    assert cur.rowcount == 2
    assert cur.query == (b"COPY \"tcopy\" FROM stdin WITH DELIMITER AS "
                         b"'\t' NULL AS '\\N'")
    assert cur.description is None
    assert table_rows(cur) == [(1, "x", None), (2, "y", "z\u20ac")]


def test_copy_from_bytes_sep_null_columns(cur):
    f = io.BytesIO(b"3|NUL\n4|w\n")
    cur.copy_from(f, "tcopy", sep="|", null="NUL", columns=("a", "C c"))
    assert cur.rowcount == 2
    assert cur.query == (b'COPY "tcopy"("a","C c") FROM stdin WITH '
                         b"DELIMITER AS '|' NULL AS 'NUL'")
    assert table_rows(cur) == [(3, None, None), (4, None, "w")]


def test_copy_from_small_size(cur):
    data = "".join("%d\trow %d\t\\N\n" % (i, i) for i in range(100))
    cur.copy_from(io.StringIO(data), "tcopy", size=7)
    assert cur.rowcount == 100
    assert len(table_rows(cur)) == 100


def test_copy_from_empty(cur):
    cur.copy_from(io.StringIO(""), "tcopy")
    assert cur.rowcount == 0


def test_copy_from_quoted_table(conn):
    cur = conn.cursor()
    cur.execute('create temp table "Mixed Case" (a int)')
    cur.copy_from(io.StringIO("7\n"), "Mixed Case")
    assert table_rows(cur, '"Mixed Case"') == [(7,)]


def test_copy_from_bad_data(conn, cur):
    with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
        cur.copy_from(io.StringIO("x\ty\tz\n"), "tcopy")
    conn.rollback()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_copy_from_read_error(conn, cur):
    with pytest.raises(psycopg2.errors.QueryCanceled) as excinfo:
        cur.copy_from(BrokenRead(), "tcopy")
    assert "ZeroDivisionError" in str(excinfo.value)
    assert isinstance(excinfo.value.__cause__, ZeroDivisionError)
    conn.rollback()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_copy_from_bad_read_result(conn, cur):
    class IntRead:
        def read(self, size):
            return 42

    with pytest.raises(psycopg2.errors.QueryCanceled):
        cur.copy_from(IntRead(), "tcopy")
    conn.rollback()


def test_copy_from_not_a_file(cur):
    with pytest.raises(TypeError, match="read"):
        cur.copy_from(3, "tcopy")


def test_copy_to_text(cur):
    cur.execute("insert into tcopy values (1, 'x', null), (2, 'y', '\u20ac')")
    f = io.StringIO()
    assert cur.copy_to(f, "tcopy") is None
    assert cur.rowcount == 2
    assert f.getvalue() == "1\tx\t\\N\n2\ty\t\u20ac\n"
    assert cur.query == (b"COPY \"tcopy\" TO stdout WITH DELIMITER AS "
                         b"'\t' NULL AS '\\N'")


def test_copy_to_bytes_columns(cur):
    cur.execute("insert into tcopy values (1, 'x', null), (2, 'y', 'z')")
    f = io.BytesIO()
    cur.copy_to(f, "tcopy", sep="|", null="NUL", columns=["b", "a", "C c"])
    assert f.getvalue() == b"x|1|NUL\ny|2|z\n"


def test_copy_to_plain_writer_gets_bytes(cur):
    cur.execute("insert into tcopy values (1, 'x', null)")
    rec = Recorder()
    cur.copy_to(rec, "tcopy")
    assert all(isinstance(c, bytes) for c in rec.chunks)
    assert b"".join(rec.chunks) == b"1\tx\t\\N\n"


def test_copy_to_large(cur):
    cur.execute("insert into tcopy select i, repeat('x', 100), null "
                "from generate_series(1, 20000) i")
    f = io.StringIO()
    cur.copy_to(f, "tcopy")
    assert cur.rowcount == 20000
    lines = f.getvalue().splitlines()
    assert len(lines) == 20000
    assert lines[-1] == "20000\t" + "x" * 100 + "\t\\N"


def test_copy_to_write_error(conn, cur):
    cur.execute("insert into tcopy select i, 'x', null "
                "from generate_series(1, 1000) i")
    with pytest.raises(ZeroDivisionError):
        cur.copy_to(BrokenWrite(), "tcopy")
    # the data was drained: the transaction is still fine
    cur.execute("select count(*) from tcopy")
    assert cur.fetchone() == (1000,)


def test_copy_to_not_a_file(cur):
    with pytest.raises(TypeError, match="write"):
        cur.copy_to(3, "tcopy")


def test_copy_to_missing_table(conn, cur):
    with pytest.raises(psycopg2.errors.UndefinedTable):
        cur.copy_to(io.StringIO(), "nosuchtable")
    conn.rollback()


def test_copy_expert_csv(cur):
    cur.execute("insert into tcopy values (1, 'a,b', null)")
    f = io.StringIO()
    cur.copy_expert("copy (select * from tcopy) to stdout with csv header", f)
    assert f.getvalue() == 'a,b,C c\n1,"a,b",\n'
    assert cur.rowcount == 1
    cur.copy_expert("copy tcopy from stdin with csv",
                    io.StringIO('2,"x\ny",\n'))
    assert cur.rowcount == 1
    assert table_rows(cur)[1] == (2, "x\ny", None)


def test_copy_expert_binary(cur):
    f = io.BytesIO()
    cur.copy_expert("copy (select 1::int4, 'hi'::text) to stdout "
                    "(format binary)", f)
    data = f.getvalue()
    assert data.startswith(b"PGCOPY\n\xff\r\n\x00")
    assert struct.pack("!hi", 2, 4) + struct.pack("!i", 1) in data
    # and back in
    cur.execute("create temp table tbin (a int4, b text)")
    cur.copy_expert("copy tbin from stdin (format binary)", io.BytesIO(data))
    assert cur.rowcount == 1
    assert table_rows(cur, "tbin") == [(1, "hi")]


def test_copy_expert_composable(cur):
    cur.execute("insert into tcopy values (5, 'q', null)")
    f = io.StringIO()
    cur.copy_expert(sql.SQL("copy {} to stdout").format(
        sql.Identifier("tcopy")), f)
    assert f.getvalue() == "5\tq\t\\N\n"
    assert cur.query == b'copy "tcopy" to stdout'


def test_copy_expert_errors(conn, cur):
    with pytest.raises(TypeError, match="file-like"):
        cur.copy_expert("copy tcopy to stdout", 3)
    with pytest.raises(psycopg2.errors.BadCopyFileFormat):
        cur.copy_expert("copy tcopy from stdin (format binary)",
                        io.BytesIO(b"garbage"))
    conn.rollback()


def test_copy_expert_read_only_file_for_copy_to(conn):
    cur = conn.cursor()
    with pytest.raises(AttributeError):
        cur.copy_expert("copy (select 1) to stdout", _ReadOnly())
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


def test_copy_expert_write_only_file_for_copy_from(conn):
    cur = conn.cursor()
    cur.execute("create temp table two (a int)")
    with pytest.raises(AttributeError, match="read"):
        cur.copy_expert("copy two from stdin", Recorder())
    # the COPY was ended: the connection works after a rollback
    conn.rollback()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


class _ReadOnly:
    def read(self, size=-1):
        return ""


def test_copy_many_times_connection_usable(conn, cur):
    for i in range(50):
        cur.copy_from(io.StringIO("%d\tx\t\\N\n" % i), "tcopy")
        f = io.StringIO()
        cur.copy_to(f, "tcopy")
    assert len(f.getvalue().splitlines()) == 50


def test_copy_autocommit(conn):
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("create temp table tac (a int)")
    cur.copy_from(io.StringIO("1\n2\n"), "tac")
    assert conn.get_transaction_status() == 0
    assert table_rows(cur, "tac") == [(1,), (2,)]


def test_copy_named_cursor_refused(conn):
    cur = conn.cursor("named")
    with pytest.raises(psycopg2.ProgrammingError):
        cur.copy_from(io.StringIO(""), "tcopy")


class SizeRecorder:
    """A text file recording the sizes asked to read()."""

    def __init__(self, text):
        self.f = io.StringIO(text)
        self.sizes = []

    def read(self, size):
        self.sizes.append(size)
        return self.f.read(size)


def test_copy_from_explicit_size_is_used(cur):
    src = SizeRecorder("".join("%d\tr\t\\N\n" % i for i in range(50)))
    cur.copy_from(src, "tcopy", size=100)
    assert set(src.sizes) == {100}
    assert cur.rowcount == 50
    src = SizeRecorder("1\tr\t\\N\n")
    cur.copy_expert("copy tcopy from stdin", src, size=33)
    assert set(src.sizes) == {33}


def test_copy_from_default_size_reads_blocks(cur):
    src = SizeRecorder("1\tr\t\\N\n")
    cur.copy_from(src, "tcopy")
    assert len(set(src.sizes)) == 1 and src.sizes[0] >= 8192


def test_copy_from_many_blocks_non_ascii(cur):
    # rows and multi-byte characters cut across read() blocks
    rows = [(i, "\u00e8\u20ac\U0001f600 %d" % i, "x" * (i % 50))
            for i in range(30000)]
    data = "".join("%d\t%s\t%s\n" % r for r in rows)
    for size in (None, 7, 8191):
        cur.execute("truncate tcopy")
        kwargs = {} if size is None else {"size": size}
        cur.copy_from(io.StringIO(data), "tcopy", **kwargs)
        assert cur.rowcount == len(rows)
        assert table_rows(cur) == rows


def test_copy_from_bytes_many_blocks(cur):
    rows = [(i, "b\u00e9%d" % i, None) for i in range(20000)]
    data = "".join("%d\t%s\t\\N\n" % r[:2] for r in rows).encode("utf-8")
    cur.copy_from(io.BytesIO(data), "tcopy")
    assert table_rows(cur) == rows


def test_copy_from_other_client_encoding(conn):
    conn.set_client_encoding("LATIN1")
    cur = conn.cursor()
    cur.execute("create temp table tenc (a text)")
    cur.copy_from(io.StringIO("caf\u00e9\n"), "tenc")
    cur.copy_from(io.BytesIO("n\u00e9\n".encode("latin1")), "tenc")
    assert table_rows(cur, "tenc") == [("caf\u00e9",), ("n\u00e9",)]
    with pytest.raises(psycopg2.errors.QueryCanceled,
                       match="UnicodeEncodeError"):
        cur.copy_from(io.StringIO("\u20ac\n"), "tenc")
    conn.rollback()


def test_copy_from_unencodable_text(conn, cur):
    with pytest.raises(psycopg2.errors.QueryCanceled,
                       match="error in .read.. call: UnicodeEncodeError"):
        cur.copy_from(io.StringIO("1\ta\udc80b\t\\N\n"), "tcopy")
    conn.rollback()
    cur.execute("select 1")
    assert cur.fetchone() == (1,)


@pytest.mark.parametrize("method, args", [
    ("copy_expert", ("copy (select 1) to stdout", io.StringIO())),
    ("copy_expert", ("copy (select 1) to stdout", 42)),
    ("copy_from", (io.StringIO("1\n"), "tcopy")),
    ("copy_to", (io.StringIO(), "tcopy")),
])
def test_copy_refused_on_async_connection(dsn, method, args):
    import psycopg2.extras

    aconn = psycopg2.connect(dsn, async_=True)
    try:
        psycopg2.extras.wait_select(aconn)
        cur = aconn.cursor()
        msg = "%s cannot be used in asynchronous mode" % method
        with pytest.raises(psycopg2.ProgrammingError, match=msg):
            getattr(cur, method)(*args)
        # the same message while a query runs; nothing was sent meanwhile
        cur.execute("select 42")
        with pytest.raises(psycopg2.ProgrammingError, match=msg):
            getattr(cur, method)(*args)
        psycopg2.extras.wait_select(aconn)
        assert cur.fetchone() == (42,)
    finally:
        aconn.close()


@pytest.mark.parametrize("query, method", [
    ("copy (select 1) to stdout", "copy_to"),
    ("copy tcopy from stdin", "copy_from"),
    ("select 1; copy (select 1) to stdout", "copy_to"),
])
def test_copy_statement_in_async_execute(dsn, query, method):
    # psycopg2: execute() sends it; poll() raises ProgrammingError naming
    # the method to use (not NotSupportedError); statusmessage is ''
    import select
    import psycopg2.extras

    aconn = psycopg2.connect(dsn, async_=True)
    try:
        psycopg2.extras.wait_select(aconn)
        cur = aconn.cursor()
        cur.execute("create temp table tcopy (a int)")
        psycopg2.extras.wait_select(aconn)
        cur.execute(query)
        direction = "TO" if method == "copy_to" else "FROM"
        msg = r"can't execute COPY %s: use the %s\(\) method" % (
            direction, method)
        with pytest.raises(psycopg2.ProgrammingError, match=msg):
            for _ in range(100):
                if aconn.poll() == psycopg2.extensions.POLL_OK:
                    break
                select.select([aconn], [], [], 1.0)
        assert not aconn.isexecuting()
        with pytest.raises(psycopg2.ProgrammingError, match="no results"):
            cur.fetchone()
    finally:
        aconn.close()


@pytest.mark.parametrize("autocommit", [False, True])
@pytest.mark.parametrize("query, method", [
    ("copy (select 1) to stdout", "copy_to"),
    ("copy tcopy from stdin", "copy_from"),
])
def test_copy_statement_in_execute_status(conn, autocommit, query, method):
    conn.autocommit = autocommit
    cur = conn.cursor()
    cur.execute("create temp table tcopy (a int)")
    with pytest.raises(psycopg2.ProgrammingError, match=method):
        cur.execute(query)
    assert cur.statusmessage == ""
    assert cur.rowcount == -1
    conn.rollback()
    cur.execute("select 5")
    assert cur.fetchone() == (5,)


def test_copy_checks_order_on_closed_cursor(conn):
    cur = conn.cursor()
    cur.close()
    # copy_expert checks the cursor before the file, the others after
    with pytest.raises(psycopg2.InterfaceError, match="cursor already"):
        cur.copy_expert("copy (select 1) to stdout", 42)
    with pytest.raises(TypeError, match="read"):
        cur.copy_from(42, "tcopy")
    with pytest.raises(TypeError, match="write"):
        cur.copy_to(42, "tcopy")


# -- COPY and threads -------------------------------------------------------
# psycopg2 2.9 doesn't lock the connection during the COPY data exchange: a
# cursor shared by threads gets other threads' errors, "no COPY in
# progress", "error with status PGRES_COPY_OUT and no message from the
# libpq".  Here the lock covers the whole exchange (doc/differences.rst).

def test_copy_cursor_shared_by_threads(conn):
    import collections
    import threading

    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("create temp table tthr (a int, b text)")
    data = "".join("%d\tx%d\n" % (i, i) for i in range(2000))
    outcome = collections.Counter()

    def copier():
        for i in range(20):
            try:
                if i % 2:
                    cur.copy_expert("copy tthr from stdin", io.StringIO(data))
                else:
                    f = io.StringIO()
                    cur.copy_expert(
                        "copy (select * from tthr limit 3000) to stdout", f)
                outcome["copy ok"] += 1
            except Exception as e:  # noqa: B902 - counted, then asserted
                outcome["copy %s: %s" % (type(e).__name__, e)] += 1

    def other(n):
        for i in range(40):
            c = cur if n % 2 else conn.cursor()
            try:
                c.execute("select 1/0" if i % 2 else "select 1")
                outcome["other ok"] += 1
            except psycopg2.errors.DivisionByZero:
                outcome["other 1/0"] += 1
            except Exception as e:  # noqa: B902
                outcome["other %s: %s" % (type(e).__name__, e)] += 1

    threads = [threading.Thread(target=copier) for _ in range(2)]
    threads += [threading.Thread(target=other, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "thread hung"
    assert outcome == {"copy ok": 40, "other ok": 60, "other 1/0": 60}
    cur.execute("select count(*) from tthr")
    assert cur.fetchone() == (20 * 2000,)


def test_copy_holds_the_lock_for_the_whole_exchange(conn):
    import threading

    cur = conn.cursor()
    cur.execute("create temp table tlock (a int)")
    in_read = threading.Event()
    order = []

    class SlowFile:
        def __init__(self):
            self.calls = 0

        def read(self, size):
            self.calls += 1
            if self.calls == 1:
                in_read.set()
                # the other thread's query waits for the end of the COPY
                other.join(0.5)
                order.append("read")
                return "1\n"
            return ""

    def query():
        assert in_read.wait(60)
        with conn.cursor() as c:
            c.execute("select count(*) from tlock")
            order.append(("query", c.fetchone()[0]))

    other = threading.Thread(target=query)
    other.start()
    cur.copy_expert("copy tlock from stdin", SlowFile())
    other.join(60)
    assert not other.is_alive(), "thread hung"
    assert order == ["read", ("query", 1)]


@pytest.mark.parametrize("direction", ["in", "out"])
@pytest.mark.parametrize("action", ["execute", "commit", "copy", "reset"])
def test_copy_file_using_its_connection(conn, direction, action):
    cur = conn.cursor()
    cur.execute("create temp table treent (a int)")
    seen = []

    def use_connection():
        try:
            if action == "execute":
                conn.cursor().execute("select 1")
            elif action == "commit":
                conn.commit()
            elif action == "copy":
                conn.cursor().copy_expert("copy (select 1) to stdout",
                                          io.StringIO())
            else:
                conn.reset()
        except psycopg2.ProgrammingError as e:
            seen.append(str(e))

    class File:
        def read(self, size):
            if not seen:
                use_connection()
                return "1\n"
            return ""

        def write(self, data):
            use_connection()

    if direction == "in":
        cur.copy_expert("copy treent from stdin", File())
    else:
        cur.copy_expert("copy (select 1) to stdout", File())
    # refused without deadlock; the COPY went on
    assert seen and "busy with a COPY" in seen[0]
    cur.execute("select count(*) from treent")
    assert cur.fetchone() == (1 if direction == "in" else 0,)


def test_copy_file_closing_its_connection(conn):
    class File:
        def write(self, data):
            conn.close()

    cur = conn.cursor()
    with pytest.raises(psycopg2.InterfaceError,
                       match="connection already closed"):
        cur.copy_expert("copy (select 1) to stdout", File())
    assert conn.closed
