#!/bin/sh
# Replication (SPEC section 11): three sites on this machine, each with
# its own data folder, its own repl-serve and its own lighttpd (from
# etc/lighttpd.conf.example) on loopback ports, the same keyring file.
#   - one master is elected, every site agrees on it (/healthz)
#   - a store through every site is 201 (a replica forwards it) and is
#     readable from every site within 1 s
#   - a forged forwarded request is 403
#   - kill -9 of every process of the master while 8 clients store:
#     a new master is elected and stores succeed again within 10 s, every
#     201 is readable on both survivors
#   - the old master comes back as a replica and catches up
#   - rotate-key on the master: staged, refused while a replica's keyring
#     lacks the new key, then activated; replicas read every record
#     throughout
#   - repl-serve ends cleanly on SIGTERM; the master left alone answers a
#     store 503 (not acknowledged by a quorum)
#
#   top_srcdir=... top_builddir=... sh tests/repl/repl.sh
#
# Prints PASS/FAIL per check, then "NN%: Checks: N, Failures: F, Errors: 0";
# exit 0 when nothing failed, 77 when lighttpd is missing, 99 on a broken
# set-up.  KEEP_REPL=1 keeps the temporary folder.
set -u
umask 077

: "${top_srcdir:?top_srcdir must be set}" "${top_builddir:?top_builddir must be set}"
check_name=repl
. "$top_srcdir/tests/checks.sh"
LIGHTTPD=/usr/sbin/lighttpd
CLIENTS=8
STORES=504		# 63 per client


SRC=$(cd "$top_srcdir" && pwd) || broken "no folder $top_srcdir"
BLD=$(cd "$top_builddir" && pwd) || broken "no folder $top_builddir"
ADMIN=$BLD/credstore-admin
FCGI=$BLD/cgi-bin/credstore.fcgi
MOCK=$BLD/tests/mock/mockprov
for f in "$ADMIN" "$FCGI" "$MOCK"; do
	[ -x "$f" ] || broken "$f is missing (make && make tests/mock/mockprov)"
done
if [ ! -x "$LIGHTTPD" ]; then
	echo "repl: SKIP: no $LIGHTTPD (scripts/deps.sh installs it)"
	summary
	exit 77
fi
command -v curl >/dev/null || broken "no curl"

