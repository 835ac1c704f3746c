"""Build the Sphinx documentation as CI does.

``sphinx -W -b html`` must pass with warnings as errors (broken references,
docstrings autodoc cannot read...), and ``sphinx -b doctest`` runs the
examples of every page against the session's test server.  Both builds run
in a child process importing the same ``psycopg2`` as the tests.
"""

import os
import re
import subprocess
import sys

import pytest

import psycopg2

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DOC = os.path.join(ROOT, "doc")


def sphinx_env(**extra):
    """Environment of a child process that imports the tested psycopg2."""
    env = dict(os.environ)
    site = os.path.dirname(os.path.dirname(psycopg2.__file__))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (site, env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def run_sphinx(builder, outdir, **env):
    try:
        import sphinx  # noqa: F401
    except ImportError:
        pytest.fail("Sphinx is not installed in this Python: "
                    "pip install -r tests/requirements.txt")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-E", "-q", "-b", builder,
         DOC, str(outdir)],
        env=sphinx_env(**env), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=300)
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, "sphinx -b %s failed:\n%s" % (builder, out)
    return out


def test_html_build_without_warnings(tmp_path):
    out = tmp_path / "html"
    run_sphinx("html", out)
    # every page is reachable from the index: Sphinx warns (an error here)
    # about documents in no toctree, so the build passing says so; check
    # that the API pages really hold what autodoc extracted
    expected = {
        "api/psycopg2.html": ["connect", "OperationalError"],
        "api/extensions.html": ["connection", "cursor", "register_type",
                                "make_dsn", "Diagnostics", "Xid"],
        "api/extras.html": ["DictCursor", "NamedTupleCursor",
                            "execute_values", "register_composite"],
        "api/pool.html": ["ThreadedConnectionPool", "getconn"],
        "api/sql.html": ["Composed", "Identifier", "Placeholder"],
        "api/loadbalance.html": ["extract_properties", "cluster_state"],
    }
    for page, names in expected.items():
        html = (out / page).read_text(encoding="utf-8")
        found = set(re.findall(
            r'sig-name descname"><span class="pre">([^<]*)<', html))
        missing = [n for n in names if n not in found]
        assert not missing, "%s does not document %s" % (page, missing)
    for page in ("usage", "extras", "sql", "pool", "async", "notify",
                 "lobject", "tpc", "replication", "loadbalance",
                 "differences"):
        assert (out / (page + ".html")).exists(), page


def test_doctest_build_runs_the_examples(tmp_path, dsn):
    out = tmp_path / "doctest"
    run_sphinx("doctest", out, PSYCOPG2_DOC_DSN=dsn)
    report = (out / "output.txt").read_text(encoding="utf-8")
    m = re.search(r"^\s*(\d+) tests\n\s*0 failures in tests\n"
                  r"\s*0 failures in setup code\n"
                  r"\s*0 failures in cleanup code", report, re.M)
    assert m, report
    # all the pages with examples ran (there are about 420 examples)
    assert int(m.group(1)) > 300, report
    for page in ("usage", "extras", "sql", "pool", "async", "notify",
                 "lobject", "tpc", "replication"):
        assert "Document: %s\n" % page in report, page
