#!/usr/bin/env bash
# Smart load balancing demo: install what is missing, build and install
# psycopg2-yugabytedb into a virtual environment (.venv), then run
# scripts/demo.py, which starts a local 4-node cluster (3 primaries in three
# zones + 1 read replica, real PostgreSQL servers on 127.0.0.1-4), opens
# connections with load_balance=true, with topology keys and with
# read-replica modes, prints where each set went, and stops the cluster.
#
#   bash scripts/demo.sh [--port 5433] [--verbose]
#
# Works on a fresh Debian/Ubuntu machine, as root or with sudo.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
VENV=${VENV:-$ROOT/.venv}
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

step() { printf '==> %s\n' "$*"; }
die() { printf 'demo.sh: FAILED: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -E "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

has_initdb() {
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
        command -v initdb >/dev/null 2>&1
}

install_system_packages() {
    # what the demo needs, checked by program (package names only to
    # install what is missing)
    local missing=()
    command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)
    has_initdb || missing+=(postgresql)
    command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
    command -v cc >/dev/null 2>&1 || missing+=(build-essential)
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        missing+=(python3 python3-dev python3-venv)
        PYTHON=python3
    else
        "$PYTHON" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(
os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null ||
            missing+=(python3-dev)
        "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null ||
            missing+=(python3-venv)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        command -v apt-get >/dev/null 2>&1 ||
            die "missing ${missing[*]}: install them with your package manager"
        step "installing system packages: ${missing[*]}"
        as_root apt-get update -q
        as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    command -v psql >/dev/null 2>&1 || die "psql not found"
    has_initdb || die "PostgreSQL server programs (initdb) not found"
}

install_package() {
    if ! { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import pip' \
            2>/dev/null; }; then
        step "creating virtual environment $VENV"
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install -q "setuptools>=61" wheel
    step "building and installing psycopg2-yugabytedb into $VENV"
    "$VENV/bin/python" -m pip install -q --no-build-isolation --no-deps \
        --force-reinstall . || die "pip install . failed"
}

install_system_packages
install_package
step "running the demo"
# run from outside the source tree: import the installed package
cd /tmp
exec "$VENV/bin/python" "$ROOT/scripts/demo.py" "$@"
