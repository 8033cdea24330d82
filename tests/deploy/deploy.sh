#!/bin/sh
# End-to-end test of the shipped web-server examples: the same short
# store / list / delete scenario behind
#   apache-fcgid       Apache 2.4 + mod_fcgid        apache.conf.example, block A
#   apache-proxy-fcgi  Apache 2.4 + mod_proxy_fcgi   apache.conf.example, block B
#                      + spawn-fcgi
#   lighttpd           lighttpd + mod_fastcgi        etc/lighttpd.conf.example
#   nginx              nginx + spawn-fcgi            etc/nginx.conf.example
# Each server runs from a configuration generated from the shipped example
# by replacing only its marked lines (Define lines, var. lines, lines marked
# "# credstore:"), on a free 127.0.0.1 port, with its pid file, logs and
# sockets in a temporary folder.
#
#   top_srcdir=... top_builddir=... sh tests/deploy/deploy.sh
#
# Needs root: the servers start as root; Apache, nginx, lighttpd and
# spawn-fcgi drop to www-data as in a real deployment.  Installs the missing
# Debian packages with apt-get.
# Environment:
#   DEPLOY_SERVERS  the servers to test (default: all four, as above)
#   KEEP_DEPLOY     set: keep the temporary folder (logs, configurations)
#
# Prints PASS/FAIL per check, then one Check-style line
# "NN%: Checks: N, Failures: F, Errors: 0"; exits 0 when nothing failed,
# 77 (skipped) when not root, 99 on a broken set-up.
set -u
umask 022

: "${top_srcdir:?top_srcdir must be set}" "${top_builddir:?top_builddir must be set}"
check_name=deploy
. "$top_srcdir/tests/checks.sh"
SERVERS=${DEPLOY_SERVERS:-"apache-fcgid apache-proxy-fcgi lighttpd nginx"}
RUNAS=www-data		# the user the servers and spawn-fcgi drop to
APACHE=/usr/sbin/apache2
APACHE_MODS=/usr/lib/apache2/modules
LIGHTTPD=/usr/sbin/lighttpd
NGINX=/usr/sbin/nginx

T0=$(date +%s)




SRC=$(cd "$top_srcdir" 2>/dev/null && pwd) || broken "no folder $top_srcdir"
BLD=$(cd "$top_builddir" 2>/dev/null && pwd) || broken "no folder $top_builddir"
FCGI_BIN=$BLD/cgi-bin/credstore.fcgi
ADMIN=$BLD/credstore-admin
MOCK=$BLD/tests/mock/mockprov
for f in "$FCGI_BIN" "$ADMIN" "$MOCK"; do
	[ -x "$f" ] || broken "$f is missing (make && make tests/mock/mockprov)"
done
[ "$(id -u)" -eq 0 ] || skip "needs root (the servers run as root and drop to $RUNAS)"
id "$RUNAS" >/dev/null 2>&1 || broken "no user $RUNAS"

# --- Debian packages -------------------------------------------------
pkgs="curl openssl"
for s in $SERVERS; do
	case $s in
	apache-fcgid)		pkgs="$pkgs apache2 libapache2-mod-fcgid" ;;
	apache-proxy-fcgi)	pkgs="$pkgs apache2 spawn-fcgi" ;;
	lighttpd)		pkgs="$pkgs lighttpd" ;;
	nginx)			pkgs="$pkgs nginx spawn-fcgi" ;;
	*)			broken "unknown server $s" ;;
	esac
done
missing=""
for p in $pkgs; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deploy: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
	    broken "apt-get install$missing failed"
	# The packages start their services where they can: stop and
	# disable the ones just installed (port 80, nothing left running).
	svcs=""
	case "$missing " in *" apache2 "*) svcs="apache2 apache-htcacheclean" ;; esac
	case "$missing " in *" nginx "*) svcs="$svcs nginx" ;; esac
	case "$missing " in *" lighttpd "*) svcs="$svcs lighttpd" ;; esac
	for svc in $svcs; do
		service "$svc" stop >/dev/null 2>&1 || true
		if [ -d /run/systemd/system ]; then
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		fi
	done
