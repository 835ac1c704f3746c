"""Type information of the package: stubs, py.typed, annotations.

- ``mypy --strict`` accepts tests/typing/user_program.py, a program using
  the driver as applications do (load balancing, cursors, extras cursors,
  execute_values, pool, sql composition, errors), and the program really
  runs against the test server;
- ``python -m mypy.stubtest psycopg2`` finds the stubs of the C extension
  (lib/_psycopg.pyi) and the annotated modules consistent with the objects
  that exist at run time;
- the stubs and the py.typed marker are part of the built package.

The checks run on a package tree made of the sources in lib/ and the C
extension of the ``psycopg2`` the tests import.
"""

import glob
import os
import re
import subprocess
import sys

import pytest

import psycopg2

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
LIB = os.path.join(ROOT, "lib")
TYPING = os.path.join(ROOT, "tests", "typing")


def require_mypy():
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail("mypy is not installed in this Python: "
                    "pip install -r tests/requirements.txt")


@pytest.fixture(scope="module")
def typed_site(tmp_path_factory):
    """A directory holding a psycopg2 package: the sources, stubs and
    marker of lib/ with the C extension of the imported psycopg2."""
    site = tmp_path_factory.mktemp("typed-site")
    pkg = site / "psycopg2"
    pkg.mkdir()
    for path in (glob.glob(os.path.join(LIB, "*.py"))
                 + glob.glob(os.path.join(LIB, "*.pyi"))
                 + [os.path.join(LIB, "py.typed")]):
        os.symlink(os.path.abspath(path), pkg / os.path.basename(path))
    ext = glob.glob(os.path.join(
        os.path.dirname(psycopg2.__file__), "_psycopg*.so"))
    assert ext, "C extension not found next to %s" % psycopg2.__file__
    os.symlink(os.path.realpath(ext[0]), pkg / os.path.basename(ext[0]))
    return site


def run_tool(args, site, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(site)
    env.pop("MYPYPATH", None)
    proc = subprocess.run(
        [sys.executable, "-m"] + args, cwd=str(tmp_path), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    return proc.returncode, proc.stdout.decode(errors="replace")


def test_user_program_passes_mypy_strict(typed_site, tmp_path):
    require_mypy()
    rc, out = run_tool(
        ["mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         os.path.join(TYPING, "user_program.py")], typed_site, tmp_path)
    assert rc == 0, out
    assert "Success: no issues found in 1 source file" in out, out


WRONG_PROGRAM = """\
import psycopg2.extras
from psycopg2.extensions import connection
def f(conn: connection) -> None:
    cur = conn.cursor()
    cur.execute(42)
    row = cur.fetchone()
    row[0]
    d = conn.cursor(cursor_factory=psycopg2.extras.DictCursor)
    reveal_type(d.fetchone())
    conn.autocommit = 'yes'
    reveal_type(conn.notifies.pop())
reveal_type(psycopg2.connect('dbname=x', load_balance='true'))
reveal_type(psycopg2.connect(
    connection_factory=psycopg2.extras.LogicalReplicationConnection))
psycopg2.extras.execute_values(None, 'select %s', [])
"""

# What mypy says about it, as regular expressions: mypy writes the unions
# "X | None" or "Optional[X]" depending on the Python version.
WRONG_PROGRAM_REPORT = [
    r'wrong.py:5: error: Argument 1 to "execute" of "cursor" has '
    r'incompatible type "int"',
    r'wrong.py:7: error: Value of type "(tuple\[Any, \.\.\.\] \| None|'
    r'Optional\[tuple\[Any, \.\.\.\]\])" is not indexable',
    r'wrong.py:9: note: Revealed type is "(psycopg2.extras.DictRow \| None|'
    r'Union\[psycopg2.extras.DictRow, None\])"',
    r'wrong.py:10: error: Incompatible types in assignment \(expression has '
    r'type "str", variable has type "bool"\)',
    r'wrong.py:11: note: Revealed type is "psycopg2._psycopg.Notify"',
    r'wrong.py:12: note: Revealed type is "psycopg2._psycopg.connection"',
    r'wrong.py:13: note: Revealed type is '
    r'"psycopg2.extras.LogicalReplicationConnection"',
    r'wrong.py:15: error: No overload variant of "execute_values" matches',
]


def test_misuses_are_reported(typed_site, tmp_path):
    """The stubs really type the API: misuses are reported."""
    require_mypy()
    prog = tmp_path / "wrong.py"
    prog.write_text(WRONG_PROGRAM)
    rc, out = run_tool(
        ["mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         str(prog)], typed_site, tmp_path)
    assert rc == 1, out
    for pattern in WRONG_PROGRAM_REPORT:
        assert re.search(pattern, out), "%r not in:\n%s" % (pattern, out)


def test_user_program_runs(typed_site, tmp_path, dsn):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(typed_site)
    proc = subprocess.run(
        [sys.executable, os.path.join(TYPING, "user_program.py"), dsn],
        cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=120)
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, out
    assert "duplicate 23505" in out, out
    assert "pool [3, 3, 3, 3]" in out, out


def test_stubtest(typed_site, tmp_path):
    require_mypy()
    rc, out = run_tool(
        ["mypy.stubtest", "psycopg2",
         "--mypy-config-file", os.path.join(TYPING, "stubtest_mypy.ini"),
         "--allowlist", os.path.join(TYPING, "stubtest_allowlist.txt")],
        typed_site, tmp_path)
    assert rc == 0, out
    assert "Success: no issues found" in out, out
    # every allow-list entry is still needed
    assert "unused allowlist entry" not in out, out


def test_stubs_and_marker_are_package_data(tmp_path):
    proc = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "-d",
         str(tmp_path / "build")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=120)
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")
    built = set(os.listdir(tmp_path / "build" / "psycopg2"))
    assert {"py.typed", "_psycopg.pyi", "__init__.py"} <= built, built
