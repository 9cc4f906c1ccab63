"""KTAP parsing and run classification for the machperf test harness.

Design note
-----------
The kernel prints KTAP version 1 on its serial console, mixed with ordinary
boot and log output.  The parser is therefore *grammar driven*: a line is
KTAP only if, after stripping its indentation, it is one of

    KTAP version N | TAP version N      block header
    # Subtest: NAME                     block name (may come before the header)
    1..N                                plan
    ok N [- ]DESC [# SKIP|TODO reason]  result
    not ok N [- ]DESC [# ...]           result
    # anything                          diagnostic

and, for headers, plans and results, only if its indentation fits the block
structure that is open.  Everything else is noise and is ignored.  Nesting
is by indentation and generic: a block at indent k+4 (or deeper) is a
subtest of the case whose result line later appears at indent k.  Suites,
their cases, and user programs' own KTAP inside a case all nest the same way.

The units counted are *leaf cases* (results with no subtests).  A case with
subtests contributes its leaves; if it says "not ok" although none of its
leaves failed (say, a suite-level leak check), it counts as one failed unit
so that a failure is never lost.

Two markers belong to the ktest framework rather than to KTAP:

    # ktest totals: pass:P fail:F skip:S   the kernel's own leaf counts
    # ktest done                            every selected suite has finished

and a panic is any line containing "KERNEL PANIC:".

classify() combines the parse with how QEMU ended (exit code, or killed at a
timeout) into exactly one classification; see its docstring.

Python 3.11 standard library only; imported by scripts/ktest-run.py and
scripts/check.py.
"""

import re

PANIC_MARKER = "KERNEL PANIC:"

# QEMU's exit status for isa-debug-exit writes of 0x10 and 0x20: (v << 1) | 1.
EXIT_PASS = 33
EXIT_FAIL = 65

CLASSIFICATIONS = ("pass", "fail", "panic", "hang", "boot-timeout", "crash",
                   "inconsistent")

_RE_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_]|c)")
_RE_VERSION = re.compile(r"^K?TAP version (\d+)\s*$")
_RE_SUBTEST = re.compile(r"^#\s*Subtest:\s*(.*?)\s*$")
_RE_PLAN = re.compile(r"^1\.\.(\d+)(?:\s*#.*)?\s*$")
_RE_RESULT = re.compile(r"^(ok|not ok) (\d+)(?:\s+(.*?))?\s*$")
_RE_DIRECTIVE = re.compile(r"(?:^|\s)#\s*(SKIP|TODO)\b\s*(.*)$", re.IGNORECASE)
_RE_TOTALS = re.compile(r"^#\s*ktest totals:\s*(.*?)\s*$")
_RE_DONE = re.compile(r"^#\s*ktest done\s*$")
_RE_SUMMARY = re.compile(
    r"^(?:\S+:\s*)?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$")


class Case:
    """One result line: `ok N name` or `not ok N name`."""

    def __init__(self, number, name, ok, directive, reason, lineno):
        self.number = number
        self.name = name
        self.ok = ok
        self.directive = directive      # None, "SKIP" or "TODO"
        self.reason = reason
        self.lineno = lineno
        self.diagnostics = []           # "# ..." lines just before the result
        self.children = []              # Blocks: its subtests


class Block:
    """A KTAP document or subtest: a plan and a list of results."""

    def __init__(self, indent, lineno, name=None, versioned=False):
        self.indent = indent
        self.lineno = lineno
        self.name = name
        self.versioned = versioned
        self.plan = None
        self.results = []
        self.pending = []       # closed subtest blocks waiting for our result
        self.orphans = []       # subtest blocks whose result never came
        self.diag = []          # diagnostics not yet attached to a result
        self.plan_line = None

    def fresh(self):
        return self.plan is None and not self.results and not self.pending


class Counts:
    def __init__(self, passed=0, failed=0, skipped=0):
        self.passed = passed
        self.failed = failed
        self.skipped = skipped

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped

    def as_dict(self):
        return {"passed": self.passed, "failed": self.failed,
                "skipped": self.skipped}

    def __eq__(self, other):
        return self.as_dict() == other.as_dict()

    def __repr__(self):
        return "Counts(%d, %d, %d)" % (self.passed, self.failed, self.skipped)


