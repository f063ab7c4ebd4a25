#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test (TAP): what "make install" lays down, and that "make
# uninstall" takes exactly that away again, files and the folders install
# made, and no folder that was there before.  What install says: the
# kernel it picked, and an unsigned module (no OpenSSL errors); and with
# SIGN_KEY/SIGN_CERT a module signed with that key.  The installed
# kipc(4) names the installed paths.  Everything goes into a staging
# DESTDIR; nothing is loaded and the system is not touched.
# Also checks the module's metadata (modinfo), the udev rule and the
# modprobe.d example against the module's real parameters.
set -u
cd "$(dirname "$0")/../.." || exit 1
# Run as "make check" runs it, or by hand: the make here must not inherit
# the outer make's flags and command-line variables (KVER=, B=, -j).
unset MAKEFLAGS MFLAGS MAKELEVEL KVER KVERS
B=${KIPC_BUILD:-build}
UAPI=kmod/uapi/linux/kipc.h
ver=$(sed -n 's/.*KIPC_VERSION_STRING[[:space:]]*"\([^"]*\)".*/\1/p' $UAPI)
kvers=$(scripts/kernels)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D=$tmp/root

n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; shift; printf '%s\n' "$@" | sed 's/^/# /'; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
check() { # name, then a command that must succeed; its output on failure
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$name"; else nok "$name" "$out"; fi
}
# make, quietly; its last lines on failure.
mk() {
	make --no-print-directory B="$B" "$@" > "$tmp/make.log" 2>&1 ||
		{ tail -15 "$tmp/make.log"; return 1; }
}

# --- the module's metadata -------------------------------------------------
params=""
for v in $kvers; do
	ko=$B/$v/kmod/kipc.ko
	if [ ! -f "$ko" ]; then
		nok "modinfo $v" "$ko not built (make module)"
		continue
	fi
	check "modinfo $v: version $ver, license, author, description" bash -c '
		ko=$1 ver=$2
		[ "$(modinfo -F version "$ko")" = "$ver" ] ||
			{ echo "version: $(modinfo -F version "$ko")"; exit 1; }
		[ "$(modinfo -F license "$ko")" = GPL ] || { echo "license"; exit 1; }
		for f in author description; do
			[ -n "$(modinfo -F $f "$ko")" ] || { echo "no $f"; exit 1; }
		done
		[ "$(modinfo -F vermagic "$ko" | cut -d" " -f1)" = "$3" ] ||
			{ echo "vermagic: $(modinfo -F vermagic "$ko")"; exit 1; }' \
		_ "$ko" "$ver" "$v"
	# parmtype lists every parameter, parm only those with a description.
	all=$(modinfo -F parmtype "$ko" | cut -d: -f1 | sort)
	desc=$(modinfo -F parm "$ko" | grep -E '^[a-z0-9_]+:.*[^[:space:]].* \(' |
	       cut -d: -f1 | sort)
	nodesc=$(comm -23 <(echo "$all") <(echo "$desc"))
	if [ -n "$all" ] && [ -z "$nodesc" ]; then
		ok "modinfo $v: every parameter has a description ($(echo $all | wc -w))"
	else
		nok "modinfo $v: every parameter has a description" \
			"without: $(echo $nodesc)"
	fi
	params=$all
done

# The example names every parameter, and only real ones.
conf=scripts/modprobe.d/kipc.conf
ex=$(sed -nE 's/^#?options kipc (.*)/\1/p' $conf | tr ' ' '\n' | cut -d= -f1 | sort -u)
if [ -n "$params" ] && [ "$ex" = "$params" ]; then
	ok "modprobe.d example covers every parameter"
else
	nok "modprobe.d example covers every parameter" \
		"module only: $(comm -23 <(echo "$params") <(echo "$ex") | tr '\n' ' ')" \
		"example only: $(comm -13 <(echo "$params") <(echo "$ex") | tr '\n' ' ')"
fi

rule=scripts/udev/60-kipc.rules
check "udev rule: SUBSYSTEM kipc, GROUP kipc, MODE 0660" \
	grep -qE '^SUBSYSTEM=="kipc",.* GROUP="kipc", MODE="0660"' $rule
check "sysusers.d: group kipc" grep -qE '^g kipc ' scripts/udev/kipc.sysusers

# --- make install ------------------------------------------------------------
# The kernel "make install" picks by itself: the running one if it has
# headers, else the default of scripts/kernels.
defk=$(uname -r)
[ -d "/lib/modules/$defk/build" ] || defk=$(scripts/kernels --default)
others=$(echo $kvers | tr ' ' '\n' | grep -vxF "$defk")

# A folder that is there before install (and empty): uninstall keeps it.
mkdir -p "$D/usr/share/man/man1"
check "make install DESTDIR PREFIX=/usr" mk install DESTDIR="$D" PREFIX=/usr
cp "$tmp/make.log" "$tmp/install.log"
if grep -qiE 'SSL error|sign-file:' "$tmp/install.log"; then
	nok "install: no sign-file errors" "$(grep -iE 'SSL error|sign-file:' "$tmp/install.log")"
else
	ok "install: no sign-file errors"
fi
if [ "$defk" = "$(uname -r)" ]; then
	what="  KERNEL  $defk (the running kernel)"
else
	what="  NOTE    the running kernel $(uname -r) has no headers (/lib/modules/$(uname -r)/build): installing for $defk instead; KVER= picks the kernel"
