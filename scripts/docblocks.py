#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Numbers in README.md and docs/ that can't go stale.

A measured number may appear in a document only inside a block that a
program writes:

    <!-- NAME:begin -->                 written from a fresh run by
    ...                                 scripts/trace_tables.py, by a test
    <!-- NAME:end -->                   (TEST_BLOCKS) or from a committed
                                        file (FILE_BLOCKS, below); each
                                        checks its blocks

    <!-- NAME:begin from FILE... -->    quoted from files a slow run wrote
    ...                                 and that are committed (docs/perf/):
    <!-- NAME:end -->                   every number inside must occur in
                                        one of them

Everything outside blocks is prose. --lint finds each number in the prose
of the documents tests/docs/numbers.txt names and fails on any that file
does not allow (spec facts: the DART page, the aperture, targets) and,
for a document that describes a program ("check DOC from SOURCES"), that
the program's source does not hold; and on any quoted number missing from
its source.

Also the splicing that the generators share (splice) and the blocks made
from committed files (--write/--check: FILE_BLOCKS, e.g. restart costs
from docs/perf/restart-cost.txt).

usage: docblocks.py --lint [RULES] | --write | --check
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "tests", "docs", "numbers.txt")

BEGIN = re.compile(r"^\s*<!-- ([a-z0-9-]+):begin(?: from ([^>]*?))? -->\s*$")

# A number: digits with thousands commas or a decimal point, optionally a
# unit. Digits glued to letters, dots, slashes, dashes or colons (h100,
# arm64, 6.1.0-57, perf/e2e-..., PCI 10de:2330 at 0000:00:06.0) are names,
# not numbers.
NUMBER = re.compile(r"(?<![\w./\-+^§#@:])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
                    r"(?:\s?(KiB|MiB|GiB|TiB|ns|µs|us|ms|s|x|%|B)\b)?"
                    r"(?![\w/^]|[.\-:]\w)")


def splice(text, name, lines):
    """Replace the body of block NAME with LINES; None when it has none."""
    begin = re.compile(r"^[ \t]*<!-- %s:begin(?: from [^>]*?)? -->[ \t]*$"
                       % re.escape(name), re.M)
    m = begin.search(text)
    end = "<!-- %s:end -->" % name
    j = text.find(end, m.end()) if m else -1
    if not m or j < 0:
        return None
    return text[:m.end()] + "\n" + "\n".join(lines) + "\n" + text[j:]


def number_key(tok):
    """The value a number token stands for, thousands commas dropped."""
    return tok.replace(",", "")


def prose_and_blocks(text, layout_offsets=False):
    """(prose lines, blocks): prose as (line number, text) without code,
    links' targets and comments; blocks as (name, sources, first line,
    body lines)."""
    prose, blocks = [], []
    block, fence, span = None, False, False
    offsets = False
    for n, line in enumerate(text.split("\n"), 1):
        if block:
            if line.strip() == "<!-- %s:end -->" % block[0]:
                blocks.append(block)
                block = None
            else:
                block[3].append(line)
            continue
        m = BEGIN.match(line)
        if m:
            block = (m.group(1), (m.group(2) or "").split(), n, [])
            continue
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if fence or line.startswith("    ") or line.startswith("\t"):
            continue
        # a table of a layout ("| off | ..."): its first column is offsets
        cells = line.split("|")
        if line.startswith("|") and not offsets:
            offsets = cells[1].strip() in ("off", "offset")
        elif not line.startswith("|"):
            offsets = False
        if layout_offsets and offsets and len(cells) > 2:
            line = "|" + "|".join(cells[2:])
        # a code span may run over lines: cut what lies inside backticks
        parts = line.split("`")
        text = " ".join(p for k, p in enumerate(parts) if (k % 2 == 1) == span)
        span ^= len(parts) % 2 == 0
        prose.append((n, strip_markup(text)))
    if block:
        blocks.append(block)
        prose.append((block[2], "<!-- %s:begin has no end -->" % block[0]))
    return prose, blocks


