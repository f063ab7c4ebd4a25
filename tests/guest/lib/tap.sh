# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# TAP helpers of the guest scripts (busybox sh; POSIX sh on the host too).
# Sourced, never run, and not a test (the runner takes tests/guest/*.sh):
#	. "$(dirname "$0")/lib/tap.sh"
#
#   plan N               print the plan "1..N" first; without it, tap_done
#                        prints "1..$n" last
#   ok DESC, not_ok DESC one test point "ok $n - DESC"; not_ok counts a
#                        failure in $failed
#   check DESC CMD...    ok when the command succeeds
#   checks DESC EXPR     ok when the shell expression is true (eval)
#   tap_tmpdir NAME      T=a new directory ${TMPDIR:-/tmp}/NAME.XXXXXX,
#                        removed on exit
#   run NAME CMD...      output in $T/NAME.out and .err, status in $T/NAME.rc
#   rc_is NAME STATUS, out_has NAME PATTERN, err_has NAME PATTERN
#   json_ok FILE         FILE is exactly one JSON value (RFC 8259)
#   same FILE TEXT BYTES FILE holds TEXT (plus the newline echo adds) and
#                        is BYTES long
#   blocked_in PID FUNC  waits until process PID sleeps in a kernel function
#                        named FUNC* (/proc/PID/wchan; at most ~20 s)
#   tap_done             the plan if not printed yet, $T removed; exits 0
#                        when every point passed, else 1
# Their own variables start with tap_; $n, $failed and $T are the script's
# to read.

n=0
failed=0
tap_planned=""
tap_tmp=""

plan() {
	tap_planned=$1
	echo "1..$1"
}

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	failed=$((failed + 1))
}

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	tap_d=$1
	shift
	if "$@"; then ok "$tap_d"; else not_ok "$tap_d"; fi
}

# checks DESCRIPTION EXPRESSION: ok when the shell expression is true.
checks() {
	if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

tap_tmpdir() {
	tap_tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
	T=$tap_tmp
	trap 'rm -rf "$tap_tmp"' EXIT
}

# run NAME COMMAND...: output in $T/NAME.out and .err, status in $T/NAME.rc.
run() {
	tap_name=$1
	shift
	"$@" > "$T/$tap_name.out" 2> "$T/$tap_name.err"
	echo $? > "$T/$tap_name.rc"
}

rc_is() { [ "$(cat "$T/$1.rc")" = "$2" ]; }
out_has() { grep -q -- "$2" "$T/$1.out"; }
err_has() { grep -q -- "$2" "$T/$1.err"; }

# A strict JSON (RFC 8259) recognizer: exit 0 when the file is exactly
# one JSON value.  Independent of the tools, so it can catch their
# mistakes.  A number is matched in a window of 40 characters (a whole
# big document is not copied for each one), in the rest of the text only
# when it fills the window.
json_ok() {
	awk '
	function fail(m) { printf "json: %s at offset %d\n", m, pos > "/dev/stderr"; bad = 1; exit 1 }
	function ch() { return substr(s, pos, 1) }
	function ws() { while (pos <= n && index(" \t\r\n", ch())) pos++ }
	function value(   c) {
		ws(); c = ch()
		if (c == "{") obj()
		else if (c == "[") arr()
		else if (c == "\"") str()
		else if (c ~ /[-0-9]/) num()
		else if (substr(s, pos, 4) == "true" || substr(s, pos, 4) == "null") pos += 4
		else if (substr(s, pos, 5) == "false") pos += 5
		else fail("unexpected \"" c "\"")
	}
	function obj(   c) {
		pos++; ws()
		if (ch() == "}") { pos++; return }
		for (;;) {
			ws(); if (ch() != "\"") fail("expected a key")
			str(); ws()
			if (ch() != ":") fail("expected :")
			pos++; value(); ws(); c = ch(); pos++
			if (c == "}") return
			if (c != ",") fail("expected , or }")
		}
	}
	function arr(   c) {
		pos++; ws()
		if (ch() == "]") { pos++; return }
		for (;;) {
			value(); ws(); c = ch(); pos++
			if (c == "]") return
			if (c != ",") fail("expected , or ]")
		}
	}
	function str(   c) {
		pos++
		for (;;) {
			if (pos > n) fail("unterminated string")
			c = ch()
			if (c == "\"") { pos++; return }
			if (c == "\\") {
				c = substr(s, pos + 1, 1)
				if (c == "u") {
					if (substr(s, pos + 2, 4) !~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/)
						fail("bad \\u escape")
					pos += 6
				} else if (index("\"\\/bfnrt", c)) pos += 2
				else fail("bad escape")
			} else if (c < " ") fail("control character in string")
			else pos++
		}
	}
	function num(   re) {
		re = "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?"
		if (match(substr(s, pos, 40), re) && (RLENGTH < 40 || match(substr(s, pos), re)))
			pos += RLENGTH
		else fail("bad number")
	}
	{ s = s $0 "\n" }
	END {
		if (bad) exit 1
		n = length(s); pos = 1
		value(); ws()
		if (pos <= n) fail("trailing text")
	}' "$1"
}

# same FILE TEXT BYTES: FILE holds TEXT (plus the newline echo adds).
same() {
	[ "$(cat "$1")" = "$2" ] && [ "$(wc -c < "$1")" -eq "$3" ]
}

# blocked_in PID FUNC: until process PID sleeps in a kernel function
# FUNC* (at most ~20 s); polled, never timed.
blocked_in() {
	tap_i=0
	while [ $tap_i -lt 2000 ]; do
		kill -0 "$1" 2>/dev/null || return 1
		case $(cat "/proc/$1/wchan" 2>/dev/null) in
		"$2"*) return 0 ;;
		esac
		usleep 10000
		tap_i=$((tap_i + 1))
	done
	return 1
}

tap_done() {
	[ -n "$tap_tmp" ] && rm -rf "$tap_tmp"
	[ -n "$tap_planned" ] || echo "1..$n"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
