#!/usr/bin/python3
"""The mod_carinfo benchmark (issue 7). Run it through bench/run, which
installs the Debian packages, builds the tree and bench/wsload first.

    /usr/bin/python3 bench/bench.py [--db sqlite,pgsql] [--only rest,ws,cap]
                                    [--duration 5] [--rounds 3] [--quick]

For each database (SQLite, then a private PostgreSQL), it starts a private
httpd + carinfo-relay (devtools.carinfo_dev.Instance, conf/dev.conf.in),
seeds data through the REST API, then:

  rest  wrk against each endpoint, interleaved with wrk against Apache
        serving the same response body as a static file; per-round ratio
        endpoint/static, median of the rounds; POST /api/login/ apart.
  ws    bench/wsload (C, libwebsockets): committed messages per second on
        the relay, and visitor-to-owner latency at a fixed rate through
        Apache.
  cap   (SQLite only) sockets held through Apache with a bench MPM, and
        directly on the relay; RSS per socket from /proc.

Every load targets 127.0.0.1 only, is bounded in time and count, and stops
by itself. Results go to bench/results.json and bench/README.md (rendered
from bench/README.md.in).
"""
import argparse
import itertools
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

from devtools.carinfo_dev.build import Build  # noqa: E402
from devtools.carinfo_dev.instance import (Instance, free_ports,  # noqa: E402
                                           is_root, runtime_root)
from devtools.carinfo_dev.pg import PrivatePostgres  # noqa: E402
import benchlib as bl  # noqa: E402

AUTOGROUP = "/proc/sys/kernel/sched_autogroup_enabled"
NOFILE = 262144
PASSWORD = "bench-secret-123"

# Settings of the benchmark instance (appended through Instance's extra).
REST_EXTRA = """\
MaxKeepAliveRequests 0
CarInfoAccessTokenLifetime 3600
CarInfoChatStartLimitPerAddress 1000000 60
CarInfoChatStartLimitPerOwner 1000000 60
CarInfoLoginLimitPerPhone 1000000 60
CarInfoLoginLimitPerAddress 1000000 60
<Location "/static-bench/">
    SetHandler none
</Location>
"""

# For holding thousands of tunnelled sockets: one worker thread each.
CAP_MPM = """\
<IfModule mpm_event_module>
    StartServers            1
    ServerLimit             %(children)d
    ThreadLimit             150
    ThreadsPerChild         150
    MaxRequestWorkers       %(workers)d
    MinSpareThreads         75
    MaxSpareThreads         %(workers)d
</IfModule>
DBDMin 0
DBDKeep 1
DBDMax 4
"""

# WebSocket phases
WS_LAT_ROOMS = 200          # 2,000 msg/s = 10/s per visitor
WS_LAT_RATE = 2000
WS_TPUT_ROOMS = 2000        # closed loop, at most 15/s per visitor
WS_TPUT_PER_SOCKET = 15     # the relay closes a socket above 20/s (1008)
CAP_APACHE_SOCKETS = 5000
CAP_APACHE_DEV_SOCKETS = 1500  # against the documented 1,200 workers
CAP_APACHE_CHILDREN = 40    # x 150 threads = 6,000 workers
CAP_RELAY_SOCKETS = 50000
CAP_ROOMS = 500
WSLOAD = os.path.join(HERE, "wsload")

WS_TARGETS = {
    ("latency_p99_ms", None): 5.0,
    ("committed_per_s", "sqlite"): 20000,
    ("committed_per_s", "pgsql"): 10000,
    ("apache_sockets", None): 5000,
    ("relay_sockets", None): 50000,
}

TARGETS = {
    # (endpoint, db): minimum ratio to static
    ("messages", "sqlite"): 0.5,
    ("messages", "pgsql"): 0.35,
    ("profile", "sqlite"): 0.6,
}


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, flush=True)


class BenchInstance(Instance):
    """The dev instance without its access log: a line per request would
    grow by gigabytes over the run and measures the disk, not the module
    (the static baseline would pay it too)."""

    def render_text(self, extra=None):
        text = super().render_text(extra)
        return re.sub(r"^(\s*)CustomLog .*$",
                      r"\1# CustomLog: off for the benchmark", text,
                      flags=re.M)

    def httpd_pids(self):
        conf = self.conf_file
        return bl.pids_of(lambda pid, argv: conf in argv
                          and os.path.basename(argv[0]).startswith(
                              ("apache2", "httpd")))

    def httpd_children(self):
        main = self.httpd_proc.pid if self.httpd_proc else None
        return [p for p in self.httpd_pids() if p != main]


