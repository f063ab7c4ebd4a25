#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host test (TAP): the man pages in Documentation/man/ lint clean with
# mandoc and with man-db's groff, carry the release version, and say what
# the code has: kipc(4) every ioctl of the UAPI header and every module
# parameter, each tool's page every option and command of its --help and
# nothing that --help does not know; and the Documentation/ index.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${KIPC_BUILD:-build}
M=Documentation/man
UAPI=kmod/uapi/linux/kipc.h
PAGES="kipc.4 kipcctl.8 kipc-bench.1 kipc-demo.1"

n=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; shift; printf '%s\n' "$@" | sed 's/^/# /'; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
# The page as plain words: roff's \- is a hyphen.
text() { sed 's/\\-/-/g' "$M/$1"; }

for p in $PAGES; do
	if [ ! -f "$M/$p" ]; then
		nok "$p: exists" "missing $M/$p"
		continue
	fi
	if ! command -v mandoc >/dev/null; then
		skip "$p: mandoc -Tlint -Wwarning" "mandoc not installed"
	else
		out=$(mandoc -Tlint -Wwarning "$M/$p" 2>&1)
		if [ $? -eq 0 ] && [ -z "$out" ]; then
			ok "$p: mandoc -Tlint -Wwarning"
		else
			nok "$p: mandoc -Tlint -Wwarning" "$out"
		fi
	fi
	if ! command -v man >/dev/null; then
		skip "$p: man --warnings" "man-db not installed"
	else
		# groff's warnings go to stderr; the rendered page is dropped.
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l \
			-Tutf8 -Z "$M/$p" 2>&1 >/dev/null)
		if [ -z "$out" ]; then
			ok "$p: man --warnings"
		else
			nok "$p: man --warnings" "$out"
		fi
	fi
done

