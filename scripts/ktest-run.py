#!/usr/bin/env python3
"""Boot the machperf kernel once in QEMU (TCG) and judge the run.

The serial console is read through a pipe (-serial stdio) as it arrives and
copied into the log, so the harness knows when the first byte came (boot
timeout) and stops QEMU at the overall timeout.  QEMU runs in a process group
of its own and is killed with it on timeout, on Ctrl-C, on SIGTERM, and (via
PR_SET_PDEATHSIG) if this script itself is killed.

Classifications (exactly one per run):
  pass          every leaf case ok/skip, '# ktest done', totals agree, exit 33
  fail          done, some leaf 'not ok', totals agree, exit 65
  panic         a 'KERNEL PANIC:' line (reported with where it happened)
  boot-timeout  no serial byte within --boot-timeout
  hang          output, but no '# ktest done' before --timeout
  crash         QEMU exited before '# ktest done', or with a status other
                than 33/65 (0 after a triple fault with -no-reboot, 1 error)
  inconsistent  plan/result count, numbering, totals line or exit status
                disagree with the results

Output: on success one line 'N passed, N failed[, N skipped]' counting leaf
cases (preceded by 'NAME: pass' unless --quiet).  Otherwise an explanation
(classification, panic line or hanging case, log path, QEMU command line to
reproduce, the last log lines) and then the counts line.  With --expect other
than pass the counts line carries a suffix '(classification X, expected Y)' so
that scripts/check.py does not count the guest's intended failures.

Exit status: 0 if the classification is the expected one (default pass),
1 if not, 2 on usage or infrastructure errors (no QEMU, no kernel).
"""

import argparse
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktap  # noqa: E402

EXPECTABLE = ("pass", "fail", "panic", "hang", "boot-timeout", "crash",
              "inconsistent")
ICOUNT = "shift=0,align=off,sleep=off"


class Terminated(Exception):
    """SIGTERM or SIGHUP arrived: clean up as for Ctrl-C."""


def _on_signal(signum, frame):
    raise Terminated(signum)


def build_parser():
    p = argparse.ArgumentParser(
        prog="ktest-run.py",
        description=__doc__,
        epilog="Examples:\n"
        "  scripts/ktest-run.py --kernel machperf --append 'ktest=all'\n"
        "  scripts/ktest-run.py --kernel machperf --append "
        "'ktest=selftest_hang' --timeout 5 --expect hang\n"
        "  scripts/ktest-run.py --parse-only serial.log --exit-code 65\n"
        "\nQEMU command (see 'reproduce:' in failure reports): "
        "qemu-system-x86_64 -M pc\n-accel tcg -cpu max -m MEM -smp N "
        "-nodefaults -display none -no-reboot\n-serial stdio -device "
        "isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel K\n"
        "[-append A] [-initrd I] [-icount ...] [extra args].  Never KVM.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", metavar="PATH",
                   help="multiboot kernel image (QEMU -kernel)")
    p.add_argument("--append", metavar="CMDLINE", default=None,
                   help="kernel command line (QEMU -append), e.g. 'ktest=all'")
    p.add_argument("--initrd", metavar="MODULES", default=None,
                   help="multiboot modules, 'mod1 args,mod2' (QEMU -initrd)")
    p.add_argument("--memory", metavar="SIZE", default="128M",
                   help="guest memory (default 128M)")
    p.add_argument("--smp", metavar="N", type=int, default=1,
                   help="guest CPUs (default 1)")
    p.add_argument("--icount", action="store_true",
                   help="deterministic instruction counting: -icount " +
                   ICOUNT)
    p.add_argument("--boot-timeout", metavar="SECS", type=float, default=10.0,
                   help="no serial byte by then: boot-timeout (default 10)")
    p.add_argument("--timeout", metavar="SECS", type=float, default=60.0,
                   help="total wall time before the run counts as a hang "
                   "(default 60)")
    p.add_argument("--log", metavar="FILE",
                   help="keep the raw serial log here (default: a temporary "
                   "directory, kept and printed only on failure)")
    p.add_argument("--name", metavar="LABEL",
                   help="label for messages (default: from --append)")
    p.add_argument("--expect", choices=EXPECTABLE, default="pass",
                   help="classification that counts as success "
                   "(default pass; others are for the harness's own tests)")
    p.add_argument("--qemu", metavar="PROGRAM",
                   default="qemu-system-x86_64",
                   help="QEMU binary (default qemu-system-x86_64)")
    p.add_argument("--extra-qemu-arg", metavar="ARG", action="append",
                   default=[], help="append ARG to the QEMU command "
                   "(repeatable; use --extra-qemu-arg=-foo for dashes)")
    p.add_argument("--quiet", action="store_true",
                   help="print only the counts line when the run matches "
                   "its expectation")
    p.add_argument("--verbose", action="store_true",
                   help="copy the serial output to stderr as it arrives")
    p.add_argument("--json", metavar="FILE",
                   help="write classification, counts and per-case results "
                   "as JSON")
    g = p.add_argument_group("classifying an existing log (no QEMU)")
    g.add_argument("--parse-only", metavar="LOGFILE",
                   help="classify this serial log instead of booting")
    g.add_argument("--exit-code", metavar="N", type=int,
                   help="QEMU's exit status for --parse-only")
    g.add_argument("--timed-out", action="store_true",
                   help="for --parse-only: the run was killed at a timeout "
                   "(empty log: boot-timeout, else hang)")
    return p


