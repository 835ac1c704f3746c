#!/usr/bin/env python3
"""Compare the speed of psycopg2-yugabytedb with psycopg2-binary 2.9.10.

    python scripts/bench.py [--quick] [--repeats N] [--dsn DSN]
                            [--only NAME[,NAME...]] [--instructions]
                            [--reference-python PYTHON]

Run it with the interpreter where psycopg2-yugabytedb is installed (for
example .venv/bin/python after scripts/test.sh).  psycopg2-binary 2.9.10 is
installed into a virtual environment of its own (build/bench-venv, created
on the first run).  Each workload runs in a fresh process per driver,
alternating between the two drivers, `--repeats` times; the table shows the
medians of the wall time and of the CPU time of the client process (user +
system, measured around the workload only) and the ratios ours/theirs
(below 1: ours is faster).

With --instructions, each workload instead runs once per driver under
valgrind's callgrind, counting only the instructions executed inside the
timed section (a small C helper, built at run time, switches the collection
on and off around it); the counts do not depend on the machine's load, so
differences of a few percent are visible.  The sizes are the --quick ones
unless --full is given.  Caveat: callgrind counts a `rep movsb` (glibc's
memcpy of large blocks, e.g. libpq copying a 64 KiB COPY block) once per
byte, while it costs about as much as the vector loop used for smaller
blocks: for copy_from compare the CPU times too.

With --peers, psycopg 3 (its C build) and asyncpg run the same workloads
too (scripts/bench_peers.py, in build/bench-peers-venv), interleaved with
the two others, and a second table gives every driver's ratio to
psycopg2-binary.

A PostgreSQL server is started for the run (and removed afterwards) unless
--dsn is given.  This is a measurement tool, not a test: nothing here
asserts timings.
"""

import argparse
import io
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_VENV = os.path.join(ROOT, "build", "bench-venv")
REFERENCE = "psycopg2-binary==2.9.10"
# --peers: psycopg 3 (its C build) and asyncpg, run by scripts/bench_peers.py
PEERS_VENV = os.path.join(ROOT, "build", "bench-peers-venv")
PEERS = ("psycopg[binary]==3.3.9", "asyncpg==0.32.0")
PEER_DRIVERS = ("psycopg3", "asyncpg")
CHILD_TIMEOUT = 900

logger = logging.getLogger("bench")

# name -> (full size, quick size, description)
WORKLOADS: Dict[str, Tuple[int, int, str]] = {
    "fetchall_int8": (1_000_000, 100_000, "fetchall, int8 rows"),
    "fetchall_mixed": (300_000, 30_000, "fetchall, 9 mixed-type columns"),
    "named_cursor": (300_000, 30_000, "named cursor iteration, mixed"),
    "executemany": (20_000, 2_000, "executemany INSERT, 3 params"),
    "copy_from": (1_000_000, 100_000, "copy_from, 3 columns"),
    "copy_to": (1_000_000, 100_000, "copy_to, 3 columns"),
    "select_1": (20_000, 2_000, "SELECT 1 round trips"),
    "execute_values": (100_000, 10_000, "extras.execute_values INSERT"),
    "execute_batch": (20_000, 2_000, "extras.execute_batch INSERT"),
    "connect": (500, 100, "connect and close"),
}

# the workloads measured by --instructions unless --only says otherwise
INSTRUCTION_WORKLOADS = ("fetchall_int8", "fetchall_mixed", "named_cursor",
                         "copy_from", "connect")

CALLGRIND_HELPER_C = r"""
#include <valgrind/callgrind.h>
void bench_collect_on(void) {
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_TOGGLE_COLLECT;
}
void bench_collect_off(void) {
    CALLGRIND_TOGGLE_COLLECT;
    CALLGRIND_STOP_INSTRUMENTATION;
}
"""


# --- child side: runs inside the interpreter of the driver under test ------

def mixed_table(n: int) -> str:
    return "bench_mixed_%d" % n


def ints_table(n: int) -> str:
    return "bench_ints_%d" % n


