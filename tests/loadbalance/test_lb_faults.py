"""Load balancing under faults, against a real 4-node cluster.

A failing node never takes the healthy ones down, a client-side mistake
marks no node, a full outage ends as soon as one node is back, a seed given
by name matches the nodes' public IPs, and the configuration may come from
the environment or a service file.  The nodes serve TLS (a certificate made
here, whose name matches no host) and have a role ``lbpw`` that must log in
with a password.
"""

import logging
import os
import pwd
import re
import subprocess
import time

import pytest

import psycopg2
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import loadbalance

from lbhelpers import NodeSpec, expected_counts, lb_dsn, start_cluster
from tcpdelay import SilentServer

logger = logging.getLogger("lbfault")

PW_ROLE = "lbpw"
PW_SECRET = "lb-secret"
CERT_NAME = "lbfault-node"
NODES = 4


def make_certs(directory):
    """A CA and a server certificate (CN=CERT_NAME) signed by it."""
    os.makedirs(directory)

    def openssl(*args):
        res = subprocess.run(("openssl",) + args, cwd=directory,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True)
        if res.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0],
                                                          res.stdout))

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes")
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=lbfault-ca",
            "-keyout", "ca.key", "-out", "ca.crt")
    openssl("req", *ec, "-subj", "/CN=" + CERT_NAME, "-keyout",
            "server.key", "-out", "server.csr")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-out", "server.crt")
    os.chmod(os.path.join(directory, "server.key"), 0o600)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for name in ("server.key", "server.crt"):
            os.chown(os.path.join(directory, name), pw.pw_uid, pw.pw_gid)
    return os.path.join(directory, "ca.crt")


def configure_node(cluster, index, certdir):
    """TLS on, and password authentication for PW_ROLE."""
    node = cluster.nodes[index]
    with open(os.path.join(node.datadir, "postgresql.conf"), "a") as f:
        f.write("ssl = on\nssl_cert_file = '%s/server.crt'\n"
                "ssl_key_file = '%s/server.key'\n" % (certdir, certdir))
    hba = os.path.join(node.datadir, "pg_hba.conf")
    with open(hba) as f:
        rules = f.read()
    with open(hba, "w") as f:
        f.write("host all %s 127.0.0.0/8 scram-sha-256\n"
                "host all %s ::1/128 scram-sha-256\n%s"
                % (PW_ROLE, PW_ROLE, rules))
    cluster.psql(index, "CREATE ROLE %s LOGIN PASSWORD '%s'"
                 % (PW_ROLE, PW_SECRET))
    # yb_servers() works for every user, as in YugabyteDB
    cluster.psql(index, "GRANT SELECT ON yb_cluster_nodes, yb_cluster_info "
                 "TO %s; GRANT USAGE, UPDATE ON SEQUENCE yb_servers_calls "
                 "TO %s" % (PW_ROLE, PW_ROLE))
    cluster.psql(index, "SELECT pg_reload_conf()")
    deadline = time.monotonic() + 10
    while cluster.psql(index, "SHOW ssl").strip() != "on":
        assert time.monotonic() < deadline, "ssl not enabled on node %d" % (
            index)
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster():
    c = start_cluster([NodeSpec("c.r.a", extra_listen=["::1"]),
                       NodeSpec("c.r.b"), NodeSpec("c.r.c"),
                       NodeSpec("c.r.d")])
    try:
        c.ca_file = make_certs(os.path.join(c.basedir, "ssl"))
        c._parallel(lambda i: configure_node(c, i, os.path.dirname(
            c.ca_file)), sorted(c.nodes))
    except BaseException:
        c.destroy()
        raise
    yield c
    c.destroy()


@pytest.fixture
def all_up(cluster):
    """Every node running at the end of the test."""
    yield
    cluster._parallel(cluster.start_node, sorted(cluster.nodes))


def failed_hosts():
    return sorted(n["host"] for c in loadbalance.cluster_state().values()
                  for n in c["nodes"] if n["failed"])


