"""Cluster nodes in network namespaces, so that a node can be black-holed.

Each node of a `NetnsCluster` runs in a network namespace of its own,
reached from the host through a veth pair: the host end has ``10.X.i.1/24``,
the node end ``10.X.i.2/24`` (``X`` is chosen so that no host route uses
``10.X.0.0/16``; these addresses exist only on the veths made here, and an
``unreachable`` route for the /16 keeps any packet from leaving the host by
the default route).  The servers are started with ``ip netns exec``.

`Network.black_hole(i)` makes node *i* silently drop packets: the host end
gets a permanent neighbour entry for the node's address (so the kernel does
not answer "unreachable" when ARP fails) and the node's end of the veth is
set down.  A TCP connect to the node then times out instead of being
refused.  `Network.restore(i)` undoes it.

Names start with ``lbf<pid>``; `remove_leftovers()` deletes what a crashed
run (a pid that no longer exists) left behind.  Everything needs root.
"""

import os
import re
import signal
import subprocess
from typing import List, Optional

from lbhelpers import NodeSpec, YBCluster  # noqa: F401
import ybcluster

PREFIX = "lbf"
_NAME_RE = re.compile(r"^%s(\d+)[hnp](\d+)$" % PREFIX)
ROUTE_PROTO = "211"     # marks the safety routes made here


def ip(*args: str, check: bool = True) -> str:
    """Run an `ip` command; return its output."""
    res = subprocess.run(("ip",) + args, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True)
    if check and res.returncode != 0:
        raise RuntimeError("ip %s failed: %s" % (" ".join(args),
                                                 res.stdout.strip()))
    return res.stdout


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_available() -> None:
    """Raise RuntimeError saying why network namespaces can't be used."""
    if os.geteuid() != 0:
        raise RuntimeError("the black-hole tests need root (network "
                           "namespaces and veth pairs)")
    name = "%s%dn0" % (PREFIX, os.getpid())
    try:
        ip("netns", "add", name)
    except (OSError, RuntimeError) as e:
        raise RuntimeError("network namespaces are not available on this "
                           "machine (ip netns add failed): %s" % e)
    ip("netns", "del", name, check=False)


def _kill_netns_processes(ns: str) -> None:
    out = ip("netns", "pids", ns, check=False)
    for pid in out.split():
        if pid.isdigit():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def remove_leftovers() -> None:
    """Delete the namespaces, links and routes of runs that are gone."""
    for line in ip("-o", "link", "show").splitlines():
        parts = line.split(":")
        if len(parts) < 2:
            continue
        name = parts[1].strip().split("@")[0]
        m = _NAME_RE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            ip("link", "del", name, check=False)
    for ns in ip("netns", "list").split("\n"):
        ns = ns.split(" ")[0]
        m = _NAME_RE.match(ns)
        if m and not _pid_alive(int(m.group(1))):
            _kill_netns_processes(ns)
            ip("netns", "del", ns, check=False)
    live = set()
    for line in ip("-o", "addr", "show").splitlines():
        m = re.search(r"inet 10\.(\d+)\.\d+\.1/24 .*%s\d+h\d+" % PREFIX, line)
        if m:
            live.add(m.group(1))
    for line in ip("route", "show", "proto", ROUTE_PROTO).splitlines():
        m = re.match(r"unreachable 10\.(\d+)\.0\.0/16", line)
        if m and m.group(1) not in live:
            ip("route", "del", "unreachable", "10.%s.0.0/16" % m.group(1),
               "proto", ROUTE_PROTO, check=False)


def _claim_subnet() -> int:
    """A 10.X.0.0/16 no route or address uses, claimed by adding the
    safety route (which fails if another run claimed it meanwhile)."""
    used = set(re.findall(r"\b10\.(\d+)\.", ip("-4", "route", "show",
                                               "table", "all")))
    used |= set(re.findall(r"\b10\.(\d+)\.", ip("-4", "addr", "show")))
    for x in range(160, 250):
        if str(x) in used:
            continue
        try:
            ip("route", "add", "unreachable", "10.%d.0.0/16" % x,
               "proto", ROUTE_PROTO)
        except RuntimeError:
            continue
        return x
    raise RuntimeError("no free 10.X.0.0/16 subnet for the test namespaces")