# A .TP tag is the one line after .TP: a tag continued on the next line
# (".BR monitor \" [\" \\-\\-count" then ".IR n ]") renders half in the
# tag and half in the text.  Each tag must close every bracket it opens.
for p in $PAGES; do
	[ -f "$M/$p" ] || continue
	bad=$(awk '
		tag { t = $0; gsub(/\\\(../, "", t)
		      o = gsub(/[[{]/, "", t); c = gsub(/[]}]/, "", t)
		      if (o != c) printf "line %d: %s\n", NR, $0
		      tag = 0; next }
		/^\.TP/ { tag = 1 }' "$M/$p")
	if [ -z "$bad" ]; then
		ok "$p: every .TP tag is whole on its line"
	else
		nok "$p: every .TP tag is whole on its line" "$bad"
	fi
done

# The version in every .TH is the one in the UAPI header.
ver=$(sed -n 's/.*KIPC_VERSION_STRING[[:space:]]*"\([^"]*\)".*/\1/p' $UAPI)
bad=""
for p in $PAGES; do
	[ -f "$M/$p" ] || continue
	grep -q "^\.TH .*\"kipc $ver\"" "$M/$p" || bad="$bad $p"
done
if [ -n "$ver" ] && [ -z "$bad" ]; then
	ok "pages carry version $ver"
else
	nok "pages carry version $ver" "not kipc ${ver:-?} in .TH:$bad"
fi

# kipc(4): every ioctl, every module parameter.
if [ -f "$M/kipc.4" ]; then
	missing=""
	for io in $(sed -nE 's/^#define[[:space:]]+(KIPC_[A-Z0-9_]+)[[:space:]]+_IO.*/\1/p' $UAPI); do
		text kipc.4 | grep -qw -- "$io" || missing="$missing $io"
	done
	if [ -z "$missing" ]; then
		ok "kipc.4 documents every ioctl"
	else
		nok "kipc.4 documents every ioctl" "missing:$missing"
	fi
	missing=""
	for prm in $(sed -nE 's/.*module_param(_named)?\(([a-z0-9_]+),.*/\2/p' kmod/*.c); do
		text kipc.4 | grep -qw -- "$prm" || missing="$missing $prm"
	done
	if [ -z "$missing" ]; then
		ok "kipc.4 documents every module parameter"
	else
		nok "kipc.4 documents every module parameter" "missing:$missing"
	fi
fi

# Each tool: the options of --help in the page, and the page's long
# options in --help (no stale option documented).
for t in kipcctl kipc-bench kipc-demo; do
	p=$(cd $M && ls $t.[1-8] 2>/dev/null | head -1)
	bin=$B/user/$t
	if [ -z "$p" ]; then
		nok "$t: page and --help agree" "no page $M/$t.N"
		continue
	fi
	if [ ! -x "$bin" ]; then
		skip "$t: page and --help agree" "$bin not built"
		continue
	fi
	help=$("$bin" --help 2>&1)
	missing="" stale=""
	for o in $(echo "$help" | grep -oE -- '(^|[[ ,|])--?[a-zA-Z][a-zA-Z-]*' |
		   sed -E 's/^[[ ,|]//' | sort -u); do
		text "$p" | grep -qE -- "(^|[^a-zA-Z-])$o([^a-zA-Z-]|$)" ||
			missing="$missing $o"
	done
	for o in $(text "$p" | grep -oE -- '--[a-z][a-z-]*[a-z]' | sort -u); do
		echo "$help" | grep -qE -- "$o([^a-z-]|$)" || stale="$stale $o"
	done
	if [ -z "$missing$stale" ]; then
		ok "$t: page and --help agree"
	else
		nok "$t: page and --help agree" \
			"in --help, not in $p:${missing:- none}" \
			"in $p, not in --help:${stale:- none}"
	fi
done

# kipcctl(8): every command and set key of --help.
if [ -x "$B/user/kipcctl" ] && [ -f "$M/kipcctl.8" ]; then
	help=$("$B/user/kipcctl" --help 2>&1)
	words=$(echo "$help" | sed -n '/^commands:/,/^$/p' |
		grep -oE '^  [a-z]+|^      [a-z][a-z-]*( \| [a-z][a-z-]*)*' |
		tr '|' '\n' | tr -d ' ')
	missing=""
	for w in $words; do
		text kipcctl.8 | grep -qE -- "(^|[^a-z-])$w([^a-z-]|$)" ||
			missing="$missing $w"
	done
	if [ -n "$words" ] && [ -z "$missing" ]; then
		ok "kipcctl.8 documents every command and key"
	else
		nok "kipcctl.8 documents every command and key" \
			"found: $(echo $words)" "missing:$missing"
	fi
else
	skip "kipcctl.8 documents every command and key" "kipcctl not built"
fi

# Documentation/README.md is the index: every page in Documentation/ is
# listed there, and the links of the index, design.md and uapi.md resolve.
D=Documentation
if [ -f $D/README.md ]; then
	unlisted=""
	for f in $D/*.md $D/man/*.[1-8]; do
		[ -e "$f" ] || continue
		rel=${f#$D/}
		[ "$rel" = README.md ] && continue
		grep -qF "]($rel)" $D/README.md || unlisted="$unlisted $rel"
	done
	if [ -z "$unlisted" ]; then
		ok "Documentation/README.md lists every page"
	else
		nok "Documentation/README.md lists every page" "not listed:$unlisted"
	fi
	broken=""
	for f in README.md design.md uapi.md; do
		[ -f "$D/$f" ] || { broken="$broken $f(missing)"; continue; }
		for l in $(grep -oE '\]\([^)#]+' "$D/$f" | cut -c3- | grep -v '://'); do
			[ -e "$D/$l" ] || broken="$broken $f:$l"
		done
		broken=$(printf '%s\n' $broken | sort -u | xargs)
	done
	if [ -z "$broken" ]; then
		ok "links in README.md, design.md, uapi.md resolve"
	else
		nok "links in README.md, design.md, uapi.md resolve" "broken:$broken"
	fi
else
	nok "Documentation/README.md lists every page" "no Documentation/README.md"
fi

echo "1..$n"
