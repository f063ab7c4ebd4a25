#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test (TAP): the selftests as the kernel's tooling sees them, on a
# host without the module.  "make kselftest-install" lays out the
# kernel's install tree (run_kselftest.sh, kselftest/, kselftest-list.txt,
# kipc/ with settings and config); every test skips as upstream selftests
# skip a missing feature (exit 4, "1..0 # SKIP"); run_kselftest.sh, run by
# dash, bash and busybox sh, reports each as "ok N ... # SKIP"; so does
# lib.mk's own "make run_tests".  The passing runs are in the guest
# (tests/guest/kselftest.sh).
set -u
cd "$(dirname "$0")/../.." || exit 1
# Run as "make check" runs it, or by hand: the make here must not inherit
# the outer make's flags and command-line variables (KVER=, B=, -j).
unset MAKEFLAGS MFLAGS MAKELEVEL KVER KVERS
B=$(realpath -m "${KIPC_BUILD:-build}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
I=$tmp/ks

n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; shift; printf '%s\n' "$@" | sed 's/^/# /'; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }

if [ -e /dev/kipc ]; then
	skip "selftests skip without the module" "the module is loaded here"
	echo "1..$n"
	exit 0
fi

tests=$(cd tests/selftests && ls *_test.c | sed 's/\.c$//' | sort)
count=$(echo "$tests" | wc -l)

if out=$(make --no-print-directory B="$B" KSFT_INSTALL="$I" kselftest-install 2>&1); then
	ok "make kselftest-install"
else
	nok "make kselftest-install" "$(echo "$out" | tail -15)"
	echo "1..$n"
	exit 1
fi

bad=""
for f in run_kselftest.sh kselftest/runner.sh kselftest/prefix.pl; do
	[ -x "$I/$f" ] || bad="$bad $f"
done
for t in $tests; do
	[ -x "$I/kipc/$t" ] || bad="$bad kipc/$t"
done
grep -qE '^timeout=[0-9]+$' "$I/kipc/settings" 2>/dev/null || bad="$bad kipc/settings"
# A config fragment: options and comments, nothing else.
[ -s "$I/kipc/config" ] && ! grep -vqE '^(CONFIG_[A-Z0-9_]+=[ym]|#.*|)$' "$I/kipc/config" ||
	bad="$bad kipc/config"
if [ -z "$bad" ]; then
	ok "install tree: runner, $count tests, settings, config"
else
	nok "install tree: runner, $count tests, settings, config" "missing or wrong:$bad"
fi
want=$(echo "$tests" | sed 's/^/kipc:/')
if [ "$(sort "$I/kselftest-list.txt")" = "$want" ]; then
	ok "kselftest-list.txt: kipc:<test> for each of the $count"
else
	nok "kselftest-list.txt: kipc:<test> for each of the $count" "$(cat "$I/kselftest-list.txt")"
fi

# Each program on its own: the skip of kipc_ksft.h, before any case.
bad=""
for t in $tests; do
	out=$("$I/kipc/$t" 2>&1)
	rc=$?
	[ $rc = 4 ] && [ "$out" = "TAP version 13
1..0 # SKIP kipc module not loaded (no /dev/kipc)" ] ||
		bad="$bad $t(exit $rc: $(echo "$out" | grep -m1 -v '^TAP'))"
done
if [ -z "$bad" ]; then
	ok "each test without the module: 1..0 # SKIP, exit 4 (KSFT_SKIP)"
else
	nok "each test without the module: 1..0 # SKIP, exit 4 (KSFT_SKIP)" $bad
fi

# runner OUT [COLLECTION]: the output of run_kselftest.sh (or lib.mk's
# run_tests) is a plan of all the tests and "ok N selftests: kipc: TEST
# # SKIP" each.  lib.mk names a folder outside tools/testing/selftests
# by its path: COLLECTION is then that path.
runner() {
	local i=0 t c=${2:-kipc}
	grep -qx "1\.\.$count" "$1" || return 1
	! grep -q '^not ok' "$1" || return 1
	for t in $tests; do
		i=$((i + 1))
		grep -qxF "ok $i selftests: $c: $t # SKIP" "$1" || return 1
	done
}
# busybox sh with busybox's applets first, as in the guest, and perl
# (the runner takes it when /usr/bin/perl is there, as here).
bb=""
if command -v busybox >/dev/null; then
	mkdir -p "$tmp/bb"
	busybox --install -s "$tmp/bb" 2>/dev/null
	bb=$tmp/bb
fi
for sh in dash bash busybox; do
	case $sh in
	busybox) [ -n "$bb" ] || { skip "run_kselftest.sh by busybox sh" "no busybox"; continue; }
		cmd=(env PATH="$bb:/usr/bin" busybox sh) ;;
	*) command -v $sh >/dev/null || { skip "run_kselftest.sh by $sh" "no $sh"; continue; }
		cmd=($sh) ;;
	esac
	# Through a pipe: runner.sh also appends to /dev/stdout, which on
	# a regular file would write over the other lines.
	"${cmd[@]}" "$I/run_kselftest.sh" 2>&1 | cat > "$tmp/$sh.out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" = 0 ] && runner "$tmp/$sh.out"; then
		ok "run_kselftest.sh by $sh: every test ok # SKIP"
	else
		nok "run_kselftest.sh by $sh: every test ok # SKIP" "exit $rc" \
			"$(head -30 "$tmp/$sh.out")"
	fi
done

# lib.mk's own runner, from the source folder.
make --no-print-directory -C tests/selftests OUTPUT="$B/tests" \
	KSFT_DIR="$B/ksrc/selftests" run_tests 2>&1 | cat > "$tmp/run_tests.out"
rc=${PIPESTATUS[0]}
if [ "$rc" = 0 ] && runner "$tmp/run_tests.out" "$PWD/tests/selftests"; then
	ok "make -C tests/selftests run_tests: every test ok # SKIP"
else
	nok "make -C tests/selftests run_tests: every test ok # SKIP" "exit $rc" \
		"$(head -30 "$tmp/run_tests.out")"
fi

echo "1..$n"
