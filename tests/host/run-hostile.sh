#!/bin/sh
# SPDX-License-Identifier: MIT
# pvdmad against hostile local clients, no VM (docs/security.md): DMA
# devices bound across processes, never-reading and vanishing clients, a
# connection flood, garbage and fds on the ivshmem socket (no fd may stay
# open in pvdmad), hostile control-socket clients. Prints "N passed, N
# failed". Usage: BUILD=build/san tests/host/run-hostile.sh
set -u
. "$(dirname "$0")/../lib.sh"
scratch_dir hostile pid

stat_is() {	# JSON fragment expected in the stats
	"$PVDMACTL" --control "$dir/ctl" stats --json | grep -q "$1"
}

nfds() { ls "/proc/$pid/fd" | wc -l; }

need "$PVDMAD" "$PVDMACTL" "$CLIENT"

truncate -s 64M "$dir/ram"
# few mappings per guest: the flood connects 70 guests
"$PVDMAD" --socket "$dir/c.sock" --dma-socket "$dir/d.sock" \
	--guest-ram "$dir/ram" --control "$dir/ctl" --max-mappings 1024 \
	--log-file "$dir/log" 2>"$dir/stderr" &
pid=$!
check "pvdmad starts" wait_socket "$dir/ctl"
fds0=$(nfds)

C="--socket $dir/c.sock --dma-socket $dir/d.sock"
check "DMA device bound to another process's companion" "$CLIENT" foreign $C
check "never-reading and vanishing clients" "$CLIENT" idle $C
check "connection flood: 64 served, the rest refused" "$CLIENT" flood $C
sleep 0.3
check "refusals counted" stat_is '"refused": [1-9]'
check "garbage and fds on the socket" "$CLIENT" garbage --socket "$dir/c.sock"
check "hostile control clients" "$CLIENT" control --socket "$dir/c.sock" --control "$dir/ctl"
sleep 0.3
check "every guest gone, 0 mappings" stat_is '"guests_live": 0, "mappings_live": 0,'
check "no fd left open in pvdmad ($fds0 at start)" test "$(nfds)" -eq "$fds0"
check "pvdmad still up" kill -0 "$pid"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM: clean exit (no leaks under ASan)" test "$rc" -eq 0
[ -s "$dir/stderr" ] && tail -n 20 "$dir/stderr"
finish
