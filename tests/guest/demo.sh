#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kipc-demo in the guest (busybox sh): "kipc-demo --list", then each
# section on its own with --no-color; one TAP line each, judged by the
# exit status, and a last line checking that no IPC object was left over.
# A section's output goes before its line as "# " comments.
demo=$(command -v kipc-demo 2>/dev/null) || demo=/usr/bin/kipc-demo
tmp=${TMPDIR:-/tmp}/demo-sh.$$
trap 'rm -f "$tmp"' EXIT

if ! "$demo" --list > "$tmp" 2>&1; then
	echo "1..1"
	sed 's/^/# /' "$tmp"
	echo "not ok 1 - list # kipc-demo --list failed"
	exit 1
fi
sections=$(awk '{ print $2 }' "$tmp")
count=$(echo "$sections" | wc -w)
echo "1..$((count + 2))"
sed 's/^/# /' "$tmp"
if [ "$count" -ge 7 ]; then
	echo "ok 1 - list"
else
	echo "not ok 1 - list # $count sections, 7 expected"
fi

# SysV objects present before the tour: other tests' are not ours.
sysv_count() {
	c=0
	for f in /proc/sysvipc/msg /proc/sysvipc/sem /proc/sysvipc/shm; do
		[ -r "$f" ] && c=$((c + $(wc -l < "$f") - 1))
	done
	echo $c
}
sysv_before=$(sysv_count)

n=1
fails=0
for s in $sections; do
	n=$((n + 1))
	"$demo" --no-color "$s" > "$tmp" 2>&1
	rc=$?
	sed 's/^/# /' "$tmp"
	# Parts the kernel cannot offer (veth, netns) are skipped, not failed.
	skipped=$(grep -c '^   SKIP' "$tmp")
	if [ $rc -eq 0 ]; then
		if [ "$skipped" -gt 0 ]; then
			echo "ok $n - $s ($skipped part(s) skipped, see above)"
		else
			echo "ok $n - $s"
		fi
	else
		echo "not ok $n - $s # exit status $rc"
		fails=$((fails + 1))
	fi
done

# Every SysV object, POSIX queue and shm object the tour made is gone.
n=$((n + 1))
left=""
sysv_after=$(sysv_count)
[ "$sysv_after" -gt "$sysv_before" ] &&
	left=" $((sysv_after - sysv_before)) SysV object(s)"
for d in /dev/mqueue /dev/shm /tmp; do
	for o in "$d"/kipc-demo-*; do
		[ -e "$o" ] && left="$left $o"
	done
done
if [ -z "$left" ]; then
	echo "ok $n - no IPC object left over"
else
	echo "not ok $n - no IPC object left over # left:$left"
	fails=$((fails + 1))
fi
[ $fails -eq 0 ]
