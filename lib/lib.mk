# SPDX-License-Identifier: MIT
# lib/: the freestanding core, linked into every user-space program.
LIB_SRCS := lib/avl.c lib/iova.c lib/dart.c lib/proto.c lib/checksum.c \
	lib/planner.c lib/planner_bus.c lib/planner_cache.c lib/planner_spec.c \
	lib/planner_chunks.c lib/planner_trim.c lib/planner_pvdma.c \
	lib/planner_block.c lib/planner_rfc.c lib/planner_pool.c lib/bounce.c \
	lib/user_warn.c lib/dma_attrs.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBPVDMA := $(BUILD)/libpvdma.a

$(LIBPVDMA): $(LIB_OBJS) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