fi

# --- common state ----------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/credstore-deploy-XXXXXX") || broken "mktemp"
chmod 0755 "$T"		# the servers' workers run as $RUNAS
MOCK_PID=""
SRV_PID=""
SPAWN_PIDFILE=""
S=""

# Kill what one server left: the server, spawn-fcgi's children, and any
# process still running that server's private copy of credstore.fcgi.
stop_server() {
	if [ -n "$SRV_PID" ]; then
		kill -TERM "$SRV_PID" 2>/dev/null
		i=0
		while kill -0 "$SRV_PID" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
		SRV_PID=""
	fi
	if [ -n "$SPAWN_PIDFILE" ] && [ -f "$SPAWN_PIDFILE" ]; then
		# shellcheck disable=SC2046
		kill -TERM $(cat "$SPAWN_PIDFILE") 2>/dev/null
		SPAWN_PIDFILE=""
	fi
	[ -n "$S" ] || return 0
	i=0
	while [ -n "$(fcgi_pids)" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	# shellcheck disable=SC2046
	[ -z "$(fcgi_pids)" ] || kill -KILL $(fcgi_pids) 2>/dev/null
	return 0
}

# The processes running $S/libexec/credstore.fcgi (this server's copy).
fcgi_pids() {
	find /proc -mindepth 2 -maxdepth 2 -name exe \
	    -lname "$S/libexec/credstore.fcgi" 2>/dev/null | cut -d/ -f3
}

cleanup() {
	stop_server
	[ -n "$MOCK_PID" ] && kill -TERM "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
	if [ -n "${KEEP_DEPLOY:-}" ]; then
		echo "deploy: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1,
	    LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport, "\n"'
}

# The catalog and the templates, from the source tree when $RUNAS can
# read them there, else from a copy.
SHARE=$SRC
if ! su -s /bin/sh -c "test -r '$SRC/etc/catalog.json' &&
    test -r '$SRC/templates/login.html'" "$RUNAS"; then
	SHARE=$T/share
	if ! { mkdir -p "$SHARE/etc" && cp "$SRC/etc/catalog.json" "$SHARE/etc/" &&
	    cp -R "$SRC/templates" "$SHARE/" && chmod -R a+rX "$SHARE"; }; then
		broken "cannot copy $SRC/etc/catalog.json and $SRC/templates"
	fi
fi

"$MOCK" -P "$T/mock.port" >"$T/mock.log" 2>&1 &
MOCK_PID=$!
i=0
while [ ! -s "$T/mock.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/mock.port" ] || broken "the mock provider did not start"
MOCK_PORT=$(cat "$T/mock.port")

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# An HS256 token of exactly 8192 bytes (the largest SPEC section 3
# accepts): its Authorization line is over Apache's and nginx's default
# header limits, so it only gets through with the examples' settings.
mint_big() {	# mint_big SECRET-FILE
	now=$(date +%s)
	base=$(big_claims "$now" "" | wc -c)
	# header 36 + "." + payload + "." + signature 43 = 8192: a payload
	# of 6083 bytes encodes to 8111 characters.
	pad=$(head -c $((6083 - base)) /dev/zero | tr '\0' 'p')
	h=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
	p=$(big_claims "$now" "$pad" | b64url)
	key=$(od -An -v -tx1 "$1" | tr -d ' \n')
	sig=$(printf '%s.%s' "$h" "$p" |
	    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | b64url)
	printf '%s.%s.%s\n' "$h" "$p" "$sig"
}
big_claims() {	# big_claims NOW PAD
	printf '{"sub":"big","org_id":"acme","role":"admin","iat":%s,"exp":%s,"pad":"%s"}' \
	    "$1" $(($1 + 900)) "$2"
}

expect() {	# expect WANT GOT NAME: a status check
	if [ "$1" = "$2" ]; then check 1 "$3 -> $2"; else check "" "$3" "got $2, want $1"; fi
}

# req METHOD PATH TOKEN [CURL-ARGS...]: sets CODE; body in $S/body,
# headers in $S/headers.
req() {
	m=$1 u=$2 t=$3
	shift 3
	[ -n "$t" ] && set -- -H "Authorization: Bearer $t" "$@"
	: >"$S/body"
	: >"$S/headers"
	CODE=$(curl -sS --max-time 30 -o "$S/body" -D "$S/headers" \
	    -w '%{http_code}' -X "$m" "$@" "http://127.0.0.1:$PORT$u" \
	    2>>"$S/log/curl.err") || CODE=${CODE:-000}
}
header() {	# header NAME: the value of the last response's header
	tr -d '\r' <"$S/headers" | sed -n "s/^$1: *//Ip" | tail -1
}

# --- configurations, each generated from its shipped example ---------
apache_conf() {	# apache_conf fcgid|proxy-fcgi
	{
		cat <<EOF
# generated by tests/deploy/deploy.sh: a server configuration of its own,
# then $SRC/apache.conf.example with its Define lines replaced
ServerRoot "$S"
ServerName 127.0.0.1
PidFile "$S/run/apache2.pid"
DefaultRuntimeDir "$S/run"
Mutex file:$S/run default
ErrorLog "$S/log/error.log"
LogLevel warn
User $RUNAS
Group $RUNAS
DocumentRoot "$S/www"
LoadModule mpm_event_module $APACHE_MODS/mod_mpm_event.so
LoadModule authz_core_module $APACHE_MODS/mod_authz_core.so
LoadModule alias_module $APACHE_MODS/mod_alias.so
EOF
		if [ "$1" = fcgid ]; then
			cat <<EOF
LoadModule fcgid_module $APACHE_MODS/mod_fcgid.so
FcgidIPCDir "$S/run/fcgid"
FcgidProcessTableFile "$S/run/fcgid_shm"
EOF
		else
			cat <<EOF
LoadModule proxy_module $APACHE_MODS/mod_proxy.so
LoadModule proxy_fcgi_module $APACHE_MODS/mod_proxy_fcgi.so
EOF
		fi
		echo
		sed -e "s|^\([[:space:]]*Define CREDSTORE_LISTEN\)[[:space:]].*|\1 127.0.0.1:$PORT|" \
		    -e "s|^\([[:space:]]*Define CREDSTORE_LIBEXEC\)[[:space:]].*|\1 $S/libexec|" \
		    -e "s|^\([[:space:]]*Define CREDSTORE_CONFIG\)[[:space:]].*|\1 $S/credstore.conf|" \
		    -e "s|^\([[:space:]]*Define CREDSTORE_TEMPLATES\)[[:space:]].*|\1 $SHARE/templates|" \
		    -e "s|^\([[:space:]]*Define CREDSTORE_SOCKET\)[[:space:]].*|\1 $S/run/fcgi.sock|" \
		    "$SRC/apache.conf.example"
	} >"$S/server.conf"
}

lighttpd_conf() {
	sed -e "s|^var\.credstore_fcgi[[:space:]].*|var.credstore_fcgi = \"$S/libexec/credstore.fcgi\"|" \
	    -e "s|^server\.username[[:space:]].*|server.username = \"$RUNAS\"|" \
	    -e "s|^server\.groupname[[:space:]].*|server.groupname = \"$RUNAS\"|" \
	    -e "s|^var\.credstore_config[[:space:]].*|var.credstore_config = \"$S/credstore.conf\"|" \
	    -e "s|^var\.credstore_templates[[:space:]].*|var.credstore_templates = \"$SHARE/templates\"|" \
	    -e "s|^var\.credstore_state[[:space:]].*|var.credstore_state = \"$S/run\"|" \
	    -e "s|^var\.server_bind[[:space:]].*|var.server_bind = \"127.0.0.1\"|" \
	    -e "s|^var\.server_port[[:space:]].*|var.server_port = $PORT|" \
	    "$SRC/etc/lighttpd.conf.example" >"$S/server.conf"
}

nginx_conf() {
	sed -e "/# credstore:/{
s|^\([[:space:]]*user\)[[:space:]][^;]*;|\1 $RUNAS;|
s|^\([[:space:]]*pid\)[[:space:]][^;]*;|\1 $S/run/nginx.pid;|
s|^\([[:space:]]*error_log\)[[:space:]][^;]*;|\1 $S/log/error.log;|
s|^\([[:space:]]*access_log\)[[:space:]][^;]*;|\1 $S/log/access.log;|
s|^\([[:space:]]*listen\)[[:space:]][^;]*;|\1 127.0.0.1:$PORT;|
s|^\([[:space:]]*fastcgi_pass\)[[:space:]][^;]*;|\1 unix:$S/run/fcgi.sock;|
}" "$SRC/etc/nginx.conf.example" >"$S/server.conf"
}

