#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kipcctl as a person uses it: list, show, set, flush, reset, monitor,
# info, -j output (checked by json_ok of lib/tap.sh, not by kipcctl), error
# messages and exit codes.  busybox sh, TAP output.
# checks() evaluates its expression later: single quotes are meant.
# shellcheck disable=SC2016
# shellcheck source-path=SCRIPTDIR source=lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
tap_tmpdir kipcctl

param() { cat "/sys/module/kipc/parameters/$1"; }
# The value of a "  label   value" line of "kipcctl show".
field() { sed -n "s/^  $2  *\([0-9][0-9]*\).*/\1/p" "$T/$1.out"; }

# The parser itself must refuse what is not JSON.
printf '{"a":1,}\n' > "$T/bad1.json"
printf '{"a":01}\n' > "$T/bad2.json"
printf '[1,2]x\n' > "$T/bad3.json"
printf '{"a":"b\n' > "$T/bad4.json"
printf '{"a":[true,null,-1.5e3,"\\u00e9\\n"],"b":{}}\n' > "$T/good.json"
check "json checker accepts valid JSON" json_ok "$T/good.json"
jbad=0
for f in bad1 bad2 bad3 bad4; do
	json_ok "$T/$f.json" 2>/dev/null && jbad=1
done
check "json checker refuses invalid JSON" [ $jbad = 0 ]

npipes=$(param npipes)
nmqs=$(param nmqs)
nshms=$(param nshms)
total=$((npipes + nmqs + nshms))

# --- info, list, show --------------------------------------------------
run info kipcctl info
check "info: exit 0" rc_is info 0
check "info: version" out_has info "^kipc 0.1.0 "
check "info: pipe count" out_has info "^  pipes  *$npipes\$"
check "info: pipe max size" out_has info "^  pipe max size  *$(param pipe_max_size)\$"
check "info: device mode" out_has info "^  device mode  *$(printf '%04o' "$(param mode)")\$"

run jinfo kipcctl -j info
check "info -j: valid JSON" json_ok "$T/jinfo.out"
check "info -j: npipes" out_has jinfo "\"npipes\":$npipes,"

run list kipcctl list
check "list: exit 0" rc_is list 0
check "list: header and one line per device" \
	[ "$(wc -l < "$T/list.out")" -eq $((total + 1)) ]
names=$(sed 1d "$T/list.out" | awk '{ print $1 }' | tr '\n' ' ')
want=""
for k in pipe mq shm; do
	case $k in
	pipe) c=$npipes ;;
	mq) c=$nmqs ;;
	shm) c=$nshms ;;
	esac
	i=0
	while [ $i -lt "$c" ]; do want="$want$k$i "; i=$((i + 1)); done
done
check "list: devices in kind and index order" [ "$names" = "$want" ]

run listmq kipcctl list mq
checks "list mq: only queues" \
	'[ "$(sed 1d "$T/listmq.out" | grep -c "^mq[0-9]")" -eq "$nmqs" ] &&
	 [ "$(wc -l < "$T/listmq.out")" -eq $((nmqs + 1)) ]'

run jlist kipcctl -j list
check "list -j: valid JSON" json_ok "$T/jlist.out"
check "list -j: one object per device" \
	[ "$(grep -o '"name":"[a-z]*[0-9]*"' "$T/jlist.out" | wc -l)" -eq "$total" ]

run show kipcctl show pipe0
run showpath kipcctl show /dev/kipc/pipe0
check "show: exit 0" rc_is show 0
check "show: names the device" out_has show "^pipe0: pipe 0\$"
check "show: a path names the same device" cmp -s "$T/show.out" "$T/showpath.out"
check "show: counters" out_has show "^    bytes_in  *[0-9]"

run jshow kipcctl show mq0 -j
check "show -j (after the device): valid JSON" json_ok "$T/jshow.out"
check "show -j: mq limits" out_has jshow '"mq_max_msgs":[0-9]'

# --- counters through the devices -------------------------------------
kipcctl reset pipe1
exec 3<> /dev/kipc/pipe1
printf 'hello' >&3
run c1 kipcctl show pipe1
check "write 5 bytes: fill 5" [ "$(field c1 'fill')" = 5 ]
check "write 5 bytes: bytes_in 5" out_has c1 "^    bytes_in  *5\$"
check "write 5 bytes: one write" out_has c1 "^    writes  *1\$"
check "open file counted" [ "$(field c1 'open files')" = 1 ]
check "read them back" [ "$(dd bs=5 count=1 <&3 2>/dev/null)" = hello ]
run c2 kipcctl show pipe1
checks "after the read: bytes_out 5, one read" \
	'out_has c2 "^    bytes_out  *5\$" && out_has c2 "^    reads  *1\$"'
check "after the read: fill 0" [ "$(field c2 'fill')" = 0 ]
run reset kipcctl reset pipe1
run c3 kipcctl show pipe1
checks "reset: exit 0, counters zero" \
	'rc_is reset 0 && out_has c3 "^    bytes_in  *0\$" &&
	 out_has c3 "^    reads  *0\$"'

# --- set and flush -----------------------------------------------------
old=$(field show capacity)
run set kipcctl set pipe0 size 128k
check "set size 128k: exit 0" rc_is set 0
check "set: prints the granted size" [ "$(field set capacity)" = 131072 ]
run set2 kipcctl set pipe0 size 5000
check "set: rounded up to pages" [ "$(field set2 capacity)" = 8192 ]
kipcctl set pipe0 size "$old" > /dev/null

run setmq kipcctl set mq0 max-msgs 10 max-msg-size 100
checks "set mq limits" 'rc_is setmq 0 &&
	[ "$(field setmq "max messages")" = 10 ] &&
	[ "$(field setmq "max message size")" = 100 ]'
