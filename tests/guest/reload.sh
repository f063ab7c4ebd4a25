#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unload and reload: rmmod is refused while a device is open, and 100
# rmmod/insmod cycles, each using a queue and a pipe a little, leave no
# trace: the nodes, the class, the module and the char device region go
# with rmmod and come back with insmod.  (rmmod refused while a region is
# mapped: hostile_test, which can mmap.)  Busybox sh, TAP output.  The
# module is loaded again at the end: the runner unloads it itself.
# KIPC_RELOAD_CYCLES overrides the 100.

# KIPC_PARAMS from the runner's /run.conf: words for insmod, unquoted.
# shellcheck disable=SC2086 source=/dev/null
[ -r /run.conf ] && . /run.conf
KO=/kipc.ko
CYCLES=${KIPC_RELOAD_CYCLES:-100}
# shellcheck source-path=SCRIPTDIR source=lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
tap_tmpdir reload

loaded() {
	[ -d /sys/module/kipc ]
}

# Every trace of the module is there (present) or gone (absent).
traces() {
	want=$1
	for t in /sys/module/kipc /sys/class/kipc /dev/kipc/pipe0 \
		/dev/kipc/mq0 /dev/kipc/shm0; do
		if [ "$want" = present ] && [ ! -e "$t" ]; then
			echo "# missing: $t"
			return 1
		fi
		if [ "$want" = absent ] && [ -e "$t" ]; then
			echo "# left behind: $t"
			return 1
		fi
	done
	if grep -qw kipc /proc/devices; then
		[ "$want" = present ] && return 0
		echo "# left behind: kipc in /proc/devices"
		return 1
	fi
	[ "$want" = absent ] && return 0
	echo "# missing: kipc in /proc/devices"
	return 1
}

# A message in, the same message out; a few bytes through a pipe.
use_devices() {
	msg="cycle $1"
	echo "$msg" > /dev/kipc/mq0 || return 1
	got=$(dd if=/dev/kipc/mq0 bs=256 count=1 2>/dev/null)
	[ "$got" = "$msg" ] || { echo "# mq0: got '$got'"; return 1; }
	exec 4<> /dev/kipc/pipe0 || return 1
	echo "$msg" >&4
	got=$(dd bs=256 count=1 <&4 2>/dev/null)
	exec 4>&-
	[ "$got" = "$msg" ] || { echo "# pipe0: got '$got'"; return 1; }
	return 0
}

# Refused, and still whole, while one file of each kind is open.
if ! loaded; then
	insmod $KO $KIPC_PARAMS
fi
check "module loaded with its nodes" traces present
for dev in mq0 pipe0 shm0; do
	exec 3<> /dev/kipc/$dev
	if rmmod kipc 2> /dev/null; then
		not_ok "rmmod refused while $dev is open"
		insmod $KO $KIPC_PARAMS
	else
		check "rmmod refused while $dev is open" traces present
	fi
	exec 3>&-
done
# Unless the open file goes through fork: the child's copy pins it too.
exec 3< /dev/kipc/mq0
sleep 30 &
child=$!
exec 3<&-
if rmmod kipc 2> /dev/null; then
	not_ok "rmmod refused while a child holds the file"
	insmod $KO $KIPC_PARAMS
else
	ok "rmmod refused while a child holds the file"
fi
kill $child
wait $child 2> /dev/null

# The cycles: one line each for what must hold in all of them.
rm_fail=0 gone_fail=0 ins_fail=0 back_fail=0 use_fail=0
i=1
while [ $i -le "$CYCLES" ]; do
	if ! rmmod kipc; then
		rm_fail=$((rm_fail + 1))
	else
		traces absent > "$T/out" || {
			gone_fail=$((gone_fail + 1))
			cat "$T/out"
		}
	fi
	if ! insmod $KO $KIPC_PARAMS; then
		ins_fail=$((ins_fail + 1))
		i=$((i + 1))
		continue
	fi
	traces present > "$T/out" || {
		back_fail=$((back_fail + 1))
		cat "$T/out"
	}
	use_devices $i > "$T/out" || {
		use_fail=$((use_fail + 1))
		cat "$T/out"
	}
	i=$((i + 1))
done
echo "# $CYCLES unload/load cycles"
check "rmmod succeeded $CYCLES times" [ $rm_fail = 0 ]
check "nothing left after rmmod" [ $gone_fail = 0 ]
check "insmod succeeded $CYCLES times" [ $ins_fail = 0 ]
check "nodes back after insmod" [ $back_fail = 0 ]
check "mq0 and pipe0 work after each insmod" [ $use_fail = 0 ]

# Leave it loaded, as found.
loaded || insmod $KO $KIPC_PARAMS
check "module loaded at the end" traces present
tap_done
