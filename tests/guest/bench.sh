#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kipc-bench as a smoke test: a quick run of a standard and a kipc
# mechanism, its exit status, JSON that parses (json_ok of lib/tap.sh, a
# strict recognizer independent of kipc-bench), CSV rows, payload
# verification on and used, usage errors, and nothing left behind (IPC
# objects, temp files, limits, processes).  Never asserts on timings.
# busybox sh, TAP output.
# shellcheck source-path=SCRIPTDIR source=lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
tap_tmpdir bench-test

# One result object per line in kipc-bench's JSON: the lines of mechanism
# $1 and workload $2.  Called in checks expressions.
# shellcheck disable=SC2317
results() {
	grep "\"mechanism\": \"$1\", \"workload\": \"$2\"" "$T/b.json"
}

# The SysV IPC objects and limits before, to compare after.
ipc_count() {
	cat /proc/sysvipc/msg /proc/sysvipc/sem /proc/sysvipc/shm 2>/dev/null |
		grep -vc '^ *key'
}
limits() {
	cat /proc/sys/kernel/msgmax /proc/sys/kernel/msgmnb \
		/proc/sys/fs/mqueue/msgsize_max /proc/sys/fs/mqueue/msg_max \
		/proc/sys/net/unix/max_dgram_qlen 2>/dev/null | tr '\n' ' '
}
ipc_before=$(ipc_count)
limits_before=$(limits)
mechs=pipe,kipc-mq,sysv-msg

plan 17

run list kipc-bench --list
checks "--list exits 0" "rc_is list 0"
checks "--list names every mechanism of the brief" \
	"for m in pipe fifo kipc-pipe sysv-msg posix-mq kipc-mq kipc-mq-batch \
	  sysv-shm posix-shm kipc-shm kipc-shm-zc unix-stream unix-dgram \
	  socketpair tcp eventfd signal; do \
	  grep -q \"^\$m \" $T/list.out || exit 1; done; true"

run quick kipc-bench --quick --no-progress --mechanisms "$mechs" \
	--sizes 64,4096 --json "$T/b.json" --csv "$T/b.csv" --out "$T/out"
checks "kipc-bench --quick --mechanisms $mechs exits 0" "rc_is quick 0"
[ "$(cat "$T/quick.rc")" = 0 ] || sed 's/^/# /' "$T/quick.err" "$T/quick.out"
checks "--json output is one valid JSON value" "json_ok $T/b.json"
checks "--out wrote bench.json, bench.csv and bench.txt" \
	"json_ok $T/out/bench.json && [ -s $T/out/bench.csv ] && [ -s $T/out/bench.txt ]"
checks "payload verification is on" \
	"grep -q '\"payload_verify\": {\"enabled\": true' $T/b.json"
# Every ok point checked messages, some of them in full; none failed.
checks "every measured point verified its payloads" \
	"[ \$(grep -c '\"status\": \"ok\"' $T/b.json) -ge 1 ] && \
	 ! grep '\"status\": \"ok\"' $T/b.json | grep -q '\"verified\": 0,' && \
	 ! grep '\"status\": \"ok\"' $T/b.json | grep -q '\"verified_full\": 0,' && \
	 ! grep -q '\"status\": \"failed\"' $T/b.json"
checks "pipe: latency on one and two CPUs, and streaming, at 64 B and 4 KiB" \
	"[ \$(results pipe latency | grep -c '\"status\": \"ok\"') -eq \
	   \$([ \$(grep -c ^processor /proc/cpuinfo) -ge 2 ] && echo 4 || echo 2) ] && \
	 [ \$(results pipe stream | grep -c '\"status\": \"ok\"') -eq 2 ]"
# With the module loaded kipc-mq is measured; without it, skipped with a note.
if [ -d /dev/kipc ]; then
	checks "kipc-mq measured (the module is loaded)" \
		"[ \$(results kipc-mq stream | grep -c '\"status\": \"ok\"') -eq 2 ]"
	checks "the call reference: getppid(), the kipc ioctl and read(2) measured" \
		"grep -q '{\"call\": \"getppid\", \"ns\": [1-9]' $T/b.json && \
		 grep -q '{\"call\": \"ioctl-enotty\", \"ns\": [1-9]' $T/b.json && \
		 grep -q '{\"call\": \"read-null\", \"ns\": [1-9]' $T/b.json && \
		 grep -q 'read-null cap [1-9][0-9]* = ' $T/quick.out"
else
	checks "kipc-mq skipped with a note (no module)" \
		"results kipc-mq stream | grep -q 'kipc module not loaded'"
	checks "the call reference: getppid() and read(2) measured, the kipc ioctl not" \
		"grep -q '{\"call\": \"getppid\", \"ns\": [1-9]' $T/b.json && \
		 grep -q '{\"call\": \"read-null\", \"ns\": [1-9]' $T/b.json && \
		 grep -q '{\"call\": \"ioctl-enotty\", \"ns\": null' $T/b.json"
fi
checks "the CSV has its header and one row per result, memcpy size and call" \
	"head -1 $T/b.csv | grep -q '^mechanism,workload,placement,size,status,' && \
	 [ \$((\$(wc -l < $T/b.csv) - 1)) -eq \
	   \$((\$(grep -c '\"mechanism\": \"' $T/b.json) + \
	      \$(grep -c '^    {\"size\": ' $T/b.json) + \
	      \$(grep -c '^    {\"call\": ' $T/b.json))) ]"
checks "the targets are reported as ratios" \
	"grep -q '^Targets' $T/quick.out && grep -q '\"ratios\": \\[' $T/b.json"

run badsize kipc-bench --sizes 3
checks "a size below 8 B is a usage error (exit 2)" "rc_is badsize 2"
run badmech kipc-bench --mechanisms pipe,carrier-pigeon
checks "an unknown mechanism is a usage error (exit 2)" \
	"rc_is badmech 2 && grep -q carrier-pigeon $T/badmech.err"

checks "no SysV IPC object left behind" "[ \"\$(ipc_count)\" = \"$ipc_before\" ]"
checks "raised limits restored" "[ \"\$(limits)\" = \"$limits_before\" ]"
checks "no temporary directory, POSIX mq or process left behind" \
	"! ls -d /tmp/kipc-bench.* >/dev/null 2>&1 && \
	 ! ls /dev/mqueue/ 2>/dev/null | grep -q kipc-bench && \
	 ! ls /dev/shm/ 2>/dev/null | grep -q kipc-bench && \
	 ! pidof kipc-bench >/dev/null"

tap_done
