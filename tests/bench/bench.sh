#!/bin/sh
# credstore benchmark (issue #6): puts each endpoint next to the ceiling
# of its stack, measured side by side in one run.
#
#   empty-fcgi          an empty libfcgi responder behind the same lighttpd
#   empty-close         the same, closing each socket at once as
#                       credstore.fcgi does (shown beside empty-fcgi)
#   healthz, list10     GET endpoints                      / empty-fcgi
#   store-sync          store with provider check, sync    / bdb-4proc,
#                                                          bdb-store-4proc
#   store-sync-repl     the same on the master of three replicated sites
#                       (quorum acks, all on this machine) / store-sync
#   store-write-nosync  the same, write_nosync             / empty-fcgi
#   store-nocheck       store, no check, write_nosync      / empty-fcgi
#   cgi-min, cgi-store  plain CGI under mod_cgi            / cgi-linked,
#                                                          cgi-min
#   cgi-linked          cgi_min.c linked with credstore.fcgi's libraries
#   cgi-healthz         GET /healthz under mod_cgi           / cgi-linked
#   bdb-1proc, -4proc   raw Berkeley DB commit loop (credstore's flags)
#   bdb-store-4proc     raw transactions doing a store's writes (bdb_store.c)
#   relay               lighttpd mod_proxy in front of the mock provider
#   proxy-get           GET through credstore's proxy route    / relay
#
# Prints a table and writes bench-results.json in the current folder.
# Environment: BENCH_SECONDS (10), BENCH_PROCS (2 FastCGI processes),
# BENCH_FCGI_THREADS (fcgi_threads: 14 / BENCH_PROCS),
# BENCH_LONG (100000 requests of the flat-RSS run), BENCH_IDEMPOTENCY (1:
# each POST carries a unique Idempotency-Key), BENCH_WARMUP (3 s,
# at most BENCH_SECONDS), BENCH_THREADS (2 wrk threads),
# BENCH_CONNECTIONS ("16 64"), BENCH_TURNS (3: turns of the rows read
# against cgi-linked, of store-sync with bdb-4proc, and of healthz and
# list10 with empty-fcgi), BENCH_TIMEOUT
# (30 s), BENCH_CGI_RUNS (200 runs of each program in the CGI start-up
# figures), BENCH_LOG_LEVEL (info), BENCH_BUILD (./bench-build),
# BENCH_KEEP=1 keeps the state folder, BENCH_STRACE=1 counts each row's
# system calls per request
# (bench-syscalls.txt; use with BENCH_PROCS=1).  Only 127.0.0.1 is used.  See tests/bench/README.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
srcdir=$(cd "$srcdir" && pwd)
outdir=$(pwd)
SECS=${BENCH_SECONDS:-10}
PROCS=${BENCH_PROCS:-2}
# Threads per FastCGI process: by default as many as let every thread of
# every process run a provider check for the bench's one tenant at once
# (tenant_checks_in_flight is at most 14); more would measure the
# tenant limit's 429s at 64 connections instead of the stores.
FTHREADS=${BENCH_FCGI_THREADS:-$(( PROCS >= 14 ? 1 : 14 / PROCS ))}
LONG=${BENCH_LONG:-100000}
# runs of each program in the CGI start-up figures (cgi_cost)
CGI_RUNS=${BENCH_CGI_RUNS:-200}
case $CGI_RUNS in
''|*[!0-9]*) CGI_RUNS=0 ;;
esac
if [ "$CGI_RUNS" -lt 1 ] || [ "$CGI_RUNS" -gt 100000 ]; then
	echo "bench: BENCH_CGI_RUNS must be a whole number from 1 to 100000" >&2
	exit 2
fi
# BENCH_ONLY: a subset of the groups fcgi sync repl bdb bdbstore nosync proxy
# cgi (default all)
ONLY=${BENCH_ONLY:-}
want() {
	[ -z "$ONLY" ] && return 0
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}
WARM=${BENCH_WARMUP:-3}
[ -n "${BENCH_WARMUP:-}" ] || [ "$SECS" -ge "$WARM" ] || WARM=$SECS
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNECTIONS:-16 64}
LOGLEVEL=${BENCH_LOG_LEVEL:-info}
TIMEOUT=${BENCH_TIMEOUT:-30}
build=${BENCH_BUILD:-$outdir/bench-build}
LIGHTTPD=${LIGHTTPD:-/usr/sbin/lighttpd}
t_start=$(date +%s)
[ "${BENCH_STRACE:-0}" = 1 ] && : >"$outdir/bench-syscalls.txt"

state=""
lighttpd_pid=""
lighttpd_kids=""
ceil_pid=""	# the empty responder's lighttpd, beside credstore's (turns)
mock_pid=""
bdb_pid=""
bdb4_done=0

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

