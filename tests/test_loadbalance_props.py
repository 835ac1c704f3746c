"""Load-balancing properties: extraction from DSN/URI/kwargs, validation.

Checks against the session's plain PostgreSQL server (no yb_servers()) and
addresses where nothing listens, to prove errors come before any I/O.
"""

import logging
import os
import subprocess
import sys

import pytest

import psycopg2
from psycopg2 import loadbalance
from psycopg2._lb_props import extract_properties

# Nothing listens there: a network attempt would raise OperationalError.
NOWHERE = "host=127.0.0.1 port=1 dbname=x connect_timeout=2"


@pytest.fixture(autouse=True)
def lb_reset():
    loadbalance.reset()
    yield
    loadbalance.reset()


def test_nothing_given_returns_none():
    dsn, kwargs, props = extract_properties("host=a dbname=b", {"user": "u"})
    assert (dsn, kwargs, props) == ("host=a dbname=b", {"user": "u"}, None)


def test_removed_from_key_value_dsn():
    dsn, kwargs, props = extract_properties(
        "host=h load_balance = true port=5433 "
        "topology_keys='aws.east.*:1,aws.west.a:2' password='a b\\'c' "
        "yb_servers_refresh_interval=10 failed_host_ttl_seconds=3 "
        "fallback_to_topology_keys_only=True dbname=d", {})
    assert dsn == "host=h port=5433 password='a b\\'c' dbname=d"
    assert props.load_balance == "any"
    assert [str(k) for k in props.topology_keys] == ["aws.east.*:1",
                                                     "aws.west.a:2"]
    assert props.refresh_interval == 10
    assert props.failed_host_ttl == 3
    assert props.fallback_only is True
    assert psycopg2.extensions.parse_dsn(dsn)["password"] == "a b'c"


def test_quoted_values_are_not_parameters():
    dsn, _, props = extract_properties(
        "password='load_balance=true' host=h", {})
    assert props is None
    assert dsn == "password='load_balance=true' host=h"


def test_removed_from_uri_query():
    dsn, _, props = extract_properties(
        "postgresql://u@h:5433/db?load_balance=only-rr&sslmode=disable"
        "&topology_keys=aws.east.%2A", {})
    assert dsn == "postgresql://u@h:5433/db?sslmode=disable"
    assert props.load_balance == "only-rr"
    assert str(props.topology_keys[0]) == "aws.east.*:1"
    dsn, _, _ = extract_properties("postgres://h/db?load_balance=true", {})
    assert dsn == "postgres://h/db"


def test_removed_from_kwargs_which_win():
    dsn, kwargs, props = extract_properties(
        "host=h load_balance=false",
        {"load_balance": "Prefer-Primary", "dbname": "d",
         "topology_keys": None})
    assert dsn == "host=h"
    assert kwargs == {"dbname": "d"}
    assert props.load_balance == "prefer-primary"


@pytest.mark.parametrize("value, mode", [
    ("true", "any"), ("TRUE", "any"), ("any", "any"), (True, "any"),
    ("only-primary", "only-primary"), ("ONLY-RR", "only-rr"),
    ("prefer-primary", "prefer-primary"), ("prefer-rr", "prefer-rr"),
    ("false", None), (False, None)])
def test_load_balance_values(value, mode):
    _, _, props = extract_properties(None, {"load_balance": value})
    assert props.load_balance == mode
    assert bool(props) is (mode is not None)


