"""The binary wheel psycopg2-yugabytedb-binary.

scripts/build_wheel.sh builds and repairs it on this machine and runs the
smoke test in a fresh virtual environment; cibuildwheel's configuration in
pyproject.toml (which cannot run here: no container engine) is checked
against what the local script runs.
"""

import os
import re
import shlex
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST = "psycopg2-yugabytedb-binary"
SOURCE_STEPS = ["deps", "openssl", "libpq"]    # only in the build images


def header_version() -> str:
    with open(os.path.join(ROOT, "psycopg", "psycopg.h")) as f:
        return re.search(r'#define PSYCOPG_VERSION "([^"]+)"',
                         f.read()).group(1)


def load_toml(path):
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        try:
            import tomli as tomllib
        except ImportError:
            pytest.fail("tomli is not installed (pip install tomli): "
                        "needed on Python < 3.11 to read pyproject.toml")
    with open(path, "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def cibw():
    return load_toml(os.path.join(ROOT, "pyproject.toml"))["tool"][
        "cibuildwheel"]


def script_var(name):
    """A NAME="value" assignment of scripts/build_wheel.sh."""
    with open(os.path.join(ROOT, "scripts", "build_wheel.sh")) as f:
        text = f.read()
    m = re.search(r'^%s=("?)([^"\n]*)\1$' % name, text, re.M)
    assert m, "%s not set in build_wheel.sh" % name
    value = m.group(2)
    return value.replace("$DIST", DIST) if name != "DIST" else value


def run(args, timeout=60, **kwargs):
    res = subprocess.run(args, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=timeout,
                         cwd=kwargs.pop("cwd", ROOT), **kwargs)
    return res.returncode, res.stdout.decode(errors="replace")


# -- the shared steps -------------------------------------------------------

def libpq_steps():
    rc, out = run(["bash", "scripts/build_libpq.sh", "list"])
    assert rc == 0, out
    return out.split()


def test_scripts_are_valid_shell():
    for name in ("build_libpq.sh", "build_wheel.sh"):
        rc, out = run(["bash", "-n", os.path.join("scripts", name)])
        assert rc == 0, (name, out)


def test_build_libpq_steps():
    assert libpq_steps() == ["deps", "openssl", "libpq", "server", "check",
                             "list"]
    rc, out = run(["bash", "scripts/build_libpq.sh", "nosuchstep"])
    assert rc != 0
    assert "unknown step 'nosuchstep'" in out


def test_build_libpq_check_on_this_machine():
    # the step the local script runs before building: the system libpq
    rc, out = run(["bash", "scripts/build_libpq.sh", "check"])
    assert rc == 0, out
    assert re.search(r"^build_libpq: libpq: /\S+/libpq\.so\.5", out, re.M)
    assert "build_libpq: pg_config: " in out


def test_before_all_is_source_build_plus_local_steps(cibw):
    args = shlex.split(cibw["before-all"])
    assert args[:2] == ["bash", "{project}/scripts/build_libpq.sh"], args
    steps = args[2:]
    assert set(steps) <= set(libpq_steps()), steps
    local = script_var("LIBPQ_STEPS").split()
    assert local == ["server", "check"]
    # the image builds libpq from source, then runs what the local build runs
    assert steps == SOURCE_STEPS + local


def test_libpq_build_decisions():
    with open(os.path.join(ROOT, "scripts", "build_libpq.sh")) as f:
        script = f.read()
    configure = script[script.index("./configure"):]
    configure = configure[:configure.index("make ")]
    for flag in ("--with-openssl", "--without-gssapi", "--without-ldap"):
        assert flag in configure, flag
    with open(os.path.join(ROOT, "README.rst")) as f:
        readme = f.read()
    section = readme[readme.index("Installing the binary package"):]
    for word in ("GSSAPI", "LDAP", "OpenSSL", "auditwheel"):
        assert word in section, word


def test_test_command_is_the_local_smoke_test(cibw):
    args = shlex.split(cibw["test-command"])
    assert args[:2] == ["python", "{project}/scripts/wheel_smoke.py"]
    assert args[2:] == shlex.split(script_var("SMOKE_ARGS"))
    assert "--bundled-libpq" in args and "--cluster" in args
    assert args[args.index("--expect-dist") + 1] == DIST


def test_repair_is_auditwheel(cibw):
    args = shlex.split(cibw["repair-wheel-command"])
    assert args[:2] == ["auditwheel", "repair"]
    assert "{wheel}" in args and "{dest_dir}" in args
    with open(os.path.join(ROOT, "scripts", "build_wheel.sh")) as f:
        assert "-m auditwheel repair" in f.read()


def test_environment_and_images(cibw):
    linux = cibw["linux"]
    assert linux["archs"] == ["x86_64", "aarch64"]
    env = linux["environment"]
    assert env["PSYCOPG2_YUGABYTEDB_DIST"] == DIST == script_var("DIST")
    prefix = env["LIBPQ_PREFIX"]
    assert env["PG_CONFIG"] == prefix + "/bin/pg_config"
    assert env["LD_LIBRARY_PATH"] == prefix + "/lib:$LD_LIBRARY_PATH"
    for arch in ("x86_64", "aarch64"):
        assert cibw["manylinux-%s-image" % arch].startswith("manylinux_2_")
        assert cibw["musllinux-%s-image" % arch].startswith("musllinux_1_")
    assert cibw["build"].split() == ["cp3%d-*" % m for m in range(9, 14)]


def cibuildwheel_identifiers(env=None):
    try:
        import cibuildwheel  # noqa: F401
    except ImportError:
        pytest.fail("cibuildwheel is not installed (pip install "
                    "cibuildwheel): it validates [tool.cibuildwheel]")
    full = dict(os.environ)
    full = {k: v for k, v in full.items() if not k.startswith("CIBW_")}
    full.update(env or {})
    rc, out = run([sys.executable, "-m", "cibuildwheel",
                   "--print-build-identifiers", "--platform", "linux",
                   "--archs", full.pop("CIBW_ARCHS", "x86_64,aarch64"), "."],
                  env=full)
    assert rc == 0, out
    return out.split()


def test_cibuildwheel_accepts_the_configuration():
    # cibuildwheel refuses unknown options; this lists what it would build
    ids = cibuildwheel_identifiers()
    want = ["cp3%d-%s_%s" % (m, libc, arch)
            for libc in ("manylinux", "musllinux")
            for arch in ("x86_64", "aarch64") for m in range(9, 14)]
    assert sorted(ids) == sorted(want)


def test_cibuildwheel_resolves_the_options(cibw, monkeypatch):
    # what cibuildwheel itself makes of pyproject.toml for every build
    # (its options API: pinned to cibuildwheel 2.x in tests/requirements.txt)
    try:
        import dataclasses
        from pathlib import Path
        from cibuildwheel.options import CommandLineArguments, compute_options
    except ImportError:
        pytest.fail("cibuildwheel is not installed (pip install "
                    "'cibuildwheel>=2.22,<3')")
    monkeypatch.chdir(ROOT)
    args = dataclasses.replace(
        CommandLineArguments.defaults(), platform="linux",
        archs="x86_64,aarch64", package_dir=Path(ROOT))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}
    options = compute_options("linux", args, env)
    idents = cibuildwheel_identifiers()
    assert len(idents) == 20
    for ident in idents:
        b = options.build_options(ident)
        assert b.before_all == cibw["before-all"], ident
        assert b.test_command == cibw["test-command"], ident
        assert b.repair_command == cibw["repair-wheel-command"], ident
        got = b.environment.as_dictionary({"LD_LIBRARY_PATH": "/x"})
        assert got["PSYCOPG2_YUGABYTEDB_DIST"] == DIST, ident
        assert got["PG_CONFIG"] == "/opt/libpq/bin/pg_config", ident
        assert got["LD_LIBRARY_PATH"] == "/opt/libpq/lib:/x", ident
        for arch in ("x86_64", "aarch64"):
            assert "/manylinux_2_28_%s:" % arch in b.manylinux_images[arch]
            assert "/musllinux_1_2_%s:" % arch in b.musllinux_images[arch]


