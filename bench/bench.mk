# SPDX-License-Identifier: MIT
# bench/: performance programs (make bench runs them; not part of make check).
PLANNER_BENCH := $(BUILD)/planner_bench
PROGS += $(PLANNER_BENCH)

$(PLANNER_BENCH): $(BUILD)/obj/bench/planner_bench.o $(LIBPVDMA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# pvdmad's request rate from outside (scripts/bench_host.sh).
HOST_BENCH := $(BUILD)/host_bench
PROGS += $(HOST_BENCH)

$(HOST_BENCH): $(BUILD)/obj/bench/host_bench.o \
		$(BUILD)/obj/tests/host/ivshmem_client.o $(LIBPVDMA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/obj/bench/host_bench.o: CFLAGS += -I.
