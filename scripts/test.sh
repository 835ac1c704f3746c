#!/usr/bin/env bash
# Install what is missing, build and install psycopg2-yugabytedb into one
# virtual environment per supported CPython, and run the tests with each:
# the whole suite on the oldest and the newest supported version, a core
# subset (connection, cursor, typecasting, errors, async, GC of the C
# types) on the others.
#
#   bash scripts/test.sh [PYTEST ARGS...]      e.g. -k threads, -x
#
# Works on a fresh Debian/Ubuntu machine, as root or with sudo.  The tests
# start their own throw-away PostgreSQL servers.  The interpreters are
# looked up in pyenv (`pyenv root`/versions/3.X.*, the newest 3.X.N) and
# then on PATH (python3.X); a missing one is reported and counts as a
# failure.  Each version gets its own virtual environment (build/venv-3.X)
# and its own build directories (setuptools' build/*-cpython-3X).
# Environment:
#   FULL_PYTHONS    versions running the whole suite ("3.9 3.13")
#   CORE_PYTHONS    versions running the core subset ("3.10 3.11 3.12")
#   PYTHON          an interpreter: run the whole suite with it only
#   TEST_TIMEOUT    per-test time limit in seconds (300)
#   SUITE_TIMEOUT   limit for each pytest run in seconds (1800)
# PYTEST ARGS go to every run.  The pip packages the tests need are listed
# in tests/requirements.txt.  The last line is the total over every run,
# "summary: N passed, N failed, N skipped"; exits non-zero if anything
# failed, including a missing interpreter or a run where no test ran.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
FULL_PYTHONS=${FULL_PYTHONS-3.9 3.13}
CORE_PYTHONS=${CORE_PYTHONS-3.10 3.11 3.12}
CORE_TESTS=(tests/test_connection.py tests/test_cursor.py
            tests/test_typecast.py tests/test_errors.py tests/test_async.py
            tests/test_gc_types.py)
REQUIREMENTS=$ROOT/tests/requirements.txt
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1800}
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\ntest.sh: FAILED: %s\n' "$*" >&2; exit 1; }
warn() { printf '\ntest.sh: ERROR: %s\n' "$*" >&2; }

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

install_system_packages() {
    local missing=() pkg
    # iproute2: network namespaces of the load-balancing fault tests;
    # openssl: their test certificates
    for pkg in libpq-dev postgresql postgresql-contrib build-essential \
            iproute2 openssl; do
        if command -v dpkg >/dev/null 2>&1; then
            dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
        fi
    done
    if ! command -v dpkg >/dev/null 2>&1; then
        command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)
        command -v cc >/dev/null 2>&1 || missing+=(build-essential)
    fi
    # python3 runs the helper steps (counting the results)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
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

# --- interpreters --------------------------------------------------------

# "3.X" of an interpreter, or nothing if it does not run
python_version() {
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
        2>/dev/null || true
}

pyenv_root() {
    local root=""
    if command -v pyenv >/dev/null 2>&1; then
        root=$(pyenv root 2>/dev/null || true)
    fi
    echo "${root:-${PYENV_ROOT:-$HOME/.pyenv}}"
}

