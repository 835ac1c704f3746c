#!/usr/bin/env python3
"""The workloads of scripts/bench.py written for psycopg 3 and asyncpg.

Run by bench.py --peers in a child process of the peers' virtual
environment (build/bench-peers-venv: psycopg[binary], the C build of
psycopg 3, and asyncpg):

    python scripts/bench_peers.py DRIVER WORKLOAD DSN SIZE

DRIVER is psycopg3 or asyncpg.  The same SQL, tables and sizes as
bench.py's; the time and the client CPU are measured around the workload
only, and the result is printed as one line of JSON ({"wall", "cpu",
"count"}, or {"error"}; {"error": "n/a"} for a workload the driver has no
equivalent of).  This is a measurement tool, not a test.
"""

import asyncio
import io
import json
import sys
import time
from typing import Any, Awaitable, Callable, Dict

# bench.py imports nothing but the standard library at module level
from bench import (copy_data, cpu_seconds, insert_rows,  # noqa: E402
                   ints_table, mixed_table)


CREATE_TARGET = ("CREATE TEMP TABLE bench_target "
                 "(id int8, label text, val float8)")


# --- psycopg 3 -------------------------------------------------------------

def psycopg3_workload(name: str, n: int, dsn: str) -> Callable[[], Any]:
    import psycopg

    conn = psycopg.connect(dsn)
    cur = conn.cursor()
    if name == "fetchall_int8":
        def run() -> Any:
            cur.execute("SELECT generate_series(1, %s)::int8", (n,))
            return len(cur.fetchall())
    elif name == "fetchall_mixed":
        def run() -> Any:
            cur.execute("SELECT * FROM " + mixed_table(n))
            return len(cur.fetchall())
    elif name == "named_cursor":
        def run() -> Any:
            with conn.cursor("bench_named") as named:
                named.execute("SELECT * FROM " + mixed_table(n))
                count = sum(1 for _ in named)
            return count
    elif name == "executemany":
        cur.execute(CREATE_TARGET)
        rows = insert_rows(n)

        def run() -> Any:
            cur.executemany("INSERT INTO bench_target VALUES (%s, %s, %s)",
                            rows)
            conn.commit()
            return n
    elif name == "copy_from":
        cur.execute(CREATE_TARGET)
        conn.commit()
        data = copy_data(n)

        def run() -> Any:
            with cur.copy("COPY bench_target FROM STDIN") as copy:
                copy.write(data)
            conn.commit()
            return n
    elif name == "copy_to":
        def run() -> Any:
            out = io.BytesIO()
            with cur.copy("COPY %s TO STDOUT" % (ints_table(n))) as copy:
                for block in copy:
                    out.write(block)
            return out.getvalue().count(b"\n")
    elif name == "select_1":
        def run() -> Any:
            for _ in range(n):
                cur.execute("SELECT 1")
                cur.fetchone()
            return n
    elif name == "connect":
        def run() -> Any:
            for _ in range(n):
                psycopg.connect(dsn).close()
            return n
    else:
        raise LookupError(name)
    return run


# --- asyncpg ---------------------------------------------------------------

def asyncpg_params(dsn: str) -> Dict[str, Any]:
    """asyncpg's connect() arguments from the libpq key=value DSN that
    bench.py gives (plain words, no quoting); asyncpg takes only URLs."""
    names = {"host": "host", "port": "port", "user": "user",
             "dbname": "database", "password": "password"}
    params: Dict[str, Any] = {}
    for item in dsn.split():
        key, _, value = item.partition("=")
        if key not in names:
            raise ValueError("unexpected DSN keyword for asyncpg: %s" % key)
        params[names[key]] = int(value) if key == "port" else value
    return params


def asyncpg_workload(name: str, n: int, dsn: str
                     ) -> Callable[[], Awaitable[Any]]:
    import asyncpg

    params = asyncpg_params(dsn)
    loop = asyncio.get_event_loop_policy().get_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(**params))
    if name == "fetchall_int8":
        async def run() -> Any:
            return len(await conn.fetch(
                "SELECT generate_series(1, $1::int8)::int8", n))
    elif name == "fetchall_mixed":
        async def run() -> Any:
            return len(await conn.fetch("SELECT * FROM " + mixed_table(n)))
    elif name == "named_cursor":
        async def run() -> Any:
            count = 0
            async with conn.transaction():
                async for _ in conn.cursor("SELECT * FROM "
                                           + mixed_table(n)):
                    count += 1
            return count
    elif name in ("executemany", "copy_from"):
        loop.run_until_complete(conn.execute(CREATE_TARGET))
        if name == "executemany":
            rows = insert_rows(n)

            async def run() -> Any:
                async with conn.transaction():
                    await conn.executemany(
                        "INSERT INTO bench_target VALUES ($1, $2, $3)", rows)
                return n
        else:
            source = io.BytesIO(copy_data(n).encode())

            async def run() -> Any:
                await conn.copy_to_table("bench_target", source=source)
                return n
    elif name == "copy_to":
        async def run() -> Any:
            out = io.BytesIO()
            await conn.copy_from_table(ints_table(n), output=out)
            return out.getvalue().count(b"\n")
    elif name == "select_1":
        async def run() -> Any:
            for _ in range(n):
                await conn.fetchval("SELECT 1")
            return n
    elif name == "connect":
        async def run() -> Any:
            for _ in range(n):
                c = await asyncpg.connect(**params)
                await c.close()
            return n
    else:
        raise LookupError(name)
    return run


def measure(driver: str, name: str, dsn: str, n: int) -> Dict[str, Any]:
    if driver == "psycopg3":
        run = psycopg3_workload(name, n, dsn)
        t0, c0 = time.perf_counter(), cpu_seconds()
        count = run()
    elif driver == "asyncpg":
        asyncio.set_event_loop(asyncio.new_event_loop())
        arun = asyncpg_workload(name, n, dsn)
        loop = asyncio.get_event_loop_policy().get_event_loop()
        t0, c0 = time.perf_counter(), cpu_seconds()
        count = loop.run_until_complete(arun())
    else:
        raise ValueError("unknown driver: %s" % driver)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return {"wall": wall, "cpu": cpu, "count": count}


def main() -> int:
    driver, name, dsn, size = sys.argv[1:5]
    try:
        result = measure(driver, name, dsn, int(size))
    except LookupError:
        result = {"error": "n/a"}
    except Exception as e:  # reported to the parent, which goes on
        lines = str(e).strip().splitlines()
        result = {"error": "%s: %s" % (type(e).__name__,
                                       lines[0] if lines else "")}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