def connect_many(n, dsn, conns, **kwargs):
    """n connects; return the errors (connections go to `conns`)."""
    errors = []
    for _ in range(n):
        try:
            conns.append(psycopg2.connect(dsn, **kwargs))
        except psycopg2.Error as e:
            errors.append(str(e))
    return errors


def wait_spread(cluster, want, timeout=15):
    """Poll the running nodes' counts until their sorted values are
    `want`; return the sorted values, equal or not."""
    deadline = time.monotonic() + timeout
    while True:
        got = sorted(cluster.connection_counts().values())
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def all_two(cluster):
    return expected_counts(cluster, n1=2, n2=2, n3=2, n4=2)


# -- async and green connections with a node down ---------------------------

def async_connect(dsn):
    conn = psycopg2.connect(dsn, async_=True)
    try:
        psycopg2.extras.wait_select(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def test_async_failover_one_node_of_four_down(cluster, conns, all_up):
    dsn = lb_dsn(cluster, "load_balance=true failed_host_ttl_seconds=60")
    cluster.stop_node(4)
    errors = []
    for _ in range(20):
        try:
            conns.append(async_connect(dsn))
        except psycopg2.Error as e:
            errors.append(str(e))
    logger.info("async, 1 of 4 nodes down: %d errors in 20 connects",
                len(errors))
    assert errors == []
    assert failed_hosts() == [cluster.nodes[4].host]
    assert wait_spread(cluster, [6, 7, 7]) == [6, 7, 7]
    for conn in conns:
        cur = conn.cursor()
        cur.execute("select 1")
        psycopg2.extras.wait_select(conn)
        assert cur.fetchone() == (1,)


def test_green_failover_one_node_of_four_down(cluster, conns, all_up):
    dsn = lb_dsn(cluster, "load_balance=true failed_host_ttl_seconds=60")
    cluster.stop_node(2)
    psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)
    try:
        errors = connect_many(20, dsn, conns)
        for conn in conns:
            cur = conn.cursor()
            cur.execute("select 1")
            assert cur.fetchone() == (1,)
    finally:
        psycopg2.extensions.set_wait_callback(None)
    logger.info("green, 1 of 4 nodes down: %d errors in 20 connects",
                len(errors))
    assert errors == []
    assert failed_hosts() == [cluster.nodes[2].host]
    assert wait_spread(cluster, [6, 7, 7]) == [6, 7, 7]


def test_async_failover_with_refresh_at_each_connect(cluster, conns, all_up):
    # async connects in a row, with the node list refreshed at each one
    dsn = lb_dsn(cluster, "load_balance=true yb_servers_refresh_interval=0")
    cluster.stop_node(3)
    errors = []
    for _ in range(8):
        try:
            conns.append(async_connect(dsn))
        except psycopg2.Error as e:
            errors.append(str(e))
    assert errors == []
    assert cluster.nodes[3].host not in [c.info.host for c in conns]


# -- client-side mistakes --------------------------------------------------

MISTAKES = {
    "bad-sslmode": ("sslmode=bogus", 'invalid sslmode value: "bogus"'),
    "missing-rootcert": (
        "sslmode=verify-ca sslrootcert=/nonexistent/lbfault/root.crt",
        'root certificate file "/nonexistent/lbfault/root.crt" does not '
        'exist'),
    "no-password": ("user=%s" % PW_ROLE, "no password supplied"),
    "bad-password": ("user=%s password=wrong" % PW_ROLE,
                     'password authentication failed for user "%s"'
                     % PW_ROLE),
    "standby": ("target_session_attrs=standby",
                "server is not in hot standby mode"),
    "unknown-database": ("dbname=lbfault_nosuchdb",
                         'database "lbfault_nosuchdb" does not exist'),
    "unknown-user": ("user=lbfault_nosuchuser",
                     'role "lbfault_nosuchuser" does not exist'),
}


def normalized(exc):
    """The error message, node addresses replaced by HOST."""
    return re.sub(r"127\.0\.0\.\d+", "HOST", str(exc))