def setup_sql(n_mixed: int, n_ints: int) -> List[str]:
    """Statements creating the tables read by the workloads (idempotent)."""
    return [
        """CREATE TABLE IF NOT EXISTS %s AS
        SELECT i::int4 AS i4, i::int8 * 1000003 AS i8, i * 0.5::float8 AS f8,
            (i / 7.0)::numeric(12, 4) AS num,
            CASE WHEN i %% 7 = 0 THEN NULL ELSE 'text value ' || i END AS txt,
            i %% 2 = 0 AS flag, date '2000-01-01' + i %% 10000 AS day,
            CASE WHEN i %% 11 = 0 THEN NULL
                ELSE timestamptz '2020-01-01 00:00+00' + i * interval '1 s'
            END AS ts,
            CASE WHEN i %% 5 = 0 THEN NULL
                ELSE decode(md5(i::text), 'hex') END AS bin
        FROM generate_series(1, %d) AS i""" % (mixed_table(n_mixed), n_mixed),
        """CREATE TABLE IF NOT EXISTS %s AS
        SELECT i AS id, 'row number ' || i AS label, i / 3.0::float8 AS val
        FROM generate_series(1, %d) AS i""" % (ints_table(n_ints), n_ints),
        "VACUUM ANALYZE %s" % mixed_table(n_mixed),
        "VACUUM ANALYZE %s" % ints_table(n_ints),
    ]


def insert_rows(n: int) -> List[Tuple[int, str, float]]:
    """The rows the INSERT workloads write."""
    return [(i, "label %d" % i, i * 0.25) for i in range(n)]


def copy_data(n: int) -> str:
    """The text the copy_from workload sends (the same rows)."""
    return "".join("%d\tlabel %d\t%r\n" % (i, i, i * 0.25)
                   for i in range(n))


def _temp_target(cur: Any) -> None:
    cur.execute("CREATE TEMP TABLE bench_target "
                "(id int8, label text, val float8)")


def prepare_workload(name: str, n: int, conn: Any
                     ) -> Callable[[], Any]:
    """Set up `name` outside the timed section; return the timed call."""
    import psycopg2.extras

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
            named = conn.cursor("bench_named")
            named.execute("SELECT * FROM " + mixed_table(n))
            count = sum(1 for _ in named)
            named.close()
            return count
    elif name in ("executemany", "execute_values", "execute_batch"):
        _temp_target(cur)
        rows = insert_rows(n)
        sql = "INSERT INTO bench_target VALUES (%s, %s, %s)"

        def run() -> Any:
            if name == "executemany":
                cur.executemany(sql, rows)
            elif name == "execute_batch":
                psycopg2.extras.execute_batch(cur, sql, rows)
            else:
                psycopg2.extras.execute_values(
                    cur, "INSERT INTO bench_target VALUES %s", rows)
            conn.commit()
            return n
    elif name == "copy_from":
        _temp_target(cur)
        conn.commit()
        data = copy_data(n)
        # built outside the timed section: StringIO's own conversion of
        # the text costs more than the COPY itself and is the same for both
        # drivers
        source = io.StringIO(data)

        def run() -> Any:
            cur.copy_from(source, "bench_target")
            conn.commit()
            return cur.rowcount
    elif name == "copy_to":
        def run() -> Any:
            out = io.StringIO()
            cur.copy_to(out, ints_table(n))
            return out.getvalue().count("\n")
    elif name == "connect":
        dsn = conn.dsn
        connect = psycopg2.connect

        def run() -> Any:
            for _ in range(n):
                connect(dsn).close()
            return n
    elif name == "select_1":
        def run() -> Any:
            for _ in range(n):
                cur.execute("SELECT 1")
                cur.fetchone()
            return n
    else:
        raise ValueError("unknown workload: %s" % name)
    return run


