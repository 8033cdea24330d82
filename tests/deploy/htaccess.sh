#!/bin/sh
# Shared hosting with Apache and nothing but .htaccess files (issue 15):
# the server configuration grants `AllowOverride All` on a document root
# owned by an unprivileged user and says nothing else about credstore;
# everything credstore needs is in the shipped .htaccess recipes:
#   fcgid   Apache 2.4 (event MPM) + mod_fcgid   etc/htaccess.fcgid.example
#   cgi     Apache 2.4 (prefork MPM) + mod_cgi   etc/htaccess.cgi.example
# each in public_html/cgi-bin/, etc/htaccess.rewrite.example in
# public_html/credstore/ (the program's name hidden, Authorization passed
# by a rewrite as REDIRECT_HTTP_AUTHORIZATION), etc/htaccess.deny in a
# folder that must not be served.  credstore's configuration, data and
# keyring are in the user's home, outside the document root.  Apache runs
# as that user (started by it: no User switch), on a free 127.0.0.1 port,
# with its ServerRoot, pid file and logs in a temporary folder.  In each
# mode: the API, the admin page signed in (store by the form; 120
# credentials of a tenant of their own paged by the next links; one
# deleted after its confirmation page), what must not be served, and
# every credstore.fcgi process (ps, also one held in a request) running
# as that user.
#
#   top_srcdir=... top_builddir=... sh tests/deploy/htaccess.sh
#
# Needs root (to start Apache as the user) and Debian's apache2 and
# libapache2-mod-fcgid (scripts/deps.sh); skipped (77) without them.
# Environment:
#   HTACCESS_USER   the site's user (default nobody)
#   HTACCESS_MODES  the modes to test (default "fcgid cgi")
#   KEEP_HTACCESS   set: keep the temporary folder
#
# Prints PASS/FAIL per check, then one Check-style line
# "NN%: Checks: N, Failures: F, Errors: 0"; exits 0 when nothing failed,
# 77 when skipped, 99 on a broken set-up.
set -u
umask 022

: "${top_srcdir:?top_srcdir must be set}" "${top_builddir:?top_builddir must be set}"
check_name=htaccess
. "$top_srcdir/tests/checks.sh"
HT_USER=${HTACCESS_USER:-nobody}
MODES=${HTACCESS_MODES:-"fcgid cgi"}
APACHE=/usr/sbin/apache2
MODS=/usr/lib/apache2/modules
M=/cgi-bin/credstore.fcgi	# the program's mount point in cgi-bin/
R=/credstore			# the rewrite folder's mount point


expect() {	# expect WANT GOT NAME
	if [ "$1" = "$2" ]; then check 1 "$3 -> $2"; else check "" "$3" "got $2, want $1"; fi
}
has() {		# has STRING: 1 when the last body contains it
	grep -qF -- "$1" "$W/body" && echo 1
}

SRC=$(cd "$top_srcdir" 2>/dev/null && pwd) || broken "no folder $top_srcdir"
BLD=$(cd "$top_builddir" 2>/dev/null && pwd) || broken "no folder $top_builddir"
FCGI_BIN=$BLD/cgi-bin/credstore.fcgi
ADMIN=$BLD/credstore-admin
MOCK=$BLD/tests/mock/mockprov
for f in "$FCGI_BIN" "$ADMIN" "$MOCK"; do
	[ -x "$f" ] || broken "$f is missing (make && make tests/mock/mockprov)"
done
MODE=setup
check_label=$MODE
[ "$(id -u)" -eq 0 ] || skip "needs root (Apache is started as $HT_USER)"
[ -x "$APACHE" ] && [ -f "$MODS/mod_fcgid.so" ] && [ -f "$MODS/mod_cgi.so" ] ||
    skip "apache2 and libapache2-mod-fcgid are not installed (scripts/deps.sh)"
command -v setpriv >/dev/null && command -v curl >/dev/null ||
    skip "setpriv and curl are needed"
id "$HT_USER" >/dev/null 2>&1 || broken "no user $HT_USER"
HT_GROUP=$(id -gn "$HT_USER")

