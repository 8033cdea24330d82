#!/bin/sh
# Replication under a network partition (SPEC section 11): three sites,
# each in its own network namespace (veth pairs on a bridge), each with
# its repl-serve and lighttpd.  The master is cut off:
#   - the cut-off side (a minority) never answers a store 201;
#   - the majority elects a master and stores go on (201);
#   - once the network is back, the old master is a replica and every
#     store answered 201 on either side is readable on every site.
#
#   top_srcdir=... top_builddir=... sh tests/repl/partition.sh
#
# Needs root (ip netns, iproute2 from scripts/deps.sh); exits 77 without,
# or when namespaces or bridges cannot be made (a restricted container).
# Prints PASS/FAIL per check and "NN%: Checks: N, Failures: F, Errors: 0".
set -u
umask 077

: "${top_srcdir:?top_srcdir must be set}" "${top_builddir:?top_builddir must be set}"
check_name=partition
. "$top_srcdir/tests/checks.sh"
LIGHTTPD=/usr/sbin/lighttpd
SRC=$(cd "$top_srcdir" && pwd) || broken "no folder $top_srcdir"
BLD=$(cd "$top_builddir" && pwd) || broken "no folder $top_builddir"
ADMIN=$BLD/credstore-admin
FCGI=$BLD/cgi-bin/credstore.fcgi
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || [ ! -x "$LIGHTTPD" ]; then
	echo "partition: SKIP: needs root, ip (iproute2) and lighttpd"
	summary
	exit 77
fi
TAG=cs$$
BR=${TAG}br
# a container without CAP_SYS_ADMIN / CAP_NET_ADMIN, or a kernel without
# bridges, cannot run this: a skip, not a failure of credstore
if ! ip netns add "${TAG}p" 2>/dev/null; then
	echo "partition: SKIP: cannot create a network namespace (ip netns add)"
	summary
	exit 77
fi
ip netns del "${TAG}p"
if ! ip link add "${TAG}pb" type bridge 2>/dev/null; then
	echo "partition: SKIP: cannot create a bridge (ip link add type bridge)"
	summary
	exit 77
