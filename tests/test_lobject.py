"""Large objects: connection.lobject() and psycopg2.extensions.lobject.

Every test talks to the real test server.  Large objects created by a test
live in its transaction and disappear with the rollback at the end, unless
the test commits (then it unlinks them).
"""

import gc
import os
import pathlib
import select
import threading
import tracemalloc

import pytest

import psycopg2
import psycopg2.extensions as ext
from psycopg2 import InterfaceError, OperationalError, ProgrammingError

GiB = 1 << 30


def lo_exists(conn, oid: int) -> bool:
    cur = conn.cursor()
    cur.execute(
        "select count(*) from pg_largeobject_metadata where oid = %s", (oid,))
    return cur.fetchone()[0] == 1


@pytest.fixture
def oid(conn):
    """A committed large object holding b'hello world', unlinked after."""
    lo = conn.lobject(0, "wb")
    lo.write(b"hello world")
    lo.close()
    conn.commit()
    yield lo.oid
    if not conn.closed:
        conn.rollback()
        conn.autocommit = True
        conn.cursor().execute(
            "select lo_unlink(oid) from pg_largeobject_metadata "
            "where oid = %s", (lo.oid,))


# --- the type ---------------------------------------------------------------


def test_type_exported(conn):
    lo = conn.lobject()
    assert type(lo) is ext.lobject
    assert ext.lobject.__module__ == "psycopg2.extensions"
    assert ext.lobject.__name__ == "lobject"


def test_attributes_read_only(conn):
    lo = conn.lobject()
    for name in ("oid", "mode", "closed"):
        with pytest.raises(AttributeError):
            setattr(lo, name, 1)
    with pytest.raises(AttributeError):
        lo.foo = 1


def test_repr(conn):
    lo = conn.lobject()
    assert repr(lo).startswith("<lobject object at ")
    assert repr(lo).endswith("closed: 0>")
    lo.close()
    assert repr(lo).endswith("closed: 1>")


def test_uninitialized_object_raises():
    lo = ext.lobject.__new__(ext.lobject)
    assert lo.closed
    assert lo.oid == 0
    assert lo.mode is None
    lo.close()
    with pytest.raises(InterfaceError, match="already closed"):
        lo.read()
    with pytest.raises(InterfaceError):
        lo.unlink()
    with pytest.raises(InterfaceError):
        lo.export("/tmp/never-written")


# --- creation ---------------------------------------------------------------


def test_create_default(conn):
    lo = conn.lobject()
    assert lo.oid > 0
    assert lo.mode == "wt"
    assert not lo.closed
    assert conn.status == ext.STATUS_BEGIN
    assert lo_exists(conn, lo.oid)


def test_create_rolled_back(conn):
    lo = conn.lobject()
    conn.rollback()
    assert not lo_exists(conn, lo.oid)


def test_create_with_new_oid(conn):
    lo = conn.lobject(0, "wb", 7654321)
    assert lo.oid == 7654321
    assert lo_exists(conn, 7654321)


def test_create_with_new_oid_in_use(conn):
    conn.lobject(0, "wb", 7654322)
    with pytest.raises(OperationalError, match="already exists"):
        conn.lobject(0, "wb", 7654322)
    assert conn.info.transaction_status == ext.TRANSACTION_STATUS_INERROR


def test_keyword_arguments(conn):
    lo = conn.lobject(oid=0, mode="b", new_oid=0, new_file=None,
                      lobject_factory=None)
    assert lo.mode == "wb"
    assert lo.oid > 0


def test_too_many_arguments(conn):
    with pytest.raises(TypeError):
        conn.lobject(0, "r", 0, None, None, 5)


@pytest.mark.parametrize("mode, shown", [
    ("", "rt"), ("r", "rt"), ("w", "wt"), ("rw", "rwt"), ("n", "n"),
    ("b", "rb"), ("t", "rt"), ("rb", "rb"), ("wb", "wb"), ("rwb", "rwb"),
    ("rt", "rt"), ("wt", "wt"), ("rwt", "rwt"), ("nb", "n"), ("nt", "n"),
    (None, "rt"),
])
def test_modes_existing(conn, oid, mode, shown):
    lo = conn.lobject(oid, mode)
    assert lo.mode == shown
    assert lo.oid == oid
    assert lo.closed == (shown == "n")


