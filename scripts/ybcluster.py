#!/usr/bin/env python3
"""A local stand-in for a YugabyteDB cluster, made of real PostgreSQL servers.

Node *i* is a PostgreSQL server listening on ``127.0.0.i`` at a port shared
by every node (5433 by default).  Every node has a ``yugabyte`` superuser and
database and a ``yb_servers()`` SQL function returning the cluster's nodes
(host, port, num_connections, node_type, cloud, region, zone, public_ip,
uuid), read from the table ``yb_cluster_nodes`` that this tool keeps up to
date on every running node.  A stopped node stays listed, as YugabyteDB
keeps listing a tserver for a while after it went down.  Each call of
``yb_servers()`` bumps the sequence ``yb_servers_calls``, so tests and the
benchmark can count the discovery queries from the server side.

Python API (used by the tests and the demo)::

    cluster = YBCluster(port=5433)
    cluster.start([NodeSpec("aws.us-east.a"), NodeSpec("aws.us-east.b"),
                   NodeSpec("aws.us-east.c", node_type="read_replica")])
    cluster.connection_counts()     # {'127.0.0.1': 0, ...}
    cluster.stop_node(2); cluster.start_node(2)
    cluster.add_node(NodeSpec("aws.us-west.a")); cluster.remove_node(4)
    cluster.destroy()

Command line::

    python scripts/ybcluster.py start --nodes 3 --rr 1 --port 5433
    python scripts/ybcluster.py status
    python scripts/ybcluster.py stop
"""

import argparse
import concurrent.futures
import hashlib
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid as uuidlib
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List, Optional

logger = logging.getLogger("ybcluster")

DEFAULT_PORT = 5433
SUPERUSER = "yugabyte"
DATABASE = "yugabyte"
MONITOR_APP = "ybcluster-monitor"

# Small servers: the tests open hundreds of connections over several nodes.
SERVER_SETTINGS = {
    "shared_buffers": "16MB",
    "max_connections": "300",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "autovacuum": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "dynamic_shared_memory_type": "posix",
    "log_min_messages": "warning",
    "log_connections": "off",
    "log_disconnections": "off",
}

# Objects every node's `yugabyte` database holds (created once in the
# template data directory, then copied to every node).  Statements end with
# a blank line: the terminator of `postgres --single -j`.
SCHEMA_SQL = """
CREATE SEQUENCE yb_servers_calls;

CREATE TABLE yb_cluster_nodes (
    pos int PRIMARY KEY,
    host text NOT NULL,
    port bigint NOT NULL,
    node_type text NOT NULL,
    cloud text NOT NULL,
    region text NOT NULL,
    zone text NOT NULL,
    public_ip text NOT NULL,
    uuid text NOT NULL
);

CREATE TABLE yb_cluster_info (universe_uuid text);

"""

# yb_servers() without and with the universe_uuid column (newer YugabyteDB
# versions report the universe's identity).
FUNCTION_SQL = """
DROP FUNCTION IF EXISTS yb_servers();

CREATE FUNCTION yb_servers()
RETURNS TABLE (host text, port bigint, num_connections int, node_type text,
               cloud text, region text, zone text, public_ip text,
               uuid text%(extra_cols)s)
LANGUAGE plpgsql VOLATILE AS $fn$
#variable_conflict use_column
BEGIN
    PERFORM nextval('yb_servers_calls');
    RETURN QUERY
        SELECT n.host, n.port, 0, n.node_type, n.cloud, n.region, n.zone,
               n.public_ip, n.uuid%(extra_vals)s
        FROM yb_cluster_nodes n ORDER BY n.pos;
END
$fn$;

"""