def check_result(name: str, n: int, conn: Any, count: Any) -> None:
    """Make sure the workload did its job (outside the timed section)."""
    if name in ("executemany", "execute_values", "execute_batch",
                "copy_from"):
        cur = conn.cursor()
        cur.execute("SELECT count(*), sum(id) FROM bench_target")
        count, total = cur.fetchone()
        if total != n * (n - 1) // 2:
            raise RuntimeError("wrong data inserted: sum(id) = %s" % total)
    if count != n:
        raise RuntimeError("wrong result: %s rows instead of %d" % (count, n))


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def child_main(args: argparse.Namespace) -> int:
    """Run one workload once and print the result as JSON."""
    try:
        import psycopg2
        if args.child == "info":
            from importlib import metadata
            dists = []
            for dist in ("psycopg2-yugabytedb", "psycopg2-binary",
                         "psycopg2"):
                try:
                    dists.append("%s %s" % (dist, metadata.version(dist)))
                except metadata.PackageNotFoundError:
                    pass
            result: Dict[str, Any] = {
                "version": psycopg2.__version__, "file": psycopg2.__file__,
                "dists": dists}
        elif args.child == "setup":
            conn = psycopg2.connect(args.dsn)
            conn.autocommit = True
            sizes = json.loads(args.sizes)
            for stmt in setup_sql(sizes["mixed"], sizes["ints"]):
                conn.cursor().execute(stmt)
            conn.close()
            result = {"ok": True}
        else:
            conn = psycopg2.connect(args.dsn)
            run = prepare_workload(args.child, args.size, conn)
            helper = os.environ.get("BENCH_CALLGRIND_HELPER")
            if helper:
                import ctypes
                marks = ctypes.CDLL(helper)
                marks.bench_collect_on()
            t0, c0 = time.perf_counter(), cpu_seconds()
            count = run()
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            if helper:
                marks.bench_collect_off()
            check_result(args.child, args.size, conn, count)
            conn.close()
            result = {"wall": wall, "cpu": cpu, "count": count}
    except Exception as e:  # reported to the parent, which goes on
        result = {"error": "%s: %s" % (type(e).__name__,
                                       str(e).strip().splitlines()[0]
                                       if str(e).strip() else "")}
    print(json.dumps(result))
    return 0


# --- parent side -----------------------------------------------------------

# Variables that can make an interpreter import our build instead of its
# own packages: with a development build on PYTHONPATH the reference child
# would otherwise measure our driver too.
PYTHON_PATH_VARS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
                    "PYTHONUSERBASE")


def reference_env() -> Dict[str, str]:
    """Environment for the psycopg2-binary child: none of our paths."""
    env = {k: v for k, v in os.environ.items() if k not in PYTHON_PATH_VARS}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def run_child(python: str, mode: str, dsn: str, size: int = 0,
              sizes: str = "{}", reference: bool = False,
              prefix: Optional[List[str]] = None,
              extra_env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    cmd = [python, os.path.abspath(__file__), "--child", mode, "--dsn", dsn,
           "--size", str(size), "--sizes", sizes]
    cmd = (prefix or []) + cmd
    env = reference_env() if reference else dict(os.environ)
    env.update(extra_env or {})
    try:
        res = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=CHILD_TIMEOUT,
                             cwd="/", env=env)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after %d s" % CHILD_TIMEOUT}
    lines = res.stdout.decode(errors="replace").strip().splitlines()
    if res.returncode != 0 or not lines:
        err = res.stderr.decode(errors="replace").strip().splitlines()
        return {"error": "process exited with %d: %s" % (
            res.returncode, err[-1] if err else "no output")}
    try:
        return json.loads(lines[-1])
    except ValueError:
        return {"error": "unexpected output: %s" % lines[-1][:200]}


def ensure_reference_venv(python: str) -> str:
    """Python of the venv with psycopg2-binary 2.9.10, created if needed."""
    vpy = os.path.join(BENCH_VENV, "bin", "python")
    check = [vpy, "-c", "import psycopg2, sys; "
             "sys.exit(not psycopg2.__version__.startswith('2.9.10 '))"]
    if os.path.exists(vpy) and subprocess.run(
            check, stderr=subprocess.DEVNULL, cwd="/",
            env=reference_env()).returncode == 0:
        return vpy
    logger.info("creating %s with %s", BENCH_VENV, REFERENCE)
    subprocess.run([python, "-m", "venv", BENCH_VENV], check=True)
    subprocess.run([vpy, "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", REFERENCE], check=True,
                   env=reference_env())
    return vpy


