#!/usr/bin/env python3
"""Host-side tests of scripts/perf-analysis.sh against running kernels (issue 6).

Boots machperf three times under icount (each boot takes a second or
two): a reference run whose baseline is saved, an identical run that must
not regress, and a run with perf.inject delaying IPC_SEND that must.
Every subcommand is run with its exit code and output checked; the
Chrome trace must parse and its per-event counts equal the statistics;
stats.json must agree with `stats --json`.  Prints KTAP.

usage: test_perf_analysis.py [--build DIR]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EVENTS = ["IPC_SEND", "IPC_RECEIVE", "VM_ALLOC", "VM_FREE", "TASK_CREATE",
          "TASK_TERMINATE", "THREAD_CREATE", "THREAD_TERMINATE", "CONTEXT_SWITCH",
          "INTERRUPT", "SYSCALL", "PAGE_FAULT"]
# Small enough that no raw record is lost in the default 8192-record buffer,
# so the trace holds every event the statistics count.
# (about half of the buffer, so that growth elsewhere does not break it).
WORK = ["ipc:150", "rpc:200", "vm:100", "fault:2", "thread:20", "switch:100", "timer:10"]
SUBCOMMANDS = ["start", "stop", "status", "enable", "disable", "configure", "stats", "baseline",
               "check-regression", "monitor", "trace", "report", "test", "run"]

results = []


def case(name, ok, diag=None):
    results.append((name, bool(ok), diag))
    return ok


class Env:
    def __init__(self, build, tmp):
        self.script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                   "scripts", "perf-analysis.sh")
        self.env = dict(os.environ, MACHPERF_BUILD=build,
                        MACHPERF_STATE=os.path.join(tmp, "state"))
        self.tmp = tmp

    def run(self, *args, timeout=120):
        p = subprocess.run([self.script] + list(args), env=self.env, capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def start(self, *extra):
        w = []
        for x in WORK:
            w += ["--workload", x]
        return self.run("start", "--icount", "--record", *w, *extra)


def check_rc(env, name, args, rc_want, out_has=None, err_has=None):
    rc, out, err = env.run(*args)
    ok = rc == rc_want and (out_has is None or out_has in out) and \
        (err_has is None or err_has in err)
    return case(name, ok, None if ok else "rc %d (want %d) out %r err %r" % (
        rc, rc_want, out[-300:], err[-300:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=".")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    tmp = tempfile.mkdtemp(prefix="perf-analysis-test.")
    env = Env(build, tmp)
    try:
        run_all(env, tmp)
    finally:
        env.run("stop")
        shutil.rmtree(tmp, ignore_errors=True)
    print("KTAP version 1")
    print("1..%d" % len(results))
    for i, (name, ok, diag) in enumerate(results, 1):
        if diag and not ok:
            for ln in str(diag).splitlines():
                print("# " + ln)
        print("%s %d %s" % ("ok" if ok else "not ok", i, name))
    return 0 if all(ok for _, ok, _ in results) else 1


def run_all(env, tmp):
    for sc in SUBCOMMANDS:
        check_rc(env, "help_" + sc.replace("-", "_"), [sc, "--help"], 0, out_has="usage:")
    check_rc(env, "bad_subcommand_is_usage_error", ["frobnicate"], 2)
    check_rc(env, "stats_not_running", ["stats"], 2, err_has="not running")

    # Run 1: the reference.
    if not check_rc(env, "start_record_icount", env_start_args(), 0):
        return
    check_rc(env, "start_is_idempotent", env_start_args(), 0, out_has="already running")
    check_rc(env, "status", ["status"], 0, out_has="clock icount")
    rc, out, _ = env.run("stats")
    case("stats_table", rc == 0 and "p99.9" in out and "loss: written" in out and
         all(e in out for e in EVENTS), out[-400:])
    rc, out, _ = env.run("stats", "--json")
    stats = json.loads(out) if rc == 0 else None
    case("stats_json", stats is not None and len(stats["events"]) == 12 and "loss" in stats)
    rc, out, _ = env.run("stats", "IPC_SEND", "--json")
    one = json.loads(out) if rc == 0 else {"events": []}
    case("stats_one_event", len(one["events"]) == 1 and one["events"][0]["event"] == "IPC_SEND")
    check_rc(env, "stats_bad_event", ["stats", "NO_SUCH_EVENT"], 2, err_has="usage")
    if stats is None:
        return
    counts = {e["event"]: e["count"] for e in stats["events"]}
    case("workloads_recorded", counts["IPC_SEND"] >= 300 and counts["PAGE_FAULT"] > 0 and
         counts["THREAD_CREATE"] >= 20, counts)
    case("nothing_lost", stats["loss"]["lost"] == 0, stats["loss"])

    base = os.path.join(tmp, "base.mpbl")
    check_rc(env, "baseline_save", ["baseline", "--save", base], 0, out_has="saved")
    check_rc(env, "check_same_run", ["check-regression", "-e", "IPC_SEND", "-t", "5"], 0,
             out_has="mean +0.00%")
    data = open(base, "rb").read()
    bad = bytearray(data)
    bad[100] ^= 0xff
    open(base + ".flip", "wb").write(bad)
    open(base + ".cut", "wb").write(data[:len(data) // 2])
    open(base + ".junk", "wb").write(b"hello world, not a baseline\n" * 4)
    check_rc(env, "baseline_corrupt", ["baseline", "--load", base + ".flip"], 2, err_has="corrupt")
    check_rc(env, "baseline_truncated", ["baseline", "--load", base + ".cut"], 2,
             err_has="truncated")
    check_rc(env, "baseline_not_one", ["baseline", "--load", base + ".junk"], 2,
             err_has="not a machperf baseline")
    check_rc(env, "baseline_missing_file", ["baseline", "--load", base + ".none"], 2)

    trace = os.path.join(tmp, "trace.json")
    rc, out, err = env.run("trace", "-o", trace)
    case("trace", rc == 0 and os.path.exists(trace), err)
    if rc == 0:
        t = json.load(open(trace))
        per = {}
        for ev in t["traceEvents"]:
            if ev.get("cat") == "event" and ev.get("ph") in ("X", "i"):
                per[ev["name"]] = per.get(ev["name"], 0) + 1
        want = {k: v for k, v in counts.items() if v}
        case("trace_counts_equal_stats", per == want, "trace %s\nstats %s" % (per, want))
        case("trace_complete", t["otherData"]["complete"] is True, t["otherData"])

    rep = os.path.join(tmp, "report")
    rc, out, err = env.run("report", "-o", rep)
    case("report", rc == 0 and all(os.path.exists(os.path.join(rep, f))
                                   for f in ["report.html", "stats.json", "trace.json"]), err)
    if rc == 0:
        sj = json.load(open(os.path.join(rep, "stats.json")))
        bad = []
        for e in stats["events"]:
            s = sj["stats"].get(e["event"], {})
            for k in ["count", "min_ns", "max_ns", "sum_ns", "p50_ns", "p95_ns", "p99_ns",
                      "p999_ns"]:
                if s.get(k) != e[k]:
                    bad.append((e["event"], k, s.get(k), e[k]))
        case("stats_json_agrees", not bad, bad[:5])
        html = open(os.path.join(rep, "report.html")).read()
        case("report_self_contained", "<svg" in html and "http://" not in html.replace(
            "http://www.w3.org", ""))

    rc, out, _ = env.run("monitor", "-i", "0.2", "-n", "2")
    case("monitor", rc == 0 and out.count("machperf monitor") == 2 and "\033" not in out, out)

    # Control last: it changes what is recorded.
    check_rc(env, "enable", ["enable"], 0, out_has="recording on")
    check_rc(env, "disable_events", ["disable", "IPC_SEND", "SYSCALL"], 0, out_has="0xbfe")
    check_rc(env, "disable_bad_event", ["disable", "BOGUS"], 2, err_has="unknown event")
    check_rc(env, "disable", ["disable"], 0, out_has="recording off")
    check_rc(env, "configure", ["configure", "-r", "1000", "-b", "4096", "-m", "saturate"], 0)
    check_rc(env, "configure_bad", ["configure", "-r", "7", "-b", "1000"], 2,
             err_has="KERN_INVALID_ARGUMENT")
    check_rc(env, "configure_usage", ["configure", "-r", "x"], 2)
    check_rc(env, "stop", ["stop"], 0, out_has="stopped")
    check_rc(env, "stats_after_stop", ["stats"], 2, err_has="not running")

    # Run 2: identical, against the saved baseline: no regression.
    if check_rc(env, "start_identical", env_start_args(), 0):
        check_rc(env, "baseline_load", ["baseline", "--load", base], 0, out_has="loaded")
        for ev in ["IPC_SEND", "SYSCALL", "PAGE_FAULT"]:
            check_rc(env, "identical_run_no_regression_" + ev.lower(),
                     ["check-regression", "-e", ev, "-t", "5"], 0, out_has="+0.00%")
        env.run("stop")

    # Run 3: IPC_SEND delayed by the test knob: a regression, exit 1.
    if check_rc(env, "start_injected", env_start_args("IPC_SEND:3000"), 0):
        check_rc(env, "baseline_load_3", ["baseline", "--load", base], 0)
        check_rc(env, "injected_delay_regresses", ["check-regression", "-e", "IPC_SEND", "-t",
                                                   "5"], 1, out_has="REGRESSED")
        # QEMU gone: one clear sentence.
        pid = int(open(os.path.join(tmp, "state", "pid")).read())
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        check_rc(env, "qemu_gone", ["stats"], 2, err_has="has exited")
        check_rc(env, "stop_after_qemu_gone", ["stop"], 0)


def env_start_args(inject=None):
    args = ["start", "--icount", "--record"]
    for x in WORK:
        args += ["--workload", x]
    if inject:
        args += ["--inject", inject]
    return args


if __name__ == "__main__":
    sys.exit(main())
