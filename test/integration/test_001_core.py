"""test_001_core: the module's error discipline, health, carinfoctl, the
relay's health and life cycle, config rejection, and staying up across a
schema change and a PostgreSQL restart.

Error responses are DRF-style JSON with X-CarInfo-Problem:
urn:carinfo:log:CInnnnn, and the error log holds exactly one line with that
tag (client errors at [carinfo:info]).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest
import requests

from conftest import MAX_BODY, new_session
from devtools.carinfo_dev.instance import (SERVICE_GROUP, SERVICE_USER,
                                           free_port, is_root)

PROBLEM_RE = re.compile(r"^urn:carinfo:log:(CI\d{5})$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12}$")
SECRET_AUTH = "secret-token-123"
SECRET_BODY = "hunter2-body-secret"


def assert_json_error(resp, status):
    """A DRF-style JSON error with a problem tag; returns the tag."""
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), (ctype, resp.text[:300])
    assert not resp.text.lstrip().startswith("<"), resp.text[:300]
    body = resp.json()
    assert isinstance(body, dict) and body, body
    if status != 400:
        assert isinstance(body.get("detail"), str) and body["detail"], body
    problem = resp.headers.get("X-CarInfo-Problem", "")
    m = PROBLEM_RE.match(problem)
    assert m, "X-CarInfo-Problem: %r" % problem
    return m.group(1)


def assert_logged_once(inst, tag, offset, level="info"):
    """Exactly one error-log line since `offset` carries `tag`, at
    [carinfo:<level>]; returns it."""
    inst.errorlog.wait_for(r"\b%s\b" % tag, offset=offset, timeout=3.0)
    time.sleep(0.1)                     # a duplicate would come right after
    lines = [ln for ln in inst.errorlog.lines_since(offset)
             if re.search(r"\b%s\b" % tag, ln)]
    assert len(lines) == 1, "lines with %s: %r" % (tag, lines)
    assert "[carinfo:%s]" % level in lines[0], lines[0]
    return lines[0]


def provoke(inst, client, method, path, status, **kw):
    """One request that must fail with `status`; checks the JSON body and
    the one log line. Returns (response, tag, log line)."""
    offset = inst.errorlog.position()
    resp = client.request(method, path, **kw)
    tag = assert_json_error(resp, status)
    line = assert_logged_once(inst, tag, offset,
                              level="info" if status < 500 else "error")
    return resp, tag, line


def get_health(client):
    r = client.get("/api/health/")
    assert r.status_code == 200, r.text[:300]
    return r.json()


# ---------------------------------------------------------------------------
# The request-level error discipline, under mount / and under /back.

class TestErrors:

    @pytest.mark.parametrize("path", [
        "/api/no-such-endpoint/",
        "/api/health/extra/",
        "/no-such-page",
    ])
    def test_ci_001_01(self, mounted, mclient, path):
        """Unknown paths under the mount: 404 JSON, one log line."""
        provoke(mounted, mclient, "GET", path, 404,
                headers={"Accept": "text/html"})

    def test_ci_001_02(self, mounted, mclient):
        """A known path with a wrong method: 405 JSON with Allow."""
        for method in ("DELETE", "PUT"):
            resp, _, _ = provoke(mounted, mclient, method, "/api/health/",
                                 405)
            allow = [m.strip() for m in resp.headers.get("Allow",
                                                         "").split(",")]
            assert "GET" in allow, resp.headers

    def test_ci_001_03(self, mounted, mclient):
        """A body over CarInfoMaxBodySize (Content-Length): 413 JSON."""
        body = json.dumps({"pad": "x" * (2 * MAX_BODY)}).encode()
        provoke(mounted, mclient, "POST", "/api/echo/", 413, data=body,
                headers={"Content-Type": "application/json"})

    def test_ci_001_04(self, mounted, mclient):
        """A chunked body over CarInfoMaxBodySize: 413 JSON."""
        def chunks():
            yield b'{"pad": "'
            for _ in range(8):
                yield b"y" * (MAX_BODY // 4)
            yield b'"}'
        provoke(mounted, mclient, "POST", "/api/echo/", 413, data=chunks(),
                headers={"Content-Type": "application/json"})

    @pytest.mark.parametrize("body", [
        b'{"a": 1,',
        b"not json at all",
        b'{"a": 1} trailing',
    ], ids=["truncated", "garbage", "trailing"])
    def test_ci_001_05(self, mounted, mclient, body):
        """Malformed JSON: 400 JSON."""
        provoke(mounted, mclient, "POST", "/api/echo/", 400, data=body,
                headers={"Content-Type": "application/json"})

    @pytest.mark.parametrize("body", [
        b'{"name": "\xff\xfe"}',
        b'{"name": "\xc3\x28"}',
        b'{"\xed\xa0\x80": 1}',
    ], ids=["ff-fe", "bad-continuation", "surrogate"])
    def test_ci_001_06(self, mounted, mclient, body):
        """Invalid UTF-8 in a JSON body: 400 JSON."""
        provoke(mounted, mclient, "POST", "/api/echo/", 400, data=body,
                headers={"Content-Type": "application/json"})

    def test_ci_001_07(self, mounted, mclient):
        """The echo route returns a valid body under the limit (chunked
        too), so the 4xx above are about the body, not the route."""
        doc = {"name": "Zoë", "n": 3, "list": [1, "two", None]}
        r = mclient.post("/api/echo/", json=doc)
        assert r.status_code == 200, r.text[:300]
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json() == doc
        r = mclient.post("/api/echo/", data=iter([json.dumps(doc).encode()]),
                         headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text[:300]
        assert r.json() == doc

    def test_ci_001_08(self, mounted, mclient):
        """Secrets sent with failing requests never reach the error log."""
        auth = {"Authorization": "Bearer " + SECRET_AUTH,
                "Content-Type": "application/json"}
        provoke(mounted, mclient, "GET", "/api/nope/?token=" + SECRET_AUTH,
                404, headers=auth)
        provoke(mounted, mclient, "DELETE", "/api/health/", 405,
                headers=auth)
        provoke(mounted, mclient, "POST", "/api/echo/", 413, headers=auth,
                data=('{"password": "%s", "pad": "%s"}'
                      % (SECRET_BODY, "z" * 2 * MAX_BODY)).encode())
        # jansson's messages quote the token near the error: a module that
        # logs them verbatim would leak this password.
        provoke(mounted, mclient, "POST", "/api/echo/", 400, headers=auth,
                data=('{"password" "%s"}' % SECRET_BODY).encode())
        with open(mounted.error_log_path, errors="replace") as f:
            log = f.read()
        assert SECRET_AUTH not in log
        assert SECRET_BODY not in log

    def test_ci_001_09(self, env, mounted, mclient):
        """Health: 200 JSON, database ok, schema version >= 1."""
        h = get_health(mclient)
        assert h["status"] == "ok", h
        assert h["database"] == "ok", h
        assert isinstance(h["schema_version"], int), h
        assert h["schema_version"] >= 1, h
        assert h["driver"] == env.driver, h

    def test_ci_001_10(self, mounted, mclient):
        """HEAD of health is not a 405 (GET implies HEAD), and the health
        body is JSON without a problem header."""
        r = mclient.request("HEAD", "/api/health/")
        assert r.status_code == 200, r.headers
        r = mclient.get("/api/health/")
        assert "X-CarInfo-Problem" not in r.headers


# ---------------------------------------------------------------------------
# carinfoctl

def test_ci_001_20(env):
    """`mint 3` prints exactly three distinct UUID lines, nothing else."""
    r = env.ctl("mint", "3")
    lines = r.stdout.split("\n")
    assert lines[-1] == "", repr(r.stdout)        # ends with a newline
    lines = lines[:-1]
    assert len(lines) == 3, repr(r.stdout)
    assert all(UUID_RE.match(ln) for ln in lines), lines
    assert len(set(lines)) == 3, lines


def test_ci_001_21(env):
    """`mint 2 --url BASE` prints BASE/q/<token>/ lines."""
    base = "http://127.0.0.1:%d" % env.port
    lines = env.mint(2, url=base)
    assert len(lines) == 2, lines
    tokens = []
    for ln in lines:
        m = re.match(r"^%s/q/([^/]+)/$" % re.escape(base), ln)
        assert m, ln
        assert UUID_RE.match(m.group(1)), ln
        tokens.append(m.group(1))
    assert len(set(tokens)) == 2


def test_ci_001_22(env, tmp_path):
    """keygen writes a 0600 key file, refuses to overwrite it without
    --force, and replaces it with --force."""
    key = tmp_path / "jwt.key"
    env.ctl("keygen", str(key))
    assert key.stat().st_mode & 0o777 == 0o600, oct(key.stat().st_mode)
    first = key.read_bytes()
    assert len(first) >= 32, len(first)
    r = env.ctl("keygen", str(key), check=False)
    assert r.returncode != 0, r
    assert key.read_bytes() == first
    env.ctl("keygen", str(key), "--force")
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_bytes() != first


def test_ci_001_23(env, client):
    """`version` agrees with the health endpoint; `verify` prepares every
    statement; `migrate` again changes nothing."""
    r = env.ctl("version")
    m = re.search(r"(\d+)", r.stdout)
    assert m, r.stdout
    h = get_health(client)
    assert int(m.group(1)) == h["schema_version"], (r.stdout, h)
    r = env.ctl("verify", check=False)
    assert r.returncode == 0, (r.stdout, r.stderr)
    r = env.ctl("migrate")
    assert r.stdout.strip() == "schema version %d" % h["schema_version"], \
        r.stdout


# ---------------------------------------------------------------------------
# carinfo-relay

def test_ci_001_30(env, session):
    """The relay's /health on its own port."""
    r = session.get(env.relay_url("/health"), timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert r.headers.get("Content-Type", "").startswith("application/json")
    h = r.json()
    assert h["status"] == "ok", h
    assert h["database"] == "ok", h


@pytest.mark.parametrize("mount", ["/", "/back"], ids=["root", "back"])
def test_ci_001_33(env, session, mount):
    """httpd proxies <prefix>/ws/ to the relay: its health answers through
    httpd on /ws/ and, for the /back mount, on /back/ws/ too."""
    inst = env.inst if mount == "/" else env.back()
    prefixes = ["/ws/"] + (["/back/ws/"] if mount == "/back" else [])
    for prefix in prefixes:
        r = session.get(inst.url(prefix + "health", mounted=False),
                        timeout=10)
        assert r.status_code == 200, (prefix, r.status_code, r.text[:300])
        assert r.json()["status"] == "ok", r.text[:300]
        assert "X-CarInfo-Problem" not in r.headers


def _relay(env, args, stderr, environ=None):
    kw = {}
    if is_root():
        kw = dict(user=SERVICE_USER, group=SERVICE_GROUP, extra_groups=[])
    return subprocess.Popen([env.inst._relay_exe()] + args,
                            stdin=subprocess.DEVNULL, stdout=stderr,
                            stderr=stderr, cwd="/", env=environ, **kw)


def test_ci_001_31(env, tmp_path, session):
    """A second relay, its DBDParams in $CARINFO_DBPARAMS (systemd's
    EnvironmentFile, conf/carinfo-relay.service): healthy (its health
    reads the database), then SIGTERM -> exit 0."""
    port = free_port()
    log = open(tmp_path / "relay.log", "wb")
    p = _relay(env, ["--listen", "127.0.0.1:%d" % port, "--dbdriver",
                     env.driver], log,
               environ=dict(os.environ, CARINFO_DBPARAMS=env.db_params))
    try:
        s = session
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline and p.poll() is None:
            try:
                status = s.get("http://127.0.0.1:%d/health" % port,
                               timeout=2).status_code
            except requests.RequestException:
                status = None
            if status == 200:
                break
            time.sleep(0.1)
        assert status == 200, (tmp_path / "relay.log").read_text()
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0, (tmp_path / "relay.log").read_text()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        log.close()


def test_ci_001_32(env, tmp_path):
    """A relay with an unusable configuration exits 254 (so a supervisor
    does not respawn it)."""
    log = open(tmp_path / "relay.log", "wb")
    p = _relay(env, ["--listen", "127.0.0.1:%d" % free_port(),
                     "--dbdriver", "no-such-driver", "--dbparams", "x"], log)
    try:
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        log.close()
    assert rc == 254, (rc, (tmp_path / "relay.log").read_text())


def test_ci_001_34(env):
    """The database password is not on the relay's command line as ps
    shows it (httpd starts it with --dbparams from CarInfoRelay)."""
    if "password=" not in env.db_params:
        pytest.skip("no password in DBDParams (--db pgsql has one)")
    secret = re.search(r"password=(\S+)", env.db_params).group(1)
    pid = env.inst.relay_pid()
    assert pid, "no relay"
    with open("/proc/%d/cmdline" % pid, "rb") as f:     # what ps shows
        ps = f.read().replace(b"\0", b" ").decode()
    assert "--dbparams" in ps and "password=" + "*" * len(secret) in ps, ps
    assert "password=" + secret not in ps, ps
    assert env.inst.relay_healthy()      # and it still uses the password


# ---------------------------------------------------------------------------
# configuration

def test_ci_001_40(env):
    """The rendered config passes `httpd -t`; CarInfoMaxBodySize -5 fails
    it, and the message names the directive."""
    rc, err = env.config_test("")
    assert rc == 0, err
    rc, err = env.config_test("CarInfoMaxBodySize -5")
    assert rc != 0, err
    assert "CarInfoMaxBodySize" in err, err


# ---------------------------------------------------------------------------
# staying up

class Hammer:
    """Threads sending GET health until stopped (bounded in count and
    time); records (t_sent, t_done, status, problem tag, body head)."""

    def __init__(self, url, test_name, threads=4, max_seconds=30.0,
                 max_requests=20000):
        self.url = url
        self.test_name = test_name
        self.stop_ev = threading.Event()
        self.results = []
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + max_seconds
        self.max_requests = max_requests
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(threads)]

    def _run(self):
        s = new_session(self.test_name)
        n = 0
        while (not self.stop_ev.is_set() and n < self.max_requests
               and time.monotonic() < self.deadline):
            n += 1
            t0 = time.monotonic()
            try:
                r = s.get(self.url, timeout=10)
                status, tag, head = (r.status_code,
                                     r.headers.get("X-CarInfo-Problem"),
                                     r.text[:200])
                ctype = r.headers.get("Content-Type", "")
                if not ctype.startswith("application/json"):
                    head = "NOT JSON (%s): %s" % (ctype, head)
            except requests.RequestException as e:
                status, tag, head = None, None, str(e)[:200]
            with self.lock:
                self.results.append((t0, time.monotonic(), status, tag,
                                     head))
            if status != 200:
                time.sleep(0.02)        # an outage: do not flood the log
        s.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=30)

    def bad(self, since=None, until=None, done_before=None):
        """Failed requests sent in [since, until) and, with done_before,
        answered before that moment."""
        return [r for r in self.results
                if (since is None or r[0] >= since)
                and (until is None or r[0] < until)
                and (done_before is None or r[1] < done_before)
                and r[2] != 200]


