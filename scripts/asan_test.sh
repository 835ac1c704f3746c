#!/bin/sh
# Build the C extension with AddressSanitizer + UndefinedBehaviorSanitizer
# into a private directory and run the pytest suite under it.
#
#   scripts/asan_test.sh [DIR] [PYTEST ARGS...]     (default DIR: build/asan)
#
# e.g. scripts/asan_test.sh /tmp/asan-me tests/test_cursor.py -x
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
# The preloaded libasan must not reach the PostgreSQL programs (a server
# hangs at start-up under it): the tests find them in PG_BINDIR, so point
# that to wrappers which drop LD_PRELOAD.  Child Python processes keep it.
realbin=$(python3 -c 'import sys; sys.path.insert(0, "tests"); import pgserver; print(pgserver.pg_bindir())')
rm -rf "$out/pgbin"
mkdir -p "$out/pgbin"
for f in "$realbin"/*; do
    printf '#!/bin/sh\nunset LD_PRELOAD\nexec "%s" "$@"\n' "$f" \
        > "$out/pgbin/$(basename "$f")"
    chmod +x "$out/pgbin/$(basename "$f")"
done
export PG_BINDIR="$out/pgbin"
export PATH="$out/pgbin:$PATH"     # psql, pg_ctl... run from PATH too
rm -f "$out"/asan.log.*
export LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
export ASAN_OPTIONS="detect_leaks=0:log_path=$out/asan.log:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$out/asan.log"
export PYTHONMALLOC=malloc
export PYTHONPATH="$out/site${PYTHONPATH:+:$PYTHONPATH}"
# test_memory.py measures the RSS, which ASan's quarantine of freed memory
# makes grow: it is meaningless here (run it on a normal build).  For the
# same reason test_lobject.py::test_memory_* and
# test_replication.py::test_memory_rss_flat fail under ASan.
[ $# -eq 0 ] && set -- tests --ignore=tests/test_memory.py
status=0
python3 -m pytest -q -p no:cacheprovider "$@" || status=$?
if ls "$out"/asan.log.* >/dev/null 2>&1; then
    echo "sanitizer reports:" "$out"/asan.log.* >&2
    status=1
else
    echo "no sanitizer reports" >&2
fi
exit $status
