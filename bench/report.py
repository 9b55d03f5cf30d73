#!/usr/bin/python3
"""Renders bench/README.md from bench/README.md.in and bench/results.json.

    /usr/bin/python3 bench/report.py [results.json] [README.md]

bench.py calls it at the end of a run; run it by hand after editing the
template. Placeholders: @MACHINE@ @SETTINGS@ @TARGETS@ @REST@ @WS@
@CAPACITY@ @DATE@.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DBNAME = {"sqlite": "SQLite", "pgsql": "PostgreSQL"}


def dbs(r):
    """(db, results) in the order SQLite, PostgreSQL."""
    return sorted(r["db"].items(), key=lambda kv: list(DBNAME).index(kv[0])
                  if kv[0] in DBNAME else 9)


def f(x, fmt="%.0f", none="–"):
    return none if x is None else fmt % x


def yes(met):
    return {True: "**met**", False: "**missed**", None: "–"}[met]


def machine(m):
    rows = [("date", m["date"]), ("CPU", "%s, %d cores (nproc)"
                                  % (m["cpu"], m["nproc"])),
            ("RAM", "%.1f GiB" % m["ram_gib"]),
            ("kernel", m["kernel"]), ("OS", m["os"]),
            ("httpd", m["httpd"]), ("SQLite", m["sqlite"]),
            ("PostgreSQL", m["postgresql"]),
            ("libwebsockets", m["libwebsockets"]), ("wrk", m["wrk"]),
            ("load average at start / end", "%s / %s" % (
                " ".join(m.get("loadavg_start", [])),
                " ".join(m.get("loadavg_end", []))))]
    busy = m.get("busy_foreign_at_start")
    if busy:
        rows.append(("other busy processes at start",
                     ", ".join("%s (%d%% of a core)" % (b[1], b[2])
                               for b in busy)))
    return "\n".join(["| | |", "|---|---|"] +
                     ["| %s | %s |" % r for r in rows])


def settings(r):
    s = r["settings"]
    return ("wrk `-t2 -c%d -d%ds --latency`, %d interleaved rounds "
            "(static, endpoint, next endpoint...), ratio = endpoint rps / "
            "static rps of the same round, median of the rounds; "
            "kernel.sched_autogroup_enabled %s; PostgreSQL (same host, "
            "durable defaults) reached over %s." % (
                s["conns"], s["duration_s"], s["rounds"],
                s.get("sched_autogroup", "?"),
                s.get("pg_connection", "tcp 127.0.0.1")))


def rest(r):
    out = []
    for db, d in dbs(r):
        if "rest" not in d:
            continue
        out.append("**%s**\n" % DBNAME[db])
        out.append("| endpoint | body | static rps | endpoint rps | ratio "
                   "(rounds) | target | | endpoint p50 / p99 | httpd CPU "
                   "per request: static / endpoint%s |" % (
                       " (+ PostgreSQL)" if db == "pgsql" else ""))
        out.append("|---|---|---|---|---|---|---|---|---|")
        for e in d["rest"]:
            pg = (" (+ %s µs)" % f(e.get("pg_cpu_us"))
                  if db == "pgsql" else "")
            bad = ""
            if e["non2xx"] or e["socket_errors"]:
                bad = " ⚠ %d non-2xx, %d socket errors" % (
                    e["non2xx"], e["socket_errors"])
            out.append("| `%s` | %d B | %s | %s | **%.2f** (%s)%s | %s | %s "
                       "| %s / %s ms | %s / %s µs%s |" % (
                           e["what"], e["body_bytes"], f(e["static_rps"]),
                           f(e["endpoint_rps"]), e["ratio"] or 0,
                           " ".join("%.2f" % x for x in e["ratios"] if x),
                           bad,
                           "≥ %.2f" % e["target"] if e["target"] else "–",
                           yes(e["met"]), f(e["endpoint_p50_ms"], "%.1f"),
                           f(e["endpoint_p99_ms"], "%.1f"),
                           f(e["static_cpu_us"]), f(e["endpoint_cpu_us"]),
                           pg))
        lg = d.get("login")
        if lg:
            out.append("| `%s` | | | %.1f | | bound: %s rps (%d cores / "
                       "%s ms a hash) | | %s / %s ms | |" % (
                           lg["what"], lg["rps"], f(lg.get("bound_rps"),
                                                    "%.1f"),
                           r["machine"]["nproc"], f(lg.get("bcrypt_ms")),
                           f(lg["p50_ms"]), f(lg["p99_ms"])))
        out.append("")
    return "\n".join(out) if out else "(not run)"


def ws(r):
    out = ["| database | test | committed msg/s | visitor→owner p50 / p99 / "
           "max | target | | CPU % (relay / httpd / postgres) | errors |",
           "|---|---|---|---|---|---|---|---|"]
    any_ = False
    for db, d in dbs(r):
        w = d.get("ws")
        if not w:
            continue
        any_ = True
        for key, name in (("latency_apache", "latency"),
                          ("throughput_relay", "throughput")):
            t = w.get(key)
            if not t:
                continue
            if key == "latency_apache":
                target = "p99 < %g ms" % t["target_p99_ms"]
            else:
                target = "≥ %s msg/s" % format(t["target_per_s"], ",")
            cc = t.get("close_codes", {})
            errs = "%d error frames, %d closed, %d failed" % (
                t["error_frames"], t["closed_unexpected"], t["failed"])
            if any(cc.values()):
                errs += ", close codes %s" % {k: v for k, v in cc.items()
                                              if v}
            lat = t["lat_ms"]
            out.append("| %s | %s: %s | **%s** | %.2f / **%.2f** / %.1f ms "
                       "| %s | %s | %s / %s / %s | %s |" % (
                           DBNAME[db], name, t["what"],
                           format(int(t["committed_per_s"]), ","),
                           lat["p50"], lat["p99"], lat["max"], target,
                           yes(t["met"]), t["cpu_pct"]["relay"],
                           t["cpu_pct"]["httpd"], t["cpu_pct"]["postgres"],
                           errs))
    return "\n".join(out) if any_ else "(not run)"


def capacity(r):
    c = r.get("capacity")
    if not c:
        return "(not run)"
    out = ["| where | held / wanted | connect time | memory while holding "
           "| per socket | CPU while holding, idle | alive check | |",
           "|---|---|---|---|---|---|---|---|"]

    def idle(h):
        c = h.get("idle_cpu_pct")
        return ("relay %d %%, httpd %d %%" % (c["relay"], c["httpd"])
                if c else "–")
    dv = c.get("apache_dev")
    if dv:
        s, h = dv["summary"], dv["holding"]
        out.append(
            "| through Apache, documented MPM (%s) | **%s** / %s (%d "
            "handshakes never answered, %d failed) | %.1f s | httpd: %d "
            "processes, %d threads, RSS %d MB | | %s | %d/%d frames | the "
            "limit |" % (
                dv["mpm"], format(s["held"], ","), format(dv["target"], ","),
                s.get("timed_out", 0), s["failed"], s["connect_s"], h["httpd_all"]["procs"],
                h["httpd_all"]["threads"], h["httpd_all"]["rss"] // 1024,
                idle(h), s["probe_received"], s["probe_expected"]))
    a = c.get("apache")
    if a:
        s, h, i = a["summary"], a["holding"], a["idle"]
        out.append(
            "| through Apache (%s) | **%s** / %s | %.1f s | httpd: %d "
            "processes, %d threads, RSS %d MB (idle %d MB), PSS %d MB; "
            "relay RSS %d MB | httpd **%s KB RSS** (%s KB PSS) + relay %s KB "
            "| %s | %d/%d frames | %s |" % (
                a["mpm"], format(s["held"], ","), format(a["target"], ","),
                s["connect_s"], h["httpd_all"]["procs"],
                h["httpd_all"]["threads"], h["httpd_all"]["rss"] // 1024,
                i["httpd_all"]["rss"] // 1024, h["httpd_all"]["pss"] // 1024,
                h["relay"]["rss"] // 1024 if h["relay"] else 0,
                f(a["httpd_rss_kb_per_socket"]),
                f(a["httpd_pss_kb_per_socket"]),
                f(a["relay_rss_kb_per_socket"], "%.1f"), idle(h),
                s["probe_received"], s["probe_expected"], yes(a["met"])))
    rl = c.get("relay")
    if rl:
        s, h, i = rl["summary"], rl["holding"], rl["idle"]
        out.append(
            "| directly on the relay (%d client processes) | **%s** / %s%s "
            "| %.1f s | relay RSS %d MB (idle %d MB), %d fds (limit %s) "
            "| relay **%s KB RSS** | %s | %d/%d frames | %s |" % (
                s["processes"], format(s["held"], ","),
                format(rl["target"], ","),
                " (tried %s: %s)" % (format(rl["attempted"], ","),
                                     rl["limited_by"])
                if rl.get("limited_by") else "",
                s["connect_s"], h["relay"]["rss"] // 1024,
                i["relay"]["rss"] // 1024, h["relay"]["fds"],
                h.get("relay_nofile"),
                f(rl["relay_rss_kb_per_socket"], "%.1f"), idle(h),
                s["probe_received"], s["probe_expected"], yes(rl["met"])))
    return "\n".join(out)


def targets(r):
    rows = []
    for db, d in dbs(r):
        for e in d.get("rest", []):
            if e["target"]:
                rows.append("- %s, %s: ratio %.2f, target ≥ %.2f: %s" % (
                    DBNAME[db], e["name"], e["ratio"] or 0, e["target"],
                    yes(e["met"])))
        w = d.get("ws", {})
        if "latency_apache" in w:
            t = w["latency_apache"]
            rows.append("- %s, WebSocket p99 at %d msg/s through Apache: "
                        "%.2f ms, target < %g ms: %s" % (
                            DBNAME[db], 2000, t["lat_ms"]["p99"],
                            t["target_p99_ms"], yes(t["met"])))
        if "throughput_relay" in w:
            t = w["throughput_relay"]
            rows.append("- %s, committed messages/s on one relay: %s, target "
                        "≥ %s: %s" % (DBNAME[db],
                                      format(int(t["committed_per_s"]), ","),
                                      format(t["target_per_s"], ","),
                                      yes(t["met"])))
    c = r.get("capacity", {})
    if c.get("apache"):
        rows.append("- sockets through Apache: %s, target ≥ %s: %s" % (
            format(c["apache"]["summary"]["held"], ","),
            format(c["apache"]["target"], ","), yes(c["apache"]["met"])))
    if c.get("relay"):
        rows.append("- sockets on the relay: %s, target ≥ %s: %s%s" % (
            format(c["relay"]["summary"]["held"], ","),
            format(c["relay"]["target"], ","), yes(c["relay"]["met"]),
            " (%s)" % c["relay"]["limited_by"]
            if c["relay"].get("limited_by") else ""))
    return "\n".join(rows)


def render(results_path, template_path, out_path):
    with open(results_path) as fh:
        r = json.load(fh)
    with open(template_path) as fh:
        text = fh.read()
    subst = {"MACHINE": machine(r["machine"]), "SETTINGS": settings(r),
             "TARGETS": targets(r), "REST": rest(r), "WS": ws(r),
             "CAPACITY": capacity(r), "DATE": r["machine"]["date"]}
    for k, v in subst.items():
        text = text.replace("@%s@" % k, v)
    with open(out_path, "w") as fh:
        fh.write(text)
    return out_path


def main():
    results = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        HERE, "results.json")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE,
                                                             "README.md")
    print(render(results, os.path.join(HERE, "README.md.in"), out))


if __name__ == "__main__":
    main()