def sql_literal(value: object) -> str:
    """Quote a value as an SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def function_sql(with_universe_uuid: bool) -> str:
    """SQL (re)creating yb_servers(), optionally with universe_uuid."""
    if with_universe_uuid:
        return FUNCTION_SQL % {
            "extra_cols": ", universe_uuid text",
            "extra_vals": ", (SELECT i.universe_uuid FROM yb_cluster_info i"
                          " LIMIT 1)",
        }
    return FUNCTION_SQL % {"extra_cols": "", "extra_vals": ""}


def pg_bindir() -> str:
    """Directory of the PostgreSQL server programs (initdb, pg_ctl)."""
    env = os.environ.get("PG_BINDIR")
    if env:
        return env
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        for v in sorted((d for d in os.listdir(base) if d.isdigit()),
                        key=int, reverse=True):
            path = os.path.join(base, v, "bin")
            if os.path.exists(os.path.join(path, "initdb")):
                return path
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise RuntimeError("PostgreSQL server programs not found: "
                       "install postgresql (apt-get install postgresql)")


def node_address(index: int) -> str:
    """Loopback address of node `index` (1-based): 127.0.0.index."""
    if not 1 <= index <= 254:
        raise ValueError("node index must be in 1-254, got %r" % index)
    return "127.0.0.%d" % index


def port_is_free(port: int, hosts: Iterable[str]) -> bool:
    """True if `port` can be bound on every address of `hosts`."""
    socks = []
    try:
        for host in hosts:
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            socks.append(s)
            s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(max_nodes: int = 8) -> int:
    """A port free on 127.0.0.1 .. 127.0.0.max_nodes (and ::1)."""
    hosts = [node_address(i) for i in range(1, max_nodes + 1)] + ["::1"]
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port_is_free(port, hosts):
            return port
    raise RuntimeError("no port free on all the loopback addresses")


@dataclass
class NodeSpec:
    """Placement and identity of a node as yb_servers() reports it.

    `placement` is ``cloud.region.zone``.  `advertise_host` is the host that
    yb_servers() lists (default: the address the node listens on);
    `public_ip` defaults to the listed host, as in YugabyteDB's examples.
    `extra_listen` are more addresses the server listens on (e.g. ``::1``).
    """
    placement: str = "cloud1.region1.zone1"
    node_type: str = "primary"
    public_ip: Optional[str] = None
    advertise_host: Optional[str] = None
    extra_listen: List[str] = field(default_factory=list)


@dataclass
class Node:
    """One node of the local cluster (a PostgreSQL server)."""
    index: int
    host: str                   # address the server listens on
    port: int
    node_type: str
    cloud: str
    region: str
    zone: str
    public_ip: str
    advertise_host: str
    uuid: str
    datadir: str
    extra_listen: List[str] = field(default_factory=list)
    listed: bool = True         # reported by yb_servers()

    @property
    def placement(self) -> str:
        return "%s.%s.%s" % (self.cloud, self.region, self.zone)


class YBCluster:
    """A set of local PostgreSQL servers posing as a YugabyteDB cluster."""

    def __init__(self, port: int = DEFAULT_PORT, basedir: Optional[str] = None,
                 universe_uuid: Optional[str] = None):
        self.port = port
        self.universe_uuid = universe_uuid
        self.bindir = pg_bindir()
        self._own_basedir = basedir is None
        self.basedir = basedir or tempfile.mkdtemp(prefix="ybcluster-")
        self.nodes: Dict[int, Node] = {}
        self._run_as = "postgres" if os.geteuid() == 0 else None
        os.makedirs(self.basedir, exist_ok=True)
        os.chmod(self.basedir, 0o755)

    # -- persistence (for the command line) --------------------------------

    @property
    def state_file(self) -> str:
        return os.path.join(self.basedir, "cluster.json")

    def save(self) -> None:
        state = {"port": self.port, "universe_uuid": self.universe_uuid,
                 "nodes": [asdict(n) for n in self.nodes.values()]}
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=1)
        os.replace(tmp, self.state_file)

    @classmethod
    def load(cls, basedir: str) -> "YBCluster":
        """The cluster whose state was saved in `basedir`."""
        with open(os.path.join(basedir, "cluster.json")) as f:
            state = json.load(f)
        self = cls(port=state["port"], basedir=basedir,
                   universe_uuid=state.get("universe_uuid"))
        self._own_basedir = False
        for n in state["nodes"]:
            node = Node(**n)
            self.nodes[node.index] = node
        return self

    # -- running programs ----------------------------------------------------

    def _run(self, args: List[str], check: bool = True,
             input: Optional[str] = None) -> str:
        if self._run_as:
            args = ["runuser", "-u", self._run_as, "--"] + args
        res = subprocess.run(args, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, input=input,
                             universal_newlines=True)
        if check and res.returncode != 0:
            raise RuntimeError("%s failed (%s): %s" % (
                os.path.basename(args[-1] if self._run_as else args[0]),
                res.returncode, res.stdout.strip()))
        return res.stdout

    def psql(self, index: int, sql: str, dbname: str = DATABASE) -> str:
        """Run `sql` on node `index` with psql; return its unaligned output."""
        node = self.nodes[index]
        env = dict(os.environ, PGAPPNAME=MONITOR_APP, PGCONNECT_TIMEOUT="10")
        res = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
             "-h", node.host, "-p", str(self.port), "-U", SUPERUSER,
             "-d", dbname, "-c", sql],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, env=env)
        if res.returncode != 0:
            raise RuntimeError("psql on node %d (%s) failed: %s" % (
                index, node.host, res.stderr.strip()))
        return res.stdout

    def _parallel(self, func, items) -> list:
        items = list(items)
        if not items:
            return []
        with concurrent.futures.ThreadPoolExecutor(len(items)) as ex:
            return list(ex.map(func, items))

    # -- template data directory ----------------------------------------------

    def _template_dir(self) -> str:
        """A data directory with the yugabyte database and schema, made once
        per machine and PostgreSQL version, copied to create every node."""
        version = self._run([os.path.join(self.bindir, "pg_ctl"), "--version"])
        key = hashlib.sha1((version + SCHEMA_SQL + repr(sorted(
            SERVER_SETTINGS.items()))).encode()).hexdigest()[:12]
        path = os.path.join(tempfile.gettempdir(),
                            "ybcluster-template-%d-%s" % (os.geteuid(), key))
        if os.path.exists(os.path.join(path, "PG_VERSION")):
            return path
        tmp = tempfile.mkdtemp(prefix="ybcluster-tpl-")
        os.chmod(tmp, 0o700)
        if self._run_as:
            pw = pwd.getpwnam(self._run_as)
            os.chown(tmp, pw.pw_uid, pw.pw_gid)
        self._run([os.path.join(self.bindir, "initdb"), "-D", tmp,
                   "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"])
        with open(os.path.join(tmp, "postgresql.conf"), "a") as f:
            for k, v in SERVER_SETTINGS.items():
                f.write("%s = %s\n" % (k, v))
        # Single-user mode runs SQL without starting a server.
        single = [os.path.join(self.bindir, "postgres"), "--single",
                  "-D", tmp, "-j"]
        self._run(single + ["postgres"],
                  input="CREATE DATABASE %s;\n" % DATABASE)
        self._run(single + [DATABASE],
                  input=SCHEMA_SQL + function_sql(False) + "\n")
        try:
            os.rename(tmp, path)
        except OSError:     # made meanwhile by another process
            shutil.rmtree(tmp, ignore_errors=True)
        return path

    # -- nodes ------------------------------------------------------------

    def _new_node(self, index: int, spec: NodeSpec) -> Node:
        parts = spec.placement.split(".")
        if len(parts) != 3 or not all(parts):
            raise ValueError("placement must be cloud.region.zone, got %r"
                             % spec.placement)
        if spec.node_type not in ("primary", "read_replica"):
            raise ValueError("node_type must be primary or read_replica, "
                             "got %r" % spec.node_type)
        host = node_address(index)
        advertise = spec.advertise_host or host
        return Node(index=index, host=host, port=self.port,
                    node_type=spec.node_type, cloud=parts[0],
                    region=parts[1], zone=parts[2],
                    public_ip=(spec.public_ip if spec.public_ip is not None
                               else advertise),
                    advertise_host=advertise,
                    uuid=uuidlib.uuid4().hex,
                    datadir=os.path.join(self.basedir, "node%d" % index),
                    extra_listen=list(spec.extra_listen))

    def _create_datadir(self, node: Node) -> None:
        template = self._template_dir()
        if os.path.exists(node.datadir):
            shutil.rmtree(node.datadir)
        subprocess.run(["cp", "-a", template, node.datadir], check=True)
        listen = ",".join([node.host] + node.extra_listen)
        with open(os.path.join(node.datadir, "postgresql.conf"), "a") as f:
            f.write("listen_addresses = '%s'\n" % listen)
            f.write("port = %d\n" % self.port)
            f.write("unix_socket_directories = '%s'\n" % node.datadir)

    def _config_sql(self) -> str:
        """SQL replacing the cluster configuration on a node."""
        rows = []
        for n in sorted(self.nodes.values(), key=lambda n: n.index):
            if not n.listed:
                continue
            rows.append("(%d, %s, %d, %s, %s, %s, %s, %s, %s)" % (
                n.index, sql_literal(n.advertise_host), n.port,
                sql_literal(n.node_type), sql_literal(n.cloud),
                sql_literal(n.region), sql_literal(n.zone),
                sql_literal(n.public_ip), sql_literal(n.uuid)))
        sql = ["BEGIN;", "DELETE FROM yb_cluster_nodes;",
               "DELETE FROM yb_cluster_info;"]
        if rows:
            sql.append("INSERT INTO yb_cluster_nodes VALUES %s;"
                       % ", ".join(rows))
        if self.universe_uuid:
            sql.append("INSERT INTO yb_cluster_info VALUES (%s);"
                       % sql_literal(self.universe_uuid))
        sql.append("COMMIT;")
        return "\n".join(sql)

    def _sync_node(self, index: int, first: bool = False) -> None:
        sql = self._config_sql()
        if first and self.universe_uuid:
            sql = function_sql(True) + sql
        self.psql(index, sql)

    def sync_config(self) -> None:
        """Write the cluster configuration on every running node."""
        self._parallel(self._sync_node, self.running_nodes())

    def _pg_ctl(self, node: Node, *args: str, check: bool = True) -> str:
        return self._run([os.path.join(self.bindir, "pg_ctl"), "-D",
                          node.datadir, "-l",
                          os.path.join(node.datadir, "server.log")]
                         + list(args), check=check)

    def is_running(self, index: int) -> bool:
        node = self.nodes[index]
        return os.path.exists(os.path.join(node.datadir, "postmaster.pid"))

    def running_nodes(self) -> List[int]:
        return [i for i in sorted(self.nodes) if self.is_running(i)]

    def _boot(self, node: Node, fresh: bool) -> None:
        if fresh:
            self._create_datadir(node)
        self._pg_ctl(node, "-w", "-t", "60", "start")
        self._sync_node(node.index, first=fresh)

    def start(self, specs: Iterable[NodeSpec]) -> List[Node]:
        """Create and start one node per spec, in parallel."""
        new = []
        for spec in specs:
            index = max(self.nodes, default=0) + 1
            node = self._new_node(index, spec)
            self.nodes[index] = node
            new.append(node)
        self._template_dir()        # once, before the parallel copies
        self._parallel(lambda n: self._boot(n, fresh=True), new)
        self.sync_config()          # every node lists the new nodes
        self.save()
        return new

    def add_node(self, spec: NodeSpec) -> Node:
        """Start one more node and list it on every node."""
        return self.start([spec])[0]

    def stop_node(self, index: int, mode: str = "immediate") -> None:
        """Stop node `index`; yb_servers() keeps listing it."""
        self._pg_ctl(self.nodes[index], "-m", mode, "-w", "stop",
                     check=False)

    def start_node(self, index: int) -> None:
        """Start again a stopped node (with the current configuration)."""
        if not self.is_running(index):
            self._boot(self.nodes[index], fresh=False)

    def restart_node(self, index: int) -> None:
        self.stop_node(index, mode="fast")
        self.start_node(index)

    def unlist_node(self, index: int) -> None:
        """Remove node `index` from yb_servers() (it keeps running)."""
        self.nodes[index].listed = False
        self.sync_config()
        self.save()

    def list_node(self, index: int) -> None:
        """List node `index` in yb_servers() again."""
        self.nodes[index].listed = True
        self.sync_config()
        self.save()

    def remove_node(self, index: int) -> None:
        """Stop node `index`, delete it and remove it from yb_servers()."""
        node = self.nodes.pop(index)
        self._pg_ctl(node, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(node.datadir, ignore_errors=True)
        self.sync_config()
        self.save()

    def stop(self) -> None:
        """Stop every node (data directories are kept)."""
        self._parallel(lambda i: self.stop_node(i, "fast"),
                       self.running_nodes())

    def destroy(self) -> None:
        """Stop every node and delete the cluster's files."""
        self._parallel(lambda i: self.stop_node(i, "immediate"),
                       list(self.nodes))
        if self._own_basedir:
            shutil.rmtree(self.basedir, ignore_errors=True)
        else:
            for node in self.nodes.values():
                shutil.rmtree(node.datadir, ignore_errors=True)
            for path, remove in ((self.state_file, os.unlink),
                                 (self.basedir, os.rmdir)):
                try:
                    remove(path)
                except OSError:     # not there, or not empty: keep it
                    pass
        self.nodes.clear()

    # -- inspection ---------------------------------------------------------

    @property
    def seed_dsn(self) -> str:
        """DSN reaching the cluster through its first node."""
        first = self.nodes[min(self.nodes)]
        return "host=%s port=%d user=%s dbname=%s" % (
            first.host, self.port, SUPERUSER, DATABASE)

    def node_dsn(self, index: int) -> str:
        return "host=%s port=%d user=%s dbname=%s" % (
            self.nodes[index].host, self.port, SUPERUSER, DATABASE)

    def _count_sql(self, application_name: Optional[str]) -> str:
        sql = ("SELECT count(*) FROM pg_stat_activity "
               "WHERE backend_type = 'client backend' "
               "AND pid <> pg_backend_pid() "
               "AND application_name <> %s" % sql_literal(MONITOR_APP))
        if application_name is not None:
            sql += " AND application_name = %s" % sql_literal(
                application_name)
        return sql

    def connection_counts(self, application_name: Optional[str] = None
                          ) -> Dict[str, int]:
        """Client connections of each running node (by listen address),
        from pg_stat_activity, without this tool's own connection and the
        background processes; optionally only one application_name."""
        sql = self._count_sql(application_name)
        idx = self.running_nodes()
        counts = self._parallel(lambda i: int(self.psql(i, sql).strip()), idx)
        return {self.nodes[i].host: c for i, c in zip(idx, counts)}

    def wait_counts(self, expected: Dict[str, int],
                    application_name: Optional[str] = None,
                    timeout: float = 15) -> Dict[str, int]:
        """Poll connection_counts() until it equals `expected` (backends
        exit a little after their client disconnects); return the last
        counts, equal or not."""
        deadline = time.monotonic() + timeout
        while True:
            counts = self.connection_counts(application_name)
            if counts == expected or time.monotonic() > deadline:
                return counts
            time.sleep(0.1)

    def terminate_backends(self, index: int,
                           application_name: Optional[str] = None,
                           limit: Optional[int] = None) -> int:
        """Terminate client backends of node `index`; return how many."""
        sql = self._count_sql(application_name).replace(
            "SELECT count(*)", "SELECT pid")
        if limit is not None:
            sql += " LIMIT %d" % limit
        out = self.psql(index, "SELECT count(*) FROM (SELECT "
                        "pg_terminate_backend(pid) AS t FROM (%s) p) x "
                        "WHERE t" % sql)
        return int(out.strip())

    def yb_servers_calls(self) -> int:
        """Number of yb_servers() calls served by the running nodes."""
        sql = ("SELECT CASE WHEN is_called THEN last_value ELSE 0 END "
               "FROM yb_servers_calls")
        return sum(self._parallel(lambda i: int(self.psql(i, sql).strip()),
                                  self.running_nodes()))

    def reset_yb_servers_calls(self) -> None:
        self._parallel(lambda i: self.psql(
            i, "SELECT setval('yb_servers_calls', 1, false)"),
            self.running_nodes())

    def status(self) -> List[dict]:
        """One dict per node: index, host, placement, type, running,
        listed, connections."""
        counts = self.connection_counts()
        rows = []
        for i in sorted(self.nodes):
            n = self.nodes[i]
            rows.append({"index": i, "host": n.host, "port": n.port,
                         "placement": n.placement, "node_type": n.node_type,
                         "public_ip": n.public_ip, "listed": n.listed,
                         "running": n.host in counts,
                         "connections": counts.get(n.host)})
        return rows

    def __enter__(self) -> "YBCluster":
        return self

    def __exit__(self, *exc) -> None:
        self.destroy()


