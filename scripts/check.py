#!/usr/bin/env python3
"""Run machperf's test commands and add up their results (make check).

Each test is NAME=COMMAND.  NAME is a label without whitespace (for
example host:ring or qemu:ktest); COMMAND is run by /bin/sh -c from the
current directory, so quoting, environment variables and && work as in a
Makefile recipe.  Tests come from --run options, from positional arguments
and from --manifest files, in that order.

How a command's result is counted, by leaf test cases:
  1. its standard output holds a KTAP document: the leaf cases of that
     document (parsed by scripts/ktap.py, as for the kernel); a malformed
     document (plan and results disagree, numbering, ...) adds one failure;
  2. otherwise the last line 'N passed, N failed[, N skipped]' (optionally
     after one 'word:') on its standard output, else on its standard error;
  3. otherwise the command counts as one case: passed if it exited 0, failed
     if not.
  A command that exits non-zero (or runs past --timeout) but reported no
  failure counts one extra failure named after it.

Output: one line per test, 'PASS|FAIL NAME counts (time)'; the output of
each failing test follows it; the last line is the sum,
'N passed, N failed[, N skipped]', on a line of its own.

Exit status: 0 if nothing failed, 1 if any case or command failed, 2 on
usage errors (unreadable manifest, malformed NAME=COMMAND).

Manifest file: one NAME=COMMAND per line (spaces around the first '=' are
ignored); blank lines and lines starting with '#' are skipped; a line ending
in a backslash continues on the next.

Makefile example:
  check-local:
\t$(PYTHON) $(srcdir)/scripts/check.py \\
\t  --run "host:ring=tests/host/test_perf_ring" \\
\t  --run "qemu:ktest=scripts/ktest-run.py --kernel machperf --append 'ktest=all'"
or:
\t$(PYTHON) $(srcdir)/scripts/check.py --manifest tests/check.manifest
"""

import argparse
import json
import os
import re
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402

SHOW_LINES = 200        # output lines shown for a failing test
_NAME = re.compile(r"^\s*([^\s=]+)\s*=\s*(.*\S)\s*$", re.S)


class Test:
    def __init__(self, name, command, origin):
        self.name = name
        self.command = command
        self.origin = origin
        self.counts = ktap.Counts()
        self.notes = []
        self.exit_code = None
        self.timed_out = False
        self.seconds = 0.0
        self.output = []        # (stream, line), in arrival order
        self.stdout = ""
        self.stderr = ""

    @property
    def failed(self):
        return self.counts.failed > 0 or self.exit_code != 0


class UsageError(Exception):
    pass


def parse_spec(text, origin):
    """'NAME=COMMAND' -> Test.  A bare COMMAND (whose text before the first
    '=' contains whitespace, or that has no '=') is named after its first
    word."""
    m = _NAME.match(text)
    if m:
        return Test(m.group(1), m.group(2), origin)
    words = text.split()
    if not words:
        raise UsageError("%s: empty test command" % origin)
    return Test(os.path.basename(words[0]), text.strip(), origin)


def read_manifest(path):
    try:
        with open(path) as f:
            raw = f.read().splitlines()
    except OSError as e:
        raise UsageError("cannot read manifest %s: %s" % (path, e.strerror))
    tests = []
    pending = ""
    start = 0
    for i, line in enumerate(raw, 1):
        if not pending:
            start = i
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        tests.append(parse_spec(pending + line, "%s:%d" % (path, start)))
        pending = ""
    if pending.strip():
        tests.append(parse_spec(pending, "%s:%d" % (path, start)))
    return tests