# ====================================================================== seed
class Seeder:
    """Users, rooms and messages made through the real REST API."""

    # one sequence for every Seeder of the run: phone numbers are unique
    seq = itertools.count(int(time.time() * 10) % 5000000)

    def __init__(self, inst):
        self.inst = inst
        self.stickers = []

    def _phone(self):
        return "+99890%07d" % (next(Seeder.seq) % 10000000)

    def _addr(self):
        return "203.0.113.%d" % (next(Seeder.seq) % 250 + 1)

    def url(self, path):
        return self.inst.url(path)

    def sticker(self):
        if not self.stickers:
            self.stickers = self.inst.mint(20)
        return self.stickers.pop()

    def user(self, name, **profile):
        """Registers a fresh user; {"id","phone","access","refresh"}."""
        phone = self._phone()
        body = {"user_id": self.sticker(), "phone_number": phone,
                "password": PASSWORD, "full_name": name}
        body.update(profile)
        reg = bl.http_json("POST", self.url("/api/user/register/"), body,
                           {"X-Forwarded-For": self._addr()}, want=(201,))
        return {"id": reg["user"]["id"], "phone": phone,
                "access": reg["tokens"]["access"],
                "refresh": reg["tokens"]["refresh"]}

    def room(self, owner_id, name="Bench visitor"):
        r = bl.http_json("POST", self.url("/api/chat/start/"),
                         {"user_id": owner_id, "visitor_name": name},
                         {"X-Forwarded-For": self._addr()}, want=(201,))
        return {"id": r["room_id"], "vt": r["visitor_token"],
                "ws_path": r["ws_path"]}

    def send(self, room, text, owner_token=None):
        path = "/api/chat/rooms/%s/messages/" % room["id"]
        headers = {}
        if owner_token:
            headers["Authorization"] = "Bearer " + owner_token
        else:
            path += "?visitor=" + room["vt"]
        return bl.http_json("POST", self.url(path), {"message": text},
                            headers, want=(201,))


VISITOR_LINES = [
    "Hello! Your car is blocking the gate of house 12, could you move it?",
    "Your headlights are still on, the battery will be flat by the evening.",
    "Thanks a lot, see you around. Have a nice day!",
]
OWNER_LINES = [
    "Thank you, I am coming down in two minutes.",
    "Oh no, thanks for telling me! On my way.",
]


def seed_rest(inst):
    """What the REST endpoints read: owner A with a public profile and 50
    rooms (one message each, one of them 50 messages), owner B who
    receives the POST /api/chat/start/ load, user C who logs in."""
    s = Seeder(inst)
    a = s.user("Aziz Karimov", car_model="Chevrolet Cobalt",
               car_plate_number="01 A 123 BC", telegram="@aziz_k",
               instagram="aziz.karimov", whatsapp="+998901112233",
               phone_number_2="+998907778899", is_profile_public=True)
    rooms = [s.room(a["id"], "Visitor %d" % i) for i in range(50)]
    for i, r in enumerate(rooms):
        s.send(r, VISITOR_LINES[i % len(VISITOR_LINES)])
    hist = rooms[0]
    for i in range(49):
        if i % 3 == 2:
            s.send(hist, OWNER_LINES[i % len(OWNER_LINES)], a["access"])
        else:
            s.send(hist, VISITOR_LINES[i % len(VISITOR_LINES)])
    b = s.user("Bobur Aliyev", is_profile_public=True)
    c = s.user("Charos Yusupova")
    return {"seeder": s, "a": a, "b": b, "c": c, "rooms": rooms,
            "hist": hist}


# ====================================================================== REST
def rest_endpoints(inst, seed):
    a, b, hist = seed["a"], seed["b"], seed["hist"]
    start_body = json.dumps({"user_id": b["id"],
                             "visitor_name": "Bench visitor"})
    return [
        {"name": "messages", "method": "GET",
         "what": "GET /api/chat/rooms/<id>/messages/?visitor= (50 messages)",
         "path": "/api/chat/rooms/%s/messages/?visitor=%s"
                 % (hist["id"], hist["vt"])},
        {"name": "profile", "method": "GET",
         "what": "GET /user/<uuid>/ (public profile, one row)",
         "path": "/user/%s/" % a["id"]},
        {"name": "rooms", "method": "GET",
         "what": "GET /api/chat/rooms/ (Bearer; owner of 50 rooms)",
         "path": "/api/chat/rooms/",
         "headers": {"Authorization": "Bearer " + a["access"]}},
        {"name": "start", "method": "POST",
         "what": "POST /api/chat/start/ (creates a room)",
         "path": "/api/chat/start/", "body": start_body},
    ]


def fetch_body(inst, ep):
    body = ep.get("body")
    status, headers, data = bl.http(
        ep["method"], inst.url(ep["path"]),
        body.encode() if body else None,
        dict(ep.get("headers", {}),
             **({"Content-Type": "application/json"} if body else {})))
    if status not in (200, 201):
        raise RuntimeError("%s %s -> %d %s" % (ep["method"], ep["path"],
                                               status, data[:300]))
    return data, headers


