#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The kernel-side C (guest/, lib/) passes the kernel's own style checker,
# checkpatch.pl --strict --no-tree of Debian's linux-source-6.1, with no
# error and no warning (make checkpatch; scripts/checkpatch.sh says how
# and caches the checker in build/checkpatch). About half a minute.
# Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

CHECKPATCH_DIR=${CHECKPATCH_DIR:-build/checkpatch} scripts/checkpatch.sh \
	>"$check_out" 2>&1
rc=$?
for tree in guest/ lib/; do
	line=$(grep "^checkpatch: $tree: " "$check_out")
	expect "${line:-checkpatch: $tree: no result}" \
		'echo "$line" | grep -q ": 0 errors, 0 warnings, "'
done
if [ "$rc" -ne 0 ]; then
	grep -E "(ERROR|WARNING):" "$check_out" | head -n 40
	fail "scripts/checkpatch.sh exits 0 (exit $rc)"
fi
finish
