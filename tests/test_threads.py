"""Thread safety and concurrency (psycopg2 threadsafety level 2).

Concurrency is proven from the server side (a barrier that only opens when
all the backends are running a query at the same moment), never by
measuring time.
"""

import socket
import threading
import uuid

import pytest

import psycopg2
import psycopg2.errors
import psycopg2.extensions

NTHREADS = 8

# A barrier inside the server: each backend announces its arrival by taking
# a shared advisory lock on `key` (held until its session ends), then waits
# until `n` backends hold it.  No backend leaves before all have arrived, so
# when it opens all `n` queries are running at the same moment.  Gives up
# (raising) after about 60 s so that a driver that serialises the queries
# fails the test instead of hanging it.
BARRIER_SQL = """
CREATE OR REPLACE FUNCTION pg_temp.thread_barrier(n int, key bigint)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    seen int;
BEGIN
    PERFORM pg_advisory_lock_shared(key);
    FOR i IN 1..6000 LOOP
        SELECT count(*) INTO seen FROM pg_locks
            WHERE locktype = 'advisory' AND granted
            AND classid = 0 AND objid = key AND objsubid = 1;
        IF seen >= n THEN
            RETURN seen;
        END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RAISE EXCEPTION 'barrier: only % of % backends arrived', seen, n;
END
$$
"""


