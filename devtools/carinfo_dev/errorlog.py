"""Error-log discipline, after httpd's pyhttpd HttpdErrorLog.

The log is read from a remembered file offset (the "mark"). Lines since the
mark at [*:warn] or worse, and crash markers (segfaults, sanitizer reports),
are "missed" unless declared: a test that provokes errors declares them with
ignore_recent(lognos=[...], matches=[...]); a suite tolerates tags with
add_ignored_lognos(). The test fixture calls check() after every test.

Lines look like httpd's:
  [Sat Nov 22 05:07:00.123456 2026] [carinfo:error] [pid 7:tid 9] [client
  127.0.0.1:4242] CI10003: ...
and the relay writes the same shape ("[carinfo-relay:error] [pid N] ...").
"""
import os
import re
import time

LINE_RE = re.compile(r"^\[[^\]]*\] \[([^\]:]*):(\w+)\] ")
LOGNO_RE = re.compile(r"\b((?:AH|CI)\d{5})\b")
BAD_LEVELS = ("emerg", "alert", "crit", "error", "warn")
CRASH_MARKERS = ("Segmentation fault", "exit signal", "AddressSanitizer",
                 "LeakSanitizer", "UndefinedBehaviorSanitizer",
                 "runtime error:")


def _as_regexes(items):
    return [re.compile(x) if isinstance(x, str) else x for x in items or ()]


class ErrorLog:
    """One error log file, read incrementally from a mark."""

    def __init__(self, path):
        self.path = path
        self._mark = 0
        self._ignored_lognos = set()      # suite-wide
        self._ignored_patterns = []       # suite-wide regexes
        self._recent_lognos = set()       # until the next mark()
        self._recent_patterns = []        # until the next mark()

    # ------------------------------------------------------------ reading
    def position(self):
        """The current end of the file (an offset for lines_since())."""
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def lines_since(self, offset):
        """Complete lines written after `offset` (a position())."""
        try:
            with open(self.path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if offset > size:       # truncated or replaced
                    offset = 0
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return []
        text = data.decode("utf-8", "replace")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        elif lines:
            lines.pop()                 # a partial last line: not yet
        return lines

    def lines_since_mark(self):
        return self.lines_since(self._mark)

    def tail(self, n=40):
        try:
            with open(self.path, "rb") as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - 64 * 1024))
                data = f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return "(no %s)" % self.path
        return "\n".join(data.splitlines()[-n:])

    def wait_for(self, pattern, offset=None, timeout=3.0, count=1):
        """Lines since `offset` (default: the mark) matching `pattern`
        (regex or plain text), polling until there are at least `count` of
        them or `timeout` passed. Returns the matching lines."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        start = self._mark if offset is None else offset
        deadline = time.monotonic() + timeout
        while True:
            found = [ln for ln in self.lines_since(start) if rx.search(ln)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    # ------------------------------------------------------------ judging
    def mark(self):
        """Forget everything before now, including ignore_recent()."""
        self._mark = self.position()
        self._recent_lognos = set()
        self._recent_patterns = []

    def add_ignored_lognos(self, lognos):
        """Tolerate these tags (e.g. "AH00558") for the rest of the run."""
        self._ignored_lognos.update(lognos)

    def add_ignored_patterns(self, patterns):
        self._ignored_patterns.extend(_as_regexes(patterns))

    def ignore_recent(self, lognos=None, matches=None):
        """Declare lines since the mark (until the next mark) as expected:
        those carrying one of `lognos` ("CI10004", or a regex such as
        r"AH006\\d\\d") or matching one of the `matches` regexes."""
        for tag in lognos or ():
            if isinstance(tag, str) and re.fullmatch(r"(AH|CI)\d{5}", tag):
                self._recent_lognos.add(tag)
            else:
                self._recent_patterns.append(
                    re.compile(r"\b(?:%s)\b" % tag if isinstance(tag, str)
                               else tag.pattern))
        self._recent_patterns.extend(_as_regexes(matches))

    @staticmethod
    def is_bad(line):
        """Whether a line is at warn or worse, or reports a crash."""
        if any(m in line for m in CRASH_MARKERS):
            return True
        m = LINE_RE.match(line)
        return bool(m and m.group(2) in BAD_LEVELS)

    def _is_ignored(self, line):
        tags = set(LOGNO_RE.findall(line))
        if tags & (self._ignored_lognos | self._recent_lognos):
            return True
        return any(rx.search(line) for rx in
                   self._ignored_patterns + self._recent_patterns)

    def get_missed(self):
        """The unexpected bad lines since the mark."""
        return [ln for ln in self.lines_since_mark()
                if self.is_bad(ln) and not self._is_ignored(ln)]

    def check(self):
        """get_missed(), then mark(): what the per-test fixture asserts
        is empty."""
        missed = self.get_missed()
        self.mark()
        return missed