@pytest.mark.parametrize("mode, shown", [
    ("", "wt"), ("r", "wt"), ("n", "wt"), ("rw", "wt"), ("t", "wt"),
    ("b", "wb"), ("rb", "wb"), ("nb", "wb"), ("rwb", "wb"),
])
def test_modes_new_object_opened_for_writing(conn, mode, shown):
    lo = conn.lobject(0, mode)
    assert lo.mode == shown
    assert not lo.closed
    assert lo.write(b"abc") == 3


@pytest.mark.parametrize("mode", [
    "tr", "br", "wr", "x", "rr", "rtb", "r+", "a", "n ", "wrt", "bw", "W",
])
def test_bad_modes(conn, mode):
    with pytest.raises(ValueError, match="bad mode for lobject: '%s'"
                       % mode.replace("+", r"\+")):
        conn.lobject(0, mode)


def test_mode_type(conn):
    with pytest.raises(TypeError):
        conn.lobject(0, b"r")
    with pytest.raises(TypeError):
        conn.lobject(0, 1)


def test_mode_n_does_not_open(conn, oid):
    lo = conn.lobject(oid, "n")
    assert lo.closed
    with pytest.raises(InterfaceError, match="lobject already closed"):
        lo.read()
    with pytest.raises(InterfaceError, match="lobject already closed"):
        lo.tell()
    lo.close()


def test_mode_n_nonexistent_oid_is_not_checked(conn):
    lo = conn.lobject(7777777, "n")
    assert lo.oid == 7777777
    assert lo.closed


def test_open_nonexistent(conn):
    with pytest.raises(OperationalError) as excinfo:
        conn.lobject(7777777)
    assert "large object 7777777 does not exist" in str(excinfo.value)
    assert excinfo.value.pgcode is None
    assert conn.info.transaction_status == ext.TRANSACTION_STATUS_INERROR


def test_oid_range(conn):
    with pytest.raises(OverflowError):
        conn.lobject(2 ** 32)
    with pytest.raises(OverflowError):
        conn.lobject(0, "r", 2 ** 40)
    with pytest.raises(TypeError):
        conn.lobject("1")
    # negative oids wrap around as in PostgreSQL: -1 is 4294967295
    with pytest.raises(OperationalError, match="4294967295 does not exist"):
        conn.lobject(-1)


def test_direct_constructor(conn, oid):
    lo = ext.lobject(conn, oid, "rb")
    assert lo.read() == b"hello world"
    lo = ext.lobject(conn)
    assert lo.mode == "wt" and lo.oid > 0
    with pytest.raises(TypeError):
        ext.lobject(None)
    with pytest.raises(TypeError):
        ext.lobject()


# --- factories --------------------------------------------------------------


class MyLobject(ext.lobject):
    def __init__(self, *args, **kwargs):
        self.init_args = args
        super().__init__(*args, **kwargs)


def test_factory(conn):
    lo = conn.lobject(lobject_factory=MyLobject)
    assert type(lo) is MyLobject
    assert lo.init_args == (conn, 0, "", 0)
    assert lo.mode == "wt"
    lo.extra = 42
    assert lo.extra == 42


def test_factory_args(conn, oid, tmp_path):
    lo = conn.lobject(oid, "rb", 0, None, MyLobject)
    assert lo.init_args == (conn, oid, "rb", 0)
    assert lo.read() == b"hello world"
    path = tmp_path / "f"
    path.write_bytes(b"x")
    lo = conn.lobject(0, "b", 0, str(path), MyLobject)
    assert lo.init_args == (conn, 0, "b", 0, str(path))


def test_factory_not_an_lobject(conn):
    with pytest.raises(TypeError, match="lobject factory must be subclass"):
        conn.lobject(lobject_factory=lambda *args: 1)


# --- reading and writing ----------------------------------------------------


def test_write_read_binary(conn):
    data = bytes(range(256)) * 10
    lo = conn.lobject(0, "wb")
    assert lo.write(data) == len(data)
    assert lo.tell() == len(data)
    assert lo.seek(0) == 0
    assert lo.read() == data
    lo.close()
    lo = conn.lobject(lo.oid, "rb")
    assert lo.read(3) == b"\x00\x01\x02"
    assert lo.read(0) == b""
    assert lo.tell() == 3
    assert lo.read(-1) == data[3:]
    assert lo.read() == b""


