# SPDX-License-Identifier: MIT
# Unit tests: one cmocka binary per lib/ module, linking only lib/.
UNIT_TESTS := avl iova dart proto planner dma_attrs $(UNIT_TESTS_COMMON)
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/test_%)
TESTS += $(UNIT_BINS)

$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(LIBPVDMA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka

# make host-globals: no writable data in host/, common/ and lib/ objects
# beyond what docs/architecture.md lists as process-wide.
host-globals: progs
	scripts/host-globals.sh $(BUILD)

.PHONY: host-globals
