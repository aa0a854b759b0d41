# SPDX-License-Identifier: MIT
# tools/trace: pvdma-trace, a POSIX shell script, installed as $(BUILD)/pvdma-trace.
# Its tests (tests/trace/run-trace.sh) are run by scripts/run-tests.sh.
PROGS += $(BUILD)/pvdma-trace

$(BUILD)/pvdma-trace: tools/trace/pvdma-trace
	@mkdir -p $(dir $@)
	cp $< $@
	chmod 755 $@