def ensure_peers_venv(python: str) -> str:
    """Python of the venv with psycopg 3 and asyncpg, created if needed."""
    vpy = os.path.join(PEERS_VENV, "bin", "python")
    check = [vpy, "-c", "import psycopg, asyncpg"]
    if os.path.exists(vpy) and subprocess.run(
            check, stderr=subprocess.DEVNULL, cwd="/",
            env=reference_env()).returncode == 0:
        return vpy
    logger.info("creating %s with %s", PEERS_VENV, ", ".join(PEERS))
    subprocess.run([python, "-m", "venv", PEERS_VENV], check=True)
    subprocess.run([vpy, "-m", "pip", "install", "-q",
                    "--disable-pip-version-check"] + list(PEERS),
                   check=True, env=reference_env())
    return vpy


def run_peer(python: str, driver: str, name: str, dsn: str,
             size: int) -> Dict[str, Any]:
    """One workload with psycopg 3 or asyncpg (scripts/bench_peers.py)."""
    script = os.path.join(ROOT, "scripts", "bench_peers.py")
    try:
        res = subprocess.run([python, script, driver, name, dsn, str(size)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=CHILD_TIMEOUT, cwd="/",
                             env=reference_env())
    except subprocess.TimeoutExpired:
        return {"error": "timed out after %d s" % CHILD_TIMEOUT}
    lines = res.stdout.decode(errors="replace").strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        err = res.stderr.decode(errors="replace").strip().splitlines()
        return {"error": "process exited with %d: %s" % (
            res.returncode, err[-1] if err else "no output")}


def print_peers_table(rows: List[Tuple[str, int,
                                       Dict[str, List[Dict[str, Any]]]]]
                      ) -> None:
    """Every driver's ratio to psycopg2-binary, client CPU [wall]."""
    drivers = ("ours",) + PEER_DRIVERS
    head = "%-15s %9s | " % ("workload", "size") + " | ".join(
        "%-15s" % d for d in drivers)
    print()
    print("ratio to psycopg2-binary: client CPU [wall] (medians; "
          "below 1: faster; - : no such workload)")
    print(head)
    print("-" * len(head))
    for name, size, res in rows:
        tc = median_of(res["theirs"], "cpu")
        tw = median_of(res["theirs"], "wall")
        cells = []
        for d in drivers:
            c = fmt_ratio(median_of(res.get(d, []), "cpu"), tc).strip()
            w = fmt_ratio(median_of(res.get(d, []), "wall"), tw).strip()
            cells.append("%-15s" % ("%s [%s]" % (c, w) if c != "-" else "-"))
        print("%-15s %9d | " % (name, size) + " | ".join(cells))


def fmt_seconds(v: Optional[float]) -> str:
    return "%9.3f" % v if v is not None else "%9s" % "-"


def fmt_ratio(a: Optional[float], b: Optional[float]) -> str:
    if a is None or b is None or b <= 0:
        return "%6s" % "-"
    return "%6.2f" % (a / b)


def median_of(results: List[Dict[str, Any]], key: str) -> Optional[float]:
    values = [r[key] for r in results if "error" not in r]
    return statistics.median(values) if values else None


def print_table(rows: List[Tuple[str, int, Dict[str, List[Dict[str, Any]]]]]
                ) -> None:
    head = ("%-15s %9s | %9s %9s %6s | %9s %9s %6s"
            % ("workload", "size", "ours s", "theirs s", "ratio",
               "ours cpu", "thr cpu", "ratio"))
    print()
    print("wall = elapsed seconds, cpu = client process CPU seconds "
          "(medians); ratio = ours / theirs")
    print(head)
    print("-" * len(head))
    errors = []
    for name, size, res in rows:
        ow, tw = median_of(res["ours"], "wall"), median_of(res["theirs"],
                                                           "wall")
        oc, tc = median_of(res["ours"], "cpu"), median_of(res["theirs"],
                                                          "cpu")
        print("%-15s %9d | %s %s %s | %s %s %s" % (
            name, size, fmt_seconds(ow), fmt_seconds(tw), fmt_ratio(ow, tw),
            fmt_seconds(oc), fmt_seconds(tc), fmt_ratio(oc, tc)))
        for driver in ("ours", "theirs"):
            errs = sorted({r["error"] for r in res[driver] if "error" in r})
            errors.extend("%s (%s): %s" % (name, driver, e) for e in errs)
    if errors:
        print()
        print("errors:")
        for e in errors:
            print("  " + e)


def build_callgrind_helper(workdir: str) -> str:
    """Compile the collection switch used by --instructions; its path."""
    src = os.path.join(workdir, "cgmarks.c")
    lib = os.path.join(workdir, "cgmarks.so")
    with open(src, "w") as f:
        f.write(CALLGRIND_HELPER_C)
    cc = os.environ.get("CC", "cc")
    res = subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", lib, src],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        sys.exit("cannot build the callgrind helper (is valgrind's "
                 "valgrind/callgrind.h installed?):\n%s"
                 % res.stdout.decode(errors="replace"))
    return lib


def callgrind_total(path: str) -> Optional[int]:
    """The instruction total recorded in a callgrind output file."""
    found = {}
    with open(path) as f:
        for line in f:
            if line.startswith(("totals:", "summary:")):
                key, value = line.split()[:2]
                found[key] = int(value)
    # "summary:" is the count at the last zeroing, "totals:" the sum
    return found.get("totals:", found.get("summary:"))


def run_instructions(python: str, name: str, dsn: str, size: int,
                     reference: bool, helper: str, workdir: str
                     ) -> Dict[str, Any]:
    """Run one workload under callgrind; add its instruction count."""
    out = os.path.join(workdir, "callgrind.%s.%s" % (
        name, "theirs" if reference else "ours"))
    prefix = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
              "--collect-atstart=no", "--callgrind-out-file=" + out]
    res = run_child(python, name, dsn, size, reference=reference,
                    prefix=prefix,
                    extra_env={"BENCH_CALLGRIND_HELPER": helper,
                               "PYTHONHASHSEED": "0"})
    if "error" not in res:
        try:
            res["instructions"] = callgrind_total(out)
        except OSError as e:
            res["error"] = "no callgrind output: %s" % e
    return res