class Rest:
    def __init__(self, inst, db, args, workdir):
        self.inst, self.db, self.args, self.workdir = inst, db, args, workdir
        self.static_dir = os.path.join(inst.htdocs, "static-bench")
        os.makedirs(self.static_dir, exist_ok=True)

    def cpu_pids(self):
        pids = self.inst.httpd_pids()
        return pids

    def pg_pids(self):
        return self.args.pg_pids() if self.args.pg_pids else []

    def run_wrk(self, url, ep=None, **kw):
        """wrk plus the CPU that httpd (and PostgreSQL) spent on it."""
        hp, pp = self.inst.httpd_pids(), self.pg_pids()
        c0, p0 = bl.cpu_seconds(hp), bl.cpu_seconds(pp)
        res = bl.wrk(url, **kw)
        hp2 = self.inst.httpd_pids()
        res["httpd_cpu_us"] = (1e6 * (bl.cpu_seconds(hp2) - c0)
                               / max(res["requests"], 1))
        if pp:
            res["pg_cpu_us"] = (1e6 * (bl.cpu_seconds(pp) - p0)
                                / max(res["requests"], 1))
        return res

    def wrk_args(self, ep):
        kw = {"duration": self.args.duration, "conns": self.args.conns,
              "threads": 2}
        hdrs = ["%s: %s" % kv for kv in ep.get("headers", {}).items()]
        kw["headers"] = hdrs
        if ep["method"] == "POST":
            kw["script"] = bl.lua_post(
                os.path.join(self.workdir, "%s.lua" % ep["name"]),
                ep["body"], ep.get("headers"))
            kw["headers"] = []
        return kw

    def run(self, seed):
        results = []
        eps = [e for e in rest_endpoints(self.inst, seed)
               if not self.args.endpoints or e["name"] in self.args.endpoints]
        for ep in eps:
            data, headers = fetch_body(self.inst, ep)
            fname = "%s.json" % ep["name"]
            with open(os.path.join(self.static_dir, fname), "wb") as f:
                f.write(data)
            ep["static_url"] = self.inst.url("/static-bench/" + fname,
                                             mounted=False)
            ep["body_bytes"] = len(data)
            # the static file must come back byte for byte
            st, sh, sdata = bl.http("GET", ep["static_url"])
            if st != 200 or sdata != data:
                raise RuntimeError("static copy of %s not served (%d)"
                                   % (ep["name"], st))
            ep["content_type"] = (headers.get("Content-Type"),
                                  sh.get("Content-Type"))
        # warm-up: every URL once, briefly
        for ep in eps:
            self.run_wrk(ep["static_url"], duration=2, conns=self.args.conns)
            self.run_wrk(self.inst.url(ep["path"]),
                         **dict(self.wrk_args(ep), duration=2))
        rounds = {ep["name"]: [] for ep in eps}
        for rnd in range(self.args.rounds):
            for ep in eps:
                s = self.run_wrk(ep["static_url"],
                                 duration=self.args.duration,
                                 conns=self.args.conns)
                e = self.run_wrk(self.inst.url(ep["path"]),
                                 **self.wrk_args(ep))
                ratio = e["rps"] / s["rps"] if s["rps"] else None
                rounds[ep["name"]].append({"static": s, "endpoint": e,
                                           "ratio": ratio})
                log("%s %-8s round %d: static %8.0f rps, endpoint %8.0f rps,"
                    " ratio %.3f%s" % (self.db, ep["name"], rnd + 1,
                                       s["rps"], e["rps"], ratio or 0,
                                       "  NON-2xx %d" % e["non2xx"]
                                       if e["non2xx"] else ""))
        for ep in eps:
            rs = rounds[ep["name"]]
            for r in rs:
                for k in ("static", "endpoint"):
                    r[k].pop("raw", None)
            target = TARGETS.get((ep["name"], self.db))
            ratio = bl.median([r["ratio"] for r in rs])
            results.append({
                "name": ep["name"], "what": ep["what"],
                "body_bytes": ep["body_bytes"],
                "ratio": ratio,
                "ratios": [r["ratio"] for r in rs],
                "static_rps": bl.median([r["static"]["rps"] for r in rs]),
                "endpoint_rps": bl.median([r["endpoint"]["rps"]
                                           for r in rs]),
                "static_p99_ms": bl.median([r["static"]["p99_ms"]
                                            for r in rs]),
                "endpoint_p50_ms": bl.median([r["endpoint"]["p50_ms"]
                                              for r in rs]),
                "endpoint_p99_ms": bl.median([r["endpoint"]["p99_ms"]
                                              for r in rs]),
                "static_cpu_us": bl.median([r["static"]["httpd_cpu_us"]
                                            for r in rs]),
                "endpoint_cpu_us": bl.median([r["endpoint"]["httpd_cpu_us"]
                                              for r in rs]),
                "pg_cpu_us": bl.median([r["endpoint"].get("pg_cpu_us")
                                        for r in rs]),
                "non2xx": sum(r["endpoint"]["non2xx"] for r in rs),
                "socket_errors": sum(r["endpoint"]["socket_errors"]
                                     + r["static"]["socket_errors"]
                                     for r in rs),
                "target": target,
                "met": (ratio >= target) if target and ratio else None,
                "rounds": rs,
            })
        return results

    def login(self, seed):
        """POST /api/login/ at the configured bcrypt cost: rps."""
        c = seed["c"]
        ep = {"name": "login", "method": "POST", "path": "/api/login/",
              "body": json.dumps({"phone_number": c["phone"],
                                  "password": PASSWORD})}
        data, _ = fetch_body(self.inst, ep)
        kw = self.wrk_args(ep)
        kw.update(duration=max(self.args.duration * 2, 6), conns=8,
                  timeout="10s")
        res = self.run_wrk(self.inst.url(ep["path"]), **kw)
        res.pop("raw", None)
        cost = password_cost(self.inst)
        per_hash = bcrypt_seconds(cost)
        res.update({"what": "POST /api/login/ (bcrypt cost %s)" % cost,
                    "cost": cost, "bcrypt_ms": per_hash * 1000
                    if per_hash else None,
                    "bound_rps": (os.cpu_count() / per_hash)
                    if per_hash else None})
        log("%s login: %.1f rps (bcrypt cost %s: %.0f ms a hash, bound "
            "%.1f rps on %d cores)" % (self.db, res["rps"], cost,
                                       (per_hash or 0) * 1000,
                                       res["bound_rps"] or 0,
                                       os.cpu_count()))
        return res


