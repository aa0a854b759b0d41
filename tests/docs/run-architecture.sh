#!/bin/sh
# SPDX-License-Identifier: MIT
# docs/architecture.md and README.md's Layout and Documentation match the
# tree (tests/docs/architecture_files.py): every source file of guest/,
# lib/, host/, common/, tools/, bench/, scripts/ and fuzz/ is in one of
# architecture.md's file tables with a job, every file it names exists,
# every top-level folder has a Layout row, every name there exists, and
# the Documentation list is docs/'s documents. Then the check itself on a made-up tree: an
# unlisted file, a name that is gone, a row without its job, a folder
# without a Layout row, a Layout name that is gone, a document not listed
# and one listed that is gone must each fail. No build needed. Prints
# "N passed, N failed".
# shellcheck disable=SC2016 # the backticks are Markdown's, not the shell's
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
scratch_dir architecture

counted python3 tests/docs/architecture_files.py

# A made-up tree (not a git checkout: every file counts) and its document.
t=$dir/tree
mkdir -p "$t/lib/include/pvdma" "$t/host" "$t/guest/selftests" "$t/docs"
: >"$t/lib/iova.c"
: >"$t/lib/include/pvdma/iova.h"
: >"$t/host/log.c"
: >"$t/host/log.h"
: >"$t/host/ring_consumer.h"
: >"$t/guest/selftests/hostile.c"
doc() {	# extra table rows for the host section
	printf '# A\n\n## Glossary\n\n| word | means |\n|---|---|\n| **window** | a mapping |\n\n'
	printf '## Lib (lib/)\n\n| file | job |\n|---|---|\n| iova.c | ranges |\n\n'
	printf '## Guest (guest/)\n\n| file | job |\n|---|---|\n| selftests/ | tests |\n\n'
	printf '## Host (host/)\n\n<!-- allow-list x -->\n| `host/gone.c` | `x` | y |\n'
	printf '<!-- end of the allow-list -->\n\n| file | job |\n|---|---|\n| log.c | lines |\n%s\n' "$1"
}
readme() {	# extra Layout rows, extra Documentation lines
	printf '# x\n\n## Layout\n\n| path | what |\n|---|---|\n'
	printf '| `lib/` | core: `iova.c`, `include/pvdma/iova.h` |\n'
	printf '| `host/`, `guest/` | daemon (`log.c`), module |\n| `docs/` | docs |\n%s\n' "$1"
	printf '\n## Documentation\n\n- docs/architecture.md — the map\n%s\n' "$2"
}
arch() {	# name, exit status wanted, extra rows, [README's extra rows, lines]
	doc "$3" >"$t/docs/architecture.md"
	readme "${4:-}" "${5:-}" >"$t/README.md"
	check_exit "made-up tree: $1" "$2" python3 tests/docs/architecture_files.py \
		--doc "$t/docs/architecture.md" --root "$t"
}
arch "every file listed passes" 0 "| ring_consumer.h | the consumer |"
arch "a source file no table lists fails" 1 ""
arch "a name that does not exist fails" 1 "$(printf '| ring_consumer.h | the consumer |\n| gone.c | gone |')"
arch "a row without its job fails" 1 "| ring_consumer.h |  |"
arch "the unlisted file is named" 1 ""
expect "the unlisted file is named in the output" \
	"grep -q 'not listed: host/ring_consumer.h' '$check_out'"
row="| ring_consumer.h | the consumer |"
mkdir "$t/new"
: >"$t/new/x.txt"
arch "README: a top-level folder without a Layout row fails" 1 "$row"
expect "the folder is named in the output" "grep -q 'no row: new/' '$check_out'"
arch "README: a Layout row for it passes" 0 "$row" '| `new/` | new things |'
rm -r "$t/new"
arch "README: a Layout path that is gone fails" 1 "$row" '| `gone/` | gone |'
arch "README: a file a Layout row names that is gone fails" 1 "$row" \
	'| `lib/include/` | headers: `pvdma/iova.h`, `gone.c` |'
expect "the file is named in the output" "grep -q 'gone: gone.c' '$check_out'"
: >"$t/docs/new.md"
arch "README: a document of docs/ not in Documentation fails" 1 "$row"
expect "the document is named in the output" \
	"grep -q 'not listed: docs/new.md' '$check_out'"
arch "README: every document listed passes" 0 "$row" "" "- docs/new.md — new"
rm "$t/docs/new.md"
arch "README: a listed document that is gone fails" 1 "$row" "" "- docs/new.md — new"
finish
