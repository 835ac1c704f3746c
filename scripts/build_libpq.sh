#!/usr/bin/env bash
# The libpq that the binary wheel (psycopg2-yugabytedb-binary) is built
# with, and what its smoke test needs, in named steps:
#
#   bash scripts/build_libpq.sh STEP...
#
#   deps     install the compiler, perl, bison, flex and headers needed to
#            build OpenSSL and libpq (yum/dnf, apk or apt-get)
#   openssl  build OpenSSL $OPENSSL_VERSION into $LIBPQ_PREFIX
#   libpq    build libpq, its headers and pg_config of PostgreSQL
#            $POSTGRES_VERSION into $LIBPQ_PREFIX, against that OpenSSL
#   server   make sure PostgreSQL server programs (initdb, pg_ctl) are
#            there for the smoke test; install them if they are not
#   check    check that pg_config and the libpq it names are usable and
#            print their version and the libraries libpq needs
#   list     print the step names, one a line
#
# cibuildwheel (pyproject.toml, [tool.cibuildwheel] before-all) runs
# "deps openssl libpq server check" once in each build image.
# scripts/build_wheel.sh, for a local wheel, runs "server check" against
# the libpq of this machine (pg_config on PATH or $PG_CONFIG), because
# downloading sources is not possible everywhere; the other steps are the
# same.  tests/test_wheel.py checks that the two agree.
#
# What goes into libpq (the decisions, also in README.rst):
#   - OpenSSL: yes, built from source (3.0 LTS), so that every wheel has
#     the same TLS library whatever the image ships, and sslmode works.
#   - GSSAPI (Kerberos): no (--without-gssapi).  Kerberos from the image
#     would be linked against the image's own OpenSSL, giving two OpenSSL
#     copies in one process, and building MIT Kerberos as well would
#     double the build for a feature few YugabyteDB users need.  Who needs
#     GSSAPI installs psycopg2-yugabytedb (source) against a system libpq.
#   - LDAP: no (--without-ldap).  libpq uses LDAP only to look up
#     connection services (ldap:// in pg_service.conf); server-side LDAP
#     authentication does not need it.  It would bring libldap, liblber and
#     SASL into the wheel.
#   - No readline, zlib, ICU, lz4, zstd: libpq does not use them.
#
# Environment (defaults):
#   LIBPQ_PREFIX      /opt/libpq       where openssl and libpq install
#   POSTGRES_VERSION  17.2
#   OPENSSL_VERSION   3.0.15
#   LIBPQ_BUILD_DIR   /tmp/libpq-build sources and objects
#   PG_CONFIG         pg_config of the libpq to check (check step):
#                     $LIBPQ_PREFIX/bin/pg_config if it exists, else PATH's
#   POSTGRES_SHA256, OPENSSL_SHA256   when set, the downloads must match
set -euo pipefail

LIBPQ_PREFIX=${LIBPQ_PREFIX:-/opt/libpq}
POSTGRES_VERSION=${POSTGRES_VERSION:-17.2}
OPENSSL_VERSION=${OPENSSL_VERSION:-3.0.15}
LIBPQ_BUILD_DIR=${LIBPQ_BUILD_DIR:-/tmp/libpq-build}
STEPS="deps openssl libpq server check list"

say() { printf 'build_libpq: %s\n' "$*"; }
die() { printf 'build_libpq: error: %s\n' "$*" >&2; exit 1; }

jobs() { getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2; }

# pkg_install DEB_NAMES RPM_NAMES APK_NAMES: with whichever manager exists
pkg_install() {
    if command -v apk >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        apk add --no-cache $3
    elif command -v dnf >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        dnf install -y $2
    elif command -v yum >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        yum install -y $2
    elif command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $1
    else
        die "no known package manager to install: $1"
    fi
}

fetch() {   # fetch URL FILE [SHA256]
    local url=$1 file=$2 sum=${3:-}
    if [ ! -s "$file" ]; then
        say "downloading $url"
        if command -v curl >/dev/null 2>&1; then
            curl -fsSL --retry 3 -o "$file.part" "$url"
        else
            wget -q -O "$file.part" "$url"
        fi
        mv "$file.part" "$file"
    fi
    if [ -n "$sum" ]; then
        echo "$sum  $file" | sha256sum -c - >/dev/null ||
            die "checksum mismatch for $file"
    fi
}

step_deps() {
    pkg_install \
        "build-essential perl bison flex curl ca-certificates" \
        "gcc make perl perl-IPC-Cmd perl-Time-Piece bison flex curl" \
        "build-base perl linux-headers bison flex curl"
}

step_openssl() {
    if "$LIBPQ_PREFIX/bin/openssl" version 2>/dev/null |
            grep -q "^OpenSSL $OPENSSL_VERSION "; then
        say "OpenSSL $OPENSSL_VERSION already in $LIBPQ_PREFIX"
        return
    fi
    mkdir -p "$LIBPQ_BUILD_DIR"
    cd "$LIBPQ_BUILD_DIR"
    local tarball=openssl-$OPENSSL_VERSION.tar.gz
    fetch "https://www.openssl.org/source/$tarball" "$tarball" \
        "${OPENSSL_SHA256:-}"
    rm -rf "openssl-$OPENSSL_VERSION"
    tar xzf "$tarball"
    cd "openssl-$OPENSSL_VERSION"
    # shared libraries only, in lib/ (not lib64/), no docs
    ./config --prefix="$LIBPQ_PREFIX" --openssldir="$LIBPQ_PREFIX/ssl" \
        --libdir=lib shared no-tests
    make -s -j "$(jobs)"
    make -s install_sw
    say "OpenSSL $OPENSSL_VERSION installed in $LIBPQ_PREFIX"
}