def test_ci_001_50(env, tmp_path, request, session):
    """A migration applied while httpd serves: no request fails."""
    dialect = "sqlite" if env.db == "sqlite" else "pgsql"
    sql_dir = tmp_path / "sql"
    shutil.copytree(env.build.sql_dir, sql_dir)
    versions = [int(f[:3]) for f in os.listdir(sql_dir / dialect)
                if re.match(r"^\d{3}_.*\.sql$", f)]
    s = session
    before = s.get(env.health_url, timeout=10).json()["schema_version"]
    v = max(versions + [before]) + 1
    (sql_dir / dialect / ("%03d_test_extra.sql" % v)).write_text(
        "ALTER TABLE users ADD COLUMN test_extra_%d TEXT NOT NULL "
        "DEFAULT '';\n"
        "CREATE INDEX users_test_extra_%d ON users (test_extra_%d);\n"
        % (v, v, v))
    with Hammer(env.health_url, request.node.nodeid) as h:
        time.sleep(1.0)
        got = env.migrate(sql_dir=str(sql_dir))
        t_migrated = time.monotonic()
        time.sleep(2.0)
    assert got == v
    assert len(h.results) > 20, len(h.results)
    assert h.bad() == [], h.bad()[:10]
    after = [r for r in h.results if r[0] > t_migrated]
    assert after, "no request after the migration"
    assert s.get(env.health_url, timeout=10).json()["schema_version"] == v