T=$(mktemp -d "${TMPDIR:-/tmp}/credstore-repl-XXXXXX") || broken "mktemp"
MOCK_PID=""
cleanup() {
	for i in 1 2 3; do
		kill_site "$i" KILL
	done
	[ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null
	if [ -n "${KEEP_REPL:-}" ]; then
		echo "repl: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Six free ports below the kernel's ephemeral range.  A port from that
# range (what binding port 0 gives) can be taken while its site is down by
# any outgoing connection on the machine, and one such connection left in
# TIME_WAIT makes the restarted repl-serve's bind fail (EADDRINUSE, exit 1)
# for a minute: that was the one-run-in-six failure of the rejoin.
free_ports() {
	perl -MIO::Socket::INET -e '
	    my $lo = 32768;
	    if (open(my $f, "<", "/proc/sys/net/ipv4/ip_local_port_range")) {
		    ($lo) = split(" ", scalar <$f>);
	    }
	    my $base = $lo > 12000 ? 10000 : 1024;
	    die "no port range below $lo\n" if $lo - $base < 1000;
	    my (%seen, @p);
	    for (1 .. 1000) {
		    last if @p == 6;
		    my $p = $base + int(rand($lo - $base));
		    next if $seen{$p}++;
		    my $s = IO::Socket::INET->new(Listen => 1,
			LocalAddr => "127.0.0.1:$p", ReuseAddr => 1) or next;
		    close($s);
		    push @p, $p;
	    }
	    die "no six free ports\n" if @p < 6;
	    print "@p\n";'
}

"$MOCK" -P "$T/mock.port" >"$T/mock.log" 2>&1 &
MOCK_PID=$!
i=0
while [ ! -s "$T/mock.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$T/mock.port" ] || broken "the mock provider did not start"
MOCK_PORT=$(cat "$T/mock.port")

PORTS=$(free_ports) || broken "no free ports"
set -- $PORTS
RP1=$1 HP1=$2 RP2=$3 HP2=$4 RP3=$5 HP3=$6
rport() { eval "echo \$RP$1"; }
hport() { eval "echo \$HP$1"; }

head -c 48 /dev/urandom >"$T/repl.secret"
for i in 1 2 3; do
	S=$T/s$i
	mkdir -p "$S/run" "$S/log"
	peers=""
	for j in 1 2 3; do
		[ "$j" = "$i" ] || peers="$peers${peers:+, }127.0.0.1:$(rport "$j")"
	done
	cat >"$S/credstore.conf" <<EOF
data_dir = data
keyring = keyring
catalog = $SRC/etc/catalog.json
jwt_secret_file = jwt.secret
probe_origin_override = http://127.0.0.1:$MOCK_PORT
probe_timeout_ms = 3000
log_level = info
repl_self = 127.0.0.1:$(rport "$i")
repl_peers = $peers
repl_forward_url = http://127.0.0.1:$(hport "$i")
repl_secret_file = repl.secret
repl_ack_timeout_ms = 2000
EOF
	cp "$T/repl.secret" "$S/repl.secret"
	if [ "$i" -gt 1 ]; then	# the same keyring and JWT secret everywhere
		cp -p "$T/s1/keyring" "$T/s1/jwt.secret" "$S/"
	fi
	"$ADMIN" -c "$S/credstore.conf" init >"$S/log/init.out" 2>&1 ||
	    broken "site $i: init failed: $(cat "$S/log/init.out")"
	sed -e "s|^var\.credstore_fcgi[[:space:]].*|var.credstore_fcgi = \"$FCGI\"|" \
	    -e "s|^var\.credstore_config[[:space:]].*|var.credstore_config = \"$S/credstore.conf\"|" \
	    -e "s|^var\.credstore_templates[[:space:]].*|var.credstore_templates = \"$SRC/templates\"|" \
	    -e "s|^var\.credstore_state[[:space:]].*|var.credstore_state = \"$S/run\"|" \
	    -e "s|^var\.server_bind[[:space:]].*|var.server_bind = \"127.0.0.1\"|" \
	    -e "s|^var\.server_port[[:space:]].*|var.server_port = $(hport "$i")|" \
	    -e '/^server\.username/d' -e '/^server\.groupname/d' \
	    "$SRC/etc/lighttpd.conf.example" >"$S/lighttpd.conf"
done
TOK=$("$ADMIN" -c "$T/s1/credstore.conf" token --sub alice --tenant acme \
    --role admin --ttl 3600) || broken "token failed"

start_serve() {
	"$ADMIN" -c "$T/s$1/credstore.conf" repl-serve \
	    >>"$T/s$1/log/serve.log" 2>&1 &
	echo $! >"$T/s$1/serve.pid"
}
start_web() {
	"$LIGHTTPD" -D -f "$T/s$1/lighttpd.conf" >>"$T/s$1/log/web.log" 2>&1 &
	echo $! >"$T/s$1/web.pid"
}
# kill_site N SIGNAL: lighttpd, its FastCGI processes and repl-serve
kill_site() {
	pids=""
	for f in web serve; do
		[ -f "$T/s$1/$f.pid" ] && pids="$pids $(cat "$T/s$1/$f.pid")"
	done
	[ -f "$T/s$1/web.pid" ] &&
	    pids="$pids $(pgrep -P "$(cat "$T/s$1/web.pid")" 2>/dev/null)"
	# shellcheck disable=SC2086
	[ -n "${pids# }" ] && kill -"$2" $pids 2>/dev/null
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -f "$T/s$1/web.pid" "$T/s$1/serve.pid"
}

# get N PATH: sets CODE, body in $T/body
get() {
	CODE=$(curl -s --max-time 5 -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $TOK" "http://127.0.0.1:$(hport "$1")$2") ||
	    CODE=${CODE:-000}
}
# store N LABEL: sets CODE and ID
store() {
	CODE=$(curl -s --max-time 20 -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	    --data-binary "{\"credentials\":{\"auth_token\":\"sntrys_$2\"},\"label\":\"$2\"}" \
	    "http://127.0.0.1:$(hport "$1")$L") || CODE=${CODE:-000}
	ID=$(sed -n 's/.*"credentialId" *: *"\(crd_[0-9A-Z]*\)".*/\1/p' "$T/body")
}
field() {	# field NAME: a string member of $T/body
	sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" "$T/body"
}
# wait_up N SECONDS: /healthz 200 with a role and a master
wait_up() {
	n=$(( $2 * 10 ))
	while [ "$n" -gt 0 ]; do
		get "$1" /healthz
		[ "$CODE" = 200 ] && [ -n "$(field master)" ] && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
L=/v1/integrations/sentry/credentials
now_ms() { date +%s%3N; }

# --- start: repl-serve first (it runs recovery), then the web server
for i in 1 2 3; do start_serve "$i"; done
for i in 1 2 3; do start_web "$i"; done
ok=1
for i in 1 2 3; do
	wait_up "$i" 20 || { ok=""; echo "site $i: $CODE $(cat "$T/body")"; }
done
check "$ok" "every site answers /healthz 200 with a master within 20 s"

masters="" master=""
for i in 1 2 3; do
	get "$i" /healthz
	eval "ROLE$i=$(field role)"
	[ "$(field role)" = master ] && masters="$masters $i"
	m=$(field master)
	[ -z "$master" ] && master=$m
	[ "$m" = "$master" ] || master=disagree
done
check "$( [ "$(echo $masters | wc -w)" = 1 ] && echo 1)" \
    "exactly one site is the master" "masters:$masters"
check "$( [ "$master" != disagree ] && echo 1)" "every site names the same master"
M=$(echo $masters | tr -d ' ')
[ -n "$M" ] || broken "no master"
check "$( [ "$master" = "127.0.0.1:$(rport "$M")" ] && echo 1)" \
    "the master is named by its repl_self" "$master"
for i in 1 2 3; do
	[ "$i" = "$M" ] && continue
	get "$i" /healthz
	check "$(grep -q '"role":"replica"' "$T/body" &&
	    grep -q '"lagBytes":[0-9]' "$T/body" && echo 1)" \
	    "site $i /healthz: role replica and lagBytes" "$(cat "$T/body")"
done
st=$("$ADMIN" -c "$T/s$M/credstore.conf" repl-status 2>&1)
check "$(echo "$st" | grep -q '"role":"master"' &&
    [ "$(echo "$st" | grep -o '"site":' | wc -l)" = 4 ] && echo 1)" \
    "repl-status on the master: its role and the three sites" "$st"

# --- a store through every site, readable from every site within 1 s
for i in 1 2 3; do
	# a replica that has not yet seen the master's announcement answers
	# 503 with Retry-After (SPEC 11): retry as a client would, 5 s at most
	t0=$(now_ms)
	while :; do
		store "$i" "site$i"
		[ "$CODE" = 503 ] && [ $(( $(now_ms) - t0 )) -lt 5000 ] || break
		sleep 0.2
	done
	echo "repl: the store through site $i: $CODE after $(( $(now_ms) - t0 )) ms"
	check "$( [ "$CODE" = 201 ] && [ -n "$ID" ] && echo 1)" \
	    "POST through site $i -> 201 (503 retried for at most 5 s)" \
	    "$CODE after $(( $(now_ms) - t0 )) ms $(head -c 200 "$T/body")"
	[ -n "$ID" ] || ID=none
	for j in 1 2 3; do
		t0=$(now_ms)
		while :; do
			get "$j" "$L/$ID"
			[ "$CODE" = 200 ] && break
			[ $(( $(now_ms) - t0 )) -gt 1000 ] && break
			sleep 0.05
		done
		check "$( [ "$CODE" = 200 ] && echo 1)" \
		    "the store through site $i is readable on site $j within 1 s" \
		    "$CODE after $(( $(now_ms) - t0 )) ms"
	done
done

# --- a replica whose repl-serve stops answers 503, and recovers
R=$(( M % 3 + 1 ))
p=$(cat "$T/s$R/serve.pid")
kill -TERM "$p"
wait "$p"
rc=$?
get "$R" /healthz
h=$CODE
get "$R" "$L"
check "$( [ $rc = 0 ] && [ "$h" = 503 ] && [ "$CODE" = 503 ] && echo 1)" \
    "site $R without repl-serve: /healthz and reads 503" "exit $rc, $h, $CODE"
start_serve "$R"
wait_up "$R" 10
h=$CODE
get "$R" "$L"
check "$( [ "$h" = 200 ] && [ "$CODE" = 200 ] && echo 1)" \
    "site $R with repl-serve started again: 200" "$h, $CODE $(head -c 200 "$T/serve.err" 2>/dev/null)"

# --- forged forwarded requests
for i in 1 2 3; do
	CODE=$(curl -s --max-time 5 -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
	    -H "X-Credstore-Forwarded: 127.0.0.1:1" \
	    -H "X-Credstore-Forward-Time: $(date +%s)" \
	    -H "X-Credstore-Forward-Client: 10.0.0.1" \
	    -H "X-Credstore-Forward-Sig: $(printf '%064d' 0)" \
	    --data-binary '{"credentials":{"auth_token":"sntrys_forged"}}' \
	    "http://127.0.0.1:$(hport "$i")$L") || CODE=000
	check "$( [ "$CODE" = 403 ] && echo 1)" \
	    "site $i: a forwarded request with a bad signature -> 403" "$CODE"
done

# --- kill -9 of the master during stores from 8 clients
client() {	# client C: STORES/CLIENTS stores over the three sites
	n=0
	while [ $n -lt $((STORES / CLIENTS)) ]; do
		s=$(( (n + $1) % 3 + 1 ))
		t=$(now_ms)
		c=$(curl -s --max-time 20 -o "$T/c$1.body" -w '%{http_code}' \
		    -H "Authorization: Bearer $TOK" \
		    -H 'Content-Type: application/json' \
		    --data-binary "{\"credentials\":{\"auth_token\":\"sntrys_c$1n$n\"}}" \
		    "http://127.0.0.1:$(hport "$s")$L") || c=${c:-000}
		id=$(sed -n 's/.*"credentialId" *: *"\(crd_[0-9A-Z]*\)".*/\1/p' \
		    "$T/c$1.body")
		echo "$(now_ms) $s $c $id $t" >>"$T/c$1.out"
		n=$((n + 1))
	done
}
cpids=""
for c in $(seq 1 $CLIENTS); do
	client "$c" &
	cpids="$cpids $!"
done
sleep 2
T_KILL=$(now_ms)
kill_site "$M" KILL
echo "repl: killed every process of site $M (the master) at $T_KILL"
# shellcheck disable=SC2086
wait $cpids
cat "$T"/c*.out | sort -n >"$T/all.out"
n201=$(awk '$3 == 201' "$T/all.out" | wc -l)
# the first 201 to a store that started after the kill
after=$(awk -v k="$T_KILL" '$5 > k && $3 == 201 { print $1 }' "$T/all.out" |
    sort -n | head -1)
echo "repl: $n201 of $STORES stores answered 201; other answers:" \
    "$(awk '$3 != 201 { print $3 }' "$T/all.out" | sort | uniq -c | tr '\n' ' ')"
echo "repl: the first 201 to a store started after the kill came" \
    "$(( ${after:-0} - T_KILL )) ms after it"
check "$( [ -n "$after" ] && [ $((after - T_KILL)) -le 10000 ] && echo 1)" \
    "stores are answered 201 again within 10 s of the kill" \
    "first 201 after $(( ${after:-0} - T_KILL )) ms"
check "$( [ "$(awk '$3 != 201 && $3 != 503 && $3 != 000' "$T/all.out" | wc -l)" = 0 ] &&
    echo 1)" "every store is 201, 503 or a refused connection"
new=""
for i in 1 2 3; do
	[ "$i" = "$M" ] && continue
	get "$i" /healthz
	[ "$(field role)" = master ] && new=$i
done
check "$new" "a surviving site is the new master"

# every 201 is readable on both survivors
awk '$3 == 201 { print $4 }' "$T/all.out" >"$T/ids"
for i in 1 2 3; do
	[ "$i" = "$M" ] && continue
	missing=0
	while read -r id; do
		get "$i" "$L/$id"
		[ "$CODE" = 200 ] || missing=$((missing + 1))
	done <"$T/ids"
	check "$( [ "$missing" = 0 ] && [ "$n201" -gt 0 ] && echo 1)" \
	    "site $i reads every one of the $n201 stores answered 201" \
	    "$missing missing"
done

# --- the old master rejoins as a replica and catches up
start_serve "$M"
start_web "$M"
wait_up "$M" 20
get "$M" /healthz
check "$( [ "$(field role)" = replica ] && echo 1)" \
    "the old master is back as a replica" "$CODE $(cat "$T/body")"
[ "$(field role)" = replica ] || tail -5 "$T/s$M/log/serve.log" "$T/s$M/log/web.log"

t0=$(now_ms)
last=$(tail -1 "$T/ids")
while :; do
	get "$M" "$L/$last"
	[ "$CODE" = 200 ] && break
	[ $(( $(now_ms) - t0 )) -gt 10000 ] && break
	sleep 0.1
done
missing=0
while read -r id; do
	get "$M" "$L/$id"
	[ "$CODE" = 200 ] || missing=$((missing + 1))
done <"$T/ids"
check "$( [ "$missing" = 0 ] && echo 1)" \
    "the old master caught up: it reads all $n201 stores" "$missing missing"
store "$M" "after"
check "$( [ "$CODE" = 201 ] && echo 1)" \
    "a store through the old master (forwarded) -> 201" "$CODE"

# --- key rotation across sites: the new key is on every site before a
# record is wrapped with it (rotate-key stages KEYRING.next, refuses while
# a site's repl-serve reports a keyring without the key, then activates)
K=$T/s$new/keyring
cp -p "$K" "$T/keyring.before"
R1="" R2=""
for i in 1 2 3; do
	[ "$i" = "$new" ] && continue
	if [ -z "$R1" ]; then R1=$i; else R2=$i; fi
done
out=$("$ADMIN" -c "$T/s$R1/credstore.conf" rotate-key 2>&1)
rc=$?
check "$( [ $rc = 1 ] && echo "$out" | grep -q 'not the master' &&
    [ ! -e "$T/s$R1/keyring.next" ] && echo 1)" \
    "rotate-key on a replica is refused" "exit $rc: $out"