def password_cost(inst):
    """CarInfoPasswordCost in force (the module's default is 12)."""
    with open(inst.conf_file) as f:
        m = re.findall(r"^\s*CarInfoPasswordCost\s+(\d+)", f.read(), re.M)
    return int(m[-1]) if m else 12


def bcrypt_seconds(cost):
    """One bcrypt hash at `cost` with libxcrypt (the same algorithm the
    module runs through apr-util), median of 3."""
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import crypt
    except ImportError:
        return None
    salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2 ** cost)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        crypt.crypt(PASSWORD, salt)
        times.append(time.perf_counter() - t)
    return bl.median(times)


# ====================================================================== WS
def seed_ws_rooms(inst, n, owner_name="Dilshod Rahimov"):
    """Owner D and n visitor rooms of D, made through POST /api/chat/start/;
    (owner, rooms)."""
    s = Seeder(inst)
    d = s.user(owner_name)
    return d, [s.room(d["id"], "WS visitor %d" % i) for i in range(n)]


def rooms_file(path, rooms):
    with open(path, "w") as f:
        for r in rooms:
            f.write("%s %s\n" % (r["id"], r["vt"]))
    return path


def wsload(args, timeout, port, stdin_hold=False):
    """Runs bench/wsload; its JSON summary (dict)."""
    cmd = [WSLOAD, "--libev", "--host", "127.0.0.1", "--port", str(port)] \
        + [str(a) for a in args]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    return _wsload_result(cmd, r.returncode, r.stdout, r.stderr)


def _wsload_result(cmd, rc, out, err):
    lines = [l for l in out.splitlines() if l.startswith("{")]
    if rc != 0 or not lines:
        raise RuntimeError("wsload failed (%s): %s\n%s" % (rc, " ".join(
            cmd[:8]), err[-2000:]))
    res = json.loads(lines[-1])
    res["stderr"] = err.strip().splitlines()[-5:]
    return res


def settle(seconds=3):
    """Writes back what earlier phases left dirty, before a measurement:
    the kernel's deferred writeback of the REST rounds' data otherwise
    lands on the PostgreSQL WAL flushes of the WebSocket runs (COMMITs of
    100-850 ms in its log; this VM's disk: an fdatasync of 209 ms after a
    1.5 GB delete)."""
    os.sync()
    time.sleep(seconds)


