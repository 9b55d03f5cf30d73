"""Web tests: the pages (web/), the API reference (docs/openapi.json,
/api/docs/, /api/redoc/) against a real httpd with mod_carinfo and
carinfo-relay, and headless Chromium.

    /usr/bin/python3 -m pytest test/web

The browser scenarios are Node scripts (test/web/e2e/*.mjs, playwright-core
driving Debian's /usr/bin/chromium); each test here prepares data over
REST, runs `node e2e/<scenario>.mjs <base-url> <outdir>` and checks its exit
status. Screenshots go to test/gen/web/<mount>/<scenario>/ (git-ignored).

Set-up done here when missing (both idempotent): `npm ci` in test/web/
(playwright-core, axe-core, swagger-parser from package-lock.json) and
web/fetch-vendor.sh (Swagger UI and Redoc into web/vendor/). Needs node,
npm and /usr/bin/chromium (tools/install-deps test).

Two instances share one SQLite database: the module mounted at / and at
/back. After every test their error logs must hold no unexpected [warn] or
worse line, as in test/integration.
"""
import os

import pytest

# webenv puts the repository on sys.path (devtools/)
from webenv import WebEnv, ensure_browser, ensure_node_modules, ensure_vendor
from devtools.carinfo_dev.testing import (log_problems, mark_logs,  # noqa
                                          require_build,
                                          new_session)


@pytest.fixture(scope="session")
def web(request):
    build = require_build()
    e = WebEnv(build)
    try:
        e.setup()
    except Exception:
        e.teardown()
        raise
    yield e
    e.teardown()


@pytest.fixture(scope="session")
def browser_ready():
    ensure_browser()
    ensure_node_modules()
    ensure_vendor()
    return True


@pytest.fixture(autouse=True)
def _error_log_discipline(request):
    """Fails a test when an instance logged something unexpected."""
    if "web" not in request.fixturenames:
        yield
        return
    env = request.getfixturevalue("web")
    mark_logs(env.instances)
    yield
    problems = log_problems(env.instances)
    if problems:
        pytest.fail(problems, pytrace=False)


@pytest.fixture
def session(request):
    s = new_session(request.node.nodeid)
    yield s
    s.close()


_phone_seq = [0]


@pytest.fixture
def new_phone():
    """A fresh phone number per call (unique within the session)."""
    def make():
        _phone_seq[0] += 1
        return "+99890%03d%04d" % (os.getpid() % 1000, _phone_seq[0])
    return make


@pytest.fixture(params=["/", "/back"], ids=["root", "back"])
def inst(web, request):
    """Each mount in turn."""
    return web.root if request.param == "/" else web.back


