# SPDX-License-Identifier: MIT
# make mutate: each mutation of tests/mutate/mutations.tsv seeded in turn
# into a scratch copy of the committed tree (build/mutate/tree), the suites
# named for it run there; caught or missed, per mutation, into
# docs/testing.md (scripts/mutate.sh). MUTATE="ID ..." runs only those.
mutate: deps
	@scripts/mutate.sh $(MUTATE)

.PHONY: mutate
