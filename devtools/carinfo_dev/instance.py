"""A private httpd + carinfo-relay instance, rendered from conf/dev.conf.in.

Used by `make run` (root = var/) and by the integration tests (root =
test/gen/<db>/). Layout under the root directory:

    conf/httpd.conf   rendered from conf/dev.conf.in
    logs/error.log    httpd's ErrorLog; the relay's stderr is appended here
    logs/access.log   with the AP-Test-Name request header as last field
    run/              DefaultRuntimeDir and httpd.pid
    htdocs/           DocumentRoot (empty)
    db/               the SQLite database (owned by www-data when root)
    bin/              a copy of carinfo-relay when www-data cannot reach
                      the build tree (see runtime_root())

When started as root, httpd's children and the relay run as www-data, so
the SQLite directory must be writable and every path they open reachable
by www-data. A checkout under /root (mode 0700) is not: runtime_root() then
puts the runtime tree under /var/tmp/ and leaves a symlink in the checkout.
"""
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from .build import Build
from .errorlog import ErrorLog

SERVICE_USER = "www-data"
SERVICE_GROUP = "www-data"
DEFAULT_LOG_LEVEL = "warn carinfo:info"
SQLITE_INIT_SQL = ("PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL; "
                   "PRAGMA foreign_keys=ON")
# LoadModule order matters only for the MPM; built-ins are skipped.
HTTPD_MODULES = ("mpm_event", "unixd", "log_config", "authz_core", "mime",
                 "remoteip", "dbd", "proxy", "proxy_http", "proxy_wstunnel")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class InstanceError(RuntimeError):
    """Starting, stopping or preparing the instance failed."""


def is_root():
    return os.geteuid() == 0


def free_ports(n, host="127.0.0.1"):
    """`n` distinct TCP ports that were free a moment ago (the kernel's
    picks, held together so that none comes twice)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM)
             for _ in range(n)]
    try:
        for s in socks:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago (the kernel's pick)."""
    return free_ports(1, host)[0]


def user_can(user, test, path):
    """Whether `user` passes `test -<test> path` (e.g. "x" for a directory
    it must traverse, which also needs every ancestor). Always true when we
    are not root: then everything runs as ourselves."""
    if not is_root():
        return True
    r = subprocess.run(["runuser", "-u", user, "--", "test", "-" + test, path],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd="/")
    return r.returncode == 0


def _nearest_existing(path):
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def runtime_root(path, tag="carinfo-dev"):
    """The real directory to use for a runtime tree wanted at `path`.

    Normally that is `path` itself (created). As root, when www-data cannot
    traverse to it (a checkout under /root), the tree goes to
    /var/tmp/<tag>-<hash of path>/ and `path` becomes a symlink to it; an
    existing real directory at `path` is moved there first. /root is never
    chmod'ed. Returns the resolved (symlink-free) path.
    """
    path = os.path.abspath(path)
    if os.path.islink(path):
        target = os.path.realpath(path)
        if os.path.isdir(target) and user_can(SERVICE_USER, "x", target):
            return target
    parent = _nearest_existing(os.path.dirname(path))
    if user_can(SERVICE_USER, "x", parent):
        if os.path.islink(path):
            os.unlink(path)
        os.makedirs(path, exist_ok=True)
        return os.path.realpath(path)
    digest = hashlib.sha1(path.encode()).hexdigest()[:12]
    target = os.path.join("/var/tmp", "%s-%s" % (tag, digest))
    os.makedirs(target, mode=0o755, exist_ok=True)
    os.chmod(target, 0o755)
    if os.path.islink(path):
        os.unlink(path)
    elif os.path.isdir(path):
        for name in os.listdir(path):
            dest = os.path.join(target, name)
            if os.path.lexists(dest):
                raise InstanceError("cannot move %s into %s: %s exists"
                                    % (path, target, dest))
            shutil.move(os.path.join(path, name), dest)
        os.rmdir(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)
    return target


def _chown_tree(path, user=SERVICE_USER, group=SERVICE_GROUP):
    shutil.chown(path, user, group)
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(top, name)
            if not os.path.islink(p):
                shutil.chown(p, user, group)


