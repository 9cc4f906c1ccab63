"""Shared helpers for the harness's unit tests (not a test module).

Also makes `python3 -m unittest discover -s tests/harness -p 'test_*.py'`
end with the plain 'N passed, N failed' line: each test module's load_tests
wraps its tests in SummarySuite, which remembers the run's result and prints
the line when the interpreter exits (after unittest's own report).
run_unit.py prints the line itself and turns this off.
"""

import atexit
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SCRIPTS = os.path.join(TOP, "scripts")
LOGS = os.path.join(HERE, "logs")
KTEST_RUN = os.path.join(SCRIPTS, "ktest-run.py")
CHECK = os.path.join(SCRIPTS, "check.py")
FAKE_QEMU = os.path.join(HERE, "fake-qemu.py")
PY = sys.executable

if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)

RUNNER_OWNS_SUMMARY = False
_results = []


def log(name):
    return os.path.join(LOGS, name)


def run(args, timeout=120, **kw):
    """Run a Python script; returns CompletedProcess with text output."""
    return subprocess.run([PY] + list(args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, **kw)


def last_line(text):
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def counts_of(result):
    failed = len(result.failures) + len(result.errors) + \
        len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = max(result.testsRun - failed - skipped, 0)
    return passed, failed, skipped


def summary(result):
    passed, failed, skipped = counts_of(result)
    s = "%d passed, %d failed" % (passed, failed)
    if skipped:
        s += ", %d skipped" % skipped
    return s


def _print_summary():
    if _results and not RUNNER_OWNS_SUMMARY:
        sys.stderr.flush()
        print(summary(_results[0]), flush=True)


class SummarySuite(unittest.TestSuite):
    def run(self, result, debug=False):
        if not _results:
            _results.append(result)
            atexit.register(_print_summary)
        return super().run(result, debug)


def with_summary(tests):
    if RUNNER_OWNS_SUMMARY:
        return tests
    return SummarySuite([tests])
