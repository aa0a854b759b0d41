# SPDX-License-Identifier: MIT
# tools/trace: pvdma-trace, a POSIX shell script, installed as $(BUILD)/pvdma-trace.
# Its tests (tests/trace/run-trace.sh) are run by scripts/run-tests.sh.
PROGS += $(BUILD)/pvdma-trace

$(BUILD)/pvdma-trace: tools/trace/pvdma-trace lib/include/pvdma/version.h
	@mkdir -p $(dir $@)
	sed 's/@PVDMA_VERSION@/$(PVDMA_VERSION)/' $< >$@
	chmod 755 $@
