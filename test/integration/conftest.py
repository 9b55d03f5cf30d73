"""Integration tests: a real httpd with mod_carinfo, carinfo-relay and a
database (SQLite by default, or a private PostgreSQL with --db pgsql).

    /usr/bin/python3 -m pytest test/integration --db sqlite
    /usr/bin/python3 -m pytest test/integration --db pgsql

The instances are devtools/carinfo_dev's (the same code as `make run`),
under test/gen/<db>/ (wiped at session start). After every test the error
logs of all running instances must hold no unexpected [warn] or worse line;
a test that provokes one declares it with
env.errorlog.ignore_recent(lognos=[...], matches=[...]).
"""
import os
import shutil
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from devtools.carinfo_dev.instance import (Instance, free_ports,  # noqa
                                           runtime_root)
from devtools.carinfo_dev.pg import PrivatePostgres  # noqa: E402
from devtools.carinfo_dev.testing import (log_problems, mark_logs,  # noqa
                                          require_build, stop_all,
                                          new_session)

# Settings every test instance gets: a small body limit so 413 is cheap to
# provoke, the debug echo route for testing request-body handling, and
# cheap password hashes (bcrypt cost 4 instead of 12).
TEST_EXTRA = """\
CarInfoMaxBodySize 16384
CarInfoDebugEcho on
CarInfoPasswordCost 4
"""
MAX_BODY = 16384
DRIVERS = {"sqlite": "sqlite3", "pgsql": "pgsql"}


def pytest_addoption(parser):
    parser.addoption("--db", choices=sorted(DRIVERS), default="sqlite",
                     help="database behind the instance (default sqlite)")


def pytest_report_header(config):
    return "carinfo: --db %s" % config.getoption("--db")


def _wipe(path):
    """Empties a runtime tree (following a runtime_root() symlink)."""
    real = os.path.realpath(path)
    if os.path.isdir(real):
        shutil.rmtree(real)


class CarInfoEnv:
    """The session's database and instances. Attribute access falls through
    to the main instance (env.url(...), env.errorlog, env.ctl(...))."""

    def __init__(self, db, build):
        self.db = db
        self.driver = DRIVERS[db]
        self.build = build
        self.gen_dir = os.path.join(REPO, "test", "gen", db)
        self.pg = None
        self.inst = None
        self._back = None
        self.instances = []

    def setup(self):
        _wipe(self.gen_dir)
        self.gen_dir = runtime_root(self.gen_dir, tag="carinfo-test")
        if self.db == "pgsql":
            self.pg = PrivatePostgres(self.gen_dir).setup()
            self.db_params = self.pg.dbparams()
        else:
            self.db_params = os.path.join(self.gen_dir, "db", "carinfo.db")
        self.inst = self._make(self.gen_dir, "/")
        self.schema_version = self.inst.migrate()
        self._start(self.inst)
        return self

    def _make(self, root, mount):
        port, relay_port = free_ports(2)
        # The relay is also reachable the mod_proxy_wstunnel way (ws://),
        # as many existing vhosts have it: httpd hands it to mod_proxy_http.
        wstunnel = ('ProxyPass "/wst/" "ws://127.0.0.1:%d/ws/" disablereuse=on '
                    'retry=0\n'
                    % relay_port)
        return Instance(root, port, relay_port,
                        db=(self.driver, self.db_params), mount=mount,
                        extra=TEST_EXTRA + wstunnel, build=self.build)

    def _start(self, inst):
        self.instances.append(inst)
        if not os.path.exists(inst.jwt_key):
            inst.keygen()
        inst.start()

    def back(self):
        """A second instance mounted at /back (same database), started on
        first use."""
        if self._back is None:
            self._back = self._make(os.path.join(self.gen_dir, "back"),
                                    "/back")
            self._start(self._back)
        return self._back

    def teardown(self):
        stop_all(self.instances)
        for inst in self.instances:
            if inst.relay_exit not in (None, 0):
                print("carinfo-relay of %s exited with %s on SIGTERM"
                      % (inst.root, inst.relay_exit), file=sys.stderr)
        if self.pg is not None:
            self.pg.cleanup()

    def __getattr__(self, name):
        if name == "inst" or self.inst is None:
            raise AttributeError(name)
        return getattr(self.inst, name)


@pytest.fixture(scope="session")
def env(request):
    build = require_build()
    e = CarInfoEnv(request.config.getoption("--db"), build)
    try:
        e.setup()
    except Exception:
        e.teardown()
        raise
    yield e
    e.teardown()


@pytest.fixture(autouse=True)
def _error_log_discipline(env):
    """Fails the test when any instance logged something unexpected."""
    mark_logs(env.instances)
    yield
    problems = log_problems(env.instances)
    if problems:
        pytest.fail(problems, pytrace=False)


class Client:
    """A requests.Session bound to one instance: paths are relative to its
    mount, and every request carries AP-Test-Name (logged in access.log)."""

    def __init__(self, inst, test_name):
        self.inst = inst
        self.session = new_session(test_name)

    def url(self, path):
        return self.inst.url(path)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        return self.session.request(method, self.inst.url(path), **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def close(self):
        self.session.close()


@pytest.fixture
def session(request):
    """A plain session (absolute URLs) with the AP-Test-Name header."""
    s = new_session(request.node.nodeid)
    yield s
    s.close()


@pytest.fixture
def client(env, request):
    c = Client(env.inst, request.node.nodeid)
    yield c
    c.close()


@pytest.fixture(params=["/", "/back"], ids=["root", "back"])
def mounted(env, request):
    """The main instance (mount /) and the /back instance in turn."""
    return env.inst if request.param == "/" else env.back()


@pytest.fixture
def mclient(mounted, request):
    c = Client(mounted, request.node.nodeid)
    yield c
    c.close()