def test_read_sizes(conn, oid):
    lo = conn.lobject(oid, "rb")
    assert lo.read(5) == b"hello"
    assert lo.read(-5) == b" world"
    lo.seek(0)
    assert lo.read(2 ** 40) == b"hello world"    # no huge allocation
    lo.seek(6)
    assert lo.read(2 ** 31) == b"world"
    with pytest.raises(TypeError):
        lo.read(None)
    with pytest.raises(TypeError):
        lo.read("1")


def test_read_big(conn):
    data = os.urandom(3 * 1024 * 1024 + 17)
    lo = conn.lobject(0, "wb")
    assert lo.write(data) == len(data)
    lo.seek(0)
    assert lo.read() == data
    lo.seek(100)
    assert lo.read(2 * 1024 * 1024) == data[100:100 + 2 * 1024 * 1024]


def test_read_keyword(conn, oid):
    lo = conn.lobject(oid, "rb")
    assert lo.read(size=5) == b"hello"


def test_write_empty(conn):
    lo = conn.lobject()
    assert lo.write(b"") == 0
    assert lo.write("") == 0
    assert lo.tell() == 0


def test_write_str_in_binary_mode(conn):
    lo = conn.lobject(0, "wb")
    assert lo.write("h\u00e9") == 3
    lo.seek(0)
    assert lo.read() == b"h\xc3\xa9"


@pytest.mark.parametrize("data", [1, None, bytearray(b"x"), memoryview(b"x")])
def test_write_bad_type(conn, data):
    lo = conn.lobject()
    with pytest.raises(TypeError, match="lobject.write requires a string"):
        lo.write(data)


def test_text_mode(conn):
    lo = conn.lobject(0, "wt")
    assert lo.write("\u00e0bc") == 4
    assert lo.write(b"\xc3\xa8") == 2
    lo.close()
    lo = conn.lobject(lo.oid, "rt")
    assert lo.read() == "\u00e0bc\u00e8"
    lo.seek(0)
    # size counts bytes: half a character cannot be decoded
    with pytest.raises(UnicodeDecodeError):
        lo.read(1)
    lo.seek(0)
    assert lo.read(2) == "\u00e0"


def test_text_mode_default(conn, oid):
    lo = conn.lobject(oid)
    assert lo.read() == "hello world"


def test_text_mode_client_encoding(conn):
    conn.set_client_encoding("LATIN1")
    lo = conn.lobject(0, "wt")
    assert lo.write("\u00e0\u00e9") == 2
    with pytest.raises(UnicodeEncodeError):
        lo.write("\u20ac")
    lo.seek(0)
    assert lo.read() == "\u00e0\u00e9"
    lo = conn.lobject(lo.oid, "rb")
    assert lo.read() == b"\xe0\xe9"


def test_write_on_read_only(conn, oid):
    lo = conn.lobject(oid, "r")
    with pytest.raises(OperationalError, match="not opened for writing"):
        lo.write(b"x")


# --- position and size ------------------------------------------------------


def test_seek_tell(conn, oid):
    lo = conn.lobject(oid, "rb")
    assert lo.tell() == 0
    assert lo.seek(6) == 6
    assert lo.read(2) == b"wo"
    assert lo.seek(-3, 1) == 5
    assert lo.seek(0, 2) == 11
    assert lo.seek(-5, 2) == 6
    assert lo.tell() == 6
    assert lo.seek(offset=1, whence=0) == 1


def test_seek_bad_arguments(conn, oid):
    lo = conn.lobject(oid, "rb")
    with pytest.raises(TypeError):
        lo.seek()
    with pytest.raises(TypeError):
        lo.seek(1.5)
    with pytest.raises(TypeError):
        lo.seek(0, "x")
    with pytest.raises(OverflowError):
        lo.seek(2 ** 63)


def test_seek_bad_whence(conn, oid):
    lo = conn.lobject(oid, "rb")
    with pytest.raises(OperationalError, match="invalid whence"):
        lo.seek(0, 3)
    assert conn.info.transaction_status == ext.TRANSACTION_STATUS_INERROR