# Every site-specific default of the examples must have been replaced.
conf_is_local() {
	! sed -e 's/#.*//' "$S/server.conf" |
	    grep -nE '/usr/local|/run/credstore|/var/lib/credstore|/var/log/nginx|:8080|= 8080' \
	    >"$S/leftovers"
}

# As the examples' comments say: spawn-fcgi, as root, gives the socket
# to the workers' user and runs credstore as that user.
# spawn-fcgi leaves the children's stderr on /dev/null: sanitizer
# reports (sanitizer builds only) go to files in $S/san instead.
start_spawn_fcgi() {
	SPAWN_PIDFILE=$S/run/spawn-fcgi.pid
	mkdir -p "$S/san" && chown "$RUNAS" "$S/san"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$S/san/asan" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$S/san/ubsan" \
	spawn-fcgi -s "$S/run/fcgi.sock" -M 0660 \
	    -U "$RUNAS" -G "$RUNAS" -u "$RUNAS" -g "$RUNAS" \
	    -F 2 -P "$SPAWN_PIDFILE" \
	    -- /usr/bin/env CREDSTORE_CONFIG="$S/credstore.conf" \
	    CREDSTORE_TEMPLATES="$SHARE/templates" \
	    "$S/libexec/credstore.fcgi" >>"$S/log/spawn-fcgi.log" 2>&1
}

