#!/bin/sh
# SPDX-License-Identifier: MIT
# pvdmad attacked through its own sockets, files and limits (docs/security.md
# §2.7): each class of attack that section lists, one pvdmad per case. Needs
# root for the other-user, pid-namespace and full-tmpfs cases (skipped and
# said so otherwise). Prints "N passed, N failed".
# Usage: BUILD=build/san tests/host/run-attack.sh [CASE...]
set -u
. "$(dirname "$0")/../lib.sh"
scratch_dir attack pid
mounted=
ramshm=		# case ramhangups: its RAM file's directory, on tmpfs
# runs pvdmad as on a kernel without a socket option (a seccomp filter):
# pvdmad itself has no test switch for it
OLDKERNEL=${OLDKERNEL:-$BUILD/tests/host/oldkernel}
old=

# after pvdmad is stopped, before $dir goes (scratch_dir)
at_exit() {
	[ -n "$mounted" ] && umount "$mounted" 2>/dev/null
	[ -n "$ramshm" ] && rm -rf "$ramshm"
}

# start CASE [pvdmad options]: a fresh pvdmad in $dir/CASE (sockets c, d,
# ctl; 64 MiB RAM file unless one is there), its pid in $pid. With $old
# set (oldkernel's options), under tests/host/oldkernel: as on a kernel
# without those socket options (start_old).
start() {
	w=$dir/$1
	shift
	mkdir -p "$w"
	[ -e "$w/ram" ] || truncate -s 64M "$w/ram"
	# shellcheck disable=SC2086	# $old: oldkernel's options, split
	${old:+"$OLDKERNEL"} $old ${old:+--} \
		"$PVDMAD" --socket "$w/c.sock" --dma-socket "$w/d.sock" \
		--guest-ram "$w/ram" --control "$w/ctl" --log-file "$w/log" \
		"$@" 2>"$w/stderr" &
	pid=$!
	wait_socket "$w/ctl" || { echo "pvdmad did not start:"; cat "$w/stderr"; }
}

# stop: SIGTERM, exit 0 within 5 s expected (ASan: no leak, no report);
# a daemon stuck in a system call is killed and fails.
stop() {
	kill -CONT "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		echo "pvdmad ignored SIGTERM for 5 s (stuck): killed"
		kill -9 "$pid"
	fi
	wait "$pid"
	rc=$?
	pid=
	[ "$rc" -eq 0 ] || { echo "pvdmad exit $rc"; tail -n 30 "$w/stderr"; }
	return "$rc"
}

# start_old "OLDKERNEL OPTIONS" CASE [pvdmad options]
start_old() {
	old=$1
	shift
	start "$@"
	old=
}

stats_within() {	# seconds: pvdmactl answers in time
	timeout "$1" "$PVDMACTL" --control "$w/ctl" stats --json >"$w/stats.json" 2>&1 &&
		grep -q '^{' "$w/stats.json"
}

alive() { kill -0 "$pid" 2>/dev/null; }
C() { echo --socket "$w/c.sock" --dma-socket "$w/d.sock" --control "$w/ctl"; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# ---- cases -------------------------------------------------------------

case_uaf() {	# deferred free: an evicted control connection in the batch
	start uaf
	check "control eviction within one epoll batch (no use after free)" \
		"$CLIENT" uaf-control --control "$w/ctl" --pid "$pid"
	check "uaf: pvdmad exits cleanly (no sanitizer report)" stop
}

case_linger() {	# no blocking close on a peer's fd
	start linger
	check "lingering fds passed on every socket: never a stall" \
		"$CLIENT" linger $(C)
	check "linger: pvdmad exits cleanly" stop
}

case_oldkernel() {	# the launcher the *_compat cases run pvdmad under
	w=$dir/oldkernel
	mkdir -p "$w"
	# each option's and call's answer: ENOPROTOOPT, ENOSYS, "ok", or
	# another errno's name. The pidfd calls by number (the same on
	# x86_64 and arm64): pidfd_open of itself, then signal 0 and
	# pidfd_getfd of its fd 0 through that pidfd.
	cat >"$w/probe.py" <<'PY'
import ctypes, errno, os, socket
a, b = socket.socketpair()
libc = ctypes.CDLL(None, use_errno=True)
def call(f, *args):
    try:
        f(socket.SOL_SOCKET, *args)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
def syscall(nr, *args):
    r = libc.syscall(nr, *args)
    if r < 0:
        return errno.errorcode[ctypes.get_errno()], -1
    return "ok", r
opened, pidfd = syscall(434, os.getpid(), 0)
signalled, _ = syscall(424, pidfd, 0, None, 0)
got, fd = syscall(438, pidfd, 0, 0)
print("peerpidfd", call(a.getsockopt, 77, 4),
      "passrights-get", call(a.getsockopt, 83, 4),
      "passrights-set", call(a.setsockopt, 83, 0),
      "peercred", call(a.getsockopt, socket.SO_PEERCRED, 12),
      "passcred-set", call(a.setsockopt, socket.SO_PASSCRED, 1),
      "pidfd-open", opened, "pidfd-signal", signalled, "pidfd-getfd", got,
      "getpid", "ok" if libc.syscall(39 if os.uname().machine == "x86_64" else 172) == os.getpid() else "no")
PY
	python3 "$w/probe.py" >"$w/plain"
	"$OLDKERNEL" -- python3 "$w/probe.py" >"$w/none"
	"$OLDKERNEL" --no-peerpidfd -- python3 "$w/probe.py" >"$w/nopeer"
	"$OLDKERNEL" --no-passrights -- python3 "$w/probe.py" >"$w/norights"
	"$OLDKERNEL" --no-peerpidfd --no-passrights -- python3 "$w/probe.py" >"$w/both"
	"$OLDKERNEL" --no-pidfd -- python3 "$w/probe.py" >"$w/nopidfd"
	"$OLDKERNEL" --no-pidfd --no-passrights -- python3 "$w/probe.py" >"$w/nopidfd-rights"
	sed 's/^/    /' "$w/plain" "$w/nopeer" "$w/norights" "$w/both" "$w/nopidfd" \
		"$w/nopidfd-rights"
	if ! grep -q "^peerpidfd ok passrights-get ok passrights-set ok " "$w/plain" ||
	   ! grep -q " pidfd-open ok pidfd-signal ok pidfd-getfd ok " "$w/plain"; then
		skip "oldkernel: this kernel lacks SO_PEERPIDFD, SO_PASSRIGHTS or a pidfd call itself"
		return
	fi
	rest="peercred ok passcred-set ok"
	pidfds="pidfd-open ok pidfd-signal ok pidfd-getfd ok getpid ok"
	nopidfds="pidfd-open ENOSYS pidfd-signal ENOSYS pidfd-getfd ENOSYS getpid ok"
	check "oldkernel, no option: nothing changed" cmp "$w/plain" "$w/none"
	check "oldkernel --no-peerpidfd: getsockopt(SO_PEERPIDFD) ENOPROTOOPT, nothing else" \
		grep -qx "peerpidfd ENOPROTOOPT passrights-get ok passrights-set ok $rest $pidfds" "$w/nopeer"
	check "oldkernel --no-passrights: SO_PASSRIGHTS ENOPROTOOPT, nothing else" \
		grep -qx "peerpidfd ok passrights-get ENOPROTOOPT passrights-set ENOPROTOOPT $rest $pidfds" "$w/norights"
	check "oldkernel, both: both" \
		grep -qx "peerpidfd ENOPROTOOPT passrights-get ENOPROTOOPT passrights-set ENOPROTOOPT $rest $pidfds" "$w/both"
	check "oldkernel --no-pidfd: the pidfd calls ENOSYS, SO_PEERPIDFD ENOPROTOOPT (before 5.3), nothing else" \
		grep -qx "peerpidfd ENOPROTOOPT passrights-get ok passrights-set ok $rest $nopidfds" "$w/nopidfd"
	check "oldkernel --no-pidfd --no-passrights: both" \
		grep -qx "peerpidfd ENOPROTOOPT passrights-get ENOPROTOOPT passrights-set ENOPROTOOPT $rest $nopidfds" "$w/nopidfd-rights"
	if [ "$(uname -m)" = x86_64 ]; then
		# getpid (39) as an x32 call: a foreign ABI, killed (SIGSYS)
		"$OLDKERNEL" -- python3 -c 'import ctypes
ctypes.CDLL(None).syscall(0x40000000 + 39)' 2>/dev/null
		rc=$?
		expect "oldkernel: an x32 system call kills the process (SIGSYS)" "[ $rc -eq 159 ]"
	fi
	"$OLDKERNEL" --no-such-option -- true 2>/dev/null
	rc=$?
	expect "oldkernel: an unknown option runs nothing (125)" "[ $rc -eq 125 ]"
}

case_linger_compat() {	# the same on a kernel without SO_PASSRIGHTS
	start_old --no-passrights linger-compat
	check "without SO_PASSRIGHTS: said at start" grep -q "no SO_PASSRIGHTS" "$w/log"
	"$CLIENT" linger $(C) >"$w/linger.out" 2>&1
	rc=$?
	sed 's/^/    /' "$w/linger.out"
	check "without SO_PASSRIGHTS: lingering fds passed, never a stall" \
		sh -c "[ $rc -eq 0 ] && grep -q 'fd sent; stats' '$w/linger.out'"
	check "  and go to the closer thread" sh -c \
		"'$PVDMACTL' --control '$w/ctl' stats --json | grep -q '\"fds_closed_aside\": [1-9]'"
	check "linger-compat: pvdmad exits cleanly" stop
}

case_linger_emfile() {	# fds a full fd table can't take: released in recvmsg
	w=$dir/linger-emfile
	mkdir -p "$w"
	truncate -s 64M "$w/ram"
	# fewer free fd slots than one message's SCM_MAX_FD (253) fds, as for
	# a pvdmad whose passed fds a stuck closer thread keeps open (§4)
	prlimit --nofile=64:64 "$OLDKERNEL" --no-passrights -- \
		"$PVDMAD" --socket "$w/c.sock" --dma-socket "$w/d.sock" \
		--guest-ram "$w/ram" --control "$w/ctl" --log-file "$w/log" \
		2>"$w/stderr" &
	pid=$!
	wait_socket "$w/ctl" || { echo "pvdmad did not start:"; cat "$w/stderr"; }
	check "out of fd slots, without SO_PASSRIGHTS: 253 fds ending with a lingering one, never a stall" \
		"$CLIENT" linger-emfile $(C) --pid "$pid"
	check "  the connections carrying them went to the closer thread" sh -c \
		"'$PVDMACTL' --control '$w/ctl' stats --json | grep -q '\"fds_closed_aside\": [1-9]'"
	check "linger-emfile: pvdmad exits cleanly" stop
}

case_linger_oob() {	# an urgent byte's fds: released by a read that skips it
	start_old --no-passrights linger-oob
	check "without SO_PASSRIGHTS: a lingering fd on an urgent byte (MSG_OOB), never a stall" \
		"$CLIENT" linger-oob $(C) --pid "$pid"
	check "linger-oob: pvdmad exits cleanly" stop
}

case_eventfd() {	# no blocking I/O on a shared eventfd
	start eventfd
	check "shared eventfds made blocking: never a stall" \
		"$CLIENT" eventfd $(C)
	check "eventfd: tampering counted as violations" \
		sh -c "'$PVDMACTL' --control '$w/ctl' stats --json | grep -q '\"violations\": [1-9]'"
	check "eventfd: pvdmad exits cleanly" stop
}

# A peer racing its interrupt eventfd's O_NONBLOCK against pvdmad's check:
# each race it wins holds the loop in a blocked write until the guard ends
# it, so the guard is all it buys (1 ms, re-armed), per connection.
case_flagrace() {	# a race won on a shared eventfd: a short stall only
	start flagrace
	check "a peer turning its interrupt eventfd's O_NONBLOCK off and on: served or refused, never stuck" \
		"$CLIENT" flagrace --socket "$w/c.sock" --seconds 4
	grep "^flagrace:" "$check_out"
	# the first of each second is logged (rate-limited): at least this many
	won=$(grep -c "blocked us on its eventfd" "$w/log")
	echo "flagrace: $won races won (logged)"
	stats_within 2
	if [ "$won" -gt 0 ]; then
		turn_check "  races won: no loop turn of 45 ms or more (wall: the race is a wait)" \
			longest_wall_turn_under 45000
	else
		skip "flagrace: no race won in 4 s on this machine"
	fi
	check "flagrace: pvdmad exits cleanly" stop
}

case_access() {	# only the allowed users, whatever the file modes
	if ! is_root; then skip "other-user cases need root"; return; fi
	mask=$(umask)
	mkdir -p "$dir/access"	# 0700: a 0777 RAM directory is refused
	umask 000
	start access
	umask "$mask"
	check "sockets created 0600 under umask 000" sh -c \
		"[ \$(stat -c %a '$w/c.sock') = 600 ] && [ \$(stat -c %a '$w/d.sock') = 600 ] && [ \$(stat -c %a '$w/ctl') = 600 ]"
	chmod 0755 "$dir"
	# sticky, or the RAM file's directory refuses it (case_ramdir)
	chmod 1777 "$w"
	chmod 0777 "$w/c.sock" "$w/d.sock" "$w/ctl"
	check "uid 65534 gets nothing, even with the sockets opened up 0777" \
		"$CLIENT" nobody $(C)
	check "refusals logged with the reason" grep -q "refused: user not allowed" "$w/log"
	check "access: pvdmad exits cleanly" stop
	# nobody allowed, but the RAM file is root's alone
	chmod 0600 "$dir/access/ram"
	start access2 --allow-uid 65534
	# sticky, or the RAM file's directory refuses it (case_ramdir)
	chmod 1777 "$w"
	chmod 0777 "$w/c.sock" "$w/d.sock" "$w/ctl"
	chmod 0600 "$w/ram"
	check "--allow-uid: but no companion over a RAM file the peer can't open" \
		"$CLIENT" nobody --socket "$w/c.sock"
	check "the RAM refusal logged" grep -q "could not open the guest RAM" "$w/log"
	check "access2: pvdmad exits cleanly" stop
	start group --socket-group 65534
	check "--socket-group: 0660 and the group" sh -c \
		"[ \$(stat -c %a:%g '$w/c.sock') = 660:65534 ] && [ \$(stat -c %a:%g '$w/ctl') = 660:65534 ]"
	check "group: pvdmad exits cleanly" stop
}

case_pidns() {	# DMA bound by VM identity, not a pid that may be 0
	if ! is_root || ! command -v unshare >/dev/null; then
		skip "pid namespace case needs root and unshare"; return
	fi
	w=$dir/pidns
	mkdir -p "$w"
	truncate -s 64M "$w/ram"
	unshare --pid --fork "$PVDMAD" --socket "$w/c.sock" --dma-socket "$w/d.sock" \
		--guest-ram "$w/ram" --control "$w/ctl" --log-file "$w/log" 2>"$w/stderr" &
	pid=$!
	wait_socket "$w/ctl"
	"$CLIENT" foreign $(C) >"$w/foreign.out" 2>&1
	check "pvdmad in its own pid namespace: a DMA device can't bind another process's companion" \
		grep -q "^PASS DMA bound to another process's companion" "$w/foreign.out"
	check "pidns: the refusal to bind is logged" grep -q "can bind to no companion" "$w/log"
	# unshare forwards no signal: stop the daemon it forked, by its pid
	child=$(pgrep -P "$pid")
	[ -n "$child" ] && kill -TERM "$child"
	wait "$pid"
	pid=
}

case_second() {	# a second daemon never takes over live sockets
	start first
	first=$w
	mkdir -p "$dir/second"
	truncate -s 64M "$dir/second/ram"
	for s in c.sock d.sock ctl; do
		case $s in
		c.sock) args="--socket $first/c.sock --control $dir/second/ctl";;
		d.sock) args="--socket $dir/second/c.sock --dma-socket $first/d.sock";;
		ctl) args="--socket $dir/second/c.sock --control $first/ctl";;
		esac
		# -k: a second daemon that took over may not heed SIGTERM either
		timeout -k 2 5 "$PVDMAD" $args --guest-ram "$dir/second/ram" >"$dir/second/out" 2>&1
		rc=$?
		check "second pvdmad on the live $s: exits non-zero at once" test "$rc" -ge 1 -a "$rc" -lt 124
		check "  and says whose it is" grep -q "in use by pid $pid" "$dir/second/out"
		check "  and the first is still reachable" stats_within 2
		check "  and its socket file is still there" test -S "$first/$s"
	done
	for pair in "-s $dir/x.sock -d $dir/x.sock" "-s $dir/y.sock -c $dir/./y.sock" \
		    "-s $dir/z.sock -r $dir/z.sock"; do
		timeout -k 2 5 "$PVDMAD" -r "$dir/second/ram" $pair >"$dir/second/out" 2>&1
		rc=$?
		check "the same path twice ($pair) refused" sh -c \
			"[ $rc -eq 2 ] && grep -q 'the same file as' '$dir/second/out'"
	done
	check "first: pvdmad exits cleanly" stop
}

