"""Memory stays flat when the driver is used thousands of times.

Each workload is run once to warm up (caches, allocator arenas), then for
two measured phases.  A leak grows memory in *both* phases, linearly with
the number of iterations; one-off growth (an allocator arena, a cache
filled late) shows in one phase only.  So a workload leaks when the
smaller of the two growths is over the slack.

Python allocations (including Python objects created by the C extension)
are measured with tracemalloc; C allocations (libpq results, malloc'ed
buffers) with the resident set size from /proc/self/statm, in a separate
run without tracemalloc, which has its own overhead.
"""

import datetime
import decimal
import gc
import io
import os
import tracemalloc
import uuid

import pytest

import psycopg2
import psycopg2.extensions
import psycopg2.extras

# Python memory: a leak of one small object per iteration is 30-60 bytes,
# times >= 1000 iterations: more than this.
PY_SLACK = 16 * 1024
# C memory: the smallest libpq result is a 2 KiB block; a leaked buffer
# of a few hundred bytes per iteration over >= 1000 iterations is also
# over this.
RSS_SLACK = 256 * 1024

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def python_memory() -> int:
    return tracemalloc.get_traced_memory()[0]


def growths(work, n, measure):
    """Run `work` n times to warm up, then twice n times; return the two
    growths of `measure()` over the measured phases."""
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
    """Fail if `work()` leaks Python or C memory."""
    gc.collect()
    tracemalloc.start()
    try:
        py = growths(work, n, python_memory)
    finally:
        tracemalloc.stop()
    c = growths(work, n, rss)
    assert min(py) <= PY_SLACK, \
        "Python memory grows by %s bytes per phase of %s calls" % (py, n)
    assert min(c) <= RSS_SLACK, \
        "process memory (RSS) grows by %s bytes per phase of %s calls" % (c, n)


# --- workloads --------------------------------------------------------------------

ALL_TYPES_SQL = """
SELECT 1::int2, 2::int4, 3000000000::int8, 1.5::float4, 2.25::float8,
    12345.6789::numeric, 'text value'::text, 'varchar'::varchar(20),
    'ch'::char(4), true, false, '\\x00ff10'::bytea, '2021-02-03'::date,
    '12:34:56.789'::time, '12:34:56+02'::timetz,
    '2021-02-03 04:05:06.789'::timestamp,
    '2021-02-03 04:05:06+01'::timestamptz, '1 day 02:03:04'::interval,
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
    '{"a": [1, 2, {"b": null}]}'::json, '{"c": "d"}'::jsonb,
    '{1,2,NULL,4}'::int4[], '{"x","y z",NULL}'::text[],
    '{{1.5,2.5},{3.5,4.5}}'::float8[], NULL::int4, NULL::text,
    26::oid, '127.0.0.1/32'::inet, 'infinity'::timestamp,
    '-infinity'::date, 'NaN'::numeric
"""

PARAMS = (
    42, 2 ** 40, -1.25, decimal.Decimal("3.14159"), "unicode \u20ac\u00e8",
    b"\x00\x01bytes", bytearray(b"ba"), memoryview(b"mv"), True, None,
    datetime.date(2020, 5, 17), datetime.time(13, 14, 15, 161718),
    datetime.datetime(2020, 5, 17, 13, 14, 15),
    datetime.datetime(2020, 5, 17, 13, 14, 15,
                      tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
    datetime.timedelta(days=3, seconds=5, microseconds=7),
    [1, 2, 3], ["a", None, "c"], [[1.5, 2.5], [3.5, 4.5]],
    psycopg2.extras.Json({"k": [1, "v", None]}), float("inf"),
)


@pytest.fixture
def mconn(dsn):
    """Connection for the memory workloads; notices go to a short list."""
    c = psycopg2.connect(dsn)
    yield c
    c.close()


def test_select_all_types(mconn):
    cur = mconn.cursor()

    def work():
        cur.execute(ALL_TYPES_SQL)
        row = cur.fetchone()
        assert len(row) == 31
        assert cur.description[0].name == "int2"
        mconn.rollback()

    assert_flat(work, 1000)


def test_adapt_all_params(mconn):
    cur = mconn.cursor()
    placeholders = ", ".join(["%s"] * len(PARAMS))
    psycopg2.extras.register_uuid(conn_or_curs=mconn)
    params = PARAMS + (uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),)
    placeholders += ", %s"
    query = "SELECT " + placeholders

    def work():
        assert cur.mogrify(query, params)
        cur.execute(query, params)
        assert len(cur.fetchone()) == len(params)
        cur.execute("SELECT %(a)s, %(b)s, %(a)s",
                    {"a": "named", "b": decimal.Decimal("1.5")})
        assert cur.fetchone() == ("named", decimal.Decimal("1.5"), "named")
        mconn.rollback()

    assert_flat(work, 600)


def test_fetch_many_rows(mconn):
    cur = mconn.cursor()

    def work():
        cur.execute("SELECT i, i::text, i * 1.5, NULL, i::numeric "
                    "FROM generate_series(1, 500) i")
        assert len(cur.fetchmany(100)) == 100
        assert cur.fetchone()[0] == 101
        assert len(cur.fetchall()) == 399
        cur.scroll(0, "absolute")
        assert sum(1 for _ in cur) == 500

    assert_flat(work, 120)