@pytest.mark.parametrize("cached", [False, True],
                         ids=["first-connect", "list-cached"])
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_client_mistake_marks_no_node(cluster, conns, mistake, cached):
    extra, expected = MISTAKES[mistake]
    with pytest.raises(psycopg2.Error) as plain:
        psycopg2.connect(cluster.node_dsn(1) + " " + extra)
    assert expected in str(plain.value)
    base = lb_dsn(cluster, "load_balance=true failed_host_ttl_seconds=60")
    if cached:
        conns.append(psycopg2.connect(base))
    with pytest.raises(psycopg2.Error) as exc:
        psycopg2.connect(base + " " + extra)
    # libpq's own message, as without load balancing
    assert type(exc.value) is type(plain.value)
    assert normalized(exc.value) == normalized(plain.value)
    assert exc.value.pgcode == plain.value.pgcode
    assert failed_hosts() == []
    # the correct connects that follow use every node
    errors = connect_many(8 - len(conns), base, conns)
    assert errors == []
    assert failed_hosts() == []
    assert cluster.wait_counts(all_two(cluster)) == all_two(cluster)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_server_refusal_of_one_node_fails_over(cluster, conns, mode):
    # node 2 refuses PW_ROLE with SQLSTATE 53300 (too many connections):
    # the node's own state, not the client's mistake
    cluster.psql(2, "ALTER ROLE %s CONNECTION LIMIT 0" % PW_ROLE)
    try:
        base = lb_dsn(cluster, "load_balance=true failed_host_ttl_seconds=60"
                      " user=%s password=%s" % (PW_ROLE, PW_SECRET))
        errors = []
        for _ in range(6):
            try:
                conns.append(async_connect(base) if mode == "async"
                             else psycopg2.connect(base))
            except psycopg2.Error as e:
                errors.append(str(e))
    finally:
        cluster.psql(2, "ALTER ROLE %s CONNECTION LIMIT -1" % PW_ROLE)
    assert errors == []
    assert failed_hosts() == [cluster.nodes[2].host]
    (state,) = loadbalance.cluster_state().values()
    node2 = next(n for n in state["nodes"]
                 if n["host"] == cluster.nodes[2].host)
    assert "too many connections" in node2["fail_reason"]
    want = expected_counts(cluster, n1=2, n3=2, n4=2)
    assert cluster.wait_counts(want) == want


def test_password_role_connects_everywhere(cluster, conns):
    base = lb_dsn(cluster, "load_balance=true user=%s password=%s"
                  % (PW_ROLE, PW_SECRET))
    assert connect_many(8, base, conns) == []
    assert cluster.wait_counts(all_two(cluster)) == all_two(cluster)


def test_certificate_name_mismatch_keeps_require_users(cluster, conns):
    full = " sslmode=verify-full sslrootcert=%s" % cluster.ca_file
    with pytest.raises(psycopg2.OperationalError) as plain:
        psycopg2.connect(cluster.node_dsn(1) + full)
    assert "does not match host name" in str(plain.value)
    base = lb_dsn(cluster, "load_balance=true failed_host_ttl_seconds=60")
    conns.append(psycopg2.connect(base + " sslmode=require"))
    with pytest.raises(psycopg2.OperationalError) as exc:
        psycopg2.connect(base + full)
    assert "does not match host name" in str(exc.value)
    assert failed_hosts() == []
    # the certificate is fine for connections that do not check the name
    errors = connect_many(7, base + " sslmode=require", conns)
    errors += connect_many(4, base + " sslmode=verify-ca sslrootcert=%s"
                           % cluster.ca_file, conns)
    assert errors == []
    assert all(c.info.ssl_in_use for c in conns)
    want = expected_counts(cluster, n1=3, n2=3, n3=3, n4=3)
    assert cluster.wait_counts(want) == want


# -- outages ---------------------------------------------------------------

