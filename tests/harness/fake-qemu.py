#!/usr/bin/env python3
"""A stand-in for qemu-system-x86_64, for testing scripts/ktest-run.py.

Behaviour is chosen by the -append argument:
  fake=log:PATH:CODE  print file PATH on stdout, exit with status CODE
  fake=silent         print nothing, sleep
  fake=hang           print the start of a KTAP run, start a child in the
                      same process group, sleep
  fake=stubborn       like hang, but ignore SIGTERM
  fake=stderr         print an error on stderr and exit 1, as QEMU does
Environment: FAKE_QEMU_ARGV=FILE records argv as JSON; FAKE_QEMU_PIDS=FILE
records "own-pid child-pid".
"""

import json
import os
import signal
import subprocess
import sys
import time


def main():
    argv = sys.argv
    if os.environ.get("FAKE_QEMU_ARGV"):
        with open(os.environ["FAKE_QEMU_ARGV"], "w") as f:
            json.dump(argv, f)
    append = argv[argv.index("-append") + 1] if "-append" in argv else ""
    mode = append.split("fake=", 1)[1] if "fake=" in append else ""
    if mode.startswith("log:"):
        _, path, code = mode.split(":")
        with open(path, "rb") as f:
            sys.stdout.buffer.write(f.read())
        sys.stdout.flush()
        return int(code)
    if mode == "stderr":
        sys.stderr.write("qemu-system-x86_64: could not load kernel 'x'\n")
        return 1
    if mode in ("hang", "stubborn"):
        if mode == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen(["sleep", "300"])
        if os.environ.get("FAKE_QEMU_PIDS"):
            with open(os.environ["FAKE_QEMU_PIDS"], "w") as f:
                f.write("%d %d\n" % (os.getpid(), child.pid))
        sys.stdout.write("machperf: booting\nKTAP version 1\n1..1\n"
                         "    KTAP version 1\n    # Subtest: sched\n"
                         "    1..2\n    ok 1 yield\n")
        sys.stdout.flush()
    elif os.environ.get("FAKE_QEMU_PIDS"):
        with open(os.environ["FAKE_QEMU_PIDS"], "w") as f:
            f.write("%d\n" % os.getpid())
    while True:
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
