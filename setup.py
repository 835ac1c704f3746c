"""Build script of psycopg2-yugabytedb: the psycopg2._psycopg C extension
over libpq, and the pure Python package in lib/ installed as psycopg2.

The same tree builds two distributions of the same import package and
version, chosen by the environment variable PSYCOPG2_YUGABYTEDB_DIST:

- ``psycopg2-yugabytedb`` (default): linked against the libpq found by
  pg_config, the one the user's system provides;
- ``psycopg2-yugabytedb-binary``: the same code, meant to be repaired with
  auditwheel so that the wheel carries libpq and the libraries it needs
  (scripts/build_wheel.sh, and cibuildwheel's configuration in
  pyproject.toml).
"""

import glob
import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup


def _version():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "psycopg", "psycopg.h")) as f:
        m = re.search(r'#define PSYCOPG_VERSION "([^"]+)"', f.read())
    return m.group(1)


VERSION = _version()

DIST_ENV = "PSYCOPG2_YUGABYTEDB_DIST"
SOURCE_DIST = "psycopg2-yugabytedb"
BINARY_DIST = "psycopg2-yugabytedb-binary"
SUMMARIES = {
    SOURCE_DIST: "psycopg2-compatible PostgreSQL driver with YugabyteDB "
                 "smart load balancing",
    BINARY_DIST: "psycopg2-compatible PostgreSQL driver with YugabyteDB "
                 "smart load balancing (binary package, libpq included)",
}


def _dist_name():
    """The distribution to build, from $PSYCOPG2_YUGABYTEDB_DIST."""
    name = os.environ.get(DIST_ENV, "").strip() or SOURCE_DIST
    if name not in SUMMARIES:
        sys.exit("error: %s=%r: expected %s or %s"
                 % (DIST_ENV, name, SOURCE_DIST, BINARY_DIST))
    return name


DIST_NAME = _dist_name()


def _pg_config(option):
    pg_config = os.environ.get("PG_CONFIG") or shutil.which("pg_config")
    if not pg_config:
        sys.exit("error: pg_config not found: install libpq-dev "
                 "(apt-get install libpq-dev) or set PG_CONFIG")
    try:
        out = subprocess.run([pg_config, option], check=True,
                             stdout=subprocess.PIPE).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("error: running %s %s failed: %s" % (pg_config, option, e))
    return out.decode().strip()


def _extension():
    includedir = _pg_config("--includedir")
    libdir = _pg_config("--libdir")
    if not os.path.exists(os.path.join(includedir, "libpq-fe.h")):
        sys.exit("error: libpq-fe.h not found in %s: install libpq-dev "
                 "(apt-get install libpq-dev)" % includedir)
    sources = sorted(glob.glob("psycopg/*.c"))
    return Extension(
        "psycopg2._psycopg",
        sources=sources,
        depends=sorted(glob.glob("psycopg/*.h")),
        include_dirs=["psycopg", includedir],
        library_dirs=[libdir],
        libraries=["pq"],
        define_macros=[("PSYCOPG_VERSION", '"%s"' % VERSION)],
        extra_compile_args=["-Wall", "-Wno-unused-function",
                            "-fno-strict-aliasing"],
    )


if "egg_info" in sys.argv or "sdist" in sys.argv:
    ext_modules = []
    if "sdist" in sys.argv:
        ext_modules = [_extension()]
else:
    ext_modules = [_extension()]

setup(
    name=DIST_NAME,
    description=SUMMARIES[DIST_NAME],
    version=VERSION,
    package_dir={"psycopg2": "lib"},
    packages=["psycopg2"],
    ext_modules=ext_modules,
)
