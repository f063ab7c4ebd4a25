#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kipc-bench as a smoke test: a quick run of a standard and a kipc
# mechanism, its exit status, JSON that parses (json_ok of lib/tap.sh, a
# strict recognizer independent of kipc-bench), CSV rows, payload
# verification on and used, percentiles only where the samples support
# them, every repetition's figure, system calls counted, the io_uring
# adapters (a kipc device that refuses io_uring is skipped with the
# reason, never failed), the version and usage errors, and nothing left
# behind (IPC objects, temp files, limits, processes).  Never asserts on
# timings.
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

plan 30

run list kipc-bench --list
checks "--list exits 0" "rc_is list 0"
checks "--list names every mechanism of the brief" \
	"for m in pipe fifo kipc-pipe sysv-msg posix-mq kipc-mq kipc-mq-ioctl \
	  kipc-mq-batch sysv-shm posix-shm kipc-shm kipc-shm-zc kipc-shm-handoff \
	  unix-stream unix-dgram socketpair tcp eventfd signal \
	  uring-pipe-d1 uring-fifo-d16 uring-unix-stream-d64 uring-unix-dgram-d64 \
	  uring-kipc-pipe-d16 uring-kipc-mq-d64 uring-kipc-mq-cmd-d64; do \
	  grep -q \"^\$m \" $T/list.out || exit 1; done; true"

# Without the module kipc-bench stops unless told to run the others alone.
std=
[ -d /dev/kipc ] || std=--standard-only
run quick kipc-bench --quick --no-progress $std --mechanisms "$mechs" \
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
	checks "kipc-mq left out under --standard-only (no module)" \
		"! results kipc-mq stream | grep -q ."
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

# 40 round trips per repetition in --quick: p90 yes, p99 and p99.9 no.
checks "--quick: no p99 or p99.9 from 40 samples, p90 given" \
	"results pipe latency | grep -q '\"p90_ns\": [1-9]' && \
	 ! results pipe latency | grep -v '\"p99_ns\": null, \"p999_ns\": null' | grep -q . && \
	 grep -q '^pipe  *same  *64 B  *[0-9.]*  *[0-9.]*  *[0-9.]*  *-  *-  ' $T/quick.out"

# Two repetitions: each one's figure, the spread, the system calls, zero
# copy touching every byte, and io_uring adapters.
um=pipe,kipc-shm-zc,kipc-mq-ioctl,uring-pipe-d1,uring-pipe-d64,uring-kipc-mq-cmd-d64,uring-kipc-pipe-d16
run reps kipc-bench --no-progress -r 2 -m "$um" -s 64,65536 -w stream \
	--json "$T/r.json" --csv "$T/r.csv"
checks "-r 2 with io_uring adapters exits 0" "rc_is reps 0"
[ "$(cat "$T/reps.rc")" = 0 ] || sed 's/^/# /' "$T/reps.err" "$T/reps.out"
checks "JSON of -r 2 parses" "json_ok $T/r.json"
checks "every ok point has its two repetitions' figures in JSON and CSV" \
	"! grep '\"status\": \"ok\"' $T/r.json | grep -v '\"rep_msgs_s\": \[[0-9.e+]*, [0-9.e+]*\]' | grep -q . && \
	 grep -q '^pipe,stream,split,64,ok,2,.*,[0-9.e+]*,[0-9.e+]*,[0-9.e+]*;[0-9.e+]*,' $T/r.csv"
checks "kipc-shm-zc writes and checks every byte of every message" \
	"grep '\"mechanism\": \"kipc-shm-zc\"' $T/r.json | grep -q '\"status\": \"ok\"' && \
	 ! grep '\"mechanism\": \"kipc-shm-zc\"' $T/r.json | \
	   sed 's/.*\"verified\": \([0-9]*\), \"verified_full\": \([0-9]*\).*/\1 \2/' | \
	   awk '\$1 != \$2 || \$1 == 0' | grep -q ."
checks "the typed ioctl path of kipc-mq is measured" \
	"grep '\"mechanism\": \"kipc-mq-ioctl\"' $T/r.json | grep -q '\"status\": \"ok\"'"
checks "system calls counted: pipe(2) at least 2 a message, io_uring at depth 64 fewer" \
	"p=\$(grep '\"mechanism\": \"pipe\", \"workload\": \"stream\", \"placement\": \"split\", \"size\": 64,' $T/r.json | sed 's/.*\"syscalls_per_msg\": \([0-9.e+-]*\).*/\1/'); \
	 u=\$(grep '\"mechanism\": \"uring-pipe-d64\", \"workload\": \"stream\", \"placement\": \"split\", \"size\": 64,' $T/r.json | sed 's/.*\"syscalls_per_msg\": \([0-9.e+-]*\).*/\1/'); \
	 echo \"# pipe \$p, uring-pipe-d64 \$u system calls per message\"; \
	 awk -v p=\"\$p\" -v u=\"\$u\" 'BEGIN { exit !(p >= 2 && u > 0 && u < p) }'"
checks "io_uring through pipe(2) moves and checks its messages" \
	"[ \$(grep -c '\"mechanism\": \"uring-pipe-d[16]*4*\", .*\"status\": \"ok\"' $T/r.json) -eq 4 ]"
# A kipc device that refuses io_uring is skipped with the reason (the
# module without uring_cmd), and measured once it takes it.
checks "uring_cmd on the kipc queue: measured, or skipped naming IORING_OP_URING_CMD" \
	"grep '\"mechanism\": \"uring-kipc-mq-cmd-d64\"' $T/r.json | \
	 grep -q -e '\"status\": \"ok\"' -e '\"status\": \"skipped\".*IORING_OP_URING_CMD'"
checks "io_uring read/write on the kipc pipe: measured (inline or in io_uring's workers)" \
	"[ \$(grep '\"mechanism\": \"uring-kipc-pipe-d16\"' $T/r.json | grep -c '\"status\": \"ok\"') -eq 2 ]"
checks "the io_uring targets are in the JSON" \
	"grep -q '\"name\": \"uring-kipc-mq-cmd-d64 64 B msgs/s vs fastest standard mechanism through io_uring at depth 64\"' $T/r.json && \
	 grep -q '\"name\": \"uring-kipc-pipe-d16 streaming 64 KiB vs uring-pipe-d16\"' $T/r.json"

run version kipc-bench --version
checks "--version prints the module's version" \
	"rc_is version 0 && grep -qx 'kipc-bench [0-9][0-9.]*' $T/version.out && \
	 { [ ! -r /sys/module/kipc/version ] || \
	   grep -qx \"kipc-bench \$(cat /sys/module/kipc/version)\" $T/version.out; }"
run badopt kipc-bench --no-such-option
checks "getopt's error names the program as kipc-bench:" \
	"rc_is badopt 2 && grep -q '^kipc-bench: unrecognized option' $T/badopt.err"

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