def test_full_outage_then_one_node_back(cluster, conns, all_up):
    base = lb_dsn(cluster, "load_balance=true failed_host_ttl_seconds=5")
    conns.append(psycopg2.connect(base))
    conns.close_all()
    cluster._parallel(cluster.stop_node, sorted(cluster.nodes))
    with pytest.raises(psycopg2.OperationalError) as exc:
        psycopg2.connect(base)
    for i in sorted(cluster.nodes):
        assert "%s:%d" % (cluster.nodes[i].host, cluster.port) in str(
            exc.value)
    assert len(failed_hosts()) == NODES
    cluster.start_node(3)
    # every node is inside its TTL: the last resort tries them anyway
    t0 = time.monotonic()
    conn = psycopg2.connect(base)
    took = time.monotonic() - t0
    conns.append(conn)
    logger.info("full outage, node 3 back: first connect succeeded in "
                "%.3f s (TTL 5 s)", took)
    assert conn.info.host == cluster.nodes[3].host
    assert took < 5


def test_failed_flag_clears_after_ttl(cluster, conns, all_up):
    base = lb_dsn(cluster, "load_balance=true failed_host_ttl_seconds=1")
    cluster.stop_node(4)
    assert connect_many(4, base, conns) == []
    host4 = cluster.nodes[4].host
    assert failed_hosts() == [host4]
    time.sleep(1.3)
    # eligible again (it will be tried), although still down
    assert failed_hosts() == []
    state = next(iter(loadbalance.cluster_state().values()))
    node4 = next(n for n in state["nodes"] if n["host"] == host4)
    assert node4["failed"] is False


def test_refresh_tries_an_unreachable_seed_once(cluster, conns, all_up):
    # node 4, the seed, is replaced by a server that accepts TCP
    # connections and never answers: each try costs connect_timeout
    base = lb_dsn(cluster, "load_balance=true connect_timeout=2 "
                  "yb_servers_refresh_interval=1", index=4)
    # one connection per node but node 4: it would be the next chosen
    assert connect_many(NODES, base, conns) == []
    conns.pop(next(i for i, c in enumerate(conns)
                   if c.info.host == cluster.nodes[4].host)).close()
    cluster.stop_node(4)
    silent = SilentServer((cluster.nodes[4].host, cluster.port))
    try:
        time.sleep(1.1)             # the node list is due for a refresh
        conns.append(psycopg2.connect(base))
        tries = silent.accepted
    finally:
        silent.close()
    assert conns[-1].info.host != cluster.nodes[4].host
    assert tries == 1


def test_node_failure_refreshes_the_node_list_early(cluster, conns):
    # node 4 leaves the cluster: the failure to reach it makes the node
    # list be read again long before yb_servers_refresh_interval
    base = lb_dsn(cluster, "load_balance=true failed_host_ttl_seconds=60 "
                  "yb_servers_refresh_interval=300")
    assert connect_many(NODES, base, conns) == []
    host4 = cluster.nodes[4].host
    cluster.unlist_node(4)
    cluster.stop_node(4)
    try:
        cluster.reset_yb_servers_calls()
        listed = [host4]
        deadline = time.monotonic() + 5
        while host4 in listed and time.monotonic() < deadline:
            assert connect_many(1, base, conns) == []
            (state,) = loadbalance.cluster_state().values()
            listed = [n["host"] for n in state["nodes"]]
            time.sleep(0.1)
        calls = cluster.yb_servers_calls()
    finally:
        cluster.start_node(4)
        cluster.list_node(4)
    assert host4 not in listed
    # at most one refresh a second
    assert 1 <= calls <= 6


# -- seeds given by name, public IPs ----------------------------------------

@pytest.fixture(scope="module")
def pubcluster():
    # yb_servers() lists hosts nothing listens on (127.0.0.10i) and the
    # nodes' real addresses as public_ip
    c = start_cluster([NodeSpec("c.r.a", advertise_host="127.0.0.101",
                                public_ip="127.0.0.1"),
                       NodeSpec("c.r.b", advertise_host="127.0.0.102",
                                public_ip="127.0.0.2"),
                       NodeSpec("c.r.c", advertise_host="127.0.0.103",
                                public_ip="127.0.0.3")])
    yield c
    c.destroy()