case_sigbus() {	# guest RAM that can't be backed: an I/O status, never SIGBUS
	if ! is_root; then skip "full-tmpfs case needs root (mount)"; return; fi
	w=$dir/sigbus
	mkdir -p "$w/small"
	mount -t tmpfs -o size=1M tmpfs "$w/small" || { skip "cannot mount tmpfs"; return; }
	mounted=$w/small
	truncate -s 64M "$w/small/ram"
	# the page good guests use (10 MiB) is backed, then the tmpfs is full
	dd if=/dev/zero of="$w/small/ram" bs=16K seek=640 count=1 conv=notrunc 2>/dev/null
	dd if=/dev/zero of="$w/small/filler" bs=64K 2>/dev/null
	start sigbus --guest-ram "$w/small/ram"
	check "DMA into unbackable guest RAM: io status, pvdmad alive" \
		"$CLIENT" sigbus $(C) --gpa 32M
	check "sigbus: logged, stats answered" sh -c "grep -q 'could not be backed' '$w/log' && '$PVDMACTL' --control '$w/ctl' stats >/dev/null"
	check "sigbus: pvdmad exits cleanly" stop
	umount "$mounted" && mounted=
}

case_hidden() {	# ranges QEMU hides from DMA
	start hidden
	check "legacy VGA window refused, RAM above it mapped" \
		"$CLIENT" hidden --socket "$w/c.sock"
	check "hidden: pvdmad exits cleanly" stop
	start tseg --ram-below-4g 48M --tseg 1M
	check "--tseg: TSEG, the SMBASE window and the VGA window refused, the page below TSEG mapped" \
		"$CLIENT" hidden --socket "$w/c.sock" --gpa 47M
	check "tseg: pvdmad exits cleanly" stop
}

case_emfile() {	# out of fds: no spinning
	w=$dir/emfile
	mkdir -p "$w"
	truncate -s 64M "$w/ram"
	prlimit --nofile=40:40 "$PVDMAD" --socket "$w/c.sock" --dma-socket "$w/d.sock" \
		--guest-ram "$w/ram" --control "$w/ctl" --log-file "$w/log" 2>"$w/stderr" &
	pid=$!
	wait_socket "$w/ctl"
	"$CLIENT" hold $(C) --count 16 --seconds 4 >"$w/hold.out" 2>&1 &
	holder=$!
	sleep 1.5
	t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	sleep 1
	t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	echo "emfile: pvdmad used $((t1 - t0)) clock ticks in 1 s out of fds"
	check "out of fds: pvdmad does not spin (< 0.2 s CPU in 1 s)" test $((t1 - t0)) -lt 20
	wait "$holder"
	sleep 0.5
	check "out of fds: counted and logged" sh -c \
		"'$PVDMACTL' --control '$w/ctl' stats --json | grep -q '\"accept_out_of_fds\": [1-9]' && grep -q 'out of file descriptors' '$w/log'"
	check "fds back: pvdmactl answered" stats_within 2
	check "emfile: pvdmad exits cleanly" stop
}

# own_stderr PID: PID holds another fd than 2 on what its fd 2 names,
# opened O_NONBLOCK (its own open file description, host/log.c)
own_stderr() {
	o_target=$(readlink "/proc/$1/fd/2")
	for o_fd in /proc/$1/fd/*; do
		o_n=${o_fd##*/}
		[ "$o_n" -gt 2 ] && [ "$(readlink "$o_fd")" = "$o_target" ] ||
			continue
		o_flags=$(awk '/^flags:/ { print $2 }' "/proc/$1/fdinfo/$o_n")
		[ $(( 0${o_flags:-0} & 04000 )) -ne 0 ] && return 0
	done
	return 1
}

case_logs() {	# rate-limited logs that never block
	w=$dir/logs
	mkdir -p "$w"
	truncate -s 64M "$w/ram"
	mkfifo "$w/fifo"
	exec 3<>"$w/fifo"	# held open, never read
	# full before pvdmad writes a line, whatever the pipe's size: its
	# first line already finds no room
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
try:
    while True:
        os.write(fd, b"x" * 4096)
except BlockingIOError:
    pass' "$w/fifo"
	"$PVDMAD" --socket "$w/c.sock" --guest-ram "$w/ram" --control "$w/ctl" 2>"$w/fifo" &
	pid=$!
	wait_socket "$w/ctl"
	"$CLIENT" churn --socket "$w/c.sock" --count 2000
	check "stderr a full pipe nobody drains, 2000 connections: stats within 1 s" stats_within 1
	check "  the lines it could not take dropped and counted" \
		grep -q '"log_lines_dropped": [1-9]' "$w/stats.json"
	# the pipe's open file description is the starter's too: O_NONBLOCK
	# set on it would make the shell's own writes fail with EAGAIN
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$pid/fdinfo/2")
	check "  stderr's file description left as it was given (no O_NONBLOCK)" \
		test $(( 0${flags:-4000} & 04000 )) -eq 0
	# lines go through a description of its own, O_NONBLOCK: no poll
	# before the write, which another writer could race
	check "  written through its own O_NONBLOCK description of the pipe" \
		own_stderr "$pid"
	check "logs: pvdmad exits cleanly" stop
	exec 3<&-
	# a terminal whose output is stopped (^S): every write to it waits
	python3 -c 'import os, pty, sys, termios, time
m, s = pty.openpty()
termios.tcflow(s, termios.TCOOFF)
print(os.ttyname(s), flush=True)
time.sleep(60)' >"$w/tty" &
	tty_holder=$!
	i=0
	while ! grep -q . "$w/tty" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	"$PVDMAD" --socket "$w/c.sock" --guest-ram "$w/ram" --control "$w/ctl" \
		2>"$(cat "$w/tty")" &
	pid=$!
	wait_socket "$w/ctl"
	timeout 10 "$CLIENT" churn --socket "$w/c.sock" --count 200
	check "stderr a stopped terminal, 200 connections: stats within 1 s" stats_within 1
	check "  written through its own O_NONBLOCK description of the terminal" \
		own_stderr "$pid"
	check "  the lines it could not take dropped and counted" \
		grep -q '"log_lines_dropped": [1-9]' "$w/stats.json"
	check "stopped terminal: pvdmad exits cleanly" stop
	kill "$tty_holder" 2>/dev/null; wait "$tty_holder" 2>/dev/null
	start logfile
	t0=$(date +%s)
	"$CLIENT" churn --socket "$w/c.sock" --count 2000
	sleep 0.2
	secs=$(( $(date +%s) - t0 + 1 ))
	lines=$(wc -l <"$w/log")
	# 5 lines a second at each call site, and one saying how many were
	# suppressed: four sites a connection (setup, layout, disconnect,
	# release) make 24 in each of the limiter's seconds, however long
	# the churn took (ASan, a loaded machine); unlimited, 4 a
	# connection. Its seconds are CLOCK_MONOTONIC's, not aligned with
	# date's: the $secs whole seconds measured here span up to one more
	# of them (71 lines in "2 s" failed a bound of 30 * secs + 10)
	echo "logs: 2000 connections wrote $lines log lines in ${secs} s"
	check "2000 connections: connect/disconnect lines rate-limited (at most 24 a second, under 1 per 2 connections)" \
		test "$lines" -le $(( 24 * (secs + 1) + 10 )) -a "$lines" -lt 1000
	check "logfile: pvdmad exits cleanly" stop
}