# Print the path of a CPython 3.X interpreter: the newest pyenv 3.X.N,
# else python3.X on PATH (a pyenv shim counts only if it runs 3.X).
find_python() {
    local want=$1 root cand best=""
    root=$(pyenv_root)
    for cand in $(ls -d "$root/versions/$want".[0-9]* 2>/dev/null |
                  sort -V); do
        # 3.X.N only (not e.g. 3.13.0t, a free-threaded build)
        [[ ${cand##*/} =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || continue
        if [ "$(python_version "$cand/bin/python$want")" = "$want" ]; then
            best=$cand/bin/python$want
        fi
    done
    if [ -z "$best" ] && cand=$(command -v "python$want" 2>/dev/null) &&
            [ "$(python_version "$cand")" = "$want" ]; then
        best=$cand
    fi
    [ -n "$best" ] && echo "$best"
}

python_has_headers() {
    "$1" - <<'EOF' 2>/dev/null
import os, sys, sysconfig
sys.exit(not os.path.exists(
    os.path.join(sysconfig.get_paths()["include"], "Python.h")))
EOF
}

python_has_venv() {
    "$1" -c 'import venv, ensurepip' 2>/dev/null
}

# --- virtual environment and build ---------------------------------------

# setup_venv PYTHON VERSION: create or reuse build/venv-VERSION and install
# the test requirements into it; sets VENV.
setup_venv() {
    local python=$1 ver=$2
    VENV=$ROOT/build/venv-$ver
    if ! python_has_headers "$python"; then
        warn "$python has no Python.h (install its -dev package)"
        return 1
    fi
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import pip' \
            2>/dev/null &&
            [ "$(python_version "$VENV/bin/python")" = "$ver" ]; then
        step "[$ver] reusing virtual environment $VENV"
    else
        if ! python_has_venv "$python"; then
            warn "$python cannot create virtual environments (venv)"
            return 1
        fi
        step "[$ver] creating virtual environment $VENV"
        rm -rf "$VENV"
        "$python" -m venv "$VENV" || return 1
    fi
    step "[$ver] installing build dependencies"
    "$VENV/bin/python" -m pip install -q "setuptools>=61" wheel
}

# The test requirements go in after the driver: sqlalchemy-yugabytedb
# requires "psycopg2-yugabytedb", which the local build then satisfies.
# The core subset needs only pytest.
install_test_requirements() {
    local ver=$1 what=$2
    step "[$ver] installing test dependencies ($what)"
    if [ "$what" = "full suite" ]; then
        "$VENV/bin/python" -m pip install -q -r "$REQUIREMENTS"
    else
        "$VENV/bin/python" -m pip install -q \
            $(grep -E '^pytest(-timeout)?[<>=]' "$REQUIREMENTS")
    fi
}

# build_and_install VERSION: build and install into $VENV
build_and_install() {
    local ver=$1
    step "[$ver] building the extension"
    # compile in parallel first: pip's in-tree build then reuses the
    # objects (setuptools keeps one build directory per Python version)
    if ! "$VENV/bin/python" setup.py -q build_ext -j 2 >/dev/null; then
        warn "building the extension with Python $ver failed"
        return 1
    fi
    step "[$ver] installing psycopg2-yugabytedb into $VENV"
    if ! "$VENV/bin/python" -m pip install -q --no-build-isolation \
            --no-deps --force-reinstall .; then
        warn "pip install . with Python $ver failed"
        return 1
    fi
    # the tests must import the installed package, not the source tree
    if ! (cd /tmp && "$VENV/bin/python" -c '
import psycopg2, sys
print("psycopg2", psycopg2.__version__, "from", psycopg2.__file__,
      "on Python", sys.version.split()[0])
assert "site-packages" in psycopg2.__file__, psycopg2.__file__
'); then
        warn "the installed psycopg2 cannot be imported with Python $ver"
        return 1
    fi
}

# --- tests -----------------------------------------------------------------

count_results() {
    # "PASSED FAILED SKIPPED" from a JUnit XML report
    python3 - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("0 0 0")      # pytest did not finish
    sys.exit()
suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
total = failed = skipped = 0
for s in suites:
    total += int(s.get("tests", 0))
    failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
    skipped += int(s.get("skipped", 0))
print(total - failed - skipped, failed, skipped)
EOF
}

TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0
REPORT=()

# record VERSION WHAT PASSED FAILED SKIPPED VERDICT
record() {
    TOTAL_PASSED=$((TOTAL_PASSED + $3))
    TOTAL_FAILED=$((TOTAL_FAILED + $4))
    TOTAL_SKIPPED=$((TOTAL_SKIPPED + $5))
    REPORT+=("$(printf 'Python %-5s %-12s %5d passed, %d failed, %d skipped  %s' \
                "$1" "$2" "$3" "$4" "$5" "$6")")
}

# run_tests VERSION WHAT PYTEST-ARGS...: run pytest in $VENV
run_tests() {
    local ver=$1 what=$2
    shift 2
    local results=$ROOT/build/test-results-$ver.xml
    local start=$SECONDS rc=0 verdict passed failed skipped
    step "[$ver] running the tests ($what)"
    mkdir -p "$(dirname "$results")"
    rm -f "$results"
    # --timeout-method=thread: a test stuck in C code with the GIL released
    # is still stopped (the run then ends there, with the stacks printed).
    # A module that fails to import is counted as an error, and the other
    # modules still run.
    timeout -k 60 "$SUITE_TIMEOUT" \
        "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
        --timeout="$TEST_TIMEOUT" --timeout-method=thread \
        --continue-on-collection-errors \
        --junitxml="$results" -o junit_family=xunit2 "$@" || rc=$?
    read -r passed failed skipped < <(count_results "$results")
    case $rc in
        0) verdict="PASSED" ;;
        5) verdict="FAILED: pytest collected no tests (exit 5)" ;;
        124|137) verdict="FAILED: the run exceeded ${SUITE_TIMEOUT}s" ;;
        *) verdict="FAILED: pytest exited with status $rc" ;;
    esac
    # a failed run counts at least one failure (e.g. a crash, exit 5)
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    record "$ver" "$what" "$passed" "$failed" "$skipped" \
        "$verdict ($((SECONDS - start))s)"
}

# test_python VERSION WHAT PYTEST-ARGS...: find, set up, build, test
test_python() {
    local ver=$1 what=$2 python
    shift 2
    if [ -n "${PYTHON:-}" ]; then
        python=$PYTHON
    elif ! python=$(find_python "$ver"); then
        warn "CPython $ver not found: looked for $(pyenv_root)/versions/$ver.*\
 and python$ver on PATH; install it (e.g. pyenv install $ver)"
        record "$ver" "$what" 0 1 0 "FAILED: CPython $ver not found"
        return 0
    fi
    step "[$ver] using $python"
    if ! setup_venv "$python" "$ver" || ! build_and_install "$ver" ||
            ! install_test_requirements "$ver" "$what"; then
        record "$ver" "$what" 0 1 0 "FAILED: could not set up Python $ver"
        return 0
    fi
    run_tests "$ver" "$what" "$@"
}

main() {
    local ver start=$SECONDS verdict=PASSED
    install_system_packages
    # the tests start their own servers
    unset PSYCOPG2_TEST_DSN
    if [ -n "${PYTHON:-}" ]; then
        ver=$(python_version "$PYTHON")
        [ -n "$ver" ] || die "PYTHON=$PYTHON does not run"
        test_python "$ver" "full suite" tests "$@"
    else
        for ver in $FULL_PYTHONS; do
            test_python "$ver" "full suite" tests "$@"
        done
        for ver in $CORE_PYTHONS; do
            test_python "$ver" "core subset" "${CORE_TESTS[@]}" "$@"
        done
    fi
    [ ${#REPORT[@]} -gt 0 ] || die "no Python version selected"
    [ "$TOTAL_FAILED" -eq 0 ] || verdict=FAILED
    echo
    printf '%s\n' "${REPORT[@]}"
    printf '\ntest.sh: %s in %ds\n' "$verdict" $((SECONDS - start))
    # last line: the counts over every run, in the plain form CI reads
    echo "summary: $TOTAL_PASSED passed, $TOTAL_FAILED failed," \
        "$TOTAL_SKIPPED skipped"
    [ "$TOTAL_FAILED" -eq 0 ]
}

main "$@"