def qemu_command(args):
    cmd = [args.qemu, "-M", "pc", "-accel", "tcg", "-cpu", "max",
           "-m", args.memory, "-smp", str(args.smp),
           # -display none, not -nographic: with -nographic and no VGA,
           # SeaBIOS mirrors its console ("SeaBIOS (version ...)",
           # "Booting from ROM..", no newline) onto COM1, which would hide
           # a silent kernel from the boot timeout and glue the BIOS text
           # to the kernel's first line.
           "-nodefaults", "-display", "none", "-no-reboot",
           "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", args.kernel]
    if args.append:
        cmd += ["-append", args.append]
    if args.initrd:
        cmd += ["-initrd", args.initrd]
    if args.icount:
        cmd += ["-icount", ICOUNT]
    return cmd + list(args.extra_qemu_arg)


def _die_with_parent():
    """Child side, before exec: die if the harness dies (Linux only)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def kill_group(proc):
    """Stop proc and everything in its process group; reap proc."""
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    try:  # stragglers that share the group
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_qemu(cmd, log, boot_timeout, timeout, verbose):
    """Run QEMU, copying its serial output (stdout) into the open binary
    file log; returns (exit_code or None, timed_out, stderr_text, secs)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True,
                            preexec_fn=_die_with_parent)
    got_byte = False
    timed_out = False
    err = bytearray()
    try:
        streams = {proc.stdout.fileno(): "out", proc.stderr.fileno(): "err"}
        for fd in streams:
            os.set_blocking(fd, False)
        while streams:
            limit = timeout if got_byte else min(boot_timeout, timeout)
            remaining = start + limit - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select(list(streams), [], [], remaining)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not data:
                    del streams[fd]
                elif streams[fd] == "out":
                    got_byte = True
                    log.write(data)
                    log.flush()
                    if verbose:
                        sys.stderr.buffer.write(data)
                        sys.stderr.flush()
                else:
                    err += data
        if not timed_out:
            remaining = start + timeout - time.monotonic()
            try:
                proc.wait(timeout=max(remaining, 0.1))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        if timed_out or proc.poll() is None:
            kill_group(proc)
        proc.stdout.close()
        proc.stderr.close()
    code = None if timed_out else proc.returncode
    return code, timed_out, err.decode("utf-8", "replace"), \
        time.monotonic() - start


def default_name(args):
    if args.name:
        return args.name
    if args.parse_only:
        return os.path.basename(args.parse_only)
    for word in (args.append or "").split():
        if word.startswith("ktest="):
            return word
    return os.path.basename(args.kernel or "ktest")


