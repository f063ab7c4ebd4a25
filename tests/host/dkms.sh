#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test (TAP): kmod/dkms.conf is right and DKMS adds, builds and
# installs kipc for every installed kernel, then removes it again.
# DKMS runs on private trees under a temp dir (--sourcetree, --dkmstree,
# --installtree, --no-depmod, and its own signing key), so nothing is
# loaded and nothing outside the temp dir changes.
set -u
cd "$(dirname "$0")/../.." || exit 1
# Run as "make check" runs it, or by hand: the make here must not inherit
# the outer make's flags and command-line variables (KVER=, B=, -j).
unset MAKEFLAGS MFLAGS MAKELEVEL KVER KVERS
UAPI=kmod/uapi/linux/kipc.h
CONF=kmod/dkms.conf
ver=$(sed -n 's/.*KIPC_VERSION_STRING[[:space:]]*"\([^"]*\)".*/\1/p' $UAPI)
kvers=$(scripts/kernels)

n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; shift; printf '%s\n' "$@" | sed 's/^/# /'; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }

# dkms.conf is a shell fragment: read it as DKMS does.
# shellcheck source=/dev/null
conf() { (set +u; . "$CONF" >/dev/null 2>&1; eval "echo \"\${$1}\""); }
bad=""
[ "$(conf PACKAGE_NAME)" = kipc ] || bad="$bad PACKAGE_NAME=$(conf PACKAGE_NAME)"
[ "$(conf PACKAGE_VERSION)" = "$ver" ] ||
	bad="$bad PACKAGE_VERSION=$(conf PACKAGE_VERSION) (header: $ver)"
[ "$(conf 'BUILT_MODULE_NAME[0]')" = kipc ] || bad="$bad BUILT_MODULE_NAME"
[ "$(conf 'DEST_MODULE_LOCATION[0]')" = /updates ] || bad="$bad DEST_MODULE_LOCATION"
[ "$(conf AUTOINSTALL)" = yes ] || bad="$bad AUTOINSTALL"
conf 'MAKE[0]' | grep -q 'KDIR=' || bad="$bad MAKE[0] without KDIR"
if [ -z "$bad" ]; then
	ok "dkms.conf: kipc $ver, module kipc in /updates, AUTOINSTALL"
else
	nok "dkms.conf: kipc $ver, module kipc in /updates, AUTOINSTALL" "$bad"
fi

if ! command -v dkms >/dev/null; then
	skip "dkms add, build, install, remove" "dkms not installed (scripts/deps)"
	echo "1..$n"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/root/usr/src
tree=$tmp/dkms
inst=$tmp/modules
mkdir -p "$tree" "$inst"
# What must not change: DKMS's own tree, the real module folders, its key.
state() {
	ls -la /var/lib/dkms 2>&1
	ls /lib/modules/*/updates/dkms/ 2>&1
	ls /usr/src 2>&1
}
before=$(state)

# DKMS reads these from the environment before its framework.conf: a
# throw-away signing key instead of creating /var/lib/dkms/mok.key.
export mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub
unset modprobe_on_install
opts=(-m kipc -v "$ver" --sourcetree "$src" --dkmstree "$tree"
      --installtree "$inst")
dk() { dkms "$@" "${opts[@]}" > "$tmp/dkms.log" 2>&1 || { tail -20 "$tmp/dkms.log"; return 1; }; }

if out=$(make --no-print-directory dkms-src DESTDIR="$tmp/root" 2>&1) &&
   [ -f "$src/kipc-$ver/dkms.conf" ] && [ -f "$src/kipc-$ver/uapi/linux/kipc.h" ]; then
	ok "make dkms-src lays out /usr/src/kipc-$ver"
else
	nok "make dkms-src lays out /usr/src/kipc-$ver" "$out" "$(find "$tmp/root" | head)"
fi

if out=$(dk add); then
	ok "dkms add kipc/$ver"
else
	nok "dkms add kipc/$ver" "$out"
fi

for v in $kvers; do
	if out=$(dk build -k "$v"); then
		ok "dkms build for $v"
	else
		nok "dkms build for $v" "$out"
		continue
	fi
	built=$(ls "$tree/kipc/$ver/$v"/*/module/kipc.ko* 2>/dev/null | head -1)
	vm=$(modinfo -F vermagic "$built" 2>/dev/null | cut -d' ' -f1)
	mv=$(modinfo -F version "$built" 2>/dev/null)
	if [ "$vm" = "$v" ] && [ "$mv" = "$ver" ]; then
		ok "dkms built kipc $ver for $v"
	else
		nok "dkms built kipc $ver for $v" "module ${built:-missing}: vermagic $vm, version $mv"
	fi
	mkdir -p "$inst/$v"
	# Debian's DKMS puts it in updates/dkms/, others in updates/.
	if out=$(dk install -k "$v" --no-depmod) &&
	   [ -n "$(find "$inst/$v/updates" -name 'kipc.ko*' 2>/dev/null)" ]; then
		ok "dkms install for $v into updates/"
	else
		nok "dkms install for $v into updates/" "$out" "$(find "$inst/$v")"
	fi
done

if out=$(dk remove --all --no-depmod) && [ ! -e "$tree/kipc/$ver" ] &&
   [ -z "$(find "$inst" -name 'kipc.ko*')" ]; then
	ok "dkms remove --all"
else
	nok "dkms remove --all" "$out" "$(find "$tree" "$inst" -name 'kipc*')"
fi

after=$(state)
if [ "$before" = "$after" ]; then
	ok "system unchanged (/var/lib/dkms, /lib/modules/*/updates/dkms, /usr/src)"
else
	nok "system unchanged" "$(diff <(echo "$before") <(echo "$after"))"
fi

echo "1..$n"
