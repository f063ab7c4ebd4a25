#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# kipc-demo in the guest (busybox sh): "kipc-demo --list", then each
# section on its own with --no-color; one TAP line each, judged by the
# exit status, and a last line checking that no IPC object was left over.
# A section's output goes before its line as "# " comments.
# shellcheck source-path=SCRIPTDIR source=lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
demo=$(command -v kipc-demo 2>/dev/null) || demo=/usr/bin/kipc-demo
tap_tmpdir demo-sh
tmp=$T/out

if ! "$demo" --list > "$tmp" 2>&1; then
	plan 1
	sed 's/^/# /' "$tmp"
	not_ok "list # kipc-demo --list failed"
	tap_done
fi
sections=$(awk '{ print $2 }' "$tmp")
count=$(echo "$sections" | wc -w)
plan $((count + 2))
sed 's/^/# /' "$tmp"
if [ "$count" -ge 7 ]; then
	ok "list"
else
	not_ok "list # $count sections, 7 expected"
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

for s in $sections; do
	"$demo" --no-color "$s" > "$tmp" 2>&1
	rc=$?
	sed 's/^/# /' "$tmp"
	# Parts the kernel cannot offer (veth, netns) are skipped, not failed.
	skipped=$(grep -c '^   SKIP' "$tmp")
	if [ $rc -eq 0 ]; then
		if [ "$skipped" -gt 0 ]; then
			ok "$s ($skipped part(s) skipped, see above)"
		else
			ok "$s"
		fi
	else
		not_ok "$s # exit status $rc"
	fi
done

# Every SysV object, POSIX queue and shm object the tour made is gone.
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
	ok "no IPC object left over"
else
	not_ok "no IPC object left over # left:$left"
fi
tap_done
