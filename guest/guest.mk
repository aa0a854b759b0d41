# SPDX-License-Identifier: GPL-2.0
# guest/: pvdma.ko and pvdma_dmatest.ko, built by Kbuild against Debian's
# kernel headers. Included by the top Makefile (-include guest/guest.mk):
#   make module [GUEST_KVER=6.1.0-56-amd64]
# GUEST_KVER defaults to the newest installed linux-headers-*-amd64;
# tests/e2e/vm.sh (and make demo) install one if there is none.

GUEST_KVER ?= $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | \
	sed 's,.*/linux-headers-,,' | sort -V | tail -n 1)

module:
	@if [ -z "$(GUEST_KVER)" ]; then \
		echo "no kernel headers: apt-get install linux-headers-amd64, or run make demo"; \
		exit 1; \
	fi
	$(MAKE) -C guest KVER=$(GUEST_KVER)

module-clean:
	@if [ -n "$(GUEST_KVER)" ]; then $(MAKE) -C guest KVER=$(GUEST_KVER) clean; fi

.PHONY: module module-clean
