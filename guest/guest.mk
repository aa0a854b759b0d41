# SPDX-License-Identifier: GPL-2.0
# guest/: pvdma.ko and pvdma_dmatest.ko, built by Kbuild against Debian's
# kernel headers. Included by the top Makefile (-include guest/guest.mk):
#   make module [GUEST_KVER=6.1.0-56-amd64]
# GUEST_KVER defaults to the newest installed linux-headers-*-amd64;
# tests/e2e/vm.sh (and make demo) install one if there is none.
#   make module ARCH=arm64		Debian 12's arm64 kernel, cross-built
#   make module KVER=newest		Debian sid's kernel, in a sid chroot
#   make module KVER=stable		Debian 13's (trixie, 6.12), in a trixie chroot
#   make module KVER=6.1.0-57-amd64	that Debian kernel
# build as the end-to-end tests do (scripts/build-module.sh, tests/e2e/vm.sh):
# into build/modules-ARCH-KVER/, downloads cached in build/vm/.

GUEST_KVER ?= $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | \
	sed 's,.*/linux-headers-,,' | sort -V | tail -n 1)

# Only a command-line ARCH= or KVER= picks the guest: an ARCH in the
# environment, set for some other build, is not taken.
GUEST_ARCH_ASKED := $(if $(filter command line,$(origin ARCH)),$(ARCH))
GUEST_KVER_ASKED := $(if $(filter command line,$(origin KVER)),$(KVER))

module:
ifneq ($(GUEST_ARCH_ASKED)$(GUEST_KVER_ASKED),)
	@PVDMA_ARCH="$(GUEST_ARCH_ASKED)" PVDMA_KVER="$(GUEST_KVER_ASKED)" \
		scripts/build-module.sh
else
	@if [ -z "$(GUEST_KVER)" ]; then \
		echo "no kernel headers: apt-get install linux-headers-amd64, or run make demo"; \
		exit 1; \
	fi
	$(MAKE) -C guest KVER=$(GUEST_KVER)
endif

module-clean:
	@if [ -n "$(GUEST_KVER)" ]; then $(MAKE) -C guest KVER=$(GUEST_KVER) clean; fi

.PHONY: module module-clean