out=$("$ADMIN" -c "$T/s$new/credstore.conf" rotate-key 2>&1)
rc=$?
NEWKEY=$(echo "$out" | head -1)
check "$( [ $rc = 0 ] && [ -f "$K.next" ] && cmp -s "$K" "$T/keyring.before" &&
    grep -q "^key $NEWKEY " "$K.next" && echo 1)" \
    "rotate-key on the master stages $K.next, the keyring unchanged" \
    "exit $rc: $out"
out=$("$ADMIN" -c "$T/s$new/credstore.conf" rotate-key 2>&1)
rc=$?
check "$( [ $rc = 1 ] && cmp -s "$K" "$T/keyring.before" && [ -f "$K.next" ] &&
    echo "$out" | grep -q "127.0.0.1:$(rport "$R1")" &&
    echo "$out" | grep -q "127.0.0.1:$(rport "$R2")" && echo 1)" \
    "rotate-key refuses while both replicas lack the key, naming them" \
    "exit $rc: $out"
# readers on both replicas for the whole rotation
tail -20 "$T/ids" >"$T/ids.tail"
rm -f "$T/readers.stop"
reader() {	# reader N: every id of ids.tail, again and again
	while [ ! -e "$T/readers.stop" ]; do
		while read -r id; do
			c=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
			    -H "Authorization: Bearer $TOK" \
			    "http://127.0.0.1:$(hport "$1")$L/$id") || c=${c:-000}
			echo "$c" >>"$T/reader$1.out"
		done <"$T/ids.tail"
	done
}
reader "$R1" &
rp1=$!
reader "$R2" &
rp2=$!
# as an operator must: a new file renamed over the keyring (a reader must
# never see it half-written)
cp "$K.next" "$T/s$R1/keyring.tmp" && mv "$T/s$R1/keyring.tmp" "$T/s$R1/keyring"
sleep 1	# one replica has it, the other not yet: still refused
out=$("$ADMIN" -c "$T/s$new/credstore.conf" rotate-key 2>&1)
rc=$?
check "$( [ $rc = 1 ] && cmp -s "$K" "$T/keyring.before" &&
    echo "$out" | grep -q "127.0.0.1:$(rport "$R2")" && echo 1)" \
    "rotate-key still refuses while one replica lacks the key" "exit $rc: $out"
