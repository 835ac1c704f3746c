#!/usr/bin/env python3
"""Smart load balancing demo on a local cluster.

Starts a local YugabyteDB-like cluster (scripts/ybcluster.py: 3 primary
nodes in three zones of aws.us-east-1 plus 1 read replica in
aws.us-west-2), opens sets of connections with ``load_balance=true``, with
topology keys and with read-replica modes, and prints after each set where
its connections went, counted by the servers (pg_stat_activity).  Then a
failover act: a pool of 12 load-balanced connections kept busy by 4
threads while one node is stopped and started again, printed as a
timeline of per-node counts.  The cluster is stopped on exit, also on
Ctrl-C or error.

    python scripts/demo.py [--port 5433] [--verbose]
"""

import argparse
import logging
import os
import signal
import sys
import threading
import time
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg2  # noqa: E402
import psycopg2.pool  # noqa: E402
from psycopg2 import loadbalance  # noqa: E402

import ybcluster  # noqa: E402
from ybcluster import NodeSpec, YBCluster  # noqa: E402

NODES = [
    NodeSpec("aws.us-east-1.us-east-1a"),
    NodeSpec("aws.us-east-1.us-east-1b"),
    NodeSpec("aws.us-east-1.us-east-1c"),
    NodeSpec("aws.us-west-2.us-west-2a", node_type="read_replica"),
]

# (title, extra DSN settings, number of connections)
SETS: List[Tuple[str, str, int]] = [
    ("load_balance=true", "load_balance=true", 12),
    ("topology_keys us-east-1a (then 1b)",
     "load_balance=true topology_keys="
     "aws.us-east-1.us-east-1a:1,aws.us-east-1.us-east-1b:2", 6),
    ("topology_keys us-east-1.* (any zone)",
     "load_balance=true topology_keys=aws.us-east-1.*", 6),
    ("load_balance=only-rr", "load_balance=only-rr", 4),
    ("load_balance=prefer-primary", "load_balance=prefer-primary", 6),
]


def pick_port(wanted: int) -> int:
    hosts = [ybcluster.node_address(i) for i in range(1, len(NODES) + 1)]
    if ybcluster.port_is_free(wanted, hosts):
        return wanted
    port = ybcluster.free_port(len(NODES))
    print("port %d is busy: using %d" % (wanted, port))
    return port


def print_table(cluster: YBCluster, columns: List[str],
                counts: Dict[str, Dict[str, int]]) -> None:
    """One row per node, one column per connection set."""
    head = ["node", "placement", "type"] + columns
    rows = []
    for i in sorted(cluster.nodes):
        n = cluster.nodes[i]
        rows.append([n.host, n.placement, n.node_type]
                    + [str(counts[c].get(n.host, 0)) for c in columns])
    rows.append(["total", "", ""]
                + [str(sum(counts[c].values())) for c in columns])
    widths = [max(len(r[k]) for r in rows + [head])
              for k in range(len(head))]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, head))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join("%-*s" % (w, v) for w, v in zip(widths, r)))


def run_demo(cluster: YBCluster) -> None:
    seed = cluster.seed_dsn
    print("\ncluster: %d nodes, seed DSN: %s\n" % (len(cluster.nodes), seed))
    held = []
    columns: List[str] = []
    counts: Dict[str, Dict[str, int]] = {}
    try:
        for number, (title, settings, n) in enumerate(SETS, 1):
            app = "demo-set-%d" % number
            dsn = "%s %s application_name=%s" % (seed, settings, app)
            for _ in range(n):
                held.append(psycopg2.connect(dsn))
            column = "set %d" % number
            columns.append(column)
            counts[column] = cluster.connection_counts(application_name=app)
            print("set %d: %d connections with %s" % (number, n, title))
        print("\nwhere each set went (server-side counts, "
              "pg_stat_activity):")
        print("(each connection goes to the eligible node with the fewest "
              "connections\n of this process, all sets together)\n")
        print_table(cluster, columns, counts)
        print("\nbalancer's view (psycopg2.loadbalance.cluster_state()):")
        for key, state in loadbalance.cluster_state().items():
            print("  cluster %s: %s" % (key, ", ".join(
                "%s=%d" % (n["host"], n["connections"])
                for n in state["nodes"])))
        print("\nyb_servers() queries served: %d"
              % cluster.yb_servers_calls())
    finally:
        for conn in held:
            conn.close()


