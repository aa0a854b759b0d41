#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The kernel's own style checker over the kernel-side C: guest/ (pvdma.ko
# and its self-test modules) and lib/ (compiled into pvdma.ko by path).
# checkpatch.pl comes from Debian's linux-source-6.1 package, downloaded
# (never installed) and cached under $CHECKPATCH_DIR.
#
#   scripts/checkpatch.sh [FILE...]     default: every .c/.h of guest/ and lib/
#
# Prints checkpatch's findings, then one line per tree:
#   checkpatch: guest/: E errors, W warnings, C checks in N files
# and exits 1 if any tree has an error or a warning (checks are reported,
# --strict's style advice, and fail nothing).
#
# One file is exempt, its findings shown but not counted: guest/kcompat.h,
# whose one job is the LINUX_VERSION_CODE tests checkpatch warns about
# (every version difference lives there, so nothing else needs one).
set -u
cd "$(dirname "$0")/.." || exit 2
DIR=${CHECKPATCH_DIR:-build/checkpatch}
PKG=${CHECKPATCH_PKG:-linux-source-6.1}
CP=$DIR/scripts/checkpatch.pl

fetch() {
	[ -x "$CP" ] && return 0
	mkdir -p "$DIR" || return 1
	deb=$(ls "$DIR"/"$PKG"_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		echo "checkpatch: downloading $PKG (once)" >&2
		(cd "$DIR" && apt-get download "$PKG" >/dev/null 2>&1) || {
			echo "checkpatch: apt-get download $PKG failed" >&2
			return 1
		}
		deb=$(ls "$DIR"/"$PKG"_*.deb | head -n 1)
	fi
	tarball=$(dpkg-deb -c "$deb" | sed -n 's,.*\./\(usr/src/linux-source-.*\.tar\.xz\)$,\1,p')
	[ -n "$tarball" ] || { echo "checkpatch: no source tarball in $deb" >&2; return 1; }
	top=$(basename "$tarball" .tar.xz)
	dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./$tarball" |
		tar -xJf - -C "$DIR" --strip-components=1 \
			"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
			"$top/scripts/const_structs.checkpatch" || return 1
	chmod +x "$CP"
}

fetch || exit 2
if [ $# -eq 0 ]; then
	set -- $(find guest lib -name '*.[ch]' ! -name '*.mod.c' | sort)
fi
for f in "$@"; do
	[ "$f" = guest/kcompat.h ] || continue
	perl "$CP" --strict --no-tree --terse --show-types --no-summary -f "$f" |
		sed 's/^/exempt: /'
done

bad=0
for tree in guest lib; do
	files=""
	for f in "$@"; do
		case $f in
		guest/kcompat.h) ;;
		"$tree"/*) files="$files $f" ;;
		esac
	done
	[ -n "$files" ] || continue
	# shellcheck disable=SC2086
	out=$(perl "$CP" --strict --no-tree --terse --show-types --no-summary -f $files 2>&1)
	[ -n "$out" ] && echo "$out"
	e=$(echo "$out" | grep -c ": ERROR:")
	w=$(echo "$out" | grep -c ": WARNING:")
	c=$(echo "$out" | grep -c ": CHECK:")
	n=$(echo "$files" | wc -w)
	echo "checkpatch: $tree/: $e errors, $w warnings, $c checks in $n files"
	[ "$e" -eq 0 ] && [ "$w" -eq 0 ] || bad=1
done
exit $bad
