"""Test session set-up: one real PostgreSQL server for the whole session.

Set PSYCOPG2_TEST_DSN to use an existing server instead.

Every test also gets back, when it ends, the global registries of psycopg2
(adapters, typecasters, wait callback) as they were when it started, so
that a global registration made by one test (e.g. register_uuid(), or
SQLAlchemy's dialect doing it on connect) cannot change another's results.
"""

import importlib
import os

import pytest

from pgserver import PgServer

# Modules that register adapters or typecasters when first imported: import
# them now, so that the per-test snapshots below already include them.
for _name in ("psycopg2", "psycopg2.extensions", "psycopg2.extras",
              "psycopg2.tz", "psycopg2.sql", "psycopg2.pool",
              "psycopg2.errors", "psycopg2.errorcodes"):
    try:
        importlib.import_module(_name)
    except Exception:  # reported by the tests that use it
        pass


@pytest.fixture(autouse=True)
def _restore_global_registries():
    """Undo the changes a test made to psycopg2's global registries."""
    try:
        import psycopg2.extensions as ext
        saved = [(reg, dict(reg)) for reg in (
            ext.adapters, ext.string_types, ext.binary_types)]
        callback = ext.get_wait_callback()
    except Exception:  # driver not importable: the tests will say so
        yield
        return
    yield
    for reg, content in saved:
        if reg != content:
            reg.clear()
            reg.update(content)
    if ext.get_wait_callback() is not callback:
        ext.set_wait_callback(callback)


@pytest.fixture(scope="session")
def pgserver():
    if os.environ.get("PSYCOPG2_TEST_DSN"):
        yield None
        return
    srv = PgServer(settings={"wal_level": "logical",
                             "max_wal_senders": "10",
                             "max_replication_slots": "10"})
    srv.initdb()
    # allow replication connections for the replication tests
    with open(os.path.join(srv.datadir, "pg_hba.conf"), "a") as f:
        f.write("host replication all 127.0.0.1/32 trust\n")
    srv.start()
    srv.psql("CREATE DATABASE psycopg2_test")
    yield srv
    srv.cleanup()


@pytest.fixture(scope="session")
def dsn(pgserver):
    """libpq connection string of the test database."""
    return os.environ.get("PSYCOPG2_TEST_DSN") or pgserver.dsn


@pytest.fixture
def conn(dsn):
    """A fresh connection, closed at the end of the test."""
    import psycopg2
    c = psycopg2.connect(dsn)
    yield c
    c.close()
