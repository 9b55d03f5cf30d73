"""Helpers of the benchmark (bench/bench.py): HTTP without proxies, wrk
runs and their output, CPU and memory of processes from /proc, the machine.

Nothing here sends traffic anywhere but 127.0.0.1.
"""
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# ------------------------------------------------------------------ HTTP
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None, headers=None, timeout=30):
    """(status, headers dict, body bytes); never raises on HTTP status."""
    assert url.startswith("http://127.0.0.1:"), url
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def http_json(method, url, body=None, headers=None, want=(200, 201)):
    status, _, data = http(method, url, body, headers)
    if status not in want:
        raise RuntimeError("%s %s -> %s: %s" % (method, url, status,
                                                 data[:300]))
    return json.loads(data) if data else None


# ------------------------------------------------------------------ wrk
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def parse_wrk(out):
    """The figures of one `wrk --latency` run."""
    res = {"rps": 0.0, "requests": 0, "non2xx": 0, "socket_errors": 0,
           "p50_ms": None, "p90_ms": None, "p99_ms": None}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        res["socket_errors"] = sum(int(x) for x in m.groups())
    for pct in ("50", "90", "99"):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+(\S+)" % pct, out, re.M)
        if m:
            res["p%s_ms" % pct] = _ms(m.group(1))
    return res


def wrk(url, duration, conns=64, threads=2, headers=(), script=None,
        timeout="5s"):
    """Runs wrk against a loopback URL for `duration` seconds."""
    assert url.startswith("http://127.0.0.1:"), url
    cmd = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration,
           "--latency", "--timeout", timeout]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=duration + 60)
    if r.returncode != 0:
        raise RuntimeError("wrk failed (%d): %s" % (r.returncode, r.stderr))
    res = parse_wrk(r.stdout)
    res["raw"] = r.stdout
    return res


def lua_post(path, body, headers=None):
    """A wrk script that POSTs `body` (JSON text) on every request."""
    lines = ['wrk.method = "POST"',
             "wrk.body = %s" % lua_str(body),
             'wrk.headers["Content-Type"] = "application/json"']
    for k, v in (headers or {}).items():
        lines.append("wrk.headers[%s] = %s" % (lua_str(k), lua_str(v)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def lua_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


# ------------------------------------------------------------------ /proc
def pids_of(pred):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = [a.decode(errors="replace")
                        for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if argv and pred(int(d), argv):
            out.append(int(d))
    return out


def ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def cpu_seconds(pids):
    """utime + stime of the processes (all their threads) plus that of
    their reaped children (cutime + cstime: an httpd child that exits
    during a run still counts, through the parent), in seconds."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])
        except OSError:
            pass
    return total / CLK_TCK


def mem_kb(pid):
    """{"rss": kB, "pss": kB, "threads": n, "fds": n} of one process."""
    out = {"rss": 0, "pss": 0, "threads": 0, "fds": 0}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out["rss"] = int(line.split()[1])
                elif line.startswith("Threads:"):
                    out["threads"] = int(line.split()[1])
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    out["pss"] = int(line.split()[1])
        out["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        pass
    return out


def mem_sum(pids):
    tot = {"rss": 0, "pss": 0, "threads": 0, "fds": 0, "procs": 0}
    for pid in pids:
        m = mem_kb(pid)
        if m["rss"]:
            tot["procs"] += 1
            for k in ("rss", "pss", "threads", "fds"):
                tot[k] += m[k]
    return tot


def nofile_limit(pid):
    try:
        with open("/proc/%d/limits" % pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    return int(line.split()[3])
    except (OSError, ValueError):
        pass
    return None


# ------------------------------------------------------------------ machine
def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1])
    def ver(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"
    def deb(pkg):
        return ver(["dpkg-query", "-W", "-f=${Version}", pkg])
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(mem / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": _os_release(),
        "httpd": deb("apache2"),
        "sqlite": deb("libsqlite3-0"),
        "postgresql": ver(["/bin/sh", "-c",
                           "ls /usr/lib/postgresql | sort -n | tail -1"]),
        "libwebsockets": deb("libwebsockets-dev"),
        "wrk": deb("wrk"),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


def _os_release():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "?"


def busy_foreign(threshold=20.0, exclude=()):
    """Processes not ours using more than `threshold` % of a core over a
    second: the benchmark's results are suspect while they run."""
    def snap():
        d = {}
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) not in exclude:
                try:
                    with open("/proc/%s/stat" % pid) as f:
                        s = f.read()
                    name = s[s.index("(") + 1:s.rindex(")")]
                    fl = s.rsplit(")", 1)[1].split()
                    d[int(pid)] = (name, int(fl[11]) + int(fl[12]))
                except (OSError, ValueError):
                    pass
        return d
    a = snap()
    time.sleep(1.0)
    b = snap()
    out = []
    for pid, (name, t) in b.items():
        if pid in a and pid != os.getpid():
            pct = 100.0 * (t - a[pid][1]) / CLK_TCK
            if pct >= threshold:
                out.append((pid, name, round(pct)))
    return out


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def have(cmd):
    return shutil.which(cmd) is not None