@pytest.mark.parametrize("name, value, words", [
    ("load_balance", "yes-please", ["load_balance", "yes-please",
                                    "only-primary"]),
    ("topology_keys", "aws.*.a", ["topology_keys", "aws.*.a", "zone"]),
    ("topology_keys", "*.east.a", ["topology_keys", "*.east.a"]),
    ("topology_keys", "aws.east", ["topology_keys", "cloud.region.zone"]),
    ("topology_keys", "aws.east.a:0", ["topology_keys", "1 to 10"]),
    ("topology_keys", "aws.east.a:11", ["topology_keys", "1 to 10"]),
    ("topology_keys", "aws.east.a:x", ["topology_keys", "preference"]),
    ("topology_keys", "aws.east.a,,b.c.d", ["topology_keys", "empty"]),
    ("failed_host_ttl_seconds", "abc", ["failed_host_ttl_seconds", "abc",
                                        "integer"]),
    ("yb_servers_refresh_interval", "1.5", ["yb_servers_refresh_interval"]),
    ("fallback_to_topology_keys_only", "maybe",
     ["fallback_to_topology_keys_only", "maybe", "true, false"]),
])
def test_invalid_values_raise_before_any_io(name, value, words):
    dsn = "%s load_balance=true %s='%s'" % (NOWHERE, name, value)
    with pytest.raises(psycopg2.ProgrammingError) as exc:
        psycopg2.connect(dsn)
    for w in words:
        assert w in str(exc.value)
    with pytest.raises(psycopg2.ProgrammingError):
        psycopg2.connect(NOWHERE, **dict({"load_balance": "true"},
                                         **{name: value}))


@pytest.mark.parametrize("name, value, default", [
    ("failed_host_ttl_seconds", "61", 5),
    ("failed_host_ttl_seconds", -1, 5),
    ("yb_servers_refresh_interval", "601", 300),
    ("yb_servers_refresh_interval", "-5", 300),
])
def test_out_of_range_numbers_use_the_default(name, value, default, caplog):
    caplog.set_level(logging.WARNING, logger="psycopg2.loadbalance")
    _, _, props = extract_properties(None, {"load_balance": "true",
                                            name: value})
    assert props.get(name) == default
    assert any(name in r.getMessage() for r in caplog.records)


def test_in_range_limits():
    _, _, props = extract_properties(
        "failed_host_ttl_seconds=0 yb_servers_refresh_interval=600 "
        "load_balance=true", {})
    assert props.failed_host_ttl == 0
    assert props.refresh_interval == 600


def test_properties_without_load_balance_are_ignored(dsn, caplog):
    caplog.set_level(logging.WARNING, logger="psycopg2.loadbalance")
    conn = psycopg2.connect(dsn + " topology_keys=aws.east.a "
                            "yb_servers_refresh_interval=5")
    try:
        assert "topology_keys" not in conn.dsn
        cur = conn.cursor()
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
    finally:
        conn.close()
    assert any("topology_keys" in r.getMessage() and "ignored" in
               r.getMessage() for r in caplog.records)
    assert loadbalance.cluster_state() == {}


def test_load_balance_false_is_a_plain_connection(dsn):
    conn = psycopg2.connect(dsn, load_balance="false")
    try:
        assert "load_balance" not in conn.dsn
    finally:
        conn.close()
    assert loadbalance.cluster_state() == {}


def test_plain_postgresql_server_gives_a_normal_connection(dsn, caplog):
    caplog.set_level(logging.DEBUG, logger="psycopg2.loadbalance")
    conns = [psycopg2.connect(dsn + " load_balance=true") for _ in range(3)]
    try:
        cur = conns[0].cursor()
        cur.execute("select count(*) from pg_stat_activity "
                    "where datname = current_database() "
                    "and backend_type = 'client backend'")
        # our 3 connections, no leaked control connection
        count = cur.fetchone()[0]
        for _ in range(50):
            if count == 3:
                break
            conns[0].rollback()
            cur.execute("select count(*) from pg_stat_activity "
                        "where datname = current_database() "
                        "and backend_type = 'client backend'")
            count = cur.fetchone()[0]
        assert count == 3
    finally:
        for c in conns:
            c.close()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "yb_servers" in warnings[0].getMessage()


def test_password_never_logged(dsn, caplog):
    caplog.set_level(logging.DEBUG, logger="psycopg2.loadbalance")
    secret = "s3cr3t-pw-xyz"
    conn = psycopg2.connect(dsn + " password=%s load_balance=true" % secret)
    conn.close()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(NOWHERE + " password=%s load_balance=true" % secret)
    assert caplog.records
    assert secret not in caplog.text


