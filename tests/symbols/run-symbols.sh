#!/bin/sh
# SPDX-License-Identifier: MIT
#
# What may be global, checked on the objects themselves:
# - host/, common/ and lib/ as built (BUILD/obj): no writable data but what
#   docs/architecture.md lists as process-wide (scripts/host-globals.sh);
# - both checkers fail where they should: a made-up object with state of
#   its own, a guest object with an unprefixed global or a test symbol.
# pvdma.ko itself goes through scripts/guest-symbols.sh in
# tests/e2e/run-hostile-vm.sh, which builds it for its VM.
# Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
BUILD=${BUILD:-build}
CC=${CC:-cc}

[ -d "$BUILD/obj/host" ] || abort "$BUILD/obj/host: nothing built (make tests)"
check "host/, common/, lib/: no writable data beyond the documented list" \
	scripts/host-globals.sh "$BUILD"

t=$(mktemp -d) || abort "mktemp"
trap 'rm -rf "$t"' EXIT

# A fake build: one host object with two pieces of state and a relocated
# const table (read-only once loaded: not state).
mkdir -p "$t/obj/host" "$t/obj/lib"
cat >"$t/state.c" <<'C'
int host_stray_counter;
static int stray_flag = 1;
static const char *const names[] = { "a", "b" };
const char *stray_name(int i);
const char *stray_name(int i) { return names[(stray_flag += i) & 1]; }
C
$CC -c -O1 -fPIE "$t/state.c" -o "$t/obj/host/stray.o" || abort "cc"
scripts/host-globals.sh "$t" >"$t/out" 2>&1
rc=$?
expect "host-globals.sh fails on state not on the list" "[ $rc -eq 1 ]"
expect "it names a global counter and a static one" \
	'grep -q "^not allowed: host/stray.c: host_stray_counter$" "$t/out" &&
	 grep -q "^not allowed: host/stray.c: stray_flag$" "$t/out"'
expect "a const table of pointers is not state" '! grep -q names "$t/out"'
printf '<!-- allow-list of scripts/host-globals.sh -->\n| file | symbol | why |\n|---|---|---|\n| `host/stray.c` | `*` | a test |\n<!-- end of the allow-list -->\n' >"$t/doc.md"
check "what the list allows passes" scripts/host-globals.sh "$t" "$t/doc.md"

# guest-symbols.sh on guest-like objects: the prefix, the test hooks
cat >"$t/guest.c" <<'C'
int pvdma_live_count;
int stray_global;
void dt_selftest_hook(void);
void dt_selftest_hook(void) { }
C
$CC -c -O1 "$t/guest.c" -o "$t/guest.o" || abort "cc"
scripts/guest-symbols.sh "$t/guest.o" >"$t/gout" 2>&1
rc=$?
expect "guest-symbols.sh fails on an unprefixed global and a test symbol" \
	"[ $rc -eq 1 ]"
expect "it names both" \
	'grep -q "^unprefixed: stray_global$" "$t/gout" &&
	 grep -q "^test symbol: dt_selftest_hook$" "$t/gout" &&
	 ! grep -q "pvdma_live_count" "$t/gout"'
printf 'int pvdma_a;\nstatic int b;\nint pvdma_c(void);\nint pvdma_c(void) { return b++; }\n' >"$t/clean.c"
$CC -c -O1 "$t/clean.c" -o "$t/clean.o" || abort "cc"
check "a guest object with only prefixed globals passes" \
	scripts/guest-symbols.sh "$t/clean.o"
finish