def test_truncate(conn, oid):
    lo = conn.lobject(oid, "rwb")
    assert lo.truncate(5) is None
    assert lo.read() == b"hello"
    lo.truncate(len=2)
    lo.seek(0)
    assert lo.read() == b"he"
    lo.truncate()
    lo.seek(0)
    assert lo.read() == b""


def test_truncate_extends_with_zeros(conn):
    lo = conn.lobject(0, "wb")
    lo.write(b"ab")
    lo.truncate(5)
    lo.seek(0)
    assert lo.read() == b"ab\x00\x00\x00"


def test_offsets_beyond_2gb(conn):
    lo = conn.lobject(0, "wb")
    lo.truncate(3 * GiB)
    assert lo.seek(0, 2) == 3 * GiB
    pos = 3 * GiB + 5
    assert lo.seek(pos) == pos
    assert lo.tell() == pos
    assert lo.write(b"xyz") == 3
    assert lo.tell() == pos + 3
    assert lo.seek(-3, 2) == pos
    assert lo.read() == b"xyz"
    assert lo.seek(2 * GiB + 1) == 2 * GiB + 1
    assert lo.read(4) == b"\x00" * 4
    lo.truncate(2 * GiB + 10)
    assert lo.seek(0, 2) == 2 * GiB + 10


# --- import and export ------------------------------------------------------


def test_import(conn, tmp_path):
    path = tmp_path / "in.bin"
    data = bytes(range(256)) * 4
    path.write_bytes(data)
    lo = conn.lobject(new_file=str(path), mode="b")
    assert lo.mode == "wb"
    assert not lo.closed
    assert lo.read() == data
    assert lo_exists(conn, lo.oid)


def test_import_path_like_and_new_oid(conn, tmp_path):
    path = tmp_path / "in.bin"
    path.write_bytes(b"data")
    lo = conn.lobject(0, "rb", 7654323, path)
    assert lo.oid == 7654323
    assert lo.read() == b"data"


def test_import_ignored_for_existing_oid(conn, oid, tmp_path):
    path = tmp_path / "in.bin"
    path.write_bytes(b"data")
    lo = conn.lobject(oid, "rb", new_file=str(path))
    assert lo.oid == oid
    assert lo.read() == b"hello world"


def test_import_missing_file(conn, tmp_path):
    with pytest.raises(OperationalError, match="could not open file"):
        conn.lobject(new_file=str(tmp_path / "missing"))
    with pytest.raises(TypeError):
        conn.lobject(new_file=3)


def test_export(conn, oid, tmp_path):
    lo = conn.lobject(oid, "rb")
    path = tmp_path / "out.bin"
    assert lo.export(str(path)) is None
    assert path.read_bytes() == b"hello world"
    lo.close()
    # export works on the oid, also when the object is closed
    path2 = tmp_path / "out2.bin"
    lo.export(file_name=pathlib.Path(path2))
    assert path2.read_bytes() == b"hello world"


def test_export_sees_uncommitted_writes(conn, tmp_path):
    lo = conn.lobject(0, "wb")
    lo.write(b"\x00\xffdata")
    path = tmp_path / "out.bin"
    lo.export(str(path))
    assert path.read_bytes() == b"\x00\xffdata"


def test_export_bad_path(conn, oid, tmp_path):
    lo = conn.lobject(oid, "rb")
    with pytest.raises(OperationalError, match="could not open file"):
        lo.export(str(tmp_path / "no" / "such" / "dir"))
    with pytest.raises(TypeError):
        lo.export(1)
    with pytest.raises(TypeError):
        lo.export()


def test_export_after_commit_begins_transaction(conn, oid, tmp_path):
    lo = conn.lobject(oid, "rb")
    conn.commit()
    path = tmp_path / "out.bin"
    lo.export(str(path))
    assert path.read_bytes() == b"hello world"
    assert conn.status == ext.STATUS_BEGIN


# --- close and unlink -------------------------------------------------------


def test_close(conn):
    lo = conn.lobject()
    assert lo.close() is None
    assert lo.closed
    lo.close()      # idempotent
    for call in (lo.read, lo.tell, lo.truncate, lambda: lo.write(b"x"),
                 lambda: lo.seek(0)):
        with pytest.raises(InterfaceError, match="lobject already closed"):
            call()
    assert lo.oid > 0
    assert lo.mode == "wt"