def instructions_main(names: List[str], sizes: Dict[str, int], dsn: str,
                      ours: str, theirs: str) -> int:
    """The --instructions mode: one callgrind run per workload and driver."""
    import tempfile
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-cg-") as workdir:
        helper = build_callgrind_helper(workdir)
        rows = []
        for name in names:
            per = {}
            for label, python in (("ours", ours), ("theirs", theirs)):
                r = run_instructions(python, name, dsn, sizes[name],
                                     label == "theirs", helper, workdir)
                per[label] = r
                print("  %-15s %-6s %s" % (
                    name, label, r["error"] if "error" in r else
                    "%d instructions" % r["instructions"]), flush=True)
                failed = failed or "error" in r
            rows.append((name, sizes[name], per))
    head = "%-15s %9s | %15s %15s %6s | %12s" % (
        "workload", "size", "ours instr", "theirs instr", "ratio",
        "ours/unit")
    print()
    print("instructions executed in the timed section (callgrind); "
          "ratio = ours / theirs")
    print(head)
    print("-" * len(head))
    for name, size, per in rows:
        oi = per["ours"].get("instructions")
        ti = per["theirs"].get("instructions")
        print("%-15s %9d | %15s %15s %s | %12s" % (
            name, size, oi if oi is not None else "-",
            ti if ti is not None else "-", fmt_ratio(oi, ti),
            "%.0f" % (oi / size) if oi else "-"))
    return 1 if failed else 0


def start_server() -> Any:
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from pgserver import PgServer
    srv = PgServer(settings={"shared_buffers": "128MB",
                             "max_wal_size": "2GB"})
    srv.initdb()
    srv.start()
    srv.psql("CREATE DATABASE psycopg2_test")
    return srv


