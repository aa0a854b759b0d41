#!/bin/sh
# SPDX-License-Identifier: MIT
#
# scripts/host-globals.sh [BUILD [DOC]]: the writable data of pvdmad, its
# tools' helper layer and lib/ as built (BUILD/obj/{host,common,lib}/*.o),
# against the list of what may be process-wide in docs/architecture.md
# (the table after its "allow-list of scripts/host-globals.sh" comment:
# file and symbol, shell patterns both, and why). Writable is what lands in .data or .bss (and their
# thread-local and common kinds); tables the loader relocates and then
# protects (.data.rel.ro) are read-only and not state. Prints each symbol
# not on the list, and a last line "host-globals: N writable, N allowed,
# N not allowed"; exits 1 when any is not allowed, 2 when there is nothing
# to check.
set -u
build=${1:-build}
doc=${2:-docs/architecture.md}

allowed=$(sed -n '/<!-- allow-list of scripts\/host-globals.sh -->/,/<!-- end of the allow-list -->/p' "$doc" |
	awk -F'|' 'NF >= 4 && $2 !~ /^ *(file|-+) *$/ {
		f = $2; s = $3
		gsub(/[` ]/, "", f); gsub(/[` ]/, "", s)
		if (f != "" && s != "") print f, s
	}')
[ -n "$allowed" ] || { echo "host-globals: no allow-list in $doc" >&2; exit 2; }

objs=$(find "$build/obj/host" "$build/obj/common" "$build/obj/lib" \
	-name '*.o' 2>/dev/null | sort)
[ -n "$objs" ] || { echo "host-globals: nothing built in $build/obj" >&2; exit 2; }

# "file symbol" for each writable data object; the file as in the tree.
writable() {
	for o in $objs; do
		src=${o#"$build"/obj/}
		src=${src%.o}.c
		objdump -t "$o" | awk -v src="$src" '
			$NF ~ /^__(odr_asan|asan|ubsan)/ { next }	# the sanitizers own
			$3 == "O" && $4 ~ /^(\.data|\.bss|\.tdata|\.tbss)(\.|$)/ &&
			    $4 !~ /^\.data\.rel\.ro/ { print src, $NF }
			$3 == "O" && $4 == "*COM*" { print src, $NF }
			$2 == "*COM*" { print src, $NF }'
	done
}

n=0
ok=0
bad=0
list=$(writable)
while read -r src sym; do
	[ -n "$src" ] || continue
	n=$((n + 1))
	hit=0
	while read -r fpat spat; do
		# shellcheck disable=SC2254
		case $src in $fpat) ;; *) continue ;; esac
		# shellcheck disable=SC2254
		case $sym in $spat) hit=1; break ;; esac
	done <<ALLOWED
$allowed
ALLOWED
	if [ "$hit" = 1 ]; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		echo "not allowed: $src: $sym"
	fi
done <<LIST
$list
LIST
echo "host-globals: $n writable, $ok allowed, $bad not allowed"
[ "$bad" -eq 0 ]
