#!/bin/sh
# SPDX-License-Identifier: MIT
# pvdmad integration test, no VM: tests/host/client plays QEMU and the guest.
# Starts pvdmad on a 64 MiB RAM file (32 MiB below 4 GiB, the rest above),
# runs the client scenarios and checks stats, signals and cleanup.
# Prints "N passed, N failed". Usage: BUILD=build/san tests/host/run-host.sh
set -u
. "$(dirname "$0")/../lib.sh"
scratch_dir host pid

stats_has() {	# grep pattern in the JSON stats
	"$PVDMACTL" --control "$dir/ctl" stats --json | grep -q "$1"
}

need "$PVDMAD" "$PVDMACTL" "$CLIENT"

truncate -s 64M "$dir/ram"
"$PVDMAD" --socket "$dir/c.sock" --dma-socket "$dir/d.sock" \
	--guest-ram "$dir/ram" --ram-below-4g 32M --control "$dir/ctl" \
	--log-level info --log-file "$dir/log" 2>"$dir/stderr" &
pid=$!
check "pvdmad starts" wait_socket "$dir/ctl"
check "pvdmad --help" sh -c "'$PVDMAD' --help | grep -q -- --guest-ram"
check "bad option is a usage error" sh -c "! '$PVDMAD' --page-size 12Q --socket x --guest-ram y 2>/dev/null"

C="--socket $dir/c.sock --dma-socket $dir/d.sock --ram $dir/ram --below-4g 32M"
check "client basic (HELLO, MAP, DMA, faults, statuses)" "$CLIENT" basic $C
grep -c PASS "$check_out" | sed 's/^/    checks passed: /'
sleep 0.2
check "disconnect released every mapping" stats_has '"mappings_live": 0,'
check "release counted" sh -c "'$PVDMACTL' --control '$dir/ctl' stats --json | grep -q '\"released_on_disconnect\": [1-9]'"
check "pvdmactl table" sh -c "'$PVDMACTL' --control '$dir/ctl' stats | grep -q 'mappings live'"

check "random bytes and fds on the socket" "$CLIENT" garbage --socket "$dir/c.sock"
check "violations counted" sh -c "'$PVDMACTL' --control '$dir/ctl' stats --json | grep -q '\"violations\": [1-9]'"

# a hostile guest and a good one at the same time
"$CLIENT" hostile $C --seconds 4 >"$dir/hostile" 2>&1 &
hpid=$!
check "good guest served beside a hostile one" "$CLIENT" loop $C --seconds 3
check "hostile guest ran" wait "$hpid"
check "pvdmad still up" kill -0 "$pid"
sleep 0.2
check "all guests gone, 0 mappings" stats_has '"guests_live": 0, "mappings_live": 0,'
# per connection a few lines (connected, HELLO, released...); a line per
# request would repeat one message, numbers aside, far more often (the
# hostile guest alone sends thousands; rate-limited, still 5 a second)
check "no per-request log lines at info" sh -c "[ \$(grep ': info: ' '$dir/log' | sed 's/^[^:]*: info: //; s/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | awk 'NR == 1 { print \$1 }') -lt 12 ]"

mv "$dir/log" "$dir/log.old"
kill -HUP "$pid"
sleep 0.2
check "SIGHUP reopens the log" sh -c "kill -0 $pid && grep -q reopened '$dir/log'"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM: clean exit (no leaks under ASan)" test "$rc" -eq 0
check "sockets removed" sh -c "[ ! -e '$dir/c.sock' ] && [ ! -e '$dir/ctl' ]"
if [ -s "$dir/stderr" ]; then
	echo "pvdmad stderr:"
	tail -n 20 "$dir/stderr"
fi

# QEMU connects before it creates its RAM file: pvdmad serves the guest
# once the file exists, judging who may use it at HELLO.
"$PVDMAD" --socket "$dir/c2.sock" --dma-socket "$dir/d2.sock" \
	--guest-ram "$dir/late-ram" --ram-below-4g 32M --control "$dir/ctl2" \
	--log-level info --log-file "$dir/log2" 2>>"$dir/stderr" &
pid=$!
check "pvdmad starts before its RAM file exists" wait_socket "$dir/ctl2"
check "client late-ram (connect, then the RAM file, then HELLO and DMA)" \
	"$CLIENT" late-ram --socket "$dir/c2.sock" --dma-socket "$dir/d2.sock" \
	--ram "$dir/late-ram" --below-4g 32M
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM after late-ram: clean exit" test "$rc" -eq 0
finish
