#!/bin/sh
# Build the extension into a private directory, for development.
#
#   scripts/devbuild.sh [DIR]      (default: build/dev)
#   PYTHONPATH=DIR/site python -c 'import psycopg2'
#   PYTHON=/path/to/python3.X scripts/devbuild.sh DIR   (default: python3)
#
# Several developers can build at once, each into their own DIR.
set -e
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/dev}")
"${PYTHON:-python3}" setup.py -q build_ext -b "$out/lib" -t "$out/tmp" >/dev/null
mkdir -p "$out/site/psycopg2"
for f in lib/*.py; do
    ln -sf "$PWD/$f" "$out/site/psycopg2/"
done
rm -f "$out"/site/psycopg2/_psycopg*.so
cp "$out"/lib/psycopg2/_psycopg*.so "$out/site/psycopg2/"
echo "$out/site"
