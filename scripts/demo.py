#!/usr/bin/env python3
"""Smart load balancing demo on a local cluster.

Starts a local YugabyteDB-like cluster (scripts/ybcluster.py: 3 primary
nodes in three zones of aws.us-east-1 plus 1 read replica in
aws.us-west-2), opens sets of connections with ``load_balance=true``, with
topology keys and with read-replica modes, and prints after each set where
its connections went, counted by the servers (pg_stat_activity).  The
cluster is stopped on exit, also on Ctrl-C or error.

    python scripts/demo.py [--port 5433] [--verbose]
"""

import argparse
import logging
import os
import signal
import sys
from typing import Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg2  # noqa: E402
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
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130
    finally:
        print("\nstopping the cluster")
        cluster.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
