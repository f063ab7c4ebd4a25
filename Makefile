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
	-I$(UAPI)
USER_LDLIBS := -lmnl -luring -lpthread -lrt -lm

TOOLS := $(patsubst user/%/main.c,%,$(wildcard user/*/main.c))
TOOL_BINS := $(addprefix $(B)/user/,$(TOOLS))
# The selftests build through tests/selftests/Makefile, on the kernel's
# lib.mk; "make kselftest-install" lays them out for run_kselftest.sh.
SELFTEST_MAKE = $(MAKE) --no-print-directory -C tests/selftests \
	OUTPUT=$(abspath $(B))/tests KSFT_DIR=$(abspath $(KSRC))/selftests
KSFT_INSTALL ?= $(B)/kselftest
KSFT_RUNNER := runner.sh prefix.pl ktap_helpers.sh module.sh
KMOD_SRC := $(wildcard kmod/*.c kmod/*.h kmod/uapi/linux/*.h) kmod/Kbuild

.PHONY: all help deps module user tools selftests kselftest-install check \
	check-vm lint demo bench vm-shell clean host-tests check-debug install \
	uninstall dist dkms-src

all: module user

help:
	@echo "kipc targets:"
	@echo "  make demo       install deps, build, boot KVER ($(KVER)) in QEMU, run the tour"
	@echo "  make check      install deps, build, lint, host tests, selftests on every kernel"
	@echo "  make all        module (every kernel), tools and selftests"
	@echo "  make module     kipc.ko for each kernel in KVERS, in $(B)/<version>/kmod/"
	@echo "  make user       tools and selftests into $(B)/user and $(B)/tests"
	@echo "  make tools      the tools only, into $(B)/user: libmnl, no kernel source needed"
	@echo "  make selftests  the selftests, on the kernel's lib.mk (tests/selftests/Makefile)"
	@echo "  make kselftest-install  selftests + run_kselftest.sh into KSFT_INSTALL ($(KSFT_INSTALL))"
	@echo "  make deps       install the Debian packages kipc needs (apt-get, via sudo)"
	@echo "  make host-tests the host-side tests (tests/host/*.sh), no module needed"
	@echo "  make lint       checkpatch, sparse, W=1 builds, clang-format"
	@echo "  make check-vm   selftests in QEMU only (KVERS=..., TESTS=...)"
	@echo "  make check-debug  selftests on a KASAN/lockdep/kmemleak 6.12 kernel"
	@echo "  make bench      kipc-bench in QEMU, results into results/"
	@echo "  make vm-shell   boot KVER with the module loaded, busybox shell"
	@echo "  make install    module (KVER or the running kernel), tools, header, udev rule,"
	@echo "                 man pages into DESTDIR/PREFIX (default /usr/local); make uninstall;"
	@echo "                 SIGN_KEY=MOK.priv SIGN_CERT=MOK.der sign the module"
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
# Also lib.mk and the runner (run_kselftest.sh, kselftest/): a folder
# extracted before they were added is extracted again.

$(KSRC)/.stamp: $(if $(wildcard $(KSRC)/selftests/lib.mk),,FORCE)
	@test -n "$(KSRC_TAR)" || { echo "linux-source-6.12 is missing (kselftest_harness.h, lib.mk):" \
		"run make deps, or make tools for the tools alone"; exit 1; }
	@mkdir -p $(KSRC)/selftests $(KSRC)/scripts
	@d=$$(tar -tJf $(KSRC_TAR) | head -1 | cut -d/ -f1); \
	tar -xJf $(KSRC_TAR) -C $(KSRC) \
		$$d/tools/testing/selftests/kselftest_harness.h \
		$$d/tools/testing/selftests/kselftest.h \
		$$d/tools/testing/selftests/lib.mk \
		$$d/tools/testing/selftests/run_kselftest.sh \
		$(addprefix $$d/tools/testing/selftests/kselftest/,$(KSFT_RUNNER)) \
		$$d/scripts/checkpatch.pl $$d/scripts/spelling.txt \
		$$d/scripts/const_structs.checkpatch $$d/.clang-format \
		$$d/Documentation/netlink/genetlink.yaml \
		$$d/Documentation/netlink/genetlink-c.yaml \
		$$d/Documentation/netlink/genetlink-legacy.yaml \
		$$d/tools/net/ynl && \
	cp -a $(KSRC)/$$d/tools/testing/selftests/. $(KSRC)/selftests/ && \
	mv $(KSRC)/$$d/scripts/* $(KSRC)/scripts/ && \
	mv $(KSRC)/$$d/.clang-format $(KSRC)/ && \
	rm -rf $(KSRC)/Documentation $(KSRC)/tools && \
	mv $(KSRC)/$$d/Documentation $(KSRC)/$$d/tools $(KSRC)/ && \
	rm -rf $(KSRC)/$$d
	@touch $@

FORCE:

# --- the kernel's ynl tooling on the netlink spec ---------------------------
# $(KSRC) is laid out as the kernel tree tools/net/ynl expects: the schemas in
# Documentation/netlink/, the spec (a copy) in Documentation/netlink/specs/,
# and an empty MAINTAINERS, the mark of the tree's root that ynl-gen-c.py
# climbs up to (it never stops at / without one).

YNL := $(KSRC)/tools/net/ynl
YNL_SPEC := $(KSRC)/Documentation/netlink/specs/kipc.yaml
YNL_CFLAGS := -std=gnu11 -O2 -g -W -Wall -Wextra -Wno-unused-parameter \
	-Wshadow -I$(YNL)/lib -I$(B)/ynl -I$(UAPI)

# A $(KSRC) extracted before it held ynl: extract it again.
$(YNL)/ynl-gen-c.py: | $(KSRC)/.stamp
	@test -e $@ || { rm -f $(KSRC)/.stamp; $(MAKE) --no-print-directory $(KSRC)/.stamp; }

$(YNL_SPEC): Documentation/netlink/specs/kipc.yaml | $(YNL)/ynl-gen-c.py
	@mkdir -p $(@D)
	@touch $(KSRC)/MAINTAINERS
	cp $< $@

$(B)/ynl/kipc-user.h $(B)/ynl/kipc-user.c: $(B)/ynl/kipc-user.%: $(YNL_SPEC)
	@mkdir -p $(@D)
	python3 $(YNL)/ynl-gen-c.py --mode user --$(if $(filter h,$*),header,source) \
		--spec $(YNL_SPEC) -o $@

# The library of the kernel's tree builds as it does there; the code made
# from our spec, against our UAPI header, must build without a warning.
$(B)/ynl/ynl.o: $(YNL)/ynl-gen-c.py
	@mkdir -p $(@D)
	$(CC) $(YNL_CFLAGS) -c -o $@ $(YNL)/lib/ynl.c

$(B)/ynl/kipc-user.o: $(B)/ynl/kipc-user.c $(B)/ynl/kipc-user.h $(UAPI)/linux/kipc.h
	$(CC) $(YNL_CFLAGS) -Werror -c -o $@ $<

$(B)/user/kipc-ynl-dump: tests/ynl/kipc-ynl-dump.c $(B)/ynl/kipc-user.o $(B)/ynl/ynl.o
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -I$(YNL)/lib -I$(B)/ynl -o $@ $^

# --- userspace ---------------------------------------------------------------
# The tools need only libmnl and the UAPI header of this tree; the
# selftests also need kselftest_harness.h and lib.mk from the 6.12 source.

user: tools selftests $(B)/user/kipc-ynl-dump

tools: $(TOOL_BINS)

.SECONDEXPANSION:
$(B)/user/%: $$(wildcard user/%/*.c user/%/*.h) $(UAPI)/linux/kipc.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -Iuser/$* -o $@ $(wildcard user/$*/*.c) $(USER_LDLIBS)

selftests: $(KSRC)/.stamp
	+@$(SELFTEST_MAKE)

# The layout of the kernel's "make -C tools/testing/selftests install":
# run_kselftest.sh, kselftest/, kselftest-list.txt and the collection
# kipc/ (the programs, settings, config).  Then, on the test machine:
#   KSFT_INSTALL/run_kselftest.sh [-t kipc:pipe_test]
kselftest-install: selftests
	@mkdir -p $(KSFT_INSTALL)/kselftest
	@install -m 0755 $(KSRC)/selftests/run_kselftest.sh $(KSFT_INSTALL)/
	@install -m 0755 $(addprefix $(KSRC)/selftests/kselftest/,$(KSFT_RUNNER)) \
		$(KSFT_INSTALL)/kselftest/
	+@$(SELFTEST_MAKE) install INSTALL_PATH=$(abspath $(KSFT_INSTALL))/kipc
	+@$(SELFTEST_MAKE) -s emit_tests COLLECTION=kipc > $(KSFT_INSTALL)/kselftest-list.txt
	@echo "  KSFT    $(KSFT_INSTALL)/run_kselftest.sh ($$(wc -l < $(KSFT_INSTALL)/kselftest-list.txt) tests)"

# --- tests -------------------------------------------------------------------

host-tests: user
	@scripts/host-tests $(B)

lint: $(KSRC)/.stamp
	@scripts/lint $(B) $(KVERS)

check-vm: module user kselftest-install
	@rm -f $(B)/results/*.tap
	@rc=0; for v in $(KVERS); do tests/vm/run --kver $$v --tests "$(TESTS)" || rc=1; done; \
	scripts/tap-summary $(B)/results/*.tap; exit $$rc

check: deps
	@$(MAKE) --no-print-directory all kselftest-install
	@scripts/check $(B) $(KVERS)

check-debug: deps
	@$(MAKE) --no-print-directory user kselftest-install
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
#              [SIGN_KEY=MOK.priv SIGN_CERT=MOK.der]
# The module goes to /lib/modules/<kver>/updates/ through kbuild's
# modules_install (compressed as that kernel's config says); signed with
# SIGN_KEY/SIGN_CERT when given, else unsigned, said so, when the kernel
# wants every module signed with a key it does not ship
# (scripts/install/signing).  kipcctl, a section 8 tool, to sbin; the
# others to bin.  depmod runs only for a real install (no DESTDIR): a
# package build runs its own.  The folders install creates are listed in
# DOCDIR/.installed-dirs; uninstall removes those that are empty again.

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
SIGN_KEY ?=
SIGN_CERT ?=
DIRS_MANIFEST = $(DOCDIR)/.installed-dirs

# KVER when given, else the running kernel if its headers are here (a real
# machine), else the default of scripts/kernels (this lab's host), said so.
KVER_GIVEN = $(filter command environment,$(firstword $(origin KVER)))
INSTALL_KVER = $(if $(KVER_GIVEN),$(KVER),$(if \
	$(wildcard /lib/modules/$(shell uname -r)/build),$(shell uname -r),$(KVER)))
define say_kernel
	@if [ -n "$(KVER_GIVEN)" ]; then echo "  KERNEL  $(INSTALL_KVER) (given by KVER)"; \
	elif [ "$(INSTALL_KVER)" = "$$(uname -r)" ]; then \
		echo "  KERNEL  $(INSTALL_KVER) (the running kernel)"; \
	else echo "  NOTE    the running kernel $$(uname -r) has no headers" \
		"(/lib/modules/$$(uname -r)/build): $(1) $(INSTALL_KVER) instead;" \
		"KVER= picks the kernel"; fi
endef
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
	$(call say_kernel,installing for)
	@$(MAKE) --no-print-directory module KVERS=$(INSTALL_KVER)
	@$(MAKE) --no-print-directory $(TOOL_BINS)
	@scripts/install/mkdirs "$(D)" $(DIRS_MANIFEST) /lib/modules/$(INSTALL_KVER)/updates \
		$(BINDIR) $(SBINDIR) $(INCLUDEDIR)/linux $(UDEVRULESDIR) $(SYSUSERSDIR) \
		$(DOCDIR)/modprobe.d $(MANDIR)/man1 $(MANDIR)/man4 $(MANDIR)/man8
	@set -e; args=$$(scripts/install/signing /lib/modules/$(INSTALL_KVER)/build \
		$(abspath $(B))/$(INSTALL_KVER)/kmod $(SIGN_KEY) $(SIGN_CERT)); \
	echo "$(MAKE) -C /lib/modules/$(INSTALL_KVER)/build $$args modules_install"; \
	$(MAKE) -C /lib/modules/$(INSTALL_KVER)/build $$args \
		INSTALL_MOD_PATH=$(D) INSTALL_MOD_DIR=updates DEPMOD=true modules_install
	@if [ -z "$(D)" ]; then echo "  DEPMOD  $(INSTALL_KVER)"; depmod -a $(INSTALL_KVER); fi
	@set -e; for t in $(BIN_TOOLS); do echo "  INSTALL $(D)$(BINDIR)/$$t"; \
		$(INSTALL_PROG) $(B)/user/$$t $(D)$(BINDIR)/$$t; done; \
	for t in $(SBIN_TOOLS); do echo "  INSTALL $(D)$(SBINDIR)/$$t"; \
		$(INSTALL_PROG) $(B)/user/$$t $(D)$(SBINDIR)/$$t; done; \
	for m in $(MAN_PAGES); do s=$${m##*.}; echo "  INSTALL $(D)$(MANDIR)/man$$s/$${m##*/}"; \
		scripts/install/manpage $$m $(D)$(MANDIR)/man$$s/$${m##*/} \
			$(DOCDIR) $(UDEVRULESDIR); done
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
	$(call say_kernel,removing the module of)
	rm -f $(D)/lib/modules/$(INSTALL_KVER)/updates/kipc.ko{,.gz,.xz,.zst}
	@if [ -z "$(D)" ] && [ -d /lib/modules/$(INSTALL_KVER) ]; then \
		echo "  DEPMOD  $(INSTALL_KVER)"; depmod -a $(INSTALL_KVER); fi
	rm -f $(addprefix $(D)$(BINDIR)/,$(BIN_TOOLS)) $(addprefix $(D)$(SBINDIR)/,$(SBIN_TOOLS))
	rm -f $(foreach m,$(MAN_PAGES),$(D)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(D)$(INCLUDEDIR)/linux/kipc.h $(D)$(UDEVRULESDIR)/60-kipc.rules \
		$(D)$(SYSUSERSDIR)/kipc.conf $(D)$(DOCDIR)/modprobe.d/kipc.conf \
		$(addprefix $(D)$(DOCDIR)/,$(notdir $(DOC_FILES)))
	@scripts/install/rmdirs "$(D)" $(DIRS_MANIFEST)
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