def test_workflow_calls_cibuildwheel():
    try:
        import yaml
    except ImportError:
        pytest.fail("PyYAML is not installed (pip install PyYAML): "
                    "needed to read the workflow file")
    with open(os.path.join(ROOT, ".github", "workflows", "wheels.yml")) as f:
        wf = yaml.safe_load(f)
    job = wf["jobs"]["wheels"]
    steps = [s for s in job["steps"]
             if s.get("uses", "").startswith("pypa/cibuildwheel@")]
    assert len(steps) == 1
    matrix = job["strategy"]["matrix"]["include"]
    assert {(m["libc"], m["arch"]) for m in matrix} == {
        (libc, arch) for libc in ("manylinux", "musllinux")
        for arch in ("x86_64", "aarch64")}
    env = steps[0]["env"]
    # each matrix entry builds the five CPython versions for its platform
    for m in matrix:
        sub = {k: v.replace("${{ matrix.arch }}", m["arch"])
               .replace("${{ matrix.libc }}", m["libc"])
               for k, v in env.items()}
        assert sorted(cibuildwheel_identifiers(sub)) == sorted(
            "cp3%d-%s_%s" % (minor, m["libc"], m["arch"])
            for minor in range(9, 14))


# -- the local build -------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Run scripts/build_wheel.sh once: (output, OUTDIR)."""
    out = tmp_path_factory.mktemp("wheelhouse")
    (out / "psycopg2_yugabytedb_binary-0.0.1-cp39-cp39-linux_x86_64.whl"
     ).write_bytes(b"stale")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PSYCOPG2_YUGABYTEDB_DIST")}
    env["PYTHON"] = sys.executable
    rc, text = run(["bash", "scripts/build_wheel.sh", str(out)],
                   timeout=600, env=env)
    assert rc == 0, text[-6000:]
    return text, out