def test_import_configures_no_handler_and_starts_no_thread():
    code = (
        "import logging, threading\n"
        "import psycopg2, psycopg2.loadbalance\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert not logging.getLogger().handlers\n"
        "assert not logging.getLogger('psycopg2.loadbalance').handlers\n"
        "assert not logging.getLogger('psycopg2').handlers\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_load_balance_module_not_imported_for_plain_connects(dsn):
    code = (
        "import sys, psycopg2\n"
        "psycopg2.connect(%r).close()\n"
        "assert 'psycopg2.loadbalance' not in sys.modules\n" % dsn)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# -- the property table ------------------------------------------------------

from psycopg2 import _lb_dsn, _lb_props, _lb_service, _lb_target  # noqa: E402

ENV_NAMES = {
    "load_balance": "PGLOADBALANCE",
    "topology_keys": "PGTOPOLOGYKEYS",
    "fallback_to_topology_keys_only": "PGFALLBACKTOTOPOLOGYKEYSONLY",
    "failed_host_ttl_seconds": "PGFAILEDHOSTTTLSECONDS",
    "yb_servers_refresh_interval": "PGYBSERVERSREFRESHINTERVAL",
    "max_connections_per_node": "PGMAXCONNECTIONSPERNODE",
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def no_lb_env(monkeypatch):
    """No load-balancing or service variable from the caller's session."""
    for name in list(ENV_NAMES.values()) + ["PGSERVICE", "PGSERVICEFILE",
                                            "PGSYSCONFDIR"]:
        monkeypatch.delenv(name, raising=False)
    _lb_props.clear_cache()
    yield monkeypatch
    _lb_props.clear_cache()


def test_table_declares_each_property_once():
    names = [p.name for p in _lb_props.PROPERTIES]
    assert len(set(names)) == len(names) == 6
    assert {p.name: p.env for p in _lb_props.PROPERTIES} == ENV_NAMES
    assert _lb_props.PROPERTY_NAMES == frozenset(ENV_NAMES)
    assert loadbalance.PROPERTY_NAMES == _lb_props.PROPERTY_NAMES
    assert psycopg2._LB_PROPERTY_NAMES is _lb_props.PROPERTY_NAMES
    assert loadbalance.extract_properties is _lb_props.extract_properties
    for prop in _lb_props.PROPERTIES:
        assert prop.doc and prop.accepted
        # the default is what an LBProperties without settings holds
        assert getattr(_lb_props.LBProperties(), prop.name) == prop.default
        # show() is the inverse of the parser
        shown = prop.show(prop.default)
        if shown:
            assert prop.parse(prop, shown, "x") == prop.default


def test_repr_and_aliases_come_from_the_table():
    _, _, props = extract_properties(
        "load_balance=prefer-rr topology_keys=a.b.c:2 "
        "fallback_to_topology_keys_only=true failed_host_ttl_seconds=7 "
        "yb_servers_refresh_interval=9", {})
    assert repr(props) == (
        "LBProperties(load_balance='prefer-rr', topology_keys='a.b.c:2', "
        "fallback_to_topology_keys_only='true', failed_host_ttl_seconds='7', "
        "yb_servers_refresh_interval='9', max_connections_per_node='0')")
    assert (props.fallback_only, props.failed_host_ttl,
            props.refresh_interval) == (True, 7, 9)
    assert (props.fallback_to_topology_keys_only,
            props.failed_host_ttl_seconds,
            props.yb_servers_refresh_interval) == (True, 7, 9)
    assert props.get("topology_keys") == "a.b.c:2"
    assert props.get("nope", 42) == 42
    # the constructor takes both spellings and a topology string
    p = _lb_props.LBProperties("any", "x.y.*", fallback_only=True,
                               failed_host_ttl=1, refresh_interval=2)
    assert (p.fallback_to_topology_keys_only, p.failed_host_ttl_seconds,
            p.yb_servers_refresh_interval) == (True, 1, 2)
    assert p.tiers() == (((None), p.levels[0]),)


def test_docs_tables_are_generated_from_the_table():
    script = os.path.join(ROOT, "scripts", "lb_props_table.py")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    res = subprocess.run([sys.executable, script, "--check"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert res.returncode == 0, res.stdout.decode()
    sys.path.insert(0, os.path.dirname(script))
    try:
        import lb_props_table
    finally:
        sys.path.pop(0)
    table = lb_props_table.render()
    text = "\n".join(table)
    for prop in _lb_props.PROPERTIES:
        assert "``%s``" % prop.name in text and prop.env in text
        assert prop.doc in text
    # a hand-edited table is caught
    with open(os.path.join(ROOT, "README.rst"), encoding="utf-8") as f:
        readme = f.read()
    assert lb_props_table.replace_table(readme, table, "README.rst") == readme
    edited = readme.replace("``PGTOPOLOGYKEYS``", "``PGTOPOKEYS``")
    assert lb_props_table.replace_table(edited, table, "x") == readme


# -- environment variables ---------------------------------------------------

def test_env_values_are_defaults_that_dsn_and_kwargs_override(no_lb_env):
    no_lb_env.setenv("PGLOADBALANCE", "only-rr")
    no_lb_env.setenv("PGTOPOLOGYKEYS", "aws.east.*")
    no_lb_env.setenv("PGFALLBACKTOTOPOLOGYKEYSONLY", "true")
    no_lb_env.setenv("PGFAILEDHOSTTTLSECONDS", "9")
    no_lb_env.setenv("PGYBSERVERSREFRESHINTERVAL", "11")
    _, _, props = extract_properties("host=h", {})
    assert (props.load_balance, props.get("topology_keys"),
            props.fallback_only, props.failed_host_ttl,
            props.refresh_interval) == ("only-rr", "aws.east.*:1", True, 9,
                                        11)
    assert props.given == ()
    assert props.origins["load_balance"] == "env"
    _, _, props = extract_properties(
        "host=h load_balance=any failed_host_ttl_seconds=2",
        {"yb_servers_refresh_interval": 3})
    assert (props.load_balance, props.failed_host_ttl,
            props.refresh_interval, props.fallback_only) == ("any", 2, 3,
                                                             True)
    _, _, props = extract_properties("host=h load_balance=false", {})
    assert not props


@pytest.mark.parametrize("name, value", [
    ("load_balance", "bogus"), ("topology_keys", "*.east.a"),
    ("fallback_to_topology_keys_only", "sometimes"),
    ("failed_host_ttl_seconds", "soon"),
    ("yb_servers_refresh_interval", "1e3"),
])
def test_env_malformed_value_names_the_variable(no_lb_env, name, value):
    var = ENV_NAMES[name]
    no_lb_env.setenv("PGLOADBALANCE", "true")
    no_lb_env.setenv(var, value)
    with pytest.raises(psycopg2.ProgrammingError) as exc:
        psycopg2.connect(NOWHERE)
    msg = str(exc.value)
    assert msg.startswith("invalid value for environment variable %s (%s): "
                          "%r" % (var, name, value)), msg
    assert "; accepted: " in msg
    # the same error as in a DSN, but for where the value came from
    no_lb_env.delenv(var)
    no_lb_env.delenv("PGLOADBALANCE", raising=False)
    with pytest.raises(psycopg2.ProgrammingError) as exc2:
        psycopg2.connect("%s load_balance=true %s='%s'" % (NOWHERE, name,
                                                          value))
    assert str(exc2.value).split(": ", 1)[1] == msg.split(": ", 1)[1]


def test_env_only_properties_are_not_reported_ignored(no_lb_env, dsn,
                                                      caplog):
    caplog.set_level(logging.WARNING, logger="psycopg2.loadbalance")
    no_lb_env.setenv("PGTOPOLOGYKEYS", "aws.east.a")
    no_lb_env.setenv("PGLOADBALANCE", "false")
    conn = psycopg2.connect(dsn)
    conn.close()
    assert not caplog.records
    assert loadbalance.cluster_state() == {}


def test_env_enables_load_balancing_on_a_real_server(no_lb_env, dsn,
                                                     caplog):
    caplog.set_level(logging.WARNING, logger="psycopg2.loadbalance")
    no_lb_env.setenv("PGLOADBALANCE", "true")
    conn = psycopg2.connect(dsn)
    try:
        cur = conn.cursor()
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
    finally:
        conn.close()
    # the balancer ran: no yb_servers() on plain PostgreSQL, said once
    assert len(loadbalance.cluster_state()) == 1
    assert any("yb_servers" in r.getMessage() for r in caplog.records)
    # and the DSN's load_balance=false wins over the variable
    loadbalance.reset()
    psycopg2.connect(dsn + " load_balance=false").close()
    assert loadbalance.cluster_state() == {}


# -- service files -------------------------------------------------------------

def write_services(path, groups):
    with open(path, "w") as f:
        for name, lines in groups.items():
            f.write("# a comment\n[%s]\n%s\n\n" % (name, "\n".join(lines)))
    return str(path)


def server_lines(dsn):
    params = psycopg2.extensions.parse_dsn(dsn)
    return ["%s=%s" % (k, params[k]) for k in ("host", "port", "user",
                                                "dbname")]


def test_parse_group_reads_as_libpq():
    text = ("[a]\nhost=x\n[b]\n  host=h1 \nport= 5\nhost=h2\n#c\n\n"
            "load_balance=true\n[b2]\nhost=z\n[b]\nport=9\n")
    g = _lb_service.parse_group(text, "b", "/f")
    assert g.found and not g.error
    # first setting wins, values keep inner blanks, the group ends at "["
    assert g.params == {"host": "h1", "port": " 5", "load_balance": "true"}
    for bad, what in [("[b]\nhost\n", "syntax error"),
                      ("[b]\nhost =x\n", "syntax error"),
                      ("[b]\nservice=c\n", "nested service")]:
        g = _lb_service.parse_group(bad, "b", "/f")
        assert what in g.error and "/f" in g.error and "line 2" in g.error
    assert not _lb_service.parse_group("[bb]\nhost=x\n", "b", "/f").found
    assert _lb_service.parse_group("[b] x\nhost=y\n", "b", "/f").found


def test_service_files_searched_as_libpq():
    files = _lb_service.service_files
    assert files({}, "/home/u") == [
        "/home/u/.pg_service.conf",
        os.path.join(_lb_service.DEFAULT_SYSCONFDIR, "pg_service.conf")]
    assert files({"PGSERVICEFILE": "/s.conf", "PGSYSCONFDIR": "/etc/x"},
                 "/home/u") == ["/s.conf", "/etc/x/pg_service.conf"]


def test_service_with_load_balance(no_lb_env, dsn, tmp_path):
    lines = server_lines(dsn)
    no_lb_env.setenv("PGSERVICEFILE", write_services(
        tmp_path / "s.conf", {
            "lb": lines + ["load_balance=true", "failed_host_ttl_seconds=7"],
            "off": lines + ["load_balance=false"],
            "plain": lines,
            "bad": lines + ["load_balance=maybe"]}))
    # libpq alone would say "syntax error in service file"
    new_dsn, kwargs, props = extract_properties("service=lb", {})
    assert props.load_balance == "any" and props.failed_host_ttl == 7
    assert "service" not in psycopg2.extensions.parse_dsn(new_dsn)
    conn = psycopg2.connect("service=lb application_name=svc")
    try:
        assert conn.info.port == int(psycopg2.extensions.parse_dsn(
            dsn)["port"])
        assert conn.get_parameter_status("application_name") == "svc"
    finally:
        conn.close()
    (state,) = loadbalance.cluster_state().values()
    loadbalance.reset()
    conn = psycopg2.connect(service="off")
    conn.close()
    assert loadbalance.cluster_state() == {}
    # a service without properties is left to libpq, untouched
    assert extract_properties("service=plain", {}) == (
        "service=plain", {}, None)
    conn = psycopg2.connect("service=plain")
    assert conn.dsn == "service=plain"
    conn.close()
    with pytest.raises(psycopg2.ProgrammingError) as exc:
        psycopg2.connect("service=bad")
    assert 'load_balance in service "bad"' in str(exc.value)
    assert "'maybe'" in str(exc.value)


def test_service_explicit_settings_win(no_lb_env, dsn, tmp_path):
    no_lb_env.setenv("PGSERVICEFILE", write_services(
        tmp_path / "s.conf", {"lb": server_lines(dsn) + [
            "load_balance=false", "application_name=fromfile"]}))
    new_dsn, kwargs, props = extract_properties(
        "service=lb application_name=mine", {"load_balance": "true"})
    params = psycopg2.extensions.parse_dsn(new_dsn)
    assert params["application_name"] == "mine" and kwargs == {}
    assert props.load_balance == "any"
    conn = psycopg2.connect("service=lb application_name=mine")
    try:    # load_balance=false: a plain connection, libpq's precedence
        assert conn.get_parameter_status("application_name") == "mine"
    finally:
        conn.close()
    assert loadbalance.cluster_state() == {}
    for extra in ({}, {"load_balance": "true"}):
        with pytest.raises(psycopg2.OperationalError) as exc:
            psycopg2.connect("service=lb port=1 connect_timeout=2", **extra)
        assert "port 1 failed" in str(exc.value)


def test_service_from_pgsysconfdir(no_lb_env, dsn, tmp_path):
    no_lb_env.setenv("PGSERVICEFILE", str(tmp_path / "missing.conf"))
    no_lb_env.setenv("PGSYSCONFDIR", str(tmp_path))
    write_services(tmp_path / "pg_service.conf",
                   {"sys": server_lines(dsn) + ["load_balance=true"]})
    conn = psycopg2.connect("service=sys")
    conn.close()
    (key,) = loadbalance.cluster_state()
    params = psycopg2.extensions.parse_dsn(dsn)
    assert key == "%s:%s" % (params["host"], params["port"])


def test_pgservice_with_properties_is_a_clear_error(no_lb_env, dsn,
                                                    tmp_path):
    no_lb_env.setenv("PGSERVICEFILE", write_services(
        tmp_path / "s.conf", {"lb": server_lines(dsn) + ["load_balance=true"],
                              "plain": server_lines(dsn)}))
    no_lb_env.setenv("PGSERVICE", "lb")
    for args in [("",), ("service=lb",)]:
        with pytest.raises(psycopg2.OperationalError) as exc:
            psycopg2.connect(*args)
        assert "PGSERVICE" in str(exc.value)
        assert "PGLOADBALANCE" in str(exc.value)
    # PGSERVICE naming a service without properties: libpq's business
    no_lb_env.setenv("PGSERVICE", "plain")
    no_lb_env.setenv("PGLOADBALANCE", "true")
    conn = psycopg2.connect("")
    conn.close()
    (key,) = loadbalance.cluster_state()
    assert "(default)" not in key


# -- labels and host lists -----------------------------------------------------

def test_labels():
    label = _lb_target.host_port_label
    assert label("::1", 5480) == "[::1]:5480"
    assert label("127.0.0.1", 5) == "127.0.0.1:5"
    assert label("/tmp", "5432") == "/tmp:5432"
    assert _lb_target.Target("host=::1 port=5480").label == "[::1]:5480"
    assert _lb_target.Target(
        "host=h1,::2 hostaddr=127.0.0.1,::2 port=7").label == "h1:7,[::2]:7"


def test_labels_from_pg_variables(monkeypatch):
    monkeypatch.setenv("PGHOST", "127.0.0.3,127.0.0.4")
    monkeypatch.setenv("PGPORT", "6000")
    assert _lb_target.Target("dbname=x").label == (
        "127.0.0.3:6000,127.0.0.4:6000")
    assert _lb_target.Target("host=127.0.0.9").label == "127.0.0.9:6000"
    monkeypatch.delenv("PGPORT")
    assert _lb_target.Target("host=127.0.0.9").label == "127.0.0.9:5432"


@pytest.mark.parametrize("dsn, env", [
    ("host=127.0.0.1,127.0.0.2 port=1,2,3", {}),
    ("host=127.0.0.1,127.0.0.2,127.0.0.3 port=1,2", {}),
    ("hostaddr=127.0.0.1,127.0.0.2 host=a,b,c port=1", {}),
    ("hostaddr=127.0.0.1 host=a,b", {}),
    ("host=127.0.0.1,127.0.0.2 port=1,1,", {}),
    ("host=127.0.0.1,127.0.0.2", {"PGPORT": "1,2,3"}),
    ("port=1,2", {"PGHOST": "127.0.0.1,127.0.0.2,127.0.0.3"}),
])
def test_mismatched_host_lists_fail_as_libpq(monkeypatch, dsn, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(psycopg2.OperationalError) as plain:
        psycopg2.connect(dsn + " connect_timeout=2")
    assert "could not match" in str(plain.value)
    for extra in (" load_balance=true", " load_balance=false"):
        with pytest.raises(psycopg2.OperationalError) as exc:
            psycopg2.connect(dsn + extra + " connect_timeout=2")
        assert type(exc.value) is type(plain.value)
        assert str(exc.value) == str(plain.value)
    assert loadbalance.cluster_state() == {}


# -- DSN quoting and scanning: libpq's -----------------------------------------

def test_make_dsn_quoting_is_psycopg2s():
    # outputs of psycopg2 2.9.10's make_dsn() for the same values
    cases = [
        ("", "''"), ("x", "x"), ("a b", "'a b'"), ("a'b", "a\\'b"),
        ("a\\b", "a\\\\b"), ("'", "\\'"), ("\\", "\\\\"),
        ("a\xa0b", "'a\xa0b'"), ("tab\there", "'tab\there'"),
        ("nl\nx", "'nl\nx'"), ("\xe9", "\xe9"), ("a=b", "a=b"),
        ("'quoted'", "\\'quoted\\'"), (" lead", "' lead'"),
        ("a\\'b c", "'a\\\\\\'b c'"), ("\u2003", "'\u2003'"),
        ("x\x1cy", "'x\x1cy'")]
    for value, quoted in cases:
        assert psycopg2.extensions.make_dsn("host=h", password=value) == (
            "host=h password=" + quoted)
        assert _lb_dsn.quote_value(value) == quoted
        assert psycopg2.extensions.parse_dsn(
            "password=" + quoted)["password"] == value
    assert psycopg2.extensions.make_dsn("dbname=x", port=5432,
                                        user=None) == "dbname=x port=5432"


def test_scanner_whitespace_is_ascii_only():
    text = "host=h password=a\xa0b load_balance=true user=u\u2003v"
    clean, found = _lb_props.strip_dsn(text)
    assert found == {"load_balance": "true"}
    assert psycopg2.extensions.parse_dsn(clean) == {
        "host": "h", "password": "a\xa0b", "user": "u\u2003v"}
    # a trailing backslash is dropped, as libpq drops it
    assert _lb_dsn.conninfo_dict("user=a\\") == {"user": "a"}


_KEYS = ["host", "port", "dbname", "user", "password", "application_name",
         "options"]
_CHARS = ["a", "1", ",", " ", "\t", "\n", "\r", "\f", "\v", "\xa0",
          "\u2003", "\x1c", "\x85", "\\", "'", "=", "\xe9"]


def _random_dsn(rnd):
    """A key=value string, often malformed, and its load-balancing items."""
    items = []
    for _ in range(rnd.randint(0, 5)):
        key = rnd.choice(_KEYS + ["load_balance", "topology_keys"])
        text = "".join(rnd.choice(_CHARS) for _ in range(rnd.randint(0, 5)))
        r = rnd.random()
        value = ("'" + text + "'" if r < 0.3 else "'" + text if r < 0.33
                 else text)
        sep = rnd.choice(["=", "=", " = ", "=\t", "\xa0=", " ="])
        items.append(key + sep + value)
    glue = rnd.choice([" ", " ", "  ", "\t", "\n ", "\xa0"])
    return glue.join(items)


def test_scanner_matches_pqconninfoparse():
    import random
    rnd = random.Random(20261204)
    parse = psycopg2.extensions.parse_dsn
    agreed = 0
    for _ in range(4000):
        text = _random_dsn(rnd)
        try:
            ours = _lb_dsn.conninfo_dict(text)
        except _lb_dsn.ConninfoError:
            ours = None
        lb = {k: v for k, v in (ours or {}).items()
              if k in _lb_props.PROPERTY_NAMES}
        rest, found = _lb_props.strip_dsn(text)
        try:
            ref = parse(rest if lb else text)
        except psycopg2.ProgrammingError:
            ref = None
        if ref is None:
            # libpq refuses: so do we, or a key libpq does not know
            assert ours is None or any(
                k not in _KEYS and k not in lb for k in ours), repr(text)
            continue
        assert ours is not None, repr(text)
        assert found == lb, repr(text)
        assert {k: v for k, v in ours.items() if k not in lb} == ref, (
            repr(text))
        agreed += 1
    assert agreed > 1000


_URI_CHARS = ["a", "1", ",", "%20", "%41", "%2C", "%3D", "+", "=", ":",
              "\xa0", "%", "%zz", "'"]


def _random_uri(rnd):
    """A URI with random query parameters, and the same URI written
    without its load-balancing parameters."""
    params, kept = [], []
    for _ in range(rnd.randint(0, 5)):
        if rnd.random() < 0.4:
            key = rnd.choice(["load_balance", "load%5Fbalance",
                              "topology_keys"])
            value = rnd.choice(["true", "any", "a.b.c", "a.b.%2A"])
            params.append("%s=%s" % (key, value))
            continue
        key = rnd.choice(["application_name", "user", "options", "sslmode",
                          "bogus", ""])
        value = "".join(rnd.choice(_URI_CHARS)
                        for _ in range(rnd.randint(0, 4)))
        params.append(key + rnd.choice(["=", "=", ""]) + value)
        kept.append(params[-1])
    base = rnd.choice(["postgresql://127.0.0.1:5/db", "postgres://h/",
                       "postgresql://"])
    uri = base + ("?" + "&".join(params) if params else "")
    return uri, base + ("?" + "&".join(kept) if kept else "")


def test_uri_stripping_matches_libpq():
    import random
    from urllib.parse import unquote
    rnd = random.Random(4122026)
    parse = psycopg2.extensions.parse_dsn
    agreed = 0
    for _ in range(2000):
        uri, expected = _random_uri(rnd)
        rest, found = _lb_props.strip_dsn(uri)
        try:
            ref = parse(expected)
        except psycopg2.ProgrammingError as e:
            ref = type(e)
        try:
            ours = parse(rest)
        except psycopg2.ProgrammingError as e:
            ours = type(e)
        assert ours == ref, (uri, rest, expected)
        want = {}
        for param in uri.partition("?")[2].split("&"):
            key, _, value = param.partition("=")
            if unquote(key) in _lb_props.PROPERTY_NAMES:
                want[unquote(key)] = unquote(value)
        assert found == want, uri
        agreed += ref is not psycopg2.ProgrammingError
    assert agreed > 300


def test_env_check_sees_each_variable(no_lb_env):
    checks = [_lb_props._env_lookup, _lb_props._env_mentions]
    assert not any(check() for check in checks)
    assert not _lb_props.mentions_properties("host=h", {"user": "u"})
    for var in list(ENV_NAMES.values()) + ["PGSERVICE"]:
        no_lb_env.setenv(var, "x")
        assert all(check() for check in checks), var
        assert _lb_props.mentions_properties("host=h", {})
        no_lb_env.delenv(var)
        assert not any(check() for check in checks), var


def test_max_connections_per_node_sources(no_lb_env):
    def cap(dsn, **kwargs):
        return extract_properties(dsn, kwargs)[2].max_connections_per_node

    assert cap("load_balance=true") == 0
    assert cap("load_balance=true max_connections_per_node=3") == 3
    assert cap("postgresql://h/db?load_balance=true"
               "&max_connections_per_node=4") == 4
    assert cap("load_balance=true", max_connections_per_node=5) == 5
    no_lb_env.setenv("PGMAXCONNECTIONSPERNODE", "6")
    _lb_props.clear_cache()
    assert cap("load_balance=true") == 6
    assert cap("load_balance=true max_connections_per_node=2") == 2
    with pytest.raises(psycopg2.ProgrammingError,
                       match="max_connections_per_node"):
        cap("load_balance=true max_connections_per_node=two")
    assert extract_properties("load_balance=true", {"max_connections_"
                              "per_node": 1})[2].max_per_node == 1