# --- cleanup: every process this script started, by pid -------------------
stop_pid() {	# pid: TERM, then KILL after 5 s
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# stop_web PID KIDS: a lighttpd, then its FastCGI children (lighttpd
# stops them itself; make sure of it)
stop_web() {
	stop_pid "$1"
	for p in $2; do
		if kill -0 "$p" 2>/dev/null; then
			kill "$p" 2>/dev/null
			sleep 0.2
			kill -9 "$p" 2>/dev/null || true
		fi
	done
}

stop_lighttpd() {
	[ -n "$lighttpd_pid" ] || return 0
	stop_web "$lighttpd_pid" "$lighttpd_kids"
	lighttpd_pid=""
	lighttpd_kids=""
}

# keep_ceiling: the lighttpd just started (the empty responder) stays up
# beside the next one, as ceil_pid and ceil_base, for rows in turns.
keep_ceiling() {
	ceil_pid=$lighttpd_pid ceil_kids=$lighttpd_kids ceil_base=$base
	lighttpd_pid="" lighttpd_kids=""
}
stop_ceiling() {
	[ -n "$ceil_pid" ] || return 0
	stop_web "$ceil_pid" "$ceil_kids"
	ceil_pid="" ceil_kids=""
}

# the replicated sites: their lighttpd first, then their repl-serve
repl_web="" repl_serve=""
stop_repl() {
	for p in $repl_web; do stop_pid "$p"; done
	for p in $repl_serve; do stop_pid "$p"; done
	repl_web="" repl_serve=""
}

cleanup() {
	trap - EXIT INT TERM
	stop_lighttpd
	stop_ceiling
	stop_repl
	# CGI programs lighttpd left running when it stopped
	if [ -n "$state" ] && [ -d "$state/www-cgi" ]; then
		for p in $(cgi_procs); do
			kill "$p" 2>/dev/null
		done
		sleep 0.2
		for p in $(cgi_procs); do
			kill -9 "$p" 2>/dev/null
		done
	fi
	[ -n "$bdb_pid" ] && stop_pid "$bdb_pid"
	[ -n "$mock_pid" ] && stop_pid "$mock_pid"
	if [ -n "$state" ] && [ -d "$state" ]; then
		if [ "${BENCH_KEEP:-0}" = 1 ]; then
			say "kept $state"
		else
			rm -rf "$state"
		fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -------------------------------------------------------------------
if [ "$(id -u)" -eq 0 ] && [ -f "$srcdir/scripts/deps.sh" ] &&
    command -v dpkg-query >/dev/null 2>&1; then
	sh "$srcdir/scripts/deps.sh" || die "installing the build dependencies failed"
fi
if ! command -v wrk >/dev/null 2>&1; then
	[ "$(id -u)" -eq 0 ] || die "wrk is missing; run as root or install wrk"
	say "installing wrk"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends wrk >/dev/null ||
	    die "apt-get install wrk failed"
fi
for t in wrk curl awk "$LIGHTTPD"; do
	command -v "$t" >/dev/null 2>&1 || die "$t is missing"
done
[ -f /usr/lib/lighttpd/mod_cgi.so ] || say "warning: mod_cgi.so not found"

# --- build: an out-of-tree build of its own, unless the source tree is
# configured in place (configure then refuses to build elsewhere) --------
if [ -f "$srcdir/config.status" ]; then
	say "the source tree is configured in place; using its build"
	build=$srcdir
else
	if [ ! -x "$srcdir/configure" ]; then
		say "autoreconf -fi"
		(cd "$srcdir" && autoreconf -fi >/dev/null 2>&1) ||
		    die "autoreconf failed"
	fi
	mkdir -p "$build" || die "cannot create $build"
	if [ ! -f "$build/Makefile" ]; then
		say "configuring in $build"
		(cd "$build" && "$srcdir/configure" -q >/dev/null) ||
		    die "configure failed (see $build/config.log)"
	fi
fi
build=$(cd "$build" && pwd)
say "building in $build"
make -C "$build" -s -j"$(nproc)" all tests/mock/mockprov >"$build/bench-make.log" 2>&1 ||
    { tail -20 "$build/bench-make.log" >&2; die "make failed"; }
grep -q '^SAN_CFLAGS = .*fsanitize' "$build/Makefile" &&
    say "warning: $build is a sanitizer build; figures are meaningless"

CC=$(sed -n 's/^CC = //p' "$build/Makefile")
DB_LIBS=$(sed -n 's/^DB_LIBS = //p' "$build/Makefile")
FCGI_LIBS=$(sed -n 's/^FCGI_LIBS = //p' "$build/Makefile")
BCFLAGS="-std=c11 -O2 -g -Wall -Wextra"
mkdir -p "$build/tests/bench"
for p in empty_fcgi:"$FCGI_LIBS" cgi_min: cgi_cost: bdb_commit:"$DB_LIBS" \
    bdb_store:"$DB_LIBS"; do
	name=${p%%:*}
	libs=${p#*:}
	bin=$build/tests/bench/$name
	if [ ! -x "$bin" ] || [ "$here/$name.c" -nt "$bin" ]; then
		# shellcheck disable=SC2086
		${CC:-cc} $BCFLAGS -o "$bin" "$here/$name.c" $libs ||
		    die "cannot build $name"
	fi
done
FCGI_BIN=$build/cgi-bin/credstore.fcgi
ADMIN=$build/credstore-admin

# cgi-linked: cgi_min.c linked with exactly the shared libraries
# credstore.fcgi needs at start (its NEEDED entries: libcurl is dlopen'd at
# first use, so it is not among them), with the build's compiler and link
# flags, and --no-as-needed so that the linker keeps the libraries
# cgi_min.c does not call.  Rebuilt every run: the list follows the build.
needed=$(readelf -d "$FCGI_BIN" 2>/dev/null |
    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || needed=$(objdump -p "$FCGI_BIN" 2>/dev/null |
    awk '$1 == "NEEDED" { print $2 }')
[ -n "$needed" ] || die "cannot read the NEEDED entries of $FCGI_BIN (readelf)"
linked_libs=""
for l in $needed; do
	case $l in
	libc.so.*|ld-linux*) ;;	# the C library: linked anyway
	*) linked_libs="$linked_libs -l:$l" ;;
	esac
done
mk_var() { sed -n "s/^$1 = //p" "$build/Makefile"; }
link_flags="$(mk_var CFLAGS) $(mk_var SAN_CFLAGS) $(mk_var SAN_LDFLAGS) $(mk_var LDFLAGS)"
link_libs="$linked_libs $(mk_var LIBS)"
# shellcheck disable=SC2086
${CC:-cc} -std=c11 $link_flags -o "$build/tests/bench/cgi_linked" \
    "$here/cgi_min.c" -Wl,--no-as-needed $link_libs ||
    die "cannot build cgi_linked"
MOCK=$build/tests/mock/mockprov
EMPTY=$build/tests/bench/empty_fcgi
EMPTY_CLOSE=$build/tests/bench/empty_fcgi_close
ln -sf empty_fcgi "$EMPTY_CLOSE" || die "cannot link $EMPTY_CLOSE"
CGIMIN=$build/tests/bench/cgi_min
CGILINKED=$build/tests/bench/cgi_linked
CGICOST=$build/tests/bench/cgi_cost
BDB=$build/tests/bench/bdb_commit
BDBSTORE=$build/tests/bench/bdb_store
LUA=$here/post.lua

nproc_=$(nproc)
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
[ -n "$model" ] || model=$(uname -m)
machine="$nproc_ cores, $model, $(uname -sr)"
machine=$(printf '%s' "$machine" | tr -d '"\\')
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
# CPU pressure (PSI): the share of the last minute in which some runnable
# task waited for a CPU; "-" where the kernel does not report it
cpu_psi() {
	sed -n 's/^some .*avg60=\([0-9.]*\).*/\1%/p' /proc/pressure/cpu 2>/dev/null |
	    grep . || echo -
}
psi0=$(cpu_psi)
echo "machine: $machine (load average at start: $loadavg, CPU pressure $psi0)"
echo "settings: ${SECS}s per run, warm-up ${WARM}s, $PROCS FastCGI processes," \
    "fcgi_threads $FTHREADS, wrk $THREADS threads, connections: $CONNS," \
    "long run $LONG requests," \
    "log_level $LOGLEVEL$([ "${BENCH_IDEMPOTENCY:-0}" = 1 ] &&
    echo ", an Idempotency-Key on every POST")"

# --- state -------------------------------------------------------------------
state=$(mktemp -d /tmp/credstore-bench.XXXXXX) || die "mktemp failed"
chmod 700 "$state"
results=$state/results	# name conns rps p50 p99 requests errors ok rss
: >"$results"

# A port nothing listens on (lighttpd's bind still decides; see start_*).
pick_port() {
	while :; do
		p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + p % 40000))
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"
		[ $? -eq 7 ] && { echo "$p"; return; }
	done
}

# http_code METHOD URL [TOKEN [BODY]]: prints the status, body to $state/last
http_code() {
	if [ -n "${4:-}" ]; then
		curl -s -o "$state/last" -w '%{http_code}' --max-time 20 -X "$1" \
		    -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
		    --data-binary "$4" "$2"
	elif [ -n "${3:-}" ]; then
		curl -s -o "$state/last" -w '%{http_code}' --max-time 20 -X "$1" \
		    -H "Authorization: Bearer $3" "$2"
	else
		curl -s -o "$state/last" -w '%{http_code}' --max-time 20 -X "$1" "$2"
	fi
}