def strip_markup(line):
    line = re.sub(r"`[^`]*`", " ", line)             # code spans
    line = re.sub(r"\]\([^)]*\)", "]", line)          # link targets
    line = re.sub(r"<!--.*?-->", " ", line)
    line = re.sub(r"https?://\S+", " ", line)
    line = re.sub(r"^#+\s+[\d.]+\s", " ", line)      # section numbers
    line = re.sub(r"^\s*\d+\.\s", " ", line)         # ordered lists
    return line


def numbers(line):
    for m in NUMBER.finditer(line):
        unit = m.group(2) or ""
        yield m.group(1), ("%s %s" % (m.group(1), unit)).strip()


class Rules:
    """tests/docs/numbers.txt: the documents checked and the numbers their
    prose may state. Lines: "check FILE", "allow NUMBER [UNIT] -- why",
    "allow-in FILE NUMBER [UNIT] -- why", "allow-rule RULE -- why"; a
    check line may add "from SOURCE-GLOB...": the code the document
    describes, whose numbers its prose may state. "writer NAME COMMAND
    -- why": the run that writes a file blocks use, or a block;
    "bench-only FILE -- why": a document whose blocks make bench writes."""

    def __init__(self, path):
        self.docs, self.allowed, self.local = [], set(), set()
        self.rules = set()
        self.rules_read = set()
        self.sources = {}
        self.writers, self.bench_only = {}, set()
        with open(path) as f:
            for raw in f:
                line = raw.split("--", 1)[0].strip()
                if not line or line.startswith("#"):
                    continue
                word, _, rest = line.partition(" ")
                rest = rest.strip()
                if word == "check":
                    doc, _, srcs = rest.partition(" from ")
                    self.docs.append(doc.strip())
                    self.sources[doc.strip()] = sorted(
                        os.path.relpath(g, ROOT) for pat in srcs.split()
                        for g in glob.glob(os.path.join(ROOT, pat))
                        if os.path.isfile(g))
                elif word == "allow":
                    self.allowed.add(self.key(rest))
                elif word == "allow-rule" and rest in self.READING_RULES:
                    self.rules_read.add(rest)
                elif word == "allow-rule" and rest in self.RULES:
                    self.rules.add(rest)
                elif word == "allow-in":
                    doc, _, num = rest.partition(" ")
                    self.local.add((doc, self.key(num)))
                elif word == "writer":
                    what, _, command = rest.partition(" ")
                    self.writers[what] = command.strip()
                elif word == "bench-only":
                    self.bench_only.add(rest)
                else:
                    sys.exit("%s: what is '%s'?" % (path, raw.strip()))

    @staticmethod
    def key(written):
        num, _, unit = written.strip().partition(" ")
        return ("%s %s" % (number_key(num), unit.strip())).strip()

    @staticmethod
    def power_of_two_size(key):
        """4 KiB, 2 MiB, 256 MiB: a size of 2^n units someone chose."""
        num, _, unit = key.partition(" ")
        return unit in ("KiB", "MiB", "GiB", "TiB") and num.isdigit() and \
            int(num) > 0 and int(num) & (int(num) - 1) == 0

    RULES = {"power-of-two-size": power_of_two_size.__func__}
    # applied while reading prose, not per number
    READING_RULES = ("layout-offset",)

    def allows(self, doc, written):
        k = self.key(written)
        return k in self.allowed or (doc, k) in self.local or \
            any(self.RULES[r](k) for r in self.rules)


def source_numbers(paths):
    vals = set()
    for p in paths:
        full = os.path.join(ROOT, p)
        if not os.path.exists(full):
            return None
        with open(full, errors="replace") as f:
            for line in f:
                for tok, _ in numbers(line):
                    vals.add(number_key(tok))
                # code writes offsets and masks in hex, docs in decimal
                for h in re.findall(r"\b0x([0-9a-fA-F]+)", line):
                    vals.add(str(int(h, 16)))
                # and C constants with a type suffix (2048u, 1ull)
                vals.update(re.findall(r"\b(\d+)[uUlL]{1,3}\b", line))
    return vals


