# SPDX-License-Identifier: MIT
# make soak: the long reliability runs (docs/reliability.md): 10^6 planner
# operations with their curve, 200 load/unbind/unload cycles, longer
# pressure, fault injection, pvdmad and QEMU killed. Not part of make check
# (tests/reliability/run-reliability.sh runs the quick versions there).
# Results and logs: $(BUILD)/reliability/. Included by the top Makefile.

soak: deps progs tests
	REL_MODE=soak BUILD=$(BUILD) tests/reliability/run-reliability.sh

.PHONY: soak
