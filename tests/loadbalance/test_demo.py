"""The README's main job, scripts/demo.py, runs end to end on a real local
cluster: every connection set lands where the balancer says, and the
failover act converges back with no error seen by the application."""

import os
import re
import subprocess
import sys

from lbhelpers import ybcluster

DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "scripts", "demo.py")


def test_demo_runs_and_converges():
    port = ybcluster.free_port(6)
    proc = subprocess.run(
        [sys.executable, DEMO, "--port", str(port)], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=300)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out
    # set 1: 12 connections spread 3/3/3/3 over the 4 nodes
    row = re.search(r"^127\.0\.0\.1 .* primary\s+(\d+)", out, re.M)
    assert row and row.group(1) == "3", out
    assert "yb_servers() queries served: 1" in out, out
    m = re.search(r"back to 3 per node ([\d.]+) s after the node returned; "
                  r"errors seen by the application: (\d+)", out)
    assert m, out
    assert m.group(2) == "0", out
    assert "stopping the cluster" in out
