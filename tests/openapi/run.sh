#!/bin/sh
# The OpenAPI document (etc/openapi.json) against the tools and the
# server: `redocly lint` must find no error, and the end-to-end suites
# must pass with every request going through `prism proxy --errors`
# built from the document (tests/e2e/harness.h: CS_E2E_PRISM), with no
# answer outside it.  Both tools come from npm at the versions of
# package.json/-lock.  Run by `make check` (top_srcdir and top_builddir
# set), or by hand from a build dir:
#	top_srcdir=/path/to/src top_builddir=$PWD sh tests/openapi/run.sh
# SUITES overrides the list of suites.  Each line "not ok"/"ok" is one
# check; the last line is the Check-style summary.
#
# What cannot go through prism, and so is not checked by it:
#  - e2e_admin: the admin pages are HTML outside the document, and prism
#    follows redirects (the sign-in's 303) instead of passing them back;
#  - e2e_cli: no HTTP;
#  - e2e_limits passes through prism when the machine is idle, but its
#    429 test needs 4 requests within 1 s, which prism's latency on a
#    loaded machine breaks; SUITES=e2e_limits runs it;
#  - e2e_faults passes through prism too, but is left out for time (5 to
#    6 minutes: 12 environments, each with its two proxies);
#    SUITES=e2e_faults runs it;
#  - e2e_hostile: its 236 raw-socket requests (h_raw: bytes no HTTP
#    client sends) always go to lighttpd itself, and of its 4 h_req calls
#    one once reached prism while lighttpd restarted (a 500 from prism,
#    in distcheck, 2026-12-07); SUITES=e2e_hostile runs it;
#  - a JSON body prism would rewrite (malformed, duplicate keys, white
#    space: prism sends it on compact) goes to lighttpd itself and is
#    listed as outside the document.
set -u

here=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(cd "$here/../.." && pwd)}"
: "${top_builddir:=$PWD}"
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
SUITES=${SUITES:-e2e_store e2e_lifecycle e2e_jwks e2e_integrity e2e_hygiene}
doc=$top_srcdir/etc/openapi.json

tmp=""
cleanup() {
	[ -n "$tmp" ] && [ -d "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

fail_setup() {
	echo "not ok 1 - setup: $*"
	echo "0%: Checks: 1, Failures: 1, Errors: 0"
	exit 99
}

command -v node >/dev/null 2>&1 || fail_setup "node is missing (scripts/deps.sh)"
[ -f "$doc" ] || fail_setup "$doc is missing"
tmp=$(mktemp -d /tmp/credstore-openapi-XXXXXX) || fail_setup "mktemp failed"

# --- the tools, from npm: next to package.json in a git checkout (kept
# for the next run), else (a release tarball, make distcheck's read-only
# source tree) in the temp dir for this run only
npm_dir=$here
if [ ! -x "$npm_dir/node_modules/.bin/prism" ] && [ ! -e "$top_srcdir/.git" ]; then
	npm_dir=$tmp/npm
	mkdir -p "$npm_dir" &&
	    cp "$here/package.json" "$here/package-lock.json" "$npm_dir/" &&
	    chmod u+w "$npm_dir/package.json" "$npm_dir/package-lock.json" ||
		fail_setup "cannot copy package.json to $npm_dir"
fi
if [ ! -x "$npm_dir/node_modules/.bin/prism" ] ||
    [ ! -x "$npm_dir/node_modules/.bin/redocly" ]; then
	command -v npm >/dev/null 2>&1 || fail_setup "npm is missing (scripts/deps.sh)"
	echo "# installing @redocly/cli and @stoplight/prism-cli into $npm_dir" >&2
	npm ci --prefix "$npm_dir" --no-audit --no-fund --loglevel=error >&2 ||
		fail_setup "npm could not install the tools"
fi
prism=$npm_dir/node_modules/.bin/prism
redocly=$npm_dir/node_modules/.bin/redocly
[ -x "$prism" ] && [ -x "$redocly" ] || fail_setup "the tools did not install"

checks=0
failures=0
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
notok() { checks=$((checks + 1)); failures=$((failures + 1)); echo "not ok $checks - $*"; }

# --- 1. lint: no error (the config and the ignore list are next to this
# file; each ignored finding says why it is no defect)
if "$redocly" lint --config "$here/redocly.yaml" --format=stylish "$doc" \
    >"$tmp/lint.out" 2>&1; then
	ok "redocly lint: no error"
else
	sed 's/^/# /' "$tmp/lint.out" | grep -v '^# *$' | head -60
	notok "redocly lint found errors"
fi

# --- 2. the e2e suites through prism proxy --errors
for s in $SUITES; do
	prog=$top_builddir/tests/e2e/$s
	if [ ! -x "$prog" ]; then
		notok "$s: $prog is missing (make check TESTS= builds it)"
		continue
	fi
	: >"$tmp/$s.viol"
	: >"$tmp/$s.outside"
	: >"$tmp/$s.checked"
	start=$(date +%s)
	CS_E2E_PRISM=$prism CS_E2E_OPENAPI=$doc CS_E2E_CHECKED=$tmp/$s.checked \
	    CS_E2E_VIOLATIONS=$tmp/$s.viol CS_E2E_OUTSIDE=$tmp/$s.outside \
	    top_srcdir=$top_srcdir top_builddir=$top_builddir \
	    "$prog" >"$tmp/$s.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	nv=$(wc -l <"$tmp/$s.viol")
	no=$(wc -l <"$tmp/$s.outside")
	nc=$(wc -l <"$tmp/$s.checked")
	nl=$(grep -c 'outside the document; the answer in it' "$tmp/$s.checked")
	summary=$(grep -E '^[0-9]+%: Checks:' "$tmp/$s.log" | tail -1)
	# a suite whose requests never reached prism proves nothing
	if [ "$rc" -eq 0 ] && [ "$nv" -eq 0 ] && [ "$nc" -gt 0 ]; then
		ok "$s through prism: $summary; $nc answers checked, all in the" \
		    "document ($nl of them to requests outside it, checked by prism" \
		    "without --errors); $no requests outside the document; ${secs}s"
	else
		grep -E ':[FE]:' "$tmp/$s.log" | head -20 | sed 's/^/# /'
		cut -c1-400 "$tmp/$s.viol" | head -20 | sed 's/^/# violation: /'
		notok "$s through prism: exit $rc, $summary; $nv answers outside the document"
	fi
	# the requests outside the document, for a look (not failures)
	sed 's/^\([A-Z]* [^ ]*\) -> \([0-9]*\): .*"title":"\([^"]*\)".*/\1 -> \2 (\3)/' \
	    "$tmp/$s.outside" | cut -c1-200 | sort | uniq -c | sort -rn | head -40 |
	    sed "s/^/# $s outside: /"
done

pct=100
[ "$checks" -gt 0 ] && pct=$(((checks - failures) * 100 / checks))
echo "$pct%: Checks: $checks, Failures: $failures, Errors: 0"
[ "$failures" -eq 0 ]
