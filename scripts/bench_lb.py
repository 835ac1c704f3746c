#!/usr/bin/env python3
"""Benchmark of the load balancer's cost.

1. Median `connect()` time with ``load_balance=true`` (node list cached)
   against a plain `connect()` to one node, over N connects each (200 by
   default, interleaved so that both see the same machine load); every
   connection is closed at once.  Target: at most 5% overhead.
2. The number of ``yb_servers()`` queries the servers saw during 1,000
   connects from 8 threads with a fresh balancer state (target: 1, one per
   refresh interval), counted server-side by the function itself.

    python scripts/bench_lb.py [--connects 200] [--threaded 1000]
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg2  # noqa: E402
from psycopg2 import loadbalance  # noqa: E402

import ybcluster  # noqa: E402
from ybcluster import NodeSpec, YBCluster  # noqa: E402


def timed_connect(dsn: str) -> float:
    t0 = time.perf_counter()
    conn = psycopg2.connect(dsn)
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def bench_overhead(cluster: YBCluster, n: int) -> dict:
    plain_dsn = cluster.node_dsn(1)
    lb_dsn = cluster.seed_dsn + " load_balance=true"
    for _ in range(10):             # warm up both paths, cache the list
        timed_connect(plain_dsn)
        timed_connect(lb_dsn)
    plain, lb = [], []
    for _ in range(n):
        plain.append(timed_connect(plain_dsn))
        lb.append(timed_connect(lb_dsn))
    p, b = statistics.median(plain), statistics.median(lb)
    return {"connects": n, "plain_median_ms": round(p * 1000, 3),
            "lb_median_ms": round(b * 1000, 3),
            "overhead_pct": round((b - p) / p * 100, 2)}


def bench_discovery(cluster: YBCluster, total: int, nthreads: int) -> dict:
    loadbalance.reset()
    cluster.reset_yb_servers_calls()
    dsn = cluster.seed_dsn + " load_balance=true"
    per_thread = total // nthreads
    barrier = threading.Barrier(nthreads)
    errors = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                psycopg2.connect(dsn).close()
        except Exception as e:
            errors.append(repr(e))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    state = next(iter(loadbalance.cluster_state().values()))
    return {"connects": per_thread * nthreads, "threads": nthreads,
            "seconds": round(elapsed, 2), "errors": errors[:3],
            "yb_servers_calls": cluster.yb_servers_calls(),
            "open_after": sum(n["connections"] for n in state["nodes"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connects", type=int, default=200)
    parser.add_argument("--threaded", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    cluster = YBCluster(port=ybcluster.free_port(4))
    try:
        cluster.start([NodeSpec("aws.r.a"), NodeSpec("aws.r.b"),
                       NodeSpec("aws.r.c")])
        result = {
            "overhead": bench_overhead(cluster, args.connects),
            "discovery": bench_discovery(cluster, args.threaded,
                                         args.threads),
        }
    finally:
        cluster.destroy()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