@pytest.mark.parametrize("seed", ["host=localhost",
                                  "host=localhost hostaddr=127.0.0.2"])
def test_seed_by_name_uses_public_ips(pubcluster, conns, seed):
    dsn = "%s port=%d user=yugabyte dbname=yugabyte load_balance=true" % (
        seed, pubcluster.port)
    assert connect_many(6, dsn, conns) == []
    want = expected_counts(pubcluster, n1=2, n2=2, n3=2)
    assert pubcluster.wait_counts(want) == want
    (state,) = loadbalance.cluster_state().values()
    assert state["use_public_ip"] is True


# -- configuration from the environment and service files -------------------

def test_env_enables_load_balancing(cluster, conns, monkeypatch):
    monkeypatch.setenv("PGLOADBALANCE", "true")
    assert connect_many(8, cluster.node_dsn(1), conns) == []
    assert cluster.wait_counts(all_two(cluster)) == all_two(cluster)


def test_env_topology_keys_and_dsn_override(cluster, conns, monkeypatch):
    monkeypatch.setenv("PGLOADBALANCE", "true")
    monkeypatch.setenv("PGTOPOLOGYKEYS", "c.r.b")
    assert connect_many(3, cluster.node_dsn(1), conns) == []
    assert {c.info.host for c in conns} == {cluster.nodes[2].host}
    # a DSN property wins over the variable
    assert connect_many(2, cluster.node_dsn(1) + " topology_keys=c.r.c",
                        conns) == []
    assert {c.info.host for c in conns[3:]} == {cluster.nodes[3].host}
    # load_balance=false in the DSN: a plain connection to the given host
    conns.append(psycopg2.connect(cluster.node_dsn(4)
                                  + " load_balance=false"))
    assert conns[-1].info.host == cluster.nodes[4].host


def test_env_refresh_interval_and_dsn_override(cluster, conns, monkeypatch):
    monkeypatch.setenv("PGLOADBALANCE", "true")
    monkeypatch.setenv("PGYBSERVERSREFRESHINTERVAL", "0")
    cluster.reset_yb_servers_calls()
    assert connect_many(3, cluster.node_dsn(1), conns) == []
    assert cluster.yb_servers_calls() == 3      # read at every connect
    loadbalance.reset()
    cluster.reset_yb_servers_calls()
    assert connect_many(3, cluster.node_dsn(1)
                        + " yb_servers_refresh_interval=300", conns) == []
    assert cluster.yb_servers_calls() == 1


def test_env_fallback_only_and_ttl(cluster, conns, monkeypatch, all_up):
    monkeypatch.setenv("PGLOADBALANCE", "true")
    monkeypatch.setenv("PGTOPOLOGYKEYS", "c.r.b")
    monkeypatch.setenv("PGFALLBACKTOTOPOLOGYKEYSONLY", "true")
    monkeypatch.setenv("PGFAILEDHOSTTTLSECONDS", "60")
    assert connect_many(1, cluster.node_dsn(1), conns) == []
    cluster.stop_node(2)
    with pytest.raises(psycopg2.OperationalError) as exc:
        psycopg2.connect(cluster.node_dsn(1))
    assert cluster.nodes[2].host in str(exc.value)
    (state,) = loadbalance.cluster_state().values()
    node2 = next(n for n in state["nodes"]
                 if n["host"] == cluster.nodes[2].host)
    assert node2["failed"]
    # the DSN wins: fallback allowed
    assert connect_many(1, cluster.node_dsn(1)
                        + " fallback_to_topology_keys_only=false",
                        conns) == []
    assert conns[-1].info.host != cluster.nodes[2].host


