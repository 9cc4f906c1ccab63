"""scripts/check.py: running test commands and adding up their counts."""

import json
import os
import shlex
import tempfile
import time
import unittest

import harnesslib
from harnesslib import CHECK, KTEST_RUN, PY, last_line, log, run


def load_tests(loader, tests, pattern):
    return harnesslib.with_summary(tests)


def echo(text, code=0):
    return "%s -c %s" % (shlex.quote(PY), shlex.quote(
        "import sys; print(%r); sys.exit(%d)" % (text, code)))


class Check(unittest.TestCase):
    def check(self, *args, timeout=120):
        return run([CHECK] + list(args), timeout=timeout)

    def test_sums_counts_lines(self):
        r = self.check("--run", "a=" + echo("3 passed, 0 failed"),
                       "--run", "b=" + echo("x: 2 passed, 0 failed, 4 skipped"))
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(last_line(r.stdout), "5 passed, 0 failed, 4 skipped")
        self.assertRegex(r.stdout, r"PASS a +3 passed, 0 failed")

    def test_ktap_output_counts_leaves(self):
        r = self.check("--run", "k=cat " + shlex.quote(log("nested.log")))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(last_line(r.stdout), "6 passed, 1 failed, 1 skipped")
        self.assertIn("FAIL k", r.stdout)
        self.assertIn("  |         not ok 2 bad_name", r.stdout)

    def test_malformed_ktap_is_a_failure(self):
        r = self.check("--run", "k=cat " + shlex.quote(
            log("plan_mismatch.log")))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(last_line(r.stdout), "2 passed, 1 failed")
        self.assertIn("malformed KTAP: pmm: plan says 3 cases, 2 results",
                      r.stdout)

    def test_nonzero_exit_without_failures_counts_one(self):
        r = self.check("--run", "bad=" + echo("2 passed, 0 failed", 3),
                       "--run", "ok=true")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(last_line(r.stdout), "3 passed, 1 failed")
        self.assertIn("FAIL bad", r.stdout)
        self.assertIn("exit status 3", r.stdout)
        self.assertIn("failed: bad", r.stdout)

    def test_failures_are_not_double_counted(self):
        r = self.check("--run", "f=" + echo("2 passed, 2 failed", 1))
        self.assertEqual(last_line(r.stdout), "2 passed, 2 failed")

    def test_silent_commands_count_one_each(self):
        r = self.check("true", "--run", "no=false")
        self.assertEqual(last_line(r.stdout), "1 passed, 1 failed")
        self.assertIn("PASS true", r.stdout)
        self.assertIn("FAIL no", r.stdout)

    def test_missing_command(self):
        r = self.check("--run", "gone=/nonexistent/test-program")
        self.assertEqual(r.returncode, 1)
        self.assertIn("command not found", r.stdout)
        self.assertEqual(last_line(r.stdout), "0 passed, 1 failed")

    def test_timeout_stops_the_command(self):
        start = time.monotonic()
        r = self.check("--timeout", "1", "--run", "slow=sleep 60")
        self.assertLess(time.monotonic() - start, 20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("timed out", r.stdout)
        self.assertEqual(last_line(r.stdout), "0 passed, 1 failed")

    def test_ktest_run_expected_classification_counts_as_one(self):
        # A harness self-test run with --expect: its guest counts are not
        # the harness's, so check.py counts the run by its exit status.
        cmd = "%s --parse-only %s --exit-code 65 --expect fail" % (
            shlex.quote(KTEST_RUN), shlex.quote(log("fail_one.log")))
        r = self.check("--run", "sf=" + cmd)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(last_line(r.stdout), "1 passed, 0 failed")

    def test_ktest_run_failure_counts_its_cases(self):
        cmd = "%s --parse-only %s --exit-code 65" % (
            shlex.quote(KTEST_RUN), shlex.quote(log("fail_one.log")))
        r = self.check("--run", "kt=" + cmd)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(last_line(r.stdout), "2 passed, 1 failed, 1 skipped")
        cmd = "%s --parse-only %s --exit-code 0" % (
            shlex.quote(KTEST_RUN), shlex.quote(log("triple_fault.log")))
        r = self.check("--run", "crash=" + cmd)
        self.assertEqual(last_line(r.stdout), "0 passed, 1 failed")

    def test_manifest(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "tests.manifest")
            with open(path, "w") as f:
                f.write("# the suite\n\n"
                        "one = " + echo("1 passed, 0 failed") + "\n"
                        "two=" + echo("2 passed, 0 failed")[:-1] + "\\\n"
                        + echo("2 passed, 0 failed")[-1:] + "\n")
            r = self.check("--manifest", path, "--list")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual([ln.split("=")[0]
                              for ln in r.stdout.splitlines()],
                             ["one", "two"])
            r = self.check("--manifest", path)
            self.assertEqual(last_line(r.stdout), "3 passed, 0 failed")
            j = os.path.join(d, "out.json")
            r = self.check("--manifest", path, "--json", j)
            with open(j) as f:
                doc = json.load(f)
            self.assertEqual(doc["total"], {"passed": 3, "failed": 0,
                                            "skipped": 0})
            self.assertEqual([t["name"] for t in doc["tests"]],
                             ["one", "two"])

    def test_usage_errors(self):
        r = self.check("--manifest", "/nonexistent/manifest")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read manifest", r.stderr)
        r = self.check()
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