# Blocks another program writes from a run of its own: a test that checks
# what it writes (run-alignment.sh), or a slow run whose output is not
# committed (make mutate, the test times): those numbers are the
# program's word, not checked again here.
TEST_BLOCKS = {
    "alignment": "tests/replay/run-alignment.sh",
    "test-times": "scripts/test-times.sh",
    "mutate": "scripts/mutate.sh",
}


# Who writes the numbers of each block (tests/docs/numbers.txt's "writer"
# lines): the writer of each run's file a block is made or quoted from, and
# of each block a run writes straight into its document (trace_tables.py's
# are make bench's). A "bench-only" document takes numbers from make bench
# alone; any other names the writer of each of its blocks, so a reader
# knows which run to repeat. A run's file no writer line claims fails.
BENCH = "make bench"
RUN_OUTPUT = (".txt", ".md", ".dat", ".tsv", ".json")


def block_writers(name, sources, writers, bench_blocks):
    """The writers of a block's numbers; None for one no one claims. A
    quote of source code (a document describing a program) has none."""
    if name in bench_blocks:
        return {BENCH}
    files = sources or [src for _, n, src, _ in FILE_BLOCKS if n == name]
    if not files:
        return {writers.get(name)}
    return {writers.get(f) for f in files if f.endswith(RUN_OUTPUT)}


def writer_named(text, writer):
    """The document says who writes a block: the command, or the script's
    file name."""
    return writer in text or os.path.basename(writer) in text


def writer_problems(doc, text, blocks, rules):
    bad = []
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import trace_tables
    bench_blocks = {n for _, n, _ in trace_tables.BLOCKS}
    for name, sources, n, _ in blocks:
        for w in sorted(block_writers(name, sources, rules.writers,
                                      bench_blocks), key=str):
            if w is None:
                bad.append("%s:%d: block '%s': who writes %s? (a writer "
                           "line in tests/docs/numbers.txt)"
                           % (doc, n, name, " ".join(sources) or name))
            elif doc in rules.bench_only and w != BENCH:
                bad.append("%s:%d: block '%s' is written by %s, not make "
                           "bench: %s quotes make bench alone"
                           % (doc, n, name, w, doc))
            elif not writer_named(text, w):
                bad.append("%s:%d: block '%s': the document does not say "
                           "its numbers come from %s" % (doc, n, name, w))
    return bad


def generated_names():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import trace_tables
    return {name for _, name, _ in trace_tables.BLOCKS} | \
        {name for _, name, _, _ in FILE_BLOCKS} | set(TEST_BLOCKS)


def lint_doc(doc, rules, names):
    bad = []
    code = source_numbers(rules.sources.get(doc, [])) or set()
    with open(os.path.join(ROOT, doc)) as f:
        text = f.read()
    prose, blocks = prose_and_blocks(text, "layout-offset" in rules.rules_read)
    bad += writer_problems(doc, text, blocks, rules)
    for n, line in prose:
        if "has no end -->" in line:
            bad.append("%s:%d: %s" % (doc, n, line.strip()))
            continue
        for tok, written in numbers(line):
            if not rules.allows(doc, written) and number_key(tok) not in code:
                bad.append("%s:%d: '%s' outside a generated block: %s"
                           % (doc, n, written, line.strip()[:100]))
    for name, sources, n, body in blocks:
        if not sources:
            if name not in names:
                bad.append("%s:%d: block '%s' is neither generated "
                           "(scripts/trace_tables.py, docblocks.py) nor "
                           "quoted 'from' a file" % (doc, n, name))
            continue
        have = source_numbers(sources)
        if have is None:
            bad.append("%s:%d: block '%s' quotes %s, which does not exist"
                       % (doc, n, name, " ".join(sources)))
            continue
        for k, line in enumerate(body, n + 1):
            if line.startswith("    "):
                continue
            for tok, written in numbers(strip_markup(line)):
                if number_key(tok) not in have:
                    bad.append("%s:%d: '%s' in block '%s' is not in %s"
                               % (doc, k, written, name, " ".join(sources)))
    return bad