def test_closed_object_keeps_transaction_usable(conn):
    lo = conn.lobject()
    lo.close()
    lo2 = conn.lobject(lo.oid, "rwb")
    lo2.write(b"ok")
    conn.commit()
    lo3 = conn.lobject(lo.oid, "rb")
    assert lo3.read() == b"ok"
    lo3.unlink()
    conn.commit()


def test_unlink(conn, oid):
    lo = conn.lobject(oid, "rb")
    lo.unlink()
    assert lo.closed
    assert not lo_exists(conn, oid)
    with pytest.raises(OperationalError, match="does not exist"):
        lo.unlink()


def test_unlink_after_commit_begins_transaction(conn, oid):
    lo = conn.lobject(oid, "rb")
    conn.commit()
    lo.unlink()
    assert lo.closed
    assert conn.status == ext.STATUS_BEGIN
    conn.rollback()
    assert lo_exists(conn, oid)


def test_unlink_in_autocommit(conn, oid):
    lo = conn.lobject(oid, "rb")
    conn.commit()
    conn.autocommit = True
    lo.unlink()
    assert not lo_exists(conn, oid)


def test_del_open_object(conn, oid):
    lo = conn.lobject(oid, "rb")
    del lo
    gc.collect()
    lo = conn.lobject(oid, "rb")
    assert lo.read() == b"hello world"


# --- transactions -----------------------------------------------------------


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_invalid_after_transaction_end(conn, oid, end):
    lo = conn.lobject(oid, "rb")
    getattr(conn, end)()
    assert not lo.closed
    for call in (lo.read, lo.tell, lo.truncate, lambda: lo.write(b"x"),
                 lambda: lo.seek(0)):
        with pytest.raises(ProgrammingError,
                           match="lobject isn't valid anymore"):
            call()
    lo.close()      # nothing to close any more: no error
    assert lo.closed


def test_autocommit_refused(conn, oid):
    conn.autocommit = True
    with pytest.raises(ProgrammingError,
                       match="can't use a lobject outside of transactions"):
        conn.lobject()
    with pytest.raises(ProgrammingError, match="outside of transactions"):
        conn.lobject(oid)
    with pytest.raises(ProgrammingError, match="outside of transactions"):
        ext.lobject(conn, oid)
    # checked before the mode
    with pytest.raises(ProgrammingError, match="outside of transactions"):
        conn.lobject(0, "x")


def test_autocommit_after_open(conn, oid, tmp_path):
    lo = conn.lobject(oid, "rb")
    conn.commit()
    conn.autocommit = True
    with pytest.raises(ProgrammingError, match="outside of transactions"):
        lo.read()
    with pytest.raises(ProgrammingError, match="outside of transactions"):
        lo.export(str(tmp_path / "x"))


def test_autocommit_with_block_refused(conn):
    conn.autocommit = True
    with pytest.raises(ProgrammingError, match="outside of transactions"):
        with conn:
            conn.lobject()


def test_error_aborts_transaction(conn, oid):
    lo = conn.lobject(oid, "rb")
    conn.cursor().execute("select 1")
    assert lo.read(5) == b"hello"
    with pytest.raises(psycopg2.DataError):
        conn.cursor().execute("select 1/0")
    with pytest.raises(OperationalError, match="current transaction is aborted"):
        lo.read()
    lo.close()      # the descriptor goes away with the rollback
    conn.rollback()
    assert conn.lobject(oid, "rb").read() == b"hello world"


def test_tpc(conn):
    conn.tpc_begin(conn.xid(1, "lobject", "test"))
    lo = conn.lobject(0, "wb")
    lo.write(b"x")
    conn.tpc_prepare()
    with pytest.raises(ProgrammingError, match="prepared two-phase"):
        conn.lobject()
    conn.tpc_rollback()


# --- connection state -------------------------------------------------------


def test_closed_connection(dsn, tmp_path):
    conn = psycopg2.connect(dsn)
    lo = conn.lobject(0, "wb")
    conn.close()
    assert lo.closed
    with pytest.raises(InterfaceError, match="connection already closed"):
        conn.lobject()
    with pytest.raises(InterfaceError, match="connection already closed"):
        ext.lobject(conn)
    with pytest.raises(InterfaceError, match="lobject already closed"):
        lo.read()
    with pytest.raises(InterfaceError, match="connection already closed"):
        lo.unlink()
    with pytest.raises(InterfaceError, match="connection already closed"):
        lo.export(str(tmp_path / "x"))
    lo.close()