def report(verdict, args, name, log_path, cmd, qemu_err, secs):
    matched = verdict.classification == args.expect
    out = []
    counts = ktap.summary_line(verdict.counts)
    when = " (%.1fs)" % secs if secs is not None else ""
    if matched and args.expect == "pass":
        if not args.quiet:
            out.append("%s: pass%s" % (name, when))
        if verdict.counts.passed + verdict.counts.failed \
                + verdict.counts.skipped == 0 and not args.quiet:
            out.append("%s: warning: no test case ran (check the ktest= "
                       "glob)" % name)
        out.append(counts)
    elif matched:
        if not args.quiet:
            out.append("%s: %s, as expected%s" %
                       (name, verdict.classification, when))
            out += ["  " + r for r in verdict.reasons]
        out.append("%s (classification %s, expected %s)" %
                   (counts, verdict.classification, args.expect))
    else:
        head = "%s: %s" % (name, verdict.classification.upper())
        if args.expect != "pass":
            head += " (expected %s)" % args.expect
        out.append(head + when)
        out += ["  " + r for r in verdict.reasons]
        if qemu_err.strip():
            out.append("  QEMU stderr:")
            out += ["    " + line for line in qemu_err.strip().splitlines()]
        out.append("  serial log: %s" % log_path)
        if cmd:
            out.append("  reproduce: %s" % shlex.join(cmd))
        tail = verdict.parse.last_lines[-15:]
        if tail:
            out.append("  last lines of the serial log:")
            out += ["    | " + line for line in tail]
        if args.expect == "pass":
            out.append(counts)
        else:
            out.append("%s (classification %s, expected %s)" %
                       (counts, verdict.classification, args.expect))
    print("\n".join(out), flush=True)
    return matched


def write_json(path, verdict, args, name, log_path, cmd, exit_code,
               timed_out, secs, qemu_err):
    doc = verdict.as_dict()
    doc.update({"name": name, "expected": args.expect,
                "matched": verdict.classification == args.expect,
                "exit_code": exit_code, "timed_out": timed_out,
                "log": log_path, "command": cmd, "seconds": secs,
                "qemu_stderr": qemu_err})
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    name = default_name(args)

    if args.parse_only:
        if args.exit_code is None and not args.timed_out:
            parser.error("--parse-only needs --exit-code N or --timed-out")
        try:
            with open(args.parse_only, "rb") as f:
                data = f.read()
        except OSError as e:
            print("ktest-run.py: cannot read %s: %s" %
                  (args.parse_only, e.strerror), file=sys.stderr)
            return 2
        parse = ktap.parse_text(data)
        verdict = ktap.classify(parse, args.exit_code, args.timed_out)
        matched = report(verdict, args, name, args.parse_only, None, "",
                         None)
        if args.json:
            write_json(args.json, verdict, args, name, args.parse_only, None,
                       args.exit_code, args.timed_out, None, "")
        return 0 if matched else 1

    if not args.kernel:
        parser.error("--kernel PATH is required (or --parse-only LOGFILE)")
    if not os.path.isfile(args.kernel):
        print("ktest-run.py: kernel image %s not found (build it with "
              "'make')" % args.kernel, file=sys.stderr)
        return 2
    if shutil.which(args.qemu) is None:
        print("ktest-run.py: %s not found: install the Debian package "
              "qemu-system-x86" % args.qemu, file=sys.stderr)
        return 2

    tmpdir = None
    if args.log:
        log_path = os.path.abspath(args.log)
    else:
        tmpdir = tempfile.mkdtemp(prefix="ktest-")
        log_path = os.path.join(tmpdir, "serial.log")
    try:
        log = open(log_path, "wb")
    except OSError as e:
        print("ktest-run.py: cannot write the serial log %s: %s" %
              (log_path, e.strerror), file=sys.stderr)
        return 2
    cmd = qemu_command(args)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        with log:
            exit_code, timed_out, qemu_err, secs = run_qemu(
                cmd, log, args.boot_timeout, args.timeout, args.verbose)
    except KeyboardInterrupt:
        print("\n%s: interrupted; QEMU stopped. serial log: %s" %
              (name, log_path), file=sys.stderr)
        return 130
    except Terminated as e:
        print("%s: terminated by signal %d; QEMU stopped. serial log: %s" %
              (name, e.args[0], log_path), file=sys.stderr)
        return 128 + e.args[0]
    except OSError as e:
        print("ktest-run.py: cannot run %s: %s" % (args.qemu, e),
              file=sys.stderr)
        return 2

    with open(log_path, "rb") as f:
        parse = ktap.parse_text(f.read())
    verdict = ktap.classify(parse, exit_code, timed_out)
    matched = verdict.classification == args.expect
    discard = matched and tmpdir is not None
    report(verdict, args, name, log_path, cmd, qemu_err, secs)
    if args.json:
        write_json(args.json, verdict, args, name,
                   None if discard else log_path, cmd, exit_code, timed_out,
                   secs, qemu_err)
    if discard:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return 0 if matched else 1


if __name__ == "__main__":
    sys.exit(main())
