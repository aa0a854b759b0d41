#!/bin/sh
# SPDX-License-Identifier: MIT
# pvdmad restarts under running clients, no VM: `pvdmad --supervise` keeps
# the fds (docs/reliability.md, "pvdmad restarted"). tests/host/client
# plays QEMU and a guest that maps, has the DMA device fill and checks the
# bytes, unmaps, over and over (`client loop`); meanwhile pvdmad is killed
# with SIGKILL, then upgraded (a different binary installed over the path,
# SIGUSR2 to the supervisor). The client must see no bad round and no
# disconnect. Then: a clean stop, and SIGUSR2 without a keeper.
# Prints "N passed, N failed". Usage: BUILD=build/san tests/host/run-restart.sh
set -u
. "$(dirname "$0")/../lib.sh"
scratch_dir restart sup

need "$PVDMAD" "$PVDMACTL" "$CLIENT"

# The binary runs from $dir so that the upgrade can install over it.
cp "$PVDMAD" "$dir/pvdmad"
truncate -s 64M "$dir/ram"
opts="--socket $dir/c.sock --dma-socket $dir/d.sock --guest-ram $dir/ram --ram-below-4g 32M --control $dir/ctl"

# The pvdmad the supervisor runs now.
child() { pgrep -P "$sup" -x pvdmad | head -n 1; }
# Wait until the log shows a new child ready (count of "ready" lines > $1).
wait_ready() {
	i=0
	while [ "$(grep -c 'ready,' "$dir/log")" -le "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	[ "$(grep -c 'ready,' "$dir/log")" -gt "$1" ]
}
ready_count() { grep -c 'ready,' "$dir/log"; }

: >"$dir/log"	# before the checks read it
"$dir/pvdmad" --supervise $opts >>"$dir/log" 2>&1 &
sup=$!
check "pvdmad --supervise starts pvdmad" wait_ready 0
check "its sockets" wait_socket "$dir/d.sock" 10

# 0. The states a kill can leave, made one at a time by the client (a
# completion written but its interrupt lost, a ring posted but not served,
# a DMA queue cut in the middle), each followed by kill -9: the pvdmad that
# takes the devices back must serve and signal all of them.
"$CLIENT" window --socket "$dir/c.sock" --dma-socket "$dir/d.sock" --ram "$dir/ram" \
	--below-4g 32M --control "$dir/ctl" >"$dir/client-window" 2>&1
wrc=$?
sed 's/^/    client: /' "$dir/client-window"
check "every state a kill can leave is recovered by the next pvdmad" [ "$wrc" -eq 0 ]

# 0b. Killed in the middle of an overlapping COPY (4 MiB, dst = src + 100):
# the next pvdmad goes on from the progress the ledger kept, and the bytes
# are those of the same COPY run without a kill.
"$CLIENT" cut-copy --socket "$dir/c.sock" --dma-socket "$dir/d.sock" --ram "$dir/ram" \
	--below-4g 32M --control "$dir/ctl" >"$dir/client-cut" 2>&1
crc=$?
sed 's/^/    client: /' "$dir/client-cut"
check "a COPY cut by a kill ends as one run without" [ "$crc" -eq 0 ]
check "and the next pvdmad went on where the kill cut it" \
	grep -q "dma device [0-9]*: a command cut at byte [1-9][0-9]* of 4194304 goes on from there" "$dir/log"

"$CLIENT" loop --socket "$dir/c.sock" --dma-socket "$dir/d.sock" --ram "$dir/ram" \
	--below-4g 32M --seconds 8 >"$dir/client" 2>&1 &
cpid=$!
sleep 2

# The companion's slot counter (the first "slots" of the JSON).
slots() { "$PVDMACTL" --control "$dir/ctl" stats --json 2>/dev/null |
	grep -o '"slots": [0-9]*' | head -n 1 | sed 's/.*: //'; }

# 1. SIGKILL in the middle of the traffic.
old=$(child)
n=$(ready_count)
before=$(slots)
kill -9 "$old"
check "a new pvdmad after SIGKILL" wait_ready "$n"
check "the guest's counters carried over (slots $before before the kill)" \
	sh -c "after=\$('$PVDMACTL' --control '$dir/ctl' stats --json | grep -o '\"slots\": [0-9]*' | head -n 1 | sed 's/.*: //');
		[ -n '$before' ] && [ '$before' -gt 1000 ] && [ \"\$after\" -ge '$before' ]"
check "the new pvdmad took the companion and the DMA device back" \
	grep -q "restart: 1 companions and 1 DMA devices taken back" "$dir/log"
check "the companion's domain was re-created from the ledger and checked" \
	grep -q "companion [0-9]*: resumed at slot [0-9]*, [0-9]* mappings" "$dir/log"
sleep 2

# 1b. An upgrade from a pvdmad of ledger version 3 (before the DMA
# device's stage): pvdmad stopped, the ledgers the keeper holds rewritten
# as version 3 wrote them, then killed. The next one carries them to
# version 4 and takes the companion and the DMA device back.
old=$(child)
n=$(ready_count)
kill -STOP "$old"
v3=$(python3 "$(dirname "$0")/ledger-v3.py" "$sup" 2>&1)
kill -9 "$old"
check "the ledgers rewritten as version 3 ($v3)" [ "$v3" = 2 ]
check "a new pvdmad after the version 3 ledgers" wait_ready "$n"
check "it carried both to version 4" \
	sh -c "[ \$(grep -c 'ledger of client [0-9]* carried from version 3 to 4' '$dir/log') -eq 2 ]"
check "and took the companion and the DMA device back" \
	sh -c "[ \$(grep -c 'restart: 1 companions and 1 DMA devices taken back' '$dir/log') -ge 2 ]"
sleep 1

# 2. An upgrade: another binary installed at the path (a rename, as
# install(1) and dpkg do), then SIGUSR2: the running one exits for it.
cp "$PVDMAD" "$dir/pvdmad.new"
printf 'upgrade' >>"$dir/pvdmad.new"	# a different file, still the program
mv -f "$dir/pvdmad.new" "$dir/pvdmad"
old=$(child)
n=$(ready_count)
kill -USR2 "$sup"
check "a new pvdmad after SIGUSR2" wait_ready "$n"
new=$(child)
check "it runs the upgraded binary" sh -c "[ '$new' != '$old' ] && cmp -s /proc/$new/exe '$dir/pvdmad'"
check "the old one exited for the restart (75)" grep -q "pvdmad (pid $old) exit 75: restarting" "$dir/log"

wait "$cpid"
crc=$?
sed 's/^/    client: /' "$dir/client"
check "the client was served throughout: no bad round, no disconnect" \
	sh -c "[ $crc -eq 0 ] && grep -q 'loop: [0-9]* rounds, 0 bad' '$dir/client'"
check "pvdmactl answers the restarted pvdmad" sh -c "'$PVDMACTL' --control '$dir/ctl' stats --json >/dev/null"

# 3. QEMU gone while no pvdmad runs: the next one takes the dead
# connection back, sees the hang-up, releases the guest and tells the
# store to drop its fds.
"$CLIENT" loop --socket "$dir/c.sock" --dma-socket "$dir/d.sock" --ram "$dir/ram" \
	--below-4g 32M --seconds 30 >"$dir/client-killed" 2>&1 &
cpid=$!
sleep 1
n=$(ready_count)
kill -STOP "$sup"			# no restart yet
kill -9 "$(child)"
kill -9 "$cpid"
wait "$cpid" 2>/dev/null
kill -CONT "$sup"
check "a new pvdmad after QEMU and pvdmad both died" wait_ready "$n"
stats() { "$PVDMACTL" --control "$dir/ctl" stats --json 2>/dev/null; }
i=0
while ! stats | grep -q '"guests_live": 0, "mappings_live": 0,' && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
check "it took the dead guest back, saw the hang-up and released it (0 guests, 0 mappings)" \
	sh -c "'$PVDMACTL' --control '$dir/ctl' stats --json | grep -q '\"guests_live\": 0, \"mappings_live\": 0,' &&
		grep -q 'companion [0-9]*: released' '$dir/log'"
kill -9 "$(child)"
n=$(ready_count)
check "the store dropped the dead guest's fds (the next pvdmad gets only the listeners)" \
	sh -c "i=0; while [ \"\$(grep -c 'ready,' '$dir/log')\" -le $n ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i + 1)); done
		grep 'supervise: started' '$dir/log' | tail -n 1 | grep -q 'with 2 kept fds'"

# 4. A clean stop ends the supervisor too and removes the sockets.
kill -TERM "$sup"
wait "$sup"
src=$?
sup=
check "SIGTERM: the supervisor exits 0" [ "$src" -eq 0 ]
check "and the sockets are gone" sh -c "[ ! -e '$dir/c.sock' ] && [ ! -e '$dir/d.sock' ]"
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$dir/log'"

# 5. A usage error is not restarted: the supervisor exits 2 at once.
check "a usage error under --supervise: exit 2, no restart" \
	sh -c "'$dir/pvdmad' --supervise $opts --no-such-option >'$dir/usage' 2>&1;
		[ \$? -eq 2 ] && grep -q '0 restarts' '$dir/usage'"

# 6. SIGUSR2 without a keeper: said plainly, the guests are disconnected.
"$dir/pvdmad" $opts >"$dir/log-alone" 2>&1 &
pid=$!
wait_socket "$dir/c.sock" 10
kill -USR2 "$pid"
wait "$pid"
check "SIGUSR2 without a keeper says there is none" grep -q "no fd store" "$dir/log-alone"

# 7. A restart with a stricter layout: --tseg added (an edited unit, or an
# upgrade that refuses more), under a guest that mapped a page of the SMBASE
# SMRAM window while that was allowed. The new pvdmad keeps no mapping a MAP
# would be refused now (docs/security.md §2.8): the companion is not taken
# back, and a FILL through the old bus address writes nothing.
s=$dir/stricter
mkdir -p "$s"
truncate -s 64M "$s/ram"
cp "$PVDMAD" "$s/pvdmad"
sopts="--socket $s/c.sock --dma-socket $s/d.sock --guest-ram $s/ram --ram-below-4g 32M --control $s/ctl"
: >"$s/log"
"$s/pvdmad" --supervise $sopts >>"$s/log" 2>&1 &
sup=$!
wait_socket "$s/ctl" 10
"$CLIENT" kept-map --socket "$s/c.sock" --dma-socket "$s/d.sock" --dir "$s" \
	--gpa 192K >"$s/client" 2>&1 &
cpid=$!
i=0
while [ ! -e "$s/mapped" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
printf '#!/bin/sh\nexec "%s" "$@" --tseg 1M\n' "$PVDMAD" >"$s/pvdmad.new"
chmod +x "$s/pvdmad.new"
mv -f "$s/pvdmad.new" "$s/pvdmad"
kill -USR2 "$sup"
i=0
while ! grep -q "DMA devices taken back" "$s/log" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
check "restart with --tseg added: the new pvdmad runs with it" \
	sh -c "tr '\\0' ' ' </proc/\$(pgrep -P $sup -x pvdmad | head -n 1)/cmdline | grep -q -- '--tseg 1M'"
echo go >"$s/go"
wait "$cpid"
sed 's/^/    client: /' "$s/client"
check "a mapping of SMRAM made before it is not restored (logged, the companion not taken back)" \
	sh -c "grep -q 'refused: not guest RAM a MAP may get now' '$s/log' &&
		grep -q 'client [0-9]* can.t be taken back' '$s/log'"
check "and a FILL through its bus address wrote nothing (status $(cat "$s/dma-status" 2>/dev/null))" \
	sh -c "[ \"\$(od -An -tx1 -j 196608 -N1 '$s/ram' | tr -d ' \\n')\" = 00 ] &&
		[ -s '$s/dma-status' ] && ! grep -qx 0 '$s/dma-status'"
kill -TERM "$sup"
wait "$sup"
sup=

# 8. A restart that revokes a user (--allow-uid 65534 dropped from the
# options): that user's connections taken back are judged as new ones
# would be now, refused (docs/security.md §2.8), not served on.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	a=$dir/revoke
	mkdir -p "$a/io"
	chmod 0755 "$dir" "$a"
	chmod 0777 "$a/io"
	truncate -s 64M "$a/ram"
	chmod 0666 "$a/ram"
	cp "$PVDMAD" "$a/pvdmad"
	aopts="--socket $a/c.sock --dma-socket $a/d.sock --guest-ram $a/ram --ram-below-4g 32M --control $a/ctl"
	: >"$a/log"
	"$a/pvdmad" --supervise $aopts --allow-uid 65534 >>"$a/log" 2>&1 &
	sup=$!
	wait_socket "$a/ctl" 10
	chmod 0666 "$a/c.sock" "$a/d.sock"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CLIENT" kept-map \
		--socket "$a/c.sock" --dma-socket "$a/d.sock" --dir "$a/io" \
		--gpa 10M >"$a/client" 2>&1 &
	cpid=$!
	i=0
	while [ ! -e "$a/io/mapped" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	check "uid 65534, allowed, mapped a page" [ -e "$a/io/mapped" ]
	# the same binary, run from now on without --allow-uid 65534
	printf '#!/bin/sh\nexec "%s" %s\n' "$PVDMAD" "$aopts" >"$a/pvdmad.new"
	chmod +x "$a/pvdmad.new"
	mv -f "$a/pvdmad.new" "$a/pvdmad"
	kill -USR2 "$sup"
	i=0
	while ! grep -q "DMA devices taken back" "$a/log" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	echo go >"$a/io/go"
	wait "$cpid"
	sed 's/^/    client: /' "$a/client"
	check "a restart without --allow-uid 65534: its companion and DMA device not taken back (logged)" \
		sh -c "[ \$(grep -c 'uid 65534: user not allowed' '$a/log') -eq 2 ] &&
			[ \$(grep -c 'client [0-9]* can.t be taken back' '$a/log') -eq 2 ]"
	check "and its FILL through the kept mapping wrote nothing (status $(cat "$a/io/dma-status" 2>/dev/null))" \
		sh -c "[ \"\$(od -An -tx1 -j 10485760 -N1 '$a/ram' | tr -d ' \\n')\" = 00 ] &&
			[ -s '$a/io/dma-status' ] && ! grep -qx 0 '$a/io/dma-status'"
	kill -TERM "$sup"
	wait "$sup"
	sup=
else
	skip "revoked user across a restart: needs root and setpriv"
fi

# 9. Fds handed back that are not what pvdmad made (a keeper holding
# what another process of the service stored, or a region whose seals are
# gone: whoever else holds it could shrink it under pvdmad, SIGBUS). Each
# is checked as when pvdmad made it (docs/security.md §2.8): the client is
# not taken back, and the log says which fd and why. The forger hands the
# fds over as a keeper would; its region has the size pvdmad wants (read
# from the refusal of a first, wrong-sized one).
f=$dir/forged
mkdir -p "$f"
truncate -s 64M "$f/ram"
fopts="--socket $f/c.sock --guest-ram $f/ram --ram-below-4g 32M --control $f/ctl"
forge() {	# KIND: run pvdmad with that set of fds until it serves
	rm -f "$f/ctl"
	python3 "$(dirname "$0")/forge-store.py" "$1" "$PVDMAD" $fopts >"$f/log-$1" 2>&1 &
	fpid=$!
	wait_socket "$f/ctl" 10
	kill -TERM "$fpid"
	# one stuck in the store's names answers no SIGTERM: bounded
	i=0
	while kill -0 "$fpid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$fpid" 2>/dev/null
	wait "$fpid"
}
forge sealed
size=$(sed -n "s/.*companion.1.shm: [0-9]* bytes, this pvdmad's regions are \([0-9]*\).*/\1/p" "$f/log-sealed")
check "a region of another size: refused, its size and the wanted one logged ($size)" [ -n "$size" ]
export FORGE_SIZE="${size:-131072}"
for k in sealed unsealed pipe listener stray zeroid; do forge "$k"; done
unset FORGE_SIZE
check "a region sealed as pvdmad seals it: every fd passes (refused for its missing ledger only)" \
	sh -c "grep -q 'ledger of client 1' '$f/log-sealed' && ! grep -q 'not what pvdmad made' '$f/log-sealed'"
check "a region without seals: not taken back (logged: other seals)" \
	sh -c "grep -q 'companion.1.shm is not what pvdmad made: other seals' '$f/log-unsealed' &&
		grep -q 'client 1 can.t be taken back' '$f/log-unsealed' && ! grep -q 'ledger of client' '$f/log-unsealed'"
check "a pipe as the doorbell: not taken back (logged: not an eventfd)" \
	sh -c "grep -q 'companion.1.bell0 is not what pvdmad made: not an eventfd' '$f/log-pipe' &&
		grep -q 'client 1 can.t be taken back' '$f/log-pipe'"
check "a listening socket as the connection: not taken back (logged)" \
	sh -c "grep -q 'companion.1.sock is not what pvdmad made: a listening socket' '$f/log-listener' &&
		grep -q 'client 1 can.t be taken back' '$f/log-listener'"
# Names in the store no pvdmad writes: each dropped alone. Before: a
# stray "companion.1" was a prefix that dropped client 1's every fd (and
# 10 to 19's ...), and names of client "01" (strtoul's 1, not pvdmad's
# spelling) were found again for ever: pvdmad spun, SIGTERM unanswered.
check "a stray fd named companion.1: dropped alone, client 1 still taken up (refused for its missing ledger only)" \
	sh -c "grep -q 'fd companion.1 in the store has no use' '$f/log-stray' &&
		grep -q 'ledger of client 1' '$f/log-stray' &&
		! grep -q 'companion.1.sock in the store has no use' '$f/log-stray'"
check "fds named for client 01: dropped, pvdmad serves and stops on SIGTERM" \
	sh -c "grep -q 'fd companion.01.sock in the store has no use' '$f/log-zeroid' &&
		grep -q 'shutting down' '$f/log-zeroid'"

finish
