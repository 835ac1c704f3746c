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


DIST_NAMES = ("psycopg2-yugabytedb", "psycopg2-yugabytedb-binary")
FOREIGN = ("psycopg2", "psycopg2-binary")


def _provides_psycopg2(dist) -> bool:
    top = dist.read_text("top_level.txt") or ""
    if "psycopg2" in top.split():
        return True
    return any(str(f).startswith("psycopg2/") for f in (dist.files or ()))


def test_installed_distributions_are_ours():
    # Whatever is installed in this environment that provides the psycopg2
    # package must be one of our two distributions at the tree's version,
    # and only one of them (a development build installs none).
    from importlib import metadata
    found = {}
    for dist in metadata.distributions():
        if _provides_psycopg2(dist):
            found[dist.metadata["Name"].lower()] = dist.version
    assert len(found) <= 1, "several psycopg2 providers: %s" % found
    for name, version in found.items():
        assert name in DIST_NAMES, "foreign psycopg2 installed: %s" % name
        assert version == header_version()
        assert version == psycopg2.__version__.split()[0]


def _clean_env():
    env = dict(os.environ)
    env.pop("PSYCOPG2_YUGABYTEDB_DIST", None)
    return env


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    """Build the source distribution once (setup.py sdist: no wheel)."""
    out = tmp_path_factory.mktemp("sdist")
    res = subprocess.run(
        [sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(out),
         "sdist", "--dist-dir", str(out)],
        cwd=ROOT, env=_clean_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
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
                     "pyproject.toml", "README.rst", "psycopg/psycopg.h",
                     "MANIFEST.in", "tests/requirements.txt",
                     # what cibuildwheel runs, also from an sdist
                     "scripts/build_libpq.sh", "scripts/wheel_smoke.py",
                     "scripts/build_wheel.sh", "tests/pgserver.py",
                     "scripts/ybcluster.py"])
    missing = sorted(expected - inside)
    assert not missing, "missing from the sdist: %s" % missing


# -- both distributions: metadata and twine check ----------------------------

@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """sdist and wheel of both distribution names, {name: [paths]}.

    The two builds share one build directory, so the extension is compiled
    once; nothing is written into the source tree.
    """
    out = tmp_path_factory.mktemp("dists")
    result = {}
    for name in DIST_NAMES:
        egg = out / ("egg-" + name)
        egg.mkdir()
        dist_dir = out / name
        env = _clean_env()
        env["PSYCOPG2_YUGABYTEDB_DIST"] = name
        res = subprocess.run(
            [sys.executable, "setup.py", "-q",
             "egg_info", "--egg-base", str(egg),
             "build", "--build-base", str(out / "build"),
             "sdist", "--dist-dir", str(dist_dir),
             "bdist_wheel", "--dist-dir", str(dist_dir)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=600)
        assert res.returncode == 0, res.stdout.decode(errors="replace")
        result[name] = sorted(str(p) for p in dist_dir.iterdir())
    return result


def _metadata_of(path: str) -> str:
    if path.endswith(".whl"):
        import zipfile
        with zipfile.ZipFile(path) as z:
            [name] = [n for n in z.namelist()
                      if n.endswith(".dist-info/METADATA")]
            return z.read(name).decode()
    with tarfile.open(path) as tar:
        [member] = [n for n in tar.getnames()
                    if n.count("/") == 1 and n.endswith("/PKG-INFO")]
        return tar.extractfile(member).read().decode()


def _headers(text: str):
    head = text.split("\n\n", 1)[0]
    out = {}
    for line in head.splitlines():
        key, _, value = line.partition(": ")
        out.setdefault(key, []).append(value)
    return out


@pytest.mark.parametrize("name", DIST_NAMES)
def test_dist_files(dists, name):
    norm = name.replace("-", "_")
    base = [os.path.basename(p) for p in dists[name]]
    assert len(base) == 2, base
    sdists = [b for b in base if b.endswith(".tar.gz")]
    wheels = [b for b in base if b.endswith(".whl")]
    assert sdists in (["%s-%s.tar.gz" % (name, header_version())],
                      ["%s-%s.tar.gz" % (norm, header_version())]), sdists
    assert len(wheels) == 1 and wheels[0].startswith(
        "%s-%s-" % (norm, header_version())), wheels


@pytest.mark.parametrize("name", DIST_NAMES)
def test_dist_metadata(dists, name):
    with open(os.path.join(ROOT, "README.rst")) as f:
        readme_title = f.readline().strip()
    for path in dists[name]:
        text = _metadata_of(path)
        h = _headers(text)
        assert h["Name"] == [name], path
        assert h["Version"] == [header_version()], path
        assert h["Requires-Python"] == [">=3.9"], path
        assert h["Description-Content-Type"] == ["text/x-rst"], path
        assert h["License"] == ["LGPL-3.0-or-later"], path
        classifiers = h["Classifier"]
        for minor in range(9, 14):
            assert "Programming Language :: Python :: 3.%d" % minor \
                in classifiers, (path, minor)
        assert any(c.startswith("License :: ") for c in classifiers)
        urls = dict(u.split(", ", 1) for u in h["Project-URL"])
        assert {"Documentation", "Source", "Issue Tracker"} <= set(urls)
        assert all(u.startswith("https://") for u in urls.values())
        assert ("libpq included" in h["Summary"][0]) == \
            name.endswith("-binary"), h["Summary"]
        # the long description is the README
        body = text.split("\n\n", 1)[1]
        assert body.lstrip().startswith(readme_title), path


def test_twine_check_strict(dists):
    try:
        import twine  # noqa: F401
    except ImportError:
        pytest.fail("twine is not installed (pip install twine): "
                    "it checks the distributions' metadata")
    files = [p for name in DIST_NAMES for p in dists[name]]
    assert len(files) == 4
    res = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict"] + files,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=dict(os.environ, NO_COLOR="1", COLUMNS="400"), timeout=120)
    out = res.stdout.decode(errors="replace")
    assert res.returncode == 0, out
    assert out.count("PASSED") == 4, out


def test_unknown_dist_name_is_refused():
    env = _clean_env()
    env["PSYCOPG2_YUGABYTEDB_DIST"] = "psycopg2-binary"
    res = subprocess.run([sys.executable, "setup.py", "--name"], cwd=ROOT,
                         env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=60)
    out = res.stdout.decode(errors="replace")
    assert res.returncode != 0
    assert "PSYCOPG2_YUGABYTEDB_DIST" in out and "psycopg2-binary" in out


@pytest.mark.parametrize("name", DIST_NAMES)
def test_dist_name_from_environment(name):
    env = _clean_env()
    env["PSYCOPG2_YUGABYTEDB_DIST"] = name
    res = subprocess.run([sys.executable, "setup.py", "--name"], cwd=ROOT,
                         env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    assert res.returncode == 0, res.stderr.decode(errors="replace")
    assert res.stdout.decode().split()[-1] == name
