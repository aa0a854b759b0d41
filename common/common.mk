# SPDX-License-Identifier: MIT
# common/: the user-space helpers every program and test shares (size
# parsing, JSON emitting), archived into libpvdma.a beside lib/ so each
# link that takes lib/ takes them too. Prefix per file: size_, jsonw_.
# (The PRNG and the name tables are in lib/: freestanding, for pvdma.ko too.)
COMMON_SRCS := common/size.c common/json.c
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
CFLAGS += -Icommon

UNIT_TESTS_COMMON := size json prng names
