# SPDX-License-Identifier: MIT
# make install / make dkms. Included by the top Makefile.
#
#   make install [DESTDIR=/tmp/root] [PREFIX=/usr]
#	programs, man pages, systemd units, examples, licences, and the dkms
#	source tree of pvdma.ko (DKMSDIR, /usr/src)
#   make dkms [DESTDIR=...]
#	only the dkms tree; without DESTDIR also `dkms install` it
#
# Every version comes from lib/include/pvdma/version.h.

PVDMA_VERSION := $(shell sed -n 's/^\#define PVDMA_VERSION[[:space:]]*"\(.*\)"/\1/p' \
	lib/include/pvdma/version.h)

PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/pvdma
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
SYSCONFDIR	?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DKMSDIR		?= /usr/src
INSTALL		?= install

INSTALL_SBIN	:= pvdmad pvdmactl
INSTALL_BIN	:= pvdma-replay pvdma-trace
MAN_PAGES	:= man/pvdmad.8 man/pvdmactl.8 man/pvdma-replay.1 \
		   man/pvdma-trace.1 man/pvdma.4
UNITS		:= systemd/pvdmad@.service systemd/pvdmad@.socket

# pvdma.ko's objects, as guest/Kbuild lists them: its sources and nothing
# else go into the dkms tree.
PVDMA_KO_OBJS := $(shell sed -n '/^pvdma-y/,/[^\\]$$/p' guest/Kbuild | \
	tr -d '\\' | sed 's/^pvdma-y[[:space:]]*:=//')
PVDMA_KO_LIB := $(patsubst ../lib/%.o,lib/%.c,$(filter ../lib/%,$(PVDMA_KO_OBJS)))
PVDMA_KO_GUEST := $(patsubst %.o,guest/%.c,$(filter-out ../lib/%,$(PVDMA_KO_OBJS)))
DKMS_TREE = $(DESTDIR)$(DKMSDIR)/pvdma-$(PVDMA_VERSION)

# @VAR@ in units and man pages: the paths of this install.
INSTALL_SUBST := sed -e 's,@SBINDIR@,$(SBINDIR),g' -e 's,@BINDIR@,$(BINDIR),g' \
	-e 's,@SYSCONFDIR@,$(SYSCONFDIR),g' -e 's,@PVDMA_VERSION@,$(PVDMA_VERSION),g'

install: progs install-dkms-tree
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man4 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/LICENSES
	$(INSTALL) -m 755 $(INSTALL_SBIN:%=$(BUILD)/%) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 755 $(INSTALL_BIN:%=$(BUILD)/%) $(DESTDIR)$(BINDIR)/
	for m in $(MAN_PAGES); do \
		$(INSTALL_SUBST) $$m >$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/} || exit 1; \
		chmod 644 $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#man/}; \
	done
	for u in $(UNITS); do \
		$(INSTALL_SUBST) $$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$${u#systemd/} || exit 1; \
		chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u#systemd/}; \
	done
	$(INSTALL) -m 644 systemd/pvdmad.conf.example dist/pvdma-modprobe.conf \
		$(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 LICENSES/* $(DESTDIR)$(DOCDIR)/LICENSES/

install-dkms-tree:
	rm -rf $(DKMS_TREE)
	$(INSTALL) -d $(DKMS_TREE)/guest $(DKMS_TREE)/lib/include/pvdma
	$(INSTALL) -m 644 $(PVDMA_KO_GUEST) guest/*.h $(DKMS_TREE)/guest/
	sed 's/^\(obj-m[[:space:]]*:=.*\)[[:space:]]selftests\//\1/' guest/Kbuild \
		>$(DKMS_TREE)/guest/Kbuild
	$(INSTALL) -m 644 $(PVDMA_KO_LIB) lib/*.h $(DKMS_TREE)/lib/
	$(INSTALL) -m 644 lib/include/pvdma/*.h $(DKMS_TREE)/lib/include/pvdma/
	$(INSTALL_SUBST) dist/dkms.conf.in >$(DKMS_TREE)/dkms.conf
	$(INSTALL) -m 644 LICENSE LICENSES/GPL-2.0 LICENSES/MIT $(DKMS_TREE)/

dkms: install-dkms-tree
	@if [ -z "$(DESTDIR)" ] && command -v dkms >/dev/null; then \
		dkms install -m pvdma -v $(PVDMA_VERSION); \
	else \
		echo "dkms tree in $(DKMS_TREE) (dkms install -m pvdma -v $(PVDMA_VERSION))"; \
	fi

.PHONY: install install-dkms-tree dkms
