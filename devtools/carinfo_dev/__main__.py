"""python3 -m devtools.carinfo_dev serve [--port 8080]  (what `make run` does)

Serves the whole system from this tree: renders conf/dev.conf.in under
var/ (git-ignored), creates var/jwt.key with `carinfoctl keygen` when
missing, migrates the SQLite database var/db/carinfo.db (or the database
that local.conf names), mints one demo sticker, starts carinfo-relay and a
private httpd in the foreground, prints the URLs and waits. Ctrl-C or
SIGTERM stops both and exits 0. A git-ignored local.conf in the repo root
is included last in httpd.conf.

Run it from the repo root (make does).
"""
import argparse
import os
import re
import signal
import sys
import threading

from .build import Build, BuildError
from .instance import Instance, InstanceError, runtime_root

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def local_conf_db(path):
    """(driver, params) set by DBDriver/DBDParams in local.conf (the last of
    each wins, as in httpd), or None. serve migrates that database and
    gives it to the relay, and leaves out the SQLite-only DBDInitSQL when it
    is not SQLite, so switching the database there just works."""
    driver = params = None
    try:
        with open(path) as f:
            lines = f.readlines()
    except OSError:
        return None
    for line in lines:
        m = re.match(r"^\s*(DBDriver|DBDParams)\s+(.*?)\s*$", line, re.I)
        if not m:
            continue
        value = m.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if m.group(1).lower() == "dbdriver":
            driver = value
        else:
            params = value
    if driver and params:
        return driver, params
    return None


def _serve(args):
    build = Build()
    var = runtime_root(os.path.join(REPO, "var"))
    local_conf = os.path.join(REPO, "local.conf")
    local_db = local_conf_db(local_conf)
    if args.dbdriver is None and local_db:
        args.dbdriver, args.dbparams = local_db
        print("serve: using the database of %s (%s)"
              % (local_conf, args.dbdriver))
    args.dbdriver = args.dbdriver or "sqlite3"
    if args.dbdriver == "sqlite3":
        params = args.dbparams or os.path.join(var, "db", "carinfo.db")
    else:
        if not args.dbparams:
            print("serve: --dbdriver pgsql needs --dbparams", file=sys.stderr)
            return 2
        params = args.dbparams
    inst = Instance(var, args.port, args.relay_port or args.port + 1,
                    db=(args.dbdriver, params), mount=args.mount,
                    log_level=args.log_level, build=build,
                    local_conf=local_conf,
                    jwt_key=os.path.join(var, "jwt.key"))
    missing = build.missing_binaries()
    if missing:
        print("serve: not built yet: %s (run make)" % ", ".join(missing),
              file=sys.stderr)
        return 1

    inst.render()
    if not os.path.exists(inst.jwt_key):
        inst.keygen(inst.jwt_key)
    version = inst.migrate()
    # One free sticker per run, so the printed URL always works on this
    # database and port.
    lines = inst.mint(1, url=inst.url("/").rstrip("/"))
    sticker = lines[0] if lines else "(carinfoctl mint printed nothing)"

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    inst.start()
    ws_prefix = inst.mount.rstrip("/") + "/ws/"
    print("mod_carinfo is serving from %s (schema version %d, %s)"
          % (REPO, version, args.dbdriver))
    print("  API base      %s" % inst.url("/api/"))
    print("  health        %s" % inst.health_url)
    print("  demo sticker  %s" % sticker)
    print("  relay         ws://127.0.0.1:%d%s (through httpd; carinfo-relay "
          "listens on 127.0.0.1:%d)" % (args.port, ws_prefix,
                                         inst.relay_port))
    print("  error log     %s" % inst.error_log_path)
    print("  config        %s (+ %s if present)" % (inst.conf_file,
                                                    inst.local_conf))
    print("Ctrl-C stops.")
    sys.stdout.flush()
    try:
        while not stop.is_set():
            if not inst.is_running():
                print("serve: httpd exited (status %s); see %s"
                      % (inst.httpd_proc.returncode if inst.httpd_proc
                         else "?", inst.error_log_path), file=sys.stderr)
                inst.stop()
                return 1
            if inst.relay_proc is not None and \
                    inst.relay_proc.poll() is not None:
                print("serve: carinfo-relay exited (status %s); see %s"
                      % (inst.relay_proc.returncode, inst.error_log_path),
                      file=sys.stderr)
                inst.stop()
                return 1
            stop.wait(0.5)
    finally:
        inst.stop()
    print("stopped.")
    return 0


def _with_postgres(args):
    """Runs a command with a private PostgreSQL server, its conninfo in
    CARINFO_TEST_PGPARAMS (the C unit tests' switch), then removes it."""
    import subprocess
    from .pg import PrivatePostgres
    root = runtime_root(os.path.join(REPO, "test", "gen", "unit-pg"),
                        tag="carinfo-unit")
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    with PrivatePostgres(root) as pg:
        env = dict(os.environ, CARINFO_TEST_PGPARAMS=pg.dbparams())
        return subprocess.call(cmd, env=env)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m devtools.carinfo_dev")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("serve", help="run httpd + relay from this tree")
    sp.add_argument("--port", type=int, default=8080)
    sp.add_argument("--relay-port", type=int, default=None,
                    help="default: PORT+1")
    sp.add_argument("--mount", default="/",
                    help="the <Location> of the API (default /)")
    sp.add_argument("--log-level", default="warn carinfo:info")
    sp.add_argument("--dbdriver", default=None, choices=("sqlite3", "pgsql"),
                    help="default: DBDriver of local.conf, else sqlite3")
    sp.add_argument("--dbparams", default=None,
                    help="default: DBDParams of local.conf, else "
                    "var/db/carinfo.db")
    wp = sub.add_parser("with-postgres",
                        help="run a command beside a private PostgreSQL")
    wp.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "serve":
            return _serve(args)
        if args.cmd == "with-postgres":
            return _with_postgres(args)
    except (BuildError, InstanceError) as e:
        print("serve: %s" % e, file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