def test_build_wheel_leaves_only_the_repaired_wheel(built):
    text, out = built
    files = os.listdir(out)
    assert len(files) == 1, files
    tag = "cp%d%d" % sys.version_info[:2]
    m = re.match(r"^psycopg2_yugabytedb_binary-%s-%s-%s-"
                 r"manylinux_(\d+)_(\d+)_(x86_64|aarch64)\.whl$"
                 % (re.escape(header_version()), tag, tag), files[0])
    assert m, files[0]


def test_wheel_carries_libpq(built):
    _, out = built
    [name] = os.listdir(out)
    with zipfile.ZipFile(os.path.join(out, name)) as z:
        names = z.namelist()
        libs = [n for n in names
                if n.startswith("psycopg2_yugabytedb_binary.libs/")]
        assert [n for n in libs if re.search(r"/libpq-[0-9a-f]+\.so\.5", n)]
        # libpq's own dependencies come along: at least the TLS library
        assert [n for n in libs if re.search(r"/libssl-[0-9a-f]+\.so", n)]
        assert [n for n in names if re.match(r"psycopg2/_psycopg\..*\.so$",
                                             n)]
        meta = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = z.read(meta[0]).decode()
    assert re.search(r"^Name: %s$" % DIST, text, re.M)
    assert re.search(r"^Version: %s$" % re.escape(header_version()),
                     text, re.M)


def test_build_wheel_ran_the_shared_steps(built):
    text, _ = built
    # build_libpq.sh server check: the same steps as cibuildwheel's
    # before-all after its source build
    assert "==> build_wheel: libpq: build_libpq.sh server check" in text
    assert "build_libpq: server programs: " in text
    assert "build_libpq: pg_config: " in text
    assert "auditwheel repair --plat manylinux_" in text


def test_smoke_test_in_fresh_venv(built):
    text, _ = built
    smoke = [line for line in text.splitlines() if line.startswith("smoke:")]
    joined = "\n".join(smoke)
    assert "FAILED" not in joined, joined
    assert re.search(r"^smoke: libpq mapped from \S+/site-packages/"
                     r"psycopg2_yugabytedb_binary\.libs/libpq-", joined, re.M)
    assert re.search(r"^smoke: ldd _psycopg: libpq => \S+/"
                     r"psycopg2_yugabytedb_binary\.libs/libpq-", joined, re.M)
    assert "= bundled libpq's PQlibVersion() = libpq_version()" in joined
    assert "query, types, COPY, named cursor, errors: ok" in joined
    assert re.search(r"^smoke: load balancing: 9 connections over 3 nodes: "
                     r"127\.0\.0\.1=3 127\.0\.0\.2=3 127\.0\.0\.3=3$",
                     joined, re.M)
    assert smoke[-1].startswith("smoke: all checks passed")


def test_repaired_wheel_passes_twine_check(built):
    _, out = built
    [name] = os.listdir(out)
    try:
        import twine  # noqa: F401
    except ImportError:
        pytest.fail("twine is not installed (pip install twine)")
    rc, text = run([sys.executable, "-m", "twine", "check", "--strict",
                    os.path.join(out, name)],
                   env=dict(os.environ, NO_COLOR="1", COLUMNS="400"))
    assert rc == 0, text
    assert "PASSED" in text, text