# The failover act: the node stopped and started again, the TTL of a failed
# node, and how long the application loop runs between two samples.
FAILOVER_NODE = 2
FAILOVER_TTL = 2
SAMPLE_SECONDS = 0.5


def keep_busy(pool: psycopg2.pool.ThreadedConnectionPool, seconds: float,
              errors: List[Exception]) -> None:
    """The application loop: 4 threads, each taking 3 connections of the
    pool, running a query on each and giving them back, for `seconds`."""
    stop = time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < stop:
            held = []
            try:
                for _ in range(3):
                    held.append(pool.getconn())
                for conn in held:
                    cur = conn.cursor()
                    cur.execute("select 1")
                    cur.fetchone()
                    conn.rollback()
            except Exception as e:
                errors.append(e)
            finally:
                for conn in held:
                    pool.putconn(conn)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_failover(cluster: YBCluster) -> None:
    app = "demo-failover"
    dsn = "%s load_balance=true failed_host_ttl_seconds=%d " \
        "application_name=%s" % (cluster.seed_dsn, FAILOVER_TTL, app)
    hosts = [cluster.nodes[i].host for i in sorted(cluster.nodes)]
    stopped = cluster.nodes[FAILOVER_NODE].host
    print("\nfailover: a pool of 12 (check=True, rebalance on), 4 threads "
          "using it;\nnode %s is stopped, then started again "
          "(failed_host_ttl_seconds=%d)\n" % (stopped, FAILOVER_TTL))
    line = "%6s  %-22s" + "  %-10s" * len(hosts) + "  %s"
    print(line % (("time", "event") + tuple(hosts) + ("app errors",)))
    print("-" * (32 + 12 * len(hosts) + 10))
    pool = psycopg2.pool.ThreadedConnectionPool(12, 12, dsn, check=True,
                                                check_idle=0)
    errors: List[Exception] = []
    start = time.monotonic()

    def sample(event: str) -> Dict[str, int]:
        counts = cluster.connection_counts(application_name=app)
        print(line % (("%5.1fs" % (time.monotonic() - start), event)
                      + tuple(str(counts.get(h, "-")) for h in hosts)
                      + (str(len(errors)),)))
        return counts

    try:
        sample("pool opened")
        keep_busy(pool, SAMPLE_SECONDS, errors)
        cluster.stop_node(FAILOVER_NODE)
        sample("node %s stopped" % stopped)
        for _ in range(3):
            keep_busy(pool, SAMPLE_SECONDS, errors)
            sample("working")
        cluster.start_node(FAILOVER_NODE)
        back = time.monotonic()
        sample("node %s started" % stopped)
        while time.monotonic() < back + FAILOVER_TTL + 15:
            keep_busy(pool, SAMPLE_SECONDS, errors)
            counts = sample("working")
            if sorted(counts.values()) == [3] * len(hosts):
                print("\nback to 3 per node %.1f s after the node returned;"
                      " errors seen by the application: %d"
                      % (time.monotonic() - back, len(errors)))
                break
        else:
            print("\nthe pool did not converge back (errors: %d)"
                  % len(errors))
    finally:
        pool.closeall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=ybcluster.DEFAULT_PORT)
    parser.add_argument("--verbose", action="store_true",
                        help="show the balancer's DEBUG log")
    args = parser.parse_args()
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG,
                            format="%(name)s: %(message)s")

    # SIGTERM ends the demo like Ctrl-C: the cluster is stopped.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    cluster = YBCluster(port=pick_port(args.port))
    try:
        print("starting the local cluster (port %d)..." % cluster.port)
        cluster.start(NODES)
        run_demo(cluster)
        run_failover(cluster)
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130
    finally:
        print("\nstopping the cluster")
        cluster.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