def test_dict_cursors(mconn):
    dcur = mconn.cursor(cursor_factory=psycopg2.extras.DictCursor)
    rcur = mconn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
    ncur = mconn.cursor(cursor_factory=psycopg2.extras.NamedTupleCursor)

    def work():
        for cur in (dcur, rcur, ncur):
            cur.execute("SELECT i AS a, 'x' || i AS b "
                        "FROM generate_series(1, 20) i")
            assert len(cur.fetchall()) == 20

    assert_flat(work, 300)


def test_errors(mconn):
    cur = mconn.cursor()

    def work():
        with pytest.raises(psycopg2.DataError) as e:
            cur.execute("SELECT 1 / %s", (0,))
        assert e.value.pgcode == "22012"
        assert e.value.diag.message_primary
        assert e.value.pgerror
        assert e.value.cursor is cur
        mconn.rollback()
        with pytest.raises(psycopg2.ProgrammingError):
            cur.execute("SELEC nothing")
        mconn.rollback()
        with pytest.raises(psycopg2.ProgrammingError):
            cur.execute("SELECT %s", (object(),))
        with pytest.raises(TypeError):
            cur.execute("SELECT %s", (1, 2))
        with pytest.raises(psycopg2.IntegrityError):
            cur.execute("DO $$ BEGIN RAISE unique_violation; END $$")
        mconn.rollback()

    assert_flat(work, 1000)


def test_notices(mconn):
    cur = mconn.cursor()
    mconn.autocommit = True

    def work():
        cur.execute("DO $$ BEGIN RAISE NOTICE 'memory'; END $$")
        assert mconn.notices
        # psycopg2 keeps at most the last 50
        assert len(mconn.notices) <= 50

    assert_flat(work, 1000)


def test_copy_in_out(mconn):
    cur = mconn.cursor()
    cur.execute("CREATE TEMP TABLE mem_copy (a int, b text, c float8)")
    mconn.commit()
    data = "".join("%d\tline %d\t%d.5\n" % (i, i, i) for i in range(100))

    def work():
        cur.execute("TRUNCATE mem_copy")
        cur.copy_from(io.StringIO(data), "mem_copy")
        assert cur.rowcount == 100
        out = io.StringIO()
        cur.copy_to(out, "mem_copy")
        assert out.getvalue() == data
        out = io.BytesIO()
        cur.copy_expert("COPY (SELECT a, b FROM mem_copy) TO STDOUT "
                        "WITH CSV HEADER", out)
        assert out.getvalue().startswith(b"a,b\n0,line 0\n")
        cur.copy_expert("COPY mem_copy (a, b) FROM STDIN WITH CSV",
                        io.StringIO("1,x\n2,y\n"))
        mconn.commit()

    assert_flat(work, 300)


def test_copy_errors(mconn):
    cur = mconn.cursor()
    cur.execute("CREATE TEMP TABLE mem_copy_err (a int)")
    mconn.commit()

    def work():
        with pytest.raises(psycopg2.DataError):
            cur.copy_from(io.StringIO("1\nnot a number\n"), "mem_copy_err")
        mconn.rollback()

    assert_flat(work, 300)


def test_named_cursors(mconn):
    def work():
        cur = mconn.cursor("mem_named")
        cur.itersize = 50
        cur.execute("SELECT i, repeat('x', i % 30) FROM "
                    "generate_series(1, 300) i")
        assert len(cur.fetchmany(10)) == 10
        assert cur.fetchone()[0] == 11
        assert sum(1 for _ in cur) == 289
        cur.close()
        with mconn.cursor("mem_named2", withhold=True) as wcur:
            wcur.execute("SELECT generate_series(1, 20)")
            mconn.commit()
            assert len(wcur.fetchall()) == 20
        mconn.rollback()

    assert_flat(work, 300)


def test_executemany(mconn):
    cur = mconn.cursor()
    cur.execute("CREATE TEMP TABLE mem_many (a int, b text, c date)")
    mconn.commit()
    rows = [(i, "row %d" % i, datetime.date(2020, 1, 1 + i % 28))
            for i in range(20)]

    def work():
        cur.executemany("INSERT INTO mem_many VALUES (%s, %s, %s)", rows)
        assert cur.rowcount == 20
        psycopg2.extras.execute_values(
            cur, "INSERT INTO mem_many VALUES %s", rows, page_size=7)
        psycopg2.extras.execute_batch(
            cur, "INSERT INTO mem_many VALUES (%s, %s, %s)", rows,
            page_size=6)
        mconn.rollback()

    assert_flat(work, 200)


def test_connect_close(dsn):
    def work():
        c = psycopg2.connect(dsn, application_name="memory test")
        c.cursor().execute("SELECT 1")
        c.close()
        c = psycopg2.connect(dsn)
        del c  # closed by deallocation

    assert_flat(work, 150)


def test_connect_errors():
    def work():
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect("host=127.0.0.1 port=1 dbname=x")
        with pytest.raises(psycopg2.ProgrammingError):
            psycopg2.connect("not a dsn")

    assert_flat(work, 500)


def test_typecasters(mconn):
    cur = mconn.cursor()

    def work():
        t = psycopg2.extensions.new_type((25,), "MEMTEXT",
                                         lambda v, c: v and v.upper())
        psycopg2.extensions.register_type(t, cur)
        cur.execute("SELECT 'abc'::text, '{a,b}'::text[]")
        assert cur.fetchone()[0] == "ABC"
        a = psycopg2.extensions.new_array_type((1009,), "MEMTEXTARR", t)
        psycopg2.extensions.register_type(a, cur)
        cur.execute("SELECT '{a,b}'::text[]")
        assert cur.fetchone() == (["A", "B"],)
        mconn.rollback()

    assert_flat(work, 1000)
