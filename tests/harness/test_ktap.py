"""KTAP parsing and run classification, on the canned logs in logs/."""

import json
import os
import tempfile
import unittest

import harnesslib
from harnesslib import KTEST_RUN, last_line, log, run

import ktap


def load_tests(loader, tests, pattern):
    return harnesslib.with_summary(tests)


def verdict_of(name, exit_code=None, timed_out=False):
    with open(log(name), "rb") as f:
        return ktap.classify(ktap.parse_text(f.read()), exit_code, timed_out)


# log, QEMU exit status (None: killed at a timeout), classification,
# passed, failed, skipped
CANNED = [
    ("pass.log", 33, "pass", 3, 0, 1),
    ("fail_one.log", 65, "fail", 2, 1, 1),
    ("panic.log", 65, "panic", 4, 0, 0),
    ("panic.log", None, "panic", 4, 0, 0),     # panicked, then hung
    ("hang.log", None, "hang", 2, 0, 0),
    ("nested.log", 65, "fail", 6, 1, 1),
    ("noise.log", 33, "pass", 3, 0, 0),
    ("crlf.log", 33, "pass", 1, 0, 0),
    ("suite_leak.log", 65, "fail", 2, 1, 0),
    ("zero_cases.log", 33, "pass", 0, 0, 0),
    ("plan_mismatch.log", 33, "inconsistent", 2, 0, 0),
    ("totals_mismatch.log", 33, "inconsistent", 2, 0, 0),
    ("no_totals.log", 33, "inconsistent", 1, 0, 0),
    ("misnumbered.log", 33, "inconsistent", 2, 0, 0),
    ("brief_example.log", 65, "inconsistent", 2, 1, 1),
    ("pass.log", 65, "inconsistent", 3, 0, 1),     # exit status mismatch
    ("fail_one.log", 33, "inconsistent", 2, 1, 1),  # exit status mismatch
    ("pass.log", 0, "crash", 3, 0, 1),     # done, then a triple fault
    ("pass.log", 1, "crash", 3, 0, 1),
    ("pass.log", None, "hang", 3, 0, 1),   # done, but never exited
    ("hang.log", 0, "crash", 2, 0, 0),
    ("hang.log", 65, "crash", 2, 0, 0),
    ("triple_fault.log", 0, "crash", 0, 0, 0),
    ("empty.log", None, "boot-timeout", 0, 0, 0),
    ("empty.log", 0, "crash", 0, 0, 0),
    ("empty.log", 1, "crash", 0, 0, 0),
]