T=$(mktemp -d "${TMPDIR:-/tmp}/credstore-htaccess-XXXXXX") || broken "mktemp"
chmod 0755 "$T"
MOCK_PID=""
SRV_PID=""
cleanup() {
	stop_server
	[ -n "$MOCK_PID" ] && kill -TERM "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
	if [ -n "${KEEP_HTACCESS:-}" ]; then
		echo "htaccess: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# The credstore processes of this test (both copies of the program).
cs_pids() {
	find /proc -mindepth 2 -maxdepth 2 -name exe \( \
	    -lname "$DOC/cgi-bin/credstore.fcgi" -o \
	    -lname "$DOC/credstore/credstore.fcgi" \) 2>/dev/null | cut -d/ -f3
}
stop_server() {
	[ -n "$SRV_PID" ] || return 0
	kill -TERM "$SRV_PID" 2>/dev/null
	i=0
	while kill -0 "$SRV_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=""
	i=0
	while [ -n "$(cs_pids)" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	# shellcheck disable=SC2046
	[ -z "$(cs_pids)" ] || kill -KILL $(cs_pids) 2>/dev/null
	return 0
}

free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1,
	    LocalAddr => "127.0.0.1:0", ReuseAddr => 1)->sockport, "\n"'
}

# --- the site: a home with credstore's files, a document root ---------
H=$T/home			# the user's home
DOC=$H/public_html		# the document root
CS=$H/credstore			# configuration, data, keyring: not served
mkdir -p "$DOC/cgi-bin" "$DOC/credstore" "$DOC/private" "$CS" ||
    broken "mkdir"
cp -R "$SRC/templates" "$CS/templates" && cp "$SRC/etc/catalog.json" "$CS/" ||
    broken "cannot copy the templates and the catalog"
cp "$FCGI_BIN" "$DOC/cgi-bin/credstore.fcgi" &&
    cp "$FCGI_BIN" "$DOC/credstore/credstore.fcgi" || broken "cp credstore.fcgi"
cp "$SRC/etc/htaccess.deny" "$DOC/private/.htaccess" || broken "cp htaccess.deny"
echo "keyring backup: not for the web" >"$DOC/private/backup.txt"

"$MOCK" -P "$T/mock.port" >"$T/mock.log" 2>&1 &
MOCK_PID=$!
i=0
while [ ! -s "$T/mock.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/mock.port" ] || broken "the mock provider did not start"

cat >"$CS/credstore.conf" <<EOF
# generated by tests/deploy/htaccess.sh
data_dir = data
keyring = keyring
catalog = catalog.json
jwt_secret_file = jwt.secret
probe_origin_override = http://127.0.0.1:$(cat "$T/mock.port")
probe_timeout_ms = 1500
EOF
"$ADMIN" -c "$CS/credstore.conf" init >"$T/init.out" 2>&1 ||
    broken "credstore-admin init failed: $(cat "$T/init.out")"
ADMIN_TOK=$("$ADMIN" -c "$CS/credstore.conf" token --sub alice \
    --tenant acme --role admin) || broken "token failed"
for m in $MODES; do	# a tenant of its own per mode for the paging
	t=$("$ADMIN" -c "$CS/credstore.conf" token --sub pager \
	    --tenant "pages-$m" --role admin) || broken "token failed"
	eval "PAGE_TOK_$m=\$t"
done
chown -R "$HT_USER:$HT_GROUP" "$H" || broken "chown $H"

# An .htaccess recipe with its SetEnv lines pointing at $CS.
htaccess() {	# htaccess RECIPE DEST
	sed -e "s|^SetEnv CREDSTORE_CONFIG .*|SetEnv CREDSTORE_CONFIG $CS/credstore.conf|" \
	    -e "s|^SetEnv CREDSTORE_TEMPLATES .*|SetEnv CREDSTORE_TEMPLATES $CS/templates|" \
	    "$SRC/etc/htaccess.$1" >"$2" && chown "$HT_USER:$HT_GROUP" "$2"
}
htaccess rewrite.example "$DOC/credstore/.htaccess" || broken "htaccess"