fi
ip link del "${TAG}pb"
T=$(mktemp -d "${TMPDIR:-/tmp}/credstore-part-XXXXXX") || broken "mktemp"
cleanup() {
	for i in 1 2 3; do
		for f in web serve; do
			[ -f "$T/s$i/$f.pid" ] && kill -KILL "$(cat "$T/s$i/$f.pid")" 2>/dev/null
		done
		ip netns pids "$TAG$i" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$TAG$i" 2>/dev/null
		ip link del "${TAG}v$i" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
	[ -n "${KEEP_REPL:-}" ] && echo "partition: kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip link add "$BR" type bridge || broken "no bridge"
ip link set "$BR" up
for i in 1 2 3; do
	ip netns add "$TAG$i" || broken "ip netns add"
	ip link add "${TAG}v$i" type veth peer name eth0 netns "$TAG$i" ||
	    broken "veth"
	ip link set "${TAG}v$i" master "$BR" up
	ip -n "$TAG$i" addr add "10.177.0.$i/24" dev eth0
	ip -n "$TAG$i" link set eth0 up
	ip -n "$TAG$i" link set lo up
done
in_ns() { n=$1; shift; ip netns exec "$TAG$n" "$@"; }

head -c 48 /dev/urandom >"$T/repl.secret"
for i in 1 2 3; do
	S=$T/s$i
	mkdir -p "$S/run" "$S/log"
	peers=""
	for j in 1 2 3; do
		[ "$j" = "$i" ] || peers="$peers${peers:+, }10.177.0.$j:7001"
	done
	cat >"$S/credstore.conf" <<EOF
data_dir = data
keyring = keyring
catalog = $SRC/etc/catalog.json
jwt_secret_file = jwt.secret
log_level = info
repl_self = 10.177.0.$i:7001
repl_peers = $peers
repl_forward_url = http://10.177.0.$i:8080
repl_secret_file = repl.secret
repl_ack_timeout_ms = 1000
EOF
	cp "$T/repl.secret" "$S/"
	[ "$i" -gt 1 ] && cp -p "$T/s1/keyring" "$T/s1/jwt.secret" "$S/"
	"$ADMIN" -c "$S/credstore.conf" init >"$S/log/init.out" 2>&1 ||
	    broken "init $i"
	sed -e "s|^var\.credstore_fcgi[[:space:]].*|var.credstore_fcgi = \"$FCGI\"|" \
	    -e "s|^var\.credstore_config[[:space:]].*|var.credstore_config = \"$S/credstore.conf\"|" \
	    -e "s|^var\.credstore_templates[[:space:]].*|var.credstore_templates = \"$SRC/templates\"|" \
	    -e "s|^var\.credstore_state[[:space:]].*|var.credstore_state = \"$S/run\"|" \
	    -e "s|^var\.server_bind[[:space:]].*|var.server_bind = \"10.177.0.$i\"|" \
	    -e "s|^var\.server_port[[:space:]].*|var.server_port = 8080|" \
	    -e '/^server\.username/d' -e '/^server\.groupname/d' \
	    "$SRC/etc/lighttpd.conf.example" >"$S/lighttpd.conf"
done
TOK=$("$ADMIN" -c "$T/s1/credstore.conf" token --sub alice --tenant acme \
    --role admin --ttl 3600) || broken "token"
L=/v1/integrations/sentry/credentials

for i in 1 2 3; do
	in_ns "$i" "$ADMIN" -c "$T/s$i/credstore.conf" repl-serve \
	    >>"$T/s$i/log/serve.log" 2>&1 &
	echo $! >"$T/s$i/serve.pid"
done
for i in 1 2 3; do
	in_ns "$i" "$LIGHTTPD" -D -f "$T/s$i/lighttpd.conf" \
	    >>"$T/s$i/log/web.log" 2>&1 &
	echo $! >"$T/s$i/web.pid"
done

# from inside site N's namespace (reachable whatever the partition)
get() {
	CODE=$(in_ns "$1" curl -s --max-time 5 -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $TOK" "http://10.177.0.$1:8080$2") ||
	    CODE=${CODE:-000}
}
store() {
	CODE=$(in_ns "$1" curl -s --max-time 15 -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	    --data-binary "{\"credentials\":{\"auth_token\":\"sntrys_$2\"}}" \
	    "http://10.177.0.$1:8080$L") || CODE=${CODE:-000}
	ID=$(sed -n 's/.*"credentialId" *: *"\(crd_[0-9A-Z]*\)".*/\1/p' "$T/body")
}
role() { get "$1" /healthz; sed -n 's/.*"role" *: *"\([a-z]*\)".*/\1/p' "$T/body"; }

M=""
n=0
while [ -z "$M" ] && [ $n -lt 200 ]; do
	for i in 1 2 3; do [ "$(role "$i")" = master ] && M=$i; done
	[ -z "$M" ] && sleep 0.1
	n=$((n + 1))
done
[ -n "$M" ] || broken "no master elected"
for i in 1 2 3; do
	n=0
	until get "$i" /healthz && grep -q '"master":"' "$T/body" || [ $n -gt 100 ]; do
		sleep 0.1; n=$((n + 1))
	done
done
store "$M" before
check "$( [ "$CODE" = 201 ] && echo 1)" "a store before the partition -> 201" "$CODE"
[ -n "$ID" ] && echo "$ID" >"$T/ids201"

# --- cut the master off
ip link set "${TAG}v$M" down
echo "partition: site $M (the master) cut off"
minority201=0
for k in $(seq 1 10); do
	store "$M" "minority$k"
	[ "$CODE" = 201 ] && { minority201=$((minority201 + 1)); echo "$ID" >>"$T/ids201"; }
	echo "minority store $k: $CODE" >>"$T/log"
done
check "$( [ $minority201 = 0 ] && echo 1)" \
    "the cut-off master answers no store 201" "$minority201 of 10 were 201"
O=$(( M % 3 + 1 ))
t0=$(date +%s)
ok=""
while [ $(( $(date +%s) - t0 )) -lt 20 ]; do
	store "$O" "majority"
	if [ "$CODE" = 201 ]; then ok=1; echo "$ID" >>"$T/ids201"; break; fi
	sleep 0.2
done
check "$ok" "the majority stores again (201) within 20 s" \
    "after $(( $(date +%s) - t0 )) s, last $CODE"
for k in $(seq 1 10); do
	store "$O" "majority$k"
	[ "$CODE" = 201 ] && echo "$ID" >>"$T/ids201"
done

# --- heal
ip link set "${TAG}v$M" up
echo "partition: network back"
t0=$(date +%s)
while [ $(( $(date +%s) - t0 )) -lt 30 ]; do
	[ "$(role "$M")" = replica ] && break
	sleep 0.2
done
check "$( [ "$(role "$M")" = replica ] && echo 1)" \
    "the old master is a replica once the network is back" "$(cat "$T/body")"
sleep 2
n201=$(wc -l <"$T/ids201")
for i in 1 2 3; do
	missing=0
	t0=$(date +%s)
	while read -r id; do
		while :; do
			get "$i" "$L/$id"
			[ "$CODE" = 200 ] && break
			[ $(( $(date +%s) - t0 )) -gt 15 ] && { missing=$((missing + 1)); break; }
			sleep 0.1
		done
	done <"$T/ids201"
	check "$( [ $missing = 0 ] && echo 1)" \
	    "site $i reads every one of the $n201 stores answered 201" "$missing missing"
done
summary
[ "$failures" = 0 ]
