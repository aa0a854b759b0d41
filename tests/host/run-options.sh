#!/bin/sh
# SPDX-License-Identifier: MIT
# Every pvdmad option given a bad value: pvdmad exits 2 at once with one
# line naming the option, the value and the rule (docs/pvdmad.md,
# Options). Then the start-up checks that need the file system: a socket
# directory that does not exist, a guest RAM file the layout can't hold,
# the same path twice.
# Every option --help lists that takes a value must have a case here.
# Prints "N passed, N failed". Usage: BUILD=build/san tests/host/run-options.sh
set -u
. "$(dirname "$0")/../lib.sh"
scratch_dir options
truncate -s 64M "$dir/ram"
long=$(printf 'x%.0s' $(seq 1 120))

need "$PVDMAD"
fail_err() {	# name: a failure, with what pvdmad said on stderr
	fail "$1"
	sed 's/^/    /' "$dir/err" | head -n 5
}

# bad OPTION VALUE FRAGMENT: exit 2, "pvdmad: --OPTION VALUE: ...FRAGMENT..."
bad() {
	timeout 5 "$PVDMAD" --socket "$dir/s" --guest-ram "$dir/ram" "--$1" "$2" \
		>"$dir/out" 2>"$dir/err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -qF -- "pvdmad: --$1 $2: " "$dir/err" &&
	   grep -qF -- "$3" "$dir/err" && [ "$(wc -l <"$dir/err")" -eq 1 ]; then
		ok "--$1 '$2': $(cut -d: -f3- "$dir/err")"
	else
		fail_err "--$1 '$2' (exit $rc, want 2 and '$3')"
	fi
	echo "$1" >>"$dir/covered"
}

bad socket "" "socket path of 1 to 107 bytes"
bad socket "$dir/$long" "socket path of 1 to 107 bytes"
bad dma-socket "" "socket path"
bad dma-socket "$dir/$long" "socket path"
bad control "$dir/$long" "socket path"
bad guest-ram "" "memory-backend-file"
bad log-file "" "a file path"
bad machine q36 "q35, pc or virt"
bad ram-size 0 "at least 1"
bad ram-size 12Q "bytes"
bad ram-below-4g 0 "from 1 to 4G"
bad ram-below-4g 5G "from 1 to 4G"
bad aperture 0 "multiple of the page size"
bad aperture 5G "at most the bus space"
bad aperture 20000 "multiple of the page size"
bad aperture -16K "bytes"
bad max-mappings 0 "from 1 to 1048576"
bad max-mappings 2000000 "from 1 to 1048576"
bad page-size 3K "power of two from 4K to 1M"
bad page-size 1G "power of two from 4K to 1M"
bad ring-slots 3 "a power of two from 1 to 1024"
bad ring-slots 2048 "a power of two from 1 to 1024"
bad max-batch 0 "from 1 to 1024"
bad max-batch 1025 "from 1 to 1024"
bad dma-queue 3 "a power of two from 1 to 4096"
bad dma-queue 8192 "a power of two from 1 to 4096"
bad dma-max-len 0 "from 1 to 64M"
bad dma-max-len 65M "from 1 to 64M"
bad log-level loud "err, warn, info, debug"
bad inject-map-fail 2 "a rate from 0 to 1"
bad inject-map-fail 0.1:x "seed"
bad allow-uid no-such-user-pvdma "user name or number"
bad user no-such-user-pvdma "user name or number"
bad socket-group no-such-group-pvdma "group name or number"
bad tseg 16 "whole MiB from 1M to 1G"
bad tseg 1536K "whole MiB"
bad tseg 2G "whole MiB from 1M to 1G"

# Cross-option rules.
timeout 5 "$PVDMAD" --socket "$dir/s" --guest-ram "$dir/ram" --machine pc --tseg 16M \
	>"$dir/out" 2>"$dir/err"
[ $? -eq 2 ] && grep -q -- "--tseg .*only -machine q35" "$dir/err" &&
	ok "--tseg with -machine pc: q35 only" || fail_err "--tseg with -machine pc"
timeout 5 "$PVDMAD" --socket "$dir/s" --guest-ram "$dir/ram" --page-size 64K --aperture 48K \
	>"$dir/out" 2>"$dir/err"
[ $? -eq 2 ] && grep -q -- "--aperture 48K: a multiple of the page size (65536)" "$dir/err" &&
	ok "--aperture not a multiple of --page-size" || fail_err "--aperture vs --page-size"
timeout 5 "$PVDMAD" --socket "$dir/s" --guest-ram "$dir/ram" --dma-socket "$dir/./s" \
	>"$dir/out" 2>"$dir/err"
[ $? -eq 2 ] && grep -q -- "--dma-socket $dir/./s: the same file as --socket" "$dir/err" &&
	ok "the same path for two sockets" || fail_err "the same path twice"

# Every option with a value has a case above.
"$PVDMAD" --help | grep -o -- '--[a-z0-9-]* [A-Z]' | sed 's/^--\([a-z0-9-]*\) .*/\1/' |
	sort -u >"$dir/listed"
sort -u "$dir/covered" >"$dir/covered.sorted"
missing=$(comm -23 "$dir/listed" "$dir/covered.sorted" | tr '\n' ' ')
[ -z "$missing" ] && ok "every option --help lists with a value has a bad-value case" ||
	{ echo "no case for: $missing" >"$dir/err"; fail_err "options without a bad-value case"; }

# Start-up checks that need the file system.
timeout 5 "$PVDMAD" --socket "$dir/no/such/dir/s" --guest-ram "$dir/ram" \
	>"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "companion socket $dir/no/such/dir/s: No such file or directory (does the directory exist?)" "$dir/err" &&
	ok "a socket in a missing directory: path and hint" || fail_err "socket in a missing directory (exit $rc)"
printf 'abc' >"$dir/tiny"
timeout 5 "$PVDMAD" --socket "$dir/s" --guest-ram "$dir/tiny" >"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q -- "--guest-ram $dir/tiny: .*3 bytes" "$dir/err" &&
	ok "a 3-byte guest RAM file refused at start" || fail_err "3-byte guest RAM file (exit $rc)"
timeout 5 "$PVDMAD" --socket "$dir/s" --guest-ram "$dir" >"$dir/out" 2>"$dir/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q -- "--guest-ram $dir: not a regular file" "$dir/err" &&
	ok "a directory as guest RAM refused at start" || fail_err "directory as guest RAM (exit $rc)"
"$PVDMAD" --socket "$dir/s" --guest-ram "$dir/ram" --ram-below-4g 32M \
	--log-file "$dir/log" --log-level debug >"$dir/out" 2>"$dir/err" &
p=$!
sleep 1
kill -TERM "$p"
wait "$p"
check_rc "SIGTERM: pvdmad exits 0" $?
grep -q "guest RAM $dir/ram: 64 MiB, GPA \[0, 0x2000000) = file \[0, 0x2000000), GPA \[0x100000000, 0x102000000) = file \[0x2000000, 0x4000000); hidden from DMA: \[0xa0000, 0xc0000)" "$dir/log" &&
	ok "the guest RAM layout logged at start" || { cp "$dir/log" "$dir/err"; fail_err "layout at start"; }
grep -q "debug: fd limit" "$dir/log" && ok "-l debug logs more" || { cp "$dir/log" "$dir/err"; fail_err "-l debug"; }
finish