cp "$K.next" "$T/s$R2/keyring.tmp" && mv "$T/s$R2/keyring.tmp" "$T/s$R2/keyring"
t0=$(now_ms)
while :; do	# each repl-serve reports its keys every 2 s
	out=$("$ADMIN" -c "$T/s$new/credstore.conf" rotate-key 2>&1)
	rc=$?
	echo "rotate-key: exit $rc: $out" >>"$T/rotate.log"
	[ $rc = 0 ] || [ $(( $(now_ms) - t0 )) -gt 10000 ] && break
	sleep 0.5
done
echo "repl: rotate-key activated $NEWKEY after $(( $(now_ms) - t0 )) ms: $(echo $out)"
check "$( [ $rc = 0 ] && [ ! -e "$K.next" ] &&
    [ "$(sed -n 's/^key \(k[0-9]*\) .*/\1/p' "$K" | tail -1)" = "$NEWKEY" ] &&
    echo "$out" | grep -q '^failed: 0$' &&
    [ "$(echo "$out" | sed -n 's/^rewrapped: //p')" -gt 0 ] && echo 1)" \
    "rotate-key activates the key once every replica reports it, records re-wrapped" \
    "exit $rc: $out"
sleep 1
touch "$T/readers.stop"
wait "$rp1" "$rp2"
bad=$(cat "$T/reader$R1.out" "$T/reader$R2.out" | grep -vc '^200$')
all=$(cat "$T/reader$R1.out" "$T/reader$R2.out" | wc -l)
check "$( [ "$bad" = 0 ] && [ "$all" -gt 0 ] && echo 1)" \
    "replicas read every record through the rotation" "$bad of $all reads not 200"