# -- command line ------------------------------------------------------------

def default_basedir(port: int) -> str:
    return os.path.join(tempfile.gettempdir(), "ybcluster-%d" % port)


def specs_from_args(args: argparse.Namespace) -> List[NodeSpec]:
    """Node specs from --nodes/--rr/--placements: primaries first."""
    placements = [p for p in (args.placements or "").split(",") if p]
    total = args.nodes + args.rr
    if not placements:
        placements = ["cloud1.region1.zone%d" % (i + 1) for i in range(total)]
    specs = []
    for i in range(total):
        specs.append(NodeSpec(
            placement=placements[i % len(placements)],
            node_type="primary" if i < args.nodes else "read_replica"))
    return specs


def print_status(cluster: YBCluster) -> None:
    fmt = "%-5s %-15s %-6s %-28s %-13s %-8s %s"
    print(fmt % ("node", "host", "port", "placement", "type", "state",
                 "connections"))
    for row in cluster.status():
        state = "up" if row["running"] else "down"
        if not row["listed"]:
            state += ",unlisted"
        print(fmt % (row["index"], row["host"], row["port"], row["placement"],
                     row["node_type"], state,
                     "-" if row["connections"] is None
                     else row["connections"]))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Local YugabyteDB-like cluster of PostgreSQL servers "
                    "(node i on 127.0.0.i).")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--basedir", help="state and data directory "
                        "(default: $TMPDIR/ybcluster-PORT)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start", help="start a new cluster")
    p.add_argument("--nodes", type=int, default=3, help="primary nodes")
    p.add_argument("--rr", type=int, default=0, help="read-replica nodes")
    p.add_argument("--placements", help="comma-separated cloud.region.zone, "
                   "one per node (primaries first)")
    p.add_argument("--universe-uuid", help="report this universe_uuid")
    sub.add_parser("stop", help="stop the cluster and delete its files")
    sub.add_parser("status", help="show nodes and connection counts")
    for name in ("stop-node", "start-node", "remove-node"):
        sub.add_parser(name).add_argument("index", type=int)
    p = sub.add_parser("add-node")
    p.add_argument("--placement", default="cloud1.region1.zone1")
    p.add_argument("--type", default="primary",
                   choices=["primary", "read_replica"])
    args = parser.parse_args(argv)
    basedir = args.basedir or default_basedir(args.port)

    if args.cmd == "start":
        if os.path.exists(os.path.join(basedir, "cluster.json")):
            print("a cluster is already in %s: stop it first" % basedir,
                  file=sys.stderr)
            return 1
        cluster = YBCluster(port=args.port, basedir=basedir,
                            universe_uuid=args.universe_uuid)
        try:
            cluster.start(specs_from_args(args))
        except BaseException:
            cluster.destroy()
            raise
        print_status(cluster)
        return 0
    if not os.path.exists(os.path.join(basedir, "cluster.json")):
        print("no cluster in %s" % basedir, file=sys.stderr)
        return 1
    cluster = YBCluster.load(basedir)
    if args.cmd == "stop":
        cluster.destroy()
        print("cluster stopped")
    elif args.cmd == "status":
        print_status(cluster)
    elif args.cmd == "stop-node":
        cluster.stop_node(args.index)
    elif args.cmd == "start-node":
        cluster.start_node(args.index)
    elif args.cmd == "remove-node":
        cluster.remove_node(args.index)
    elif args.cmd == "add-node":
        cluster.add_node(NodeSpec(args.placement, node_type=args.type))
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
