#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo from the notes (Documentation/mq.md), as a test:
#   echo hello > /dev/kipc/mq0               returns at once; the writer exits
#   dd if=/dev/kipc/mq0 bs=8192 count=1      later: prints "hello"
# plus message boundaries, a read buffer too small (EMSGSIZE), a reader
# that waits for a writer and a writer that waits for room.  Busybox sh,
# TAP output.  A process is known to block once /proc/PID/wchan names a
# kipc_mq function: polled, with a bound against hangs, never timed.

# shellcheck source-path=SCRIPTDIR source=lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
DEV=/dev/kipc/mq0
tap_tmpdir mq_notes
OUT=$T/out

# One message: one read(2) of up to 8192 bytes into $OUT.
recv() {
	dd if="$DEV" of="$OUT" bs=8192 count=1 2>/dev/null
}

plan 16

check "$DEV exists and is a character device" test -c "$DEV"

# 1. The note: the message outlives its writer.
sh -c "echo hello > $DEV"
check "echo hello > $DEV returns 0 at once, nobody reading" test $? -eq 0
recv
check "later, dd count=1 returns 0" test $? -eq 0
check "and prints exactly \"hello\\n\"" same "$OUT" hello 6

# 2. One write, one message; one read, one whole message.
printf one > "$DEV" && printf two > "$DEV"
check "two writes queue two messages" test $? -eq 0
recv
check "the first read gets \"one\" only" same "$OUT" one 3
recv
check "the second read gets \"two\"" same "$OUT" two 3

# 3. A buffer smaller than the message: EMSGSIZE, the message stays.
echo 0123456789 > "$DEV"
dd if="$DEV" of="$OUT" bs=4 count=1 2>/dev/null
check "dd bs=4 fails on an 11-byte message" test $? -ne 0
recv
check "the message is still there, whole" same "$OUT" 0123456789 11

# 4. The reader first: it waits for a message.
rm -f "$OUT"
dd if="$DEV" of="$OUT" bs=8192 count=1 2>/dev/null &
rpid=$!
check "a reader of an empty queue blocks" blocked_in "$rpid" kipc_mq
echo wake > "$DEV"
wait "$rpid"
check "the writer wakes it and it exits 0" test $? -eq 0
check "with \"wake\"" same "$OUT" wake 5

# 5. A full queue (2 x 8192 of 16384 bytes): the writer waits for room.
dd if=/dev/zero of="$DEV" bs=8192 count=2 2>/dev/null
echo more > "$DEV" &
wpid=$!
check "a writer to a full queue blocks" blocked_in "$wpid" kipc_mq
recv
check "a read makes room: 8192 bytes out" test "$(wc -c < "$OUT")" -eq 8192
wait "$wpid"
check "and the writer exits 0" test $? -eq 0
recv
recv
check "the last message is \"more\"" same "$OUT" more 5

tap_done
