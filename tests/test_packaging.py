"""Packaging: version strings, the compiled extension, the source
distribution."""

import glob
import importlib
import importlib.machinery
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest

import psycopg2
import psycopg2.extensions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def header_version() -> str:
    with open(os.path.join(ROOT, "psycopg", "psycopg.h")) as f:
        m = re.search(r'#define PSYCOPG_VERSION "([^"]+)"', f.read())
    assert m, "PSYCOPG_VERSION not found in psycopg.h"
    return m.group(1)


def test_version_format():
    m = re.match(r"^(\d+\.\d+\.\d+) \(([a-z0-9 ]+)\)$", psycopg2.__version__)
    assert m, psycopg2.__version__
    assert m.group(1) == header_version()
    flags = m.group(2).split()
    for flag in ("dt", "dec", "pq3", "ext"):
        assert flag in flags


def test_libpq_version():
    v = psycopg2.__libpq_version__
    assert isinstance(v, int)
    assert v >= 90100
    runtime = psycopg2.extensions.libpq_version()
    assert isinstance(runtime, int)
    # the library loaded at run time is at least as new as the headers'
    # major version
    assert runtime // 10000 >= v // 10000


def test_libpq_version_matches_pg_config():
    pg_config = shutil.which("pg_config")
    assert pg_config, "pg_config not found (it is needed to build)"
    out = subprocess.run([pg_config, "--version"], check=True,
                         stdout=subprocess.PIPE).stdout.decode()
    m = re.search(r"PostgreSQL (\d+)\.(\d+)", out)
    assert m, out
    major, minor = int(m.group(1)), int(m.group(2))
    # PG_VERSION_NUM of the headers the extension was compiled with
    assert psycopg2.__libpq_version__ == major * 10000 + minor


def test_extension_is_compiled():
    from psycopg2 import _psycopg
    assert _psycopg.__file__.endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES))
    assert psycopg2.extensions.connection.__module__.startswith("psycopg2")


@pytest.mark.parametrize("name", [
    "extensions", "extras", "errors", "errorcodes", "pool", "sql", "tz"])
def test_submodules_import(name):
    mod = importlib.import_module("psycopg2." + name)
    assert mod.__name__ == "psycopg2." + name


def test_distribution_metadata():
    from importlib import metadata
    try:
        version = metadata.version("psycopg2-yugabytedb")
    except metadata.PackageNotFoundError:
        pytest.skip("psycopg2-yugabytedb not installed (development build)")
    assert version == psycopg2.__version__.split()[0]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    """Build the source distribution once (setup.py sdist: no wheel)."""
    out = tmp_path_factory.mktemp("sdist")
    res = subprocess.run(
        [sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(out),
         "sdist", "--dist-dir", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert res.returncode == 0, res.stdout.decode()
    files = glob.glob(str(out / "*.tar.gz"))
    assert len(files) == 1, files
    with tarfile.open(files[0]) as tar:
        names = tar.getnames()
        pkg_info = tar.extractfile(
            [n for n in names if n.count("/") == 1
             and n.endswith("/PKG-INFO")][0]).read().decode()
    return os.path.basename(files[0]), names, pkg_info


def test_sdist_name(sdist):
    name, _, pkg_info = sdist
    assert name == "psycopg2-yugabytedb-%s.tar.gz" % header_version() or \
        name == "psycopg2_yugabytedb-%s.tar.gz" % header_version()
    assert re.search(r"^Name: psycopg2[-_]yugabytedb$", pkg_info, re.M)
    assert re.search(r"^Version: %s$" % re.escape(header_version()),
                     pkg_info, re.M)


def test_sdist_contents(sdist):
    _, names, _ = sdist
    prefix = names[0].split("/")[0] + "/"
    inside = {n[len(prefix):] for n in names if n.startswith(prefix)}
    expected = set()
    for pattern in ("psycopg/*.c", "psycopg/*.h", "lib/*.py"):
        found = [os.path.relpath(p, ROOT)
                 for p in glob.glob(os.path.join(ROOT, pattern))]
        assert found, pattern
        expected.update(found)
    expected.update(["scripts/make_errors.py", "setup.py", "setup.cfg",
                     "pyproject.toml", "README.rst", "psycopg/psycopg.h"])
    missing = sorted(expected - inside)
    assert not missing, "missing from the sdist: %s" % missing