def lint(rules_path):
    rules = Rules(rules_path)
    names = generated_names()
    checked = set(rules.docs)
    failed = 0
    for doc in rules.docs:
        bad = lint_doc(doc, rules, names)
        if bad:
            failed += 1
            print("FAIL: %s: %d numbers no program wrote" % (doc, len(bad)))
            for b in bad:
                print("      " + b)
        else:
            print("ok:   %s: every number generated, quoted or allowed" % doc)
    others = sorted(set(["README.md"] + ["docs/" + d for d in os.listdir(
        os.path.join(ROOT, "docs")) if d.endswith(".md")]) - checked)
    for doc in others if rules_path == RULES else []:
        print("skip: %s: not in tests/docs/numbers.txt's checked list" % doc)
    print("%d passed, %d failed" % (len(rules.docs) - failed, failed))
    return 1 if failed else 0


# Blocks made from committed files (no run needed): doc, name, source, make.
def restart_cost(path):
    """docs/perf/restart-cost.txt (tests/e2e/run-restart-vm.sh) as a table."""
    line_re = re.compile(
        r"policy=(\S+) kill: host gap (\d+) ms, guest longest wait (\d+) us "
        r"\(before the kill: (\d+) us\); upgrade: host gap (\d+) ms, guest "
        r"longest wait since load (\d+) us; (\d+) transfers, (\d+) "
        r"mismatches, (\d+) failed maps")
    out = ["| policy | restart | host gap | guest's longest wait | transfers, mismatches, failed maps |",
           "|---|---|---:|---:|---|"]
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = line_re.match(line.strip())
            if not m:
                sys.exit("docblocks: %s: not a restart-cost line: %s"
                         % (path, line.strip()))
            p, kg, kw, warm, ug, uw, t, mm, fm = m.groups()
            out.append("| %s | kill -9 | %s ms | %.1f ms (%.1f before) | %s, %s, %s (both restarts) |"
                       % (p, kg, int(kw) / 1000, int(warm) / 1000,
                          "{:,}".format(int(t)), mm, fm))
            out.append("| %s | upgrade | %s ms | %.1f ms | |"
                       % (p, ug, int(uw) / 1000))
    return out


def restart_cost_spread(path):
    """docs/perf/restart-cost-history.txt (run-restart-vm.sh's dated lines,
    one per policy and run) as the median and range of each cost."""
    line_re = re.compile(
        r"(\S+) policy=(\S+) kill: host gap (\d+) ms, guest longest wait "
        r"(\d+) us \(before the kill: (\d+) us\); upgrade: host gap (\d+) "
        r"ms, guest longest wait since load (\d+) us; (\d+) transfers, "
        r"(\d+) mismatches, (\d+) failed maps")
    runs = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            m = line_re.match(line.strip())
            if not m:
                sys.exit("docblocks: %s: not a restart-cost history line: %s"
                         % (path, line.strip()))
            runs.setdefault(m.group(2), []).append(
                [int(v) for v in m.groups()[2:]])
    if not runs:
        sys.exit("docblocks: %s: no runs" % path)

    def spread(vals, scale, unit):
        vals = sorted(v / scale for v in vals)
        n = len(vals)
        med = vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2
        fmt = "%.0f" if scale == 1 else "%.1f"
        return (fmt + " %s (" + fmt + "–" + fmt + ")") % (
            med, unit, vals[0], vals[-1])

    out = ["| policy | runs | host gap, kill -9 | host gap, upgrade | guest's longest wait before the kill | guest's longest wait, whole run | transfers, mismatches, failed maps (all runs) |",
           "|---|---:|---:|---:|---:|---:|---|"]
    for p in sorted(runs):
        r = runs[p]
        out.append("| %s | %d | %s | %s | %s | %s | %s, %d, %d |" % (
            p, len(r), spread([x[0] for x in r], 1, "ms"),
            spread([x[3] for x in r], 1, "ms"),
            spread([x[2] for x in r], 1000, "ms"),
            spread([x[4] for x in r], 1000, "ms"),
            "{:,}".format(sum(x[5] for x in r)),
            sum(x[6] for x in r), sum(x[7] for x in r)))
    return out


