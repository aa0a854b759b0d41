# SPDX-License-Identifier: MIT
# host/: pvdmad (the host daemon) and pvdmactl, their unit tests, the
# integration client and the fuzz targets. Included by the top Makefile.

HOST_CORE_SRCS := host/log.c host/guest_ram.c host/guest_ram_qemu.c \
	host/iommu_dart.c host/iommu_fault.c \
	host/companion.c host/dmadev_model.c host/ledger.c host/fdstore.c \
	host/ramguard.c host/fileperm.c
HOST_DAEMON_SRCS := host/evloop.c host/ivshmem_server.c host/daemon.c \
	host/control.c host/peer_access.c host/listen_socket.c \
	host/accept_reserve.c host/peerfd.c host/fdcloser.c host/fdpass.c \
	host/supervise.c host/procread.c host/uidquota.c host/peerpin.c
# What a host fuzz target links (tests/host/run-fuzz.sh reads it through
# make print-host-fuzz-srcs): everything pvdmad links but its main(), so a
# file added above is in the fuzz builds too.
HOST_FUZZ_SRCS = $(LIB_SRCS) $(COMMON_SRCS) $(HOST_CORE_SRCS) $(HOST_DAEMON_SRCS)
HOST_CORE_OBJS := $(HOST_CORE_SRCS:%.c=$(BUILD)/obj/%.o)
HOST_DAEMON_OBJS := $(HOST_DAEMON_SRCS:%.c=$(BUILD)/obj/%.o)

PVDMAD := $(BUILD)/pvdmad
PVDMACTL := $(BUILD)/pvdmactl
HOST_CLIENT := $(BUILD)/tests/host/client
PROGS += $(PVDMAD) $(PVDMACTL)

$(PVDMAD): $(BUILD)/obj/host/pvdmad.o $(HOST_DAEMON_OBJS) $(HOST_CORE_OBJS) $(LIBPVDMA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(PVDMACTL): $(BUILD)/obj/host/pvdmactl.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# Unit tests of the request path and the DMA command parser.
HOST_UNIT_TESTS := companion dmadev ledger fdstore procread uidquota peerpin \
	fileperm peerfd fdpass
HOST_UNIT_BINS := $(HOST_UNIT_TESTS:%=$(BUILD)/tests/test_%)
TESTS += $(HOST_UNIT_BINS) $(HOST_CLIENT)

$(HOST_UNIT_TESTS:%=$(BUILD)/obj/tests/unit/test_%.o): CFLAGS += -I. -Itests/host
$(BUILD)/obj/tests/host/client.o: CFLAGS += -I.

$(HOST_UNIT_BINS): $(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o \
		$(HOST_CORE_OBJS) $(LIBPVDMA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka
# reads off the loop: the loop and the pool are the daemon's
$(BUILD)/tests/test_procread: $(BUILD)/obj/host/evloop.o \
	$(BUILD)/obj/host/procread.o $(BUILD)/obj/host/uidquota.o
# the reader threads' shares by user
$(BUILD)/tests/test_uidquota: $(BUILD)/obj/host/uidquota.o
# pins and their verdicts, on real processes
$(BUILD)/tests/test_peerpin: $(BUILD)/obj/host/peerpin.o
# the eventfd guard, raced by a thread as a peer would
$(BUILD)/tests/test_peerfd: $(BUILD)/obj/host/peerfd.o
# a peer's message read without its fds, as on kernels before SO_PASSRIGHTS
$(BUILD)/tests/test_fdpass: $(BUILD)/obj/host/fdpass.o $(BUILD)/obj/host/fdcloser.o

# The integration client plays QEMU's part (tests/host/run-host.sh).
$(HOST_CLIENT): $(BUILD)/obj/tests/host/client.o \
		$(BUILD)/obj/tests/host/ivshmem_client.o \
		$(BUILD)/obj/tests/host/stallfs.o $(LIBPVDMA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# Runs a command as on a kernel without SO_PEERPIDFD or SO_PASSRIGHTS (a
# seccomp filter; run-attack.sh): no test switch in pvdmad itself.
HOST_OLDKERNEL := $(BUILD)/tests/host/oldkernel
TESTS += $(HOST_OLDKERNEL)
$(HOST_OLDKERNEL): $(BUILD)/obj/tests/host/oldkernel.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

host: $(PVDMAD) $(PVDMACTL) $(HOST_CLIENT) $(HOST_OLDKERNEL)

print-host-fuzz-srcs:
	@echo $(HOST_FUZZ_SRCS)
.PHONY: host print-host-fuzz-srcs
