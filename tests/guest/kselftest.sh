#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own runner in the guest: run_kselftest.sh of the "make
# kselftest-install" tree (copied to /kselftest by tests/vm/run) under
# busybox sh, for a few of the selftests.  With the module loaded each
# must pass; without it (rmmod) each must skip, exit 4 reported by the
# runner as "ok N ... # SKIP"; then the module is loaded again.  The
# whole suite runs through tests/vm/init as before: this checks the
# runner path, not the devices.  Busybox sh, TAP output.
# KIPC_KSFT_TESTS overrides the tests (names without "kipc:").

# KIPC_PARAMS from the runner's /run.conf: words for insmod, unquoted.
# shellcheck disable=SC2086 source=/dev/null
[ -r /run.conf ] && . /run.conf
# shellcheck source-path=SCRIPTDIR source=lib/tap.sh
. "$(dirname "$0")/lib/tap.sh"
K=/kselftest
KO=/kipc.ko
TESTS=${KIPC_KSFT_TESTS:-core_test netlink_test pipe_diff_test mq_diff_test}

if [ ! -x $K/run_kselftest.sh ]; then
	echo "1..1"
	echo "ok 1 - run_kselftest.sh # SKIP no $K (make kselftest-install)"
	exit 0
fi
tap_tmpdir kselftest

# runner.sh runs each test under /usr/bin/timeout --foreground (GNU):
# busybox has neither that path nor --foreground, and without it the
# "settings" timeout would not hold.  A stand-in for this run, whose
# timeout exits 124 as GNU's does (busybox's: 143, killed by TERM).
stub=""
if [ ! -e /usr/bin/timeout ]; then
	mkdir -p /usr/bin
	cat > /usr/bin/timeout <<'EOS'
#!/bin/sh
[ "$1" = --foreground ] && shift
busybox timeout "$@"
rc=$?
[ $rc = 143 ] && rc=124
exit $rc
EOS
	chmod +x /usr/bin/timeout
	stub=/usr/bin/timeout
fi
# runner.sh writes its log to /dev/stdout, a link udev or mdev makes;
# a bare devtmpfs has none, and the log would go into a regular file.
if [ ! -L /dev/stdout ]; then
	rm -f /dev/stdout
	ln -s /proc/self/fd/1 /dev/stdout
fi
run tmo /usr/bin/timeout --foreground 1 /usr/bin/timeout 1 sleep 5
check "timeout stand-in: a test over its time exits 124" rc_is tmo 124

args=""
for t in $TESTS; do
	args="$args -t kipc:$t"
done
count=$(echo $TESTS | wc -w)

run list sh $K/run_kselftest.sh -l
checks "run_kselftest.sh -l: one line per installed test" \
	'[ "$(grep -c "^kipc:" "$T/list.out")" = "$(ls $K/kipc/*_test | wc -l)" ]'

# ksft NAME: run_kselftest.sh for $TESTS, output in $T/NAME.out, status
# in $T/NAME.rc.  Through a pipe: runner.sh also appends to /dev/stdout,
# which on a regular file would write over the lines of the other fd.
ksft() {
	{
		sh $K/run_kselftest.sh $args 2>&1
		echo $? > "$T/$1.rc"
	} | cat > "$T/$1.out"
}
# results NAME WHAT: each test of $TESTS has the runner's line
# "ok N selftests: kipc: TEST" ending in WHAT ("" or " # SKIP"), and
# no line says "not ok".
results() {
	i=0
	for t in $TESTS; do
		i=$((i + 1))
		grep -qx "ok $i selftests: kipc: $t$2" "$T/$1.out" || return 1
	done
	! grep -q "^not ok" "$T/$1.out"
}
# expect NAME DESC EXPR: checks DESC EXPR, with the runner's output as
# TAP diagnostics when it fails.
expect() {
	if eval "$3"; then
		ok "$2"
	else
		not_ok "$2"
		sed 's/^/# /' "$T/$1.out"
	fi
}

ksft on
expect on "loaded: plan 1..$count, exit 0" \
	'rc_is on 0 && out_has on "^1\.\.$count\$"'
expect on "loaded: every test passed" 'results on ""'
expect on "loaded: timeout 300 read from settings" \
	'out_has on "^# timeout set to 300\$"'

if rmmod kipc; then
	ksft off
	expect off "no module: exit 0" 'rc_is off 0'
	expect off "no module: every test skipped" 'results off " # SKIP"'
	expect off "no module: each says why" \
		'[ "$(grep -c "^# 1\.\.0 # SKIP kipc module not loaded" "$T/off.out")" = "$count" ]'
	insmod $KO $KIPC_PARAMS
else
	not_ok "rmmod kipc"
fi
check "module loaded again" test -d /dev/kipc

[ -n "$stub" ] && rm -f "$stub"
tap_done
