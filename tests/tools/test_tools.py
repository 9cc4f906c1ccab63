#!/usr/bin/env python3
"""Tests of the host tools mp-decode, mp-trace and mp-report on synthetic
perf streams (docs/perf-stream.md).

The streams are written by an encoder of this file's own, from the format's
documentation rather than from tools/mpstream.c, so the two check each
other.  Valid streams must decode and round-trip exactly; truncated,
corrupted, reordered, gapped and absurd ones must give a clear message and
exit status 1 (output marked incomplete) or 2 (usage, unreadable input,
unwritable output, no file left), and never crash (the binaries under test
are built with ASan and UBSan).  The Chrome trace must parse, nest on every
thread and count what the statistics count; the HTML report must be
self-contained and show the numbers; stats.json must equal mp-decode's.

Usage: test_tools.py --bindir DIR   (DIR holds mp-decode, mp-trace, mp-report)
Prints KTAP; exits 0 if every case passed, 1 otherwise.
"""

import argparse
import json
import os
import random
import re
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import zlib

EVENTS = ["IPC_SEND", "IPC_RECEIVE", "VM_ALLOC", "VM_FREE", "TASK_CREATE",
          "TASK_TERMINATE", "THREAD_CREATE", "THREAD_TERMINATE", "CONTEXT_SWITCH",
          "INTERRUPT", "SYSCALL", "PAGE_FAULT"]
EV = {name: i for i, name in enumerate(EVENTS)}
META, RECORDS, STATS, SYSTEM, TASKS, END = 1, 2, 3, 4, 5, 6
VERSION = 2  # written; version 1 (no dropped fields) is still read
CIRCULAR, SATURATE = 0, 1  # buffer modes, the engine's numbers
F_TIMED = 1
TS_END = 1


# ---------------------------------------------------------------- encoder

def frame(ftype, seq, payload, version=VERSION, length=None, reserved=0):
    n = len(payload) if length is None else length
    head = struct.pack("<4sHHIII", b"MPF1", version, ftype, seq, n, reserved)
    return head + struct.pack("<I", zlib.crc32(head + payload) & 0xffffffff) + payload


def meta_payload(rate=0, flags=0, clock=0, version=b"machperf 0.1 (test)", mode=CIRCULAR):
    return struct.pack("<IIQQIIIIQII64sQ", clock, 2, 2400000000, 416667, rate,
                       4096, mode, 0xfff, 1000, flags, 0, version, 0)


def rec_bytes(r):
    return struct.pack("<QBBHHHQII", r["ts"], r["event"], r["flags"], r["cpu"], r["task"],
                       r["thread"], r["data1"], r["dur"], r["data2"])


def records_payload(before, lost, recs, count=None, cpu=0, dropped=0, version=VERSION,
                    after=None):
    """lost: with sequence numbers (between the cursors); dropped: without."""
    n = len(recs) if count is None else count
    after = before + len(recs) + lost if after is None else after
    head = struct.pack("<QQQII", before, after, lost, n, cpu)
    if version >= 2:
        head += struct.pack("<Q", dropped)
    return head + b"".join(rec_bytes(r) for r in recs)


def hist_index(v):
    if v < 128:
        return v
    e = v.bit_length() - 1
    return (e - 6) * 64 + (v >> (e - 6))


