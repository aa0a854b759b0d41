# SPDX-License-Identifier: MIT
# tools/: pvdma-replay (trace and synthetic replay), its unit test and fuzzer.
REPLAY_LIB_SRCS := tools/replay/trace.c tools/replay/file_source.c \
	tools/replay/replay.c tools/replay/driver.c tools/replay/host.c \
	tools/replay/verify.c tools/replay/oracle.c tools/replay/htable.c \
	tools/replay/synth.c tools/replay/inspect.c tools/replay/timeline.c \
	tools/replay/verdict.c
REPLAY_LIB_OBJS := $(REPLAY_LIB_SRCS:%.c=$(BUILD)/obj/%.o)
REPLAY_OBJS := $(REPLAY_LIB_OBJS) $(BUILD)/obj/tools/replay/pvdma-replay.o

PROGS += $(BUILD)/pvdma-replay
TESTS += $(BUILD)/tests/test_trace

$(BUILD)/pvdma-replay: $(REPLAY_OBJS) $(LIBPVDMA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -llzma

$(BUILD)/tests/test_trace: $(BUILD)/obj/tests/unit/test_trace.o \
		$(REPLAY_LIB_OBJS) $(LIBPVDMA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka -llzma

$(BUILD)/obj/tests/unit/test_trace.o: CFLAGS += -Itools/replay

# libFuzzer target over the line parser and the streaming reader:
#   make fuzz-trace && build/fuzz/fuzz_trace -max_total_time=60 [CORPUS]
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Itools/replay -Ilib/include \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

$(BUILD)/fuzz/fuzz_trace: fuzz/fuzz_trace.c tools/replay/trace.c tools/replay/trace.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ fuzz/fuzz_trace.c tools/replay/trace.c -llzma

fuzz-trace: $(BUILD)/fuzz/fuzz_trace

.PHONY: fuzz-trace

# mix (tools/replay/synth.c): deterministic, bounded, phases placed and
# interleaved as drawn
TESTS += $(BUILD)/tests/test_synth

$(BUILD)/tests/test_synth: $(BUILD)/obj/tests/unit/test_synth.o \
		$(REPLAY_LIB_OBJS) $(LIBPVDMA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka -llzma

$(BUILD)/obj/tests/unit/test_synth.o: CFLAGS += -Itools/replay