def _conf_quote(value):
    """A value for inside "..." in httpd.conf."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"')


def http_get(url, timeout=2.0):
    """(status, body bytes) of a GET, ignoring any proxy settings of the
    environment; (None, error text) when nothing answered."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return None, str(e).encode()


class Instance:
    """One private httpd (event MPM, mod_carinfo) plus its carinfo-relay.

    db is ("sqlite3", "/path/to/file.db") or ("pgsql", "host=... port=...").
    mount is the <Location> that gets `SetHandler carinfo` ("/" or "/back").
    extra is httpd.conf text inserted before local_conf (test settings).
    local_conf is IncludeOptional'd last (make run: <repo>/local.conf; the
    tests: a path under root that does not exist).
    """

    def __init__(self, root_dir, port, relay_port=None, db=None, mount="/",
                 extra="", log_level=DEFAULT_LOG_LEVEL, build=None,
                 local_conf=None, jwt_key=None, relay_log_level="info",
                 with_relay=True, supervised=True, relay_options=()):
        self.build = build or Build()
        self.root = runtime_root(root_dir)
        self.port = int(port)
        self.relay_port = int(relay_port) if relay_port else self.port + 1
        if db is None:
            db = ("sqlite3", os.path.join(self.root, "db", "carinfo.db"))
        self.db_driver, self.db_params = db
        if self.db_driver not in ("sqlite3", "pgsql"):
            raise InstanceError("unknown DB driver %r" % self.db_driver)
        self.mount = "/" + mount.strip("/") if mount.strip("/") else "/"
        self.extra = extra or ""
        self.log_level = log_level
        self.relay_log_level = relay_log_level
        self.with_relay = with_relay
        # supervised: httpd runs the relay (CarInfoRelay), as in production;
        # otherwise this object starts it as a process of its own.
        self.supervised = with_relay and supervised
        self.relay_options = list(relay_options)
        self.local_conf = local_conf or os.path.join(self.root, "conf",
                                                     "local.conf.absent")
        self.jwt_key = jwt_key or os.path.join(self.root, "jwt.key")
        self.conf_dir = os.path.join(self.root, "conf")
        self.conf_file = os.path.join(self.conf_dir, "httpd.conf")
        self.logs_dir = os.path.join(self.root, "logs")
        self.error_log_path = os.path.join(self.logs_dir, "error.log")
        self.access_log_path = os.path.join(self.logs_dir, "access.log")
        self.run_dir = os.path.join(self.root, "run")
        self.pid_file = os.path.join(self.run_dir, "httpd.pid")
        self.notify_socket = os.path.join(self.run_dir, "relay.sock")
        self.htdocs = os.path.join(self.root, "htdocs")
        self.errorlog = ErrorLog(self.error_log_path)
        self.httpd_proc = None
        self.relay_proc = None
        self.relay_exit = None
        self.httpd_exit = None
        self._log_fh = None

    # ------------------------------------------------------------ paths
    @property
    def sqlite_dir(self):
        if self.db_driver != "sqlite3":
            return None
        return os.path.dirname(os.path.abspath(self.db_params))

    def url(self, path="/", mounted=True):
        """http://127.0.0.1:PORT<mount><path>; mounted=False skips the
        mount (for paths outside the carinfo <Location>)."""
        if not path.startswith("/"):
            path = "/" + path
        if mounted and self.mount != "/":
            path = self.mount + path
        return "http://127.0.0.1:%d%s" % (self.port, path)

    @property
    def health_url(self):
        return self.url("/api/health/")

    def relay_url(self, path="/health"):
        return "http://127.0.0.1:%d%s" % (self.relay_port, path)

    # ------------------------------------------------------------ config
    def _user_group(self):
        if is_root():
            return "User %s\nGroup %s" % (SERVICE_USER, SERVICE_GROUP)
        return "# not root: httpd's children keep our user"

    def _load_modules(self):
        lines = []
        for name in HTTPD_MODULES:
            if self.build.is_builtin(name):
                continue
            lines.append('LoadModule %s_module "%s"'
                         % (name, self.build.module_path(name)))
        lines.append('LoadModule carinfo_module "%s"' % self.build.module_so)
        return "\n".join(lines)

    def _mime_types(self):
        if os.path.isfile("/etc/mime.types"):
            return "/etc/mime.types"
        path = os.path.join(self.conf_dir, "mime.types")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write("application/json json\n")
        return path

    def substitutions(self, extra=None):
        """The @name@ values for conf/dev.conf.in."""
        if self.db_driver == "sqlite3":
            init_sql = 'DBDInitSQL "%s"' % SQLITE_INIT_SQL
        else:
            init_sql = "# (no DBDInitSQL for PostgreSQL)"
        if self.mount != "/":
            # The same backend URL shares the worker of the "/ws/" line,
            # upgrade=websocket included; repeating a parameter on a shared
            # worker only draws AH01146 warnings.
            proxy_mount = ('ProxyPass "%s/ws/" "http://127.0.0.1:%d/ws/"'
                           % (self.mount, self.relay_port))
        else:
            proxy_mount = ""
        return {
            "server_root": self.root,
            "run_dir": self.run_dir,
            "pid_file": self.pid_file,
            "error_log": self.error_log_path,
            "access_log": self.access_log_path,
            "port": str(self.port),
            "relay_port": str(self.relay_port),
            "load_modules": self._load_modules(),
            "user_group": self._user_group(),
            "log_level": self.log_level,
            "mime_types": self._mime_types(),
            "htdocs": self.htdocs,
            "db_driver": self.db_driver,
            "db_params": _conf_quote(self.db_params),
            "db_init_sql": init_sql,
            "jwt_key": self.jwt_key,
            "mount": self.mount,
            "proxy_mount_ws": proxy_mount,
            "relay_conf": self._relay_conf(),
            "web_root": self.web_root(),
            "openapi_file": self.openapi_file(),
            "extra": self.extra if extra is None else extra,
            "local_conf": self.local_conf,
        }

    def render_text(self, extra=None):
        with open(self.build.conf_template) as f:
            template = f.read()
        subst = self.substitutions(extra)

        def repl(m):
            if m.group(1) not in subst:
                raise InstanceError("%s: unknown placeholder @%s@"
                                    % (self.build.conf_template, m.group(1)))
            return subst[m.group(1)]
        return re.sub(r"@([a-z_]+)@", repl, template)

    def _prepare_dirs(self):
        for d in (self.conf_dir, self.logs_dir, self.run_dir, self.htdocs):
            os.makedirs(d, exist_ok=True)
        if self.sqlite_dir:
            os.makedirs(self.sqlite_dir, exist_ok=True)
            self.fix_db_ownership()

    def fix_db_ownership(self):
        """As root: the SQLite directory and its files belong to www-data
        (WAL creates -wal/-shm files next to the database)."""
        if is_root() and self.sqlite_dir and os.path.isdir(self.sqlite_dir):
            if not user_can(SERVICE_USER, "x", self.sqlite_dir):
                raise InstanceError(
                    "%s is not reachable by %s" % (self.sqlite_dir,
                                                   SERVICE_USER))
            _chown_tree(self.sqlite_dir)

    def render(self):
        """Writes conf/httpd.conf; returns its path."""
        self._prepare_dirs()
        text = self.render_text()
        with open(self.conf_file, "w") as f:
            f.write(text)
        return self.conf_file

    def config_test(self, extra=""):
        """Runs `httpd -t` on the config plus `extra`; (rc, stderr)."""
        self._prepare_dirs()
        path = os.path.join(self.conf_dir, "httpd-configtest.conf")
        with open(path, "w") as f:
            f.write(self.render_text(self.extra + "\n" + (extra or "")))
        r = subprocess.run([self.build.httpd, "-t", "-d", self.root,
                            "-f", path], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30)
        return r.returncode, r.stderr

    # ------------------------------------------------------------ carinfoctl
    def ctl_args(self, *args, sql_dir=None):
        return [self.build.ctl_bin, "--dbdriver", self.db_driver,
                "--dbparams", self.db_params,
                "--sql-dir", sql_dir or self.build.sql_dir] + [str(a)
                                                               for a in args]

    def ctl(self, *args, sql_dir=None, check=True, timeout=60):
        """Runs carinfoctl with this instance's database; CompletedProcess
        (text). As root it runs as root and hands the SQLite files back to
        www-data afterwards (SQLite itself gives -wal/-shm files the
        database file's owner when running as root)."""
        cmd = self.ctl_args(*args, sql_dir=sql_dir)
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout)
        finally:
            self.fix_db_ownership()
        if check and r.returncode != 0:
            raise InstanceError("%s failed (exit %d): %s%s" % (
                " ".join(cmd), r.returncode, r.stdout, r.stderr))
        return r

    def migrate(self, sql_dir=None):
        """carinfoctl migrate; returns the schema version it reports."""
        self._prepare_dirs()
        r = self.ctl("migrate", sql_dir=sql_dir)
        m = re.search(r"schema version (\d+)", r.stdout)
        if not m:
            raise InstanceError("carinfoctl migrate printed %r" % r.stdout)
        return int(m.group(1))

    def mint(self, n=1, url=None):
        """Mints n free stickers; the printed lines (tokens or URLs)."""
        args = ["mint", n] + (["--url", url] if url else [])
        return self.ctl(*args).stdout.splitlines()

    def keygen(self, path=None, force=False):
        path = path or self.jwt_key
        self.ctl("keygen", path, *(["--force"] if force else []))
        if is_root():
            shutil.chown(path, SERVICE_USER, SERVICE_GROUP)
        return path

    # ------------------------------------------------------------ processes
    def _open_log(self):
        if self._log_fh is None or self._log_fh.closed:
            os.makedirs(self.logs_dir, exist_ok=True)
            self._log_fh = open(self.error_log_path, "ab", buffering=0)
        return self._log_fh

    def _relay_exe(self):
        """carinfo-relay as www-data can exec it: the build tree's binary,
        or a copy under bin/ when www-data cannot reach the build tree."""
        exe = self.build.relay_bin
        if user_can(SERVICE_USER, "x", exe):
            return exe
        dest_dir = os.path.join(self.root, "bin")
        os.makedirs(dest_dir, mode=0o755, exist_ok=True)
        dest = os.path.join(dest_dir, "carinfo-relay")
        src = os.stat(exe)
        try:
            have = os.stat(dest)
            if (have.st_size, int(have.st_mtime)) == (src.st_size,
                                                      int(src.st_mtime)):
                return dest
        except FileNotFoundError:
            pass
        # A running copy cannot be overwritten ("text file busy"): replace.
        tmp = "%s.tmp-%d" % (dest, os.getpid())
        shutil.copy2(exe, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
        return dest

    def relay_args(self, exe=None):
        """The relay's command line; --parent-pid and --user are added by
        httpd when it supervises the relay."""
        args = [exe or self._relay_exe(), "--listen",
                "127.0.0.1:%d" % self.relay_port,
                "--dbdriver", self.db_driver, "--dbparams", self.db_params,
                "--log-level", self.relay_log_level,
                "--jwt-key", self.jwt_key,
                "--notify-socket", self.notify_socket] + self.relay_options
        if not self.supervised:
            args += ["--parent-pid", str(os.getpid())]
        return args

    def _relay_conf(self):
        """CarInfoRelay and CarInfoRelaySocket lines for httpd.conf."""
        if not self.with_relay:
            return "# (no relay)"
        lines = ['CarInfoRelaySocket "%s"' % self.notify_socket]
        if self.supervised:
            # httpd (root) execs it, so the build tree's binary will do.
            args = self.relay_args(exe=self.build.relay_bin)
            lines.insert(0, "CarInfoRelay " + " ".join(
                '"%s"' % _conf_quote(a) if " " in a else a for a in args))
        return "\n".join(lines)

    def _readable(self, path):
        """`path` itself when httpd's children (www-data) can read it, else
        a copy under the runtime root (a checkout under /root is closed)."""
        name = os.path.basename(path.rstrip("/"))
        if user_can(SERVICE_USER, "r", path) and (
                not os.path.isdir(path) or user_can(SERVICE_USER, "x", path)):
            return path
        dest = os.path.join(self.root, "share", name)
        if os.path.isdir(path):
            shutil.copytree(path, dest, dirs_exist_ok=True)
        else:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(path, dest)
        return dest

    def web_root(self):
        return self._readable(os.path.join(self.build.srcdir, "web"))

    def openapi_file(self):
        return self._readable(os.path.join(self.build.srcdir, "docs",
                                           "openapi.json"))

    def relay_pid(self):
        """The pid of the relay listening on our relay port, or None."""
        want = "127.0.0.1:%d" % self.relay_port
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if (argv and argv[0].endswith(b"carinfo-relay")
                    and want.encode() in argv):
                return int(pid)
        return None

    def relay_healthy(self):
        status, _ = http_get(self.relay_url("/health"), timeout=2.0)
        return status == 200

    def _popen(self, args, as_service_user=False):
        log = self._open_log()
        kw = {}
        if as_service_user and is_root():
            kw = dict(user=SERVICE_USER, group=SERVICE_GROUP, extra_groups=[])
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=log, cwd=self.root,
                                start_new_session=True, **kw)

    def _fail(self, what):
        tail = self.errorlog.tail(40)
        self.stop()
        raise InstanceError("%s\n--- %s (last lines) ---\n%s"
                            % (what, self.error_log_path, tail))

    def _wait_ok(self, url, proc, what, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._fail("%s exited with status %s during start-up"
                           % (what, proc.returncode))
            status, body = http_get(url, timeout=2.0)
            if status == 200:
                return
            last = (status, body[:300])
            time.sleep(0.1)
        self._fail("%s not ready after %.0f s: GET %s -> %r"
                   % (what, timeout, url, last))

    def start_relay(self):
        if self.relay_proc and self.relay_proc.poll() is None:
            return
        self.relay_exit = None
        self.relay_proc = self._popen(self.relay_args(), as_service_user=True)
        self._wait_ok(self.relay_url("/health"), self.relay_proc,
                      "carinfo-relay")

    def start_httpd(self):
        if self.httpd_proc and self.httpd_proc.poll() is None:
            return
        self.httpd_exit = None
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)
        self.httpd_proc = self._popen([self.build.httpd, "-d", self.root,
                                       "-f", self.conf_file, "-DFOREGROUND"])
        deadline = time.monotonic() + START_TIMEOUT
        while not os.path.exists(self.pid_file):
            if self.httpd_proc.poll() is not None:
                self._fail("httpd exited with status %s during start-up"
                           % self.httpd_proc.returncode)
            if time.monotonic() > deadline:
                self._fail("httpd wrote no %s in %.0f s"
                           % (self.pid_file, START_TIMEOUT))
            time.sleep(0.05)
        self._wait_ok(self.health_url, self.httpd_proc, "httpd",
                      timeout=max(1.0, deadline - time.monotonic()))

    def start(self):
        """Renders the config, starts the relay, then httpd; returns when
        both answer their health URL with 200 (InstanceError otherwise,
        with the error log's tail)."""
        missing = self.build.missing_binaries()
        if missing:
            raise InstanceError("not built yet: %s (run make)"
                                % ", ".join(missing))
        self.render()
        if self.with_relay and not self.supervised:
            self.start_relay()
        self.start_httpd()
        if self.supervised:
            self._wait_ok(self.relay_url("/health"), self.httpd_proc,
                          "carinfo-relay (started by httpd)")

    @staticmethod
    def _terminate(proc, timeout=STOP_TIMEOUT, group=False):
        """SIGTERM, wait up to `timeout`, then SIGKILL (the whole process
        group when `group`). Returns the exit status."""
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    if group:
                        os.killpg(proc.pid, signal.SIGKILL)
                    else:
                        proc.kill()
                except ProcessLookupError:
                    pass
                proc.wait(timeout=timeout)
        return proc.returncode

    def stop_httpd(self):
        if self.httpd_proc is not None:
            self.httpd_exit = self._terminate(self.httpd_proc, group=True)
            # Children outlive a parent that was killed (a test does that):
            # the process group holds them all.
            try:
                os.killpg(self.httpd_proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.httpd_proc = None

    def stop_relay(self):
        if self.relay_proc is not None:
            self.relay_exit = self._terminate(self.relay_proc)
            self.relay_proc = None

    def stop(self):
        """Stops httpd (it proxies to the relay), then the relay."""
        self.stop_httpd()
        self.stop_relay()
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None

    def restart(self):
        self.stop()
        self.start()

    def is_running(self):
        return bool(self.httpd_proc and self.httpd_proc.poll() is None)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