# The children of lighttpd $1 running the binary $2 (FastCGI processes).
# Process creation is slow on some VMs: only shell builtins in the loop.
kids_of() {
	want=$(readlink -f "$2")
	for d in /proc/[0-9]*; do
		{ read -r s <"$d/stat"; } 2>/dev/null || continue
		s=${s##*) }
		s=${s#* }
		[ "${s%% *}" = "$1" ] || continue
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$want" ] || continue
		echo "${d#/proc/}"
	done
}

# CGI processes of this run's mod_cgi server (live, not zombies): their
# name, and mod_cgi's working folder, which is unique to $state.
cgi_procs() {
	for d in /proc/[0-9]*; do
		{ read -r s <"$d/stat"; } 2>/dev/null || continue
		case $s in
		*"(credstore.cgi) "*|*"(cgi-min.cgi) "*|*"(cgi-linked.cgi) "*) ;;
		*) continue ;;
		esac
		s=${s##*) }
		[ "${s%% *}" != Z ] || continue
		[ "$(readlink "$d/cwd" 2>/dev/null)" = "$state/www-cgi/bin" ] &&
		    echo "${d#/proc/}"
	done
}

# The shared objects program $1 loads as a CGI program answering GET
# /healthz (LD_DEBUG=files; sorted names).
loaded_libs() {
	printf '' | env LD_DEBUG=files CREDSTORE_CONFIG="$CONF_NOSYNC" \
	    GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET SCRIPT_NAME= \
	    PATH_INFO=/healthz REQUEST_URI=/healthz SERVER_PROTOCOL=HTTP/1.1 \
	    "$1" 2>&1 >/dev/null |
	    sed -n 's/.*file=\([^ ]*\) \[0\]; *generating link map.*/\1/p' |
	    sort -u | tr '\n' ' '
}

# Waits (up to 60 s) for CGI requests still running after a wrk run, so
# they neither load the next run nor outlive lighttpd.
cgi_drain() {
	i=0
	while [ -n "$(cgi_procs)" ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# status_kib pid field: VmHWM or VmRSS in KiB
status_kib() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Max of field over the current FastCGI processes.
kids_max_kib() {
	m=0
	for p in $lighttpd_kids; do
		v=$(status_kib "$p" "$1")
		[ -n "$v" ] && [ "$v" -gt "$m" ] && m=$v
	done
	echo "$m"
}

# start_lighttpd NAME CONF-TEMPLATE-FN HEALTH-PATH EXPECT BIN
# The config function writes $state/NAME.conf for port $port.
start_lighttpd() {
	name=$1 genconf=$2 hpath=$3 expect=$4 kidbin=$5
	tries=0
	while [ $tries -lt 5 ]; do
		tries=$((tries + 1))
		port=$(pick_port)
		$genconf "$name" "$port" >"$state/$name.conf"
		"$LIGHTTPD" -D -f "$state/$name.conf" >"$state/$name.out" 2>&1 &
		lighttpd_pid=$!
		i=0
		while [ $i -lt 150 ]; do
			if ! kill -0 "$lighttpd_pid" 2>/dev/null; then
				break
			fi
			if [ "$(http_code GET "http://127.0.0.1:$port$hpath")" = "$expect" ]; then
				base="http://127.0.0.1:$port"
				if [ -n "$kidbin" ]; then
					j=0
					lighttpd_kids=$(kids_of "$lighttpd_pid" "$kidbin")
					while [ "$(echo $lighttpd_kids | wc -w)" -lt "$PROCS" ] &&
					    [ $j -lt 50 ]; do
						sleep 0.1
						j=$((j + 1))
						lighttpd_kids=$(kids_of "$lighttpd_pid" "$kidbin")
					done
				fi
				say "$name: lighttpd $lighttpd_pid on $base," \
				    "processes: $(echo $lighttpd_kids)"
				return 0
			fi
			sleep 0.1
			i=$((i + 1))
		done
		if kill -0 "$lighttpd_pid" 2>/dev/null; then
			tail -5 "$state/$name.out" "$state/www-$name/error.log" >&2 2>/dev/null
			stop_lighttpd
			die "$name: no $expect from $hpath"
		fi
		wait "$lighttpd_pid" 2>/dev/null
		lighttpd_pid=""
		grep -q 'Address already in use' "$state/$name.out" ||
		    { cat "$state/$name.out" >&2; die "$name: lighttpd did not start"; }
	done
	die "$name: no free port"
}

# lighttpd with mod_fastcgi: the shipped example, var. lines replaced (as
# the end-to-end harness does); $fcgi_bin and $cs_conf choose what runs.
gen_fcgi_conf() {
	mkdir -p "$state/www-$1"
	sed -e "s|^var.credstore_fcgi .*|var.credstore_fcgi   = \"$fcgi_bin\"|" \
	    -e "s|^var.credstore_config .*|var.credstore_config = \"$cs_conf\"|" \
	    -e "s|^var.credstore_state .*|var.credstore_state  = \"$state/www-$1\"|" \
	    -e "s|^var.server_bind .*|var.server_bind      = \"127.0.0.1\"|" \
	    -e "s|^var.server_port .*|var.server_port      = $2|" \
	    -e "s|\"max-procs\" *=> *[0-9]*|\"max-procs\"       => $PROCS|" \
	    -e '/^server\.username/d' -e '/^server\.groupname/d' \
	    "$srcdir/etc/lighttpd.conf.example"
}

# lighttpd with mod_cgi: the same server settings; /cgi-min is the minimal
# CGI program, /cgi-linked the same linked with credstore.fcgi's libraries,
# everything else credstore.fcgi started as a CGI program.
gen_cgi_conf() {
	w=$state/www-$1
	mkdir -p "$w/bin"
	ln -sf "$CGIMIN" "$w/bin/cgi-min.cgi"
	ln -sf "$CGILINKED" "$w/bin/cgi-linked.cgi"
	ln -sf "$FCGI_BIN" "$w/bin/credstore.cgi"
	cat <<EOF
# generated by tests/bench/bench.sh: credstore as a plain CGI program
server.modules += ( "mod_alias", "mod_setenv", "mod_cgi" )
server.bind          = "127.0.0.1"
server.port          = $2
server.document-root = "$w"
server.errorlog      = "$w/error.log"
server.pid-file      = "$w/lighttpd.pid"
server.max-request-field-size = 16384
server.max-request-size = 128
setenv.add-environment = ( "CREDSTORE_CONFIG" => "$cs_conf" )
alias.url = ( "/cgi-min" => "$w/bin/cgi-min.cgi",
              "/cgi-linked" => "$w/bin/cgi-linked.cgi",
              "/" => "$w/bin/credstore.cgi/" )
cgi.assign = ( ".cgi" => "" )
EOF
}

# lighttpd with mod_proxy in front of the mock provider: the server
# settings of etc/lighttpd.conf.example, every path to the mock.
gen_relay_conf() {
	w=$state/www-$1
	mkdir -p "$w"
	cat <<EOF
# generated by tests/bench/bench.sh: lighttpd's own reverse proxy
server.modules += ( "mod_proxy" )
server.bind          = "127.0.0.1"
server.port          = $2
server.document-root = "$w"
server.errorlog      = "$w/error.log"
server.pid-file      = "$w/lighttpd.pid"
server.max-request-field-size = 16384
server.max-request-size = 128
proxy.server = ( "" => (( "host" => "127.0.0.1", "port" => $mock_port )) )
EOF
}

# credstore.conf for durability $2 in $state/$1
gen_cs_conf() {
	mkdir -p "$state/$1"
	cat >"$state/$1/credstore.conf" <<EOF
# generated by tests/bench/bench.sh
data_dir = data
keyring = keyring
catalog = $srcdir/etc/catalog.json
jwt_secret_file = jwt.secret
probe_origin_override = http://127.0.0.1:$mock_port
durability = $2
log_level = $LOGLEVEL
# one tenant drives every row: the per-tenant limits would measure themselves
tenant_rate_limit = 0
tenant_checks_in_flight = 14
max_credentials_per_tenant = 0
fcgi_threads = $FTHREADS
EOF
	"$ADMIN" -c "$state/$1/credstore.conf" init >/dev/null ||
	    die "credstore-admin init failed ($1)"
}

token() {	# conf tenant role
	"$ADMIN" -c "$1" token --sub bench --tenant "$2" --role "$3" \
	    --ttl 7200 | head -1
}

# --- wrk ---------------------------------------------------------------------
# wrk_run SECONDS CONNECTIONS URL: output in $state/wrk.out; sets w_* vars
wrk_run() {
	th=$THREADS
	[ "$th" -gt "$2" ] && th=$2
	BENCH_RUN="r$(date +%s%N)" wrk -t"$th" -c"$2" -d"$1"s \
	    --timeout "$TIMEOUT"s -s "$LUA" "$3" >"$state/wrk.out" 2>&1
	w_rc=$?
	[ -n "${after_wrk:-}" ] && $after_wrk
	line=$(grep '^BENCH ' "$state/wrk.out" | tail -1)
	w_req=0 w_dur=0 w_p50=0 w_p99=0 w_status=0 w_sock=0
	if [ -n "$line" ]; then
		eval "$(printf '%s\n' "$line" | awk '{
		    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		    printf "w_req=%d w_dur=%d w_p50=%d w_p99=%d w_status=%d w_sock=%d\n",
		        v["requests"], v["duration_us"], v["p50_us"], v["p99_us"],
		        v["status_errors"], v["connect"] + v["read"] + v["write"] + v["timeout"] }')"
	fi
	# wrk's own line, in case the script's summary disagrees
	n2=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$state/wrk.out")
	[ -n "$n2" ] && [ "$n2" -gt "$w_status" ] && w_status=$n2
	return 0
}

# strace_row NAME URL (BENCH_STRACE=1): the system calls of the first
# FastCGI process, every thread, over a 3 s run at 4 connections, per
# request (exact with BENCH_PROCS=1, when that process serves every
# request); the table goes to bench-syscalls.txt.  strace slows the
# process down: these runs are not the measured ones.
strace_row() {
	[ "${BENCH_STRACE:-0}" = 1 ] && [ -n "$lighttpd_kids" ] || return 0
	command -v strace >/dev/null 2>&1 || { say "strace: not installed"; return 0; }
	st_name=$1 st_url=$2
	set -- $lighttpd_kids
	[ "$PROCS" = 1 ] || say "strace: BENCH_PROCS=$PROCS: per-request counts are" \
	    "of one process's calls over every process's requests"
	strace -c -f -q -o "$state/strace.out" -p "$(ls "/proc/$1/task" | tr '\n' ' ')" \
	    2>/dev/null &
	st_pid=$!
	sleep 1
	wrk_run 3 4 "$st_url"
	kill -INT "$st_pid" 2>/dev/null
	wait "$st_pid" 2>/dev/null
	{
		echo "== $st_name: $w_req requests"
		awk -v n="$w_req" '
		    /^-/ || /^% time/ { next }
		    NF >= 5 && $4 ~ /^[0-9]+$/ {
			printf "%-16s %8.2f per request\n", $NF, $4 / (n > 0 ? n : 1) }' \
		    "$state/strace.out"
	} >>"$outdir/bench-syscalls.txt"
	say "strace: $st_name: $(awk -v n="$w_req" '$NF == "total" {
	    printf "%.1f", $4 / (n > 0 ? n : 1) }' "$state/strace.out") system calls a request"
}

# record_row NAME CONNS RSS NOTE LOG: a row of the results, from w_req,
# w_dur, w_p50, w_p99, w_rc, errs and ok; with RSS 1 (and rss_track 1)
# the FastCGI processes' peak RSS.  NOTE goes after the request count in
# what is said; LOG (when not empty) is shown when the row failed.
record_row() {
	rps=$(awk -v r="$w_req" -v d="$w_dur" 'BEGIN { printf "%.1f", (d > 0 ? r / (d / 1e6) : 0) }')
	rss=-
	[ "$3" = 1 ] && [ "$rss_track" = 1 ] && rss=$(kids_max_kib VmHWM)
	echo "$1 $2 $rps $w_p50 $w_p99 $w_req $errs $ok $rss" >>"$results"
	if [ "$ok" = 1 ]; then
		say "$1 c=$2: $rps req/s, $w_req requests$4, $errs errors"
	else
		say "$1 c=$2: FAILED ($w_req requests, $errs errors, rc $w_rc)"
		[ -z "$5" ] || sed 's/^/    /' "$5" >&2
	fi
}

# warm_up NAME URL: the warm-up run, then (BENCH_STRACE=1) strace_row.
warm_up() {
	say "$1: warm-up ${WARM}s"
	wrk_run "$WARM" 16 "$2"
	strace_row "$1" "$2"
}

# bench NAME URL: warm-up, then one measured run per connection count.
# The request comes from the BENCH_* variables already exported.
bench() {
	name=$1 url=$2
	warm_up "$name" "$url"
	for c in $CONNS; do
		[ -n "${pre_run:-}" ] && $pre_run
		wrk_run "${bench_secs:-$SECS}" "$c" "$url"
		errs=$((w_status + w_sock))
		ok=1
		if [ "$w_rc" -ne 0 ] || [ "$w_req" -le 0 ] || [ "$w_dur" -le 0 ]; then
			ok=0
		elif [ $((errs * 100)) -gt "$w_req" ]; then
			ok=0
		fi
		if [ -n "${post_run:-}" ] && ! $post_run; then
			ok=0
		fi
		record_row "$name" "$c" 1 "" "$state/wrk.out"
		check_kids
	done
}

# bdb_recsz: recsz, the size of the sync run's first stored credential
# (600 without one): the record size of bdb_commit.
bdb_recsz() {
	recsz=$(dump_size credentials.db 1)
	[ -n "$recsz" ] && [ "$recsz" -ge 16 ] 2>/dev/null || recsz=600
}

# raw_run COMMAND...: one run of a raw Berkeley DB ceiling (bdb_commit,
# bdb_store), in the background so that an interrupted bench stops it;
# sets what wrk_run sets from its "procs=" line (commits are its
# requests), and b_retries.  Its output is shown when it failed.
raw_run() {
	w_req=0 w_dur=0 w_p50=0 w_p99=0 w_status=0 w_sock=0 b_retries=0
	"$@" >"$state/bdb.out" 2>&1 &
	bdb_pid=$!
	wait "$bdb_pid"
	w_rc=$?
	bdb_pid=""
	line=$(grep '^procs=' "$state/bdb.out")
	if [ "$w_rc" -ne 0 ] || [ -z "$line" ]; then
		cat "$state/bdb.out" >&2
		[ "$w_rc" -ne 0 ] || w_rc=1
		return 0
	fi
	eval "$(printf '%s\n' "$line" | awk '{
	    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	    printf "w_req=%d w_dur=%d w_p50=%d w_p99=%d b_retries=%d\n", v["commits"],
	        (v["rate"] > 0 ? v["commits"] / v["rate"] * 1e6 : 0),
	        v["p50_ms"] * 1000, v["p99_ms"] * 1000, v["retries"] }')"
}

# raw_row NAME CONNS NOTE: record_row for the run raw_run just made.
raw_row() {
	errs=0 ok=1
	[ "$w_rc" -eq 0 ] || ok=0
	record_row "$1" "$2" 0 "$3" ""
}

# bdb_turn SECONDS: bdb_commit with 4 processes in a fresh environment,
# as a turn of bench_turns.
bdb_turn() {
	rm -rf "$state/bdb4t"
	raw_run "$BDB" -h "$state/bdb4t" -p 4 -t "$1" -s "$recsz" -d sync
	w_conns=4
	rm -rf "$state/bdb4t"
}

# bench_turns NAME URL SETUP [NAME URL SETUP ...]: rows whose ratios are
# read against each other, measured in turns so that the machine's drift
# over a minute (CGI rows moved by 30% from one run to the next) falls
# on each of them alike.  SETUP is a function that sets the row's
# request (BENCH_PATH and the rest).  At each connection count of
# bt_conns (default BENCH_CONNECTIONS) every row runs BENCH_TURNS (3)
# times, in turn, for bench_secs / BENCH_TURNS seconds (at least 4); a
# row's req/s is its requests over its time, its p50 the mean of its
# turns' p50s weighted by their requests (close to, not exactly, the p50
# of all), its p99 the highest of its turns'.  A URL "cmd:F" is no HTTP
# row: F SECONDS runs it and sets what wrk_run sets, and w_conns, the
# connection count its row is shown with.  pre_run and post_run go
# around each HTTP turn as in bench.
bench_turns() {
	bt_turns=${BENCH_TURNS:-3}
	case $bt_turns in
	''|*[!0-9]*|0) die "BENCH_TURNS must be a whole number of 1 or more" ;;
	esac
	bt_secs=$(( (${bench_secs:-$SECS} + bt_turns - 1) / bt_turns ))
	[ "$bt_secs" -lt 4 ] && bt_secs=4
	bt_rows=$*
	while [ $# -ge 3 ]; do
		case $2 in
		cmd:*)	;;
		*)	say "$1: warm-up ${WARM}s"
			$3
			wrk_run "$WARM" 16 "$2" ;;
		esac
		shift 3
	done
	for c in ${bt_conns:-$CONNS}; do
		rm -f "$state"/turn.*
		t=1
		while [ "$t" -le "$bt_turns" ]; do
			set -- $bt_rows
			while [ $# -ge 3 ]; do
				$3
				bt_post=0 w_conns=$c
				case $2 in
				cmd:*)	"${2#cmd:}" "$bt_secs" ;;
				*)	[ -n "${pre_run:-}" ] && $pre_run
					wrk_run "$bt_secs" "$c" "$2"
					if [ -n "${post_run:-}" ] && ! $post_run; then
						bt_post=1
					fi ;;
				esac
				echo "$w_req $w_dur $w_p50 $w_p99 $((w_status + w_sock)) $w_rc $bt_post $w_conns" \
				    >>"$state/turn.$1"
				shift 3
			done
			t=$((t + 1))
		done
		set -- $bt_rows
		while [ $# -ge 3 ]; do
			eval "$(awk '{ r += $1; d += $2; w += $1 * $3; if ($4 > p99) p99 = $4
			    e += $5; if ($6 != 0) rc = $6; if ($1 <= 0 || $2 <= 0 || $7 != 0) bad = 1
			    n = $8 }
			    END { printf "w_req=%d w_dur=%d w_p50=%d w_p99=%d errs=%d w_rc=%d bad=%d w_conns=%d\n",
			        r, d, (r > 0 ? w / r : 0), p99, e, rc, bad, n }' "$state/turn.$1")"
			ok=1
			if [ "$w_rc" -ne 0 ] || [ "$bad" = 1 ] ||
			    [ $((errs * 100)) -gt "$w_req" ]; then
				ok=0
			fi
			case $2 in
			cmd:*)	bt_rss=0 ;;
			*)	bt_rss=1 ;;
			esac
			# a row not served by $lighttpd_kids: no RSS
			case " ${bt_nokids:-} " in *" $1 "*) bt_rss=0 ;; esac
			bt_log=$state/wrk.out
			[ "$bt_rss" = 1 ] || bt_log=""
			record_row "$1" "$w_conns" "$bt_rss" " in $bt_turns turns" "$bt_log"
			shift 3
		done
	done
	rm -f "$state"/turn.*
}