def summary_line(counts):
    """The plain closing line: 'N passed, N failed[, N skipped]'."""
    s = "%d passed, %d failed" % (counts.passed, counts.failed)
    if counts.skipped:
        s += ", %d skipped" % counts.skipped
    return s


def parse_summary_line(line):
    """Counts from a 'N passed, N failed[, N skipped]' line, else None."""
    m = _RE_SUMMARY.match(line.strip())
    if not m:
        return None
    return Counts(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


class Parse:
    """Everything read from one log.  Build it with parse_text/parse_lines."""

    def __init__(self):
        self.docs = []          # top-level Blocks
        self.stack = []         # open Blocks, outermost first
        self.nlines = 0
        self.nbytes = 0
        self.ktap_seen = False
        self.done_line = None           # line number of "# ktest done"
        self.open_at_done = []          # block paths still open at done
        self.totals = None              # dict from "# ktest totals:"
        self.totals_text = None
        self.panic = None               # (lineno, text from the marker on)
        self.where_at_panic = None
        self.where_at_end = None        # where(), just before finish()
        self.last_completed = None      # (path, status, lineno)
        self.structure_problems = []    # found while reading
        self.leaves = []                # filled by finish()
        self.counts = Counts()
        self.kernel_counts = Counts()   # results one level inside top-level suites
        self.problems = []              # all structural problems, by finish()
        self.last_lines = []

    # ---- reading -------------------------------------------------------

    def feed(self, raw):
        self.nlines += 1
        n = self.nlines
        line = raw.rstrip("\r\n").replace("\r", "")
        if "\x1b" in line:
            line = _RE_ANSI.sub("", line)
        self.last_lines.append(line)
        if len(self.last_lines) > 40:
            del self.last_lines[0]
        if PANIC_MARKER in line and self.panic is None:
            self.panic = (n, line[line.index(PANIC_MARKER):].strip())
            self.where_at_panic = self.where()
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        stripped = stripped.rstrip()
        if not stripped:
            return
        if stripped.startswith("#"):
            self._diagnostic(indent, stripped, n)
            return
        m = _RE_VERSION.match(stripped)
        if m:
            self._header(indent, n)
            return
        m = _RE_PLAN.match(stripped)
        if m:
            self._plan(indent, int(m.group(1)), n)
            return
        m = _RE_RESULT.match(stripped)
        if m:
            self._result(indent, m, n)

    def _top(self):
        return self.stack[-1] if self.stack else None

    def _close_deeper(self, indent):
        """Close open blocks nested deeper than indent."""
        while self.stack and self.stack[-1].indent > indent:
            blk = self.stack.pop()
            self._closed(blk)

    def _closed(self, blk):
        if blk.pending:
            # Subtests whose own result line never came.
            blk.orphans.extend(blk.pending)
            blk.pending = []
        if self.stack:
            parent = self.stack[-1]
            parent.pending.append(blk)
            # Diagnostics after a subtest's last case (say, a leak check)
            # explain the parent's result line for it.
            parent.diag.extend(blk.diag)
            blk.diag = []
        else:
            self.docs.append(blk)

    def _push(self, blk):
        self.stack.append(blk)
        self.ktap_seen = True

    def _header(self, indent, n):
        top = self._top()
        if top is not None and top.indent > indent:
            self._close_deeper(indent)
            top = self._top()
        if top is None or indent > top.indent:
            self._push(Block(indent, n, versioned=True))
        elif top.fresh() and not top.versioned:
            top.versioned = True        # "# Subtest:" came first
        else:
            # A second document, or a case with several subtest blocks
            # (e.g. two user programs in one case).
            self._closed(self.stack.pop())
            self._push(Block(indent, n, versioned=True))

    def _diagnostic(self, indent, text, n):
        if _RE_DONE.match(text):
            if self.done_line is None:
                self.done_line = n
                self.open_at_done = [self._block_path(b)
                                     for b in self.stack[1:]]
            return
        m = _RE_TOTALS.match(text)
        if m:
            self.totals_text = text
            self.totals = {}
            for key, val in re.findall(r"(\w+)\s*:\s*(\d+)", m.group(1)):
                self.totals[key.lower()] = int(val)
            return
        m = _RE_SUBTEST.match(text)
        top = self._top()
        if m:
            if top is not None and top.indent > indent:
                self._close_deeper(indent)
                top = self._top()
            if top is not None and indent == top.indent and top.fresh() \
                    and top.name is None:
                top.name = m.group(1)
                return
            if top is None or indent > top.indent:
                self._push(Block(indent, n, name=m.group(1)))
                return
        # Plain diagnostic: belongs to the innermost block at this indent.
        for blk in reversed(self.stack):
            if blk.indent <= indent:
                blk.diag.append(text)
                return

    def _plan(self, indent, count, n):
        top = self._top()
        if top is not None and top.indent > indent:
            self._close_deeper(indent)
            top = self._top()
        if top is None or indent > top.indent:
            self._push(Block(indent, n))
            top = self._top()
        if top.indent != indent:
            return
        if top.plan is not None:
            self.structure_problems.append(
                "line %d: second plan 1..%d in %s" %
                (n, count, self._block_path(top)))
            return
        top.plan = count
        top.plan_line = n

    def _result(self, indent, m, n):
        if not any(b.indent == indent for b in self.stack):
            return  # fits no open block: noise
        self._close_deeper(indent)
        blk = self._top()
        ok = m.group(1) == "ok"
        desc = m.group(3) or ""
        directive = reason = None
        d = _RE_DIRECTIVE.search(desc)
        if d:
            directive = d.group(1).upper()
            reason = d.group(2).strip()
            desc = desc[:d.start()].rstrip()
        if desc.startswith("- "):
            desc = desc[2:]
        case = Case(int(m.group(2)), desc.strip(), ok, directive, reason, n)
        case.diagnostics = blk.diag
        blk.diag = []
        case.children = blk.pending
        blk.pending = []
        blk.results.append(case)
        path = self._case_path(blk, case)
        self.last_completed = (path, self._status(case), n)

    # ---- paths and positions -------------------------------------------

    def _live_names(self, upto):
        """Names of the open subtest blocks down to upto (the enclosing
        cases' names, known before their result lines from '# Subtest:')."""
        names = []
        for b in self.stack[1:]:
            if b.name:
                names.append(b.name)
            if b is upto:
                break
        return names

    def _block_path(self, blk):
        names = self._live_names(blk) if blk in self.stack else []
        return ".".join(names) or blk.name or ("block at line %d" % blk.lineno)

    def _case_path(self, blk, case):
        return ".".join(self._live_names(blk) +
                        [case.name or "#%d" % case.number])

    @staticmethod
    def _status(case):
        if case.directive in ("SKIP", "TODO"):
            return "skip"
        return "pass" if case.ok else "fail"

    def where(self):
        """Where the run is now: the open suites and the case under way."""
        if not self.stack:
            return None
        blk = self.stack[-1]
        done = len(blk.results)
        path = ".".join(self._live_names(blk)) or "the top level"
        desc = "in %s, after %d of %s results" % (
            path, done, blk.plan if blk.plan is not None else "?")
        if blk.plan is None or done < blk.plan:
            desc += " (case %d was running)" % (done + 1)
        return desc

    # ---- finishing -----------------------------------------------------

    def finish(self):
        self.where_at_end = self.where()
        while self.stack:
            self._closed(self.stack.pop())
        self.problems = list(self.structure_problems)
        self.leaves = []
        self.counts = Counts()
        for doc in self.docs:
            self.counts.add(self._walk_block(doc, ""))
        # The kernel's totals line counts its own cases (results inside a
        # top-level suite), which differ from the leaves when a case runs
        # a user program that prints KTAP of its own.
        self.kernel_counts = Counts()
        for doc in self.docs:
            for suite in doc.results:
                for child in suite.children:
                    for case in child.results:
                        status = self._status(case)
                        self.kernel_counts.add(Counts(
                            int(status == "pass"), int(status == "fail"),
                            int(status == "skip")))
        if self.done_line is not None:
            for p in self.open_at_done:
                self.problems.append(
                    "subtest %s was still open at '# ktest done'" % p)
        return self

    def _walk_block(self, blk, prefix):
        counts = Counts()
        label = blk.name or (prefix if prefix else "top level")
        if blk.plan is None:
            self.problems.append("%s: no plan line (1..N)" % label)
        elif blk.plan != len(blk.results):
            self.problems.append("%s: plan says %d cases, %d results" %
                                 (label, blk.plan, len(blk.results)))
        for i, case in enumerate(blk.results, 1):
            if case.number != i:
                self.problems.append("%s: result numbered %d, expected %d" %
                                     (label, case.number, i))
            counts.add(self._walk_case(case, prefix))
        for orphan in blk.orphans + blk.pending:
            name = orphan.name or ("block at line %d" % orphan.lineno)
            self.problems.append("%s: subtest %s has no result line" %
                                 (label, name))
            counts.add(self._walk_block(
                orphan, (prefix + "." if prefix else "") + name))
        return counts

    def _walk_case(self, case, prefix):
        path = (prefix + "." if prefix else "") + (case.name or
                                                   "#%d" % case.number)
        status = self._status(case)
        if not case.children:
            self.leaves.append({"name": path, "result": status,
                                "line": case.lineno,
                                "reason": case.reason,
                                "diagnostics": case.diagnostics})
            return Counts(int(status == "pass"), int(status == "fail"),
                          int(status == "skip"))
        counts = Counts()
        for child in case.children:
            if child.name and case.name and child.name != case.name:
                self.problems.append(
                    "%s: subtest is named '%s' but its result says '%s'" %
                    (path, child.name, case.name))
            counts.add(self._walk_block(child, path))
        if status == "fail" and counts.failed == 0:
            # Failed as a whole (e.g. a leak check after its cases).
            self.leaves.append({"name": path, "result": "fail",
                                "line": case.lineno, "reason": None,
                                "diagnostics": case.diagnostics})
            counts.failed += 1
        elif status == "pass" and counts.failed:
            self.problems.append("%s: ok, but %d of its cases failed" %
                                 (path, counts.failed))
        return counts


def parse_lines(lines):
    p = Parse()
    for line in lines:
        p.feed(line)
    return p.finish()


def parse_text(text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    p = Parse()
    p.nbytes = len(text)
    for line in text.splitlines():
        p.feed(line)
    return p.finish()


class Verdict:
    """The classification of one run, with what explains it."""

    def __init__(self, classification, counts, reasons, parse):
        self.classification = classification
        self.counts = counts
        self.reasons = reasons
        self.parse = parse

    def as_dict(self):
        p = self.parse
        return {
            "classification": self.classification,
            "counts": self.counts.as_dict(),
            "reasons": self.reasons,
            "panic": p.panic[1] if p.panic else None,
            "panic_line": p.panic[0] if p.panic else None,
            "where_at_panic": p.where_at_panic,
            "where": p.where_at_end,
            "last_completed": p.last_completed[0] if p.last_completed
            else None,
            "done_seen": p.done_line is not None,
            "totals": p.totals,
            "problems": p.problems,
            "cases": p.leaves,
        }


def _exit_name(code):
    if code == EXIT_PASS:
        return "33 (guest wrote 0x10: success)"
    if code == EXIT_FAIL:
        return "65 (guest wrote 0x20: failure)"
    if code == 0:
        return "0 (no debug-exit write: triple fault or reset with " \
               "-no-reboot, or QEMU quit)"
    if code is not None and code < 0:
        return "%d (QEMU killed by signal %d)" % (code, -code)
    if code is not None and code & 1 and code > 1:
        return "%d (guest wrote 0x%x to the debug-exit port)" % (
            code, code >> 1)
    return "%s (QEMU error)" % code


def classify(parse, exit_code=None, timed_out=False):
    """Classify a run.

    parse      a finished Parse of the serial log
    exit_code  QEMU's exit status (ignored when timed_out)
    timed_out  QEMU was killed at a timeout

    Order of precedence:
      panic         a KERNEL PANIC: line, whatever else happened
      boot-timeout  killed, and the log is empty
      hang          killed after output began
      crash         QEMU exited without '# ktest done', or with a code
                    other than 33/65
      inconsistent  done, but the KTAP structure, the totals line or the
                    exit code disagree with the results
      fail          done, some leaf not ok, totals agree, exit 65
      pass          done, every leaf ok/skip, totals agree, exit 33
    """
    c = parse.counts
    reasons = []
    if parse.panic:
        reasons.append("panic at log line %d: %s" % parse.panic)
        if parse.where_at_panic:
            reasons.append("panicked " + parse.where_at_panic)
        if parse.last_completed:
            reasons.append("last completed case: %s (%s)" %
                           parse.last_completed[:2])
        if not timed_out and exit_code not in (EXIT_FAIL, None):
            reasons.append("QEMU exit status " + _exit_name(exit_code))
        return Verdict("panic", c, reasons, parse)
    if timed_out:
        if parse.nlines == 0 and parse.nbytes == 0:
            reasons.append("no serial output before the boot timeout")
            return Verdict("boot-timeout", c, reasons, parse)
        if parse.done_line is not None:
            reasons.append("'# ktest done' was printed but QEMU did not exit "
                           "(the kernel did not write to the debug-exit port)")
        else:
            reasons.append("no '# ktest done' before the timeout")
            where = parse.where_at_end
            if where:
                reasons.append("hung " + where)
        if parse.last_completed:
            reasons.append("last completed case: %s (%s)" %
                           parse.last_completed[:2])
        else:
            reasons.append("no test case had completed")
        return Verdict("hang", c, reasons, parse)
    if parse.done_line is None:
        reasons.append("QEMU exited with status %s before '# ktest done'" %
                       _exit_name(exit_code))
        if not parse.ktap_seen:
            reasons.append("no KTAP output at all" if parse.nlines
                           else "no serial output at all")
        elif parse.last_completed:
            reasons.append("last completed case: %s (%s)" %
                           parse.last_completed[:2])
        where = parse.where_at_end
        if where:
            reasons.append("stopped " + where)
        return Verdict("crash", c, reasons, parse)
    if exit_code not in (EXIT_PASS, EXIT_FAIL):
        reasons.append("'# ktest done' seen, but QEMU exit status " +
                       _exit_name(exit_code))
        return Verdict("crash", c, reasons, parse)
    problems = list(parse.problems)
    if not parse.ktap_seen:
        problems.append("'# ktest done' without any KTAP output")
    if parse.totals is None:
        problems.append("no '# ktest totals:' line")
    else:
        said = Counts(parse.totals.get("pass", -1),
                      parse.totals.get("fail", -1),
                      parse.totals.get("skip", 0))
        if said != c and said != parse.kernel_counts:
            problems.append("totals line says pass:%d fail:%d skip:%d, "
                            "parsed %d passed, %d failed, %d skipped" %
                            (said.passed, said.failed, said.skipped,
                             c.passed, c.failed, c.skipped))
    if c.failed and exit_code == EXIT_PASS:
        problems.append("%d case(s) failed but QEMU exit status %s" %
                        (c.failed, _exit_name(exit_code)))
    if not c.failed and exit_code == EXIT_FAIL:
        problems.append("no case failed but QEMU exit status %s" %
                        _exit_name(exit_code))
    if problems:
        return Verdict("inconsistent", c, problems, parse)
    if c.failed:
        for leaf in parse.leaves:
            if leaf["result"] == "fail":
                reasons.append("not ok: %s (log line %d)" %
                               (leaf["name"], leaf["line"]))
                for d in leaf["diagnostics"]:
                    reasons.append("    " + d)
        return Verdict("fail", c, reasons, parse)
    return Verdict("pass", c, reasons, parse)