def test_ci_001_51(env, request):
    """PostgreSQL restarted while requests flow: 503 JSON during the
    outage is fine; once it is back (1 s grace), every request is 200."""
    if env.db != "pgsql":
        pytest.skip("PostgreSQL only (--db pgsql)")
    with Hammer(env.health_url, request.node.nodeid, threads=2) as h:
        time.sleep(1.0)
        t_down = time.monotonic()
        env.pg.stop()
        time.sleep(2.5)
        env.pg.start()
        t_up = time.monotonic()
        time.sleep(3.0)
    # A request sent just before the stop may be answered during it: what
    # counts as "before" is what was answered before the stop began.
    before = h.bad(done_before=t_down)
    assert before == [], before[:10]
    during = [r for r in h.bad(until=t_up + 1.0) if r not in before]
    tags = set()
    for (_, _, status, tag, head) in during:
        assert status == 503, (status, head)
        assert not head.startswith("NOT JSON"), head
        m = PROBLEM_RE.match(tag or "")
        assert m, tag
        tags.add(m.group(1))
    late = h.bad(since=t_up + 1.0)
    assert late == [], late[:10]
    assert [r for r in h.results if r[0] >= t_up + 1.0], "no late requests"
    # The 503s logged their own tag at error; mod_dbd reports the lost
    # connections (AH006xx "Can't connect", AH02655 "Failed to acquire").
    # Anything else is still a finding.
    env.errorlog.ignore_recent(lognos=sorted(tags) + [r"AH006\d\d",
                                                      "AH02655"])
    # Every relay (the /back instance's too) loses its LISTEN connection
    # and its query connection, and says so once: CI10550 / CI10506.
    for inst in env.instances:
        inst.errorlog.ignore_recent(lognos=["CI10550", "CI10506"])
