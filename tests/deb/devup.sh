#!/bin/sh
# scripts/dev-up.sh on a machine that already serves something (issue 18):
# a lighttpd of this script's own on a free port plays the system's
# lighttpd; dev-up runs twice (start, then restart) with CREDSTORE_PORT on
# another free port and CREDSTORE_RUN in a temporary folder.  Asserts that
# the first lighttpd still answers with the same pid, that dev-up's
# instance answers /healthz, and that dev-up left no policy-rc.d behind.
# Stops what it started, by pid.
#
#   sh tests/deb/devup.sh        (scripts/test.sh runs it; SKIP_DEVUP=1)
# Environment: DEVUP_PIDFILE (the first lighttpd's pid file, default
# Debian's /run/lighttpd.pid).
# Prints ok/FAIL per check, then "NN%: Checks: N, Failures: F, Errors: 0".
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
LIGHTTPD=/usr/sbin/lighttpd
checks=0
failures=0
sys_pid=""
tmp=""

summary() {
	pct=100
	[ "$checks" -gt 0 ] && pct=$(( (checks - failures) * 100 / checks ))
	echo "$pct%: Checks: $checks, Failures: $failures, Errors: 0"
}
pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
check() {
	d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}

cleanup() {
	if [ -n "$tmp" ] && [ -f "$tmp/run/lighttpd/lighttpd.pid" ]; then
		kill "$(cat "$tmp/run/lighttpd/lighttpd.pid")" 2>/dev/null
	fi
	if [ -n "$sys_pid" ]; then
		kill "$sys_pid" 2>/dev/null
		# lighttpd removes its pid file on exit; a stale one must not stay
		sleep 0.3
		[ "$sys_pidfile" = /run/lighttpd.pid ] &&
		    [ "$(cat "$sys_pidfile" 2>/dev/null)" = "$sys_pid" ] && rm -f "$sys_pidfile"
	fi
	[ -n "$tmp" ] && rm -rf "$tmp"
}

if [ ! -x "$LIGHTTPD" ]; then
	echo "devup: SKIP: no $LIGHTTPD"
	summary
	exit 77
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

tmp=$(mktemp -d /tmp/credstore-devup-XXXXXX)
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
chmod 755 "$tmp"
sys_port=$(free_port)
dev_port=$(free_port)
while [ "$dev_port" = "$sys_port" ]; do dev_port=$(free_port); done

# "the system's lighttpd": static files on its own port, with Debian's pid
# file /run/lighttpd.pid, so that what stops the system's lighttpd
# (service lighttpd stop, the old scripts/deps.sh) would stop this one;
# another pid file when a real one runs already.
# (DEVUP_PIDFILE overrides it: on a machine where other jobs run the old
# scripts/deps.sh, that would stop this lighttpd whatever dev-up does.)
sys_pidfile=${DEVUP_PIDFILE:-/run/lighttpd.pid}
if [ -s "$sys_pidfile" ] && kill -0 "$(cat "$sys_pidfile")" 2>/dev/null; then
	echo "devup: a system lighttpd runs (pid $(cat "$sys_pidfile")); using a pid file of its own"
	sys_pidfile=$tmp/sys/lighttpd.pid
fi
mkdir -p "$tmp/sys/www"
echo "system site $$" >"$tmp/sys/www/index.html"
cat >"$tmp/sys/lighttpd.conf" <<EOF
server.document-root = "$tmp/sys/www"
server.bind = "127.0.0.1"
server.port = $sys_port
server.pid-file = "$sys_pidfile"
server.errorlog = "$tmp/sys/error.log"
index-file.names = ( "index.html" )
EOF
"$LIGHTTPD" -D -f "$tmp/sys/lighttpd.conf" >"$tmp/sys/out" 2>&1 &
sys_pid=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$sys_port/" || [ $i -gt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "the system's lighttpd answers on $sys_port (pid $sys_pid)" \
    sh -c "curl -sf 'http://127.0.0.1:$sys_port/' | grep -qx 'system site $$'"
policy_before=$(ls -l /usr/sbin/policy-rc.d 2>/dev/null)

for run in 1 2; do
	echo "devup: scripts/dev-up.sh (run $run) on $dev_port"
	if CREDSTORE_PORT=$dev_port CREDSTORE_RUN=$tmp/run sh "$top/scripts/dev-up.sh" \
	    >"$tmp/devup$run.out" 2>&1; then
		pass "dev-up.sh run $run exits 0"
	else
		tail -20 "$tmp/devup$run.out"
		fail "dev-up.sh run $run exits 0"
	fi
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$dev_port/healthz")
	check "dev-up's instance answers /healthz on $dev_port: 200 (got $code)" test "$code" = 200
	check "the system's lighttpd still runs, same pid $sys_pid" kill -0 "$sys_pid"
	check "its pid file $sys_pidfile still names $sys_pid" \
	    test "$(cat "$sys_pidfile" 2>/dev/null)" = "$sys_pid"
	check "and it still answers with its own site" \
	    sh -c "curl -sf 'http://127.0.0.1:$sys_port/' | grep -qx 'system site $$'"
done
check "dev-up printed an admin token" grep -q '^eyJ' "$tmp/devup2.out"
check "dev-up left /usr/sbin/policy-rc.d as it was" \
    test "$(ls -l /usr/sbin/policy-rc.d 2>/dev/null)" = "$policy_before"
check "dev-up's lighttpd is the one in its pid file" \
    kill -0 "$(cat "$tmp/run/lighttpd/lighttpd.pid" 2>/dev/null || echo 0)"

summary
[ "$failures" -eq 0 ]
