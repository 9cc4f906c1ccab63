"""scripts/ktest-run.py driving a process: a fake QEMU, then real QEMU
booting the stand-in kernel in minikernel/ (skipped without QEMU or
binutils)."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harnesslib
from harnesslib import FAKE_QEMU, HERE, KTEST_RUN, PY, alive, last_line, \
    log, run


def load_tests(loader, tests, pattern):
    return harnesslib.with_summary(tests)


def wait_for(pred, secs=10.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class FakeQemu(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ktest-run-test-")
        self.kernel = os.path.join(self.tmp, "kernel")
        with open(self.kernel, "w") as f:
            f.write("not a kernel\n")
        # TMPDIR: logs that ktest-run.py keeps after a mismatch land here.
        self.env = dict(os.environ, TMPDIR=self.tmp,
                        FAKE_QEMU_ARGV=os.path.join(self.tmp, "argv.json"),
                        FAKE_QEMU_PIDS=os.path.join(self.tmp, "pids"))

    def tearDown(self):
        pids = self.pids()
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def pids(self):
        try:
            with open(self.env["FAKE_QEMU_PIDS"]) as f:
                return [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            return []

    def args(self, append, *extra):
        return [KTEST_RUN, "--qemu", FAKE_QEMU, "--kernel", self.kernel,
                "--append", append] + list(extra)

    def ktest(self, append, *extra, timeout=60):
        return run(self.args(append, *extra), timeout=timeout, env=self.env)

    def test_qemu_command_line(self):
        r = self.ktest("fake=log:%s:33" % log("pass.log"), "--icount",
                       "--initrd", "boot.elf arg,srv", "--smp", "2",
                       "--memory", "256M", "--extra-qemu-arg=-s")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(self.env["FAKE_QEMU_ARGV"]) as f:
            argv = json.load(f)[1:]
        joined = " ".join(argv)
        for want in ("-accel tcg", "-cpu max", "-m 256M", "-smp 2",
                     "-nodefaults", "-display none", "-no-reboot",
                     "-serial stdio",
                     "-device isa-debug-exit,iobase=0xf4,iosize=0x04",
                     "-kernel " + self.kernel,
                     "-append fake=log:", "-initrd boot.elf arg,srv",
                     "-icount shift=0,align=off,sleep=off"):
            self.assertIn(want, joined)
        self.assertEqual(argv[-1], "-s")
        self.assertNotIn("kvm", joined)
        self.assertNotIn("-nographic", argv)

    def test_pass(self):
        r = self.ktest("fake=log:%s:33" % log("pass.log"))
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(last_line(r.stdout), "3 passed, 0 failed, 1 skipped")

    def test_fail_keeps_log_and_explains(self):
        logpath = os.path.join(self.tmp, "serial.log")
        r = self.ktest("fake=log:%s:65" % log("fail_one.log"), "--log",
                       logpath, "--name", "pmm")
        self.assertEqual(r.returncode, 1)
        self.assertIn("pmm: FAIL", r.stdout)
        self.assertIn("serial log: " + logpath, r.stdout)
        self.assertIn("reproduce: " + FAKE_QEMU + " -M pc", r.stdout)
        with open(logpath, "rb") as f, open(log("fail_one.log"), "rb") as g:
            self.assertEqual(f.read(), g.read())

    def test_qemu_error_is_a_crash_with_stderr(self):
        r = self.ktest("fake=stderr")
        self.assertEqual(r.returncode, 1)
        self.assertIn("CRASH", r.stdout)
        self.assertIn("could not load kernel", r.stdout)
        r = self.ktest("fake=stderr", "--expect", "crash")
        self.assertEqual(r.returncode, 0)

    def test_boot_timeout(self):
        start = time.monotonic()
        r = self.ktest("fake=silent", "--boot-timeout", "1", "--timeout",
                       "30")
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(r.returncode, 1)
        self.assertIn("BOOT-TIMEOUT", r.stdout)
        self.assertFalse(any(alive(p) for p in self.pids()))

    def test_hang_kills_process_group(self):
        j = os.path.join(self.tmp, "r.json")
        r = self.ktest("fake=hang", "--timeout", "1.5", "--expect", "hang",
                       "--json", j)
        self.assertEqual(r.returncode, 0, r.stdout)
        pids = self.pids()
        self.assertEqual(len(pids), 2)
        self.assertTrue(wait_for(lambda: not any(alive(p) for p in pids)),
                        "QEMU or its child survived")
        with open(j) as f:
            doc = json.load(f)
        self.assertEqual(doc["classification"], "hang")
        self.assertEqual(doc["where"],
                         "in sched, after 1 of 2 results "
                         "(case 2 was running)")
        self.assertEqual(doc["last_completed"], "sched.yield")

    def test_sigterm_ignored_then_killed(self):
        start = time.monotonic()
        r = self.ktest("fake=stubborn", "--timeout", "1", "--expect", "hang")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertLess(time.monotonic() - start, 15)
        pids = self.pids()
        self.assertTrue(wait_for(lambda: not any(alive(p) for p in pids)))

    def interrupt(self, sig, want_rc):
        proc = subprocess.Popen([PY] + self.args("fake=hang"), env=self.env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        try:
            self.assertTrue(wait_for(lambda: len(self.pids()) == 2))
            time.sleep(0.3)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if want_rc is not None:
            self.assertEqual(proc.returncode, want_rc, err)
        pids = self.pids()
        self.assertTrue(wait_for(lambda: not any(alive(p) for p in pids)),
                        "QEMU survived signal %d" % sig)
        return err

    def test_ctrl_c_stops_qemu(self):
        err = self.interrupt(signal.SIGINT, 130)
        self.assertIn("interrupted; QEMU stopped", err.decode())

    def test_sigterm_stops_qemu(self):
        self.interrupt(signal.SIGTERM, 128 + signal.SIGTERM)

    def test_sigkill_of_harness_stops_qemu(self):
        # PR_SET_PDEATHSIG: QEMU itself dies with the harness.
        proc = subprocess.Popen([PY] + self.args("fake=hang"), env=self.env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL)
        self.assertTrue(wait_for(lambda: len(self.pids()) == 2))
        proc.kill()
        proc.wait()
        qemu = self.pids()[0]
        self.assertTrue(wait_for(lambda: not alive(qemu)))

    def test_missing_qemu(self):
        r = self.ktest("x", "--qemu", "/nonexistent/qemu-system-x86_64")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not found: install the Debian package "
                      "qemu-system-x86", r.stderr)

    def test_missing_kernel(self):
        r = run([KTEST_RUN, "--kernel", "/nonexistent/machperf"],
                env=self.env)
        self.assertEqual(r.returncode, 2)
        self.assertIn("kernel image /nonexistent/machperf not found",
                      r.stderr)


def _have(*progs):
    return all(shutil.which(p) for p in progs)


@unittest.skipUnless(_have("qemu-system-x86_64", "as", "ld"),
                     "needs qemu-system-x86_64 and binutils")
class RealQemu(unittest.TestCase):
    """Boot minikernel/mini.s, which prints canned KTAP per command line."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ktest-mini-")
        obj = os.path.join(cls.tmp, "mini.o")
        cls.kernel = os.path.join(cls.tmp, "mini.elf")
        subprocess.run(["as", "--32", "-o", obj,
                        os.path.join(HERE, "minikernel", "mini.s")],
                       check=True)
        subprocess.run(["ld", "-m", "elf_i386", "-Ttext=0x100000",
                        "-e", "_start", "-o", cls.kernel, obj], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def boot(self, append, *extra):
        j = os.path.join(self.tmp, "r.json")
        r = run([KTEST_RUN, "--kernel", self.kernel, "--append", append,
                 "--json", j] + list(extra), timeout=60,
                env=dict(os.environ, TMPDIR=self.tmp))
        with open(j) as f:
            return r, json.load(f)

    def test_pass(self):
        r, doc = self.boot("ktest=selftest_pass")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(last_line(r.stdout), "2 passed, 0 failed")
        self.assertEqual(doc["exit_code"], 33)

    def test_pass_under_icount(self):
        r, doc = self.boot("ktest=selftest_pass", "--icount")
        self.assertEqual(doc["classification"], "pass", r.stdout)

    def test_fail(self):
        r, doc = self.boot("ktest=selftest_fail", "--expect", "fail")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(doc["counts"]["failed"], 1)
        self.assertEqual(doc["exit_code"], 65)

    def test_panic(self):
        r, doc = self.boot("ktest=selftest_panic", "--expect", "panic")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(doc["panic"],
                         "KERNEL PANIC: selftest_panic: deliberate panic")

    def test_hang(self):
        r, doc = self.boot("ktest=selftest_hang", "--timeout", "2",
                           "--expect", "hang")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("selftest_hang", doc["where"])

    def test_boot_timeout(self):
        # Also shows SeaBIOS writes nothing on the serial port first.
        r, doc = self.boot("mini=silent", "--boot-timeout", "2",
                           "--expect", "boot-timeout")
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_triple_fault_is_a_crash(self):
        r, doc = self.boot("mini=triple", "--expect", "crash")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(doc["exit_code"], 0)

    def test_harness_selftest_script(self):
        script = os.path.join(HERE, "test-harness-qemu.sh")
        r = subprocess.run(["bash", script, self.kernel],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, PYTHON=PY, TMPDIR=self.tmp))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.splitlines(), [
            "KTAP version 1", "1..4", "ok 1 selftest_pass",
            "ok 2 selftest_fail", "ok 3 selftest_panic",
            "ok 4 selftest_hang"])


if __name__ == "__main__":
    unittest.main()