# The server configuration: Apache's own files, and AllowOverride All on
# the document root; nothing about credstore.
apache_conf() {	# apache_conf fcgid|cgi
	cat <<EOF
# generated by tests/deploy/htaccess.sh
ServerRoot "$A"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$A/run/apache2.pid"
DefaultRuntimeDir "$A/run"
Mutex file:$A/run default
ErrorLog "$A/log/error.log"
LogLevel warn
TypesConfig /etc/mime.types
EOF
	if [ "$1" = fcgid ]; then
		cat <<EOF
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule fcgid_module $MODS/mod_fcgid.so
FcgidIPCDir "$A/run/fcgid"
FcgidProcessTableFile "$A/run/fcgid_shm"
EOF
	else
		cat <<EOF
LoadModule mpm_prefork_module $MODS/mod_mpm_prefork.so
LoadModule cgi_module $MODS/mod_cgi.so
EOF
	fi
	cat <<EOF
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule mime_module $MODS/mod_mime.so
LoadModule env_module $MODS/mod_env.so
LoadModule rewrite_module $MODS/mod_rewrite.so
DocumentRoot "$DOC"
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory "$DOC">
	AllowOverride All
	Require all granted
</Directory>
<FilesMatch "^\.ht">
	Require all denied
</FilesMatch>
EOF
}

# req METHOD PATH TOKEN [CURL-ARGS...]: CODE, $W/body, $W/headers
req() {
	m=$1 u=$2 t=$3
	shift 3
	[ -n "$t" ] && set -- -H "Authorization: Bearer $t" "$@"
	: >"$W/body"
	: >"$W/headers"
	CODE=$(curl -sS --max-time 30 -o "$W/body" -D "$W/headers" \
	    -w '%{http_code}' -X "$m" "$@" "http://127.0.0.1:$PORT$u" \
	    2>>"$A/log/curl.err") || CODE=${CODE:-000}
}
header() {	# header NAME: the value of the last response's header
	tr -d '\r' <"$W/headers" | sed -n "s/^$1: *//Ip" | tail -1
}
field() {	# field NAME: the value="" of a hidden input of the last page
	sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" "$W/body" | head -1
}

# --- the API under a mount point ---------------------------------------
api() {	# api MOUNT
	L=$1/v1/integrations/sentry/credentials
	req GET "$1/healthz" ""
	expect 200 "$CODE" "GET $1/healthz"
	check "$(has '{"status":"ok"}')" "$1/healthz is credstore's"
	req POST "$L" "$ADMIN_TOK" -H 'Content-Type: application/json' \
	    --data-binary '{"credentials":{"auth_token":"sntrys_htaccess"}}'
	expect 201 "$CODE" "POST $L with a Bearer token"
	ID=$(sed -n 's/.*"credentialId" *: *"\(crd_[0-9A-Z]*\)".*/\1/p' "$W/body")
	check "$ID" "the 201 has a credentialId" "$(head -c 200 "$W/body")"
	loc=$(header Location)
	check "$( [ "$loc" = "$L/$ID" ] && echo 1)" \
	    "the Location carries the mount point" "Location: $loc"
	req GET "$L" "$ADMIN_TOK"
	expect 200 "$CODE" "GET $L"
	check "$(has "\"$ID\"")" "the list has the new id"
}

# --- the admin page under the mount point, signed in, store by form ----
admin() {	# admin MOUNT
	J=$W/jar
	rm -f "$J"
	req GET "$1/admin/login" "" -c "$J" -b "$J"
	expect 200 "$CODE" "GET $1/admin/login"
	check "$(has "action=\"$1/admin/login\"")" "the sign-in form posts below $1"
	sc=$(header Set-Cookie)
	case $sc in
	*"; Path=$1;"*) ok=1 ;;
	*) ok="" ;;
	esac
	check "$ok" "the sign-in cookie's Path is $1" "$sc"
	cs=$(field csrf_token)
	req POST "$1/admin/login" "" -c "$J" -b "$J" \
	    --data-urlencode "csrf_token=$cs" --data-urlencode "access_token=$ADMIN_TOK"
	expect 303 "$CODE" "sign in"
	check "$( [ "$(header Location)" = "$1/admin/" ] && echo 1)" \
	    "sign-in sends to $1/admin/" "Location: $(header Location)"
	req GET "$1/admin/" "" -c "$J" -b "$J"
	expect 200 "$CODE" "GET $1/admin/ signed in"
	check "$(has "href=\"$1/admin/integrations/sentry\"")" "links below $1"
	req GET "$1/admin/integrations/sentry" "" -c "$J" -b "$J"
	expect 200 "$CODE" "GET the sentry form"
	cs=$(field csrf_token)
	req POST "$1/v1/integrations/sentry/credentials" "" -c "$J" -b "$J" \
	    -H 'Accept: text/html' --data-urlencode "csrf_token=$cs" \
	    --data-urlencode "credentials[auth_token]=sntrys_form" \
	    --data-urlencode "label=from the form"
	expect 303 "$CODE" "store through the form"
	loc=$(header Location)
	case $loc in
	"$1/admin/integrations/sentry/credentials/crd_"*) ok=1 ;;
	*) ok="" ;;
	esac
	check "$ok" "the form's answer sends below $1" "Location: $loc"
	req GET "$loc" "" -c "$J" -b "$J"
	expect 200 "$CODE" "GET the stored credential's page"
	check "$(has 'from the form')" "the page shows the label"
}