# full_stderr_start socket|fifo: pvdmad in $w (companion socket and
# control only) with a stderr that is full before it starts and that
# nobody drains, in the background ($pid; a process holding the other
# end: $holder). socket: one end of a unix stream socketpair, filled
# until a send of one byte would wait; the other end held, never read.
# fifo: $w/fifo, filled, its reader gone before pvdmad starts (so
# pvdmad can't open a description of its own: ENXIO) and back after.
full_stderr_start() {
	rm -f "$w/c.sock" "$w/ctl" "$w/holder"
	[ "$1" = fifo ] && { rm -f "$w/fifo"; mkfifo "$w/fifo"; }
	python3 -c 'import fcntl, os, socket, sys, time
kind, path = sys.argv[1], sys.argv[2]
def fill(send):
    for size in (65536, 4096, 1):
        try:
            while True:
                send(b"x" * size)
        except BlockingIOError:
            pass
if kind == "socket":
    ours, theirs = socket.socketpair()
    fill(lambda b: ours.send(b, socket.MSG_DONTWAIT))
    fd = ours.fileno()
    if os.fork() == 0:	# the holder, away from pvdmad: never reads
        if os.fork() == 0:
            ours.close()
            with open(path + "/holder", "w") as f:
                print(os.getpid(), file=f)
            time.sleep(120)
        os._exit(0)
    os.wait()
    theirs.close()
else:
    r = os.open(path + "/fifo", os.O_RDONLY | os.O_NONBLOCK)
    fd = os.open(path + "/fifo", os.O_WRONLY | os.O_NONBLOCK)
    fill(lambda b: os.write(fd, b))
    # as a shell would give it: blocking
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    os.close(r)
os.dup2(fd, 2)
os.execv(sys.argv[3], sys.argv[3:])' "$1" "$w" "$PVDMAD" --socket "$w/c.sock" \
		--guest-ram "$w/ram" --control "$w/ctl" &
	pid=$!
	wait_socket "$w/ctl"
	holder=
	if [ "$1" = socket ]; then
		i=0
		while [ ! -s "$w/holder" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		holder=$(cat "$w/holder")
	fi
}

# stderr_flags_given: pvdmad's fd 2 without O_NONBLOCK (a description
# shared with its starter, left as given)
stderr_flags_given() {
	flags=$(awk '/^flags:/ { print $2 }' "/proc/$pid/fdinfo/2")
	test $(( 0${flags:-4000} & 04000 )) -eq 0
}

# stderr_way WAY: the last stats_within's log_stderr is WAY, and pvdmad
# holds no description of stderr's of its own
stderr_way() {
	grep -q "\"log_stderr\": \"$1\"" "$w/stats.json" && ! own_stderr "$pid"
}

case_logs_fallback() {	# stderr written without a description of its own
	w=$dir/logs-fallback
	mkdir -p "$w"
	truncate -s 64M "$w/ram"
	# a socket is sent MSG_DONTWAIT: no description of its own
	full_stderr_start socket
	"$CLIENT" churn --socket "$w/c.sock" --count 2000
	check "stderr a full unix socket nobody reads, 2000 connections: stats within 1 s" \
		stats_within 1
	check "  the lines it could not take dropped and counted" \
		grep -q '"log_lines_dropped": [1-9]' "$w/stats.json"
	check "  stderr's file description left as it was given (no O_NONBLOCK)" \
		stderr_flags_given
	check "  sent MSG_DONTWAIT on it (stats say log_stderr dontwait), no description of its own" \
		stderr_way dontwait
	check "logs-socket: pvdmad exits cleanly" stop
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	# a FIFO with no reader when pvdmad starts: a poll before each write
	full_stderr_start fifo
	exec 3<"$w/fifo"	# the reader comes, never reads
	"$CLIENT" churn --socket "$w/c.sock" --count 2000
	check "stderr a full FIFO whose reader came late, 2000 connections: stats within 1 s" \
		stats_within 1
	check "  the lines it could not take dropped and counted" \
		grep -q '"log_lines_dropped": [1-9]' "$w/stats.json"
	check "  stderr's file description left as it was given (no O_NONBLOCK)" \
		stderr_flags_given
	check "  the poll fallback taken (stats say log_stderr poll), no description of its own" \
		stderr_way poll
	check "logs-fifo: pvdmad exits cleanly" stop
	exec 3<&-
	# a regular file never waits: written plainly, and so said
	rm -f "$w/c.sock" "$w/ctl"
	"$PVDMAD" --socket "$w/c.sock" --guest-ram "$w/ram" --control "$w/ctl" \
		2>"$w/stderr" &
	pid=$!
	wait_socket "$w/ctl"
	stats_within 1
	check "stderr a regular file: written plainly (stats say log_stderr write), its lines there" \
		sh -c "grep -q '\"log_stderr\": \"write\"' '$w/stats.json' && grep -q 'pvdmad\[$pid\]' '$w/stderr'"
	check "logs-file: pvdmad exits cleanly" stop
	start logs-logfile
	stats_within 1
	check "with --log-file: stderr said unused (log_stderr unused)" \
		grep -q '"log_stderr": "unused"' "$w/stats.json"
	check "logs-logfile: pvdmad exits cleanly" stop
}

case_memory() {	# bounded memory per connection
	start memory
	r0=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	"$CLIENT" hold $(C) --count 64 --seconds 3 >"$w/hold.out" 2>&1 &
	holder=$!
	sleep 2
	r1=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	n=$(sed -n 's/^hold: \([0-9]*\) connections/\1/p' "$w/hold.out")
	echo "memory: RSS ${r0} KiB idle, ${r1} KiB with ${n:-?} idle connections: $(( (r1 - r0) / ${n:-1} )) KiB each"
	check "128 idle connections held" test "${n:-0}" -eq 128
	check "idle connections cost < 256 KiB each" test $(( (r1 - r0) / ${n:-1} )) -lt 256
	wait "$holder"
	check "memory: pvdmad exits cleanly" stop
}

case_fair() {	# DMA work in slices across devices
	start fair
	check "a guest's small command is served while another's 256 MiB queue runs" \
		"$CLIENT" fair $(C)
	grep "^fair:" "$check_out"
	check "fair: pvdmad exits cleanly" stop
}

# A slice is bounded (1 MiB of DMA), but a round of them was as long as
# the busy queues were many: 32 pairs of guests (the client's fair: A
# queues 64 x 4 MiB CHECKSUMs, then B rings one FILL; 64 companions, the
# most one socket takes) at once, each pair set up before the next
# connects and all ringing once the last is (the client waits for
# $w/go). A turn's slices stop after 10 ms (one slice at least), the rest
# first in the next turn's round. The bound is on the loop thread's CPU
# time, read by the first pair done (before any hang-up): 10 ms and one
# slice against a round of 32 slices.
case_wide() {	# a loop turn's slices bounded, whatever the busy queues
	start wide
	fairs=
	i=0
	while [ $i -lt 32 ]; do
		timeout 120 "$CLIENT" fair $(C) --dir "$w" >"$w/fair$i.out" 2>&1 &
		fairs="$fairs $!"
		fair_set_up "$w/fair$i.out" $!
		i=$((i + 1))
	done
	echo go >"$w/go"
	bad=0
	for q in $fairs; do wait "$q" || bad=$((bad + 1)); done
	grep -h "^fair:" "$w"/fair*.out | head -n 3
	check "32 guests' 256 MiB DMA queues at once, another guest's FILL beside each: all served within 120 s" \
		test "$bad" -eq 0
	check "  stats within 2 s" stats_within 2
	turn_check "  no loop turn of 45 ms CPU or more while all 32 queues ran" \
		first_longest_turn_under 45000 "$w"/fair*.out
	check "wide: pvdmad exits cleanly" stop
}

# fair_set_up OUT PID: the client's two guests set up (or it gone), 10 s
# at most: one user's QEMUs connecting together may have 6 command-line
# reads in flight (docs/pvdmad.md), more are refused, and on a busy
# machine the reads of 32 guests at once were not all that quick
fair_set_up() {
	i_=0
	while [ $i_ -lt 100 ] && kill -0 "$2" 2>/dev/null &&
		! grep -q "^fair: two guests set up" "$1"; do
		sleep 0.1
		i_=$((i_ + 1))
	done
}

# turn_check NAME CHECK...: check, the figures printed either way (a
# bound's margin is then in every run's log)
turn_check() {
	check "$@"
	cat "$check_out"
}

# longest_turn_under US: the most CPU time pvdmad's loop thread spent in
# one event-loop turn (its wall time printed too: on a busy machine that
# also counts the turns' preemption, which is not what the cases bound)
longest_turn_under() {
	t=$(sed -n 's/.*"longest_turn_cpu_us": \([0-9]*\).*/\1/p' "$w/stats.json")
	echo "longest loop turn ${t:-?} us CPU," \
		"$(sed -n 's/.*"longest_turn_us": \([0-9]*\).*/\1/p' "$w/stats.json") us wall"
	[ -n "$t" ] && [ "$t" -lt "$1" ]
}

# longest_wall_turn_under US: the longest turn in wall time (a turn that
# waits, as a peer's blocking eventfd makes it, costs no CPU)
longest_wall_turn_under() {
	t=$(sed -n 's/.*"longest_turn_us": \([0-9]*\).*/\1/p' "$w/stats.json")
	echo "longest loop turn ${t:-?} us wall"
	[ -n "$t" ] && [ "$t" -lt "$1" ]
}

# first_longest_turn_under US FILE...: the clients' longest loop turns,
# each read before its own guests hung up (its "longest loop turn W us,
# CPU C us" line): the least was read first, before any hang-up, and is
# bounded by US (the turns of hang-ups are not what a case with a bound of
# its own measures)
first_longest_turn_under() {
	b=$1
	shift
	t=$(sed -n 's/.*longest loop turn [0-9-]* us, CPU \([0-9]*\) us.*/\1/p' "$@" |
		sort -n | head -n 1)
	echo "longest loop turn ${t:-?} us CPU before the first hang-up"
	[ -n "$t" ] && [ "$t" -lt "$b" ]
}

# hangups_turn_under US FILE: the longest loop turn once the guests hung
# up, the hang-ups' turn included, under US CPU, or under twice the
# longest before them (FILE's "longest loop turn W us, CPU C us before the
# hang-ups"), the case's own work measured in the same process: a busy
# host makes every turn's CPU time many times longer (one DMA chunk, 4
# first touches of guest RAM: 3 ms idle, 30 to 110 ms CPU beside two busy
# threads on two cores; a hang-up turn of 9 ms, up to 190), while a
# release done on the loop costs many turns' worth (142 ms idle)
hangups_turn_under() {
	b=$(sed -n 's/.*longest loop turn [0-9-]* us, CPU \([0-9]*\) us before the hang-ups.*/\1/p' "$2")
	longest_turn_under "$1" && return 0
	echo "longest loop turn ${b:-?} us CPU before the hang-ups"
	[ -n "$b" ] && [ -n "$t" ] && [ "$t" -lt $((2 * b)) ]
}

case_storm() {	# a companion ring run in slices, as DMA queues are
	start storm --ring-slots 1024 --max-batch 1024
	"$CLIENT" storm --socket "$w/c.sock" >"$w/storm.out" 2>&1 &
	storm=$!
	sleep 0.3
	check "a guest's full ring rung (1024 x 1024 RESETs): stats within 1 s" stats_within 1
	wait "$storm"
	rc=$?
	grep "^storm:" "$w/storm.out"
	check "another guest's NOP served while that ring runs" \
		sh -c "cat '$w/storm.out'; exit $rc"
	stats_within 2
	turn_check "  no loop turn of 250 ms CPU or more" longest_turn_under 250000
	check "storm: pvdmad exits cleanly" stop
}

# The client's storm NAME from COUNT guests at once (tests/host/client.c),
# then: every guest answered (WHAT), no loop turn of 250 ms CPU before
# they hung up (as many as 64 idle guests hanging up at once are a turn
# of their own, not what these cases are about), stats within 2 s (with
# "hangups" also the hang-ups' turn bounded: the release case's RESETs
# and hang-ups both release what the guests mapped), a clean exit.
# guests_gone SECONDS: pvdmad serves no guest within that long (stats.json
# kept for what follows)
guests_gone() {
	i=0
	while [ $i -lt $(($1 * 10)) ]; do
		stats_within 2 && grep -q '"guests_live": 0[,}]' "$w/stats.json" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

ring_storm() {	# NAME COUNT WHAT [hangups]
	"$CLIENT" "$1" $(C) --pid "$pid" --count "$2" >"$w/$1.out" 2>&1
	rc=$?
	grep "^$1:" "$w/$1.out"
	check "$3" sh -c "cat '$w/$1.out'; exit $rc"
	turn_check "  no loop turn of 250 ms CPU or more before the hang-ups" \
		first_longest_turn_under 250000 "$w/$1.out"
	check "  stats within 2 s" stats_within 2
	if [ -n "${4:-}" ]; then
		turn_check "  the hang-ups' loop turn under 250 ms CPU" \
			hangups_turn_under 250000 "$w/$1.out"
	fi
	check "$1: pvdmad exits cleanly" stop
}

# Each release (RESET, HELLO, hang-up) is one entry to the guest, however
# many mappings it built up (max_mappings, paid for in slices): it must
# not cost a walk of them. 48 guests, each with 65,536 one-page mappings,
# release them in one epoll batch: by RESET, then by hanging up.
case_release() {	# a release costs the same whatever the guest mapped
	start release --max-batch 1024
	ring_storm release 48 "48 guests' full domains (65536 mappings each) released at once: served" hangups
}

# A HELLO opens the RAM file if it is not open: a path walk, some twenty
# system calls. QEMU's user owns the file's directory and can take the
# file away: 4 guests then fill their rings with HELLOs (1024 a slot) and
# ring in one epoll batch. A refused open is tried once a slot and charged.
case_ramless() {	# HELLOs that each would walk the RAM path
	mkdir -p "$dir/ramless/gone"
	start ramless --guest-ram "$dir/ramless/gone/ram" --ring-slots 16 --max-batch 1024
	ring_storm ramless 4 "4 guests' rings of HELLOs, the RAM file not there: all answered IO"
}

# A RESET or HELLO is charged one entry; with nothing mapped since the
# last, it must cost no system call (the ledger's hole punch): 64 guests,
# the most one socket takes, ring 1024 RESETs a slot in one epoll batch,
# a round of 65,536 RESETs.
case_resets() {	# RESETs with nothing to release
	start resets --ring-slots 2 --max-batch 1024
	ring_storm resets 64 "64 guests' rings of RESETs with nothing mapped: all answered"
}

# ring_ms NAME: how long the client's rings of NAME took to be answered
ring_ms() {
	sed -n "s/^$1: .* done in \([0-9.]*\) ms.*/\1/p" "$w/$1.out"
}

# A HELLO releases as a RESET does, and checks the RAM file's size (a
# system call) and logs the layout; those once a slot, not once a HELLO:
# 64 guests ring 1024 RESETs a slot in one epoll batch, then 1024 HELLOs
# (the RAM file there), and the HELLOs may take at most 5 times as long
# (50 ms of slack for the machine's load). Once a HELLO, they took 11
# times as long.
hellos_cheap() {
	r=$(ring_ms resets)
	h=$(ring_ms hellos)
	echo "RESET rings answered in $r ms, HELLO rings in $h ms"
	[ -n "$r" ] && [ -n "$h" ] && awk -v r="$r" -v h="$h" 'BEGIN { exit !(h < 5 * r + 50) }'
}

case_hellos() {	# HELLOs cost a RESET's work, their checks once a slot
	start hellos --ring-slots 2 --max-batch 1024
	for m in resets hellos; do
		"$CLIENT" $m $(C) --pid "$pid" --count 64 >"$w/$m.out" 2>&1
		rc=$?
		grep "^$m:" "$w/$m.out"
		check "64 guests' rings of $m (the RAM file there): all answered" \
			sh -c "cat '$w/$m.out'; exit $rc"
	done
	check "  the HELLOs' rings in under 5 times the RESETs' time + 50 ms" hellos_cheap
	check "  stats within 2 s" stats_within 2
	check "hellos: pvdmad exits cleanly" stop
}

# The dearest entry, a MAP that tries every alignment in a fragmented bus
# space, times a loop turn: 64 guests (the most one socket takes) each
# take their whole bus space but for small gaps at its bottom where such
# a MAP can't keep its alignment, then fill their rings (4 x 1024) with
# such MAPs and ring at once; a turn serves 32 doorbells (one epoll
# batch) and a round of all 64. A slice stops inside a slot, within one
# entry of its budget; a slot that ran whole made that turn 96 x 1024.
# The client reads the longest turn before its guests hang up.
case_dear() {	# a slot split across slices
	start dear --ring-slots 4 --max-batch 1024 --aperture $((4 * 1024 * 1024 * 1024 - 16384))
	"$CLIENT" dear $(C) --pid "$pid" --count 64 >"$w/dear.out" 2>&1
	rc=$?
	grep "^dear:" "$w/dear.out"
	check "64 guests' rings (4 x 1024) of MAPs in fragmented bus space: all answered, no loop turn of 250 ms CPU or more" \
		sh -c "cat '$w/dear.out'; exit $rc"
	check "  stats within 2 s after the hang-ups" stats_within 2
	check "dear: pvdmad exits cleanly" stop
}

# What a guest's hang-up gives back can be what it made pvdmad write: 32
# guests (one epoll batch of hang-ups), with 4 KiB IOMMU pages (four times
# the ledger records of 16 KiB ones) and 4 GiB of bus space each, write
# every page of their ledgers (40 MiB each: client spread) and hang up at
# once. Freeing a ledger's pages takes as long as they are many, tens of
# ms each: on the loop, that epoll batch of hang-ups was one turn of them
# all.
# spread_run NAME WHAT [resets]: pvdmad with 4 KiB pages and 4 GiB of bus
# space, the client's spread from 32 guests (with a RESET each before the
# hang-ups if asked), checked as WHAT.
spread_run() {
	start "$1" --ring-slots 4 --max-batch 1024 -p 4096 --aperture $((4 * 1024 * 1024 * 1024 - 16384))
	"$CLIENT" spread $(C) ${3:+--pid "$pid"} --count 32 >"$w/spread.out" 2>&1
	rc=$?
	grep "^spread:" "$w/spread.out"
	check "$2" sh -c "cat '$w/spread.out'; exit $rc"
}

case_hangups() {	# a departing guest's ledger freed off the loop
	spread_run hangups "32 guests' ledgers written whole: every MAP answered"
	check "  every guest gone within 10 s of the hang-ups" guests_gone 10
	turn_check "  the hang-ups' loop turn under 100 ms CPU" \
		hangups_turn_under 100000 "$w/spread.out"
	check "hangups: pvdmad exits cleanly" stop
}

# The other thing a guest's hang-up gives back that it made large: each
# companion maps the guest RAM file itself, and the DMA model faults in
# there every page it moves, so unmapping it takes as long as the RAM its
# DMA devices touched (tens of ms a GiB at 4 KiB pages). 8 guests each
# FILL the same 512 MiB of a 1 GiB RAM file on tmpfs (512 MiB of memory),
# then hang up in one epoll batch (pvdmad stopped meanwhile): on the loop,
# that was one turn of 8 munmaps (142 to 167 ms CPU; 2 to 3 ms off it).
case_ramhangups() {	# a departing guest's RAM mapping freed off the loop
	ramshm=$(mktemp -d /dev/shm/pvdma-attack.XXXXXX) || {
		check "a directory on /dev/shm for the RAM file" false
		return
	}
	truncate -s 1G "$ramshm/ram"
	start ramhangups --guest-ram "$ramshm/ram" --dma-queue 16 --dma-max-len 64M
	"$CLIENT" ramtouch $(C) --pid "$pid" --count 8 >"$w/ramtouch.out" 2>&1
	rc=$?
	grep "^ramtouch:" "$w/ramtouch.out"
	check "8 guests moved 512 MiB of RAM each, then hung up at once" \
		sh -c "cat '$w/ramtouch.out'; exit $rc"
	check "  every guest gone within 10 s of the hang-ups" guests_gone 10
	turn_check "  the hang-ups' loop turn under 60 ms CPU" \
		hangups_turn_under 60000 "$w/ramtouch.out"
	check "ramhangups: pvdmad exits cleanly" stop
	rm -rf "$ramshm"
	ramshm=
}

# And the shared region, the guest's to fill through its BAR: at the
# largest ring (--ring-slots 1024 --max-batch 1024) 64 MiB a companion.
# QEMU gone, pvdmad's close is its pages' last holder, and freeing them
# takes as long as they are many. 16 guests fill theirs whole, let go of
# them and hang up in one epoll batch (pvdmad stopped meanwhile): 1 GiB
# freed; on the loop, one turn of it.
case_regionhangups() {	# a departing guest's region freed off the loop
	start regionhangups --ring-slots 1024 --max-batch 1024
	"$CLIENT" regionfill $(C) --pid "$pid" --count 16 >"$w/regionfill.out" 2>&1
	rc=$?
	grep "^regionfill:" "$w/regionfill.out"
	check "16 guests filled their 64 MiB regions, then hung up at once" \
		sh -c "cat '$w/regionfill.out'; exit $rc"
	check "  every guest gone within 10 s of the hang-ups" guests_gone 10
	turn_check "  the hang-ups' loop turn under 30 ms CPU" \
		hangups_turn_under 30000 "$w/regionfill.out"
	check "regionhangups: pvdmad exits cleanly" stop
}

# And its DART records: an array of 80 bytes a mapping it may hold, a
# mapping of its own that pvdmad hands to the closer's memory lane with
# the rest (filling it takes a million MAPs: what is checked here is that
# it goes aside, not a turn's time). One guest maps a little and hangs up,
# to a pvdmad of --max-mappings 1048576, then the same to one of 65536:
# the bytes unmapped aside differ by exactly the arrays' difference.
# records_aside NAME MAX: $aside, bytes_unmapped_aside once NAME's guest
# is gone (empty if it did not go)
records_aside() {
	start "$1" --max-mappings "$2" --ring-slots 4 --max-batch 1024 -p 4096 --aperture $((4 * 1024 * 1024 * 1024 - 16384))
	"$CLIENT" spread $(C) --count 1 >"$w/spread.out" 2>&1
	rc=$?
	check "$1: a guest's MAPs to a pvdmad of --max-mappings $2 answered" \
		sh -c "cat '$w/spread.out'; exit $rc"
	aside=
	guests_gone 10 &&
		aside=$(sed -n 's/.*"bytes_unmapped_aside": \([0-9]*\).*/\1/p' "$w/stats.json")
	check "$1: pvdmad exits cleanly" stop
}

case_recordhangups() {	# a departing guest's DART records freed off the loop
	records_aside recordhangups 1048576
	big=$aside
	records_aside recordhangups_small 65536
	echo "recordhangups: bytes unmapped aside: ${big:-none} at 1048576 mappings, ${aside:-none} at 65536"
	check "  a guest gone: its DART records (80 bytes x --max-mappings) unmapped aside" \
		test "$(( ${big:-0} - ${aside:-0} ))" -eq $(( (1048576 - 65536) * 80 ))
}

# The same ledgers released by a RESET each, rung in one epoll batch: a
# release that freed the records' pages (a hole punch as long as they are
# many) made that turn all 32 of them.
case_wideresets() {	# a release is a new generation of records, O(1)
	spread_run wideresets "32 guests' ledgers written whole, then a RESET each at once: all answered" resets
	turn_check "  no loop turn of 250 ms CPU or more, the RESETs' included, before the hang-ups" \
		first_longest_turn_under 250000 "$w/spread.out"
	check "  stats within 2 s" stats_within 2
	check "wideresets: pvdmad exits cleanly" stop
}

# A DMA command may be as long as --dma-max-len, and a slice moved one
# whole: a guest's queue of 32 MiB CHECKSUMs made each of its slices a
# loop turn of tens of ms under ASan, however few the busy queues. A
# command's data now moves in chunks, a slice's budget (1 MiB) at a time.
case_bigcmd() {	# a long DMA command split across slices
	start bigcmd --dma-max-len 32M
	"$CLIENT" fair $(C) --count 32 >"$w/bigcmd.out" 2>&1
	rc=$?
	grep "^fair:" "$w/bigcmd.out"
	check "a guest's small command is served while another's queue of 32 MiB CHECKSUMs runs" \
		sh -c "cat '$w/bigcmd.out'; exit $rc"
	turn_check "  no loop turn of 30 ms CPU or more while it ran" \
		first_longest_turn_under 30000 "$w/bigcmd.out"
	check "bigcmd: pvdmad exits cleanly" stop
}

case_unbind() {	# a split DMA command reads its binding again each slice
	start unbind --dma-max-len 32M
	check "a split FILL rebound to nobody's domain, then one whose companion hung up: the rest not bound, unwritten" \
		"$CLIENT" unbind $(C) --ram "$w/ram"
	grep "^unbind:" "$check_out"
	check "unbind: pvdmad exits cleanly (no sanitizer report)" stop
}

case_faulty() {	# DMA slices charge the pages checked, not only bytes moved
	start faulty --dma-queue 4096 --dma-max-len 64M
	check "a guest's small command is served while another's queue of 4096 faulting 64 MiB FILLs runs" \
		"$CLIENT" faulty $(C)
	grep "^faulty:" "$check_out"
	stats_within 2
	turn_check "  no loop turn of 100 ms CPU or more" longest_turn_under 100000
	check "faulty: pvdmad exits cleanly" stop
}

case_lease() {	# no open of a file a peer can hold
	start lease
	check "a lease on the guest RAM file: never a stall" \
		"$CLIENT" lease --socket "$w/c.sock" --ram "$w/ram" --control "$w/ctl"
	check "  the refused HELLO logged" grep -q "guest RAM .*: Resource temporarily unavailable" "$w/log"
	check "lease: pvdmad exits cleanly" stop
}

case_ramfs() {	# the RAM path never leads off its directory's file system
	start ramfs
	far=$(mktemp /dev/shm/pvdma-attack-ram.XXXXXX)
	truncate -s 64M "$far"
	if [ "$(stat -c %d "$w")" = "$(stat -c %d "$far")" ]; then
		skip "/dev/shm is the test directory's file system"
	else
		# after pvdmad checked it at start: QEMU's user swaps in a symlink
		# to a file on another mount (for an attacker, a FUSE file it serves)
		ln -sf "$far" "$w/ram"
		check "RAM path swapped for a symlink off its file system: HELLO io, pvdmad serving" \
			"$CLIENT" hello-io --socket "$w/c.sock" --control "$w/ctl"
		check "  the refusal logged" grep -q "guest RAM $w/ram: a symlink to $far" "$w/log"
	fi
	rm -f "$far"
	check "ramfs: pvdmad exits cleanly" stop
}

# refuses_to_start RAM: pvdmad with --guest-ram RAM exits non-zero within
# 5 s (its log in $w/log)
refuses_to_start() {
	"$PVDMAD" --socket "$w/c.sock" --guest-ram "$1" --control "$w/ctl" \
		--log-file "$w/log" 2>"$w/stderr" &
	r_pid=$!
	i=0
	while kill -0 "$r_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill "$r_pid" 2>/dev/null	# still running: it did not refuse
	wait "$r_pid"
	[ $? -ne 0 ]
}

case_ramdir() {	# the RAM file's directories: nobody else may write them
	w=$dir/ramdir
	mkdir -p "$w/vm"
	truncate -s 64M "$w/vm/ram"
	chmod 0777 "$w/vm"
	check "RAM file in a directory every user may write: pvdmad refuses to start" \
		refuses_to_start "$w/vm/ram"
	check "  naming the directory and the fix" \
		grep -q "directory $w/vm is writable by every user (mode 0777).*chmod go-w" "$w/log"
	chmod 0700 "$w/vm"
	mv "$w/vm/ram" "$w/ram"
	rmdir "$w/vm"
	start ramdir
	chmod 0777 "$w"	# after start: the next HELLO's lookup sees it
	check "a RAM directory opened up under a running pvdmad: HELLO io, pvdmad serving" \
		"$CLIENT" hello-io --socket "$w/c.sock" --control "$w/ctl"
	check "  the refusal logged" grep -q "directory $w is writable by every user" "$w/log"
	chmod 1777 "$w"
	timeout 5 "$CLIENT" hold --socket "$w/c.sock" --count 1 --seconds 0 >"$w/hold.out" 2>&1
	check "  sticky (like /dev/shm), the file root's: served" grep -q "^hold: 1 connections" "$w/hold.out"
	chmod 0700 "$w"
	check "ramdir: pvdmad exits cleanly" stop
	# a symlink on the way, in a directory off the chain the path leads
	# to: whoever may replace the link steers the path
	mkdir -p "$w/pub" "$w/safe"
	truncate -s 64M "$w/safe/ram"
	chmod 1777 "$w/pub"
	ln -s ../safe "$w/pub/vm"
	if is_root; then
		chown -h 65534 "$w/pub/vm"
		check "RAM path through another user's symlink in a sticky directory: pvdmad refuses to start" \
			refuses_to_start "$w/pub/vm/ram"
		check "  naming the directory and the link's owner" \
			grep -q "directory $w/pub is writable by others and $w/pub/vm in it belongs to uid 65534" "$w/log"
		chown -h 0 "$w/pub/vm"
		start ramdir --guest-ram "$w/pub/vm/ram"
		timeout 5 "$CLIENT" hold --socket "$w/c.sock" --count 1 --seconds 0 >"$w/hold.out" 2>&1
		check "  the link root's: served" grep -q "^hold: 1 connections" "$w/hold.out"
		check "  pvdmad exits cleanly" stop
	fi
	chmod 0777 "$w/pub"
	check "RAM path through a symlink in a directory every user may write: pvdmad refuses to start" \
		refuses_to_start "$w/pub/vm/ram"
	check "  naming that directory" \
		grep -q "directory $w/pub is writable by every user" "$w/log"
	# the RAM file itself a link, into a directory every user may write:
	# a last component leading out of its directory is refused as such
	# (case_ramfuse), before any lookup there
	mkdir -p "$w/open"
	truncate -s 64M "$w/open/ram"
	chmod 0777 "$w/open"
	ln -s ../open/ram "$w/safe/link"
	check "RAM file a symlink to a file in a directory every user may write: pvdmad refuses to start" \
		refuses_to_start "$w/safe/link"
	check "  naming the link that leads out of its directory" \
		grep -q "a symlink to ../open/ram: the RAM path's last component may only link to another entry of its own directory" "$w/log"
}

case_syslog() {	# syslog lines never wait on /dev/log's queue
	if ! is_root; then skip "a /dev/log of our own needs root (a mount namespace)"; return; fi
	w=$dir/syslog
	mkdir -p "$w/dev"
	truncate -s 64M "$w/ram"
	# a /dev/log that never reads: a stopped journal, or one any local
	# user keeps flooded (its queue holds net.unix.max_dgram_qlen lines),
	# full before pvdmad writes a line: however few lines the connections
	# leave (a client that goes at once may leave none), some are dropped
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
f = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
f.setblocking(False)
try:
    while True:
        f.sendto(b"flood", sys.argv[1])
except BlockingIOError:
    pass
open(sys.argv[2], "w").close()
time.sleep(120)' "$w/dev/log" "$w/full" &
	sink=$!
	i=0
	while [ ! -e "$w/full" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	: >"$w/dev/null"
	unshare -m sh -c "mount --make-rprivate / && mount --bind /dev/null '$w/dev/null' &&
		mount --bind '$w/dev' /dev && exec '$PVDMAD' --socket '$w/c.sock' \
		--dma-socket '$w/d.sock' --guest-ram '$w/ram' --control '$w/ctl' \
		--log-file '$w/log' --syslog" 2>"$w/stderr" &
	pid=$!
	wait_socket "$w/ctl" || { echo "pvdmad did not start:"; cat "$w/stderr"; }
	"$CLIENT" churn --socket "$w/c.sock" --count 300 >/dev/null
	check "a /dev/log that never reads, 300 connections: stats within 1 s" \
		stats_within 1
	check "  the lines it could not take dropped and noted" \
		grep -q "log lines dropped" "$w/log"
	check "syslog: pvdmad exits cleanly" stop
	kill "$sink" 2>/dev/null; wait "$sink" 2>/dev/null
}

case_notify() {	# fd store messages never wait on $NOTIFY_SOCKET's queue
	w=$dir/notify
	mkdir -p "$w"
	truncate -s 64M "$w/ram"
	# The keeper's socket is one every local user may write (systemd's
	# /run/systemd/notify): its queue kept full by a flood, then nobody
	# reads until $w/go appears; then every message is counted.
	python3 -c 'import array, os, socket, sys, time
path, go, out = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
f = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
f.setblocking(False)
try:
    while True:
        f.sendto(b"X=1", path)
except BlockingIOError:
    pass
while not os.path.exists(go):
    time.sleep(0.05)
s.settimeout(3)
kept = {}
try:
    while True:
        data, anc, _, _ = s.recvmsg(512, socket.CMSG_SPACE(4))
        fds = array.array("i")
        for lvl, typ, d in anc:
            if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(d[:4])
        lines = dict(l.split("=", 1) for l in data.decode().split("\n") if "=" in l)
        name = lines.get("FDNAME", "")
        if "FDSTORE" in lines and len(fds) == 1:
            kept[name] = 1
        if "FDSTOREREMOVE" in lines:
            kept.pop(name, None)
        for fd in fds:
            os.close(fd)
        with open(out, "w") as o:
            o.write("".join(n + "\n" for n in sorted(kept)))
except socket.timeout:
    pass' "$w/notify" "$w/go" "$w/kept" &
	keeper=$!
	wait_socket "$w/notify"
	sleep 0.2
	NOTIFY_SOCKET=$w/notify start notify
	"$CLIENT" hold --socket "$w/c.sock" --dma-socket "$w/d.sock" --count 2 \
		--seconds 4 >"$w/hold.out" 2>&1 &
	holder=$!
	sleep 1
	check "a NOTIFY_SOCKET kept full, 2 VMs connecting: stats within 1 s" \
		stats_within 1
	check "  both VMs served" grep -q "^hold: 4 connections" "$w/hold.out"
	check "  the messages waiting for the keeper counted" \
		grep -q '"fd_store_waiting": [1-9]' "$w/stats.json"
	touch "$w/go"
	sleep 1
	n=$(grep -c '^\(companion\|dma\)\.[0-9]' "$w/kept" 2>/dev/null)
	echo "notify: the keeper holds ${n:-0} fds of the guests (4 connections, 5 each)"
	check "  once the keeper reads, every FDSTORE=1 of the VMs reaches it with its fd" \
		test "${n:-0}" -eq 20
	wait "$holder"
	check "notify: pvdmad exits cleanly" stop
	kill "$keeper" 2>/dev/null; wait "$keeper" 2>/dev/null
}

# await_hold OUT READY SKIP: wait (5 s at most) until $holder, a holding
# client in the background, has written READY to OUT. 0, or 2 if it
# stopped saying SKIP (this kernel lets no peer hold), else 1.
await_hold() {
	i=0
	while ! grep -q "$2" "$1" && kill -0 "$holder" 2>/dev/null &&
		[ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	grep -q "$2" "$1" && return 0
	sed 's/^/    /' "$1"
	wait "$holder"
	grep -q "$3" "$1" && return 2
	return 1
}

# hold_cmdline NAME COUNT SECONDS [UID]: a peer whose command line no
# reader gets (tests/host/stallfs.c), connected COUNT times to the
# companion socket (as UID if given), in the background ($holder, also
# added to $holders); waits until it says it holds.
# 0, or 2 if this kernel lets no peer hold it (a skip), else 1.
hold_cmdline() {
	mkdir -p "$w/$1"
	: >"$w/$1.out"
	mounted=$w/$1		# the client unmounts it; at_exit if it can't
	"$CLIENT" cmdline-hold --socket "$w/c.sock" --dir "$w/$1" \
		--count "$2" --seconds "$3" ${4:+--uid "$4"} >"$w/$1.out" 2>&1 &
	holder=$!
	holders="$holders $holder"
	await_hold "$w/$1.out" "^cmdline-hold: pid" \
		"does not wait on this kernel\|FUSE mount"
}

# stats_are KEY VALUE...: each KEY has VALUE in the last stats_within's
stats_are() {
	while [ $# -ge 2 ]; do
		grep -Eq "\"$1\": $2([,}]|\$)" "$w/stats.json" || return 1
		shift 2
	done
}

# The users the cmdline cases run peers as, besides root: each may
# connect, reach the socket and open the RAM file (the peer's own right,
# checked at connect), as QEMUs of different users would.
CMDLINE_UIDS="65531 65532 65533 65534"
cmdline_start() {
	# shellcheck disable=SC2046	# one --allow-uid per uid
	start "$1" $(for u in $CMDLINE_UIDS; do echo --allow-uid "$u"; done)
	chmod 0755 "$dir"
	chmod 0666 "$w/c.sock" "$w/ram"
	holders=
}

# as_uid UID CMD...: CMD as user and group UID, no other groups
as_uid() {
	u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}

# cmdline_can_hold: root, /dev/fuse and setpriv, or a skip said
cmdline_can_hold() {
	if ! is_root || [ ! -c /dev/fuse ]; then
		skip "a FUSE mount of our own needs root and /dev/fuse"; return 1
	fi
	if ! command -v setpriv >/dev/null; then
		skip "peers of other users need setpriv"; return 1
	fi
}

# The first hold_cmdline's status: 0 go on, else the case ends (skip or
# fail said, pvdmad stopped).
cmdline_held() {
	[ "$1" -eq 0 ] && return 0
	[ "$1" -eq 2 ] && skip "this kernel lets no peer hold a reader of its command line"
	[ "$1" -eq 2 ] || fail "cmdline: the peer was set up"
	stop
	return 1
}

case_cmdline() {	# QEMU's command line is read off the loop, with a deadline
	cmdline_can_hold || return
	cmdline_start cmdline
	# a peer that holds its own mmap lock on a FUSE page never served:
	# any reader of its command line waits
	hold_cmdline fuse 1 12
	cmdline_held $? || return
	check "a QEMU whose command line can't be read: stats within 1 s" stats_within 1
	check "  its read counted as running" stats_are cmdline_reads_running 1
	timeout 3 "$CLIENT" hold --socket "$w/c.sock" --count 2 --seconds 0 >"$w/others.out" 2>&1
	check "  other guests served meanwhile, within 1 s" grep -q "^hold: 2 connections" "$w/others.out"
	sleep 2.5	# its deadline (2 s) passes
	stats_within 1
	check "  past its deadline (2 s): refused, counted, its reader stuck" \
		stats_are cmdline_timed_out 1 cmdline_reads_stuck 1 cmdline_reads_running 1
	check "  the refusal logged with its pid" \
		grep -q "refused: its command line (/proc/[0-9]*/cmdline) not readable within 2000 ms" "$w/log"
	# the same user's peer connected twice more: one reader is left in
	# its share of 2 (a quarter of 8), so the second read waits for one
	# of that user's readers, and so does that user's next QEMU; the
	# readers stay stuck, so both time out at their deadline (2 s from
	# the connection), refused, never served unchecked
	hold_cmdline fuse2 2 8 || fail "cmdline: the second peer was set up"
	stats_within 1
	check "  one user's share of the readers (2) taken: its next read waits, counted" \
		stats_are cmdline_reads_running 2 cmdline_reads_waiting 1 cmdline_reads_queued 1 cmdline_refused_peer_quota 0 cmdline_refused_busy 0
	t0=$(date +%s%N)
	timeout 6 "$CLIENT" hold --socket "$w/c.sock" --count 1 --seconds 0 \
		--answer-within 4 >"$w/quota.out" 2>&1
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "cmdline: the QEMU that waited behind its user's stuck readers answered after $ms ms"
	check "  a QEMU of that user then waits, refused at its deadline, not served unchecked" \
		sh -c "grep -q '^hold: 0 connections' '$w/quota.out' && [ $ms -ge 1800 ] && [ $ms -lt 3500 ]"
	sleep 0.3
	stats_within 1
	check "  the waiting reads timed out, counted, never started" \
		stats_are cmdline_reads_waiting 0 cmdline_reads_queued 2 cmdline_timed_out 4 cmdline_reads_stuck 2 cmdline_refused_peer_quota 0
	# three more users' peers take their shares: all 8 readers taken,
	# so a QEMU of a fifth user is refused at once, counted as busy
	for u in 65531 65532 65533; do
		hold_cmdline "fuse-$u" 2 6 "$u" || fail "cmdline: the peer of uid $u was set up"
	done
	stats_within 1
	check "  four users' peers take all 8 readers" \
		stats_are cmdline_reads_running 8 cmdline_refused_peer_quota 0 cmdline_refused_busy 0
	as_uid 65534 timeout 5 "$CLIENT" hold --socket "$w/c.sock" --count 1 --seconds 0 >"$w/busy.out" 2>&1
	check "  a QEMU of another user then refused, not served unchecked" \
		grep -q "^hold: 0 connections" "$w/busy.out"
	stats_within 1
	check "  counted as busy" stats_are cmdline_refused_busy 1
	check "  and the refusal logged" grep -q "refused: all 8 command-line reader threads still wait" "$w/log"
	# shellcheck disable=SC2086	# $holders: pids
	wait $holders	# the peers die: their readers end
	sleep 0.3
	stats_within 1
	check "  the peers gone: no reader stuck" stats_are cmdline_reads_running 0
	timeout 3 "$CLIENT" hold --socket "$w/c.sock" --count 2 --seconds 0 >"$w/after.out" 2>&1
	check "  and QEMUs served again" grep -q "^hold: 2 connections" "$w/after.out"
	check "cmdline: pvdmad exits cleanly" stop
}

case_cmdline_users() {	# one user's stuck readers leave other users' QEMUs served
	cmdline_can_hold || return
	cmdline_start cmdline-users
	# uid 65533's peer connects 9 times, more than the whole pool of 8
	# readers: its reads never end; the first 2 (its share, a quarter)
	# run, the next 4 (its places in the queue) wait for them, the 3
	# after them are refused at once
	hold_cmdline stuck 9 8 65533
	cmdline_held $? || return
	stats_within 1
	check "one user's peer connected 9 times: 2 reads run (its share), 4 wait, 3 refused, counted" \
		stats_are cmdline_reads_running 2 cmdline_reads_waiting 4 cmdline_reads_queued 4 cmdline_refused_peer_quota 3 cmdline_refused_busy 0
	check "  the refusal logged with its uid and the stat" \
		grep -q "uid 65533 refused: its user's peers hold 2 of the 8 command-line reader threads.*no place is left for it to wait.*(cmdline_refused_peer_quota in stats)" "$w/log"
	# another user's QEMUs meanwhile: each command line read and checked
	# (one saying -m 128M, which the 64 MiB RAM file does not hold, is
	# refused for it), the plain ones served
	as_uid 65534 timeout 5 "$CLIENT" hold --socket "$w/c.sock" --count 1 \
		--seconds 0 -- -m 128M >"$w/mismatch.out" 2>&1
	check "  another user's QEMU meanwhile: its command line read and checked (-m refused)" \
		grep -q "QEMU was given -m 134217728 bytes, the RAM file holds 67108864" "$w/log"
	check "  (and that QEMU not served)" grep -q "^hold: 0 connections" "$w/mismatch.out"
	as_uid 65534 timeout 5 "$CLIENT" hold --socket "$w/c.sock" --count 2 \
		--seconds 0 >"$w/other.out" 2>&1
	check "  and its plain QEMUs served" grep -q "^hold: 2 connections" "$w/other.out"
	sleep 2.5	# the stuck reads' deadline (2 s) passes
	stats_within 1
	check "  past their deadline: both readers stuck, still that user's, its waiting reads timed out" \
		stats_are cmdline_reads_stuck 2 cmdline_reads_running 2 cmdline_reads_waiting 0 cmdline_timed_out 6
	as_uid 65534 timeout 5 "$CLIENT" hold --socket "$w/c.sock" --count 2 \
		--seconds 0 >"$w/other2.out" 2>&1
	check "  the other user's QEMUs still served" grep -q "^hold: 2 connections" "$w/other2.out"
	# a QEMU of the stalling user waits for its stuck readers; another
	# user's QEMU is served while it waits
	as_uid 65533 timeout 6 "$CLIENT" hold --socket "$w/c.sock" --count 1 \
		--seconds 0 --answer-within 4 >"$w/same.out" 2>&1 &
	same=$!
	sleep 0.5
	stats_within 1
	check "  a QEMU of the stalling user waits" stats_are cmdline_reads_waiting 1
	as_uid 65534 timeout 1 "$CLIENT" hold --socket "$w/c.sock" --count 1 \
		--seconds 0 >"$w/other3.out" 2>&1
	check "  another user's QEMU served meanwhile, within 1 s" \
		grep -q "^hold: 1 connections" "$w/other3.out"
	wait "$same"
	check "  the waiting QEMU refused at its deadline, not served unchecked" \
		grep -q "^hold: 0 connections" "$w/same.out"
	sleep 0.3
	stats_within 1
	check "  timed out, not refused at once, not busy" \
		stats_are cmdline_timed_out 7 cmdline_reads_waiting 0 cmdline_refused_peer_quota 3 cmdline_refused_busy 0
	# shellcheck disable=SC2086	# $holders: pids
	wait $holders
	sleep 0.3
	as_uid 65533 timeout 5 "$CLIENT" hold --socket "$w/c.sock" --count 1 \
		--seconds 0 >"$w/again.out" 2>&1
	check "  its peer gone: that user's QEMUs served again" \
		grep -q "^hold: 1 connections" "$w/again.out"
	# a burst of one user's QEMUs (libvirt starts VMs of one uid
	# together) while its 2 readers are busy for a second: the 4 that
	# connect meanwhile wait for them, and are all served once they end
	holders=
	hold_cmdline busy 2 1 65532 || fail "cmdline_users: the busy peer was set up"
	burst=
	for i in 1 2 3 4; do
		as_uid 65532 timeout 6 "$CLIENT" hold --socket "$w/c.sock" \
			--count 1 --seconds 0 --answer-within 4 \
			>"$w/burst$i.out" 2>&1 &
		burst="$burst $!"
	done
	# shellcheck disable=SC2086	# pids
	wait $burst $holders
	n=$(cat "$w"/burst[1-4].out | grep -c "^hold: 1 connections")
	echo "cmdline_users: $n of the burst of 4 QEMUs served"
	check "  a burst of one user's QEMUs behind its busy readers: all 4 served" test "$n" -eq 4
	stats_within 1
	check "  they waited in its queue, none refused" \
		stats_are cmdline_reads_queued 9 cmdline_refused_peer_quota 3 cmdline_refused_busy 0
	check "cmdline_users: pvdmad exits cleanly" stop
}

case_pidreuse() {	# QEMU's pid reused before its command line is read
	if ! is_root || ! command -v unshare >/dev/null; then
		skip "pid reuse case needs root and unshare (ns_last_pid)"; return
	fi
	# SO_PEERPIDFD names the process that connected: its pid reused
	# before the accept is seen. The fallback (pidfd_open at accept)
	# can't see that (docs/security.md §4); it sees a reuse during the
	# read (test_procread:test_pinned_process_gone) and serves QEMUs.
	# Without pidfds (before 5.3) the pid is read unpinned: the other
	# process's command line is compared, as §4 says. An argument,
	# nopidfd: that run only (case_pidreuse_nopidfd).
	for how in ${1:-peerpidfd}; do
		w=$dir/pidreuse-$how
		mkdir -p "$w"
		truncate -s 64M "$w/ram"
		launch=
		[ "$how" = nopidfd ] && launch="$OLDKERNEL --no-pidfd --"
		# In a pid namespace of its own, so that ns_last_pid hands the
		# peer's pid to another process: pvdmad stopped, a peer
		# connects, leaves its socket to a child and exits; a process
		# that says "-machine virt" takes its pid; pvdmad resumes.
		# shellcheck disable=SC2086	# $launch: split
		unshare --pid --fork --mount-proc sh -c '
			w=$1
			shift
			"$@" --socket "$w/c.sock" --guest-ram "$w/ram" --control "$w/ctl" \
				--log-file "$w/log" 2>"$w/stderr" &
			d=$!
			i=0
			while [ ! -S "$w/ctl" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
			kill -STOP $d
			peer=$(python3 -c "import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print(os.getpid(), flush=True)
if os.fork() == 0:
    os.dup2(os.open(\"/dev/null\", os.O_WRONLY), 1)
    time.sleep(60)
os._exit(0)" "$w/c.sock")
			echo $((peer - 1)) >/proc/sys/kernel/ns_last_pid
			# alive until pvdmad judged the peer, however slow: the
			# namespace ends them when this shell exits
			python3 -c "import time; time.sleep(60)" -machine virt &
			echo "$peer $!" >"$w/pids"
			# it is python before pvdmad reads it (an unpinned read
			# of the pid, without pidfds, would find the shell not
			# yet gone to exec python: its own command line, this
			# script, says "machine" too, so argv[0] is compared)
			i=0
			while [ "$(tr "\0" "\n" </proc/$!/cmdline 2>/dev/null | head -n 1)" != python3 ] &&
			    [ $i -lt 50 ]; do
				sleep 0.1; i=$((i + 1)); done
			kill -CONT $d
			# until pvdmad has judged the peer (30 s at most: a
			# loaded machine, a sanitizer build), not a fixed second
			i=0
			while ! grep -q -e "lays out" -e "refused" "$w/log" 2>/dev/null &&
			    [ $i -lt 300 ]; do
				sleep 0.1; i=$((i + 1)); done
			kill -TERM $d
			wait $d
		' sh "$w" $launch "$PVDMAD"
		read -r peer taker <"$w/pids"
		echo "$how: peer pid $peer exited, then pid $taker started"
		if [ "$taker" != "$peer" ]; then
			skip "$how: the pid was not reused"
			continue
		fi
		if [ "$how" = nopidfd ]; then
			check "without pidfds: a pid reused before the read: the other process's command line compared (the limit docs/security.md §4 states)" \
				sh -c "grep -q 'lays out' '$w/log' && ! grep -q 'refused: it exited before' '$w/log'"
			continue
		fi
		check "$how: a pid reused before the read: the other process's command line not compared" \
			sh -c "! grep -q 'lays out' '$w/log'"
		check "  the peer refused as gone, logged" \
			grep -q "refused: it exited before" "$w/log"
	done
	[ -n "${1:-}" ] && return
	start_old --no-peerpidfd pidfd-fallback
	check "without SO_PEERPIDFD: said at start" grep -q "no SO_PEERPIDFD" "$w/log"
	timeout 5 "$CLIENT" hold --socket "$w/c.sock" --count 2 --seconds 0 >"$w/hold.out" 2>&1
	check "without SO_PEERPIDFD (pidfd_open at accept): QEMUs served" \
		grep -q "^hold: 2 connections" "$w/hold.out"
	check "pidfd-fallback: pvdmad exits cleanly" stop
}

# case_bindreuse [RUNS]: WHEN:HOW runs, all but nopidfd by default
case_bindreuse() {	# a DMA device binds by pinned process, not pid number
	if ! is_root || ! command -v unshare >/dev/null; then
		skip "DMA pid reuse case needs root and unshare (ns_last_pid)"; return
	fi
	# pvdmad in a pid namespace of its own: a process connects to the DMA
	# socket, leaves it to a child and exits, "after" pvdmad served it or
	# "before" its accept (pvdmad stopped); with ns_last_pid a fake QEMU
	# takes its pid and connects a companion; the child names that
	# companion's domain. Under oldkernel --no-peerpidfd the pin is
	# pidfd_open() at accept: a reuse before the accept is not seen
	# (docs/security.md §4), and this checks that it is as said.
	# "restart": pvdmad --supervise, restarted (SIGUSR2) after the reuse
	# and before the DMA device names the domain: the connections taken
	# back are pinned again (the filter of oldkernel is inherited).
	# "nopidfd": under oldkernel --no-pidfd, as before Linux 5.3: bound
	# by pid number, unpinned, whenever the pid was reused (§4).
	for run in ${1:-after:peerpidfd after:oldkernel before:peerpidfd before:oldkernel \
		restart:peerpidfd restart:oldkernel}; do
		when=${run%%:*}
		how=${run#*:}
		w=$dir/bindreuse-$when-$how
		mkdir -p "$w"
		truncate -s 64M "$w/ram"
		launch=
		[ "$how" = oldkernel ] && launch="$OLDKERNEL --no-peerpidfd --"
		[ "$how" = nopidfd ] && launch="$OLDKERNEL --no-pidfd --"
		# shellcheck disable=SC2016,SC2086	# $launch: split
		unshare --pid --fork --mount-proc sh -c '
			w=$1 when=$2 client=$3 ctl=$4
			shift 4
			sup= go=
			[ "$when" = restart ] && sup=--supervise go="--count 1"
			"$@" $sup --socket "$w/c.sock" --dma-socket "$w/d.sock" \
				--guest-ram "$w/ram" --control "$w/ctl" \
				>>"$w/log" 2>&1 &
			d=$!
			i=0
			while [ ! -S "$w/ctl" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
			mode=reuse-dma
			if [ "$when" = before ]; then
				kill -STOP $d
				mode=reuse-dma-early
			fi
			peer=$("$client" $mode --socket "$w/c.sock" \
				--dma-socket "$w/d.sock" --dir "$w" $go)
			echo $((peer - 1)) >/proc/sys/kernel/ns_last_pid
			"$client" reuse-qemu --socket "$w/c.sock" --dir "$w" \
				>"$w/qemu.out" 2>&1 &
			q=$!
			echo "$peer $q" >"$w/pids"
			kill -CONT $d
			if [ -n "$sup" ]; then
				i=0
				while [ ! -e "$w/companion" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
				kill -USR2 $d
				i=0
				while ! grep -q "DMA devices taken back" "$w/log" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
				echo go >"$w/go"
			fi
			wait $q
			"$ctl" --control "$w/ctl" stats --json >"$w/stats.json" 2>&1
			kill -TERM $d
			wait $d
		' sh "$w" "$when" "$CLIENT" "$PVDMACTL" $launch "$PVDMAD"
		read -r peer taker <"$w/pids"
		st=$(cat "$w/dma-status" 2>/dev/null)
		echo "$when/$how: DMA socket's process $peer exited, then pid $taker (a companion); the kept DMA device: ${st:-no answer}"
		if [ "$taker" != "$peer" ]; then
			skip "$when/$how: the pid was not reused"
			continue
		fi
		case $run in
		*:nopidfd)
			check "bindreuse without pidfds, the pid reused $(echo "$when" |
				sed 's/^after$/after the accept/; s/^before$/before the accept/; s/^restart$/before a restart/'): bound by pid number (the limit docs/security.md §4 states)" \
				sh -c "[ '$st' = bound ] && ! grep -q 'is gone: it binds' '$w/log' &&
					grep -q '\"dma_process_gone\": 0' '$w/stats.json' &&
					{ [ $when != restart ] || grep -q '1 DMA devices taken back' '$w/log'; }" ;;
		after:*)
			check "bindreuse $how: a DMA socket outliving its process, its pid now a QEMU's: that companion not bound" \
				[ "$st" = not-bound ]
			check "  the gone process logged" grep -q "is gone: it binds to no companion" "$w/log"
			check "  and counted (dma_process_gone)" \
				grep -q '"dma_process_gone": 1' "$w/stats.json" ;;
		before:peerpidfd)
			check "bindreuse: its pid reused before the accept: not bound (SO_PEERPIDFD pins the process that connected)" \
				[ "$st" = not-bound ] ;;
		before:oldkernel)
			check "bindreuse without SO_PEERPIDFD: a pid reused before the accept is not seen (the limit docs/security.md §4 states): bound" \
				[ "$st" = bound ] ;;
		restart:peerpidfd)
			check "bindreuse across a restart: the connection taken back is pinned to the process that connected: not bound" \
				sh -c "grep -q '1 DMA devices taken back' '$w/log' && [ '$st' = not-bound ]" ;;
		restart:oldkernel)
			check "bindreuse across a restart without SO_PEERPIDFD: re-pinned by pid number (the limit docs/security.md §4 states): bound" \
				sh -c "grep -q '1 DMA devices taken back' '$w/log' && [ '$st' = bound ]" ;;
		esac
	done
}

# fds_of PID: how many fds PID holds
fds_of() {
	set -- "/proc/$1/fd/"*
	echo $#
}

case_pidreuse_nopidfd() {	# the same on a kernel without pidfds (before 5.3)
	case_pidreuse nopidfd
	start_old --no-pidfd nopidfd
	check "without pidfds: said at start" grep -q "no pidfds" "$w/log"
	fds=$(fds_of "$pid")
	timeout 5 "$CLIENT" hold --socket "$w/c.sock" --count 2 --seconds 0 >"$w/hold.out" 2>&1
	check "without pidfds: QEMUs served (their command lines read unpinned)" \
		grep -q "^hold: 2 connections" "$w/hold.out"
	sleep 0.2
	check "  no fd left behind once they are gone" \
		[ "$(fds_of "$pid")" -eq "$fds" ]
	check "nopidfd: pvdmad exits cleanly" stop
}

case_bindreuse_nopidfd() {	# DMA binding on a kernel without pidfds
	case_bindreuse "after:nopidfd before:nopidfd restart:nopidfd"
	# the pid numbers are what binds: its own process's companion, and
	# no other process's
	start_old --no-pidfd foreign-nopidfd
	"$CLIENT" foreign $(C) >"$w/foreign.out" 2>&1
	rc=$?
	sed 's/^/    /' "$w/foreign.out"
	check "without pidfds: a DMA device binds to its own process's companion, not another's" \
		[ "$rc" -eq 0 ]
	check "foreign-nopidfd: pvdmad exits cleanly" stop
}

case_logfile() {	# the log file's path: no open that someone else can hold
	# Whoever may write the log's directory can swap the file for a FIFO
	# nobody reads, or take a lease on it: the reopen at SIGHUP waited
	# forever, or lease-break-time (45 s by default).
	start logfifo
	mv "$w/log" "$w/log.old"
	mkfifo "$w/log"
	kill -HUP "$pid"
	sleep 0.2
	check "the log file swapped for a FIFO nobody reads, SIGHUP: stats within 1 s" \
		stats_within 1
	check "  the old log kept, the failed reopen said in it" \
		grep -q "reopening the log file" "$w/log.old"
	check "logfifo: pvdmad exits cleanly" stop
	start loglease
	mv "$w/log" "$w/log.old"
	: >"$w/log"
	python3 -c 'import fcntl, os, signal, sys, time
signal.signal(signal.SIGIO, signal.SIG_IGN)	# the break notice
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
print("leased", flush=True)
time.sleep(10)' "$w/log" >"$w/lease.out" 2>&1 &
	leaser=$!
	i=0
	while ! grep -q leased "$w/lease.out" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -HUP "$pid"
	sleep 0.2
	check "a lease on the log file, SIGHUP: stats within 1 s" stats_within 1
	check "  the failed reopen said in the old log" grep -q "reopening the log file" "$w/log.old"
	kill "$leaser" 2>/dev/null; wait "$leaser" 2>/dev/null
	check "loglease: pvdmad exits cleanly" stop
}

# set_acl FILE ENTRY...: FILE's POSIX access ACL, written as its xattr
# (no setfacl needed); each ENTRY TAG:ID:PERM, TAG u, g, m or o, ID empty
# for the owner, the owning group, the mask and other, PERM 0 to 7. The
# kernel sets the mode's bits from it. Fails where ACLs are not supported.
set_acl() {
	python3 - "$@" <<'PY'
import os, struct, sys
tags = {"u": (1, 2), "g": (4, 8), "m": (0x10, 0x10), "o": (0x20, 0x20)}
ents = []
for e in sys.argv[2:]:
    t, i, p = e.split(":")
    obj, named = tags[t]
    ents.append((obj if i == "" else named, int(p), 0xffffffff if i == "" else int(i)))
ents.sort(key=lambda e: (e[0], e[2] if e[2] != 0xffffffff else -1))
os.setxattr(sys.argv[1], "system.posix_acl_access",
            struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in ents))
PY
}

# kernel_opens "SETPRIV OPTIONS" FILE: may that user open FILE read-write?
kernel_opens() {
	# shellcheck disable=SC2086	# the options, split
	setpriv $1 sh -c ': <>"$1"' sh "$2" 2>/dev/null
}
kernel_refuses() { ! kernel_opens "$@"; }

case_ramacl() {	# guest RAM mapped only for a peer the kernel lets open it
	if ! is_root || ! command -v setpriv >/dev/null; then
		skip "other-user RAM cases need root and setpriv"; return
	fi
	nobody="--reuid=65534 --regid=65534 --clear-groups"
	grouped="--reuid=65534 --regid=65534 --groups=65533"
	start ramacl --allow-uid 65534
	chmod 0755 "$dir"
	chmod 0666 "$w/c.sock"
	if ! set_acl "$w/ram" u::6 u:65534:0 g::6 m::6 o::6 2>"$w/acl.err"; then
		skip "ramacl: no POSIX ACLs here: $(cat "$w/acl.err")"
		stop
		return
	fi
	# each instance: first what the kernel says, then pvdmad must agree
	check "a RAM file mode 0666 whose ACL denies uid 65534: the kernel refuses it" \
		sh -c "[ \$(stat -c %a '$w/ram') = 666 ] && ! setpriv $nobody sh -c ': <>\"$w/ram\"'"
	check_exit "  and pvdmad maps no guest RAM for it (refused at connect)" 3 \
		setpriv $nobody "$CLIENT" ram-gate --socket "$w/c.sock"
	check "  the refusal logged" grep -q "uid 65534 refused: it could not open the guest RAM" "$w/log"
	set_acl "$w/ram" u::6 g::6 g:65533:0 m::6 o::6
	check "an ACL group entry that matches and denies (other rw): the kernel refuses" \
		kernel_refuses "$grouped" "$w/ram"
	check "  (it lets a peer outside the group open it)" kernel_opens "$nobody" "$w/ram"
	check_exit "  and pvdmad refuses a peer in that group" 3 \
		setpriv $grouped "$CLIENT" ram-gate --socket "$w/c.sock"
	check_exit "  but serves one outside it, as the kernel does" 0 \
		setpriv $nobody "$CLIENT" ram-gate --socket "$w/c.sock"
	chmod 0600 "$w/ram"
	set_acl "$w/ram" u::6 u:65534:6 g::0 m::6 o::0
	check "a RAM file mode 0660 whose ACL grants uid 65534 rw: the kernel lets it open" \
		sh -c "[ \$(stat -c %a '$w/ram') = 660 ] && setpriv $nobody sh -c ': <>\"$w/ram\"'"
	check_exit "  and pvdmad serves it (not refused by the mode bits)" 0 \
		setpriv $nobody "$CLIENT" ram-gate --socket "$w/c.sock"
	check "ramacl: pvdmad exits cleanly" stop
	# a file its mode opens to all, in a directory the peer can't search
	mkdir -p "$dir/ramvault/vault"
	truncate -s 64M "$dir/ramvault/vault/ram"
	chmod 0666 "$dir/ramvault/vault/ram"
	chmod 0700 "$dir/ramvault/vault"
	start ramvault --allow-uid 65534 --guest-ram "$dir/ramvault/vault/ram"
	chmod 0666 "$w/c.sock"
	check "a RAM file mode 0666 in a directory mode 0700: the kernel refuses uid 65534" \
		kernel_refuses "$nobody" "$w/vault/ram"
	check_exit "  and pvdmad refuses it too" 3 \
		setpriv $nobody "$CLIENT" ram-gate --socket "$w/c.sock"
	chmod 0711 "$w/vault"
	check_exit "  the directory made searchable (0711): served" 0 \
		setpriv $nobody "$CLIENT" ram-gate --socket "$w/c.sock"
	check "ramvault: pvdmad exits cleanly" stop
}

# lookup_hold DIR SECONDS: a FUSE mount at DIR whose every lookup waits
# (tests/host/stallfs.c), in the background ($holder); 0 once mounted, 2
# if it can't be (a skip), else 1.
lookup_hold() {
	mkdir -p "$1"
	: >"$1.out"
	mounted=$1		# the client unmounts it; at_exit if it can't
	"$CLIENT" lookup-hold --socket none --dir "$1" --seconds "$2" >"$1.out" 2>&1 &
	holder=$!
	await_hold "$1.out" "mounted" "FUSE mount\|/dev/fuse"
}

# ramfuse_gate WHAT LOGGED: a guest says HELLO while the RAM path's
# lookups wait on $holder's FUSE mount: pvdmad's loop answers stats
# within 1 s, the HELLO is refused and LOGGED is in the log; then waits
# for $holder.
ramfuse_gate() {
	timeout 10 "$CLIENT" ram-gate --socket "$w/c.sock" >"$w/gate.out" 2>&1 &
	gate=$!
	sleep 0.3
	check "$1: stats within 1 s" stats_within 1
	wait "$gate"
	rc=$?
	expect "  that guest's HELLO refused, not served" "[ $rc -eq 4 ]"
	check "  the refusal logged" grep -q "$2" "$w/log"
	wait "$holder"
}

case_ramfuse() {	# the RAM path's last component never looked up off its file system
	if ! is_root || [ ! -c /dev/fuse ]; then
		skip "a FUSE mount of our own needs root and /dev/fuse"; return
	fi
	start ramfuse
	lookup_hold "$w/fuse" 6
	rc=$?
	if [ $rc -ne 0 ]; then
		[ $rc -eq 2 ] && skip "ramfuse: no FUSE mount here"
		[ $rc -eq 2 ] || fail "ramfuse: the FUSE mount was set up"
		stop
		return
	fi
	check "a FUSE mount whose lookups wait: a stat of it waits" sh -c \
		"! timeout -s KILL 1 stat '$w/fuse/f' >/dev/null 2>&1"
	# QEMU's user (who writes the RAM file's directory) swaps the RAM
	# path for a symlink into that mount, then connects and says HELLO
	mv "$w/ram" "$w/ram.real"
	ln -s "$w/fuse/f" "$w/ram"
	ramfuse_gate "RAM path swapped for a symlink into a FUSE mount whose lookups wait" \
		"guest RAM $w/ram: a symlink to $w/fuse/f"
	rm "$w/ram"
	# a FUSE mount over the RAM path itself
	lookup_hold "$w/ram" 6
	ramfuse_gate "a FUSE mount over the RAM path whose lookups wait" \
		"guest RAM $w/ram: Invalid cross-device link"
	mounted=
	rmdir "$w/ram" "$w/fuse"
	mv "$w/ram.real" "$w/ram"
	check "  the RAM file back: served" "$CLIENT" ram-gate --socket "$w/c.sock"
	check "ramfuse: pvdmad exits cleanly" stop
}

case_pvdmactl() {	# a squatted or silent control socket
	w=$dir/ctl
	mkdir -p "$w"
	check "pvdmactl's default control socket is not in /tmp" sh -c \
		"'$PVDMACTL' --help | grep -q 'default' && ! '$PVDMACTL' --help | grep -q '/tmp/'"
	"$CLIENT" fake-control --control "$w/silent" --count 0 &
	fake=$!
	wait_socket "$w/silent"
	start_t=$(date +%s)
	timeout 10 "$PVDMACTL" --control "$w/silent" --timeout 1 stats >"$w/silent.out" 2>&1
	rc=$?
	check "a control socket that never answers: pvdmactl gives up in time" sh -c \
		"[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $(( $(date +%s) - start_t )) -le 3 ] && grep -q 'no complete answer within 1 s' '$w/silent.out'"
	kill "$fake" 2>/dev/null; wait "$fake" 2>/dev/null
	"$CLIENT" fake-control --control "$w/escapes" --count 1 &
	fake=$!
	wait_socket "$w/escapes"
	"$PVDMACTL" --control "$w/escapes" stats >"$w/escapes.out" 2>&1
	check "terminal escapes in an answer are not passed through" sh -c \
		"! grep -q \"\$(printf '\\033')\" '$w/escapes.out' && grep -q 'guests' '$w/escapes.out'"
	kill "$fake" 2>/dev/null; wait "$fake" 2>/dev/null
	if is_root; then
		chmod 0755 "$dir"
		chmod 0777 "$w"
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$CLIENT" fake-control --control "$w/squat" --count 1 &
		fake=$!
		wait_socket "$w/squat"
		"$PVDMACTL" --control "$w/squat" stats >"$w/squat.out" 2>&1
		rc=$?
		check "a control socket squatted by another user: refused" sh -c \
			"[ $rc -ne 0 ] && grep -q 'uid 65534' '$w/squat.out' && ! grep -q guests '$w/squat.out'"
		kill "$fake" 2>/dev/null; wait "$fake" 2>/dev/null
	else
		skip "squatting case needs root"
	fi
	start watchdog
	check "stats show the longest event-loop turn" sh -c \
		"'$PVDMACTL' --control '$w/ctl' stats --json | grep -q '\"longest_turn_us\": [0-9].*\"longest_turn_cpu_us\": [0-9]' && '$PVDMACTL' --control '$w/ctl' stats | grep -q 'longest loop turn'"
	check "watchdog: pvdmad exits cleanly" stop
}

need "$PVDMAD" "$PVDMACTL" "$CLIENT" "$OLDKERNEL"
cases=${*:-uaf linger oldkernel linger_compat linger_emfile linger_oob eventfd flagrace access pidns second sigbus hidden emfile logs logs_fallback memory fair wide storm release ramless resets hellos dear hangups ramhangups regionhangups recordhangups wideresets faulty bigcmd unbind lease ramfs ramdir syslog notify cmdline cmdline_users pidreuse pidreuse_nopidfd bindreuse bindreuse_nopidfd logfile ramacl ramfuse pvdmactl}
for c in $cases; do
	"case_$c"
done
finish
