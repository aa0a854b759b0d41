#!/bin/sh
# SPDX-License-Identifier: MIT
#
# scripts/guest-symbols.sh PVDMA_KO: what pvdma.ko defines globally must
# carry the module's prefix (pvdma_) or be the kernel's own module
# boilerplate, and nothing of the test modules may be in it. Prints the
# offenders and "guest-symbols: N global symbols, N unprefixed, N test";
# exits 1 if there is any.
set -u
ko=${1:-guest/pvdma.ko}
[ -f "$ko" ] || { echo "guest-symbols: $ko not built (make module)" >&2; exit 2; }
# __pfx_F is the compiler's padding before function F (6.2+ kernels built
# with call-depth tracking): it is F's name, checked as F.
globals=$(nm "$ko" | awk '$2 ~ /^[A-TV-Z]$/ { print $3 }' | sed 's/^__pfx_//' |
	sort -u)
boiler='^(__this_module|init_module|cleanup_module|__mod_.*_device_table|__UNIQUE_ID_.*)$'
unprefixed=$(echo "$globals" | grep -v -E "^pvdma_|$boiler" | grep -v '^$')
# Test code: the self-test modules' prefixes, and the hooks they once had.
test_syms=$(nm "$ko" | awk '$2 != "U" { print $NF }' |
	grep -E '^(dt_|dmatest_|h_|hostile|db_|pvdma_raw_)|_post_raw|_write_tail|_resync' |
	sort -u)
for s in $unprefixed; do echo "unprefixed: $s"; done
for s in $test_syms; do echo "test symbol: $s"; done
n=$(echo "$globals" | grep -c .)
u=$(echo "$unprefixed" | grep -c .)
t=$(echo "$test_syms" | grep -c .)
echo "guest-symbols: $n global symbols, $u unprefixed, $t test"
[ "$u" -eq 0 ] && [ "$t" -eq 0 ]