# A FastCGI process that died and was restarted would make RSS figures
# and the flat-RSS check meaningless: say so.
check_kids() {
	[ -n "$lighttpd_kids" ] || return 0
	for p in $lighttpd_kids; do
		if ! kill -0 "$p" 2>/dev/null; then
			say "WARNING: FastCGI process $p is gone (crashed?)"
			echo "$p" >>"$state/dead"
		fi
	done
}

# The mock provider answers every check; count what reached it.
mock_reset() {
	curl -s -o /dev/null -X POST -d '{}' "$mock/__mock/reset"
	mock_route
}
mock_route() {
	curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
	    -d '{"method": "GET", "path": "/v1/models", "status": 200,
	         "headers": {"Content-Type": "application/json"},
	         "body": {"object": "list", "data": []}}' "$mock/__mock/route"
}
mock_count() {
	curl -s --max-time 60 "$mock/__mock/count" | tr -cd 0-9
}
probe_pre() { mock_reset; }
# dump_size DB N: the size of the value of the Nth record ("last": the
# last one) of DB in the sync run's data, or nothing
dump_size() {
	$dbdump -h "$state/sync/data" "$1" 2>/dev/null | awk -v want="$2" '
	    /^HEADER=END/ { h = 1; next }
	    /^DATA=END/ { exit }
	    h && /^ / { n++; if (n % 2) next
	        last = int((length($0) - 1) / 2)
	        if (want != "last" && n / 2 == want) { print last; exit } }
	    END { if (want == "last" && last != "") print last }'
}
probe_post() {
	n=$(mock_count)
	n=${n:-0}
	say "  provider checks seen by the mock: $n for $w_req responses"
	# in-flight requests at the end reach the mock without being counted
	[ "$n" -ge $((w_req - w_req / 100)) ]
}

if command -v db_dump >/dev/null 2>&1; then dbdump=db_dump; else dbdump=db5.3_dump; fi

