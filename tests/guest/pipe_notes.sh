#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo from the notes (Documentation/pipe.md), as a test:
#   echo "good fifo" > /dev/kipc/pipe0 &    blocks in open(), no reader yet
#   cat /dev/kipc/pipe0                     prints "good fifo"
# and the other way round: cat waits for a writer.  Busybox sh, TAP output.
# A process is known to block once /proc/PID/wchan names a kipc_pipe
# function: polled, with a bound against hangs, never timed.

# shellcheck source-path=SCRIPTDIR source=lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
DEV=/dev/kipc/pipe0
tap_tmpdir pipe_notes
OUT=$T/out

# Still asleep in the pipe device, just before the next step (by check).
# shellcheck disable=SC2317
still_blocked() {
	kill -0 "$1" 2>/dev/null || return 1
	grep -q '^State:.*sleeping' "/proc/$1/status" || return 1
	case $(cat "/proc/$1/wchan" 2>/dev/null) in
	kipc_pipe*) return 0 ;;
	esac
	return 1
}

plan 9

check "$DEV exists and is a character device" test -c "$DEV"

# 1. The writer comes first and waits in open() for a reader.
echo "good fifo" > "$DEV" &
wpid=$!
check "writer blocks in open() while nobody reads" blocked_in "$wpid" kipc_pipe
check "writer is still blocked just before cat" still_blocked "$wpid"
cat "$DEV" > "$OUT"
check "cat exits 0" test $? -eq 0
check "cat prints exactly \"good fifo\"" same "$OUT" "good fifo" 10
wait "$wpid"
check "writer exits 0" test $? -eq 0

# 2. The reader comes first and waits in open() for a writer.
cat "$DEV" > "$OUT" &
cpid=$!
check "cat blocks in open() while nobody writes" blocked_in "$cpid" kipc_pipe
echo "second" > "$DEV"
wait "$cpid"
check "cat exits 0 at EOF" test $? -eq 0
check "cat prints exactly \"second\"" same "$OUT" "second" 7

tap_done
