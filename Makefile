# SPDX-License-Identifier: GPL-2.0
# kipc: a Linux kernel IPC lab.  "make help" lists the targets.

SHELL := /bin/bash
B ?= build
export KIPC_BUILD := $(abspath $(B))
UAPI := kmod/uapi

# Kernels: every installed Debian kernel with headers, unless KVERS= is given.
KVERS ?= $(shell scripts/kernels)
# The kernel "make demo", "make bench" and "make vm-shell" boot (KVER=...).
KVER ?= $(shell scripts/kernels --default)

# The 6.12 source tarball gives kselftest_harness.h, kselftest.h,
# checkpatch.pl and .clang-format, all from the same release.
KSRC_TAR ?= $(firstword $(wildcard /usr/src/linux-source-6.12.tar.xz))
KSRC := $(B)/ksrc

CC ?= cc
USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-I$(UAPI) -Iuser/lib
USER_LDLIBS := -lmnl -lpthread -lrt -lm -luring
TEST_CFLAGS := $(USER_CFLAGS) -I$(KSRC)/selftests -Itests/selftests \
	-Wno-unused-parameter

USER_LIB_SRC := $(wildcard user/lib/*.c)
USER_LIB_HDR := $(wildcard user/lib/*.h) $(UAPI)/linux/kipc.h
TOOLS := $(patsubst user/%/main.c,%,$(wildcard user/*/main.c))
TOOL_BINS := $(addprefix $(B)/user/,$(TOOLS))
SELFTEST_SRC := $(wildcard tests/selftests/*_test.c)
SELFTEST_BINS := $(patsubst tests/selftests/%.c,$(B)/tests/%,$(SELFTEST_SRC))
KMOD_SRC := $(wildcard kmod/*.c kmod/*.h kmod/uapi/linux/*.h) kmod/Kbuild

.PHONY: all help deps module user tests check check-vm lint demo bench \
	vm-shell clean host-tests check-debug install uninstall dist dkms-src

all: module user

help:
	@echo "kipc targets:"
	@echo "  make demo       install deps, build, boot KVER ($(KVER)) in QEMU, run the tour"
	@echo "  make check      install deps, build, lint, host tests, selftests on every kernel"
	@echo "  make all        module (every kernel) and user tools"
	@echo "  make module     kipc.ko for each kernel in KVERS, in $(B)/<version>/kmod/"
	@echo "  make user       tools and selftests into $(B)/user and $(B)/tests"
	@echo "  make lint       checkpatch, sparse, W=1 builds, clang-format"
	@echo "  make check-vm   selftests in QEMU only (KVERS=..., TESTS=...)"
	@echo "  make check-debug  selftests on a KASAN/lockdep/kmemleak 6.12 kernel"
	@echo "  make bench      kipc-bench in QEMU, results into results/"
	@echo "  make vm-shell   boot KVER with the module loaded, busybox shell"
	@echo "  make install    module (KVER or the running kernel), tools, header, udev rule,"
	@echo "                 man pages into DESTDIR/PREFIX (default /usr/local); make uninstall"
	@echo "  make dkms-src   DKMS source tree into DESTDIR/usr/src/kipc-<version>/"
	@echo "  make dist       release tarball $(B)/kipc-<version>.tar.gz"
	@echo "  make clean      remove $(B)/"
	@echo "kernels found: $(KVERS)"

deps:
	@scripts/deps

# --- kernel module: one folder per kernel version ---------------------------

module: $(foreach v,$(KVERS),$(B)/$(v)/kmod/kipc.ko)

$(B)/%/kmod/kipc.ko: $(KMOD_SRC)
	@mkdir -p $(B)/$*/kmod/uapi/linux
	@cp -p kmod/*.c kmod/*.h kmod/Kbuild $(B)/$*/kmod/
	@cp -p kmod/uapi/linux/kipc.h $(B)/$*/kmod/uapi/linux/
	$(MAKE) -C /lib/modules/$*/build M=$(abspath $(B))/$*/kmod $(KBUILD_EXTRA) modules

# --- kselftest headers and kernel scripts from the 6.12 source --------------

$(KSRC)/.stamp:
	@test -n "$(KSRC_TAR)" || { echo "linux-source-6.12 is missing: run make deps"; exit 1; }
	@mkdir -p $(KSRC)/selftests $(KSRC)/scripts
	@d=$$(tar -tJf $(KSRC_TAR) | head -1 | cut -d/ -f1); \
	tar -xJf $(KSRC_TAR) -C $(KSRC) \
		$$d/tools/testing/selftests/kselftest_harness.h \
		$$d/tools/testing/selftests/kselftest.h \
		$$d/scripts/checkpatch.pl $$d/scripts/spelling.txt \
		$$d/scripts/const_structs.checkpatch $$d/.clang-format \
		$$d/Documentation/netlink/genetlink.yaml && \
	mv $(KSRC)/$$d/tools/testing/selftests/*.h $(KSRC)/selftests/ && \
	mv $(KSRC)/$$d/scripts/* $(KSRC)/scripts/ && \
	mv $(KSRC)/$$d/.clang-format $(KSRC)/ && \
	mv $(KSRC)/$$d/Documentation/netlink/genetlink.yaml $(KSRC)/ && \
	rm -rf $(KSRC)/$$d
	@touch $@

# --- userspace ---------------------------------------------------------------

user: $(TOOL_BINS) $(SELFTEST_BINS)

.SECONDEXPANSION:
$(B)/user/%: $$(wildcard user/%/*.c user/%/*.h) $(USER_LIB_SRC) $(USER_LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -Iuser/$* -o $@ $(wildcard user/$*/*.c) $(USER_LIB_SRC) $(USER_LDLIBS)