# --- the mock provider -------------------------------------------------------
# -q: requests are counted, not recorded (a record costs the mock some
# twenty allocations, and its log only grows)
"$MOCK" -q -a 127.0.0.1 -P "$state/mock.port" >"$state/mock.log" 2>&1 &
mock_pid=$!
i=0
while [ ! -s "$state/mock.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
mock_port=$(cat "$state/mock.port" 2>/dev/null)
[ -n "$mock_port" ] || die "the mock provider did not start"
mock=http://127.0.0.1:$mock_port
mock_reset

gen_cs_conf sync sync
gen_cs_conf nosync write_nosync
CONF_SYNC=$state/sync/credstore.conf
CONF_NOSYNC=$state/nosync/credstore.conf
CONF_PROXY=$state/proxy/credstore.conf
want proxy && gen_cs_conf proxy write_nosync
TOK=$(token "$CONF_SYNC" bench admin)
TOK_NOSYNC=$(token "$CONF_NOSYNC" bench admin)
[ -n "$TOK" ] && [ -n "$TOK_NOSYNC" ] || die "credstore-admin token failed"

# the same request for the ceiling and for the stores
BODY_OPENAI='{"credentials": {"api_key": "sk-bench-{n}-0123456789abcdefghijklmnopqrstuvwxyzABCDEF"}, "label": "bench"}'
BODY_SENTRY='{"credentials": {"auth_token": "sntrys_bench_{n}_0123456789abcdefghijklmnopqrstuvwxyz"}, "label": "bench"}'
export BENCH_TOKEN BENCH_METHOD BENCH_BODY BENCH_PATH BENCH_SPECS
BENCH_IDEMPOTENCY=${BENCH_IDEMPOTENCY:-0}
export BENCH_IDEMPOTENCY
BENCH_SPECS=0
pre_run="" post_run=""

sync_hwm=0 nosync_hwm=0 proxy_hwm=0 growth=0 long_n=0 long_errs=0 rss_warm="" rss_end=""
long_traj="" recsz=0 rss_track=1 bs_cred=0 bs_audit=0 bs_idem=0 bs_count=""

# --- 1. the ceiling: an empty libfcgi responder --------------------------
if want fcgi; then
rss_track=1
fcgi_bin=$EMPTY cs_conf=/dev/null
start_lighttpd empty-fcgi gen_fcgi_conf / 201 "$EMPTY"
empty_req() {
	BENCH_TOKEN=$TOK BENCH_METHOD=POST
	BENCH_PATH=/v1/integrations/openai/credentials BENCH_BODY=$BODY_OPENAI
}
empty_req
if want sync; then
	# measured in turns with healthz and list10 (section 2): its
	# lighttpd stays up, idle, beside credstore's
	[ "${BENCH_STRACE:-0}" = 1 ] &&
	    warm_up empty-fcgi "$base/v1/integrations/openai/credentials"
	keep_ceiling
else
	bench empty-fcgi "$base/v1/integrations/openai/credentials"
	stop_lighttpd
fi

# the same responder closing each socket at once, as credstore.fcgi does
# (cgi-bin/credstore.c, close_at_once): shown beside the ceiling
fcgi_bin=$EMPTY_CLOSE
start_lighttpd empty-close gen_fcgi_conf / 201 "$EMPTY"
bench empty-close "$base/v1/integrations/openai/credentials"
stop_lighttpd

fi

# --- 2, 3, 6: credstore, durability sync -----------------------------------
if want sync; then
fcgi_bin=$FCGI_BIN cs_conf=$CONF_SYNC
start_lighttpd cs-sync gen_fcgi_conf /healthz 200 "$FCGI_BIN"

healthz_req() {
	BENCH_TOKEN="" BENCH_METHOD=GET BENCH_PATH=/healthz BENCH_BODY=""
}
list10_req() {
	BENCH_TOKEN=$TOK_VIEW BENCH_METHOD=GET
	BENCH_PATH=/v1/integrations/sentry/credentials BENCH_BODY=""
}
healthz_req
[ -n "$ceil_pid" ] || bench healthz "$base/healthz"

# list10: a tenant with exactly 10 credentials, read by a viewer
TOK_LIST=$(token "$CONF_SYNC" bench-list admin)
TOK_VIEW=$(token "$CONF_SYNC" bench-list viewer)
for i in 1 2 3 4 5 6 7 8 9 10; do
	code=$(http_code POST "$base/v1/integrations/sentry/credentials" "$TOK_LIST" \
	    "{\"credentials\": {\"auth_token\": \"sntrys_list_$i\"}, \"label\": \"list $i\"}")
	[ "$code" = 201 ] || die "list10 setup: store answered $code: $(cat "$state/last")"
done
code=$(http_code GET "$base/v1/integrations/sentry/credentials" "$TOK_VIEW")
[ "$code" = 200 ] && [ "$(grep -o '"credentialId"' "$state/last" | wc -l)" -eq 10 ] ||
    die "list10: expected 10 credentials, got $code: $(cat "$state/last")"
list10_req
if [ -n "$ceil_pid" ]; then
	# healthz and list10 in turns with their ceiling, as the CGI rows
	# are: over runs measured one after the other, list10 read 0.73 to
	# 1.00 at 16 connections with no change on its path
	# (their system calls, with BENCH_STRACE=1, each after a warm-up)
	for r in healthz list10; do
		[ "${BENCH_STRACE:-0}" = 1 ] || break
		"${r}_req"
		warm_up "$r" "$base$BENCH_PATH"
	done
	bt_nokids=empty-fcgi
	bench_turns empty-fcgi "$ceil_base/v1/integrations/openai/credentials" \
	    empty_req healthz "$base/healthz" healthz_req \
	    list10 "$base/v1/integrations/sentry/credentials" list10_req
	bt_nokids=""
	stop_ceiling
else
	bench list10 "$base/v1/integrations/sentry/credentials"
fi

BENCH_TOKEN=$TOK BENCH_METHOD=POST BENCH_PATH=/v1/integrations/openai/credentials
BENCH_BODY=$BODY_OPENAI
code=$(http_code POST "$base$BENCH_PATH" "$TOK" "$(printf '%s' "$BODY_OPENAI" | sed 's/{n}/preflight/')")
[ "$code" = 201 ] && grep -q '"status":"validated"' "$state/last" ||
    die "store-sync: the preflight store gave $code: $(cat "$state/last")"
pre_run=probe_pre post_run=probe_post
if want bdb && case " $CONNS " in *" 16 "*) true ;; *) false ;; esac; then
	# store-sync's first ratio is read against bdb-4proc at 16
	# connections: the two take turns there (bdb_turn).  The record
	# size comes from the live environment (db_dump joins it to read).
	sync_req() { :; }
	bdb_recsz
	bt_conns=16
	bench_turns store-sync "$base/v1/integrations/openai/credentials" \
	    sync_req bdb-4proc cmd:bdb_turn sync_req
	bt_conns=""
	bdb4_done=1
	conns_all=$CONNS
	CONNS=""
	for c in $conns_all; do
		[ "$c" = 16 ] || CONNS="$CONNS${CONNS:+ }$c"
	done
	[ -n "$CONNS" ] && bench store-sync "$base/v1/integrations/openai/credentials"
	CONNS=$conns_all
else
	bench store-sync "$base/v1/integrations/openai/credentials"
fi
pre_run="" post_run=""
sync_hwm=$(kids_max_kib VmHWM)
check_kids
stop_lighttpd

fi

# --- store-sync-repl: the same request on the master of three sites --------
# Three sites on this machine (SPEC section 11), each its own data folder,
# repl-serve and lighttpd with $PROCS FastCGI processes, the same keyring,
# durability sync, repl_ack_policy quorum: a store is answered once the
# master's commit is on disk and one replica acknowledged it.  Requests go
# to the master (a replica would forward them: one more HTTP hop).
if want repl; then
# replication ports below the ephemeral range (tests/repl/repl.sh says why)
rport() { p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' '); echo $((20000 + p % 12000)); }
head -c 48 /dev/urandom >"$state/repl.secret"
chmod 600 "$state/repl.secret"
for i in 1 2 3; do
	eval "RP$i=$(rport) HP$i=$(pick_port)"
done
for i in 1 2 3; do
	d=$state/repl$i
	mkdir -p "$d"
	peers=""
	for j in 1 2 3; do
		[ "$j" = "$i" ] || peers="$peers${peers:+, }127.0.0.1:$(eval echo \$RP$j)"
	done
	cp "$CONF_SYNC" "$d/credstore.conf"
	cat >>"$d/credstore.conf" <<EOF
repl_self = 127.0.0.1:$(eval echo \$RP$i)
repl_peers = $peers
repl_forward_url = http://127.0.0.1:$(eval echo \$HP$i)
repl_secret_file = repl.secret
repl_ack_policy = quorum
EOF
	cp -p "$state/sync/keyring" "$state/sync/jwt.secret" "$state/repl.secret" "$d/"
	"$ADMIN" -c "$d/credstore.conf" init >"$d/init.out" 2>&1 ||
	    die "repl site $i: init failed: $(cat "$d/init.out")"
	"$ADMIN" -c "$d/credstore.conf" repl-serve >"$d/serve.log" 2>&1 &
	repl_serve="$repl_serve $!"
