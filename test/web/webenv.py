"""What the web tests share (conftest.py holds only the fixtures): the
private instances, the one-time set-up (npm ci, web/fetch-vendor.sh), and
running a browser scenario (node e2e/<name>.mjs)."""
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from devtools.carinfo_dev.testing import stop_all  # noqa: E402
from devtools.carinfo_dev.instance import (SERVICE_USER, Instance,  # noqa
                                           free_ports, runtime_root,
                                           user_can)

WEB_DIR = os.path.join(REPO, "web")
OPENAPI_FILE = os.path.join(REPO, "docs", "openapi.json")
HANDLER_C = os.path.join(REPO, "mod_carinfo", "mod_carinfo_handler.c")
E2E_DIR = os.path.join(HERE, "e2e")
GEN_DIR = os.path.join(REPO, "test", "gen", "web")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# As test/integration: cheap bcrypt, the debug echo off (not needed).
TEST_EXTRA = """\
CarInfoMaxBodySize 16384
CarInfoPasswordCost 4
"""


def _run(cmd, cwd, what, timeout=600):
    r = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        pytest.exit("carinfo web tests: %s failed (exit %d):\n%s%s"
                    % (what, r.returncode, r.stdout[-3000:],
                       r.stderr[-3000:]), returncode=3)
    return r


def ensure_node_modules():
    """npm ci in test/web when node_modules does not match the lock."""
    lock = os.path.join(HERE, "package-lock.json")
    installed = os.path.join(HERE, "node_modules", ".package-lock.json")
    if os.path.exists(installed) and \
            os.path.getmtime(installed) >= os.path.getmtime(lock):
        return
    if not shutil.which("npm"):
        pytest.exit("carinfo web tests: npm not found "
                    "(tools/install-deps test)", returncode=3)
    _run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], HERE,
         "npm ci in test/web")


def ensure_vendor():
    _run([os.path.join(WEB_DIR, "fetch-vendor.sh")], WEB_DIR,
         "web/fetch-vendor.sh")


def ensure_browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.exit("carinfo web tests: %s not found (apt-get install "
                    "chromium; tools/install-deps test)" % CHROMIUM,
                    returncode=3)
    if not shutil.which("node"):
        pytest.exit("carinfo web tests: node not found", returncode=3)


def _served_copy(gen_dir):
    """The web root and OpenAPI file for httpd: the tree's own when
    www-data can read them, else a copy under the runtime tree (a checkout
    under /root)."""
    probe = os.path.join(WEB_DIR, "sticker.html")
    if user_can(SERVICE_USER, "r", probe) and \
            user_can(SERVICE_USER, "r", OPENAPI_FILE):
        return WEB_DIR, OPENAPI_FILE
    dest = os.path.join(gen_dir, "webroot")
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(WEB_DIR, dest)
    shutil.copy2(OPENAPI_FILE, os.path.join(dest, "openapi.json"))
    return dest, os.path.join(dest, "openapi.json")


class WebEnv:
    """Two instances (mounts / and /back) on one SQLite database."""

    def __init__(self, build):
        self.build = build
        self.instances = []

    def setup(self):
        real = os.path.realpath(GEN_DIR)
        if os.path.isdir(real):
            shutil.rmtree(real)
        self.gen_dir = runtime_root(GEN_DIR, tag="carinfo-web")
        self.db_params = os.path.join(self.gen_dir, "db", "carinfo.db")
        self.web_root, self.openapi = _served_copy(self.gen_dir)
        extra = TEST_EXTRA + ('CarInfoWebRoot "%s"\nCarInfoOpenAPIFile "%s"\n'
                              % (self.web_root, self.openapi))
        self.root = self._make("inst-root", "/", extra)
        self.root.migrate()
        self._start(self.root)
        self.back = self._make("inst-back", "/back", extra)
        self._start(self.back)
        return self

    def _make(self, name, mount, extra):
        port, relay_port = free_ports(2)
        return Instance(os.path.join(self.gen_dir, name), port, relay_port,
                        db=("sqlite3", self.db_params), mount=mount,
                        extra=extra, build=self.build)

    def _start(self, inst):
        self.instances.append(inst)
        if not os.path.exists(inst.jwt_key):
            if inst is self.root:
                inst.keygen()
            else:                       # one key: tokens work on both
                shutil.copy2(self.root.jwt_key, inst.jwt_key)
                shutil.copystat(self.root.jwt_key, inst.jwt_key)
                if os.geteuid() == 0:
                    shutil.chown(inst.jwt_key, SERVICE_USER, SERVICE_USER)
        inst.start()

    def teardown(self):
        stop_all(self.instances)

    # ------------------------------------------------------------ data
    def mint(self, n=1):
        return self.root.mint(n)

    def register_owner(self, session, phone, password="Parking-2026",
                       **profile):
        """A minted, registered sticker; returns the register answer plus
        token and password."""
        token = self.mint(1)[0].strip()
        body = dict(user_id=token, phone_number=phone, password=password)
        body.update(profile)
        r = session.post(self.root.url("/api/user/register/"), json=body,
                         timeout=10)
        assert r.status_code == 201, r.text
        out = r.json()
        out.update(profile)
        out.update(token=token, phone=phone, password=password)
        return out


def run_scenario(name, inst, data, timeout=240):
    """Runs e2e/<name>.mjs against `inst`'s mount; its output on failure."""
    tag = "root" if inst.mount == "/" else inst.mount.strip("/")
    outdir = os.path.join(GEN_DIR, tag, name)
    os.makedirs(outdir, exist_ok=True)
    base = inst.url("/").rstrip("/")
    env = dict(os.environ, CARINFO_E2E=json.dumps(data), CHROMIUM=CHROMIUM)
    env.pop("NODE_OPTIONS", None)
    cmd = ["node", os.path.join(E2E_DIR, name + ".mjs"), base, outdir]
    try:
        r = subprocess.run(cmd, cwd=HERE, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail("%s timed out after %d s:\n%s" % (
            name, timeout, (e.stdout or b"")[-6000:]), pytrace=False)
    out = r.stdout + r.stderr
    if r.returncode != 0 or ("E2E OK " + name) not in r.stdout:
        pytest.fail("scenario %s on %s failed (exit %d):\n%s"
                    % (name, base, r.returncode, out[-12000:]),
                    pytrace=False)
    return out
