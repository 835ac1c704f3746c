"""Helpers of the load-balancing tests (clusters, expected counts)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts"))

import ybcluster  # noqa: E402
from ybcluster import NodeSpec, YBCluster  # noqa: E402,F401


def start_cluster(specs, universe_uuid=None):
    cluster = YBCluster(port=ybcluster.free_port(max(len(specs), 8) + 2),
                        universe_uuid=universe_uuid)
    try:
        cluster.start(specs)
    except BaseException:
        cluster.destroy()
        raise
    return cluster


def expected_counts(cluster, **by_index):
    """{host: count} of every running node, 0 unless given as nI=count."""
    out = {cluster.nodes[i].host: 0 for i in cluster.running_nodes()}
    for name, count in by_index.items():
        out[cluster.nodes[int(name[1:])].host] = count
    return out


def lb_dsn(cluster, *extra, index=None):
    """The cluster's seed DSN (node 1 or `index`) plus `extra` settings."""
    base = cluster.node_dsn(index) if index else cluster.seed_dsn
    return " ".join((base,) + extra)


def node_counts(state_nodes):
    """{host: connections} from a cluster_state() node list."""
    return {n["host"]: n["connections"] for n in state_nodes}


def only_cluster_state():
    from psycopg2 import loadbalance
    state = loadbalance.cluster_state()
    assert len(state) == 1, state
    return next(iter(state.values()))
