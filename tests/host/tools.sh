#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test (TAP): the tools' --version (the one version of the UAPI
# header, as "NAME VERSION"), one program name in every message (getopt's
# too, whatever path they were started by), "kipcctl help", and kipcctl
# without the module (exit 3).  kipc-bench is checked by its own tests.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${KIPC_BUILD:-build}
UAPI=kmod/uapi/linux/kipc.h
ver=$(sed -n 's/.*KIPC_VERSION_STRING[[:space:]]*"\([^"]*\)".*/\1/p' $UAPI)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; shift; printf '%s\n' "$@" | sed 's/^/# /'; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
# run NAME CMD...: stdout, stderr and status in $tmp/NAME.{out,err,rc}.
run() {
	local name=$1
	shift
	"$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
	echo $? > "$tmp/$name.rc"
}
# expect DESC NAME STATUS OUT ERR: the status, and stdout and stderr
# exactly (ERR "*": anything; "name:*": the first line starts with
# "name: ", and no line names the program by another name or path).
expect() {
	local desc=$1 name=$2 rc=$3 out=$4 err=$5 why=""
	[ "$(cat "$tmp/$name.rc")" = "$rc" ] || why="exit $(cat "$tmp/$name.rc"), not $rc"
	[ "$out" = "*" ] || [ "$(cat "$tmp/$name.out")" = "$out" ] ||
		why="$why; stdout: $(head -3 "$tmp/$name.out")"
	case $err in
	"*") ;;
	*:"*") { head -1 "$tmp/$name.err" | grep -q "^${err%\*} " &&
		! grep -qF -e "$bin" -e "build/" "$tmp/$name.err"; } ||
		why="$why; stderr: $(head -3 "$tmp/$name.err")" ;;
	*) [ "$(cat "$tmp/$name.err")" = "$err" ] ||
		why="$why; stderr: $(head -3 "$tmp/$name.err")" ;;
	esac
	if [ -z "$why" ]; then ok "$desc"; else nok "$desc" "${why#; }"; fi
}

# tool, its usage exit status
for tu in "kipcctl 1" "kipc-demo 2"; do
	set -- $tu
	t=$1 usage=$2
	bin=$(realpath "$B/user/$t" 2>/dev/null)
	if [ ! -x "$bin" ]; then
		skip "$t" "$B/user/$t not built (make tools)"
		continue
	fi
	run v "$bin" --version
	expect "$t --version: \"$t $ver\", exit 0" v 0 "$t $ver" ""
	run v "$bin" -V
	expect "$t -V: \"$t $ver\", exit 0" v 0 "$t $ver" ""
	# Started by a path, as build/user/kipcctl: getopt's messages too
	# must name the program as the others do.
	run bad "$bin" --no-such-option
	expect "$t --no-such-option: exit $usage, every message says \"$t:\"" \
		bad "$usage" "*" "$t:*"
	grep -q "^$t: unrecognized option '--no-such-option'" "$tmp/bad.err" &&
		ok "$t --no-such-option: says which option" ||
		nok "$t --no-such-option: says which option" "$(head -3 "$tmp/bad.err")"
	run bad "$bin" -Z
	expect "$t -Z: exit $usage, every message says \"$t:\"" bad "$usage" "*" "$t:*"
	run bad "$bin" --version=2
	expect "$t --version=2: exit $usage, every message says \"$t:\"" \
		bad "$usage" "*" "$t:*"
	run help "$bin" --help
	expect "$t --help: exit 0, on stdout" help 0 "*" ""
done

bin=$(realpath "$B/user/kipcctl" 2>/dev/null)
if [ -x "$bin" ]; then
	run h2 "$bin" help
	"$bin" --help > "$tmp/h1.out" 2>&1
	if [ "$(cat "$tmp/h2.rc")" = 0 ] && cmp -s "$tmp/h1.out" "$tmp/h2.out"; then
		ok "kipcctl help: exit 0, the text of --help"
	else
		nok "kipcctl help: exit 0, the text of --help" "exit $(cat "$tmp/h2.rc")"
	fi
	if [ -e /sys/module/kipc ]; then
		skip "kipcctl list without the module: exit 3" "the module is loaded here"
	else
		run nomod "$bin" list
		expect "kipcctl list without the module: exit 3, says so" nomod 3 "" "kipcctl:*"
	fi
fi

echo "1..$n"
