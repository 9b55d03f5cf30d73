#!/usr/bin/python3
"""Profiles one REST endpoint of the benchmark with perf (bench/run does not
call this; it is how the findings in README.md were made).

    /usr/bin/python3 bench/profile.py messages [--db sqlite] [--seconds 8]
        [--callgraph dwarf|fp] [--report N]

Starts the benchmark's instance, seeds it like bench.py, runs wrk on the
endpoint for --seconds while `perf record` samples every httpd process,
then prints `perf report` (flat, by symbol and by DSO) into
bench/gen/profile-<endpoint>-<db>.txt and its head to stdout.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402
import benchlib as bl  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint", choices=["messages", "profile", "rooms",
                                         "start", "static-messages"])
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--callgraph", default="fp")
    ap.add_argument("--report", type=int, default=60)
    ap.add_argument("--extra", default="")
    a = ap.parse_args()
    args = bench.parse_args(["--db", a.db, "--only", "rest"])
    run = bench.Run(args)
    if a.db == "pgsql":
        run.start_pg()
    inst = run.instance(a.db, bench.REST_EXTRA + a.extra, "profile-" + a.db)
    out = os.path.join(run.gen, "profile-%s-%s" % (a.endpoint, a.db))
    try:
        inst.start()
        seed = bench.seed_rest(inst)
        eps = {e["name"]: e for e in bench.rest_endpoints(inst, seed)}
        rest = bench.Rest(inst, a.db, args, inst.root)
        if a.endpoint.startswith("static-"):
            ep = eps[a.endpoint[len("static-"):]]
            data, _ = bench.fetch_body(inst, ep)
            with open(os.path.join(rest.static_dir, "x.json"), "wb") as f:
                f.write(data)
            url, kw = inst.url("/static-bench/x.json", mounted=False), {}
        else:
            ep = eps[a.endpoint]
            url, kw = inst.url(ep["path"]), rest.wrk_args(ep)
        kw["duration"] = 2
        bl.wrk(url, **kw)                           # warm up
        pids = inst.httpd_pids()
        if a.db == "pgsql":
            pids += args.pg_pids()
        perf = subprocess.Popen(
            ["perf", "record", "-q", "-F", "999", "-g"
             if a.callgraph == "fp" else "--call-graph=dwarf",
             "-o", out + ".data", "-p", ",".join(map(str, pids)),
             "--", "sleep", str(a.seconds + 1)],
            stdin=subprocess.DEVNULL)
        time.sleep(0.5)
        kw["duration"] = a.seconds
        res = bl.wrk(url, **kw)
        perf.wait(timeout=a.seconds + 60)
        print("wrk: %.0f rps, p99 %s ms" % (res["rps"], res["p99_ms"]))
        with open(out + ".txt", "w") as f:
            for sort in ("dso", "sym", "dso,sym"):
                f.write("==== perf report --sort %s\n" % sort)
                f.flush()
                subprocess.run(["perf", "report", "-i", out + ".data",
                                "--no-children", "--sort", sort,
                                "--stdio", "-g", "none",
                                "--percent-limit", "0.3"],
                               stdout=f, stderr=subprocess.DEVNULL)
            f.write("==== callers (children) \n")
            f.flush()
            subprocess.run(["perf", "report", "-i", out + ".data",
                            "--children", "--sort", "sym", "--stdio",
                            "-g", "none", "--percent-limit", "2"],
                           stdout=f, stderr=subprocess.DEVNULL)
        with open(out + ".txt") as f:
            lines = f.read().splitlines()
        print("\n".join(lines[:a.report]))
        print("full report: %s.txt" % out)
    finally:
        inst.stop()
        run.stop_pg()


if __name__ == "__main__":
    main()
