#!/usr/bin/env python3
"""Tests of `scripts/bench.py profile` (docs/benchmarks.md, "Where the
instructions go") against the built kernel and tests/user/bench-ipc.elf.

  - a profile of null_self_rtt counts a plausible number of instructions
    (the icount figure is ~300; a profile that lost the markers or counted
    the boot would be far off), names kernel functions and user:
    functions, and its lines add up to its total;
  - -a FUNC prints FUNC's disassembly, and the counts on it add up to
    FUNC's line in the table;
  - -a user:FUNC annotates a function of the program the same way;
  - an unknown operation is a usage error (status 2) naming the choices,
    and an unknown -a function an error (status 2) before any run.

Usage: test_bench_profile.py --build DIR   (the build directory)
Prints KTAP; exits 0 if every case passed, 1 otherwise.
"""

import argparse
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(TOP, "scripts", "bench.py")


def run(build, *args):
    return subprocess.run([sys.executable, BENCH, "profile"] + list(args), cwd=build,
                          capture_output=True, text=True, timeout=300)


def parse(out):
    """(total, {function: count}, [(count, line) of the annotation])."""
    total, table, ann = None, {}, []
    in_ann = False
    for ln in out.splitlines():
        m = re.match(r"profile: (\d+) instructions between the markers", ln)
        if m:
            total = int(m.group(1))
            continue
        if ln.startswith("== ") and not ln.startswith("== profile"):
            in_ann = True
            continue
        m = re.match(r"\s*(\d+)\s+[\d.]+%\s+(\S+)$", ln)
        if m and not in_ann:
            table[m.group(2)] = int(m.group(1))
            continue
        m = re.match(r"\s*(\d*)\s+([0-9a-f]+):", ln)
        if in_ann and m:
            ann.append((int(m.group(1)) if m.group(1) else 0, ln))
    return total, table, ann


def case_table(build):
    r = run(build, "null_self_rtt", "-n", "1000")
    total, table, _ = parse(r.stdout)
    ok = r.returncode == 0 and total is not None and 100 <= total <= 5000
    ok = ok and "mach_msg_trap_fast" in table and any(k.startswith("user:") for k in table)
    ok = ok and sum(table.values()) == total
    if not ok:
        print("# status %d total %s functions %d\n# %s" % (
            r.returncode, total, len(table), r.stderr.strip().replace("\n", "\n# ")))
    return ok


def annotates(build, func, min_lines):
    """-a func on null_self_rtt: at least min_lines of disassembly whose
    counts add up to func's line in the table."""
    r = run(build, "null_self_rtt", "-n", "1000", "-a", func)
    _, table, ann = parse(r.stdout)
    counted = sum(n for n, _ in ann)
    ok = r.returncode == 0 and len(ann) >= min_lines and counted == table.get(func)
    if not ok:
        print("# status %d annotation %d lines, %d counted, table %s\n# %s" % (
            r.returncode, len(ann), counted, table.get(func), r.stderr.strip()))
    return ok


def case_annotate(build):
    return annotates(build, "mach_msg_trap_fast", 11)


def case_annotate_user(build):
    return annotates(build, "user:mach_msg", 4)


def case_unknown_function(build):
    r = run(build, "null_self_rtt", "-a", "no_such_function")
    ok = (r.returncode == 2 and "no_such_function" in r.stderr and "Traceback" not in r.stderr
          and "== profile" not in r.stdout)
    if not ok:
        print("# status %d: %s" % (r.returncode, r.stderr.strip().replace("\n", "\n# ")))
    return ok


def case_unknown(build):
    r = run(build, "no_such_operation")
    ok = r.returncode == 2 and "null_self_rtt" in r.stderr
    if not ok:
        print("# status %d: %s" % (r.returncode, r.stderr.strip()))
    return ok


CASES = [("profile_counts_one_operation", case_table),
         ("profile_annotates_a_function", case_annotate),
         ("profile_annotates_a_user_function", case_annotate_user),
         ("profile_rejects_unknown_operation", case_unknown),
         ("profile_rejects_unknown_function", case_unknown_function)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=".")
    args = ap.parse_args()
    print("KTAP version 1\n1..%d" % len(CASES), flush=True)
    failed = 0
    for i, (name, fn) in enumerate(CASES, 1):
        try:
            ok = fn(args.build)
        except Exception as e:  # a crash of the tool is a failure of the case
            print("# %s: %r" % (name, e))
            ok = False
        print("%s %d %s" % ("ok" if ok else "not ok", i, name), flush=True)
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