class Ws:
    """Throughput on the relay and latency through Apache."""

    def __init__(self, inst, db, args, workdir):
        self.inst, self.db, self.args, self.workdir = inst, db, args, workdir

    def relay_cpu(self):
        pid = self.inst.relay_pid()
        return bl.cpu_seconds([pid]) if pid else 0.0

    def pg_cpu(self):
        return bl.cpu_seconds(self.args.pg_pids()) if self.args.pg_pids \
            else 0.0

    def measured(self, fn):
        hp = self.inst.httpd_pids()
        r0, h0, p0, t0 = (self.relay_cpu(), bl.cpu_seconds(hp),
                          self.pg_cpu(), time.monotonic())
        res = fn()
        wall = time.monotonic() - t0
        res["cpu_pct"] = {
            "relay": round(100 * (self.relay_cpu() - r0) / wall),
            "httpd": round(100 * (bl.cpu_seconds(self.inst.httpd_pids())
                                  - h0) / wall),
            "postgres": round(100 * (self.pg_cpu() - p0) / wall)}
        return res

    def run(self):
        out = {}
        n_rooms = max(WS_TPUT_ROOMS, WS_LAT_ROOMS)
        if self.args.quick:
            n_rooms = WS_LAT_ROOMS
        t = time.monotonic()
        owner, rooms = seed_ws_rooms(self.inst, n_rooms)
        log("%s ws: %d rooms made in %.1f s" % (self.db, len(rooms),
                                               time.monotonic() - t))
        lat_file = rooms_file(os.path.join(self.workdir, "rooms-lat.txt"),
                              rooms[:WS_LAT_ROOMS])
        all_file = rooms_file(os.path.join(self.workdir, "rooms-all.txt"),
                              rooms)
        dur = self.args.ws_duration
        settle()
        # 1. latency at a fixed rate, through Apache
        lat = self.measured(lambda: wsload(
            ["--rooms", lat_file, "--owner-token", owner["access"],
             "--mode", "rate", "--rate", WS_LAT_RATE, "--warmup", 2,
             "--duration", dur, "--max-seconds", dur + 60],
            timeout=dur + 90, port=self.inst.port))
        lat["what"] = ("%d msg/s over %d rooms (%.0f/s per visitor) through "
                       "Apache" % (WS_LAT_RATE, WS_LAT_ROOMS,
                                   WS_LAT_RATE / WS_LAT_ROOMS))
        lat["target_p99_ms"] = WS_TARGETS[("latency_p99_ms", None)]
        lat["met"] = (lat["lat_ms"]["p99"] >= 0
                      and lat["lat_ms"]["p99"] < lat["target_p99_ms"]
                      and lat["committed_per_s"] >= 0.95 * WS_LAT_RATE)
        out["latency_apache"] = lat
        log("%s ws latency via Apache: %.0f msg/s committed, p50 %.2f p99 "
            "%.2f max %.2f ms; cpu %s" % (
                self.db, lat["committed_per_s"], lat["lat_ms"]["p50"],
                lat["lat_ms"]["p99"], lat["lat_ms"]["max"], lat["cpu_pct"]))
        settle()
        # 2. committed messages per second, directly on the relay
        rate = len(rooms) * WS_TPUT_PER_SOCKET
        tp = self.measured(lambda: wsload(
            ["--rooms", all_file, "--owner-token", owner["access"],
             "--mode", "rate", "--rate", rate, "--closed-loop",
             "--warmup", 2, "--duration", dur, "--max-seconds", dur + 90],
            timeout=dur + 120, port=self.inst.relay_port))
        tp["what"] = ("%d rooms x 2 sockets directly on the relay, each "
                      "visitor at most %d/s, one message in flight"
                      % (len(rooms), WS_TPUT_PER_SOCKET))
        tp["offered_max_per_s"] = rate
        tp["target_per_s"] = WS_TARGETS[("committed_per_s", self.db)]
        tp["met"] = tp["committed_per_s"] >= tp["target_per_s"]
        tp["relay_cpu_us_per_msg"] = (
            1e6 * tp["cpu_pct"]["relay"] / 100.0 / tp["committed_per_s"]
            if tp["committed_per_s"] else None)
        out["throughput_relay"] = tp
        log("%s ws throughput on the relay: %.0f committed msg/s (offered up "
            "to %d), p50 %.2f p99 %.2f ms; cpu %s" % (
                self.db, tp["committed_per_s"], rate, tp["lat_ms"]["p50"],
                tp["lat_ms"]["p99"], tp["cpu_pct"]))
        return out


