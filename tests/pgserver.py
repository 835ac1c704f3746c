"""Start and stop throw-away PostgreSQL servers for the tests.

A server is initdb'ed into a temporary directory and listens on a free port
of a loopback address.  When the tests run as root the server runs as the
``postgres`` system user (PostgreSQL refuses to run as root).
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time


class CommandError(subprocess.CalledProcessError):
    """A server program failed; the message includes its output."""

    def __str__(self) -> str:
        out = (self.output or b"").decode(errors="replace").strip()
        return "%s\n%s" % (super().__str__(), out)


def pg_bindir() -> str:
    """Directory of the PostgreSQL server programs (initdb, pg_ctl)."""
    env = os.environ.get("PG_BINDIR")
    if env:
        return env
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        versions = sorted(
            (d for d in os.listdir(base) if d.isdigit()), key=int, reverse=True)
        for v in versions:
            path = os.path.join(base, v, "bin")
            if os.path.exists(os.path.join(path, "initdb")):
                return path
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise RuntimeError("PostgreSQL server programs not found: "
                       "install postgresql (apt-get install postgresql)")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class PgServer:
    """A PostgreSQL server in a temporary data directory."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 settings: dict = None, user: str = "postgres",
                 datadir: str = None):
        self.host = host
        self.port = port or free_port(host)
        self.settings = dict(settings or {})
        self.user = user
        self.bindir = pg_bindir()
        self._own_tmp = datadir is None
        self.basedir = datadir or tempfile.mkdtemp(prefix="psycopg-test-")
        self.datadir = os.path.join(self.basedir, "data")
        self.sockdir = self.basedir
        self.logfile = os.path.join(self.basedir, "server.log")
        self._run_as = None
        if os.geteuid() == 0:
            self._run_as = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.basedir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.basedir, 0o755)

    def _cmd(self, args, check=True):
        if self._run_as:
            args = ["runuser", "-u", self._run_as, "--"] + args
        # run from the server's own directory: the postgres user may not
        # be allowed into the caller's working directory
        res = subprocess.run(args, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, cwd=self.basedir)
        if check and res.returncode != 0:
            raise CommandError(res.returncode, args, res.stdout)
        return res

    def initdb(self) -> None:
        self._cmd([os.path.join(self.bindir, "initdb"), "-D", self.datadir,
                   "-U", self.user, "-A", "trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"])
        conf = {
            "listen_addresses": "'%s'" % self.host,
            "port": str(self.port),
            "unix_socket_directories": "'%s'" % self.sockdir,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "max_prepared_transactions": "10",
            "shared_buffers": "32MB",
        }
        conf.update({k: str(v) for k, v in self.settings.items()})
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            for k, v in conf.items():
                f.write("%s = %s\n" % (k, v))

    def start(self) -> None:
        if not os.path.exists(self.datadir):
            self.initdb()
        self._cmd([os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir,
                   "-l", self.logfile, "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        res = self._cmd([os.path.join(self.bindir, "pg_ctl"), "-D",
                         self.datadir, "-m", mode, "-w", "-t", "30", "stop"],
                        check=False)
        if res.returncode != 0 and mode != "immediate" and self.is_running():
            # e.g. a shutdown request that arrived during crash recovery
            self.stop("immediate")

    def is_running(self) -> bool:
        """True if the server's postmaster is up."""
        res = self._cmd([os.path.join(self.bindir, "pg_ctl"), "-D",
                         self.datadir, "status"], check=False)
        return res.returncode == 0

    def postmaster_pid(self) -> int:
        """Process id of the running postmaster."""
        with open(os.path.join(self.datadir, "postmaster.pid")) as f:
            return int(f.readline())

    def cleanup(self) -> None:
        self.stop("immediate")
        if self._own_tmp:
            shutil.rmtree(self.basedir, ignore_errors=True)

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL with psql (independent of the driver under test)."""
        res = self._cmd(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                         "-h", self.host, "-p", str(self.port),
                         "-U", self.user, "-d", dbname, "-c", sql])
        return res.stdout.decode()

    @property
    def dsn(self) -> str:
        return "host=%s port=%s user=%s dbname=psycopg2_test" % (
            self.host, self.port, self.user)


def wait_port(host: str, port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server %s:%s not reachable" % (host, port))