missing=0
for i in "$R1" "$R2"; do
	while read -r id; do
		get "$i" "$L/$id"
		[ "$CODE" = 200 ] || missing=$((missing + 1))
	done <"$T/ids"
done
while read -r id; do
	get "$new" "$L/$id"
	[ "$CODE" = 200 ] || missing=$((missing + 1))
done <"$T/ids.tail"
check "$( [ "$missing" = 0 ] && echo 1)" \
    "after the rotation both replicas read every record, the master the last 20" \
    "$missing not 200"
store "$R1" "rotated"
c1=$CODE
ok=1
for i in 1 2 3; do
	t0=$(now_ms)
	while :; do
		get "$i" "$L/$ID"
		[ "$CODE" = 200 ] || [ $(( $(now_ms) - t0 )) -gt 1000 ] && break
		sleep 0.05
	done
	[ "$CODE" = 200 ] || ok=""
done
check "$( [ "$c1" = 201 ] && [ -n "$ok" ] && echo 1)" \
    "a store sealed with the new key is readable on every site" "$c1"

# --- SIGTERM ends repl-serve cleanly; a master alone cannot get a quorum
stop_site() {	# stop_site N: TERM to lighttpd, then to repl-serve
	kill -TERM "$(cat "$T/s$1/web.pid")" 2>/dev/null
	wait "$(cat "$T/s$1/web.pid")" 2>/dev/null
	p=$(cat "$T/s$1/serve.pid")
	kill -TERM "$p"
	wait "$p"
	rc=$?
	rm -f "$T/s$1/web.pid" "$T/s$1/serve.pid"
	check "$( [ $rc = 0 ] && grep -q stopping "$T/s$1/log/serve.log" && echo 1)" \
	    "site $1: repl-serve ends with 0 on SIGTERM" "exit $rc"
}
for i in 1 2 3; do
	[ "$i" = "$new" ] || stop_site "$i"
done
store "$new" "alone"
check "$( [ "$CODE" = 503 ] && grep -q '"unavailable"' "$T/body" && echo 1)" \
    "the master alone: a store is not acknowledged by a quorum -> 503" \
    "$CODE $(head -c 200 "$T/body")"
check "$(grep -q 'was not acknowledged' "$T/s$new/log/web.log" && echo 1)" \
    "the master logs the commit that was not acknowledged"
stop_site "$new"
summary
[ "$failures" = 0 ]