class Capacity:
    """Sockets held through Apache (bench MPM) and directly on the relay."""

    def __init__(self, run):
        self.run = run
        self.args = run.args

    def hold(self, inst, port, prefix, total, rooms, rooms_path, per_proc,
             hold_s):
        """Opens `total` visitor sockets with wsload processes of at most
        per_proc sockets each (disjoint rooms); measures while all hold.
        Returns (summary, snapshot taken while holding)."""
        nproc = max(1, -(-total // per_proc))
        procs = []
        share = [total // nproc + (1 if i < total % nproc else 0)
                 for i in range(nproc)]
        for i in range(nproc):
            sub = rooms[i::nproc]
            path = rooms_file("%s.%d" % (rooms_path, i), sub)
            # its own source address: one address has about 28,000
            # ephemeral ports; the target stays 127.0.0.1
            cmd = [WSLOAD, "--libev", "--host", "127.0.0.1",
                   "--iface", "127.0.0.%d" % (i + 2), "--port", str(port),
                   "--prefix", prefix, "--rooms", path, "--mode", "hold",
                   "--sockets", str(share[i]), "--hold", "300",
                   "--concurrency", "200", "--max-seconds", "900"]
            procs.append((cmd, subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)))
        t0 = time.monotonic()
        readers = []
        for cmd, p in procs:
            rd = {"lines": [], "holding": threading.Event(), "err": []}

            def pump(p=p, rd=rd):
                for line in p.stdout:
                    rd["lines"].append(line)
                    if line.startswith("HOLDING"):
                        rd["holding"].set()
                rd["holding"].set()         # EOF: do not wait forever

            def pump_err(p=p, rd=rd):
                rd["err"].append(p.stderr.read())
            ths = [threading.Thread(target=pump, daemon=True),
                   threading.Thread(target=pump_err, daemon=True)]
            for th in ths:
                th.start()
            readers.append((cmd, p, rd, ths))
        held = 0
        for cmd, p, rd, ths in readers:
            if not rd["holding"].wait(timeout=300):
                raise RuntimeError("wsload (hold) never held: %s" % cmd)
            hl = [l for l in rd["lines"] if l.startswith("HOLDING")]
            if not hl:
                p.wait(timeout=30)
                for th in ths:
                    th.join(timeout=30)
                raise RuntimeError("wsload (hold) exited %s: %s" % (
                    p.returncode, "".join(rd["err"])[-2000:]))
            held += int(hl[0].split()[1])
        connect_s = time.monotonic() - t0
        time.sleep(1.0)                 # let the servers settle
        snap = self.snapshot(inst)
        # what holding costs when nothing is sent: CPU over 1.5 s
        relay = inst.relay_pid()
        hp = inst.httpd_pids()
        c0 = (bl.cpu_seconds([relay]) if relay else 0, bl.cpu_seconds(hp))
        time.sleep(1.5)
        c1 = (bl.cpu_seconds([relay]) if relay else 0, bl.cpu_seconds(hp))
        snap["idle_cpu_pct"] = {"relay": round(100 * (c1[0] - c0[0]) / 1.5),
                                "httpd": round(100 * (c1[1] - c0[1]) / 1.5)}
        # every process holds until all of them held: now let them check
        time.sleep(hold_s)
        for cmd, p, rd, ths in readers:
            if p.poll() is None:
                p.send_signal(signal.SIGUSR1)
        results = []
        for cmd, p, rd, ths in readers:
            p.wait(timeout=120)
            for th in ths:
                th.join(timeout=30)
            results.append(_wsload_result(cmd, p.returncode,
                                          "".join(rd["lines"]),
                                          "".join(rd["err"])))
        summary = {"wanted": total, "processes": nproc,
                   "opened": sum(r["opened"] for r in results),
                   "failed": sum(r["failed"] for r in results),
                   "timed_out": sum(r.get("timed_out", 0) for r in results),
                   "held": held, "connect_s": round(connect_s, 2),
                   "open_at_end": sum(r["open_at_end"] for r in results),
                   "closed_unexpected": sum(r["closed_unexpected"]
                                            for r in results),
                   "probe_expected": sum(r["probe_expected"]
                                         for r in results),
                   "probe_received": sum(r["probe_received"]
                                         for r in results),
                   "stderr": [l for r in results for l in r["stderr"]][:6]}
        return summary, snap

    def snapshot(self, inst):
        children = inst.httpd_children()
        relay = inst.relay_pid()
        return {"httpd_children": bl.mem_sum(children),
                "httpd_all": bl.mem_sum(inst.httpd_pids()),
                "relay": bl.mem_kb(relay) if relay else None,
                "relay_nofile": bl.nofile_limit(relay) if relay else None}

    def per_socket(self, idle, busy, held, key):
        if not held:
            return None
        return round((busy[key]["rss"] - idle[key]["rss"]) / held, 1)

    def run_apache_dev(self):
        """The documented MPM (conf/dev.conf.in, INSTALL: 8 x 150 = 1,200
        workers) asked for more sockets than it has workers."""
        run = self.run
        inst = run.instance("sqlite", REST_EXTRA, "cap-apache-dev")
        try:
            inst.start()
            _, rooms = seed_ws_rooms(inst, 50)
            want = CAP_APACHE_DEV_SOCKETS if not self.args.quick else 1300
            summary, busy = self.hold(
                inst, inst.port, "/ws/chat/", want, rooms,
                os.path.join(inst.root, "rooms-cap"), per_proc=want,
                hold_s=1)
            res = {"summary": summary, "holding": busy, "target": want,
                   "mpm": "ServerLimit 8, ThreadsPerChild 150, "
                          "MaxRequestWorkers 1200 (conf/dev.conf.in)"}
            log("capacity via Apache, documented MPM: %d of %d held, %d "
                "failed, %d handshakes unanswered; httpd %d threads" % (
                    summary["held"], want, summary["failed"],
                    summary["timed_out"], busy["httpd_all"]["threads"]))
            self.run.check_errorlog(inst, res)
            return res
        finally:
            inst.stop()

    def run_apache(self):
        run = self.run
        extra = REST_EXTRA + CAP_MPM % {
            "children": CAP_APACHE_CHILDREN,
            "workers": CAP_APACHE_CHILDREN * 150}
        inst = run.instance("sqlite", extra, "cap-apache")
        try:
            inst.start()
            _, rooms = seed_ws_rooms(inst, CAP_ROOMS // 5)
            time.sleep(1.0)
            idle = self.snapshot(inst)
            n = CAP_APACHE_SOCKETS if not self.args.quick else 1000
            summary, busy = self.hold(
                inst, inst.port, "/ws/chat/", n, rooms,
                os.path.join(inst.root, "rooms-cap"),
                per_proc=min(n, 15000), hold_s=3)
            res = {"summary": summary, "idle": idle, "holding": busy,
                   "mpm": "ServerLimit %d, ThreadLimit 150, ThreadsPerChild "
                          "150, MaxRequestWorkers %d" % (
                              CAP_APACHE_CHILDREN, CAP_APACHE_CHILDREN * 150),
                   "target": n}
            held = summary["held"]
            res["httpd_rss_kb_per_socket"] = (
                round((busy["httpd_all"]["rss"] - idle["httpd_all"]["rss"])
                      / held, 1) if held else None)
            res["httpd_pss_kb_per_socket"] = (
                round((busy["httpd_all"]["pss"] - idle["httpd_all"]["pss"])
                      / held, 1) if held else None)
            res["relay_rss_kb_per_socket"] = (
                round((busy["relay"]["rss"] - idle["relay"]["rss"]) / held,
                      2) if held and busy["relay"] else None)
            res["met"] = (held >= n and summary["probe_received"]
                          >= summary["probe_expected"] > 0)
            log("capacity via Apache: %d/%d held (%d failed) in %.1f s; "
                "httpd %d children, %d threads, RSS %d -> %d MB (%.0f KB a "
                "socket, PSS %.0f KB); probe %d/%d" % (
                    held, n, summary["failed"], summary["connect_s"],
                    busy["httpd_children"]["procs"],
                    busy["httpd_all"]["threads"],
                    idle["httpd_all"]["rss"] // 1024,
                    busy["httpd_all"]["rss"] // 1024,
                    res["httpd_rss_kb_per_socket"] or 0,
                    res["httpd_pss_kb_per_socket"] or 0,
                    summary["probe_received"], summary["probe_expected"]))
            self.run.check_errorlog(inst, res)
            return res
        finally:
            inst.stop()

    def run_relay(self):
        run = self.run
        inst = run.instance("sqlite", REST_EXTRA, "cap-relay")
        try:
            inst.start()
            _, rooms = seed_ws_rooms(inst, CAP_ROOMS)
            time.sleep(0.5)
            idle = self.snapshot(inst)
            want = CAP_RELAY_SOCKETS if not self.args.quick else 5000
            limit = idle["relay_nofile"] or 1024
            n = min(want, limit - 64)
            own = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            per_proc = min(15000, own - 100)
            summary, busy = self.hold(
                inst, inst.relay_port, "/ws/chat/", n, rooms,
                os.path.join(inst.root, "rooms-cap"), per_proc=per_proc,
                hold_s=3)
            held = summary["held"]
            res = {"summary": summary, "idle": idle, "holding": busy,
                   "target": want, "attempted": n,
                   "limited_by": (None if n >= want else
                                  "the relay's RLIMIT_NOFILE (%d)" % limit),
                   "relay_rss_kb_per_socket": (
                       round((busy["relay"]["rss"] - idle["relay"]["rss"])
                             / held, 2) if held else None)}
            res["met"] = held >= want and (summary["probe_received"]
                                           >= summary["probe_expected"] > 0)
            log("capacity on the relay: %d/%d held (wanted %d%s) in %.1f s; "
                "relay RSS %d -> %d MB (%.1f KB a socket); probe %d/%d" % (
                    held, n, want, ", " + res["limited_by"]
                    if res["limited_by"] else "", summary["connect_s"],
                    idle["relay"]["rss"] // 1024,
                    busy["relay"]["rss"] // 1024,
                    res["relay_rss_kb_per_socket"] or 0,
                    summary["probe_received"], summary["probe_expected"]))
            self.run.check_errorlog(inst, res)
            return res
        finally:
            inst.stop()


# ====================================================================== main
class Run:
    def __init__(self, args):
        self.args = args
        self.build = Build()
        self.gen = runtime_root(os.path.join(HERE, "gen"), tag="carinfo-bench")
        self.results = {"machine": bl.machine(), "settings": {
            "duration_s": args.duration, "rounds": args.rounds,
            "conns": args.conns,
            "pg_connection": "unix socket" if args.pg_unix
                             else "tcp 127.0.0.1"}, "db": {}}
        self.pg = None
        self.args.pg_pids = None
        self.t0 = time.monotonic()

    def instance(self, db, extra, root_name):
        root = os.path.join(self.gen, root_name)
        if os.path.isdir(root):
            shutil.rmtree(root)
        os.makedirs(root)
        port, relay_port = free_ports(2)
        if db == "sqlite":
            dbspec = ("sqlite3", os.path.join(root, "db", "carinfo.db"))
        else:
            dbspec = ("pgsql", self.pg.dbparams(
                unix_socket=self.args.pg_unix))
        inst = BenchInstance(root, port, relay_port, db=dbspec, extra=extra,
                             build=self.build, log_level="warn",
                             relay_log_level=self.args.relay_log)
        inst.keygen()
        inst.migrate()
        return inst

    def start_pg(self):
        self.pg = PrivatePostgres(os.path.join(self.gen, "pg"),
                                  max_connections=300, durable=True,
                                  settings=self.args.pg_setting).setup()
        data = self.pg.data

        def pg_pids():
            try:
                with open(os.path.join(data, "postmaster.pid")) as f:
                    main = int(f.readline())
            except (OSError, ValueError):
                return []
            return [main] + bl.pids_of(lambda pid, argv:
                                       bl.ppid(pid) == main)
        self.args.pg_pids = pg_pids

    def stop_pg(self):
        if self.pg:
            self.pg.cleanup()
            self.pg = None
            self.args.pg_pids = None

    def one_db(self, db):
        out = self.results["db"].setdefault(db, {})
        if db == "pgsql":
            self.start_pg()
        inst = self.instance(db, REST_EXTRA + self.args.extra, "rest-" + db)
        try:
            inst.start()
            log("%s: httpd on 127.0.0.1:%d, relay on :%d" % (
                db, inst.port, inst.relay_port))
            if "rest" in self.args.only:
                seed = seed_rest(inst)
                rest = Rest(inst, db, self.args, inst.root)
                out["rest"] = rest.run(seed)
                if not self.args.endpoints or "login" in self.args.endpoints:
                    out["login"] = rest.login(seed)
            if "ws" in self.args.only:
                out["ws"] = Ws(inst, db, self.args, inst.root).run()
            self.check_errorlog(inst, out)
        finally:
            inst.stop()
            if db == "pgsql":
                self.stop_pg()

    def check_errorlog(self, inst, out):
        lines = []
        try:
            with open(inst.error_log_path, errors="replace") as f:
                for line in f:
                    if re.search(r"\[(\w+:)?(warn|error|crit|alert|emerg)\]",
                                 line):
                        lines.append(line.rstrip())
        except OSError:
            pass
        out["errorlog_warnings"] = len(lines)
        if lines:
            log("%d warn+ lines in %s, e.g.:\n  %s" % (
                len(lines), inst.error_log_path, "\n  ".join(lines[:5])))

    def main(self):
        for db in self.args.db:
            if self.args.only & {"rest", "ws"}:
                self.one_db(db)
        if "cap" in self.args.only:
            cap = Capacity(self)
            self.results["capacity"] = {"apache_dev": cap.run_apache_dev(),
                                        "apache": cap.run_apache(),
                                        "relay": cap.run_relay()}
        self.results["machine"]["loadavg_end"] = \
            open("/proc/loadavg").read().split()[:3]
        self.results["settings"]["bench_seconds"] = round(
            time.monotonic() - self.t0)
        total = os.environ.get("CARINFO_BENCH_T0")
        if total:
            self.results["settings"]["total_seconds"] = round(
                time.time() - float(total))
        path = self.args.json
        with open(path, "w") as f:
            json.dump(self.results, f, indent=1, sort_keys=True)
        log("results in %s" % path)
        if self.args.readme:
            import report
            log("wrote %s" % report.render(
                path, os.path.join(HERE, "README.md.in"), self.args.readme))


def set_autogroup(value):
    try:
        with open(AUTOGROUP) as f:
            old = f.read().strip()
        with open(AUTOGROUP, "w") as f:
            f.write(value)
        return old
    except OSError:
        return None


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="sqlite,pgsql")
    ap.add_argument("--only", default="rest,ws,cap")
    ap.add_argument("--duration", type=int, default=5,
                    help="seconds of each wrk run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--endpoints", default="",
                    help="REST endpoints to run (messages,profile,rooms,"
                         "start,login; default all)")
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--ws-duration", type=int, default=10,
                    help="measured seconds of each WebSocket run")
    ap.add_argument("--quick", action="store_true",
                    help="1 round of 2 s (a smoke test, not a figure)")
    ap.add_argument("--keep-autogroup", action="store_true",
                    help="leave kernel.sched_autogroup_enabled alone")
    ap.add_argument("--extra", default="",
                    help="more httpd.conf lines for the REST/WS instance")
    ap.add_argument("--pg-setting", action="append", default=[],
                    metavar="NAME=VALUE",
                    help="a PostgreSQL server setting (repeatable), e.g. "
                         "session_preload_libraries=auto_explain "
                         "auto_explain.log_min_duration=1ms: the plans of "
                         "slow statements land in gen/pg/postgres.log")
    ap.add_argument("--pg-unix", action="store_true",
                    help="reach PostgreSQL over its unix socket instead of "
                         "TCP on 127.0.0.1 (README: what it changes)")
    ap.add_argument("--relay-log", default="warn",
                    help="the relay's --log-level (debug logs each group "
                         "commit with its duration)")
    ap.add_argument("--json", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--readme", default=os.path.join(HERE, "README.md"),
                    help="README to render ('' for none)")
    args = ap.parse_args(argv)
    args.db = [d for d in args.db.split(",") if d]
    args.extra = args.extra.replace("\\n", "\n")
    if args.extra and not args.extra.endswith("\n"):
        args.extra += "\n"
    args.only = set(args.only.split(","))
    args.endpoints = set(e for e in args.endpoints.split(",") if e)
    if args.quick:
        args.duration, args.rounds, args.ws_duration = 2, 1, 3
    return args


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    if not is_root():
        print("bench: run as root (httpd's children switch to www-data, "
              "the socket tests raise RLIMIT_NOFILE)", file=sys.stderr)
        return 2
    # SIGTERM/SIGHUP unwind like Ctrl-C, so every instance and the private
    # PostgreSQL are stopped by the finally blocks
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(128 + 15))
    nofile = raise_nofile()
    log("RLIMIT_NOFILE %d/%d" % nofile)
    busy = bl.busy_foreign()
    if busy:
        log("WARNING: other processes are busy, figures will be noisy: %s"
            % busy)
    old_ag = None
    if not args.keep_autogroup:
        old_ag = set_autogroup("0")
    run = Run(args)
    t0 = time.monotonic()
    run.results["machine"]["busy_foreign_at_start"] = busy
    run.results["settings"]["sched_autogroup"] = (
        "off during the run" if old_ag is not None else "left as is")
    try:
        run.main()
    finally:
        if old_ag is not None:
            set_autogroup(old_ag)
    log("done in %.0f s" % (time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
