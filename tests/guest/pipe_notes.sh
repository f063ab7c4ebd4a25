#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo from the notes (Documentation/pipe.md), as a test:
#   echo "good fifo" > /dev/kipc/pipe0 &    blocks in open(), no reader yet
#   cat /dev/kipc/pipe0                     prints "good fifo"
# and the other way round: cat waits for a writer.  Busybox sh, TAP output.
# A process is known to block once /proc/PID/wchan names a kipc_pipe
# function: polled, with a bound against hangs, never timed.

DEV=/dev/kipc/pipe0
OUT=/tmp/pipe_notes.$$
n=0
bad=0

ok() {
	n=$((n + 1))
	echo "ok $n $1"
}

not_ok() {
	n=$((n + 1))
	echo "not ok $n $1"
	bad=1
}

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	desc=$1
	shift
	if "$@"; then
		ok "$desc"
	else
		not_ok "$desc"
	fi
}

# Waits until process $1 sleeps in the pipe device (at most ~20 s).
blocked_in_kipc() {
	i=0
	while [ $i -lt 2000 ]; do
		kill -0 "$1" 2>/dev/null || return 1
		case $(cat "/proc/$1/wchan" 2>/dev/null) in
		kipc_pipe*) return 0 ;;
		esac
		usleep 10000
		i=$((i + 1))
	done
	return 1
}

still_blocked() {
	kill -0 "$1" 2>/dev/null || return 1
	grep -q '^State:.*sleeping' "/proc/$1/status" || return 1
	case $(cat "/proc/$1/wchan" 2>/dev/null) in
	kipc_pipe*) return 0 ;;
	esac
	return 1
}

same_text() {
	[ "$(cat "$1")" = "$2" ] && [ "$(wc -c < "$1")" -eq "$3" ]
}

echo "1..9"

check "$DEV exists and is a character device" test -c "$DEV"

# 1. The writer comes first and waits in open() for a reader.
echo "good fifo" > "$DEV" &
wpid=$!
check "writer blocks in open() while nobody reads" blocked_in_kipc "$wpid"
check "writer is still blocked just before cat" still_blocked "$wpid"
cat "$DEV" > "$OUT"
check "cat exits 0" test $? -eq 0
check "cat prints exactly \"good fifo\"" same_text "$OUT" "good fifo" 10
wait "$wpid"
check "writer exits 0" test $? -eq 0

# 2. The reader comes first and waits in open() for a writer.
cat "$DEV" > "$OUT" &
cpid=$!
check "cat blocks in open() while nobody writes" blocked_in_kipc "$cpid"
echo "second" > "$DEV"
wait "$cpid"
check "cat exits 0 at EOF" test $? -eq 0
check "cat prints exactly \"second\"" same_text "$OUT" "second" 7

rm -f "$OUT"
exit $bad
