#!/bin/sh
# SPDX-License-Identifier: MIT
#
# No test switch in the product: pvdmad and pvdmactl (host/, common/)
# read only the environment variables listed below, each one a real
# interface, and name no test macro. A variable that turns a mechanism off
# "for testing" is a feature anyone who sets the service's environment
# has; tests emulate what they need from outside (tests/host/oldkernel).
#
# - every getenv()/secure_getenv() reads a listed variable (a macro
#   argument is looked up in its file's #defines), and nothing reads
#   environ itself;
# - no PVDMA*_TEST* name, in a string or as a macro (#ifdef PVDMAD_TESTING).
#
# Then the check must fail where it should: the old test hooks put back
# in host/listen_socket.c (and host/access.c as it was at fb93688, when git
# has it), an unlisted variable, a test macro. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

# The variables the product may read, and why:
#   TMPDIR			supervise.c: where its scratch socket goes
#   NOTIFY_SOCKET, LISTEN_*	systemd's sd_notify(3), sd_listen_fds(3)
#   PVDMA_CONTROL		pvdmactl's control socket (man/pvdmactl.8)
allowed="TMPDIR NOTIFY_SOCKET LISTEN_PID LISTEN_FDS LISTEN_FDNAMES PVDMA_CONTROL"

# hooks DIR...: prints FILE:LINE: what, one a line; exits 1 if any
hooks() {
	python3 - "$allowed" "$@" <<'PY'
import os, re, sys

allowed = set(sys.argv[1].split())
bad = 0


def say(path, text, pos, what):
    global bad
    bad += 1
    print("%s:%d: %s" % (path, text.count("\n", 0, pos) + 1, what))


for top in sys.argv[2:]:
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            text = open(path, errors="replace").read()
            defines = dict(re.findall(
                r'^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+"([^"]*)"', text, re.M))
            for m in re.finditer(
                    r'\b(?:secure_)?getenv\s*\(\s*("([^"]*)"|(\w+))', text):
                var = m.group(2) if m.group(2) is not None \
                    else defines.get(m.group(3))
                if var not in allowed:
                    say(path, text, m.start(), "getenv(%s): not a listed variable"
                        % m.group(1))
            for m in re.finditer(r'\benviron\b', text):
                say(path, text, m.start(), "environ read directly")
            for m in re.finditer(r'\bPVDMA\w*_TEST\w*', text):
                say(path, text, m.start(), "test switch %s" % m.group(0))
sys.exit(1 if bad else 0)
PY
}

check "host/, common/: only the listed environment variables, no test switch" \
	hooks host common

t=$(mktemp -d) || abort "mktemp"
trap 'rm -rf "$t"' EXIT

# The tree with the old hooks put back where SO_PASSRIGHTS is probed now.
mkdir -p "$t/old"
cp -r host common "$t/old/"
cat >>"$t/old/host/listen_socket.c" <<'C'

static bool host_passrights_disabled(void)
{
	const char *v = getenv("PVDMAD_TEST_NO_PASSRIGHTS");

	return v && *v && strcmp(v, "0");
}
C
hooks "$t/old" >"$t/out" 2>&1
rc=$?
sed 's/^/    /' "$t/out"
expect "fails with an old test hook put back in host/listen_socket.c" "[ $rc -eq 1 ]"
expect "  and names its line" \
	'grep -q "^$t/old/host/listen_socket.c:[0-9]*: getenv(\"PVDMAD_TEST_NO_PASSRIGHTS\")" "$t/out"'

if git cat-file -e fb93688:host/access.c 2>/dev/null; then
	mkdir -p "$t/fb93688/host"
	git show fb93688:host/access.c >"$t/fb93688/host/access.c"
	hooks "$t/fb93688" >"$t/out" 2>&1
	expect "fails on host/access.c as it was at fb93688 (both hooks)" \
		'[ "$(grep -c "getenv(\"PVDMAD_TEST_NO_" "$t/out")" -eq 2 ]'
else
	skip "no git history: host/access.c of fb93688 not checked"
fi

mkdir -p "$t/made"
cat >"$t/made/a.c" <<'C'
#define CONTROL_ENV	"PVDMA_CONTROL"
#define DEBUG_ENV	"PVDMAD_DEBUG_NO_CHECKS"
static const char *a(void) { return getenv(CONTROL_ENV); }
static const char *b(void) { return secure_getenv(DEBUG_ENV); }
static const char *c(void) { return getenv( "TMPDIR"); }
extern char **environ;
#ifdef PVDMAD_TESTING
static int d;
#endif
C
hooks "$t/made" >"$t/out" 2>&1
rc=$?
sed 's/^/    /' "$t/out"
expect "fails on a made-up file" "[ $rc -eq 1 ]"
expect "  an unlisted variable behind a macro" 'grep -q "a.c:4: getenv(DEBUG_ENV)" "$t/out"'
expect "  environ read directly" 'grep -q "a.c:6: environ" "$t/out"'
expect "  a test macro" 'grep -q "a.c:7: test switch PVDMAD_TESTING" "$t/out"'
expect "  and nothing else (listed variables, also behind a macro)" \
	'[ "$(wc -l <"$t/out")" -eq 3 ]'
finish