def hist_lo(i):
    return i if i < 128 else (i % 64 + 64) << (i // 64 - 1)


def hist_hi(i):
    return i if i < 128 else hist_lo(i) + (1 << (i // 64 - 1)) - 1


def event_stats(ev, values, interval):
    """struct perf_event_stats + histogram of values, exact (nearest rank)."""
    vs = sorted(values)
    n = len(vs)

    def pct(p):  # p in parts per 100000
        rank = max(1, -(-p * n // 100000))
        return vs[min(rank, n) - 1]

    total = sum(vs)
    mean_mns = (total * 1000 + n // 2) // n
    var = (sum(v * v for v in vs) * n - total * total) // (n * n)
    stats = dict(event=ev, count=n, min=vs[0], max=vs[-1], sum=total, mean_mns=mean_mns,
                 var=var, stddev_mns=int((var ** 0.5) * 1000), p50=pct(50000),
                 p90=pct(90000), p95=pct(95000), p99=pct(99000), p999=pct(99900),
                 rate_mhz=n * 10**12 // interval, interval=interval)
    counts = {}
    for v in vs:
        counts[hist_index(v)] = counts.get(hist_index(v), 0) + 1
    stats["buckets"] = [(hist_lo(i), hist_hi(i), counts[i]) for i in sorted(counts)]
    return stats


def stats_payload(all_stats):
    out = [struct.pack("<II", len(all_stats), 0)]
    for s in all_stats:
        out.append(struct.pack("<II14Q", s["event"], 0, s["count"], s["min"], s["max"],
                               s["sum"], s["mean_mns"], s["var"], s["stddev_mns"], s["p50"],
                               s["p90"], s["p95"], s["p99"], s["p999"], s["rate_mhz"],
                               s["interval"]))
        out.append(struct.pack("<QII", s["count"], len(s["buckets"]), 0))
        out += [struct.pack("<QQQ", *b) for b in s["buckets"]]
    return b"".join(out)


def system_payload(written, read, lost, rate=0, mode=CIRCULAR):
    head = struct.pack("<8I12Q", 1, 2, rate, 4096, mode, 0xfff, 3, 4, 2400000000, 5 * 10**9,
                       4 * 10**9, written, written, read, lost, written - read - lost, 0,
                       1000, 32768, 55)
    return head + b"".join(struct.pack("<8Q", 10**9 * (c + 1), 10**9, 500, 70, 9, 9, 0, 0)
                           for c in range(2))


def tasks_payload(tasks, threads):
    out = [struct.pack("<II", len(tasks), len(threads))]
    out += [struct.pack("<IIQQ32s", tid, 1, cpu, 10, name) for tid, name, cpu in tasks]
    out += [struct.pack("<II", th, t) for th, t in threads]
    return b"".join(out)


def end_payload(ranges, read, dropped=0, version=VERSION, skew=0):
    """ranges: {cpu: (first_cursor, last_cursor)}; written = ranges + dropped
    (+ skew, to make books that do not balance)"""
    span = sum(b - a for a, b in ranges.values())
    head = struct.pack("<3QII", span + dropped + skew, read, span - read, len(ranges), 0)
    if version >= 2:
        head += struct.pack("<Q", dropped)
    return head + b"".join(
        struct.pack("<IIQQ", cpu, 0, a, b) for cpu, (a, b) in sorted(ranges.items()))


TASK_NAMES = [(1, b"bootstrap", 0), (2, b'ping "pong" \\ \n<b>&', 0),
              (3, b"bad \xff\xfe utf8 \xc3\xa9", 0)]
THREADS = [(10, 1), (11, 2), (12, 2), (13, 3)]


def workload(seed=1, n_iter=40, overlap=False):
    """Records: per thread, SYSCALLs with a PAGE_FAULT nested inside and IPC
    instants; CONTEXT_SWITCH instants; INTERRUPTs; sorted by time."""
    rnd = random.Random(seed)
    recs = []
    for k in range(n_iter):
        for th, task in THREADS:
            t0 = 100000 + k * 20000 + th * 1000 + rnd.randrange(50)
            cpu = th % 2
            d = 400 + rnd.randrange(300)
            recs.append(dict(ts=t0, event=EV["SYSCALL"], flags=F_TIMED, cpu=cpu, task=task,
                             thread=th, data1=(2**64 - 26) if k % 2 else 3, dur=d, data2=0))
            recs.append(dict(ts=t0 + 50, event=EV["PAGE_FAULT"], flags=F_TIMED, cpu=cpu,
                             task=task, thread=th, data1=0x400000 + k * 4096,
                             dur=100 + rnd.randrange(100), data2=6))
            recs.append(dict(ts=t0 + d + 10, event=EV["IPC_SEND"], flags=0, cpu=cpu,
                             task=task, thread=th, data1=64, dur=0, data2=7))
        recs.append(dict(ts=100000 + k * 20000 + 9000, event=EV["CONTEXT_SWITCH"], flags=0,
                         cpu=k % 2, task=1, thread=10, data1=10, dur=0, data2=11 + k % 3))
        recs.append(dict(ts=100000 + k * 20000 + 9500, event=EV["INTERRUPT"],
                         flags=F_TIMED, cpu=0, task=1, thread=10, data1=32,
                         dur=300 + rnd.randrange(100), data2=0))
    if overlap:  # two slices on thread 10 that overlap without nesting
        recs.append(dict(ts=5000, event=EV["SYSCALL"], flags=F_TIMED, cpu=0, task=1,
                         thread=10, data1=1, dur=1000, data2=0))
        recs.append(dict(ts=5500, event=EV["VM_ALLOC"], flags=F_TIMED, cpu=0, task=1,
                         thread=10, data1=0x1000, dur=1000, data2=4096))
    recs.sort(key=lambda r: r["ts"])
    return recs


class Stream:
    """A valid stream and where each of its frames starts."""

    def __init__(self, recs=None, lost_in=None, chunk=25, meta_flags=0, dropped_in=None,
                 drops_only=None, mode=CIRCULAR, rate=0, version=VERSION, end_skew=0,
                 end_dropped_skew=0):
        self.recs = workload() if recs is None else recs
        self.lost_in = lost_in or {}  # RECORDS frame number -> records lost before it
        # ... -> records dropped before it (saturate: no sequence numbers)
        self.dropped_in = dropped_in or {}
        # ... -> drops reported in a frame of their own, without records, before it
        self.drops_only = drops_only or {}
        frames = []
        frames.append((META, meta_payload(rate, meta_flags, mode=mode)))
        frames.append((TASKS, tasks_payload(TASK_NAMES, THREADS)))
        self.record_frames = []
        lost_total = 0
        # one cursor sequence per CPU (cursor = cpu << 56 | seq), frames in time order
        chunks = []
        for cpu in sorted({r["cpu"] for r in self.recs}):
            mine = [r for r in self.recs if r["cpu"] == cpu]
            chunks += [(cpu, mine[i:i + chunk]) for i in range(0, len(mine), chunk)]
        chunks.sort(key=lambda c: (c[1][0]["ts"], c[0]))
        ranges = {}
        dropped_total = 0
        self.drop_frames = []  # (frame index, records dropped) of the drops-only frames
        for cpu, part in chunks:
            first, cur = ranges.get(cpu, (cpu << 56 | 1000, cpu << 56 | 1000))
            k = len(self.record_frames)
            if k in self.drops_only:
                d = self.drops_only[k]
                dropped_total += d
                self.drop_frames.append((len(frames), d))
                frames.append((RECORDS, records_payload(cur, 0, [], cpu=cpu, dropped=d,
                                                        version=version)))
            lost = self.lost_in.get(k, 0)
            dropped = self.dropped_in.get(k, 0)
            lost_total += lost
            dropped_total += dropped
            self.record_frames.append((len(frames), part, lost))
            frames.append((RECORDS, records_payload(cur, lost, part, cpu=cpu, dropped=dropped,
                                                    version=version)))
            ranges[cpu] = (first, cur + len(part) + lost)
        written = sum(b - a for a, b in ranges.values())  # the sequence numbers
        self.recs = [r for _, part in chunks for r in part]  # the order they travel in
        by_ev = {}
        for r in self.recs:
            by_ev.setdefault(r["event"], []).append(r["dur"])
        span = self.recs[-1]["ts"] - self.recs[0]["ts"] + 1
        self.stats = [event_stats(ev, by_ev[ev], span) for ev in sorted(by_ev)]
        frames.append((STATS, stats_payload(self.stats)))
        frames.append((SYSTEM, system_payload(written + dropped_total + 3, written - lost_total,
                                              lost_total + dropped_total, rate, mode)))
        frames.append((END, end_payload(ranges, written - lost_total,
                                        dropped_total + end_dropped_skew, version, end_skew)))
        self.payloads = frames
        self.frames = [frame(t, s, p, version=version) for s, (t, p) in enumerate(frames)]
        self.lost_total = lost_total
        self.dropped_total = dropped_total

    def bytes(self, frames=None):
        return b"".join(self.frames if frames is None else frames)

    def offset(self, i):
        return sum(len(f) for f in self.frames[:i])


# ---------------------------------------------------------------- harness

class Failed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


class Tools:
    def __init__(self, bindir, tmp):
        self.bindir = bindir
        self.tmp = tmp
        self.n = 0

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, data, name=None):
        self.n += 1
        p = self.path(name or "in%d.mps" % self.n)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def run(self, tool, *args, stdin=None, fsize=None):
        def limit():
            if fsize is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        p = subprocess.run([os.path.join(self.bindir, tool)] + list(args), input=stdin,
                           capture_output=True, timeout=60, preexec_fn=limit)
        err = p.stderr.decode("utf-8", "replace")
        check(p.returncode in (0, 1, 2),
              "%s %s: exit status %d (crash?)\n%s" % (tool, " ".join(args), p.returncode,
                                                       err[-2000:]))
        check("Sanitizer" not in err and "runtime error" not in err,
              "%s %s: sanitizer report\n%s" % (tool, " ".join(args), err[-2000:]))
        return p.returncode, p.stdout, err

    def decode(self, data, *extra, expect=0):
        src = self.write(data)
        out = self.path("decode.json")
        rc, _, err = self.run("mp-decode", "--json", "-o", out, src, *extra)
        check(rc == expect, "mp-decode exit %d, expected %d\n%s" % (rc, expect, err))
        check(not os.path.exists(out + ".tmp"), "decode.json.tmp left behind")
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
        check(doc["complete"] == (expect == 0), "complete is %s with exit %d" %
              (doc["complete"], rc))
        check((err.strip() != "") == (expect != 0), "stderr should be empty iff the "
              "stream is complete: %r" % err[:500])
        return doc, err


def nested(events):
    """Whether the X events of one track nest; ts/dur in microseconds."""
    xs = sorted(((round(e["ts"] * 1000), round(e["dur"] * 1000)) for e in events),
                key=lambda x: (x[0], -x[1]))
    stack = []
    for ts, dur in xs:
        while stack and stack[-1] <= ts:
            stack.pop()
        if stack and ts + dur > stack[-1]:
            return False
        stack.append(ts + dur)
    return True


# ---------------------------------------------------------------- cases

def t_clean_round_trip(t):
    s = Stream()
    doc, _ = t.decode(s.bytes())
    items = doc["records"]["items"]
    check(doc["records"]["count"] == len(s.recs) == len(items), "record count")
    for want, got in zip(s.recs, items):
        check(got == dict(ts_ns=want["ts"], event=EVENTS[want["event"]], flags=want["flags"],
                          cpu=want["cpu"], task=want["task"], thread=want["thread"],
                          data1=want["data1"], data2=want["data2"],
                          duration_ns=want["dur"]), "record %r != %r" % (got, want))
    for st in s.stats:
        got = doc["stats"][EVENTS[st["event"]]]
        check(got["count"] == st["count"] and got["p99_ns"] == st["p99"] and
              got["max_ns"] == st["max"] and got["p999_ns"] == st["p999"],
              "stats of %s" % EVENTS[st["event"]])
        check(got["mean_ns"] == st["mean_mns"] / 1000, "mean of %s" % EVENTS[st["event"]])
        check([tuple(b) for b in got["histogram"]["buckets"]] == st["buckets"], "buckets")
        check(doc["records"]["per_event"][EVENTS[st["event"]]] == st["count"], "per_event")
    loss = doc["loss"]
    check(loss["balanced"] and loss["records_lost"] == 0 and loss["frames_ok"] == len(s.frames),
          "loss %r" % loss)
    check(loss["written"] == loss["read"] == len(s.recs), "written/read")
    names = {t_["id"]: t_["name"] for t_ in doc["tasks"]}
    check(names[2] == 'ping "pong" \\ \n<b>&', "escaped name: %r" % names[2])
    check(names[3] == "bad \ufffd\ufffd utf8 \u00e9", "bad UTF-8 name: %r" % names[3])
    check(doc["meta"]["kernel_version"] == "machperf 0.1 (test)", "kernel version")
    check(doc["system"]["balanced"] and doc["system"]["tasks"] == 3 and
          doc["system"]["cpus"][1]["busy_ns"] == 2 * 10**9, "system %r" % doc["system"])
    check(doc["meta"]["buffer_mode"] == "circular" and doc["meta"]["rate"] == 0, "meta")
    # the summary and standard input
    rc, out, _ = t.run("mp-decode", t.write(s.bytes()))
    check(rc == 0 and b"complete" in out and b"SYSCALL" in out, "summary")
    rc, out, _ = t.run("mp-decode", "--json", "--no-records", "-", stdin=s.bytes())
    check(rc == 0 and "items" not in json.loads(out)["records"], "stdin, --no-records")


def t_truncated_every_byte(t):
    s = Stream(recs=workload(n_iter=2), chunk=1)
    data = s.bytes()
    targets = [s.record_frames[1][0], len(s.frames) - 1]  # a RECORDS frame and END
    for fi in targets:
        start, end = s.offset(fi), s.offset(fi + 1)
        for cut in range(start, end):
            doc, err = t.decode(data[:cut], "-q", expect=1)
            check(("truncated" in err if cut > start else "no END" in err),
                  "cut at %d: message %r" % (cut, err))
            check(doc["loss"]["frames_truncated"] == (1 if cut > start else 0),
                  "cut at %d: %r" % (cut, doc["loss"]))
            check(doc["records"]["count"] <= len(s.recs), "more records than written")
    for cut in (1, 30, len(data) // 2, len(data) - 1):
        src = t.write(data[:cut])
        for tool, out in (("mp-trace", "t.json"), ("mp-report", "r.html")):
            rc, _, err = t.run(tool, "-q", "-o", t.path(out), src)
            check(rc == 1 and os.path.exists(t.path(out)), "%s on a cut stream" % tool)


def t_corrupted_bytes(t):
    s = Stream(recs=workload(n_iter=3), chunk=4)
    data = bytearray(s.bytes())
    fi = s.record_frames[1][0]
    start, end = s.offset(fi), s.offset(fi + 1)
    rnd = random.Random(7)
    where = list(range(start, start + 24)) + rnd.sample(range(start + 24, end), 16)
    for at in where:
        bad = bytearray(data)
        bad[at] ^= 0xa5
        doc, err = t.decode(bytes(bad), expect=1)
        loss = doc["loss"]
        check(loss["frames_corrupt"] + loss["frames_truncated"] == 1,
              "byte %d: %r" % (at, loss))
        check(loss["frames_missing"] == 1 and loss["frames_ok"] == len(s.frames) - 1,
              "byte %d: the frame is not decoded: %r" % (at, loss))
        check(re.search(r"CRC mismatch|bad frame (magic|header)|truncated", err),
              "byte %d: message %r" % (at, err))
        check(loss["records_lost_in_transit"] == len(s.record_frames[1][1]),
              "byte %d: lost records %r" % (at, loss))


def t_reordered_frames(t):
    s = Stream(recs=workload(n_iter=3), chunk=4)
    a, b = s.record_frames[1][0], s.record_frames[2][0]
    fr = list(s.frames)
    fr[a], fr[b] = fr[b], fr[a]
    doc, err = t.decode(s.bytes(fr), expect=1)
    check(doc["loss"]["frames_reordered"] == 1 and doc["loss"]["frames_missing"] == 1,
          "%r" % doc["loss"])
    check("backwards" in err, "message: %r" % err)
    # a repeated frame is dropped, not counted twice
    fr = list(s.frames)
    fr.insert(a + 1, fr[a])
    doc, err = t.decode(s.bytes(fr), expect=1)
    check(doc["records"]["count"] == len(s.recs) and doc["loss"]["frames_reordered"] == 1,
          "duplicate: %r" % doc["loss"])


def t_lost_frames(t):
    s = Stream(recs=workload(n_iter=3), chunk=4)
    fi, part, _ = s.record_frames[2]
    fr = s.frames[:fi] + s.frames[fi + 1:]
    doc, err = t.decode(s.bytes(fr), expect=1)
    loss = doc["loss"]
    check(loss["frames_missing"] == 1 and "missing" in err, "missing: %r" % loss)
    check(loss["records_lost_in_transit"] == len(part) and loss["balanced"],
          "records lost in transit: %r" % loss)
    trace = t.path("lost.json")
    rc, _, _ = t.run("mp-trace", "-q", "-o", trace, t.write(s.bytes(fr)))
    with open(trace) as f:
        tr = json.load(f)
    cpu = part[0]["cpu"]
    next_ts = [p for _, p, _ in s.record_frames[3:] if p[0]["cpu"] == cpu][0][0]["ts"]
    marks = [e for e in tr["traceEvents"] if e["name"] == "records lost: %d" % len(part)]
    check(rc == 1 and len(marks) == 1 and round(marks[0]["ts"] * 1000) == next_ts,
          "loss marker %r at %d" % (marks, next_ts))
    check(tr["otherData"]["complete"] is False, "otherData.complete")


def t_absurd_values(t):
    s = Stream(recs=workload(n_iter=2), chunk=4)
    fi, part, _ = s.record_frames[0]
    huge = frame(RECORDS, fi, records_payload(part[0]["cpu"] << 56 | 1000, 0, part,
                                              count=0xffffffff, cpu=part[0]["cpu"]))
    doc, err = t.decode(s.bytes(s.frames[:fi] + [huge] + s.frames[fi + 1:]), expect=1)
    check(doc["loss"]["frames_malformed"] == 1 and "count 4294967295" in err, err)
    fr = list(s.frames)
    fr[fi] = frame(RECORDS, fi, s.payloads[fi][1], length=0xffffffff)
    doc, err = t.decode(s.bytes(fr), expect=1)
    check(doc["loss"]["frames_corrupt"] == 1 and "bad frame header" in err, err)
    st = len(s.frames) - 3
    fr = list(s.frames)
    fr[st] = frame(STATS, st, struct.pack("<II", 0x7fffffff, 0) + b"\0" * 64)
    doc, err = t.decode(s.bytes(fr), expect=1)
    check(doc["loss"]["frames_malformed"] == 1 and doc["stats"] == {}, err)
    fr = list(s.frames)
    fr[1] = frame(TASKS, 1, struct.pack("<II", 0xffffffff, 0xffffffff))
    doc, err = t.decode(s.bytes(fr), expect=1)
    check(doc["loss"]["frames_malformed"] == 1 and "tasks" in err, err)
    fr = list(s.frames)
    fr[0] = frame(META, 0, meta_payload(), version=VERSION + 1)
    doc, err = t.decode(s.bytes(fr), expect=1)
    check(doc["meta"] is None and doc["loss"]["frames_corrupt"] == 1, err)


def t_garbage_and_empty(t):
    doc, err = t.decode(b"", expect=1)
    check("no END" in err and doc["loss"]["frames_ok"] == 0, err)
    rnd = random.Random(3)
    junk = bytes(rnd.randrange(256) for _ in range(20000))
    doc, err = t.decode(junk, expect=1)
    check(doc["loss"]["bytes_skipped"] == len(junk), "%r" % doc["loss"])
    for tool in ("mp-trace", "mp-report"):
        rc, out, _ = t.run(tool, "-q", t.write(junk))
        check(rc == 1 and out, "%s on garbage" % tool)


def t_kernel_loss_in_trace(t):
    s = Stream(lost_in={2: 5})
    doc, _ = t.decode(s.bytes())
    check(doc["loss"]["records_lost_reported"] == 5 and doc["loss"]["lost"] == 5, "lost")
    trace = t.path("kloss.json")
    rc, _, err = t.run("mp-trace", "-o", trace, t.write(s.bytes()))
    check(rc == 0, err)
    with open(trace) as f:
        tr = json.load(f)
    marks = [e for e in tr["traceEvents"] if e["name"] == "records lost: 5"]
    check(len(marks) == 1 and round(marks[0]["ts"] * 1000) == s.record_frames[2][1][0]["ts"],
          "marker %r" % marks)
    od = tr["otherData"]
    check(od["loss"]["records_lost"] == 5 and od["loss"]["written"] == len(s.recs) + 5,
          "otherData %r" % od)


def t_trace_valid_nested_counted(t):
    s = Stream()
    trace = t.path("trace.json")
    rc, _, err = t.run("mp-trace", "-o", trace, t.write(s.bytes()))
    check(rc == 0 and err == "", err)
    with open(trace, encoding="utf-8") as f:
        tr = json.load(f)
    evs = tr["traceEvents"]
    tracks = {}
    counts = {}
    for e in evs:
        check(e["ph"] in "XiCM", "phase %r" % e)
        if e["ph"] == "X":
            tracks.setdefault((e["pid"], e["tid"]), []).append(e)
        if e["ph"] in "Xi" and e.get("cat") == "event":
            counts[e["name"]] = counts.get(e["name"], 0) + 1
    for key, xs in tracks.items():
        check(nested(xs), "slices on %r do not nest" % (key,))
    check(counts == {EVENTS[st["event"]]: st["count"] for st in s.stats},
          "trace counts %r" % counts)
    names = {e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "process_name"}
    check({"bootstrap (task 1)", 'ping "pong" \\ \n<b>& (task 2)', "CPU 0", "CPU 1"} <= names,
          "process names %r" % names)
    check(any(e["ph"] == "C" and e["name"] == "SYSCALL/s" for e in evs), "rate counters")
    check(tr["otherData"]["complete"] is True and tr["otherData"]["slices_clamped"] == 0,
          "otherData %r" % tr["otherData"])
    pf = [e for e in evs if e["name"] == "PAGE_FAULT" and e["cat"] == "event"][0]
    check(pf["args"]["address"].startswith("0x4") and pf["args"]["kind"] == 6, "args %r" % pf)
    sc = [e for e in evs if e["name"] == "SYSCALL" and e["cat"] == "event" and
          e["args"]["trap"] < 0]
    check(sc and sc[0]["args"]["trap"] == -26, "signed trap number")


def t_overlap_clamped(t):
    s = Stream(recs=workload(n_iter=2, overlap=True))
    trace = t.path("overlap.json")
    rc, _, err = t.run("mp-trace", "-o", trace, t.write(s.bytes()))
    check(rc == 0 and "1 partially overlapping" in err, err)
    with open(trace) as f:
        tr = json.load(f)
    check(tr["otherData"]["slices_clamped"] == 1, "clamped count")
    tracks = {}
    for e in tr["traceEvents"]:
        if e["ph"] == "X":
            tracks.setdefault((e["pid"], e["tid"]), []).append(e)
    check(all(nested(xs) for xs in tracks.values()), "not nested after clamping")
    va = [e for e in tr["traceEvents"] if e["name"] == "VM_ALLOC" and e["cat"] == "event"]
    check(round(va[0]["dur"] * 1000) == 500 and va[0]["args"]["clamped"], "clamp %r" % va)
    # with META's TS_END flag, ts is the end of the slice
    s = Stream(recs=workload(n_iter=2), meta_flags=TS_END)
    rc, _, err = t.run("mp-trace", "-o", trace, t.write(s.bytes()))
    with open(trace) as f:
        tr = json.load(f)
    first = [e for e in tr["traceEvents"] if e.get("cat") == "event" and e["ph"] == "X"]
    r0 = [r for r in s.recs if r["flags"] & F_TIMED]
    check(rc == 0 and min(round(e["ts"] * 1000) for e in first) ==
          min(r["ts"] - r["dur"] for r in r0), "TS_END start")


def t_report(t):
    s = Stream(lost_in={1: 3})
    src = t.write(s.bytes())
    html, sj = t.path("report.html"), t.path("stats.json")
    rc, _, err = t.run("mp-report", "-o", html, "--stats-json", sj, "--title", "<T&>", src)
    check(rc == 0, err)
    with open(html, encoding="utf-8") as f:
        page = f.read()
    check(not re.search(r"https?://", page, re.I), "external URL in the report")
    check(not re.search(r"<script|<link|<img|<iframe|\bsrc\s*=|\bhref\s*=", page, re.I),
          "external reference in the report")
    doc, _ = t.decode(s.bytes())
    timed = [n for n, st in doc["stats"].items() if st["max_ns"] > 0]
    instant = [n for n, st in doc["stats"].items() if st["max_ns"] == 0]
    # A chart per event with durations; instant events are named, not drawn.
    check("<svg" in page and page.count("<h3>") == len(timed), "charts")
    for name in instant:
        check(re.search(r"Instant events \(no duration\):[^<]*\b%s\b" % name, page),
              "instant event %s not listed" % name)
    check("&lt;T&amp;&gt;" in page and "ping &quot;pong&quot;" in page, "HTML escaping")
    for name, st in doc["stats"].items():
        row = re.search(r"<tr><th>%s</th>(.*?)</tr>" % name, page)
        check(row, "no row for %s" % name)
        cells = re.findall(r"<td class=n>([^<]*)</td>", row.group(1))
        want = [str(st["count"]), "%.3f" % st["mean_ns"], str(st["p50_ns"]),
                str(st["p95_ns"]), str(st["p99_ns"]), str(st["p999_ns"]), str(st["max_ns"]),
                "%.3f" % st["events_per_s"], str(doc["records"]["per_event"][name])]
        check(cells == want, "%s: %r != %r" % (name, cells, want))
    for label in ("records lost in the kernel (overwritten, resized, reset)</th><td class=n>3<",
                  "records dropped in the kernel (buffer full, saturate mode)</th>"
                  "<td class=n>0<", "frames corrupt</th><td class=n>0<",
                  "written = read + lost + dropped</th><td>holds", "(circular)",
                  "rate limit 0 records/s per CPU (0: none)"):
        check(label in page, "loss counter %r" % label)
    with open(sj) as f:
        stats = json.load(f)
    check(stats["stats"] == doc["stats"] and stats["loss"] == doc["loss"] and
          stats["system"] == doc["system"], "stats.json differs from mp-decode --json")
    check("CPU time per task" in page and "CONTEXT_SWITCH" in page, "per-task CPU")
    # incomplete: the banner, and still both files
    cut = t.write(s.bytes()[:-10])
    rc, _, err = t.run("mp-report", "-o", html, "--stats-json", sj, cut)
    with open(html, encoding="utf-8") as f:
        page = f.read()
    check(rc == 1 and "INCOMPLETE" in page and 'content="false"' in page, err)
    with open(sj) as f:
        check(json.load(f)["complete"] is False, "stats.json complete")


def t_saturate_drops(t):
    """Saturate mode: drops without sequence numbers balance and are reported."""
    s = Stream(mode=SATURATE, rate=1000, lost_in={2: 2}, dropped_in={1: 4, 3: 7},
               drops_only={4: 9})
    drops = 4 + 7 + 9
    doc, _ = t.decode(s.bytes())
    loss = doc["loss"]
    check(loss["balanced"] and loss["records_dropped_reported"] == drops and
          loss["records_lost_reported"] == 2 and loss["records_lost_in_transit"] == 0 and
          loss["records_lost"] == 2 + drops, "loss %r" % loss)
    check(loss["dropped"] == drops and loss["lost"] == 2 and loss["read"] == len(s.recs) and
          loss["written"] == len(s.recs) + 2 + drops, "END totals %r" % loss)
    check(doc["meta"]["buffer_mode"] == "saturate" and doc["meta"]["rate"] == 1000 and
          doc["system"]["buffer_mode"] == "saturate" and doc["system"]["rate"] == 1000 and
          doc["system"]["balanced"], "meta %r system %r" % (doc["meta"], doc["system"]))
    rc, out, _ = t.run("mp-decode", t.write(s.bytes()))
    check(rc == 0 and b"2 lost and %d dropped in the kernel" % drops in out and
          b"+ dropped %d: balanced" % drops in out and
          b"1000 records/s per CPU" in out and b"(saturate)" in out, out.decode())
    # every loss in the trace, where it happened
    trace = t.path("sat.json")
    rc, _, err = t.run("mp-trace", "-o", trace, t.write(s.bytes()))
    check(rc == 0, err)
    with open(trace) as f:
        tr = json.load(f)
    marks = [e for e in tr["traceEvents"] if e.get("cat") == "loss"]
    check(sum(e["args"]["dropped_in_kernel"] for e in marks) == drops and
          sum(e["args"]["lost_in_kernel"] for e in marks) == 2 and
          sum(int(e["name"].split(": ")[1]) for e in marks) == 2 + drops, "marks %r" % marks)
    for k in (1, 3):
        fi, part, _ = s.record_frames[k]
        m = [e for e in marks if round(e["ts"] * 1000) == part[0]["ts"]]
        check(len(m) == 1 and m[0]["args"]["dropped_in_kernel"] == s.dropped_in[k],
              "marker of frame %d: %r" % (k, m))
    counter = [e for e in tr["traceEvents"] if e["name"] == "records lost" and e["ph"] == "C"]
    check(counter[-1]["args"]["total"] == 2 + drops, "counter %r" % counter[-1])
    check(tr["otherData"]["loss"] == loss, "otherData.loss")
    # and in the report
    html = t.path("sat.html")
    rc, _, err = t.run("mp-report", "-o", html, t.write(s.bytes()))
    check(rc == 0, err)
    with open(html, encoding="utf-8") as f:
        page = f.read()
    for label in ("records dropped in the kernel (buffer full, saturate mode)</th>"
                  "<td class=n>%d<" % drops,
                  "records lost (total)</th><td class=n>%d<" % (2 + drops),
                  "dropped (END)</th><td class=n>%d<" % drops,
                  "written = read + lost + dropped</th><td>holds",
                  "rate limit 1000 records/s per CPU", "(saturate)",
                  "buffer mode</th><td>saturate<"):
        check(label in page, "report: %r" % label)
    # a frame with drops lost on the way: its drops still count, from END
    fi, part, _ = s.record_frames[3]
    doc, err = t.decode(s.bytes(s.frames[:fi] + s.frames[fi + 1:]), expect=1)
    check(doc["loss"]["balanced"] and doc["loss"]["records_lost_in_transit"] == len(part) + 7
          and doc["loss"]["records_dropped_reported"] == drops - 7 and
          "reported in no RECORDS frame" in err, "lost frame %r" % doc["loss"])
    fi, d = s.drop_frames[0]
    doc, err = t.decode(s.bytes(s.frames[:fi] + s.frames[fi + 1:]), expect=1)
    check(doc["loss"]["balanced"] and doc["loss"]["records_lost_in_transit"] == d,
          "lost drops-only frame %r" % doc["loss"])


def t_saturate_unbalanced(t):
    """Books that do not balance are rejected, drops or not."""
    kw = dict(mode=SATURATE, lost_in={2: 2}, dropped_in={1: 4}, drops_only={3: 5})
    for what, extra, msg in (("END counts a drop too few", dict(end_dropped_skew=-1),
                              "END only"),
                             ("END counts a drop too many", dict(end_dropped_skew=1),
                              "disagree"),
                             ("written leaves the drops out", dict(end_skew=-9),
                              "END does not balance"),
                             ("written one too many", dict(end_skew=1), "END does not balance")):
        s = Stream(**kw, **extra)
        doc, err = t.decode(s.bytes(), expect=1)
        check(not doc["loss"]["balanced"] and doc["loss"]["frames_malformed"] == 0 and
              msg in err and "do not balance" in err, "%s: %r\n%s" % (what, doc["loss"], err))
    # drops reported as lost while the cursor stays put (the integration bug)
    s = Stream(**kw)
    fi, d = s.drop_frames[0]
    cpu = s.record_frames[3][1][0]["cpu"]
    before = struct.unpack_from("<Q", s.payloads[fi][1])[0]
    fr = list(s.frames)
    fr[fi] = frame(RECORDS, fi, records_payload(before, d, [], cpu=cpu, after=before))
    doc, err = t.decode(s.bytes(fr), expect=1)
    check(doc["loss"]["frames_malformed"] == 1 and "do not span" in err, err)


def t_version1_stream(t):
    """A version 1 stream (no dropped fields) is still read."""
    s = Stream(version=1, lost_in={2: 5})
    doc, err = t.decode(s.bytes())
    check(doc["loss"]["balanced"] and doc["loss"]["records_lost_reported"] == 5 and
          doc["loss"]["dropped"] == 0 and doc["records"]["count"] == len(s.recs), err)
    fi = s.record_frames[1][0]
    fr = list(s.frames)
    fr[fi] = frame(RECORDS, fi, s.payloads[fi][1], version=2)  # 8 bytes short for version 2
    doc, err = t.decode(s.bytes(fr), expect=1)
    check(doc["loss"]["frames_malformed"] == 1, err)


def t_usage_errors(t):
    src = t.write(Stream(recs=workload(n_iter=1)).bytes())
    for tool in ("mp-decode", "mp-trace", "mp-report"):
        rc, out, _ = t.run(tool, "--help")
        check(rc == 0 and b"usage:" in out, "%s --help" % tool)
        rc, _, err = t.run(tool, "--bogus")
        check(rc == 2 and "--help" in err, "%s --bogus" % tool)
        rc, _, err = t.run(tool, src, src)
        check(rc == 2 and "one input" in err, "%s two inputs" % tool)
        out = t.path("none.out")
        rc, _, err = t.run(tool, "-o", out, t.path("no-such-file"))
        check(rc == 2 and "cannot read" in err and not os.path.exists(out), "%s missing" % tool)
        rc, _, err = t.run(tool, "-o", out, t.tmp)
        check(rc == 2 and not os.path.exists(out), "%s directory: %s" % (tool, err))
        bad = os.path.join(t.tmp, "no-dir", "x.out")
        rc, _, err = t.run(tool, "-o", bad, src)
        check(rc == 2 and "cannot write" in err, "%s unwritable: %s" % (tool, err))
        # a write that fails half-way (file size limit): no file, no .tmp
        out = t.path("big.out")
        rc, _, err = t.run(tool, "-o", out, src, fsize=512)
        check(rc == 2 and not os.path.exists(out) and not os.path.exists(out + ".tmp"),
              "%s half-written: rc %d, %s" % (tool, rc, err))
    rc, _, err = t.run("mp-trace", "-w", "0", src)
    check(rc == 2 and "window" in err, "mp-trace -w 0")
    rc, _, err = t.run("mp-report", "-o", t.path("a"), "--stats-json", t.path("a"), src)
    check(rc == 2, "mp-report same file twice")
    sj, html = t.path("half.json"), t.path("half.html")
    rc, _, err = t.run("mp-report", "-o", html, "--stats-json", sj, src, fsize=8192)
    check(rc == 2 and not os.path.exists(sj) and not os.path.exists(html),
          "report half-written: %s" % err)


def t_random_payloads_with_valid_crc(t):
    """Payload bytes damaged behind a correct CRC: the checks behind the
    framing must hold; every output stays valid JSON and nested."""
    rnd = random.Random(9)
    s = Stream(recs=workload(n_iter=2, overlap=True), chunk=5)
    for _ in range(40):
        frames = []
        for seq, (ftype, payload) in enumerate(s.payloads):
            p = bytearray(payload)
            if p and rnd.random() < 0.3:
                for _ in range(rnd.randrange(1, 4)):
                    p[rnd.randrange(len(p))] = rnd.choice([0, 0xff, rnd.randrange(256)])
            frames.append(frame(ftype, seq, bytes(p)))
        src = t.write(b"".join(frames), "fuzz.mps")
        for tool, out in (("mp-decode", "fz.json"), ("mp-trace", "fz.trace"),
                          ("mp-report", "fz.html")):
            extra = ["--json"] if tool == "mp-decode" else []
            rc, _, err = t.run(tool, "-q", "-o", t.path(out), src, *extra)
            check(rc in (0, 1) and os.path.exists(t.path(out)), "%s: %d %s" % (tool, rc, err))
        with open(t.path("fz.json"), encoding="utf-8") as f:
            json.load(f)
        with open(t.path("fz.trace"), encoding="utf-8") as f:
            tr = json.load(f)
        tracks = {}
        for e in tr["traceEvents"]:
            if e["ph"] == "X":
                tracks.setdefault((e["pid"], e["tid"]), []).append(e)
        check(all(nested(x) for x in tracks.values()), "not nested")


CASES = [t_clean_round_trip, t_truncated_every_byte, t_corrupted_bytes, t_reordered_frames,
         t_lost_frames, t_absurd_values, t_garbage_and_empty, t_kernel_loss_in_trace,
         t_trace_valid_nested_counted, t_overlap_clamped, t_report, t_saturate_drops,
         t_saturate_unbalanced, t_version1_stream, t_usage_errors,
         t_random_payloads_with_valid_crc]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bindir", required=True, help="where mp-decode & co. are")
    args = ap.parse_args()
    for tool in ("mp-decode", "mp-trace", "mp-report"):
        if not os.access(os.path.join(args.bindir, tool), os.X_OK):
            print("test_tools.py: %s not built in %s (make check builds it)" %
                  (tool, args.bindir), file=sys.stderr)
            return 2
    failed = 0
    print("KTAP version 1\n1..%d" % len(CASES))
    with tempfile.TemporaryDirectory(prefix="mptools.") as tmp:
        t = Tools(args.bindir, tmp)
        for i, case in enumerate(CASES, 1):
            name = case.__name__[2:]
            try:
                case(t)
                print("ok %d %s" % (i, name))
            except Failed as e:
                failed += 1
                for line in str(e).splitlines() or [""]:
                    print("# " + line)
                print("not ok %d %s" % (i, name))
            sys.stdout.flush()
    print("# %d passed, %d failed" % (len(CASES) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