@pytest.mark.parametrize("var, value", [
    ("PGLOADBALANCE", "bogus"),
    ("PGFAILEDHOSTTTLSECONDS", "soon"),
    ("PGTOPOLOGYKEYS", "*.r.a"),
])
def test_env_malformed_value_names_the_variable(cluster, monkeypatch, var,
                                                value):
    monkeypatch.setenv("PGLOADBALANCE", "true")
    monkeypatch.setenv(var, value)
    with pytest.raises(psycopg2.ProgrammingError) as exc:
        psycopg2.connect(cluster.node_dsn(1))
    assert var in str(exc.value)
    assert value in str(exc.value)


def write_service(tmp_path, cluster, name, *lines):
    path = tmp_path / "pg_service.conf"
    path.write_text("[%s]\nhost=%s\nport=%d\nuser=yugabyte\n"
                    "dbname=yugabyte\n%s\n" % (
                        name, cluster.nodes[1].host, cluster.port,
                        "\n".join(lines)))
    return str(path)


def test_service_file_with_load_balance(cluster, conns, monkeypatch,
                                        tmp_path):
    monkeypatch.setenv("PGSERVICEFILE", write_service(
        tmp_path, cluster, "lbsvc", "load_balance=true",
        "topology_keys=c.r.c"))
    assert connect_many(3, "service=lbsvc", conns) == []
    assert {c.info.host for c in conns} == {cluster.nodes[3].host}
    # the cluster is labelled with the host and port actually used
    (key,) = loadbalance.cluster_state()
    assert "%s:%d" % (cluster.nodes[1].host, cluster.port) in key
    assert "(default)" not in key


def test_pgservice_with_load_balance_is_a_clear_error(cluster, monkeypatch,
                                                      tmp_path):
    # libpq reads PGSERVICE itself at every connection that names no
    # service, and would find load_balance there: a clear error instead
    monkeypatch.setenv("PGSERVICEFILE", write_service(
        tmp_path, cluster, "lbsvc", "load_balance=true"))
    monkeypatch.setenv("PGSERVICE", "lbsvc")
    with pytest.raises(psycopg2.OperationalError) as exc:
        psycopg2.connect("")
    assert "PGSERVICE" in str(exc.value)
    assert "syntax error" not in str(exc.value)


def test_service_file_without_load_balance_is_plain(cluster, conns,
                                                    monkeypatch, tmp_path):
    monkeypatch.setenv("PGSERVICEFILE", write_service(
        tmp_path, cluster, "plainsvc"))
    assert connect_many(3, "service=plainsvc", conns) == []
    assert {c.info.host for c in conns} == {cluster.nodes[1].host}
    assert loadbalance.cluster_state() == {}


def test_label_from_pg_env(cluster, conns, monkeypatch):
    monkeypatch.setenv("PGHOST", cluster.nodes[1].host)
    monkeypatch.setenv("PGPORT", str(cluster.port))
    conns.append(psycopg2.connect("user=yugabyte dbname=yugabyte "
                                  "load_balance=true"))
    (key,) = loadbalance.cluster_state()
    assert key == "%s:%d" % (cluster.nodes[1].host, cluster.port)


def test_label_ipv6(cluster, conns):
    conns.append(psycopg2.connect("host=::1 port=%d user=yugabyte "
                                  "dbname=yugabyte load_balance=true"
                                  % cluster.port))
    (key,) = loadbalance.cluster_state()
    assert key == "[::1]:%d" % cluster.port


# -- documentation -----------------------------------------------------------

def test_doc_page_examples(cluster, all_up):
    """The examples of doc/loadbalance.rst run against this cluster."""
    import doctest
    path = os.path.join(os.path.dirname(__file__), "..", "..", "doc",
                        "loadbalance.rst")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    test = doctest.DocTestParser().get_doctest(
        text, {"dsn": cluster.node_dsn(1), "cluster": cluster},
        "loadbalance.rst", path, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = []
    try:
        runner.run(test, out=out.append)
    finally:
        os.environ.pop("PGFAILEDHOSTTTLSECONDS", None)
    assert runner.failures == 0, "".join(out)
    assert runner.tries >= 15