# --- the admin page: 120 credentials paged, one deleted after a confirm ---
signin() {	# signin MOUNT TOKEN: the cookie jar $W/jar signed in
	rm -f "$W/jar"
	req GET "$1/admin/login" "" -c "$W/jar" -b "$W/jar"
	expect 200 "$CODE" "GET $1/admin/login (its cs_login cookie and form token)"
	check "$(grep -q 'cs_login' "$W/jar" && echo 1)" "the jar holds cs_login"
	req POST "$1/admin/login" "" -c "$W/jar" -b "$W/jar" \
	    --data-urlencode "csrf_token=$(field csrf_token)" \
	    --data-urlencode "access_token=$2"
	expect 303 "$CODE" "sign in with the JWT"
}
# The users of the credstore processes of this test that ps sees, sampled
# while the background job $1 runs, one name a line into $W/users.
sample_users() {
	: >"$W/users"
	while kill -0 "$1" 2>/dev/null; do
		p=$(cs_pids | tr '\n' ',')
		[ -n "$p" ] && ps -o user= -p "${p%,}" >>"$W/users" 2>/dev/null
		sleep 0.01
	done
}
pages() {	# pages MOUNT TOKEN
	L=$1/v1/integrations/sentry/credentials
	# 119 through the API, two at a time, the processes' users sampled
	seq 1 119 | xargs -P 2 -I{} curl -sS -o /dev/null -w '%{http_code}\n' \
	    --max-time 30 -H "Authorization: Bearer $2" \
	    -H 'Content-Type: application/json' \
	    --data-binary '{"credentials":{"auth_token":"sntrys_page{}"},"label":"page {}"}' \
	    "http://127.0.0.1:$PORT$L" >"$W/codes" 2>>"$A/log/curl.err" &
	bg=$!
	sample_users "$bg"
	wait "$bg"
	# and a store held open for 2 s, its body not all sent: the CGI
	# process is started before Apache has read the body and, the token
	# accepted, waits for the rest, so one is there to be seen
	mv "$W/users" "$W/users.burst"
	perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(PeerAddr =>
	    "127.0.0.1:$ARGV[0]") or die; print $s "POST $ARGV[1] HTTP/1.1\r\n" .
	    "Host: 127.0.0.1\r\nAuthorization: Bearer $ARGV[2]\r\n" .
	    "Content-Type: application/json\r\n" .
	    "Content-Length: 64\r\nConnection: close\r\n\r\n{\"cred"; sleep 2' \
	    "$PORT" "$L" "$2" 2>>"$A/log/curl.err" &
	bg=$!
	sample_users "$bg"
	wait "$bg"
	held=$(wc -l <"$W/users")
	cat "$W/users.burst" >>"$W/users"
	expect 119 "$(grep -c '^201$' "$W/codes")" "stores answered 201 of 119 through the API"
	users=$(sort -u "$W/users" | tr '\n' ' ')
	check "$( [ "$users" = "$HT_USER " ] && echo 1)" \
	    "ps -o user=: every credstore.fcgi process seen (stores, held one) runs as $HT_USER" \
	    "users: $users"
	check "$( [ "$held" -gt 0 ] && echo 1)" \
	    "a credstore.fcgi process was seen while a request was held open" \
	    "$held samples then, $(wc -l <"$W/users.burst") during the stores"
	signin "$1" "$2"
	# the 120th through the provider form
	req GET "$1/admin/integrations/sentry" "" -c "$W/jar" -b "$W/jar"
	expect 200 "$CODE" "GET the sentry form (paged tenant)"
	req POST "$L" "" -c "$W/jar" -b "$W/jar" -H 'Accept: text/html' \
	    --data-urlencode "csrf_token=$(field csrf_token)" \
	    --data-urlencode "credentials[auth_token]=sntrys_page120" \
	    --data-urlencode "label=page 120"
	expect 303 "$CODE" "the 120th stored through the form"
	# page 1, 2, 3 by the links
	u=$1/admin/
	for want in '1–50' '51–100' '101–120'; do
		req GET "$u" "" -c "$W/jar" -b "$W/jar"
		expect 200 "$CODE" "GET $u"
		check "$(has "Showing $want of 120")" "$u says Showing $want of 120" \
		    "$(grep -o 'Showing[^<]*' "$W/body")"
		n=$(grep -c '<article class="cred">' "$W/body")
		case $want in 101*) w=20 ;; *) w=50 ;; esac
		expect "$w" "$n" "credentials on $u"
		next=$(sed -n 's/.*rel="next" href="\([^"]*\)".*/\1/p' "$W/body")
		[ "$want" = '101–120' ] && break
		p=$(( ${want%%–*} / 50 + 2 ))
		expect "$1/admin/?page=$p" "$next" "the next link carries $1"
		u=$next
	done
	check "$( [ -z "$next" ] && echo 1)" "the last page has no next link" "$next"
	check "$(has "rel=\"prev\" href=\"$1/admin/?page=2\"")" "the last page links back to page 2"
	# delete one from the last page after its confirmation page
	del=$(sed -n 's/.*class="button danger" href="\([^"]*\/delete\)".*/\1/p' \
	    "$W/body" | head -1)
	DID=${del%/delete}
	DID=${DID##*/}
	case $del in
	"$1/admin/integrations/sentry/credentials/crd_"*/delete) ok=1 ;;
	*) ok="" ;;
	esac
	check "$ok" "the Delete… link carries $1" "$del"
	req GET "$del" "" -c "$W/jar" -b "$W/jar"
	expect 200 "$CODE" "GET the confirmation page"
	check "$(has "<code id=\"credential-id\">$DID</code>")" "it names $DID"
	check "$(has "action=\"$del\"")" "its form posts to $del"
	cs=$(field csrf_token)
	req POST "$del" "" -c "$W/jar" -b "$W/jar"
	expect 403 "$CODE" "the delete without the form's CSRF token"
	req GET "$L/$DID" "$2"
	expect 200 "$CODE" "GET $DID through the API after the refused delete"
	req POST "$del" "" -c "$W/jar" -b "$W/jar" --data-urlencode "csrf_token=$cs"
	expect 303 "$CODE" "the confirmed delete"
	expect "$1/admin/?done=deleted" "$(header Location)" "the delete's Location"
	req GET "$1/admin/?done=deleted" "" -c "$W/jar" -b "$W/jar"
	check "$(has 'The credential was deleted.')" "the index says it was deleted"
	check "$(has 'Showing 1–50 of 119')" "the index counts 119" \
	    "$(grep -o 'Showing[^<]*' "$W/body")"
	req GET "$L/$DID" "$2"
	expect 404 "$CODE" "GET $DID through the API after the delete"
}