done
for i in 1 2 3; do
	fcgi_bin=$FCGI_BIN cs_conf=$state/repl$i/credstore.conf
	gen_fcgi_conf "repl$i" "$(eval echo \$HP$i)" >"$state/repl$i.conf"
	"$LIGHTTPD" -D -f "$state/repl$i.conf" >"$state/repl$i.out" 2>&1 &
	repl_web="$repl_web $!"
done
# the master: the site whose /healthz says so (30 s at most)
rmaster="" i=0
while [ -z "$rmaster" ] && [ $i -lt 300 ]; do
	for j in 1 2 3; do
		u=http://127.0.0.1:$(eval echo \$HP$j)
		[ "$(http_code GET "$u/healthz")" = 200 ] &&
		    grep -q '"role":"master"' "$state/last" && rmaster=$u
	done
	[ -n "$rmaster" ] || sleep 0.1
	i=$((i + 1))
done
[ -n "$rmaster" ] || die "store-sync-repl: no master within 30 s"
BENCH_TOKEN=$TOK BENCH_METHOD=POST BENCH_PATH=/v1/integrations/openai/credentials
BENCH_BODY=$BODY_OPENAI
i=0
while :; do	# the master announces itself within a second of its election
	code=$(http_code POST "$rmaster$BENCH_PATH" "$TOK" \
	    "$(printf '%s' "$BODY_OPENAI" | sed 's/{n}/repl-preflight/')")
	[ "$code" = 201 ] || [ $i -ge 50 ] && break
	sleep 0.2
	i=$((i + 1))
done
[ "$code" = 201 ] ||
    die "store-sync-repl: the preflight store gave $code: $(cat "$state/last")"
say "store-sync-repl: master $rmaster"
rss_track=0
pre_run=probe_pre post_run=probe_post
bench store-sync-repl "$rmaster/v1/integrations/openai/credentials"
pre_run="" post_run=""
rss_track=1
n=$(cat "$state"/www-repl*/error.log 2>/dev/null | grep -c 'was not acknowledged')
say "store-sync-repl: $n commits not acknowledged in time (answered 503)"
stop_repl

fi

# --- 8. the storage ceiling: raw Berkeley DB commits ------------------------
if want bdb; then
# credstore.fcgi's flags (src/store.c env_open), records the size of the
# stored credentials (the first in credentials.db of the sync run; taken
# already when bdb-4proc ran in turns with store-sync).
[ "$bdb4_done" = 1 ] || bdb_recsz
for n in 1 4; do
	# measured in turns with store-sync already
	[ "$n" = 4 ] && [ "$bdb4_done" = 1 ] && continue
	say "bdb-${n}proc: ${SECS}s, $recsz-byte records"
	raw_run "$BDB" -h "$state/bdb$n" -p "$n" -t "$SECS" -s "$recsz" -d sync
	raw_row "bdb-${n}proc" "$n" " (commits)"
	rm -rf "$state/bdb$n"
done

fi

# --- the fair storage ceiling: a store's own transactions, raw ------------
if want bdbstore; then
# What the sync run's stores wrote: the size of a credential (the first)
# and of an audit record (the last: a store-sync one), an idempotency
# record when the requests carried Idempotency-Key, the per-tenant count
# when there is one.  Defaults when the sync group did not run.
bs_cred=$(dump_size credentials.db 1)
[ -n "$bs_cred" ] && [ "$bs_cred" -ge 64 ] 2>/dev/null || bs_cred=600
bs_audit=$(dump_size audit.db last)
[ -n "$bs_audit" ] && [ "$bs_audit" -ge 32 ] 2>/dev/null || bs_audit=300
bs_idem=$(dump_size idempotency.db last)
[ -n "$bs_idem" ] || bs_idem=0
bs_count=""
$dbdump -p -h "$state/sync/data" meta.db 2>/dev/null | grep -q '^ cred\.count' &&
    bs_count=-c
say "bdb-store-4proc: ${SECS}s; credential $bs_cred bytes, audit $bs_audit," \
    "idempotency ${bs_idem:-0} (0: none), per-tenant count: ${bs_count:-no}"
raw_run "$BDBSTORE" -h "$state/bdbstore" -p 4 -t "$SECS" -s "$bs_cred" \
    -a "$bs_audit" -i "$bs_idem" ${bs_count:+"$bs_count"} -d sync
raw_row bdb-store-4proc 4 " (stores; $b_retries deadlock retries)"
rm -rf "$state/bdbstore"

fi

# --- 4, 5 and the long run: credstore, durability write_nosync ------------
if want nosync; then
fcgi_bin=$FCGI_BIN cs_conf=$CONF_NOSYNC
start_lighttpd cs-nosync gen_fcgi_conf /healthz 200 "$FCGI_BIN"
BENCH_TOKEN=$TOK_NOSYNC BENCH_METHOD=POST BENCH_PATH=/v1/integrations/openai/credentials
BENCH_BODY=$BODY_OPENAI
pre_run=probe_pre post_run=probe_post
bench store-write-nosync "$base/v1/integrations/openai/credentials"
pre_run="" post_run=""

BENCH_PATH=/v1/integrations/sentry/credentials BENCH_BODY=$BODY_SENTRY
code=$(http_code POST "$base$BENCH_PATH" "$TOK_NOSYNC" "$(printf '%s' "$BODY_SENTRY" | sed 's/{n}/preflight/')")
[ "$code" = 201 ] && grep -q '"status":"unverified"' "$state/last" ||
    die "store-nocheck: the preflight store gave $code: $(cat "$state/last")"
bench store-nocheck "$base/v1/integrations/sentry/credentials"

# Flat RSS: healthz, store with check, store without check, in turn, for
# BENCH_LONG requests in chunks; VmRSS of each process after each chunk.
say "long run: $LONG requests (healthz + store-nocheck + store with check)"
BENCH_SPECS=3
export BENCH_METHOD_1=GET BENCH_PATH_1=/healthz
export BENCH_METHOD_2=POST BENCH_PATH_2=/v1/integrations/sentry/credentials \
    BENCH_BODY_2="$BODY_SENTRY"
export BENCH_METHOD_3=POST BENCH_PATH_3=/v1/integrations/openai/credentials \
    BENCH_BODY_3="$BODY_OPENAI"
mock_reset
wrk_run "$WARM" 16 "$base/"
long_errs=$((w_status + w_sock))
rss_warm=""
for p in $lighttpd_kids; do rss_warm="$rss_warm $(status_kib "$p" VmRSS)"; done
long_n=0
long_traj="after warm-up:$rss_warm KiB"
chunk=$SECS
[ "$chunk" -lt 5 ] && chunk=5
while [ "$long_n" -lt "$LONG" ]; do
	wrk_run "$chunk" 16 "$base/"
	[ "$w_req" -gt 0 ] || { long_errs=$((long_errs + 1)); break; }
	long_n=$((long_n + w_req))
	long_errs=$((long_errs + w_status + w_sock))
	mock_reset	# the mock keeps every request; do not let it grow
	r=""
	for p in $lighttpd_kids; do r="$r $(status_kib "$p" VmRSS)"; done
	long_traj="$long_traj; after $long_n:$r KiB"
done
rss_end=""
growth=0
set -- $rss_warm
for p in $lighttpd_kids; do
	e=$(status_kib "$p" VmRSS)
	rss_end="$rss_end ${e:-0}"
	g=$(( ${e:-0} - ${1:-0} ))
	[ "$g" -gt "$growth" ] && growth=$g
	shift 2>/dev/null
done
check_kids
nosync_hwm=$(kids_max_kib VmHWM)
BENCH_SPECS=0
stop_lighttpd

fi

# --- the proxy: lighttpd's mod_proxy, then credstore's proxy route --------
# Both GET the mock's small JSON answer to GET /v1/models; the mock must
# see one request per answer.
if want proxy; then
rss_track=0
start_lighttpd relay gen_relay_conf /v1/models 200 ""
BENCH_TOKEN="" BENCH_METHOD=GET BENCH_PATH=/v1/models BENCH_BODY=""
pre_run=probe_pre post_run=probe_post
bench relay "$base/v1/models"
pre_run="" post_run=""
stop_lighttpd

# A tenant with an openai credential (its check answered by the mock) and
# the connection to it; a token with the admin role (the setup) and the
# proxy role (the calls).  A build without the proxy route answers 404.
rss_track=1
fcgi_bin=$FCGI_BIN cs_conf=$CONF_PROXY
start_lighttpd cs-proxy gen_fcgi_conf /healthz 200 "$FCGI_BIN"
TOK_PX=$("$ADMIN" -c "$CONF_PROXY" token --sub bench --tenant bench-proxy \
    --role admin --role proxy --ttl 7200 2>/dev/null | head -1)
[ -n "$TOK_PX" ] || TOK_PX=$(token "$CONF_PROXY" bench-proxy admin)
[ -n "$TOK_PX" ] || die "proxy: credstore-admin token failed"
px_path=/v1/integrations/openai/proxy/v1/models
px_why=""
code=$(http_code POST "$base/v1/integrations/openai/credentials" "$TOK_PX" \
    "$(printf '%s' "$BODY_OPENAI" | sed 's/{n}/proxy/')")