$(B)/tests/%: tests/selftests/%.c $(wildcard tests/selftests/*.h) $(USER_LIB_SRC) $(USER_LIB_HDR) $(KSRC)/.stamp
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(USER_LIB_SRC) $(USER_LDLIBS)

# --- tests -------------------------------------------------------------------

host-tests: user
	@scripts/host-tests $(B)

lint: $(KSRC)/.stamp
	@scripts/lint $(B) $(KVERS)

check-vm: module user
	@rm -f $(B)/results/*.tap
	@rc=0; for v in $(KVERS); do tests/vm/run --kver $$v --tests "$(TESTS)" || rc=1; done; \
	scripts/tap-summary $(B)/results/*.tap; exit $$rc

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/check $(B) $(KVERS)

check-debug: deps
	@$(MAKE) --no-print-directory user
	@tests/vm/debug-kernel

demo: deps
	@$(MAKE) --no-print-directory module KVERS=$(KVER)
	@$(MAKE) --no-print-directory user
	@tests/vm/run --kver $(KVER) --demo

bench: deps
	@$(MAKE) --no-print-directory module KVERS=$(KVER)
	@$(MAKE) --no-print-directory user
	@tests/vm/run --kver $(KVER) --bench "$(BENCH_ARGS)" --out results
	@scripts/bench-plot results

vm-shell: deps
	@$(MAKE) --no-print-directory module KVERS=$(KVER)
	@$(MAKE) --no-print-directory user
	@tests/vm/run --kver $(KVER) --shell

clean:
	rm -rf $(B)
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
		kmod/modules.order kmod/Module.symvers

# --- install, DKMS source, release tarball -----------------------------------
# make install [DESTDIR=/staging] [PREFIX=/usr/local] [KVER=<kernel>]
# The module goes to /lib/modules/<kver>/updates/ through kbuild's
# modules_install (signed and compressed as that kernel's config says);
# kipcctl, a section 8 tool, to sbin; the others to bin.  depmod runs only
# for a real install (no DESTDIR): a package build runs its own.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/kipc
UDEVRULESDIR ?= /lib/udev/rules.d
SYSUSERSDIR ?= /usr/lib/sysusers.d
KIPC_VERSION := $(shell sed -n 's/.*KIPC_VERSION_STRING[[:space:]]*"\([^"]*\)".*/\1/p' $(UAPI)/linux/kipc.h)
DKMS_SRCDIR = /usr/src/kipc-$(KIPC_VERSION)

# KVER when given, else the running kernel if its headers are here (a real
# machine), else the default of scripts/kernels (this lab's host).
INSTALL_KVER = $(if $(filter command environment,$(firstword $(origin KVER))),$(KVER),$(if \
	$(wildcard /lib/modules/$(shell uname -r)/build),$(shell uname -r),$(KVER)))
SBIN_TOOLS := $(filter kipcctl,$(TOOLS))
BIN_TOOLS := $(filter-out kipcctl,$(TOOLS))
MAN_PAGES := $(wildcard Documentation/man/*.[1-8])
DOC_FILES := $(wildcard Documentation/*.md)
DKMS_FILES := kmod/dkms.conf kmod/Makefile kmod/Kbuild $(wildcard kmod/*.c kmod/*.h)
D := $(if $(DESTDIR),$(abspath $(DESTDIR)))
INSTALL_DATA := install -m 0644
INSTALL_PROG := install -m 0755

install:
	@test -n "$(INSTALL_KVER)" || { echo "install: no kernel headers found; give KVER="; exit 1; }
	@$(MAKE) --no-print-directory module KVERS=$(INSTALL_KVER)
	@$(MAKE) --no-print-directory $(TOOL_BINS)
	$(MAKE) -C /lib/modules/$(INSTALL_KVER)/build M=$(abspath $(B))/$(INSTALL_KVER)/kmod \
		INSTALL_MOD_PATH=$(D) INSTALL_MOD_DIR=updates DEPMOD=true modules_install
	@if [ -z "$(D)" ]; then echo "  DEPMOD  $(INSTALL_KVER)"; depmod -a $(INSTALL_KVER); fi
	install -d $(D)$(BINDIR) $(D)$(SBINDIR) $(D)$(INCLUDEDIR)/linux \
		$(D)$(UDEVRULESDIR) $(D)$(SYSUSERSDIR) $(D)$(DOCDIR)/modprobe.d \
		$(D)$(MANDIR)/man1 $(D)$(MANDIR)/man4 $(D)$(MANDIR)/man8
	@set -e; for t in $(BIN_TOOLS); do echo "  INSTALL $(D)$(BINDIR)/$$t"; \
		$(INSTALL_PROG) $(B)/user/$$t $(D)$(BINDIR)/$$t; done; \
	for t in $(SBIN_TOOLS); do echo "  INSTALL $(D)$(SBINDIR)/$$t"; \
		$(INSTALL_PROG) $(B)/user/$$t $(D)$(SBINDIR)/$$t; done; \
	for m in $(MAN_PAGES); do s=$${m##*.}; echo "  INSTALL $(D)$(MANDIR)/man$$s/$${m##*/}"; \
		install -d $(D)$(MANDIR)/man$$s; $(INSTALL_DATA) $$m $(D)$(MANDIR)/man$$s/; done
	$(INSTALL_DATA) $(UAPI)/linux/kipc.h $(D)$(INCLUDEDIR)/linux/kipc.h
	$(INSTALL_DATA) scripts/udev/60-kipc.rules $(D)$(UDEVRULESDIR)/60-kipc.rules
	$(INSTALL_DATA) scripts/udev/kipc.sysusers $(D)$(SYSUSERSDIR)/kipc.conf
	$(INSTALL_DATA) scripts/modprobe.d/kipc.conf $(D)$(DOCDIR)/modprobe.d/kipc.conf
	@set -e; for f in $(DOC_FILES); do echo "  INSTALL $(D)$(DOCDIR)/$${f##*/}"; \
		$(INSTALL_DATA) $$f $(D)$(DOCDIR)/; done
	@if [ -z "$(D)" ]; then \
		command -v systemd-sysusers >/dev/null && systemd-sysusers $(SYSUSERSDIR)/kipc.conf || \
		getent group kipc >/dev/null || groupadd --system kipc || true; \
		udevadm control --reload-rules 2>/dev/null || true; \
	fi

uninstall:
	@test -n "$(INSTALL_KVER)" || { echo "uninstall: no kernel found; give KVER="; exit 1; }
	rm -f $(D)/lib/modules/$(INSTALL_KVER)/updates/kipc.ko{,.gz,.xz,.zst}
	@if [ -z "$(D)" ] && [ -d /lib/modules/$(INSTALL_KVER) ]; then \
		echo "  DEPMOD  $(INSTALL_KVER)"; depmod -a $(INSTALL_KVER); fi
	rm -f $(addprefix $(D)$(BINDIR)/,$(BIN_TOOLS)) $(addprefix $(D)$(SBINDIR)/,$(SBIN_TOOLS))
	rm -f $(foreach m,$(MAN_PAGES),$(D)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(D)$(INCLUDEDIR)/linux/kipc.h $(D)$(UDEVRULESDIR)/60-kipc.rules \
		$(D)$(SYSUSERSDIR)/kipc.conf $(D)$(DOCDIR)/modprobe.d/kipc.conf \
		$(addprefix $(D)$(DOCDIR)/,$(notdir $(DOC_FILES)))
	@rmdir $(D)$(DOCDIR)/modprobe.d $(D)$(DOCDIR) 2>/dev/null || true

# The DKMS source tree is kmod/ with its dkms.conf; then
#   dkms install kipc/$(KIPC_VERSION)
dkms-src:
	install -d $(D)$(DKMS_SRCDIR)/uapi/linux
	$(INSTALL_DATA) $(DKMS_FILES) $(D)$(DKMS_SRCDIR)/
	$(INSTALL_DATA) $(UAPI)/linux/kipc.h $(D)$(DKMS_SRCDIR)/uapi/linux/

# The files git knows (tracked, or new and not ignored) as they are in the
# work tree, or DIST_REF=<commit> for exactly that commit.
dist:
	@scripts/install/mkdist $(B) kipc-$(KIPC_VERSION) $(DIST_REF)
