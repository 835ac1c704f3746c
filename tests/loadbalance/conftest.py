"""Fixtures of the load-balancing tests: local clusters of real servers.

Each test module starts its cluster once (module scope) with
scripts/ybcluster.py (see lbhelpers.start_cluster): node i listens on
127.0.0.i at a port free on every address.  Every test starts with a clean
balancer state and closes the connections it opened.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class Conns(list):
    """Connections opened by a test, closed at its end."""

    def close_all(self):
        while self:
            conn = self.pop()
            try:
                conn.close()
            except Exception:
                pass


@pytest.fixture
def conns():
    c = Conns()
    yield c
    c.close_all()


@pytest.fixture(autouse=True)
def lb_reset():
    """A clean balancer state for every test."""
    from psycopg2 import loadbalance
    loadbalance.reset()
    yield
    loadbalance.reset()


