#!/bin/sh
# SPDX-License-Identifier: MIT
# docs/architecture.md matches the tree (tests/docs/architecture_files.py):
# every source file of guest/, lib/, host/, common/ and tools/ is in one of
# its file tables with a job, and every file it names exists. Then the
# check itself on a made-up tree: an unlisted file, a name that is gone and
# a row without its job must each fail. No build needed. Prints "N passed,
# N failed".
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
arch() {	# name, exit status wanted, extra rows
	doc "$3" >"$t/docs/architecture.md"
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
finish
