# SPDX-License-Identifier: MIT
"""The Python side of tests/lib.sh, for the checks a shell test runs in
Python: one "ok:"/"FAIL:" line per check, and the counts written to the
file the shell then adds with add_counts. The shell puts tests/ on
PYTHONPATH (PYTHONPATH="$(dirname "$0")/.." python3 - ... <<'PY')."""

passed = 0
failed = 0


def check(ok, what):
    """Counts one check; returns whether it passed."""
    global passed, failed
    if ok:
        passed += 1
        print("ok:   " + what)
    else:
        failed += 1
        print("FAIL: " + what)
    return bool(ok)


def write_counts(path):
    """"PASSED FAILED" for tests/lib.sh's add_counts."""
    with open(path, "w") as f:
        f.write("%d %d\n" % (passed, failed))
