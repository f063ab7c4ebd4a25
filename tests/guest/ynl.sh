#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kipc-ynl-dump, the client built from the spec by the kernel's own ynl
# tooling (tools/net/ynl of 6.12), lists the same devices as kipcctl:
# byte for byte, as a table and as JSON, whole and by kind, idle and with
# data buffered, files open and limits changed.  busybox sh, TAP output.
# checks() evaluates its expression later: single quotes are meant.
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR source=lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
tap_tmpdir ynl

# both NAME ARGS...: kipcctl ARGS and kipc-ynl-dump ARGS (without "list"),
# into $T/NAME.ctl.* and $T/NAME.ynl.*.
both() {
	b_name=$1
	shift
	run "$b_name.ctl" kipcctl "$@"
	if [ "$1" = -j ]; then
		shift 2
		run "$b_name.ynl" kipc-ynl-dump -j "$@"
	else
		shift
		run "$b_name.ynl" kipc-ynl-dump "$@"
	fi
}
# same_dump DESC NAME: both exit 0 and print the same bytes.
same_dump() {
	if rc_is "$2.ctl" 0 && rc_is "$2.ynl" 0 &&
	   cmp -s "$T/$2.ctl.out" "$T/$2.ynl.out"; then
		ok "$1"
	else
		not_ok "$1"
		echo "# kipcctl (exit $(cat "$T/$2.ctl.rc")):"
		sed 's/^/#   /' "$T/$2.ctl.out" "$T/$2.ctl.err"
		echo "# kipc-ynl-dump (exit $(cat "$T/$2.ynl.rc")):"
		sed 's/^/#   /' "$T/$2.ynl.out" "$T/$2.ynl.err"
	fi
}
# compare TAG: table and JSON, whole and for each kind.
compare() {
	both "$1-list" list
	same_dump "$1: list, the same table" "$1-list"
	both "$1-jlist" -j list
	same_dump "$1: list -j, the same JSON" "$1-jlist"
	for k in pipe mq shm; do
		both "$1-$k" -j list "$k"
		same_dump "$1: list -j $k, the same JSON" "$1-$k"
	done
}

checks "kipc-ynl-dump is installed" 'command -v kipc-ynl-dump >/dev/null'

npipes=$(cat /sys/module/kipc/parameters/npipes)
nmqs=$(cat /sys/module/kipc/parameters/nmqs)
nshms=$(cat /sys/module/kipc/parameters/nshms)
total=$((npipes + nmqs + nshms))

kipcctl reset pipe1 >/dev/null
kipcctl reset mq0 >/dev/null
compare idle

run count kipc-ynl-dump
check "a line per device after the header" \
	[ "$(wc -l < "$T/count.out")" -eq $((total + 1)) ]
run json kipc-ynl-dump -j
check "-j: valid JSON" json_ok "$T/json.out"

pipe0_size=$(kipcctl show pipe0 | sed -n 's/^  capacity  *\([0-9]*\).*/\1/p')
# State that shows: bytes buffered in pipe1, a message queued in mq0,
# open files on both, a high-water mark and a smaller pipe.
exec 3<> /dev/kipc/pipe1
printf 'hello' >&3
exec 4<> /dev/kipc/mq0
printf 'message' >&4
kipcctl set pipe1 high-water 100 >/dev/null
kipcctl set pipe0 size 8192 >/dev/null
compare busy

run busy kipc-ynl-dump -j pipe
checks "pipe1: fill 5, one open file, high-water 100" \
	'grep -q "\"name\":\"pipe1\",\"kind\":\"pipe\",\"index\":1,\"open_files\":1,\"capacity\":[0-9]*,\"fill\":5,\"readers_waiting\":0,\"writers_waiting\":0,\"high_water\":100," "$T/busy.out"'
checks "pipe1: counters, bytes_in 5 and one write" \
	'grep -q "\"name\":\"pipe1\"[^}]*\"stats\":{\"bytes_in\":5,\"bytes_out\":0,\"writes\":1," "$T/busy.out"'
checks "pipe0: capacity 8192" \
	'grep -q "\"name\":\"pipe0\",\"kind\":\"pipe\",\"index\":0,\"open_files\":0,\"capacity\":8192," "$T/busy.out"'
run busymq kipc-ynl-dump -j mq
checks "mq0: one message of 7 bytes" \
	'grep -q "\"name\":\"mq0\"[^}]*\"fill\":7,[^}]*\"mq_msgs\":1," "$T/busymq.out"'

run bad kipc-ynl-dump pipes
checks "a bad kind: exit 1 and a message" \
	'rc_is bad 1 && err_has bad "pipes: not a kind"'

exec 3<&- 4<&-
kipcctl flush pipe1 >/dev/null
kipcctl flush mq0 >/dev/null
kipcctl set pipe1 high-water 0 >/dev/null
kipcctl set pipe0 size "$pipe0_size" >/dev/null
kipcctl reset pipe1 >/dev/null
kipcctl reset mq0 >/dev/null
tap_done
