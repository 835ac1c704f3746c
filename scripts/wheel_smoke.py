#!/usr/bin/env python3
"""Smoke test of an installed psycopg2-yugabytedb wheel.

Run it with the interpreter where the wheel is installed, from outside the
source tree (scripts/build_wheel.sh and cibuildwheel's test-command do)::

    python scripts/wheel_smoke.py --expect-dist psycopg2-yugabytedb-binary \\
        --bundled-libpq --start-server --cluster 3

Checks, each printing one ``smoke:`` line:

- psycopg2 is imported from site-packages, at the version of the
  installed distribution (``--expect-dist``);
- with ``--bundled-libpq``: the libpq mapped into the process
  (/proc/self/maps) is the copy inside the wheel (``<dist>.libs/``), no
  other libpq is mapped, ldd of _psycopg agrees, and
  ``psycopg2.__libpq_version__`` is the version of that library;
- against a real server (``--dsn``, or ``--start-server`` for a throw-away
  one from tests/pgserver.py): queries, parameters, types, a transaction,
  COPY, a server-side cursor, the errors module;
- with ``--cluster N``: a local N-node cluster (scripts/ybcluster.py) and
  3*N connections with ``load_balance=true``, counted on each node's
  pg_stat_activity: 3 on every node.

Exits with status 1 and a ``smoke: FAILED`` line at the first failure.
"""

import argparse
import ctypes
import datetime
import decimal
import io
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SmokeError(Exception):
    pass


def say(msg: str) -> None:
    sys.stdout.write("smoke: %s\n" % msg)
    sys.stdout.flush()


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise SmokeError(msg)


def check_import(expect_dist):
    import psycopg2
    where = os.path.dirname(os.path.abspath(psycopg2.__file__))
    check(not where.startswith(ROOT + os.sep),
          "psycopg2 imported from the source tree: %s" % where)
    check("site-packages" in where or "dist-packages" in where,
          "psycopg2 not imported from site-packages: %s" % where)
    say("psycopg2 %s from %s" % (psycopg2.__version__, where))
    if expect_dist:
        from importlib import metadata
        version = metadata.version(expect_dist)
        check(version == psycopg2.__version__.split()[0],
              "%s is %s, psycopg2 says %s"
              % (expect_dist, version, psycopg2.__version__))
        files = [str(f) for f in metadata.files(expect_dist) or ()]
        check("psycopg2/__init__.py" in files,
              "%s does not provide psycopg2/__init__.py" % expect_dist)
        say("distribution %s %s" % (expect_dist, version))
    return psycopg2