def _kill_group(proc):
    # SIGTERM first: scripts/ktest-run.py stops its QEMU on SIGTERM.
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run_test(test, timeout, verbose):
    start = time.monotonic()
    proc = subprocess.Popen(["/bin/sh", "-c", test.command],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    bufs = {proc.stdout.fileno(): ["out", b""],
            proc.stderr.fileno(): ["err", b""]}
    texts = {"out": [], "err": []}
    try:
        for fd in bufs:
            os.set_blocking(fd, False)
        open_fds = set(bufs)
        while open_fds:
            wait = None
            if timeout:
                wait = start + timeout - time.monotonic()
                if wait <= 0:
                    test.timed_out = True
                    break
            ready, _, _ = select.select(list(open_fds), [], [], wait)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                stream = bufs[fd][0]
                if not data:
                    open_fds.discard(fd)
                    data = b"\n" if bufs[fd][1] else b""
                if verbose and data:
                    sink = sys.stdout if stream == "out" else sys.stderr
                    sink.buffer.write(data)
                    sink.flush()
                bufs[fd][1] += data
                *lines, bufs[fd][1] = bufs[fd][1].split(b"\n")
                for line in lines:
                    s = line.decode("utf-8", "replace")
                    texts[stream].append(s)
                    test.output.append((stream, s))
        if not test.timed_out:
            try:
                rest = None if not timeout else \
                    max(start + timeout - time.monotonic(), 0.1)
                proc.wait(timeout=rest)
            except subprocess.TimeoutExpired:
                test.timed_out = True
    finally:
        if test.timed_out or proc.poll() is None:
            _kill_group(proc)
        proc.stdout.close()
        proc.stderr.close()
    test.seconds = time.monotonic() - start
    test.exit_code = None if test.timed_out else proc.returncode
    test.stdout = "\n".join(texts["out"])
    test.stderr = "\n".join(texts["err"])


def count_test(test):
    """Fill test.counts and test.notes from its output and exit status."""
    parse = ktap.parse_text(test.stdout)
    counts = None
    if parse.docs:
        counts = parse.counts
        if parse.problems:
            counts.failed += 1
            test.notes.append("malformed KTAP: " + "; ".join(parse.problems))
    else:
        for text in (test.stdout, test.stderr):
            for line in reversed(text.splitlines()):
                counts = ktap.parse_summary_line(line)
                if counts:
                    break
            if counts:
                break
    if counts is None:
        counts = ktap.Counts(1, 0, 0) if test.exit_code == 0 \
            else ktap.Counts(0, 0, 0)
        if test.exit_code == 0:
            test.notes.append("no KTAP or counts line: counted as one case")
    if test.timed_out:
        test.notes.append("timed out")
    elif test.exit_code != 0:
        if test.exit_code == 127:
            test.notes.append("exit status 127: command not found?")
        elif test.exit_code < 0:
            test.notes.append("killed by signal %d" % -test.exit_code)
        else:
            test.notes.append("exit status %d" % test.exit_code)
    if test.exit_code != 0 and counts.failed == 0:
        counts.failed += 1
    test.counts = counts


def show(test, out):
    status = "FAIL" if test.failed else "PASS"
    line = "%s %-24s %s (%.1fs)" % (status, test.name,
                                    ktap.summary_line(test.counts),
                                    test.seconds)
    if test.notes and test.failed:
        line += " - " + "; ".join(test.notes)
    print(line, file=out, flush=True)
    if test.failed:
        print("  command: %s" % test.command, file=out)
        lines = test.output
        if len(lines) > SHOW_LINES:
            print("  ... %d earlier lines not shown" %
                  (len(lines) - SHOW_LINES), file=out)
            lines = lines[-SHOW_LINES:]
        for stream, text in lines:
            print("  %s %s" % ("|" if stream == "out" else "!", text),
                  file=out)
        out.flush()


def build_parser():
    p = argparse.ArgumentParser(
        prog="check.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tests", nargs="*", metavar="NAME=COMMAND",
                   help="a test to run (same as --run)")
    p.add_argument("--run", metavar="NAME=COMMAND", action="append",
                   default=[], help="a test to run (repeatable)")
    p.add_argument("--manifest", metavar="FILE", action="append",
                   default=[], help="read NAME=COMMAND lines from FILE "
                   "(repeatable)")
    p.add_argument("--timeout", metavar="SECS", type=float, default=1800,
                   help="stop a command after SECS and count it failed "
                   "(default 1800; 0: no limit)")
    p.add_argument("--verbose", action="store_true",
                   help="show every command's output as it runs")
    p.add_argument("--list", action="store_true",
                   help="list the tests and exit")
    p.add_argument("--json", metavar="FILE",
                   help="write per-test results and the sum as JSON")
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        tests = [parse_spec(t, "--run") for t in args.run]
        tests += [parse_spec(t, "argument") for t in args.tests]
        for path in args.manifest:
            tests += read_manifest(path)
    except UsageError as e:
        print("check.py: %s" % e, file=sys.stderr)
        return 2
    if not tests:
        parser.error("no tests given (--run, --manifest or arguments)")
    if args.list:
        for t in tests:
            print("%s=%s" % (t.name, t.command))
        return 0

    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(128 + s))
    total = ktap.Counts()
    try:
        for test in tests:
            if args.verbose:
                print("=== %s: %s" % (test.name, test.command), flush=True)
            run_test(test, args.timeout, args.verbose)
            count_test(test)
            show(test, sys.stdout)
            total.add(test.counts)
    except KeyboardInterrupt:
        print("\ncheck.py: interrupted", file=sys.stderr)
        return 130
    bad = [t for t in tests if t.failed]
    if bad:
        print("failed: %s" % ", ".join(t.name for t in bad))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"total": total.as_dict(),
                       "tests": [{"name": t.name, "command": t.command,
                                  "exit_code": t.exit_code,
                                  "timed_out": t.timed_out,
                                  "seconds": round(t.seconds, 3),
                                  "counts": t.counts.as_dict(),
                                  "failed": t.failed, "notes": t.notes}
                                 for t in tests]}, f, indent=2)
            f.write("\n")
    print(ktap.summary_line(total), flush=True)
    return 1 if bad or total.failed else 0


if __name__ == "__main__":
    sys.exit(main())
