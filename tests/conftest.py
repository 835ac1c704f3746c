"""Test session set-up: one real PostgreSQL server for the whole session.

Set PSYCOPG2_TEST_DSN to use an existing server instead.
"""

import os

import pytest

from pgserver import PgServer


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