start_server() {
	case $SERVER in
	apache-fcgid|apache-proxy-fcgi)
		"$APACHE" -d "$S" -f "$S/server.conf" -t >"$S/log/configtest" 2>&1
		rc=$?
		check "$( [ $rc -eq 0 ] && echo 1)" "apache2 -t accepts the configuration" \
		    "$(tr '\n' ' ' <"$S/log/configtest")"
		[ "$SERVER" = apache-proxy-fcgi ] && start_spawn_fcgi
		"$APACHE" -d "$S" -f "$S/server.conf" -DFOREGROUND \
		    >>"$S/log/server.out" 2>&1 &
		SRV_PID=$!
		;;
	lighttpd)
		"$LIGHTTPD" -tt -f "$S/server.conf" >"$S/log/configtest" 2>&1
		rc=$?
		check "$( [ $rc -eq 0 ] && echo 1)" "lighttpd -tt accepts the configuration" \
		    "$(tr '\n' ' ' <"$S/log/configtest")"
		"$LIGHTTPD" -D -f "$S/server.conf" >>"$S/log/server.out" 2>&1 &
		SRV_PID=$!
		;;
	nginx)
		"$NGINX" -p "$S/" -c "$S/server.conf" -t >"$S/log/configtest" 2>&1
		rc=$?
		check "$( [ $rc -eq 0 ] && echo 1)" "nginx -t accepts the configuration" \
		    "$(tr '\n' ' ' <"$S/log/configtest")"
		start_spawn_fcgi
		"$NGINX" -p "$S/" -c "$S/server.conf" -g 'daemon off;' \
		    >>"$S/log/server.out" 2>&1 &
		SRV_PID=$!
		;;
	esac
	i=0
	while [ $i -lt 150 ]; do
		req GET /healthz ""
		[ "$CODE" = 200 ] && break
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	expect 200 "$CODE" "server up on 127.0.0.1:$PORT, GET /healthz"
}

