#!/bin/sh
# Build the C extension with AddressSanitizer + UndefinedBehaviorSanitizer
# into a private directory and run the pytest suite under it.
#
#   scripts/asan_test.sh [DIR] [PYTEST ARGS...]     (default DIR: build/asan)
#
# Reports go to DIR/asan.log.<pid> (ASan) and to stderr (UBSan, also logged).
# Python itself is not instrumented, so libasan is preloaded, and the
# leak checker is off (the interpreter leaks at exit by design).
set -e
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/asan}")
[ $# -gt 0 ] && shift
san="-fsanitize=address,undefined -fno-omit-frame-pointer"
CFLAGS="-O1 -g $san" LDFLAGS="$san" \
    python3 setup.py -q build_ext -b "$out/lib" -t "$out/tmp" >/dev/null
mkdir -p "$out/site/psycopg2"
for f in lib/*.py; do
    ln -sf "$PWD/$f" "$out/site/psycopg2/"
done
cp "$out"/lib/psycopg2/_psycopg*.so "$out/site/psycopg2/"
# The preloaded libasan must not reach child processes: the PostgreSQL
# servers started by the tests hang at start-up under it.  The dynamic
# loader has already used LD_PRELOAD by the time Python runs this.
cat > "$out/site/sitecustomize.py" <<'PY'
import os
os.environ.pop("LD_PRELOAD", None)
PY
rm -f "$out"/asan.log.*
export LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
export ASAN_OPTIONS="detect_leaks=0:log_path=$out/asan.log:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$out/asan.log"
export PYTHONMALLOC=malloc
export PYTHONPATH="$out/site${PYTHONPATH:+:$PYTHONPATH}"
[ $# -eq 0 ] && set -- tests
status=0
python3 -m pytest -q -p no:cacheprovider "$@" || status=$?
if ls "$out"/asan.log.* >/dev/null 2>&1; then
    echo "sanitizer reports:" "$out"/asan.log.* >&2
    status=1
else
    echo "no sanitizer reports" >&2
fi
exit $status