# --- what must not be served --------------------------------------------
hidden() {
	req GET /private/backup.txt ""
	expect 403 "$CODE" "GET /private/backup.txt (htaccess.deny)"
	check "$(has 'keyring backup' || echo 1)" "the denied file's bytes stay home"
	req GET /private/ ""
	expect 403 "$CODE" "GET /private/"
	for p in /../credstore/keyring /../credstore/credstore.conf \
	    /cgi-bin/../../credstore/data/; do
		req GET "$p" "" --path-as-is
		check "$( [ "$CODE" != 200 ] && echo 1)" \
		    "GET $p is not served" "got $CODE"
	done
	req GET /cgi-bin/.htaccess ""
	expect 403 "$CODE" "GET /cgi-bin/.htaccess"
	# the program runs; its bytes are never sent
	req GET "$M" ""
	expect 404 "$CODE" "GET $M (no path below it)"
	check "$(has '"not_found"')" "$M alone is credstore's 404, not the program's bytes"
}

# --- the Authorization header through a rewrite ------------------------
rewrite() {
	api "$R"
	# direct to the program: the rewrite is skipped, and this folder has
	# no CGIPassAuth, so nothing carries the token: the 401 says why
	req GET "$R/credstore.fcgi/v1/integrations/sentry/credentials" "$ADMIN_TOK"
	expect 401 "$CODE" "the program's own URL in $R/ (no CGIPassAuth there)"
	check "$(has 'No Authorization header reached credstore; with Apache set CGIPassAuth On')" \
	    "the 401 names CGIPassAuth" "$(head -c 200 "$W/body")"
	check "$(has '"code":"unauthorized"')" "the 401 keeps the error shape"
	check "$( [ "$(header WWW-Authenticate)" = 'Bearer realm="credstore"' ] && echo 1)" \
	    "WWW-Authenticate without error= (no token reached)"
}

