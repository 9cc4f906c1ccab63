#!/usr/bin/env python3
"""perf-analysis: drive a running machperf kernel from the host.

scripts/perf-analysis.sh is the entry point (it runs this file); the
guide is docs/perf-analysis.md.  The kernel runs in QEMU in the
background; its second serial port (COM2) is a unix socket in the state
directory, where the guest agent perfctl answers one command per line
with one JSON line, and bulk data as framed perf streams
(include/mach/perf_stream.h).  Streams take the bulk channel when QEMU
has it: a ring in ivshmem shared memory (include/mach/perf_shm.h), read
here from the memory-backend file STATE/shm.

Exit codes: 0 success, 1 a regression or a failed check, 2 a usage or
environment error (one sentence on stderr says what is wrong and what
to do).
"""
import argparse
import ctypes
import json
import mmap
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

PROG = "perf-analysis.sh"
EVENTS = ["IPC_SEND", "IPC_RECEIVE", "VM_ALLOC", "VM_FREE", "TASK_CREATE",
          "TASK_TERMINATE", "THREAD_CREATE", "THREAD_TERMINATE", "CONTEXT_SWITCH",
          "INTERRUPT", "SYSCALL", "PAGE_FAULT"]
WORKLOADS = ["ipc", "rpc", "vm", "fault", "thread", "switch", "timer"]
# Iterations of the standard run (make run-performance-analysis): a few
# seconds under icount, every event type represented.
STANDARD_ITER = {"ipc": 2000, "rpc": 2000, "vm": 1000, "fault": 20, "thread": 200,
                 "switch": 2000, "timer": 100}
ICOUNT = "shift=0,align=off,sleep=off"
FRAME_HDR = 24
STREAM_END = 6
BASELINE_MAGIC = b"MPBL"
SHM_MAGIC = 0x5253504d  # "MPSR": include/mach/perf_shm.h
SHM_VERSION = 1
SHM_SIZE = "16M"


class Failure(Exception):
    """An error for the user: message, exit code."""

    def __init__(self, msg, code=2):
        super().__init__(msg)
        self.code = code


def topdir():
    return os.environ.get("MACHPERF_BUILD") or os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))


def statedir():
    return os.environ.get("MACHPERF_STATE") or os.path.join(topdir(), ".perf-analysis")


def state_path(name):
    return os.path.join(statedir(), name)


