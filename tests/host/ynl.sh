#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test (TAP): the kernel's own netlink tooling takes the spec as it
# is.  tools/net/ynl of the 6.12 source (extracted by make into
# $KIPC_BUILD/ksrc) runs on Documentation/netlink/specs/kipc.yaml in a
# fresh tree laid out as the kernel's: ynl-gen-c.py makes the UAPI header
# and the user library, the library builds with tools/net/ynl/lib against
# our UAPI header (the generated code without a warning) into the dump
# client kipc-ynl-dump, and cli.py loads the spec up to asking the kernel
# for the family.  Every step has a time limit.  (scripts/check-spec
# compares the generated UAPI header with kmod/uapi/linux/kipc.h.)
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${KIPC_BUILD:-build}
K=$B/ksrc
YNL=$K/tools/net/ynl
SPEC=Documentation/netlink/specs/kipc.yaml
LIMIT=120

n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)) fail=1; echo "not ok $n $1"; shift; printf '%s\n' "$@" | sed 's/^/# /'; }

tmp=$(mktemp -d /tmp/kipc-ynl.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# step NAME CMD...: one test point; the command's output in $tmp/out.
step() {
	local name=$1
	shift
	timeout "$LIMIT" "$@" > "$tmp/out" 2>&1
	local rc=$?
	if [ $rc -eq 0 ]; then
		ok "$name"
	elif [ $rc -eq 124 ]; then
		nok "$name" "timed out after $LIMIT s: $*"
	else
		nok "$name" "exit $rc: $*" "$(tail -15 "$tmp/out")"
	fi
	return $rc
}

echo "1..10"
if [ ! -f "$YNL/ynl-gen-c.py" ] || [ ! -f "$K/Documentation/netlink/genetlink-c.yaml" ]; then
	nok "tools/net/ynl and the schemas in $K" "missing: make B=$B $K/.stamp"
	for i in 2 3 4 5 6 7 8 9 10; do nok "ynl step $i # not run"; done
	exit 1
fi
ok "tools/net/ynl and the schemas in $K"

# The kernel's layout: the schemas next to specs/, the spec in specs/, and
# MAINTAINERS at the root, where ynl-gen-c.py stops climbing.
t=$tmp/tree
mkdir -p "$t/Documentation/netlink/specs" "$tmp/gen"
cp "$K"/Documentation/netlink/*.yaml "$t/Documentation/netlink/"
cp "$SPEC" "$t/$SPEC"
: > "$t/MAINTAINERS"
gen=(python3 "$YNL/ynl-gen-c.py" --spec "$t/$SPEC")

step "ynl-gen-c.py --mode uapi --header" "${gen[@]}" --mode uapi --header -o "$tmp/gen/kipc-uapi.h"
step "ynl-gen-c.py --mode kernel --source" "${gen[@]}" --mode kernel --source -o "$tmp/gen/kipc-nl.c"
step "ynl-gen-c.py --mode user --header" "${gen[@]}" --mode user --header -o "$tmp/gen/kipc-user.h"
step "ynl-gen-c.py --mode user --source" "${gen[@]}" --mode user --source -o "$tmp/gen/kipc-user.c"

cflags=(-std=gnu11 -O2 -W -Wall -Wextra -Wno-unused-parameter -Wshadow
	-I"$YNL/lib" -I"$tmp/gen" -Ikmod/uapi)
step "tools/net/ynl/lib/ynl.c builds" \
	cc "${cflags[@]}" -c -o "$tmp/ynl.o" "$YNL/lib/ynl.c"
step "the generated library builds against kmod/uapi/linux/kipc.h, no warning" \
	cc "${cflags[@]}" -Werror -c -o "$tmp/kipc-user.o" "$tmp/gen/kipc-user.c"
step "kipc-ynl-dump links with it" \
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Ikmod/uapi \
	-I"$YNL/lib" -I"$tmp/gen" -o "$tmp/kipc-ynl-dump" \
	tests/ynl/kipc-ynl-dump.c "$tmp/kipc-user.o" "$tmp/ynl.o"

# Run here, where the module is never loaded (the host cannot load
# modules): the client must say so and exit 3, as kipcctl does.
if [ -x "$tmp/kipc-ynl-dump" ]; then
	timeout "$LIMIT" "$tmp/kipc-ynl-dump" > "$tmp/out" 2>&1
	rc=$?
	if { [ $rc -eq 3 ] && grep -q "kipc module is not loaded" "$tmp/out"; } ||
	   { [ $rc -eq 0 ] && head -1 "$tmp/out" | grep -q "^DEVICE "; }; then
		ok "kipc-ynl-dump runs: the devices, or the module is not loaded (exit $rc)"
	else
		nok "kipc-ynl-dump runs: the devices, or the module is not loaded" \
			"exit $rc" "$(cat "$tmp/out")"
	fi
else
	nok "kipc-ynl-dump runs # not built"
fi

# cli.py parses and validates the spec, then resolves the family.
timeout "$LIMIT" python3 "$YNL/cli.py" --spec "$t/$SPEC" --dump get-dev \
	> "$tmp/out" 2>&1
rc=$?
if { [ $rc -ne 0 ] && [ $rc -ne 124 ] &&
     [ "$(tail -1 "$tmp/out")" = "Exception: Family 'kipc' not supported by the kernel" ]; } ||
   { [ $rc -eq 0 ] && grep -q "'name': 'pipe0'" "$tmp/out"; }; then
	ok "cli.py takes the spec: a dump, or the family is not in the kernel"
else
	nok "cli.py takes the spec: a dump, or the family is not in the kernel" \
		"exit $rc" "$(tail -15 "$tmp/out")"
fi
exit $fail
