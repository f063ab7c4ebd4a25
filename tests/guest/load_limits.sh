#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Loads the module must refuse, each with ENOMEM or EINVAL and a message,
# leaving nothing behind and nobody killed: shm regions that do not fit in
# the memory (64 regions of 64 MiB, 4 GiB, in a guest of 1 or 2 GiB; the
# OOM killer used to take the loading shell), and mode=0 (devtmpfs would
# make the nodes 0600 while GET_INFO said 0000).  Then a normal load, whose
# nodes have the mode it asked for.  Busybox sh, TAP output.  The module
# is loaded again at the end: the runner unloads it itself.

# KIPC_PARAMS from the runner's /run.conf: words for insmod, unquoted.
# shellcheck disable=SC2086 source=/dev/null
[ -r /run.conf ] && . /run.conf
KO=/kipc.ko
# shellcheck source-path=SCRIPTDIR source=lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
tap_tmpdir load_limits

loaded() {
	[ -d /sys/module/kipc ]
}

# The kernel log since the mark: $T/klog.
klog_since_mark() {
	dmesg | sed -n "/kipc-load-limits-mark-$1/,\$p" > "$T/klog"
}

mark() {
	echo "kipc-load-limits-mark-$1" > /dev/kmsg
}

# tries NAME PARAMS...: insmod with PARAMS; status and output under NAME.
tries() {
	tap_name=$1
	shift
	mark "$tap_name"
	run "$tap_name" insmod $KO "$@"
	klog_since_mark "$tap_name"
}

if loaded && ! rmmod kipc; then
	not_ok "rmmod before the test"
	tap_done
fi

# A bystander that must outlive every refused load.
sleep 1000 &
bystander=$!

tries big nshms=64 shm_size=67108864
check "64 regions of 64 MiB: insmod fails" test "$(cat "$T/big.rc")" != 0
check "  with ENOMEM" err_has big "Cannot allocate memory\|out of memory"
check "  and says why" grep -q "kipc: 64 shm regions of 67108864 bytes do not fit in the available memory" "$T/klog"
check "  without the OOM killer" sh -c "! grep -qi 'oom-killer\|out of memory: kill' '$T/klog'"
check "  and leaves no module" sh -c "! test -d /sys/module/kipc"
check "  nor nodes" sh -c "! test -e /dev/kipc/shm0"
check "the bystander lives" kill -0 $bystander

tries mode0 mode=0
check "mode=0: insmod fails" test "$(cat "$T/mode0.rc")" != 0
check "  with EINVAL" err_has mode0 "Invalid argument\|invalid parameters"
check "  and says why" grep -q "kipc: mode 0 would give nodes of mode 0600" "$T/klog"
check "  and leaves no module" sh -c "! test -d /sys/module/kipc"

tries mode640 mode=0640
checks "mode=0640: loads" 'rc_is mode640 0'
check "  the nodes have it" test "$(stat -c %a /dev/kipc/shm0)" = 640
check "  and GET_INFO says it" sh -c "kipcctl info | grep -q 0640"
check "  and it unloads" rmmod kipc

tries again $KIPC_PARAMS
checks "a normal load afterwards works" 'rc_is again 0'
size=$(cat /sys/module/kipc/parameters/shm_size 2> /dev/null)
check "  with its regions" test -n "$size"
check "  and shm0 opens" sh -c "exec 3<> /dev/kipc/shm0"
check "the bystander still lives" kill -0 $bystander
kill $bystander
wait $bystander 2> /dev/null

loaded || insmod $KO $KIPC_PARAMS
check "module loaded at the end" loaded
tap_done