def run_threads(target, n, *args):
    """Run `target(i, *args)` in `n` threads; re-raise the first error."""
    errors = []

    def wrapper(i):
        try:
            target(i, *args)
        except BaseException as e:  # noqa: B902 - reported to the test
            errors.append(e)

    threads = [threading.Thread(target=wrapper, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "thread hung"
    if errors:
        raise errors[0]


@pytest.mark.parametrize("autocommit", [False, True])
def test_shared_connection_own_cursors(conn, autocommit):
    conn.autocommit = autocommit

    def work(i):
        for j in range(50):
            cur = conn.cursor()
            cur.execute("SELECT %s, %s, sum(x) FROM generate_series(1, %s) x",
                        (i, "t%d-%d" % (i, j), 100 + j))
            assert cur.fetchall() == [(i, "t%d-%d" % (i, j),
                                       (100 + j) * (101 + j) // 2)]
            cur.close()

    run_threads(work, NTHREADS)
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)


def test_shared_connection_mixed_work(conn):
    cur = conn.cursor()
    cur.execute("CREATE TEMP TABLE thr_t (tid int, n int, v text)")
    conn.commit()

    def work(i):
        cur = conn.cursor()
        cur.executemany("INSERT INTO thr_t VALUES (%s, %s, %s)",
                        [(i, n, "x" * n) for n in range(20)])
        cur.execute("SELECT count(*), sum(n) FROM thr_t WHERE tid = %s", (i,))
        assert cur.fetchone() == (20, 190)
        cur.execute("SELECT v FROM thr_t WHERE tid = %s ORDER BY n", (i,))
        assert [r[0] for r in cur] == ["x" * n for n in range(20)]

    run_threads(work, NTHREADS)
    conn.commit()
    cur.execute("SELECT count(*) FROM thr_t")
    assert cur.fetchone() == (20 * NTHREADS,)


def test_connections_run_concurrently(dsn):
    key = uuid.uuid4().int % 2 ** 31
    conns = [psycopg2.connect(dsn) for _ in range(NTHREADS)]
    try:
        for c in conns:
            c.autocommit = True
            c.cursor().execute(BARRIER_SQL)
        results = [None] * NTHREADS

        def work(i):
            cur = conns[i].cursor()
            cur.execute("SELECT pg_temp.thread_barrier(%s, %s)",
                        (NTHREADS, key))
            results[i] = cur.fetchone()[0]

        # If the driver held the GIL (or a global lock) during a query, only
        # one backend at a time would be active and the barrier would raise.
        run_threads(work, NTHREADS)
        assert all(r >= NTHREADS for r in results)
    finally:
        for c in conns:
            c.close()


def test_connect_close_in_threads(dsn):
    def work(i):
        for j in range(15):
            c = psycopg2.connect(dsn)
            try:
                cur = c.cursor()
                cur.execute("SELECT %s * %s", (i, j))
                assert cur.fetchone() == (i * j,)
            finally:
                c.close()
            assert c.closed

    run_threads(work, NTHREADS)


def test_cancel_from_another_thread(conn, dsn):
    pid = conn.get_backend_pid()
    outcome = {}

    def sleeper():
        cur = conn.cursor()
        try:
            cur.execute("SELECT pg_sleep(60)")
            outcome["result"] = "finished"
        except BaseException as e:  # noqa: B902 - checked below
            outcome["error"] = e

    t = threading.Thread(target=sleeper)
    t.start()
    try:
        wait_backend_active(dsn, pid, "pg_sleep(60)")
        # the sleeping thread holds the connection: cancel() must not wait
        # for it
        conn.cancel()
    finally:
        t.join(120)
    assert not t.is_alive()
    assert "result" not in outcome
    err = outcome["error"]
    assert isinstance(err, psycopg2.extensions.QueryCanceledError)
    assert isinstance(err, psycopg2.errors.QueryCanceled)
    assert err.pgcode == "57014"
    conn.rollback()
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)


def test_cancel_idle_connection_is_harmless(conn):
    conn.cancel()
    cur = conn.cursor()
    cur.execute("SELECT 2")
    assert cur.fetchone() == (2,)


def test_connect_releases_gil(conn):
    """A thread blocked in connect() must not stop the other threads."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(60)
    port = listener.getsockname()[1]
    outcome = {}

    def connector():
        try:
            psycopg2.connect(host="127.0.0.1", port=port, dbname="x",
                             user="x", connect_timeout=90)
            outcome["result"] = "connected"
        except BaseException as e:  # noqa: B902 - checked below
            outcome["error"] = e

    t = threading.Thread(target=connector)
    t.start()
    peer = None
    try:
        # the silent "server" never answers the startup packet: the
        # connector stays blocked until we hang up
        peer, _ = listener.accept()
        peer.settimeout(60)
        assert peer.recv(8)  # the startup packet arrived
        cur = conn.cursor()
        cur.execute("SELECT 42")
        assert cur.fetchone() == (42,)
        assert t.is_alive(), "connect() ended before the server hung up"
    finally:
        if peer is not None:
            peer.close()
        listener.close()
        t.join(120)
    assert not t.is_alive()
    assert isinstance(outcome.get("error"), psycopg2.OperationalError)


def test_notices_from_threads(conn):
    """Notices produced while other threads use the connection are kept."""
    conn.autocommit = True

    def work(i):
        cur = conn.cursor()
        for j in range(5):
            cur.execute("DO $$ BEGIN RAISE NOTICE 'thread %% msg %%', %s, %s; "
                        "END $$" % (i, j))

    run_threads(work, 4)
    msgs = [m for m in conn.notices if "thread" in m]
    # psycopg2 keeps the last 50 notices; we produced 20
    assert len(msgs) == 20
    for i in range(4):
        for j in range(5):
            assert any("thread %d msg %d" % (i, j) in m for m in msgs)


@pytest.mark.parametrize("work", ["execute", "executemany", "mixed",
                                  "commit_only"])
def test_concurrent_commits_send_no_stray_commands(conn, work):
    """Threads committing one connection: one BEGIN and one COMMIT per
    transaction, as psycopg2 (no "there is no transaction in progress" /
    "already a transaction in progress" WARNINGs)."""
    cur = conn.cursor()
    cur.execute("CREATE TEMP TABLE thr_c (tid int, n int)")
    conn.commit()
    del conn.notices[:]

    def worker(i):
        cur = conn.cursor()
        for n in range(60):
            if work == "execute":
                cur.execute("INSERT INTO thr_c VALUES (%s, %s)", (i, n))
            elif work == "executemany":
                cur.executemany("INSERT INTO thr_c VALUES (%s, %s)",
                                [(i, n), (i, -n)])
            elif work == "mixed":
                cur.execute("SELECT %s", (n,))
            if work == "mixed" and n % 2:
                conn.rollback()
            else:
                conn.commit()

    run_threads(worker, 4)
    conn.commit()
    assert conn.notices == []
    assert conn.status == psycopg2.extensions.STATUS_READY
    cur.execute("SELECT count(*) FROM thr_c")
    rows = {"execute": 240, "executemany": 480}.get(work, 0)
    assert cur.fetchone() == (rows,)


def wait_backend_active(dsn, pid, query_part, attempts=3000):
    """Poll pg_stat_activity until backend `pid` runs `query_part`."""
    mon = psycopg2.connect(dsn)
    try:
        mon.autocommit = True
        cur = mon.cursor()
        for _ in range(attempts):
            cur.execute("SELECT state, query FROM pg_stat_activity "
                        "WHERE pid = %s", (pid,))
            row = cur.fetchone()
            if row and row[0] == "active" and query_part in row[1]:
                return
            cur.execute("SELECT pg_sleep(0.01)")
        raise AssertionError("backend %s never ran %r" % (pid, query_part))
    finally:
        mon.close()
