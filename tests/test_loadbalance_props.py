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
from psycopg2.loadbalance import extract_properties

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