def churn_curve(path):
    """docs/perf/churn-curve.dat (churn_curve --curve) as a table."""
    out = ["| ops | live buffers | live mappings | live aperture MiB | largest free bus MiB | free bus MiB | largest/free |",
           "|---:|---:|---:|---:|---:|---:|---:|"]
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            v = line.split()
            if len(v) < 8:
                sys.exit("docblocks: %s: not a curve line: %s"
                         % (path, line.strip()))
            out.append("| {:,} | {} | {:,} | {} | {} | {} | {} |".format(
                int(v[0]), v[1], int(v[2]), v[3], v[5], v[6], v[7]))
    return out


def fuzz_run(path):
    """docs/perf/fuzz.txt (what tests/host/run-fuzz.sh printed) as a
    table of every target and the sum."""
    line_re = re.compile(r"^ok: +(\S+): (\d+) runs in (\d+) s, (\d+) "
                         r"crashes; (#\d+ DONE .*)$")
    out = ["| target | executions | final `DONE` line |", "|---|---:|---|"]
    total, secs, crashes = 0, 0, 0
    with open(path) as f:
        for line in f:
            m = line_re.match(line.strip())
            if not m:
                continue
            target, runs, t, c, done = m.groups()
            out.append("| `%s` | {:,} | `%s` |".format(int(runs))
                       % (target, done.strip()))
            total += int(runs)
            secs += int(t)
            crashes += int(c)
    if len(out) == 2:
        sys.exit("docblocks: %s: no run-fuzz.sh result lines" % path)
    out += ["", "%.1f million executions in all, in %d s of fuzzing, "
            "%d crashes." % (total / 1e6, secs, crashes)]
    return out


FILE_BLOCKS = [
    ("docs/reliability.md", "restart-cost", "docs/perf/restart-cost.txt",
     restart_cost),
    ("docs/reliability.md", "restart-spread",
     "docs/perf/restart-cost-history.txt", restart_cost_spread),
    ("docs/reliability.md", "churn-curve", "docs/perf/churn-curve.dat",
     churn_curve),
    ("docs/security.md", "fuzz-run", "docs/perf/fuzz.txt", fuzz_run),
]


def write_or_check(write):
    bad = 0
    for doc, name, src, make in FILE_BLOCKS:
        path = os.path.join(ROOT, doc)
        with open(path) as f:
            text = f.read()
        new = splice(text, name, make(os.path.join(ROOT, src)))
        if new is None:
            print("FAIL: %s has no <!-- %s:begin/end --> block" % (doc, name))
            bad += 1
        elif write:
            with open(path, "w") as f:
                f.write(new)
        elif new != text:
            print("FAIL: %s block '%s' differs from %s (scripts/docblocks.py"
                  " --write)" % (doc, name, src))
            bad += 1
        else:
            print("ok:   %s block '%s' matches %s" % (doc, name, src))
    return bad


def main():
    what = sys.argv[1] if len(sys.argv) in (2, 3) else ""
    if what == "--lint":
        return lint(sys.argv[2] if len(sys.argv) == 3 else RULES)
    if what in ("--write", "--check"):
        bad = write_or_check(what == "--write")
        if what == "--check":
            print("%d passed, %d failed" % (len(FILE_BLOCKS) - bad, bad))
        return 1 if bad else 0
    sys.exit(__doc__.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