# --- the scenario, the same for every server -------------------------
scenario() {
	L=/v1/integrations/sentry/credentials

	# (1) store
	req POST "$L" "$ADMIN_TOK" -H 'Content-Type: application/json' \
	    --data-binary '{"credentials":{"auth_token":"sntrys_deploy_test"},"label":"deploy"}'
	expect 201 "$CODE" "POST $L (admin token)"
	ID=$(sed -n 's/.*"credentialId" *: *"\(crd_[0-9A-Z]*\)".*/\1/p' "$S/body")
	check "$ID" "store: the body has a credentialId" "$(head -c 300 "$S/body")"
	loc=$(header Location)
	case $loc in
	*"$L/$ID") [ -n "$ID" ] && ok=1 || ok="" ;;
	*) ok="" ;;
	esac
	check "$ok" "store: Location header reaches the client" "Location: $loc"

	# (2) a token of 8192 bytes gets through the server
	req GET "$L" "$BIG_TOK"
	expect 200 "$CODE" "GET $L with a token of ${#BIG_TOK} bytes"
	check "$(grep -F "\"$ID\"" "$S/body" >/dev/null && echo 1)" \
	    "the ${#BIG_TOK}-byte token's list has the new id"

	# (3) list (a query string too)
	req GET "$L?limit=10" "$ADMIN_TOK"
	expect 200 "$CODE" "GET $L?limit=10"
	check "$(grep -F "\"$ID\"" "$S/body" >/dev/null && echo 1)" \
	    "list has the new id" "$(head -c 300 "$S/body")"

	# (4) delete, (5) gone
	req DELETE "$L/$ID" "$ADMIN_TOK"
	expect 204 "$CODE" "DELETE $L/{id}"
	req GET "$L/$ID" "$ADMIN_TOK"
	expect 404 "$CODE" "GET $L/{id} after delete"
	check "$(grep -F '"not_found"' "$S/body" >/dev/null && echo 1)" \
	    "404 body is credstore's JSON not_found" "$(head -c 300 "$S/body")"

	# (6) a viewer may read, not change
	req POST "$L" "$VIEW_TOK" -H 'Content-Type: application/json' \
	    --data-binary '{"credentials":{"auth_token":"x"}}'
	expect 403 "$CODE" "POST $L (viewer token)"

	# (7) no token: 401 and the WWW-Authenticate header
	req GET "$L" ""
	expect 401 "$CODE" "GET $L without a token"
	wa=$(header WWW-Authenticate)
	case $wa in
	'Bearer realm="credstore"') ok=1 ;;
	*) ok="" ;;
	esac
	check "$ok" "WWW-Authenticate reaches the client, no error= without a token" \
	    "WWW-Authenticate: $wa"

	# (8) a body over the server's limit (128 KiB): 413 from the server
	head -c 204800 /dev/zero | tr '\0' 'a' |
	    sed -e 's/^/{"credentials":{"auth_token":"/' -e 's/$/"}}/' >"$S/big.json"
	req POST "$L" "$ADMIN_TOK" -H 'Content-Type: application/json' \
	    --data-binary @"$S/big.json"
	expect 413 "$CODE" "POST $L with a 200 KiB body"
	check "$(grep -q payload_too_large "$S/body" || echo 1)" \
	    "200 KiB: refused by the server, not by credstore"

	# (9) a body under the server's limit but over max_body_bytes
	# (64 KiB): it reaches credstore, which answers 413 itself
	head -c 81920 /dev/zero | tr '\0' 'a' |
	    sed -e 's/^/{"credentials":{"auth_token":"/' -e 's/$/"}}/' >"$S/mid.json"
	req POST "$L" "$ADMIN_TOK" -H 'Content-Type: application/json' \
	    --data-binary @"$S/mid.json"
	expect 413 "$CODE" "POST $L with an 80 KiB body"
	check "$(grep -F '"payload_too_large"' "$S/body" >/dev/null && echo 1)" \
	    "80 KiB: credstore's JSON payload_too_large" "$(head -c 300 "$S/body")"

	# (10) the admin page's sign-in form: the templates are found
	req GET /admin/login ""
	expect 200 "$CODE" "GET /admin/login"
	check "$(grep -qi '<form' "$S/body" && echo 1)" \
	    "the sign-in page is HTML with a form" "$(head -c 200 "$S/body")"

	# the store still works after that
	req GET /healthz ""
	expect 200 "$CODE" "GET /healthz at the end"

	# (11) credstore runs as $RUNAS, never as root
	owners=$(for p in $(fcgi_pids); do stat -c %U "/proc/$p"; done |
	    sort -u | tr '\n' ' ')
	check "$( [ "$owners" = "$RUNAS " ] && echo 1)" \
	    "the credstore processes run as $RUNAS" "owners: $owners"
}

