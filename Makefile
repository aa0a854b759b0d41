# SPDX-License-Identifier: MIT
#
# pvdma: one build entry point.
#   make            build lib, tools and pvdmad (build/)
#   make check      install test dependencies, build with ASan/UBSan
#                   (build/san/) and run every test; ends "N passed, N failed"
#   make demo       the end-to-end demonstration (see README.md);
#                   ARCH=arm64: on an arm64 guest, KVER=newest: on Debian
#                   sid's kernel, KVER=stable: on Debian 13's (6.12)
#   make bench      benchmarks and plots into docs/perf/ (not a test)
#   make soak       the long reliability runs (docs/reliability.md)
#   make fuzz       long libFuzzer runs of every parser (docs/security.md)
#   make mutate     seed mutations, check the tests catch them (docs/testing.md)
#   make module     build guest/pvdma.ko against the Debian kernel headers
#   make deps       install the Debian packages the build and tests need
#   make install    programs, man pages, systemd units, the dkms tree
#                   (DESTDIR, PREFIX; install.mk); make dkms: the module

BUILD	?= build
CC	?= cc
SAN	?= 0

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter -Werror=implicit-function-declaration \
	-g -Ilib/include -Ilib
ifeq ($(SAN),1)
CFLAGS_OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
else
CFLAGS_OPT := -O2
endif
CFLAGS	+= $(CFLAGS_BASE) $(CFLAGS_OPT)
LDFLAGS	+= $(LDFLAGS_SAN)

PROGS	:=
TESTS	:=

all: progs

include common/common.mk
include lib/lib.mk
-include tools/tools.mk
-include host/host.mk
-include bench/bench.mk
-include guest/guest.mk
-include guest/checkpatch.mk
-include tools/trace/trace.mk
-include tests/reliability/soak.mk
-include tests/mutate/mutate.mk
-include fuzz/fuzz.mk
-include install.mk
include tests/tests.mk

progs: $(PROGS)
tests: $(TESTS) $(PROGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

deps:
	@scripts/install-deps.sh

check: deps
	$(MAKE) SAN=1 BUILD=build/san tests
	@scripts/run-tests.sh build/san

# make demo ARCH=arm64: an arm64 guest on -M virt; make demo KVER=newest:
# Debian sid's kernel; KVER=stable: Debian 13's (trixie, 6.12)
# (tests/e2e/vm.sh). Command-line values only.
demo: deps progs
	@PVDMA_ARCH="$(if $(filter command line,$(origin ARCH)),$(ARCH))" \
	 PVDMA_KVER="$(if $(filter command line,$(origin KVER)),$(KVER))" \
		scripts/demo.sh

bench: deps progs
	@scripts/bench.sh

clean:
	rm -rf build

.PHONY: all progs tests deps check demo bench clean
