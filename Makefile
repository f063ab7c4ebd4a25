# SPDX-License-Identifier: GPL-2.0
# kipc: a Linux kernel IPC lab.  "make help" lists the targets.

SHELL := /bin/bash
B := build
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
USER_LDLIBS := -lmnl -lpthread -lrt -lm
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
	vm-shell clean host-tests check-debug

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
	$(MAKE) -C /lib/modules/$*/build M=$(CURDIR)/$(B)/$*/kmod $(KBUILD_EXTRA) modules

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

vm-shell: deps
	@$(MAKE) --no-print-directory module KVERS=$(KVER)
	@$(MAKE) --no-print-directory user
	@tests/vm/run --kver $(KVER) --shell

clean:
	rm -rf $(B)
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
		kmod/modules.order kmod/Module.symvers