px_id=$(sed -n 's/.*"credentialId":"\([^"]*\)".*/\1/p' "$state/last")
if [ "$code" != 201 ] || [ -z "$px_id" ]; then
	px_why="the store gave $code: $(cat "$state/last")"
else
	code=$(http_code POST "$base/v1/integrations/openai/connect" "$TOK_PX" \
	    "{\"credentialId\": \"$px_id\"}")
	case $code in
	200|201) code=$(http_code GET "$base$px_path" "$TOK_PX") ;;
	*) px_why="the connect gave $code: $(cat "$state/last")" ;;
	esac
fi
if [ -n "$px_why" ]; then
	say "proxy-get: setup failed: $px_why"
	for c in $CONNS; do echo "proxy-get $c 0 0 0 0 0 0 -" >>"$results"; done
elif [ "$code" = 404 ]; then
	say "proxy-get: GET $px_path answered 404: no proxy route in this build"
	for c in $CONNS; do echo "proxy-get $c 0 0 0 0 0 -1 -" >>"$results"; done
elif [ "$code" != 200 ] || ! grep -q '"list"' "$state/last"; then
	say "proxy-get: GET $px_path answered $code: $(cat "$state/last")"
	for c in $CONNS; do echo "proxy-get $c 0 0 0 0 0 0 -" >>"$results"; done
else
	BENCH_TOKEN=$TOK_PX BENCH_METHOD=GET BENCH_PATH=$px_path BENCH_BODY=""
	pre_run=probe_pre post_run=probe_post
	bench proxy-get "$base$px_path"
	pre_run="" post_run=""
	proxy_hwm=$(kids_max_kib VmHWM)
	check_kids
fi
stop_lighttpd

fi

# --- 7. plain CGI under mod_cgi: the store without check, write_nosync ---
if want cgi; then
rss_track=0
cs_conf=$CONF_NOSYNC
start_lighttpd cgi gen_cgi_conf /healthz 200 ""
after_wrk=cgi_drain
# 64 CGI programs started at once may take seconds to answer: at least 10 s
bench_secs=$SECS
[ "$bench_secs" -lt 10 ] && bench_secs=10
BENCH_TOKEN=$TOK_NOSYNC BENCH_METHOD=POST BENCH_PATH=/cgi-min BENCH_BODY=$BODY_SENTRY
code=$(http_code POST "$base/cgi-min" "$TOK_NOSYNC" '{}')
[ "$code" = 201 ] || die "cgi-min answered $code"
bench cgi-min "$base/cgi-min"
# the libraries each loads (LD_DEBUG): cgi-linked must load those of
# credstore.fcgi answering a CGI request (no more: libcurl is not loaded)
libs_cs=$(loaded_libs "$FCGI_BIN")
libs_ln=$(loaded_libs "$CGILINKED")
if [ "$libs_cs" = "$libs_ln" ]; then
	say "cgi-linked loads the $(echo "$libs_ln" | wc -w) libraries of" \
	    "credstore.fcgi at start: $libs_ln"
else
	say "WARNING: cgi-linked loads $libs_ln; credstore.fcgi $libs_cs"
fi
code=$(http_code POST "$base/cgi-linked" "$TOK_NOSYNC" '{}')
[ "$code" = 201 ] || die "cgi-linked answered $code"
code=$(http_code POST "$base/v1/integrations/sentry/credentials" "$TOK_NOSYNC" "$(printf '%s' "$BODY_SENTRY" | sed 's/{n}/cgi-preflight/')")
[ "$code" = 201 ] || die "cgi-store: the preflight store gave $code: $(cat "$state/last")"
# the rows read against cgi-linked take turns with it
cgi_linked_req() {
	BENCH_TOKEN=$TOK_NOSYNC BENCH_METHOD=POST BENCH_PATH=/cgi-linked
	BENCH_BODY=$BODY_SENTRY
}
cgi_store_req() {
	BENCH_TOKEN=$TOK_NOSYNC BENCH_METHOD=POST
	BENCH_PATH=/v1/integrations/sentry/credentials BENCH_BODY=$BODY_SENTRY
}
cgi_healthz_req() {
	BENCH_TOKEN="" BENCH_METHOD=GET BENCH_PATH=/healthz BENCH_BODY=""
}
bench_turns cgi-linked "$base/cgi-linked" cgi_linked_req \
    cgi-store "$base/v1/integrations/sentry/credentials" cgi_store_req \
    cgi-healthz "$base/healthz" cgi_healthz_req
after_wrk="" bench_secs=""
cgi_drain
stop_lighttpd

# The same programs run directly, without the web server: CPU, wall time
# and page faults of one process, and what a page fault costs here.
cgi_start=""
# the programs' own standard error (credstore's log) goes to its own file
if env CREDSTORE_CONFIG="$CONF_NOSYNC" GATEWAY_INTERFACE=CGI/1.1 \
    REQUEST_METHOD=GET SCRIPT_NAME= PATH_INFO=/healthz REQUEST_URI=/healthz \
    SERVER_PROTOCOL=HTTP/1.1 "$CGICOST" -f -n "$CGI_RUNS" cgi-min="$CGIMIN" \
    cgi-linked="$CGILINKED" cgi-healthz="$FCGI_BIN" >"$state/cgi_cost.out" \
    2>"$state/cgi_cost.err"; then
	cgi_start=$(tr '\n' ';' <"$state/cgi_cost.out")
else
	say "WARNING: cgi_cost failed: $(tail -3 "$state/cgi_cost.err")"
fi
fi

# --- report ------------------------------------------------------------------
rss_max=$sync_hwm
[ "$nosync_hwm" -gt "$rss_max" ] && rss_max=$nosync_hwm
[ "$proxy_hwm" -gt "$rss_max" ] && rss_max=$proxy_hwm
t_end=$(date +%s)
[ -s "$state/dead" ] && say "WARNING: FastCGI processes died during the run:" \
    "$(tr '\n' ' ' <"$state/dead")"

awk -v machine="$machine" -v rss_max="$rss_max" -v growth="$growth" \
    -v long_n="$long_n" -v long_errs="$long_errs" -v traj="$long_traj" \
    -v rss_warm="$rss_warm" -v rss_end="$rss_end" -v procs="$PROCS" \
    -v secs="$SECS" -v elapsed="$((t_end - t_start))" -v load0="$loadavg" \
    -v load1="$(cut -d' ' -f1-3 /proc/loadavg)" \
    -v psi0="$psi0" -v psi1="$(cpu_psi)" \
    -v recsz="$recsz" -v bs_cred="$bs_cred" -v bs_audit="$bs_audit" \
    -v bs_idem="$bs_idem" -v bs_count="${bs_count:+yes}" \
    -v cgi_start="${cgi_start:-}" -v cgi_runs="$CGI_RUNS" \
    -v json="$outdir/bench-results.json" '