def parent_main(args: argparse.Namespace) -> int:
    names = list(WORKLOADS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            sys.exit("unknown workload(s): %s; known: %s"
                     % (", ".join(unknown), ", ".join(WORKLOADS)))
    elif args.instructions:
        names = list(INSTRUCTION_WORKLOADS)
    repeats = args.repeats or (3 if args.quick else 5)
    quick = args.quick or (args.instructions and not args.full)
    sizes = {n: WORKLOADS[n][1 if quick else 0] for n in WORKLOADS}

    ours = args.python
    info = run_child(ours, "info", "")
    if "error" in info:
        sys.exit("cannot import psycopg2 with %s: %s" % (ours, info["error"]))
    if not any(d.startswith("psycopg2-yugabytedb") for d in info["dists"]):
        logger.warning("%s does not have psycopg2-yugabytedb installed "
                       "(found %s)", ours, ", ".join(info["dists"]) or
                       info["file"])
    theirs = args.reference_python or ensure_reference_venv(sys.executable)
    tinfo = run_child(theirs, "info", "", reference=True)
    if tinfo.get("file") == info["file"]:
        sys.exit("the reference interpreter imports our psycopg2 (%s)"
                 % info["file"])
    print("ours:   %s (%s)" % (info["version"], info["file"]))
    print("theirs: %s (%s)" % (tinfo.get("version"), tinfo.get("file")))

    srv = None
    dsn = args.dsn
    try:
        if not dsn:
            print("starting a PostgreSQL server...")
            srv = start_server()
            dsn = srv.dsn
        table_sizes = json.dumps({"mixed": sizes["fetchall_mixed"],
                                  "ints": sizes["copy_to"]})
        print("creating the benchmark tables (once)...")
        res = run_child(theirs, "setup", dsn, sizes=table_sizes,
                        reference=True)
        if "error" in res:
            res = run_child(ours, "setup", dsn, sizes=table_sizes)
        if "error" in res:
            sys.exit("setting up the tables failed: %s" % res["error"])

        if args.instructions:
            return instructions_main(names, sizes, dsn, ours, theirs)
        peers = ensure_peers_venv(sys.executable) if args.peers else ""
        rows = []
        for name in names:
            size = sizes[name]
            res_by = {"ours": [], "theirs": []}  # type: Dict[str, List]
            for i in range(repeats):
                runs = [(label, lambda p=python, lb=label: run_child(
                    p, name, dsn, size, reference=lb == "theirs"))
                    for label, python in (("ours", ours),
                                          ("theirs", theirs))]
                if peers:
                    runs += [(d, lambda d=d: run_peer(peers, d, name, dsn,
                                                      size))
                             for d in PEER_DRIVERS]
                for label, run in runs:
                    r = run()
                    res_by.setdefault(label, []).append(r)
                    print("  %-15s %-8s run %d/%d: %s" % (
                        name, label, i + 1, repeats,
                        r["error"] if "error" in r else
                        "%.3f s wall, %.3f s cpu" % (r["wall"], r["cpu"])),
                        flush=True)
            rows.append((name, size, res_by))
        print_table(rows)
        if peers:
            print_peers_table(rows)
        failed = any("error" in r for _, _, res_by in rows
                     for label in ("ours", "theirs")
                     for r in res_by[label])
        return 1 if failed else 0
    finally:
        if srv is not None:
            srv.cleanup()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a tenth of the data and 3 repeats")
    p.add_argument("--repeats", type=int, default=0,
                   help="runs per workload and driver (default 5; 3 quick)")
    p.add_argument("--dsn", default="",
                   help="use this database instead of starting a server")
    p.add_argument("--only", default="",
                   help="comma-separated workloads: " + ", ".join(WORKLOADS))
    p.add_argument("--python", default=sys.executable,
                   help="interpreter with our driver (default: this one)")
    p.add_argument("--instructions", action="store_true",
                   help="count instructions under callgrind instead of "
                   "timing (quick sizes unless --full)")
    p.add_argument("--peers", action="store_true",
                   help="also run psycopg 3 (C build) and asyncpg "
                   "(build/bench-peers-venv, created if needed)")
    p.add_argument("--full", action="store_true",
                   help="with --instructions: the full sizes")
    p.add_argument("--reference-python", default="",
                   help="interpreter with psycopg2-binary (default: "
                   "build/bench-venv, created if needed)")
    # internal: run one workload in a child process
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--sizes", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child_main(args)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
