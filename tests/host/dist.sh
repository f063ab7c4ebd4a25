#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test (TAP): "make dist" gives a reproducible kipc-<version>.tar.gz
# with everything a release needs and nothing built, and an extracted
# copy builds on its own (the module, the tools and the selftests) and
# makes the same tarball again without git.
set -u
cd "$(dirname "$0")/../.." || exit 1
# Run as "make check" runs it, or by hand: the make here must not inherit
# the outer make's flags and command-line variables (KVER=, B=, -j).
unset MAKEFLAGS MFLAGS MAKELEVEL KVER KVERS
B=${KIPC_BUILD:-build}
UAPI=kmod/uapi/linux/kipc.h
ver=$(sed -n 's/.*KIPC_VERSION_STRING[[:space:]]*"\([^"]*\)".*/\1/p' $UAPI)
name=kipc-$ver
tarball=$B/$name.tar.gz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; shift; printf '%s\n' "$@" | sed 's/^/# /'; }

if out=$(make --no-print-directory B="$B" dist 2>&1) && [ -s "$tarball" ]; then
	ok "make dist: $tarball"
else
	nok "make dist: $tarball" "$out"
	echo "1..$n"
	exit 1
fi
tar -tzf "$tarball" | LC_ALL=C sort > "$tmp/list"

# Same tree, same bytes: names sorted, owner and times fixed.
sum=$(sha256sum < "$tarball")
make --no-print-directory B="$B" dist >/dev/null 2>&1
if [ "$(sha256sum < "$tarball")" = "$sum" ]; then
	ok "make dist is reproducible"
else
	nok "make dist is reproducible" "two runs, two tarballs (or a file changed meanwhile)"
fi

outside=$(grep -v "^$name/" "$tmp/list" | head -5)
if [ -z "$outside" ]; then
	ok "every member under $name/"
else
	nok "every member under $name/" "$outside"
fi
owners=$(tar -tvzf "$tarball" | awk '$2 != "0/0" { print $2, $6 }' | head -3)
if [ -z "$owners" ]; then
	ok "members owned by 0/0"
else
	nok "members owned by 0/0" "$owners"
fi

# What a release cannot do without (every file git knows is in; these
# are the ones a careless ignore rule or a layout change would lose).
need="Makefile README.md .gitignore kmod/Kbuild kmod/Makefile kmod/dkms.conf
kmod/core.c kmod/pipe.c kmod/mq.c kmod/shm.c kmod/netlink.c kmod/kipc.h
kmod/compat.h kmod/uapi/linux/kipc.h scripts/deps scripts/kernels
scripts/check scripts/host-tests scripts/install/mkdist
scripts/udev/60-kipc.rules scripts/udev/kipc.sysusers
scripts/modprobe.d/kipc.conf Documentation/man/kipc.4
Documentation/man/kipcctl.8 Documentation/man/kipc-bench.1
Documentation/man/kipc-demo.1 Documentation/README.md
Documentation/design.md Documentation/uapi.md tests/vm/run tests/host/dist.sh
tests/guest/kipcctl.sh tests/guest/lib/tap.sh
user/kipcctl/main.c user/kipc-bench/main.c user/kipc-demo/main.c"
missing=""
for f in $need; do
	grep -qxF "$name/$f" "$tmp/list" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	ok "tarball has the release files ($(wc -l < "$tmp/list") files)"
else
	nok "tarball has the release files" "missing:$missing"
fi

junk=$(grep -E "^$name/(build|results)/|\.(o|ko|mod|mod\.c|cmd|pyc)$|/__pycache__/|/\.git/|Module\.symvers$|modules\.order$" "$tmp/list" | head -5)
if [ -z "$junk" ]; then
	ok "no build output or git data in the tarball"
else
	nok "no build output or git data in the tarball" "$junk"
fi

# --- the extracted copy builds on its own ------------------------------------
tar -xzf "$tarball" -C "$tmp"
x=$tmp/$name
# One kernel is enough here: every kernel builds the same files, and
# "make module" and tests/host/dkms.sh cover them all.
kv=$(scripts/kernels --default)
# The kselftest headers come from the 6.12 source tarball; extracting
# them again takes a minute, so the copy gets the ones already here.
targets="module"
if [ -f "$B/ksrc/.stamp" ]; then
	mkdir -p "$x/build"
	cp -a "$B/ksrc" "$x/build/"
	targets="module user"
fi
if out=$(make -C "$x" --no-print-directory B=build KVERS="$kv" $targets 2>&1); then
	ok "make $targets in the extracted copy"
else
	nok "make $targets in the extracted copy" "$(echo "$out" | tail -20)"
fi
missing=""
[ -f "$x/build/$kv/kmod/kipc.ko" ] || missing="$missing build/$kv/kmod/kipc.ko"
if [ "$targets" = "module user" ]; then
	for t in kipcctl kipc-bench kipc-demo; do
		[ -x "$x/build/user/$t" ] || missing="$missing build/user/$t"
	done
fi
if [ -z "$missing" ]; then
	ok "extracted copy built the module for $kv${targets#module}"
else
	nok "extracted copy built the module for $kv${targets#module}" "missing:$missing"
fi

# Without git, make dist packs the same tarball again, byte for byte.
if out=$(make -C "$x" --no-print-directory B=build dist 2>&1) &&
   cmp -s "$x/build/$name.tar.gz" "$tarball"; then
	ok "make dist in the extracted copy gives the same tarball"
else
	nok "make dist in the extracted copy gives the same tarball" "$out" \
		"$(diff <(tar -tvzf "$x/build/$name.tar.gz" 2>&1 | LC_ALL=C sort -k6) \
			<(tar -tvzf "$tarball" | LC_ALL=C sort -k6) | head)"
fi

echo "1..$n"