# --- each server in turn ---------------------------------------------
for SERVER in $SERVERS; do
	check_label=$SERVER
	S=$T/$SERVER
	PORT=$(free_port)
	mkdir -p "$S/run" "$S/log" "$S/www" "$S/libexec"
	# a private copy: the processes running it are this server's
	cp "$FCGI_BIN" "$S/libexec/credstore.fcgi"
	cat >"$S/credstore.conf" <<EOF
# generated by tests/deploy/deploy.sh
data_dir = data
keyring = keyring
catalog = $SHARE/etc/catalog.json
jwt_secret_file = jwt.secret
probe_origin_override = http://127.0.0.1:$MOCK_PORT
probe_timeout_ms = 1500
EOF
	if ! "$ADMIN" -c "$S/credstore.conf" init >"$S/log/init.out" 2>&1; then
		cat "$S/log/init.out" >&2
		broken "$SERVER: credstore-admin init failed"
	fi
	ADMIN_TOK=$("$ADMIN" -c "$S/credstore.conf" token --sub alice \
	    --tenant acme --role admin) || broken "token failed"
	VIEW_TOK=$("$ADMIN" -c "$S/credstore.conf" token --sub bob \
	    --tenant acme --role viewer) || broken "token failed"
	BIG_TOK=$(mint_big "$S/jwt.secret")
	[ ${#BIG_TOK} -eq 8192 ] || broken "the big token has ${#BIG_TOK} bytes, not 8192"
	# credstore runs as $RUNAS and must own its state; lighttpd, as
	# $RUNAS after it opened its port, creates its sockets in run/
	chown -R "$RUNAS:$RUNAS" "$S/data" "$S/keyring" "$S/jwt.secret"
	[ "$SERVER" = lighttpd ] && chown "$RUNAS:$RUNAS" "$S/run"
	case $SERVER in
	apache-fcgid)		apache_conf fcgid ;;
	apache-proxy-fcgi)	apache_conf proxy-fcgi ;;
	lighttpd)		lighttpd_conf ;;
	nginx)			nginx_conf ;;
	esac
	check "$(conf_is_local && echo 1)" \
	    "every site-specific line of the example was replaced" \
	    "left: $(tr '\n' ' ' <"$S/leftovers")"

	t0=$(date +%s)
	f0=$failures
	start_server
	scenario
	stop_server
	check "$( [ -z "$(fcgi_pids)" ] && echo 1)" "no credstore process left after stop"
	check "$(grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    "$S"/log/* "$S"/run/*.log "$S"/san/* 2>/dev/null || echo 1)" \
	    "no sanitizer report in the logs"
	echo "---- $SERVER: $(( $(date +%s) - t0 )) s"
	if [ "$failures" -gt "$f0" ]; then
		for f in "$S"/log/error.log "$S"/run/error.log "$S"/log/server.out \
		    "$S"/log/spawn-fcgi.log "$S"/log/curl.err; do
			[ -s "$f" ] || continue
			echo "---- $f (last 15 lines)"
			tail -15 "$f"
		done
	fi
	S=""
done

echo "deploy: $(( $(date +%s) - T0 )) s"
summary
[ "$failures" -eq 0 ]