# The ceilings of row n, the first the main one: "name:target ..." (target
# 0: a ratio shown without a target)
function ceils_of(n) {
	if (n == "healthz") return "empty-fcgi:0.9 empty-close:0"
	if (n == "list10") return "empty-fcgi:0.8 empty-close:0"
	if (n == "store-nocheck") return "empty-fcgi:0.5 empty-close:0"
	if (n == "store-write-nosync") return "empty-fcgi:0 empty-close:0"
	if (n == "store-sync") return "bdb-4proc:0.7 bdb-store-4proc:0.8"
	if (n == "store-sync-repl") return "store-sync:0"
	if (n == "cgi-store") return "cgi-linked:0.6 cgi-min:0"
	if (n == "cgi-healthz") return "cgi-linked:0.8"
	if (n == "proxy-get") return "relay:0.5"
	return ""
}
# Row i against ceiling c with target t: sets ratio and verdict, counts
# misses; returns the target column.
function judge(i, c, t) {
	ratio = ""; verdict = ""
	# the storage ceilings count processes, not connections
	ref = (c ~ /^bdb-/) ? anyc[c] : best[c " " conns[i]]
	if (ok[i] == 1 && ref > 0) ratio = sprintf("%.2f", rps[i] / ref)
	if (t == 0 || conns[i] != 16) return "-"
	if (ratio == "") verdict = "n/a"
	else if (ratio + 0 >= t) verdict = "ok"
	else { verdict = "MISS"; misses++ }
	return sprintf(">=%.2f %s", t, verdict)
}
function jnum(x) { return x == "" ? "null" : x }
# The value of key k in "k=v" fields of line l ("" when absent).
function kv(l, k,    f, nf, x) {
	nf = split(l, f, " ")
	for (x = 1; x <= nf; x++)
		if (index(f[x], k "=") == 1) return substr(f[x], length(k) + 2)
	return ""
}
# Prints the lines of cgi_cost (cgi_start: its output, lines joined by
# ";"); returns them as JSON ("" when it did not run).
function cgi_start_report(    nl, ln, x, fu, pu, pr, lf, hf, lc, hc, js) {
	if (cgi_start == "") return ""
	nl = split(cgi_start, ln, ";")
	printf "\nCGI start-up, each program run directly %d times in turns (GET /healthz):\n", cgi_runs
	js = ""
	for (x = 1; x <= nl; x++) {
		if (ln[x] == "") continue
		if (index(ln[x], "fault_us=") == 1) {
			fu = kv(ln[x], "fault_us"); pu = kv(ln[x], "populate_us")
			printf "  a page fault here: %s us (a page mapped by mmap with MAP_POPULATE: %s us)\n", fu, pu
			continue
		}
		if (ln[x] !~ /^[^ ]+ cpu_ms=[0-9.]+ wall_ms=[0-9.]+ faults=[0-9.]+$/) continue
		split(ln[x], pr, " ")
		printf "  %-12s CPU %7.2f ms  wall %7.2f ms  page faults %6.1f  (medians; faults: mean)\n",
		    pr[1], kv(ln[x], "cpu_ms"), kv(ln[x], "wall_ms"), kv(ln[x], "faults")
		if (pr[1] == "cgi-linked") { lc = kv(ln[x], "cpu_ms"); lf = kv(ln[x], "faults") }
		if (pr[1] == "cgi-healthz") { hc = kv(ln[x], "cpu_ms"); hf = kv(ln[x], "faults") }
		js = js sprintf("%s{\"name\": \"%s\", \"cpu_ms\": %s, \"wall_ms\": %s, \"faults\": %s}",
		    js == "" ? "" : ", ", pr[1], jnum(kv(ln[x], "cpu_ms")),
		    jnum(kv(ln[x], "wall_ms")), jnum(kv(ln[x], "faults")))
	}
	if (lc != "" && hc != "" && fu != "")
		printf "  cgi-healthz beyond cgi-linked: CPU %+.2f ms, page faults %+.1f (%.2f ms at %s us each)\n",
		    hc - lc, hf - lf, (hf - lf) * fu / 1000, fu
	return sprintf("{\"runs\": %d, \"fault_us\": %s, \"populate_us\": %s, \"programs\": [%s]}",
	    cgi_runs, jnum(fu), jnum(pu), js)
}
{
	k++; name[k] = $1; conns[k] = $2; rps[k] = $3; p50[k] = $4 / 1000
	p99[k] = $5 / 1000; reqs[k] = $6; errs[k] = $7; ok[k] = $8; rss[k] = $9
	if (ok[k] == 1) { best[$1 " " $2] = $3; anyc[$1] = $3 }
}
END {
	printf "\n%-19s %5s %10s %8s %8s  %-15s %6s  %-11s %8s\n", "name", "conns",
	    "req/s", "p50 ms", "p99 ms", "ceiling", "ratio", "target", "rss KiB"
	printf "%s\n", "--------------------------------------------------------------------------------------------------"
	out = sprintf("{\n  \"machine\": \"%s\",\n  \"settings\": {\"seconds\": %d, \"fastcgi_procs\": %d, \"record_bytes\": %d, \"store_record_bytes\": {\"credential\": %d, \"audit\": %d, \"idempotency\": %d}},\n  \"loadavg\": \"%s\",\n  \"cpu_pressure\": \"%s\",\n  \"results\": [\n", machine, secs, procs, recsz, bs_cred, bs_audit, bs_idem, load0, psi0)
	misses = 0
	# the order of the issue
	no = split("empty-fcgi empty-close healthz store-sync store-sync-repl store-write-nosync store-nocheck list10 cgi-min cgi-linked cgi-store cgi-healthz bdb-1proc bdb-4proc bdb-store-4proc relay proxy-get", order, " ")
	m = 0
	for (o = 1; o <= no; o++)
		for (i = 1; i <= k; i++)
			if (name[i] == order[o]) seq[++m] = i
	for (j = 1; j <= m; j++) {
		i = seq[j]
		nc = split(ceils_of(name[i]), cl, " ")
		c = ""; r1 = ""; jc = ""
		for (x = 1; x <= nc; x++) {
			split(cl[x], ct, ":")
			tg[x] = judge(i, ct[1], ct[2] + 0); rt[x] = ratio; cn[x] = ct[1]
			jc = jc sprintf("%s{\"name\": \"%s\", \"ratio\": %s, \"target\": %s}",
			    (x > 1 ? ", " : ""), ct[1], ratio == "" ? "null" : ratio,
			    (ct[2] + 0 > 0 ? ct[2] + 0 : "null"))
		}
		if (nc > 0) { c = cn[1]; r1 = rt[1] }
		if (ok[i] == -1) {
			printf "%-19s %5d %s\n", name[i], conns[i], "n/a (no proxy route)"
			out = out sprintf("    {\"name\": \"%s\", \"connections\": %d, \"rps\": null, \"ceiling\": %s, \"ratio\": null, \"ok\": null, \"note\": \"no proxy route\"}%s\n",
			    name[i], conns[i], c == "" ? "null" : "\"" c "\"", j < m ? "," : "")
			continue
		}
		shown = ok[i] ? sprintf("%10.0f", rps[i]) : sprintf("%10s", "FAILED")
		if (ok[i] && reqs[i] < 200) { shown = sprintf("%9.0f*", rps[i]); few++ }
		printf "%-19s %5d %s %8.2f %8.2f  %-15s %6s  %-11s %8s\n", name[i],
		    conns[i], shown, p50[i], p99[i], c == "" ? "-" : c,
		    r1 == "" ? "-" : r1, (nc > 0 ? tg[1] : "-"), rss[i]
		for (x = 2; x <= nc; x++)
			printf "%-19s %5s %10s %8s %8s  %-15s %6s  %s\n", "", "",
			    "", "", "", cn[x], rt[x] == "" ? "-" : rt[x], tg[x]
		out = out sprintf("    {\"name\": \"%s\", \"connections\": %d, \"rps\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"ceiling\": %s, \"ratio\": %s, \"ceilings\": [%s], \"requests\": %d, \"errors\": %d, \"ok\": %s, \"rss_kib\": %s}%s\n",
		    name[i], conns[i], ok[i] ? rps[i] : 0, p50[i], p99[i],
		    c == "" ? "null" : "\"" c "\"", r1 == "" ? "null" : r1, jc,
		    reqs[i], errs[i], ok[i] ? "true" : "false",
		    rss[i] == "-" ? "null" : rss[i], j < m ? "," : "")
		if (!ok[i]) failed++
	}
	if (few) printf "* fewer than 200 answers in the run: not a reliable figure\n"
	# the tail target of issue 14: p99 at most 4 times p50 at 64 connections,
	# for every credstore row
	tails = ""; tl = ""
	for (j = 1; j <= m; j++) {
		i = seq[j]
		if (conns[i] != 64 || !ok[i] || p50[i] <= 0 ||
		    name[i] !~ /^(healthz|list10|store-|cgi-store|cgi-healthz|proxy-get)/)
			continue
		tr = p99[i] / p50[i]
		v = tr <= 4 ? "ok" : "MISS"
		if (v == "MISS") misses++
		tl = tl sprintf("  %-19s p99/p50 %5.2f  %s\n", name[i], tr, v)
		tails = tails sprintf("%s{\"name\": \"%s\", \"p99_over_p50\": %.2f, \"ok\": %s}",
		    tails == "" ? "" : ", ", name[i], tr, v == "ok" ? "true" : "false")
	}
	if (tl != "")
		printf "\np99 at most 4 x p50 at 64 connections:\n%s", tl
	printf "\npeak RSS of a credstore FastCGI process (VmHWM): %d KiB (target < 16384): %s\n",
	    rss_max, rss_max < 16384 ? "ok" : "MISS"
	printf "flat RSS over %d requests (%d errors): VmRSS %s KiB after warm-up, %s KiB at the end; max growth %d KiB: %s\n",
	    long_n, long_errs, rss_warm, rss_end, growth, growth <= 128 ? "flat" : "GROWS"
	printf "  %s\n", traj
	printf "bdb record: %d bytes (the size of a stored credential)\n", recsz
	if (bs_cred > 0)
		printf "bdb-store records: credential %d bytes, audit %d, idempotency %d (0: none), per-tenant count: %s\n",
		    bs_cred, bs_audit, bs_idem, bs_count == "" ? "no" : "yes"
	cgi_json = cgi_start_report()
	printf "load average: %s at the start, %s at the end\n", load0, load1
	printf "CPU pressure (PSI some, avg60): %s at the start, %s at the end\n", psi0, psi1
	printf "rows failed: %d; targets missed: %d; took %d s\n", failed, misses, elapsed
	out = out sprintf("  ],\n  \"tails_64\": [%s],\n", tails)
	if (cgi_json != "")
		out = out sprintf("  \"cgi_start\": %s,\n", cgi_json)
	out = out sprintf("  \"rss_kib_max\": %d,\n  \"long_run\": {\"requests\": %d, \"errors\": %d, \"rss_growth_kib\": %d},\n  \"elapsed_s\": %d\n}\n",
	    rss_max, long_n, long_errs, growth, elapsed)
	printf "%s", out > json
	printf "wrote %s\n", json
	exit (failed > 0 ? 1 : 0)
}' "$results"
