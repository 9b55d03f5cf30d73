"""A throw-away PostgreSQL server for the tests (and for trying pgsql).

initdb into a fresh temporary directory (owned by the `postgres` user when
we are root, because initdb refuses root), pg_ctl start on 127.0.0.1 and a
free port with its own unix-socket directory, then role and database
`carinfo` (password `carinfo`). The system's cluster (15/main, port 5432)
is never touched: every command names our data directory. cleanup() stops
the server and removes the directory, keeping a copy of the server log under
`root` for post-mortems.
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time

from .instance import free_port, is_root

PG_USER = "postgres"
DB_NAME = "carinfo"
DB_USER = "carinfo"
DB_PASSWORD = "carinfo"


class PostgresError(RuntimeError):
    pass


def pg_bindir():
    """The bin directory of the newest installed PostgreSQL (Debian layout:
    /usr/lib/postgresql/<major>/bin); CARINFO_PG_BINDIR overrides."""
    env = os.environ.get("CARINFO_PG_BINDIR")
    if env:
        return env
    found = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        m = re.search(r"/postgresql/(\d+(?:\.\d+)?)/bin$", d)
        if m and os.path.isfile(os.path.join(d, "initdb")):
            found.append((float(m.group(1)), d))
    if not found:
        raise PostgresError("no PostgreSQL server binaries under "
                            "/usr/lib/postgresql/*/bin (apt-get install "
                            "postgresql)")
    return max(found)[1]


class PrivatePostgres:
    """One private server; see the module docstring.

    root: a directory of ours where the server log is copied at cleanup.
    durable: PostgreSQL's own defaults for fsync, full_page_writes and
    synchronous_commit (what a deployment runs: benchmarks); without it
    the tests' server skips them, which is faster and loses nothing a test
    needs.
    settings: more "name=value" server settings (-c), e.g. auto_explain's
    to see the plans of slow statements in the server log.
    """

    def __init__(self, root, port=None, max_connections=300, durable=False,
                 settings=()):
        self.root = root
        self.settings = list(settings)
        self.port = port
        self.max_connections = max_connections
        self.durable = durable
        self.bindir = pg_bindir()
        self.base = None            # the temporary directory
        self.data = None
        self.log_path = None
        self.running = False

    # ------------------------------------------------------------ helpers
    def _bin(self, name):
        return os.path.join(self.bindir, name)

    def _run(self, args, as_pg=True, check=True, timeout=120):
        if as_pg and is_root():
            args = ["runuser", "-u", PG_USER, "--"] + args
        r = subprocess.run(args, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout,
                           cwd=self.base or "/")
        if check and r.returncode != 0:
            raise PostgresError("%s failed (exit %d):\n%s%s\n%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr,
                self.log_tail()))
        return r

    def log_tail(self, n=30):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, errors="replace") as f:
            return "--- %s ---\n%s" % (self.log_path,
                                       "".join(f.readlines()[-n:]))

    def psql(self, sql, dbname="postgres"):
        """Runs SQL as the superuser over the unix socket; stdout."""
        return self._run([self._bin("psql"), "-X", "-q", "-v",
                          "ON_ERROR_STOP=1", "-h", self.base, "-p",
                          str(self.port), "-U", PG_USER, "-d", dbname,
                          "-c", sql]).stdout

    # ------------------------------------------------------------ lifecycle
    def setup(self):
        """initdb, start, create role and database. Returns self."""
        os.makedirs(self.root, exist_ok=True)
        self.base = tempfile.mkdtemp(prefix="carinfo-pg-",
                                     dir="/var/tmp" if os.path.isdir(
                                         "/var/tmp") else None)
        if is_root():
            shutil.chown(self.base, PG_USER, PG_USER)
        os.chmod(self.base, 0o711)  # its socket, for httpd's User too
        self.data = os.path.join(self.base, "data")
        self.log_path = os.path.join(self.base, "server.log")
        self._run([self._bin("initdb"), "-D", self.data, "-U", PG_USER,
                   "--auth-local=trust", "--auth-host=scram-sha-256",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        fixed_port = self.port is not None
        for attempt in range(3):
            if not fixed_port:
                self.port = free_port()
            try:
                self.start()
                break
            except PostgresError:
                if fixed_port or attempt == 2:
                    raise
        self.psql("CREATE ROLE %s LOGIN PASSWORD '%s'"
                  % (DB_USER, DB_PASSWORD))
        self.psql("CREATE DATABASE %s OWNER %s" % (DB_NAME, DB_USER))
        return self

    def start(self):
        opts = " ".join([
            "-c listen_addresses=127.0.0.1",
            "-c port=%d" % self.port,
            "-c unix_socket_directories=%s" % self.base,
            "-c max_connections=%d" % self.max_connections,
            "-c shared_buffers=%s" % ("128MB" if self.durable else "32MB"),
        ] + ([] if self.durable else [
            "-c fsync=off", "-c full_page_writes=off",
            "-c synchronous_commit=off"]) + ["-c %s" % shlex.quote(kv)
                                              for kv in self.settings])
        self._run([self._bin("pg_ctl"), "-D", self.data, "-l", self.log_path,
                   "-w", "-t", "60", "-o", opts, "start"])
        self.running = True

    def stop(self, mode="fast"):
        if not self.running:
            return
        self._run([self._bin("pg_ctl"), "-D", self.data, "-m", mode, "-w",
                   "-t", "60", "stop"])
        self.running = False

    def restart(self, down_seconds=0.0):
        """Stops (fast: connections are cut), stays down `down_seconds`,
        starts again on the same port."""
        self.stop()
        if down_seconds:
            time.sleep(down_seconds)
        self.start()

    def dbparams(self, unix_socket=False):
        """DBDParams / carinfoctl --dbparams for the carinfo database,
        over TCP on 127.0.0.1, or over the server's unix socket."""
        return ("host=%s port=%d dbname=%s user=%s password=%s "
                "connect_timeout=5" % (self.base if unix_socket
                                       else "127.0.0.1", self.port, DB_NAME,
                                       DB_USER, DB_PASSWORD))

    def cleanup(self):
        """Stops the server (immediate if fast fails) and removes the
        temporary directory; the server log is copied to root/postgres.log."""
        if self.base is None:
            return
        try:
            self.stop()
        except PostgresError:
            try:
                self.stop(mode="immediate")
            except PostgresError:
                pass
        if self.log_path and os.path.exists(self.log_path):
            try:
                shutil.copy(self.log_path,
                            os.path.join(self.root, "postgres.log"))
            except OSError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    def __enter__(self):
        return self.setup()

    def __exit__(self, *exc):
        self.cleanup()
