# SPDX-License-Identifier: MIT
# tools/trace: pvdma-trace, a POSIX shell script, installed as $(BUILD)/pvdma-trace,
# and pvdma-unmap-probe, the BPF unmap probe it runs where the kernel has no
# kprobe events. Its tests (tests/trace/run-trace.sh) are run by scripts/run-tests.sh.
PROGS += $(BUILD)/pvdma-trace $(BUILD)/pvdma-unmap-probe

$(BUILD)/pvdma-unmap-probe: $(BUILD)/obj/tools/trace/unmap_probe.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/pvdma-trace: tools/trace/pvdma-trace lib/include/pvdma/version.h
	@mkdir -p $(dir $@)
	sed 's/@PVDMA_VERSION@/$(PVDMA_VERSION)/' $< >$@
	chmod 755 $@