def test_lost_connection(dsn, conn):
    victim = psycopg2.connect(dsn)
    try:
        lo = victim.lobject(0, "wb")
        conn.autocommit = True
        conn.cursor().execute(
            "select pg_terminate_backend(%s)", (victim.info.backend_pid,))
        with pytest.raises(OperationalError):
            # the server may need a moment: retry until the loss is seen
            for _ in range(100):
                lo.write(b"x")
                lo.tell()
        assert victim.closed == 2
        assert lo.closed
        with pytest.raises(InterfaceError):
            victim.lobject()
    finally:
        victim.close()


def test_async_connection_refused(dsn):
    aconn = psycopg2.connect(dsn, async_=True)
    try:
        while True:
            state = aconn.poll()
            if state == ext.POLL_OK:
                break
            if state == ext.POLL_READ:
                select.select([aconn.fileno()], [], [], 10)
            else:
                select.select([], [aconn.fileno()], [], 10)
        with pytest.raises(ProgrammingError, match="asynchronous mode"):
            aconn.lobject()
    finally:
        aconn.close()


def test_green_mode_refused(conn):
    import psycopg2.extras
    ext.set_wait_callback(psycopg2.extras.wait_select)
    try:
        with pytest.raises(ProgrammingError,
                           match="used with an asynchronous callback"):
            conn.lobject()
    finally:
        ext.set_wait_callback(None)


# --- threads and memory -----------------------------------------------------


def test_threads_share_connection(conn):
    """Objects of one connection used from several threads at once."""
    los = [conn.lobject(0, "wb") for _ in range(4)]
    errors = []

    def work(i: int, lo) -> None:
        try:
            chunk = bytes([i]) * 1000
            for _ in range(50):
                lo.write(chunk)
            lo.seek(0)
            assert lo.read() == chunk * 50
        except Exception as e:      # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i, lo))
               for i, lo in enumerate(los)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


PY_SLACK = 16 * 1024
RSS_SLACK = 256 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def growths(work, n, measure):
    """Warm up with n calls of work(), then return the growths of
    measure() over two phases of n calls.  A leak grows both."""
    def phase():
        for _ in range(n):
            work()
        gc.collect()
        return measure()

    phase()
    m0 = measure()
    m1 = phase()
    m2 = phase()
    return m1 - m0, m2 - m1


def assert_flat(work, n):
    gc.collect()
    tracemalloc.start()
    try:
        py = growths(work, n, lambda: tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    c = growths(work, n, rss)
    assert min(py) <= PY_SLACK, "Python memory grows: %s" % (py,)
    assert min(c) <= RSS_SLACK, "RSS grows: %s" % (c,)


def test_memory_open_write_read_close(conn, oid):
    data = b"x" * 1000
    count = [0]

    def work():
        lo = conn.lobject(oid, "rwb")
        lo.write(data)
        lo.seek(0)
        assert lo.read(1000) == data
        assert lo.tell() == 1000
        lo.close()
        count[0] += 1
        if count[0] % 200 == 0:
            conn.rollback()

    assert_flat(work, 2000 // 3)


def test_memory_text_and_errors(conn, oid):
    def work():
        lo = conn.lobject(oid, "rt")
        assert lo.read() == "hello world"
        lo.close()
        try:
            lo.read()
        except InterfaceError:
            pass
        try:
            conn.lobject(oid, "bad")
        except ValueError:
            pass
        try:
            conn.lobject(7777777)
        except OperationalError:
            pass
        conn.rollback()

    assert_flat(work, 500)


# --- documentation ----------------------------------------------------------


def test_doc_page_examples(conn, tmp_path):
    import doctest
    path = os.path.join(os.path.dirname(__file__), "..", "doc", "lobject.rst")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    globs = {"conn": conn, "tmpdir": str(tmp_path), "os": os,
             "psycopg2": psycopg2}
    test = doctest.DocTestParser().get_doctest(
        text, globs, "lobject.rst", path, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    assert runner.tries > 40
