#!/usr/bin/env bash
# Install what is missing, build and install psycopg2-yugabytedb into a
# virtual environment (.venv), and run the whole test suite.
#
#   bash scripts/test.sh [PYTEST ARGS...]      e.g. -k threads, -x
#
# Works on a fresh Debian/Ubuntu machine, as root or with sudo.  The tests
# start their own throw-away PostgreSQL servers.  Environment:
#   PYTHON          interpreter for the virtual environment (python3)
#   TEST_TIMEOUT    per-test time limit in seconds (300)
#   SUITE_TIMEOUT   limit for the whole pytest run in seconds (3600)
# Exits non-zero if anything fails, including when no test ran.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
VENV=$ROOT/.venv
RESULTS=$ROOT/build/test-results.xml
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-3600}
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\ntest.sh: FAILED: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -E "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

# --- system packages -----------------------------------------------------

APT_UPDATED=
apt_install() {
    command -v apt-get >/dev/null 2>&1 ||
        die "missing $*: install them with your package manager"
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -q
        APT_UPDATED=1
    fi
    as_root apt-get install -y -q --no-install-recommends "$@"
}

python_has_headers() {
    "$PYTHON" - <<'EOF' 2>/dev/null
import os, sys, sysconfig
sys.exit(not os.path.exists(
    os.path.join(sysconfig.get_paths()["include"], "Python.h")))
EOF
}

python_has_venv() {
    "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null
}

install_system_packages() {
    local missing=() pkg
    for pkg in libpq-dev postgresql postgresql-contrib build-essential; do
        if command -v dpkg >/dev/null 2>&1; then
            dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
        fi
    done
    if ! command -v dpkg >/dev/null 2>&1; then
        command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)
        command -v cc >/dev/null 2>&1 || missing+=(build-essential)
    fi
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        missing+=(python3 python3-dev python3-venv)
        PYTHON=python3
    else
        python_has_headers || missing+=(python3-dev)
        python_has_venv || missing+=(python3-venv)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        step "installing system packages: ${missing[*]}"
        apt_install "${missing[@]}"
    else
        step "system packages: all present"
    fi
    command -v pg_config >/dev/null 2>&1 || die "pg_config not found"
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
        command -v initdb >/dev/null 2>&1 ||
        die "PostgreSQL server programs (initdb) not found"
}

# --- virtual environment and build ---------------------------------------

setup_venv() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import pip' \
            2>/dev/null; then
        step "reusing virtual environment $VENV"
    else
        step "creating virtual environment $VENV"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    step "installing build and test dependencies"
    "$VENV/bin/python" -m pip install -q \
        "setuptools>=61" wheel \
        "pytest>=7" pytest-timeout "SQLAlchemy>=2.0,<3"
}

build_and_install() {
    step "building the extension"
    # compile in parallel first: pip's in-tree build then reuses the objects
    "$VENV/bin/python" setup.py -q build_ext -j 2 >/dev/null ||
        die "building the extension failed"
    step "installing psycopg2-yugabytedb into $VENV"
    "$VENV/bin/python" -m pip install -q --no-build-isolation --no-deps \
        --force-reinstall . || die "pip install . failed"
    # the tests must import the installed package, not the source tree
    (cd /tmp && "$VENV/bin/python" -c '
import psycopg2, sys
print("psycopg2", psycopg2.__version__, "from", psycopg2.__file__)
assert "site-packages" in psycopg2.__file__, psycopg2.__file__
') || die "the installed psycopg2 cannot be imported"
}

# --- tests -----------------------------------------------------------------

count_results() {
    # "N passed, N failed, N skipped" from the JUnit XML report
    "$VENV/bin/python" - "$RESULTS" <<'EOF'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("no results (pytest did not finish)")
    sys.exit()
suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
total = failed = skipped = 0
for s in suites:
    total += int(s.get("tests", 0))
    failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
    skipped += int(s.get("skipped", 0))
print("%d passed, %d failed, %d skipped"
      % (total - failed - skipped, failed, skipped))
EOF
}

run_tests() {
    step "running the tests"
    # the tests start their own servers
    unset PSYCOPG2_TEST_DSN
    mkdir -p "$(dirname "$RESULTS")"
    rm -f "$RESULTS"
    local rc=0
    # --timeout-method=thread: a test stuck in C code with the GIL released
    # is still stopped (the run then ends there, with the stacks printed).
    # A module that fails to import is counted as an error, and the other
    # modules still run.
    timeout -k 60 "$SUITE_TIMEOUT" \
        "$VENV/bin/python" -m pytest tests -q -p no:cacheprovider \
        --timeout="$TEST_TIMEOUT" --timeout-method=thread \
        --continue-on-collection-errors \
        --junitxml="$RESULTS" -o junit_family=xunit2 "$@" || rc=$?
    local counts verdict
    counts=$(count_results)
    case $rc in
        0) verdict="PASSED" ;;
        5) verdict="FAILED: pytest collected no tests (exit 5)" ;;
        124|137) verdict="FAILED: the run exceeded ${SUITE_TIMEOUT}s" ;;
        *) verdict="FAILED: pytest exited with status $rc" ;;
    esac
    echo
    echo "test.sh: $verdict"
    # last line: the counts, in the plain "N passed, N failed" form
    echo "summary: $counts"
    [ "$rc" -eq 0 ] || exit 1
}

install_system_packages
setup_venv
build_and_install
run_tests "$@"