# --- a recipe whose module is missing fails loudly -----------------------
loud() {	# loud RECIPE MESSAGE
	cp "$DOC/cgi-bin/.htaccess" "$W/htaccess.saved"
	htaccess "$1" "$DOC/cgi-bin/.htaccess"
	req GET "$M/healthz" ""
	expect 403 "$CODE" "$1 on a server without its module"
	check "$(has "$2")" "the 403 says why" "$(head -c 200 "$W/body")"
	check "$(grep -q 'ELF' "$W/body" || echo 1)" "the program's bytes are not sent"
	cp "$W/htaccess.saved" "$DOC/cgi-bin/.htaccess"
}

for MODE in $MODES; do
	check_label=$MODE
	A=$T/apache-$MODE
	W=$A/work
	PORT=$(free_port)
	mkdir -p "$A/run" "$A/log" "$W"
	case $MODE in
	fcgid)	recipe=fcgid.example other=cgi.example
		msg="neither mod_cgi nor mod_cgid is loaded" ;;
	cgi)	recipe=cgi.example other=fcgid.example
		msg="mod_fcgid is not loaded on this server" ;;
	*)	broken "unknown mode $MODE" ;;
	esac
	apache_conf "$MODE" >"$A/server.conf"
	htaccess "$recipe" "$DOC/cgi-bin/.htaccess" || broken "htaccess $recipe"
	chown -R "$HT_USER:$HT_GROUP" "$A"

	setpriv --reuid="$HT_USER" --regid="$HT_GROUP" --clear-groups \
	    "$APACHE" -d "$A" -f "$A/server.conf" -t >"$A/log/configtest" 2>&1
	rc=$?
	check "$( [ $rc -eq 0 ] && echo 1)" "apache2 -t as $HT_USER" \
	    "$(tr '\n' ' ' <"$A/log/configtest")"
	setpriv --reuid="$HT_USER" --regid="$HT_GROUP" --clear-groups \
	    "$APACHE" -d "$A" -f "$A/server.conf" -DFOREGROUND \
	    >>"$A/log/server.out" 2>&1 &
	SRV_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		req GET "$M/healthz" ""
		[ "$CODE" = 200 ] && break
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	f0=$failures
	api "$M"
	req GET "$M/v1/integrations/sentry/credentials" ""
	expect 401 "$CODE" "GET the list without a token"
	check "$(has 'with Apache set CGIPassAuth On')" \
	    "the 401 under Apache names CGIPassAuth" "$(head -c 200 "$W/body")"
	admin "$M"
	eval "pages \"\$M\" \"\$PAGE_TOK_$MODE\""
	rewrite
	hidden
	loud "$other" "$msg"

	# everything runs as the site's user and writes as it
	owners=$(for p in $SRV_PID $(cs_pids); do stat -c %U "/proc/$p"; done |
	    sort -u | tr '\n' ' ')
	check "$( [ "$owners" = "$HT_USER " ] && echo 1)" \
	    "Apache and credstore run as $HT_USER" "owners: $owners"
	if [ "$MODE" = fcgid ]; then
		check "$( [ -n "$(cs_pids)" ] && echo 1)" \
		    "mod_fcgid keeps credstore processes running"
	fi
	other_owned=$(find "$CS" ! -user "$HT_USER" | head -3)
	check "$( [ -z "$other_owned" ] && echo 1)" \
	    "every file credstore wrote belongs to $HT_USER" "$other_owned"
	stop_server
	check "$( [ -z "$(cs_pids)" ] && echo 1)" "no credstore process left after stop"
	check "$(grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    "$A"/log/* 2>/dev/null || echo 1)" "no sanitizer report in the logs"
	if [ "$failures" -gt "$f0" ]; then
		for f in "$A/log/error.log" "$A/log/server.out" "$A/log/curl.err"; do
			[ -s "$f" ] || continue
			echo "---- $f (last 15 lines)"
			tail -15 "$f"
		done
	fi
done

summary
[ "$failures" -eq 0 ]
