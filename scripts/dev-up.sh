#!/bin/sh
# The README's first command: installs what is missing, builds, and starts
# credstore behind lighttpd on http://127.0.0.1:8080 with a local data
# directory (./run), a fresh keyring and the bundled catalog; prints an
# admin token and a curl example.  Run it again to restart; the state in
# ./run is kept (use --fresh to start over with a new keyring and data).
# It installs only what building and running need (scripts/deps.sh --run)
# and touches no service but the lighttpd it starts itself.
# Environment: CREDSTORE_PORT (default 8080), CREDSTORE_RUN (default ./run).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
port=${CREDSTORE_PORT:-8080}
run=${CREDSTORE_RUN:-"$top/run"}

sh scripts/deps.sh --run

if [ ! -x build/cgi-bin/credstore.fcgi ] || [ ! -x build/credstore-admin ] ||
    [ -n "$(find src cgi-bin configure.ac Makefile.am -newer build/credstore-admin 2>/dev/null | head -1)" ]; then
	echo "== building"
	autoreconf -fi >/dev/null 2>&1
	mkdir -p build
	(cd build && "$top/configure" >/dev/null && make -j"$(nproc)" >/dev/null)
fi

# stop a previous instance
if [ -f "$run/lighttpd/lighttpd.pid" ]; then
	kill "$(cat "$run/lighttpd/lighttpd.pid")" 2>/dev/null || true
	sleep 1
fi
if [ "${1:-}" = "--fresh" ]; then
	rm -rf "$run"
fi
mkdir -p "$run/lighttpd"
chmod 700 "$run"

if [ ! -f "$run/credstore.conf" ]; then
	cat > "$run/credstore.conf" <<CONF
# credstore development configuration (see README, Configuration)
data_dir = data
keyring = keyring
catalog = $top/etc/catalog.json
jwt_secret_file = jwt.secret
probe_timeout_ms = 5000
durability = sync
log_level = info
CONF
fi
build/credstore-admin -c "$run/credstore.conf" init >/dev/null

sed -e "s|^var.credstore_fcgi .*|var.credstore_fcgi   = \"$top/build/cgi-bin/credstore.fcgi\"|" \
    -e "s|^var.credstore_config .*|var.credstore_config = \"$run/credstore.conf\"|" \
    -e "s|^var.credstore_templates .*|var.credstore_templates = \"$top/templates\"|" \
    -e "s|^var.credstore_state .*|var.credstore_state  = \"$run/lighttpd\"|" \
    -e "s|^var.server_port .*|var.server_port      = $port|" \
    -e '/^server\.username/d' -e '/^server\.groupname/d' \
    etc/lighttpd.conf.example > "$run/lighttpd.conf"
# (a development instance: lighttpd and credstore run as the user who ran
# this, with ./run theirs; a deployment sets server.username, see README)

if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
	echo "dev-up: port $port is already in use; set CREDSTORE_PORT" >&2
	exit 1
fi
/usr/sbin/lighttpd -f "$run/lighttpd.conf"

i=0
until curl -sf -o /dev/null "http://127.0.0.1:$port/healthz"; do
	i=$((i + 1))
	if [ $i -gt 50 ]; then
		echo "dev-up: credstore did not become healthy; see $run/lighttpd/error.log" >&2
		tail -5 "$run/lighttpd/error.log" >&2 || true
		exit 1
	fi
	sleep 0.2
done

token=$(build/credstore-admin -c "$run/credstore.conf" token --sub admin \
    --tenant demo --role admin --ttl 86400)

cat <<MSG

credstore is running on http://127.0.0.1:$port (lighttpd, 2 FastCGI processes)
  config:    $run/credstore.conf
  data:      $run/data
  logs:      $run/lighttpd/error.log
  stop:      kill \$(cat $run/lighttpd/lighttpd.pid)

Admin token (tenant "demo", valid 24 h):

$token

Store Datadog credentials:

curl -sS -X POST http://127.0.0.1:$port/v1/integrations/datadog/credentials \\
  -H "Authorization: Bearer $token" \\
  -H "Content-Type: application/json" \\
  -d '{"credentials": {"api_key": "YOUR_API_KEY", "application_key": "YOUR_APP_KEY"}, "label": "Production"}'

List them:

curl -sS http://127.0.0.1:$port/v1/integrations/datadog/credentials -H "Authorization: Bearer $token"

Admin page: http://127.0.0.1:$port/admin/ (sign in with the token above)

MSG