def mapped_libpq():
    """Paths of the libpq libraries mapped into this process."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6:
                path = parts[5].strip()
                if re.match(r"libpq[-.]", os.path.basename(path)):
                    found.add(path)
    return sorted(found)


def ldd_libpq(sofile):
    try:
        out = subprocess.run(["ldd", sofile], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, check=False).stdout
    except OSError:
        return None
    for line in out.decode(errors="replace").splitlines():
        name, _, rest = line.strip().partition(" => ")
        if name.startswith("libpq"):
            return os.path.realpath(rest.split(" (")[0].strip())
    return ""


def check_bundled_libpq(psycopg2, expect_dist):
    from psycopg2 import _psycopg
    import psycopg2.extensions
    site = os.path.dirname(os.path.dirname(os.path.abspath(_psycopg.__file__)))
    libs = [os.path.join(site, d) for d in os.listdir(site)
            if d.endswith(".libs")]
    if expect_dist:
        want = expect_dist.replace("-", "_") + ".libs"
        check(os.path.join(site, want) in libs,
              "no %s directory next to psycopg2 in %s" % (want, site))
        libs = [os.path.join(site, want)]
    maps = [os.path.realpath(p) for p in mapped_libpq()]
    check(len(maps) == 1, "expected one libpq mapped, found: %s" % maps)
    lib = maps[0]
    check(os.path.dirname(lib) in [os.path.realpath(d) for d in libs],
          "libpq mapped from %s, not from the wheel (%s)" % (lib, libs))
    say("libpq mapped from %s" % lib)
    via_ldd = ldd_libpq(_psycopg.__file__)
    if via_ldd is not None:
        check(via_ldd == lib, "ldd resolves libpq to %r, not %s"
              % (via_ldd, lib))
        say("ldd _psycopg: libpq => %s" % via_ldd)
    bundled = ctypes.CDLL(lib).PQlibVersion()
    runtime = psycopg2.extensions.libpq_version()
    check(psycopg2.__libpq_version__ == bundled == runtime,
          "__libpq_version__ %s, bundled libpq %s, libpq_version() %s"
          % (psycopg2.__libpq_version__, bundled, runtime))
    say("__libpq_version__ %d = bundled libpq's PQlibVersion() = "
        "libpq_version()" % bundled)
    others = sorted(os.listdir(libs[0]))
    say("bundled libraries: %s" % " ".join(others))


def smoke_server(psycopg2, dsn):
    import psycopg2.errors
    import psycopg2.extras
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("SELECT %s + %s, %s, %s::date, %s::numeric, %s::jsonb",
                    (40, 2, "fünf", datetime.date(2024, 2, 29),
                     decimal.Decimal("1.50"),
                     psycopg2.extras.Json({"a": [1, 2]})))
        row = cur.fetchone()
        check(row == (42, "fünf", datetime.date(2024, 2, 29),
                      decimal.Decimal("1.50"), {"a": [1, 2]}),
              "unexpected row %r" % (row,))
        cur.execute("CREATE TEMP TABLE smoke (id int PRIMARY KEY, t text)")
        buf = io.StringIO("".join("%d\tt%d\n" % (i, i) for i in range(100)))
        cur.copy_from(buf, "smoke")
        conn.commit()
        named = conn.cursor("smoke_named")
        named.itersize = 7
        named.execute("SELECT id FROM smoke ORDER BY id")
        ids = [r[0] for r in named]
        named.close()
        check(ids == list(range(100)), "named cursor read %d rows" % len(ids))
        try:
            cur.execute("INSERT INTO smoke VALUES (1, 'dup')")
        except psycopg2.errors.UniqueViolation:
            conn.rollback()
        else:
            raise SmokeError("no UniqueViolation on a duplicate key")
        server = conn.info.server_version
        say("server %d: query, types, COPY, named cursor, errors: ok"
            % server)
    finally:
        conn.close()


def import_from_tree(subdir, module):
    path = os.path.join(ROOT, subdir)
    check(os.path.exists(os.path.join(path, module + ".py")),
          "%s/%s.py not found (run this script from a source tree)"
          % (subdir, module))
    if path not in sys.path:
        sys.path.append(path)
    return __import__(module)


def smoke_cluster(psycopg2, nodes):
    ybcluster = import_from_tree("scripts", "ybcluster")
    cluster = ybcluster.YBCluster(port=ybcluster.free_port(nodes + 2))
    conns = []
    try:
        cluster.start([ybcluster.NodeSpec("cloud1.region1.zone%d" % i)
                       for i in range(1, nodes + 1)])
        dsn = cluster.seed_dsn + " load_balance=true"
        for _ in range(3 * nodes):
            conns.append(psycopg2.connect(dsn))
        want = {cluster.nodes[i].host: 3 for i in cluster.nodes}
        counts = cluster.wait_counts(want)
        check(counts == want, "connections per node %s, expected %s"
              % (counts, want))
        for conn in conns:
            with conn.cursor() as cur:
                cur.execute("SELECT inet_server_addr()")
                cur.fetchone()
        say("load balancing: %d connections over %d nodes: %s"
            % (len(conns), nodes,
               " ".join("%s=%d" % kv for kv in sorted(counts.items()))))
    finally:
        for conn in conns:
            conn.close()
        cluster.destroy()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--expect-dist", metavar="NAME",
                   help="distribution that must provide psycopg2")
    p.add_argument("--bundled-libpq", action="store_true",
                   help="libpq must be loaded from the wheel's .libs")
    p.add_argument("--dsn", help="server to run the queries against")
    p.add_argument("--start-server", action="store_true",
                   help="start a throw-away server (tests/pgserver.py)")
    p.add_argument("--cluster", type=int, default=0, metavar="N",
                   help="check load balancing on a local N-node cluster")
    args = p.parse_args(argv)
    started = time.monotonic()
    server = None
    try:
        psycopg2 = check_import(args.expect_dist)
        if args.bundled_libpq:
            check_bundled_libpq(psycopg2, args.expect_dist)
        dsn = args.dsn
        if args.start_server:
            pgserver = import_from_tree("tests", "pgserver")
            server = pgserver.PgServer()
            server.initdb()
            server.start()
            dsn = "host=%s port=%d user=%s dbname=postgres" % (
                server.host, server.port, server.user)
        if dsn:
            smoke_server(psycopg2, dsn)
        if args.cluster:
            smoke_cluster(psycopg2, args.cluster)
    except Exception as e:
        say("FAILED: %s: %s" % (type(e).__name__, e))
        return 1
    finally:
        if server is not None:
            server.cleanup()
    say("all checks passed in %.1f s" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