class CannedLogs(unittest.TestCase):
    def test_classification_and_counts(self):
        for name, code, want, p, f, s in CANNED:
            with self.subTest(log=name, exit_code=code):
                v = verdict_of(name, code, code is None)
                self.assertEqual(v.classification, want, v.reasons)
                self.assertEqual(v.counts, ktap.Counts(p, f, s))

    def test_fail_reports_case_and_diagnostic(self):
        v = verdict_of("fail_one.log", 65)
        fails = [c for c in v.parse.leaves if c["result"] == "fail"]
        self.assertEqual([c["name"] for c in fails], ["pmm.double_free"])
        self.assertEqual(fails[0]["diagnostics"],
                         ["# pmm.double_free: expected 5, got 6"])
        self.assertIn("not ok: pmm.double_free (log line 9)", v.reasons)
        skip = [c for c in v.parse.leaves if c["result"] == "skip"]
        self.assertEqual(skip[0]["name"], "pmm.something")
        self.assertEqual(skip[0]["reason"], "needs 2 CPUs")

    def test_panic_reports_line_and_position(self):
        v = verdict_of("panic.log", 65)
        self.assertEqual(v.parse.panic,
                         (15, "KERNEL PANIC: vm_map_lookup: entry "
                          "0xffff800000123000 not in map"))
        self.assertEqual(v.parse.where_at_panic,
                         "in vm_map, after 2 of 4 results "
                         "(case 3 was running)")
        self.assertEqual(v.parse.last_completed[0], "vm_map.protect")
        text = "\n".join(v.reasons)
        self.assertIn("KERNEL PANIC: vm_map_lookup", text)
        self.assertIn("last completed case: vm_map.protect", text)

    def test_hang_reports_where(self):
        v = verdict_of("hang.log", None, True)
        text = "\n".join(v.reasons)
        self.assertIn("hung in sched, after 2 of 3 results "
                      "(case 3 was running)", text)
        self.assertIn("last completed case: sched.sleep_wakeup", text)

    def test_nested_user_ktap(self):
        v = verdict_of("nested.log", 65)
        names = {c["name"]: c["result"] for c in v.parse.leaves}
        self.assertEqual(names, {
            "ipc.port_alloc": "pass",
            "ipc.send_receive": "pass",
            "user.test-ipc.mach_port_allocate": "pass",
            "user.test-ipc.bad_name": "fail",
            "user.test-ipc.hostile.unmapped_buffer": "pass",
            "user.test-ipc.hostile.kernel_buffer": "pass",
            "user.simple_case": "pass",
            "user.test-vm.vm_allocate": "skip",
        })
        self.assertEqual(v.parse.problems, [])

    def test_noise_is_ignored(self):
        v = verdict_of("noise.log", 33)
        self.assertEqual([c["name"] for c in v.parse.leaves],
                         ["pmm.alloc_all_pages", "pmm.free_all_pages",
                          "timer.oneshot - fires once"])
        self.assertEqual(v.parse.problems, [])

    def test_suite_level_failure_counts_once(self):
        v = verdict_of("suite_leak.log", 65)
        fails = [c for c in v.parse.leaves if c["result"] == "fail"]
        self.assertEqual([c["name"] for c in fails], ["ipc"])
        self.assertIn("# ipc: leaked 3 ports (before 12, after 15)",
                      fails[0]["diagnostics"])

    def test_inconsistency_reasons(self):
        cases = [
            ("plan_mismatch.log", 33, "pmm: plan says 3 cases, 2 results"),
            ("totals_mismatch.log", 33,
             "totals line says pass:3 fail:0 skip:0, parsed 2 passed, "
             "0 failed, 0 skipped"),
            ("no_totals.log", 33, "no '# ktest totals:' line"),
            ("misnumbered.log", 33,
             "pmm: result numbered 3, expected 2"),
            ("brief_example.log", 65, "pmm: ok, but 1 of its cases failed"),
            ("pass.log", 65, "no case failed but QEMU exit status 65 "
             "(guest wrote 0x20: failure)"),
            ("fail_one.log", 33, "1 case(s) failed but QEMU exit status 33 "
             "(guest wrote 0x10: success)"),
        ]
        for name, code, reason in cases:
            with self.subTest(log=name, exit_code=code):
                self.assertIn(reason, verdict_of(name, code).reasons)

    def test_crash_names_exit_status(self):
        v = verdict_of("triple_fault.log", 0)
        self.assertIn("triple fault", v.reasons[0])
        self.assertIn("no KTAP output at all", v.reasons)
        self.assertIn("no serial output at all",
                      verdict_of("empty.log", 1).reasons)


class Parser(unittest.TestCase):
    def parse(self, text):
        return ktap.parse_text(text)

    def test_subtest_line_before_header(self):
        p = self.parse("KTAP version 1\n1..1\n    # Subtest: a\n"
                       "    KTAP version 1\n    1..1\n    ok 1 x\nok 1 a\n")
        self.assertEqual([c["name"] for c in p.leaves], ["a.x"])
        self.assertEqual(p.problems, [])

    def test_subtest_without_header(self):
        p = self.parse("TAP version 14\n1..1\n    # Subtest: a\n    1..2\n"
                       "    ok 1 x\n    ok 2 y\nok 1 a\n")
        self.assertEqual(p.counts, ktap.Counts(2, 0, 0))
        self.assertEqual(p.problems, [])

    def test_directives_and_descriptions(self):
        p = self.parse("KTAP version 1\n1..4\nok 1 - dash\n"
                       "not ok 2 skipped anyway # SKIP no disk\n"
                       "not ok 3 later # TODO not written\nok 4\n")
        self.assertEqual([(c["name"], c["result"]) for c in p.leaves],
                         [("dash", "pass"), ("skipped anyway", "skip"),
                          ("later", "skip"), ("#4", "pass")])

    def test_hash_in_description_is_not_a_directive(self):
        p = self.parse("KTAP version 1\n1..1\nok 1 port#3 works\n")
        self.assertEqual(p.leaves[0]["name"], "port#3 works")
        self.assertEqual(p.leaves[0]["result"], "pass")

    def test_two_documents_add_up(self):
        p = self.parse("KTAP version 1\n1..1\nok 1 a\n"
                       "KTAP version 1\n1..2\nok 1 b\nnot ok 2 c\n")
        self.assertEqual(p.counts, ktap.Counts(2, 1, 0))
        self.assertEqual(p.problems, [])

    def test_case_with_two_subtest_blocks(self):
        p = self.parse("KTAP version 1\n1..1\n"
                       "    KTAP version 1\n    1..1\n    ok 1 x\n"
                       "    KTAP version 1\n    1..1\n    not ok 1 y\n"
                       "not ok 1 both\n")
        self.assertEqual(p.counts, ktap.Counts(1, 1, 0))
        self.assertEqual([c["name"] for c in p.leaves], ["both.x", "both.y"])

    def test_missing_suite_result_is_a_problem(self):
        p = self.parse("KTAP version 1\n1..1\n    KTAP version 1\n"
                       "    # Subtest: a\n    1..1\n    ok 1 x\n"
                       "# ktest done\n")
        self.assertEqual(p.counts, ktap.Counts(1, 0, 0))
        self.assertIn("subtest a was still open at '# ktest done'",
                      p.problems)
        self.assertIn("top level: plan says 1 cases, 0 results", p.problems)

    def test_stray_results_are_noise(self):
        p = self.parse("ok 1 before any header\nKTAP version 1\n1..1\n"
                       "  ok 2 odd indent\nok 1 real\n")
        self.assertEqual(p.counts, ktap.Counts(1, 0, 0))
        self.assertEqual(p.problems, [])

    def test_ansi_escapes_are_stripped(self):
        p = self.parse("\x1bc\x1b[2JKTAP version 1\n1..1\n"
                       "\x1b[0mok 1 x\n")
        self.assertEqual(p.counts, ktap.Counts(1, 0, 0))

    def test_panic_mid_line(self):
        p = self.parse("KTAP version 1\n1..1\nxx KERNEL PANIC: boom\n")
        self.assertEqual(p.panic, (3, "KERNEL PANIC: boom"))

    def test_summary_lines(self):
        self.assertEqual(ktap.summary_line(ktap.Counts(3, 1, 0)),
                         "3 passed, 1 failed")
        self.assertEqual(ktap.summary_line(ktap.Counts(3, 1, 2)),
                         "3 passed, 1 failed, 2 skipped")
        self.assertEqual(ktap.parse_summary_line("host: 4 passed, 0 failed"),
                         ktap.Counts(4, 0, 0))
        self.assertEqual(ktap.parse_summary_line("7 passed, 2 failed, "
                                                 "1 skipped"),
                         ktap.Counts(7, 2, 1))
        self.assertIsNone(ktap.parse_summary_line(
            "3 passed, 0 failed (classification fail, expected fail)"))
        self.assertIsNone(ktap.parse_summary_line("so 3 passed, 0 failed"
                                                  " today"))