fi
check "install: says which kernel ($defk)" grep -qxF "$what" "$tmp/install.log"
if grep -q '^CONFIG_MODULE_SIG_ALL=y' "/lib/modules/$defk/build/.config" &&
   [ ! -e "/lib/modules/$defk/build/certs/signing_key.x509" ]; then
	check "install: says the module is unsigned, and how to sign it" bash -c '
		grep -q "kipc.ko is installed unsigned" "$1" &&
		grep -q "make install SIGN_KEY=.* SIGN_CERT=" "$1"' _ "$tmp/install.log"
	ko=$(ls "$D/lib/modules/$defk/updates/"kipc.ko* 2>/dev/null | head -1)
	check "install: the module has no signature" test -z "$(modinfo -F signer "$ko" 2>&1)"
else
	skip "install: says the module is unsigned" "$defk signs with a key it has"
fi
for v in $others; do
	check "make install KVER=$v" mk install DESTDIR="$D" PREFIX=/usr KVER="$v"
done

# path, mode: every file install must lay down.
expect=$(
	for t in kipc-bench kipc-demo; do echo "usr/bin/$t 755"; done
	echo "usr/sbin/kipcctl 755"
	echo "usr/include/linux/kipc.h 644"
	echo "lib/udev/rules.d/60-kipc.rules 644"
	echo "usr/lib/sysusers.d/kipc.conf 644"
	echo "usr/share/man/man4/kipc.4 644"
	echo "usr/share/man/man8/kipcctl.8 644"
	echo "usr/share/man/man1/kipc-bench.1 644"
	echo "usr/share/man/man1/kipc-demo.1 644"
	echo "usr/share/doc/kipc/modprobe.d/kipc.conf 644"
	for f in Documentation/*.md; do
		[ -e "$f" ] && echo "usr/share/doc/kipc/${f##*/} 644"
	done
)
bad=""
while read -r f mode; do
	if [ ! -f "$D/$f" ]; then
		bad="$bad missing:$f"
	elif [ "$(stat -c %a "$D/$f")" != "$mode" ]; then
		bad="$bad $f:$(stat -c %a "$D/$f")"
	fi
done <<< "$expect"
if [ -z "$bad" ]; then
	ok "installed files present with their modes ($(echo "$expect" | wc -l))"
else
	nok "installed files present with their modes" "$bad"
fi

for v in $kvers; do
	ko=$(ls "$D/lib/modules/$v/updates/"kipc.ko* 2>/dev/null | head -1)
	if [ -n "$ko" ] && [ "$(stat -c %a "$ko")" = 644 ] &&
	   [ "$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)" = "$v" ]; then
		ok "module installed for $v: ${ko#"$D"/}"
	else
		nok "module installed for $v" "found: ${ko:-nothing} in $D/lib/modules/$v/updates/"
	fi
done

check "installed tools are the built ones" bash -c '
	cmp "$1/usr/sbin/kipcctl" "$2/user/kipcctl" &&
	cmp "$1/usr/bin/kipc-demo" "$2/user/kipc-demo" &&
	cmp "$1/usr/bin/kipc-bench" "$2/user/kipc-bench"' _ "$D" "$B"
check "installed header is the UAPI header" cmp "$D/usr/include/linux/kipc.h" $UAPI
# A program built against the installed header alone, as a user would.
check "installed header compiles on its own" bash -c '
	printf "#include <linux/kipc.h>\nint main(void) { return KIPC_MQ_SEND == 0; }\n" |
	cc -std=c99 -Wall -Werror -I"$1/usr/include" -x c -o /dev/null -' _ "$D"
check "installed pages render" bash -c '
	for p in "$1"/usr/share/man/man*/*; do man -l "$p" >/dev/null || exit 1; done' _ "$D"
check "installed kipc.4 names DOCDIR /usr/share/doc/kipc, not /usr/local" bash -c '
	grep -q "^\.IR /usr/share/doc/kipc/modprobe\.d/" "$1" && ! grep -q /usr/local "$1"' \
	_ "$D/usr/share/man/man4/kipc.4"
check "no depmod output in DESTDIR" bash -c \
	'! ls "$1"/lib/modules/*/modules.* 2>/dev/null | grep .' _ "$D"

# --- make uninstall ------------------------------------------------------------
check "make uninstall DESTDIR PREFIX=/usr" mk uninstall DESTDIR="$D" PREFIX=/usr
for v in $others; do
	check "make uninstall KVER=$v" mk uninstall DESTDIR="$D" PREFIX=/usr KVER="$v"
done
left=$(find "$D" -mindepth 1 ! -path "$D/usr" ! -path "$D/usr/share" \
	! -path "$D/usr/share/man" ! -path "$D/usr/share/man/man1")
if [ -z "$left" ]; then
	ok "uninstall removes every file and every folder install made"
else
	nok "uninstall removes every file and every folder install made" $left
fi
check "uninstall keeps the folder that was there before" test -d "$D/usr/share/man/man1"
check "uninstall removes the doc folder" test ! -e "$D/usr/share/doc/kipc"

# --- signed with one's own key ------------------------------------------------
if command -v openssl >/dev/null; then
	openssl req -new -nodes -utf8 -sha256 -days 1 -batch -x509 -outform DER \
		-out "$tmp/mok.der" -keyout "$tmp/mok.priv" \
		-subj "/CN=kipc install test/" >/dev/null 2>&1
	S=$tmp/signed
	check "make install SIGN_KEY SIGN_CERT" mk install DESTDIR="$S" PREFIX=/usr \
		SIGN_KEY="$tmp/mok.priv" SIGN_CERT="$tmp/mok.der"
	ko=$(ls "$S/lib/modules/$defk/updates/"kipc.ko* 2>/dev/null | head -1)
	check "module signed with that key" test "$(modinfo -F signer "$ko" 2>&1)" = "kipc install test"
	check "make uninstall after a signed install" mk uninstall DESTDIR="$S" PREFIX=/usr
	check "nothing left" test -z "$(find "$S" -mindepth 1)"
else
	skip "make install SIGN_KEY SIGN_CERT" "no openssl"
fi

echo "1..$n"
