# SPDX-License-Identifier: MIT
# Long fuzzing of every parser pvdmad (and the trace tools) has. Included by
# the top Makefile; the build and run logic is tests/host/run-fuzz.sh (its
# quick 15 s run is part of make check), this only sets the long run.
#
#   make fuzz                 each target FUZZ_TIME seconds (default 300),
#                             niced, one job; fails on any crash
#   make fuzz FUZZ_TIME=60    shorter
#   make fuzz-merge           add the run's new-coverage inputs to the
#                             committed seed corpus fuzz/corpus/<target>/

FUZZ_TIME ?= 300

fuzz:
	FUZZ_TIME=$(FUZZ_TIME) FUZZ_KEEP=1 BUILD=$(BUILD) \
		nice -n 10 tests/host/run-fuzz.sh

fuzz-merge:
	BUILD=$(BUILD) nice -n 10 tests/host/run-fuzz.sh --merge

.PHONY: fuzz fuzz-merge