class ParseOnlyCli(unittest.TestCase):
    def cli(self, *args):
        return run([KTEST_RUN] + list(args))

    def test_pass(self):
        r = self.cli("--parse-only", log("pass.log"), "--exit-code", "33")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(last_line(r.stdout), "3 passed, 0 failed, 1 skipped")

    def test_fail_explains(self):
        r = self.cli("--parse-only", log("fail_one.log"), "--exit-code", "65",
                     "--name", "unit")
        self.assertEqual(r.returncode, 1)
        self.assertIn("unit: FAIL", r.stdout)
        self.assertIn("not ok: pmm.double_free", r.stdout)
        self.assertIn("serial log: " + log("fail_one.log"), r.stdout)
        self.assertEqual(last_line(r.stdout), "2 passed, 1 failed, 1 skipped")

    def test_expected_classification(self):
        r = self.cli("--parse-only", log("fail_one.log"), "--exit-code", "65",
                     "--expect", "fail")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(last_line(r.stdout),
                         "2 passed, 1 failed, 1 skipped "
                         "(classification fail, expected fail)")
        r = self.cli("--parse-only", log("hang.log"), "--timed-out",
                     "--expect", "hang", "--quiet")
        self.assertEqual(r.returncode, 0)
        r = self.cli("--parse-only", log("empty.log"), "--timed-out",
                     "--expect", "hang")
        self.assertEqual(r.returncode, 1)
        self.assertIn("BOOT-TIMEOUT (expected hang)", r.stdout)

    def test_json(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "r.json")
            r = self.cli("--parse-only", log("panic.log"), "--exit-code",
                         "65", "--json", out)
            self.assertEqual(r.returncode, 1)
            with open(out) as f:
                doc = json.load(f)
        self.assertEqual(doc["classification"], "panic")
        self.assertEqual(doc["counts"], {"passed": 4, "failed": 0,
                                         "skipped": 0})
        self.assertTrue(doc["panic"].startswith("KERNEL PANIC: vm_map_lookup"))
        self.assertEqual(doc["last_completed"], "vm_map.protect")
        self.assertEqual(len(doc["cases"]), 4)
        self.assertFalse(doc["matched"])

    def test_usage_errors(self):
        r = self.cli("--parse-only", log("pass.log"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--exit-code", r.stderr)
        r = self.cli("--parse-only", "/nonexistent.log", "--exit-code", "33")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read", r.stderr)


if __name__ == "__main__":
    unittest.main()