kipcctl set mq0 max-msgs 1024 max-msg-size 8192 > /dev/null

printf 'one' > /dev/kipc/mq0
printf 'three' > /dev/kipc/mq0
run q1 kipcctl show mq0
checks "two messages queued" \
	'[ "$(field q1 messages)" = 2 ] && [ "$(field q1 fill)" = 8 ]'
run flush kipcctl flush mq0
run q2 kipcctl show mq0
checks "flush: queue empty" 'rc_is flush 0 && [ "$(field q2 messages)" = 0 ]'

# --- errors and exit codes ---------------------------------------------
run e1 kipcctl show pipe99
check "no such device: exit 4" rc_is e1 4
check "no such device: says so" err_has e1 "pipe99: no such device"
run e2 kipcctl show fifo0
check "unknown name: exit 4" rc_is e2 4
run e3 kipcctl set pipe0 size lots
checks "bad value: exit 1 before asking the kernel" \
	'rc_is e3 1 && err_has e3 "invalid value"'
run e4 kipcctl set pipe0 size 0
check "value the kernel refuses: exit 2" rc_is e4 2
check "value the kernel refuses: its message" err_has e4 "out of range"
run e5 kipcctl set pipe0 max-msgs 5
checks "mq key on a pipe: kernel message" \
	'rc_is e5 2 && err_has e5 "only message queues have message limits"'
run e6 kipcctl frobnicate
check "unknown command: exit 1" rc_is e6 1
run e7 kipcctl set pipe0 colour blue
checks "unknown key: exit 1" 'rc_is e7 1 && err_has e7 "unknown key"'
run e8 kipcctl --help
checks "--help: exit 0, usage on stdout" \
	'rc_is e8 0 && out_has e8 "^usage: kipcctl"'

run p1 su -s /bin/sh nobody -c "kipcctl set pipe0 size 64k"
check "unprivileged set: exit 5" rc_is p1 5
check "unprivileged set: names CAP_NET_ADMIN" err_has p1 "CAP_NET_ADMIN"
run p2 su -s /bin/sh nobody -c "kipcctl list"
check "unprivileged list: exit 5" rc_is p2 5
check "unprivileged list: names CAP_NET_ADMIN" err_has p2 "CAP_NET_ADMIN"
run p3 su -s /bin/sh nobody -c "kipcctl monitor --count 1"
check "unprivileged monitor: exit 5" rc_is p3 5
check "unprivileged monitor: names CAP_NET_ADMIN" err_has p3 "CAP_NET_ADMIN"

# --- monitor -------------------------------------------------------------
# wait_for FILE PATTERN: until the monitor says it listens (10 s at most).
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		usleep 100000
	done
}

monitor_workload() {
	printf 'abc' >&3
	kipcctl flush pipe1
	kipcctl set pipe1 size 8k > /dev/null
	kipcctl set pipe1 size 64k > /dev/null
	printf 'x' > /dev/kipc/mq1
	dd bs=100 count=1 < /dev/kipc/mq1 > /dev/null 2>&1
}

# A selftest may have left messages in mq1: the workload must empty it.
kipcctl flush mq1
kipcctl monitor > "$T/mon.out" 2> "$T/mon.err" &
mon=$!
check "monitor: subscribed" wait_for "$T/mon.err" listening
monitor_workload
kill -INT $mon
wait $mon
check "monitor: SIGINT ends it with status 0" [ $? = 0 ]
printf 'pipe1 flushed fill 0\npipe1 resized fill 0\npipe1 resized fill 0\nmq1 empty fill 0\n' > "$T/mon.want"
check "monitor: one line per event, in order" cmp -s "$T/mon.want" "$T/mon.out"
[ -s "$T/mon.out" ] && sed 's/^/# /' "$T/mon.out"

kipcctl -j monitor > "$T/jmon.out" 2> "$T/jmon.err" &
mon=$!
check "monitor -j: subscribed" wait_for "$T/jmon.err" listening
monitor_workload
kill -TERM $mon
wait $mon
check "monitor -j: SIGTERM ends it with status 0" [ $? = 0 ]
check "monitor -j: four events" [ "$(wc -l < "$T/jmon.out")" = 4 ]
jl=0
while read -r line; do
	printf '%s\n' "$line" > "$T/line.json"
	json_ok "$T/line.json" || jl=1
done < "$T/jmon.out"
check "monitor -j: every line is valid JSON" [ $jl = 0 ]
check "monitor -j: fields" \
	grep -q '^{"name":"pipe1","kind":"pipe","index":1,"event":"flushed","fill":0}$' "$T/jmon.out"

run mc kipcctl monitor --count 1 &
mon=$!
wait_for "$T/mc.err" listening
kipcctl flush pipe1
wait $mon
checks "monitor --count 1: exits after one event" \
	'rc_is mc 0 && [ "$(cat "$T/mc.out")" = "pipe1 flushed fill 0" ]'
exec 3<&-

# --- module not loaded (last: it reloads the module) -------------------
# Reload with the same parameters, whatever the runner gave.
params=""
for p in /sys/module/kipc/parameters/*; do
	params="$params ${p##*/}=$(cat "$p")"
done
if [ -e /kipc.ko ] && rmmod kipc; then
	run nm kipcctl info
	check "module not loaded: exit 3" rc_is nm 3
	check "module not loaded: says so" err_has nm "module is not loaded"
	# shellcheck disable=SC2086
	insmod /kipc.ko $params
	run back kipcctl info
	check "module back: info works" rc_is back 0
	check "module back: same devices" \
		[ "$(kipcctl list | wc -l)" -eq $((total + 1)) ]
else
	not_ok "module not loaded: could not unload kipc"
fi

tap_done