class Network:
    """One namespace per node index, each with a veth pair to the host."""

    def __init__(self) -> None:
        self.tag = "%s%d" % (PREFIX, os.getpid())
        self.subnet = _claim_subnet()
        self.indexes: List[int] = []
        self._route = "10.%d.0.0/16" % self.subnet

    def ns(self, i: int) -> str:
        return "%sn%d" % (self.tag, i)

    def host_if(self, i: int) -> str:
        return "%sh%d" % (self.tag, i)

    def node_if(self, i: int) -> str:
        return "%sp%d" % (self.tag, i)

    def address(self, i: int) -> str:
        """The address of node `i` (inside its namespace)."""
        return "10.%d.%d.2" % (self.subnet, i)

    def host_address(self, i: int) -> str:
        return "10.%d.%d.1" % (self.subnet, i)

    @property
    def hba_network(self) -> str:
        return self._route

    def add(self, i: int) -> None:
        """Create the namespace and veth pair of node `i`."""
        ns, h, p = self.ns(i), self.host_if(i), self.node_if(i)
        ip("netns", "add", ns)
        self.indexes.append(i)
        ip("link", "add", h, "type", "veth", "peer", "name", p)
        ip("link", "set", p, "netns", ns)
        ip("addr", "add", self.host_address(i) + "/24", "dev", h)
        ip("link", "set", h, "up")
        ip("-n", ns, "addr", "add", self.address(i) + "/24", "dev", p)
        ip("-n", ns, "link", "set", p, "up")
        ip("-n", ns, "link", "set", "lo", "up")
        self._check_route(i)

    def _check_route(self, i: int) -> None:
        out = ip("route", "get", self.address(i))
        if "dev %s " % self.host_if(i) not in out + " ":
            raise RuntimeError("packets to %s would not go through %s: %s"
                               % (self.address(i), self.host_if(i), out))

    def exec_prefix(self, i: int) -> List[str]:
        """Command prefix running a program in node `i`'s namespace."""
        return ["ip", "netns", "exec", self.ns(i)]

    def black_hole(self, i: int) -> None:
        """Make node `i` drop every packet: connects time out."""
        mac = ip("-n", self.ns(i), "-o", "link", "show", self.node_if(i))
        m = re.search(r"link/ether ([0-9a-f:]{17})", mac)
        if not m:
            raise RuntimeError("no MAC address for %s: %s"
                               % (self.node_if(i), mac))
        ip("neigh", "replace", self.address(i), "lladdr", m.group(1),
           "dev", self.host_if(i), "nud", "permanent")
        ip("-n", self.ns(i), "link", "set", self.node_if(i), "down")
        self._check_route(i)

    def restore(self, i: int) -> None:
        """Undo `black_hole(i)`."""
        ip("-n", self.ns(i), "link", "set", self.node_if(i), "up")
        ip("neigh", "del", self.address(i), "dev", self.host_if(i),
           check=False)

    def destroy(self) -> None:
        """Delete the namespaces and links (stop the servers first)."""
        for i in self.indexes:
            _kill_netns_processes(self.ns(i))
            ip("link", "del", self.host_if(i), check=False)
            ip("netns", "del", self.ns(i), check=False)
        self.indexes = []
        ip("route", "del", "unreachable", self._route, "proto", ROUTE_PROTO,
           check=False)


class NetnsCluster(YBCluster):
    """A YBCluster whose node i listens on `net.address(i)` in its own
    network namespace (`net.ns(i)`)."""

    def __init__(self, net: Network, port: int = ybcluster.DEFAULT_PORT,
                 universe_uuid: Optional[str] = None):
        super().__init__(port=port, universe_uuid=universe_uuid)
        self.net = net

    def _new_node(self, index: int, spec: NodeSpec) -> "ybcluster.Node":
        node = super()._new_node(index, spec)
        if index not in self.net.indexes:
            self.net.add(index)
        node.host = self.net.address(index)
        if spec.advertise_host is None:
            node.advertise_host = node.host
        if spec.public_ip is None:
            node.public_ip = node.advertise_host
        return node

    def _create_datadir(self, node: "ybcluster.Node") -> None:
        super()._create_datadir(node)
        with open(os.path.join(node.datadir, "pg_hba.conf"), "a") as f:
            f.write("host all all %s trust\n" % self.net.hba_network)

    def _pg_ctl(self, node: "ybcluster.Node", *args: str,
                check: bool = True) -> str:
        cmd = [os.path.join(self.bindir, "pg_ctl"), "-D", node.datadir,
               "-l", os.path.join(node.datadir, "server.log")] + list(args)
        if self._run_as:
            cmd = ["runuser", "-u", self._run_as, "--"] + cmd
        cmd = self.net.exec_prefix(node.index) + cmd
        res = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT,
                             universal_newlines=True)
        if check and res.returncode != 0:
            raise RuntimeError("pg_ctl %s in %s failed (%s): %s" % (
                args[-1], self.net.ns(node.index), res.returncode,
                res.stdout.strip()))
        return res.stdout


def start_netns_cluster(specs: List[NodeSpec]) -> NetnsCluster:
    """A started NetnsCluster of one node per spec (root needed)."""
    check_available()
    remove_leftovers()
    net = Network()
    cluster = NetnsCluster(net)
    try:
        cluster.start(specs)
    except BaseException:
        destroy_netns_cluster(cluster)
        raise
    return cluster


def destroy_netns_cluster(cluster: NetnsCluster) -> None:
    for i in list(cluster.net.indexes):
        cluster.net.restore(i)
    try:
        cluster.destroy()
    finally:
        cluster.net.destroy()