def read_pid():
    try:
        with open(state_path("pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def alive(pid):
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie child of nobody we know is gone too
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return True


def need_running():
    pid = read_pid()
    if pid is None:
        raise Failure("machperf is not running: start it with `%s start`." % PROG)
    if not alive(pid):
        raise Failure("QEMU (pid %d) has exited; its console is in %s: run `%s stop`, "
                      "then `%s start`." % (pid, state_path("console.log"), PROG, PROG))
    return pid


class Channel:
    """The host end of the COM2 socket: command lines out, JSON lines and frames in."""

    def __init__(self, path, timeout=60.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as e:
            raise Failure("cannot connect to the kernel's channel %s (%s): is QEMU "
                          "running? Try `%s status`." % (path, e.strerror, PROG))
        self.buf = b""

    def close(self):
        self.sock.close()

    def _fill(self):
        try:
            d = self.sock.recv(1 << 16)
        except socket.timeout:
            raise Failure("the guest agent did not answer in time; see `%s status` and %s."
                          % (PROG, state_path("console.log")))
        if not d:
            raise Failure("the kernel closed the channel (QEMU gone?): see `%s status`."
                          % PROG)
        self.buf += d

    def send(self, line, data=b""):
        self.sock.sendall(line.encode() + b"\n" + data)

    def line(self):
        while b"\n" not in self.buf:
            self._fill()
        ln, self.buf = self.buf.split(b"\n", 1)
        try:
            return json.loads(ln.decode(errors="replace"))
        except ValueError:
            raise Failure("the guest agent sent something that is not JSON: %r" % ln[:80])

    def exact(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def frames(self, out, src=None):
        """Copies frames (from src, default the socket) to out up to and including END;
        returns bytes copied."""
        src = src or self
        total = 0
        while True:
            hdr = src.exact(FRAME_HDR)
            if hdr[:4] != b"MPF1":
                raise Failure("the perf stream lost its framing (bad magic); nothing was "
                              "written: retry, and see %s." % state_path("console.log"))
            ftype, = struct.unpack_from("<H", hdr, 6)
            plen, = struct.unpack_from("<I", hdr, 12)
            out.write(hdr)
            out.write(src.exact(plen))
            total += FRAME_HDR + plen
            if ftype == STREAM_END:
                return total

    def line_waiting(self):
        """Is a whole line already here (without blocking)?"""
        if b"\n" in self.buf:
            return True
        self.sock.settimeout(0)
        try:
            d = self.sock.recv(1 << 16)
            self.buf += d
        except (socket.timeout, BlockingIOError):
            pass
        finally:
            self.sock.settimeout(60.0)
        return b"\n" in self.buf

    def drain_hello(self):
        """Skips JSON lines already waiting (the agent's hello)."""
        self.sock.settimeout(0.05)
        try:
            while True:
                d = self.sock.recv(1 << 16)
                if not d:
                    break
                self.buf += d
        except (socket.timeout, BlockingIOError):
            pass
        self.sock.settimeout(60.0)
        self.buf = b""


class Ring:
    """The host end of the bulk channel: the ivshmem ring (include/mach/perf_shm.h) in the
    memory-backend file, consumed here while the guest produces."""

    def __init__(self, path, ch):
        self.ch = ch
        with open(path, "r+b") as f:
            self.m = mmap.mmap(f.fileno(), 0)
        magic, ver, self.size, self.off = struct.unpack_from("<IIQQ", self.m, 0)
        if magic != SHM_MAGIC or ver != SHM_VERSION or self.off + self.size > len(self.m):
            self.m.close()
            raise OSError("no ring")
        # Aligned 8-byte loads and stores (struct would copy byte by byte).
        self.w = ctypes.c_uint64.from_buffer(self.m, 64)
        self.r = ctypes.c_uint64.from_buffer(self.m, 128)
        self.buf = b""
        self.pos = 0

    def close(self):
        del self.w, self.r
        self.m.close()

    def discard(self):
        """Drops what an interrupted stream left (nobody writes between streams)."""
        self.r.value = self.w.value

    def _pull(self):
        w, r = self.w.value, self.r.value
        if w == r:
            return False
        n, at = w - r, r % self.size
        first = min(n, self.size - at)
        chunk = self.m[self.off + at:self.off + at + first]
        if n > first:
            chunk += self.m[self.off:self.off + n - first]
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0
        self.r.value = w
        return True

    def exact(self, n):
        idle = time.time()
        while len(self.buf) - self.pos < n:
            if self._pull():
                idle = time.time()
                continue
            # The guest sends its closing line after the whole stream: a line with
            # the ring still empty means the stream was cut short.
            if self.ch.line_waiting() and not self._pull():
                raise Failure("the perf stream ended early (the guest agent gave up): retry, "
                              "and see %s." % state_path("console.log"))
            if time.time() - idle > 60:
                raise Failure("the guest agent sent nothing on the bulk channel for 60 s; see "
                              "`%s status` and %s." % (PROG, state_path("console.log")))
            time.sleep(0.0005)
        d = self.buf[self.pos:self.pos + n]
        self.pos += n
        return d


def open_ring(ch):
    """The bulk channel, if this QEMU was started with it (None otherwise)."""
    if os.environ.get("MACHPERF_NO_RING"):
        return None
    try:
        with open(state_path("cmdline")) as f:
            if "ivshmem-plain" not in f.read():
                return None
        return Ring(state_path("shm"), ch)
    except (OSError, ValueError):
        return None


def connect():
    need_running()
    ch = Channel(state_path("sock"))
    ch.drain_hello()
    return ch


def request(line, data=b"", ok_required=True):
    ch = connect()
    try:
        ch.send(line, data)
        r = ch.line()
    finally:
        ch.close()
    if ok_required and not r.get("ok"):
        raise Failure("%s: %s (%s)." % (line.split()[0], r.get("message", "failed"),
                                         r.get("error", "?")))
    return r


def stream(line, path, pre=()):
    """Sends a streaming command; writes the stream to path; returns the totals line.
    The stream comes through the bulk channel when QEMU has it, else on the socket.
    pre: commands sent in the same write just before it (their answers must be ok), so
    that the agent runs them back to back (scripts/bench.py: enable, then drain)."""
    ch = connect()
    ring = open_ring(ch)
    try:
        if ring:
            ring.discard()
        ch.send("\n".join(list(pre) + [line + (" ring" if ring else "")]))
        for p in pre:
            r = ch.line()
            if not r.get("ok"):
                raise Failure("%s: %s (%s)." % (p, r.get("message"), r.get("error")))
        r = ch.line()
        if not r.get("ok"):
            raise Failure("%s: %s (%s)." % (line, r.get("message"), r.get("error")))
        with open(path + ".tmp", "wb") as f:
            ch.frames(f, ring if ring and r.get("ring") else None)
        tot = ch.line()
    finally:
        ch.close()
        if ring:
            ring.close()
    if not tot.get("ok"):
        os.unlink(path + ".tmp")
        raise Failure("%s: %s (%s)." % (line, tot.get("message"), tot.get("error")))
    os.rename(path + ".tmp", path)
    return tot


# ---- start / stop / status ----

def qemu_cmd(args, sock, log):
    mods = ["userland/perfctl.elf"]
    if getattr(args, "inject", None):
        ev, _, ns = args.inject.partition(":")
        if ev.upper() not in EVENTS or not ns.isdigit():
            raise Failure("bad --inject %s: want EVENT:NS, e.g. IPC_SEND:3000." % args.inject)
        # After the engine's calibration at enable (perf.inject= on the kernel
        # command line is taken into the calibration and cancels itself out).
        mods[0] += " inject %s %s +" % (ev.upper(), ns)
    if args.record:
        mods[0] += " wait-tasks + disable + serve"
    for w in args.workload:
        name, _, it = w.partition(":")
        if name not in WORKLOADS:
            raise Failure("unknown workload '%s' (one of %s)." % (name, ", ".join(WORKLOADS)))
        if not it:
            it = str(STANDARD_ITER[name]) if args.record else "0"
        mods.append("userland/workloads/work-%s.elf %s" % (name, it))
    append = " ".join((["perf.enable"] if args.record else []) + args.append)
    cmd = [os.environ.get("QEMU", "qemu-system-x86_64"), "-accel", "tcg", "-cpu", "max",
           "-m", "128M", "-nodefaults", "-display", "none", "-no-reboot",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-serial", "file:" + log, "-serial", "unix:%s,server=on,wait=off" % sock,
           # The bulk channel: streams come back through a ring in this file.
           "-object", "memory-backend-file,id=mpshm,share=on,mem-path=%s,size=%s"
           % (os.path.join(os.path.dirname(sock), "shm"), SHM_SIZE),
           "-device", "ivshmem-plain,memdev=mpshm",
           "-kernel", "machperf", "-initrd", ",".join(mods), "-append", append]
    if args.icount:
        cmd[1:1] = ["-icount", ICOUNT]
    return cmd


def ready_on_console():
    """perfctl says it serves the channel: with --record, recording is over by then."""
    try:
        with open(state_path("console.log"), errors="replace") as f:
            return "perfctl: serving the host channel" in f.read()
    except OSError:
        return False


def cmd_start(args):
    top = topdir()
    for f in ["machperf", "userland/perfctl.elf"]:
        if not os.path.exists(os.path.join(top, f)):
            raise Failure("%s is missing: build with `make` in %s first." % (f, top))
    pid = read_pid()
    if alive(pid):
        print("machperf is already running (QEMU pid %d, channel %s)." % (pid, state_path("sock")))
        return 0
    os.makedirs(statedir(), exist_ok=True)
    for f in ["pid", "sock", "console.log", "shm"]:
        try:
            os.unlink(state_path(f))
        except OSError:
            pass
    cmd = qemu_cmd(args, state_path("sock"), state_path("console.log"))
    with open(state_path("qemu.log"), "w") as qlog:
        p = subprocess.Popen(cmd, cwd=top, stdin=subprocess.DEVNULL, stdout=qlog,
                             stderr=subprocess.STDOUT, start_new_session=True)
    with open(state_path("pid"), "w") as f:
        f.write("%d\n" % p.pid)
    with open(state_path("cmdline"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        if p.poll() is not None:
            raise Failure("QEMU exited at once (status %d): see %s." % (p.returncode,
                                                                       state_path("qemu.log")))
        if args.record:
            if ready_on_console():
                print("machperf ran the workloads (QEMU pid %d, %s); recording is off, "
                      "channel %s." % (p.pid, "icount" if args.icount else "wall",
                                       state_path("sock")))
                return 0
        elif os.path.exists(state_path("sock")):
            try:
                ch = Channel(state_path("sock"), timeout=2)
                ch.drain_hello()
                ch.send("ping")
                r = ch.line()
                ch.close()
                if r.get("ok"):
                    print("machperf is running (QEMU pid %d%s), channel %s, console %s."
                          % (p.pid, ", icount" if args.icount else "", state_path("sock"),
                             state_path("console.log")))
                    return 0
            except Failure:
                pass
        time.sleep(0.2)
    raise Failure("the guest agent did not answer within %d s: see %s (stop with `%s stop`)."
                  % (args.timeout, state_path("console.log"), PROG))


def cmd_stop(args):
    pid = read_pid()
    if not alive(pid):
        print("machperf is not running.")
    else:
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        print("machperf stopped (QEMU pid %d)." % pid)
    for f in ["pid", "sock", "shm"]:
        try:
            os.unlink(state_path(f))
        except OSError:
            pass
    return 0


def cmd_status(args):
    pid = need_running()
    r = request("sysstats")
    s = r["system"]
    print("machperf is running: QEMU pid %d, channel %s, console %s" % (
        pid, state_path("sock"), state_path("console.log")))
    print("recording %s, clock %s, events mask %#x, rate %s, buffer %d records (%s), "
          "baseline %s, uptime %.2f s, %d tasks, %d threads" % (
              "on" if s["enabled"] else "off", s["clock"], s["event_mask"],
              s["rate"] or "unlimited", s["buffer_records"], s["mode"],
              "set" if s["baseline"] else "none", s["uptime_ns"] / 1e9, s["tasks"],
              s["threads"]))
    return 0


# ---- control ----

def cmd_enable(args):
    r = request(" ".join(["enable"] + args.events))
    print("recording on (event mask %#x)." % r.get("event_mask", 0))
    return 0


def cmd_disable(args):
    r = request(" ".join(["disable"] + args.events))
    if args.events:
        print("events off: %s (event mask now %#x)." % (" ".join(args.events),
                                                       r.get("event_mask", 0)))
    else:
        print("recording off.")
    return 0


def cmd_configure(args):
    request("configure %d %d %s" % (args.rate, args.buffer, args.mode))
    print("rate %s, buffer %d records per CPU, %s." % (args.rate or "unlimited", args.buffer,
                                                       args.mode))
    return 0


def loss_line(loss):
    return ("loss: written %d, read %d, lost %d (dropped %d, overwritten %d, resize %d, "
            "discarded %d), buffered %d, sampled out %d" % (
                loss["written"], loss["read"], loss["lost"], loss["dropped"],
                loss["overwritten"], loss["resize_lost"], loss["discarded"],
                loss["buffered"], loss["sampled_out"]))


def stats_table(r, out=sys.stdout):
    unit = "insn" if r["system"]["clock"] == "icount" else "ns"
    out.write("%-17s %10s %12s %10s %10s %10s %10s %12s %12s\n" % (
        "event", "count", "mean", "p50", "p95", "p99", "p99.9", "max", "events/s"))
    for e in r["events"]:
        out.write("%-17s %10d %12s %10d %10d %10d %10d %12d %12s\n" % (
            e["event"], e["count"], "%.1f" % e["mean_ns"], e["p50_ns"], e["p95_ns"],
            e["p99_ns"], e["p999_ns"], e["max_ns"], "%.1f" % e["events_per_s"]))
    s = r["system"]
    out.write("(times in %s; clock %s; interval %.3f s)\n" % (unit, s["clock"],
                                                               s["interval_ns"] / 1e9))
    out.write(loss_line(r["loss"]) + "\n")
    out.write("system: uptime %.3f s, %d tasks, %d threads, %d ports, %d/%d pages free, "
              "%d interrupts, %d context switches, record cost %d ns\n" % (
                  s["uptime_ns"] / 1e9, s["tasks"], s["threads"], s["ports"],
                  s["free_pages"], s["total_pages"], s["interrupts"],
                  s["context_switches"], s["cost_record_ns"]))


def cmd_stats(args):
    r = request("stats" + ("" if args.event is None else " " + args.event))
    if args.json:
        del r["ok"]
        json.dump(r, sys.stdout, indent=1, sort_keys=True)
        print()
    else:
        stats_table(r)
    return 0


def check_baseline_file(data, path):
    """One sentence if data is not a plausible baseline (the kernel checks the rest)."""
    if len(data) < 64 or data[:4] != BASELINE_MAGIC:
        raise Failure("%s is not a machperf baseline (no MPBL header): record one with "
                      "`%s baseline --save FILE`." % (path, PROG))
    # Header (kern/perf_baseline.c): u64 size at 40, u32 CRC-32 at 48 (computed as 0).
    size, = struct.unpack_from("<Q", data, 40)
    if size != len(data):
        raise Failure("%s is corrupt: %d bytes, its header says %d (truncated?); record it "
                      "again." % (path, len(data), size))
    crc_off = 48
    crc, = struct.unpack_from("<I", data, crc_off)
    z = bytearray(data)
    z[crc_off:crc_off + 4] = b"\0\0\0\0"
    if zlib.crc32(bytes(z)) & 0xffffffff != crc:
        raise Failure("%s is corrupt (checksum mismatch): record it again." % path)


def cmd_baseline(args):
    if args.load:
        try:
            with open(args.load, "rb") as f:
                data = f.read()
        except OSError as e:
            raise Failure("cannot read %s: %s." % (args.load, e.strerror))
        check_baseline_file(data, args.load)
        request("baseline-import %d" % len(data), data)
        print("baseline loaded from %s (%d bytes)." % (args.load, len(data)))
        return 0
    request("baseline-set")
    if not args.save:
        print("baseline set from the current statistics.")
        return 0
    ch = connect()
    try:
        ch.send("baseline-export")
        r = ch.line()
        if not r.get("ok"):
            raise Failure("baseline-export: %s." % r.get("message"))
        data = ch.exact(r["bytes"])
    finally:
        ch.close()
    with open(args.save + ".tmp", "wb") as f:
        f.write(data)
    os.rename(args.save + ".tmp", args.save)
    print("baseline set and saved to %s (%d bytes)." % (args.save, len(data)))
    return 0


def pct(bp):
    return "inf" if bp >= (1 << 63) - 1 else "%+.2f%%" % (bp / 100.0)


def verdict_line(r):
    return ("%-17s %-12s mean %s, p50 %s, p95 %s, p99 %s (threshold %d%%, %s)" % (
        r["event"], "REGRESSED" if r["regressed"] else "ok", pct(r["mean_change_bp"]),
        pct(r["p50_change_bp"]), pct(r["p95_change_bp"]), pct(r["p99_change_bp"]),
        r["threshold_pct"], r["verdict"]))


def cmd_check(args):
    r = request("check %s %d" % (args.event, args.threshold))
    print(verdict_line(r))
    return 1 if r["regressed"] else 0


def cmd_monitor(args):
    tty = sys.stdout.isatty()
    prev = None
    n = 0
    if tty:
        sys.stdout.write("\033[?1049h\033[?25l")
    try:
        while args.count == 0 or n < args.count:
            r = request("stats")
            now = r["system"]["uptime_ns"]
            if tty:
                sys.stdout.write("\033[H\033[2J")
            print("machperf monitor: every %g s, Ctrl-C to quit   uptime %.2f s" % (
                args.interval, now / 1e9))
            print("%-17s %10s %12s %12s %10s %10s" % ("event", "count", "rate/s", "mean",
                                                       "p99", "max"))
            for e in r["events"]:
                rate = e["events_per_s"]
                if prev is not None and now > prev[0]:
                    rate = (e["count"] - prev[1].get(e["event"], 0)) * 1e9 / (now - prev[0])
                print("%-17s %10d %12.1f %12.1f %10d %10d" % (
                    e["event"], e["count"], rate, e["mean_ns"], e["p99_ns"], e["max_ns"]))
            print(loss_line(r["loss"]))
            sys.stdout.flush()
            prev = (now, {e["event"]: e["count"] for e in r["events"]})
            n += 1
            if args.count == 0 or n < args.count:
                time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        if tty:
            sys.stdout.write("\033[?25h\033[?1049l")
            sys.stdout.flush()
    return 0


def tool(name):
    p = os.path.join(topdir(), "tools", name)
    if not os.access(p, os.X_OK):
        raise Failure("%s is missing: build with `make` in %s first." % (p, topdir()))
    return p


def run_tool(argv):
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode == 2:
        raise Failure("%s failed: %s" % (os.path.basename(argv[0]), p.stderr.strip()))
    if p.returncode == 1:
        sys.stderr.write("%s: warning: the stream is incomplete: %s\n" % (
            os.path.basename(argv[0]), p.stderr.strip()))
    return p.returncode


def cmd_trace(args):
    tmp = args.output + ".mpf"
    tot = stream("trace %d" % args.duration if args.duration else "dump", tmp)
    run_tool([tool("mp-trace"), "-q", "-o", args.output, tmp])
    os.unlink(tmp)
    print("trace written to %s: %d records, %d lost; open it in https://ui.perfetto.dev"
          % (args.output, tot["records"], tot["lost"]))
    return 0


def cmd_report(args):
    os.makedirs(args.output, exist_ok=True)
    s = os.path.join(args.output, "stream.mpf")
    tot = stream("trace %d" % args.duration if args.duration else "dump", s)
    run_tool([tool("mp-report"), "-q", "-o", os.path.join(args.output, "report.html"),
              "--stats-json", os.path.join(args.output, "stats.json"), s])
    run_tool([tool("mp-trace"), "-q", "-o", os.path.join(args.output, "trace.json"), s])
    r = request("stats")
    with open(os.path.join(args.output, "stats-live.json"), "w") as f:
        del r["ok"]
        json.dump(r, f, indent=1, sort_keys=True)
    print("report written to %s: report.html, stats.json, trace.json, stream.mpf "
          "(%d records, %d lost)" % (args.output, tot["records"], tot["lost"]))
    return 0


def cmd_run(args):
    """The standard analysis (make run-performance-analysis, make update-baseline)."""
    os.environ["MACHPERF_STATE"] = os.path.join(os.path.abspath(args.output), "state")
    cmd_stop(argparse.Namespace())
    start = argparse.Namespace(workload=WORKLOADS[:], icount=True, record=True,
                               append=args.append, timeout=args.timeout, inject=args.inject)
    print("== booting machperf under icount with the standard workloads: %s"
          % ", ".join(WORKLOADS))
    try:
        cmd_start(start)
        print("\n== statistics (every event enabled from boot to the end of the workloads)")
        r = request("stats")
        stats_table(r)
        rc = 0
        if args.update_baseline:
            print("\n== recording the baseline")
            cmd_baseline(argparse.Namespace(save=args.baseline, load=None))
        else:
            print("\n== regression verdicts against %s (threshold %d%%)"
                  % (args.baseline, args.threshold))
            if not os.path.exists(args.baseline):
                raise Failure("no baseline %s: record one with `make update-baseline`."
                              % args.baseline)
            cmd_baseline(argparse.Namespace(save=None, load=args.baseline))
            regressed = []
            for ev in EVENTS:
                v = request("check %s %d" % (ev, args.threshold))
                print(verdict_line(v))
                if v["regressed"]:
                    regressed.append(ev)
            rc = 1 if regressed else 0
        print("\n== writing the report")
        cmd_report(argparse.Namespace(output=args.output, duration=0))
        if not args.update_baseline:
            print("\nverdict: %s" % ("REGRESSION in " + ", ".join(regressed) if regressed
                                     else "no regression beyond %d%%" % args.threshold))
        return rc
    finally:
        cmd_stop(argparse.Namespace())


def cmd_test(args):
    return 0 if subprocess.run(["make", "-C", topdir(), "check"]).returncode == 0 else 1


def parser():
    ap = argparse.ArgumentParser(prog=PROG, description="Drive a running machperf kernel "
                                 "(docs/perf-analysis.md).")
    sub = ap.add_subparsers(dest="cmd", metavar="SUBCOMMAND")
    sub.required = True

    def add(name, fn, help):
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(fn=fn)
        return p

    p = add("start", cmd_start, "boot machperf in QEMU in the background with the channel")
    p.add_argument("--workload", action="append", default=[], metavar="NAME[:ITER]",
                   help="run a workload (%s); ITER 0 = forever" % ", ".join(WORKLOADS))
    p.add_argument("--icount", action="store_true", help="deterministic clock: times are "
                   "guest instructions, identical run to run")
    p.add_argument("--record", action="store_true", help="record from boot, stop recording "
                   "when the workloads end (standard iteration counts)")
    p.add_argument("--append", action="append", default=[], metavar="ARG",
                   help="kernel command line word (e.g. perf.inject=IPC_SEND:2000)")
    p.add_argument("--inject", metavar="EVENT:NS", help="TEST ONLY: delay every timed "
                   "block of EVENT by NS (perf_monitor_inject_delay, sent by perfctl at boot)")
    p.add_argument("--timeout", type=int, default=60, help="seconds to wait for the agent")
    add("stop", cmd_stop, "stop the kernel")
    add("status", cmd_status, "is it running, and how is recording set up")
    p = add("enable", cmd_enable, "start recording (every event, or those named)")
    p.add_argument("events", nargs="*", metavar="EVENT")
    p = add("disable", cmd_disable, "stop recording, or stop only the events named")
    p.add_argument("events", nargs="*", metavar="EVENT")
    p = add("configure", cmd_configure, "set the sample rate, buffer size and mode")
    p.add_argument("-r", "--rate", type=int, required=True,
                   help="raw records/s per CPU: 0 (unlimited) or 100..5000")
    p.add_argument("-b", "--buffer", type=int, required=True,
                   help="records per CPU: a power of two, 1024..32768")
    p.add_argument("-m", "--mode", choices=["circular", "saturate"], default="circular")
    p = add("stats", cmd_stats, "per-event statistics, loss counters, system statistics")
    p.add_argument("event", nargs="?", metavar="EVENT")
    p.add_argument("--json", action="store_true", help="the agent's JSON")
    p = add("baseline", cmd_baseline, "set the baseline; save it to or load it from a file")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--save", metavar="FILE")
    g.add_argument("--load", metavar="FILE")
    p = add("check-regression", cmd_check, "compare an event with the baseline (exit 1: "
            "regressed)")
    p.add_argument("-e", "--event", required=True)
    p.add_argument("-t", "--threshold", type=int, required=True, metavar="PCT")
    p = add("monitor", cmd_monitor, "live view of rates and latencies until Ctrl-C")
    p.add_argument("-i", "--interval", type=float, default=1.0, metavar="SECS")
    p.add_argument("-n", "--count", type=int, default=0, help="refreshes, then exit (0: "
                   "until Ctrl-C)")
    p = add("trace", cmd_trace, "write a Chrome trace (Perfetto, chrome://tracing)")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("-d", "--duration", type=int, default=0, metavar="SECS",
                   help="drain records for SECS seconds (default: what is buffered)")
    p = add("report", cmd_report, "write report.html, stats.json and trace.json to DIR")
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    p.add_argument("-d", "--duration", type=int, default=0, metavar="SECS")
    add("test", cmd_test, "run the test suite (make check)")
    p = add("run", cmd_run, "the whole standard analysis (make run-performance-analysis)")
    p.add_argument("-o", "--output", default="perf-analysis-out", metavar="DIR")
    p.add_argument("--baseline", default=os.path.join(topdir(), "tests", "baselines",
                                                      "standard-icount.mpbl"), metavar="FILE")
    p.add_argument("-t", "--threshold", type=int, default=5, metavar="PCT")
    p.add_argument("--update-baseline", action="store_true",
                   help="record FILE instead of comparing with it")
    p.add_argument("--append", action="append", default=[], metavar="ARG")
    p.add_argument("--inject", metavar="EVENT:NS", help="TEST ONLY (see start --inject)")
    p.add_argument("--timeout", type=int, default=300)
    return ap


def main(argv):
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except Failure as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        return e.code
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