step_libpq() {
    mkdir -p "$LIBPQ_BUILD_DIR"
    cd "$LIBPQ_BUILD_DIR"
    local tarball=postgresql-$POSTGRES_VERSION.tar.bz2
    fetch "https://ftp.postgresql.org/pub/source/v$POSTGRES_VERSION/$tarball" \
        "$tarball" "${POSTGRES_SHA256:-}"
    rm -rf "postgresql-$POSTGRES_VERSION"
    tar xjf "$tarball"
    cd "postgresql-$POSTGRES_VERSION"
    # the decisions above: OpenSSL yes, GSSAPI and LDAP no
    ./configure --prefix="$LIBPQ_PREFIX" \
        --with-includes="$LIBPQ_PREFIX/include" \
        --with-libraries="$LIBPQ_PREFIX/lib" \
        --with-openssl --without-gssapi --without-ldap \
        --without-readline --without-zlib --without-icu \
        --without-lz4 --without-zstd \
        LDFLAGS="-Wl,-rpath,$LIBPQ_PREFIX/lib"
    # only what a client build needs: libpq, its headers, pg_config
    make -s -C src/port -j "$(jobs)"
    make -s -C src/common -j "$(jobs)"
    make -s -C src/interfaces/libpq -j "$(jobs)" install
    make -s -C src/include install
    make -s -C src/bin/pg_config install
    say "libpq $POSTGRES_VERSION installed in $LIBPQ_PREFIX"
}

find_initdb() {
    local d
    if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ]; then
        echo "$PG_BINDIR/initdb"
        return
    fi
    for d in /usr/lib/postgresql/*/bin /usr/libexec/postgresql* \
            /usr/pgsql-*/bin; do
        if [ -x "$d/initdb" ]; then
            echo "$d/initdb"
            return
        fi
    done
    command -v initdb 2>/dev/null || true
}

install_server() {
    # a PostgreSQL server recent enough for tests/pgserver.py and
    # scripts/ybcluster.py (10 or newer; 15 or newer where available)
    if command -v apk >/dev/null 2>&1; then
        apk add --no-cache postgresql17 postgresql17-client ||
            apk add --no-cache postgresql16 postgresql16-client ||
            apk add --no-cache postgresql postgresql-client
    elif command -v dnf >/dev/null 2>&1; then
        # EL 8 images default to PostgreSQL 10: ask for a newer stream
        dnf -y module enable postgresql:15 >/dev/null 2>&1 || true
        dnf install -y postgresql-server postgresql
    else
        pkg_install "postgresql postgresql-client" \
            "postgresql-server postgresql" "postgresql postgresql-client"
    fi
}

step_server() {
    local initdb d f
    initdb=$(find_initdb)
    if [ -z "$initdb" ]; then
        say "installing PostgreSQL server programs for the smoke test"
        install_server
        initdb=$(find_initdb)
    fi
    [ -n "$initdb" ] || die "PostgreSQL server programs (initdb) not found"
    # as root, the test helpers run the servers as "postgres" with runuser
    if [ "$(id -u)" -eq 0 ] && ! command -v runuser >/dev/null 2>&1; then
        if command -v apk >/dev/null 2>&1; then
            apk add --no-cache runuser || apk add --no-cache util-linux
        else
            pkg_install util-linux util-linux util-linux
        fi
    fi
    d=$(dirname "$initdb")
    # the test helpers look in /usr/lib/postgresql/N/bin, then on PATH:
    # make the programs of another layout (e.g. /usr/libexec/postgresqlN)
    # reachable on PATH
    case $d in
        /usr/lib/postgresql/*/bin) ;;
        *)
            if [ "$(command -v initdb 2>/dev/null)" != "$initdb" ]; then
                for f in "$d"/*; do
                    [ -x "$f" ] && ln -sf "$f" "/usr/local/bin/$(basename "$f")"
                done
            fi
            ;;
    esac
    say "server programs: $d ($("$d/postgres" --version 2>/dev/null || echo '?'))"
}

step_check() {
    local pg_config=${PG_CONFIG:-}
    if [ -z "$pg_config" ]; then
        if [ -x "$LIBPQ_PREFIX/bin/pg_config" ]; then
            pg_config=$LIBPQ_PREFIX/bin/pg_config
        else
            pg_config=$(command -v pg_config || true)
        fi
    fi
    [ -n "$pg_config" ] && [ -x "$pg_config" ] ||
        die "pg_config not found: run the deps openssl libpq steps, or " \
            "install libpq-dev, or set PG_CONFIG"
    local libdir includedir lib
    libdir=$("$pg_config" --libdir)
    includedir=$("$pg_config" --includedir)
    [ -e "$includedir/libpq-fe.h" ] ||
        die "libpq-fe.h not found in $includedir"
    lib=$(ls "$libdir"/libpq.so.5* 2>/dev/null | head -n 1 || true)
    [ -n "$lib" ] || die "libpq.so.5 not found in $libdir"
    say "pg_config: $pg_config ($("$pg_config" --version))"
    say "libpq: $lib"
    if command -v ldd >/dev/null 2>&1; then
        say "libpq needs:"
        LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
            ldd "$lib" | sed 's/^/    /'
    fi
}

[ $# -gt 0 ] || die "usage: build_libpq.sh STEP... (steps: $STEPS)"
for step in "$@"; do
    case $step in
        deps) (step_deps) ;;
        openssl) (step_openssl) ;;
        libpq) (step_libpq) ;;
        server) (step_server) ;;
        check) (step_check) ;;
        list) printf '%s\n' $STEPS ;;
        *) die "unknown step '$step' (steps: $STEPS)" ;;
    esac
done
