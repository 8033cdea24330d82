#!/bin/sh
# The Debian package end to end (issue 18):
#   1. builds it with dpkg-buildpackage from a copy of the tree (the source
#      tree stays clean), runs lintian (any E: fails);
#   2. makes a clean Debian 12 root with debootstrap (minbase; the result
#      is cached as a tarball, so the next run only unpacks it);
#   3. apt-get install ./credstore_*.deb in it, plus lighttpd;
#   4. starts the FastCGI program with the command line of the shipped
#      systemd unit (ExecStart= and Environment= read from the unit file,
#      RuntimeDirectory= made by hand: no systemd runs in a chroot);
#   5. enables the shipped lighttpd snippet, mints a token with
#      credstore-admin in the root, stores a Datadog credential through
#      lighttpd (201; the check's origin is a closed local port, so the
#      credential is "unverified") and reads it back;
#   6. apt-get purge credstore, and asserts that nothing of the package is
#      left: files, user, group, data folder, processes.
# The root shares the network: lighttpd listens on a free 127.0.0.1 port.
#
#   sh tests/deb/run.sh            (root; scripts/test.sh runs it)
# Environment:
#   DEB_WORK    work folder (default: TOP/build-deb; not build/, which
#               scripts/test.sh removes on every run)
#   DEB_MIRROR  the Debian mirror (default: the first bookworm URI of
#               /etc/apt/sources.list*, else http://deb.debian.org/debian)
#   KEEP_DEB    set: keep the root after the run
#
# Prints ok/FAIL per check, then one Check-style line
# "NN%: Checks: N, Failures: F, Errors: 0"; exits 0 when nothing failed,
# 77 when not root or the tools are missing.
set -u
umask 022

top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
work=${DEB_WORK:-$top/build-deb}
root=$work/root
base=$work/cache/bookworm-minbase-lighttpd.tar
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

checks=0
failures=0
fcgi_pid=""
lighttpd_pid=""

summary() {
	pct=100
	[ "$checks" -gt 0 ] && pct=$(( (checks - failures) * 100 / checks ))
	echo "$pct%: Checks: $checks, Failures: $failures, Errors: 0"
}

pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
check() {	# check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}
fatal() {	# a step the rest depends on failed: one failure, then stop
	fail "$*"
	summary
	exit 1
}

in_root() { chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# a process that runs (a zombie waiting for this script's wait is gone)
alive() {
	[ -n "$1" ] && ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'
}

cleanup() {
	# only the processes this script started, by their pid
	for p in $lighttpd_pid $fcgi_pid; do
		alive "$p" && kill "$p" 2>/dev/null
	done
	if mountpoint -q "$root/proc" 2>/dev/null; then
		umount "$root/proc" || umount -l "$root/proc"
	fi
	[ -n "${KEEP_DEB:-}" ] || rm -rf "$root"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "deb: SKIP: needs root (chroot, debootstrap)"
	summary
	exit 77
fi
for t in dpkg-buildpackage lintian debootstrap fakeroot curl; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "deb: SKIP: $t missing (scripts/deps.sh installs it)"
		summary
		exit 77
	fi
done

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' \
	    2>/dev/null && return
	# no python: a port from the ephemeral range nobody listens on
	p=$(( 20000 + $$ % 20000 ))
	while ss -ltn 2>/dev/null | grep -q ":$p "; do p=$((p + 1)); done
	echo "$p"
}

mirror() {
	[ -n "${DEB_MIRROR:-}" ] && { echo "$DEB_MIRROR"; return; }
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null |
	    sed -n -e 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\(https\{0,1\}:[^ ]*\) *bookworm .*/\2/p' \
	    -e 's/^URIs: *\(https\{0,1\}:[^ ]*debian\)$/\1/p' | head -1)
	echo "${m:-http://deb.debian.org/debian}"
}

# --- 1. build the package from a copy of the tree, lintian
rm -rf "$work/pkg" && mkdir -p "$work/pkg/src" "$work/cache" || fatal "work folder $work"
if [ -d "$top/.git" ] || [ -f "$top/.git" ]; then
	(cd "$top" && { git ls-files; git ls-files --others --exclude-standard; } |
	    sort -u | while read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
	    tar -cf - -T -) | tar -xf - -C "$work/pkg/src"
else	# a release tarball: everything but build output
	(cd "$top" && tar -cf - --exclude='./build*' .) | tar -xf - -C "$work/pkg/src"
fi
[ -f "$work/pkg/src/debian/control" ] || fatal "copy of the tree has no debian/"
echo "deb: dpkg-buildpackage (log: $work/pkg/build.log)"
if (cd "$work/pkg/src" && dpkg-buildpackage -us -uc -b) >"$work/pkg/build.log" 2>&1; then
	pass "dpkg-buildpackage -us -uc -b builds the package"
else
	tail -30 "$work/pkg/build.log"
	fatal "dpkg-buildpackage -us -uc -b"
fi
deb=$(ls "$work"/pkg/credstore_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fatal "no credstore_*.deb built"
check "the source tree has no build output of the package" \
    test ! -e "$top/debian/credstore" -a ! -e "$top/debian/files"

lintian "$work"/pkg/credstore_*.changes >"$work/pkg/lintian.out" 2>&1
lrc=$?
grep -E '^[EW]: ' "$work/pkg/lintian.out"
if [ $lrc -le 1 ] && ! grep -q '^E: ' "$work/pkg/lintian.out"; then
	pass "lintian: no error ($(grep -c '^W: ' "$work/pkg/lintian.out") warnings)"
else
	fail "lintian: errors (exit $lrc, $work/pkg/lintian.out)"
fi

dpkg-deb -f "$deb" Depends >"$work/pkg/depends"
check "Depends: names libcurl3-gnutls (loaded by dlopen)" grep -q 'libcurl3-gnutls' "$work/pkg/depends"
check "Depends: names spawn-fcgi" grep -q 'spawn-fcgi' "$work/pkg/depends"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles >"$work/pkg/conffiles" 2>/dev/null
check "/etc/credstore/credstore.conf is a conffile" \
    grep -qx /etc/credstore/credstore.conf "$work/pkg/conffiles"
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$work/pkg/files"
for f in /usr/libexec/credstore/credstore.fcgi /usr/sbin/credstore-admin \
    /usr/share/credstore/catalog.json /usr/share/credstore/templates/login.html \
    /usr/share/man/man8/credstore-admin.8.gz /usr/share/man/man5/credstore.conf.5.gz \
    /lib/systemd/system/credstore.service /usr/lib/sysusers.d/credstore.conf \
    /etc/lighttpd/conf-available/50-credstore.conf \
    /etc/apache2/conf-available/credstore.conf; do
	check "the package ships $f" grep -qx "$f" "$work/pkg/files"
done

# --- 2. a clean root: debootstrap once, then unpack the cached tarball
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
rm -rf "$root"
if [ ! -s "$base" ]; then
	m=$(mirror)
	echo "deb: debootstrap bookworm (minbase) from $m, once (cache: $base)"
	rm -rf "$work/cache/base"
	if ! debootstrap --variant=minbase bookworm "$work/cache/base" "$m" \
	    >"$work/cache/debootstrap.log" 2>&1; then
		tail -20 "$work/cache/debootstrap.log"
		fatal "debootstrap bookworm from $m"
	fi
	# no service starts inside the root (lighttpd would take port 80 of
	# the machine: the root shares its network)
	printf '#!/bin/sh\nexit 101\n' >"$work/cache/base/usr/sbin/policy-rc.d"
	chmod 755 "$work/cache/base/usr/sbin/policy-rc.d"
	if ! chroot "$work/cache/base" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
	    sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends lighttpd curl && apt-get clean' \
	    >>"$work/cache/debootstrap.log" 2>&1; then
		tail -20 "$work/cache/debootstrap.log"
		fatal "lighttpd in the clean root"
	fi
	(cd "$work/cache/base" && tar -cf "$base.tmp" .) && mv "$base.tmp" "$base" ||
	    fatal "caching the root"
	rm -rf "$work/cache/base"
fi
mkdir -p "$root" && tar -xf "$base" -C "$root" || fatal "unpacking $base"
pass "a clean Debian 12 root ($root)"
mount -t proc proc "$root/proc" || fatal "mount /proc in the root"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null

# --- 3. install the package
cp "$deb" "$root/tmp/" || fatal "copy the package into the root"
debname=$(basename "$deb")
echo "deb: apt-get install ./$debname in the root"
if in_root sh -c "cd /tmp && apt-get update -qq && apt-get install -y -q ./$debname" \
    >"$work/install.log" 2>&1; then
	pass "apt-get install -y ./$debname in a clean root"
else
	tail -20 "$work/install.log"
	fatal "apt-get install ./$debname"
fi
check "the package does not pull in systemd (the user comes from adduser here)" \
    sh -c "! chroot '$root' dpkg -s systemd >/dev/null 2>&1"
check "the system user credstore exists" sh -c "chroot '$root' getent passwd credstore >/dev/null"
owner() { in_root stat -c '%U:%G %a' "$1" 2>/dev/null; }
check "/var/lib/credstore is credstore:credstore 0700" test "$(owner /var/lib/credstore)" = "credstore:credstore 700"
check "the keyring is credstore:credstore 0600" test "$(owner /var/lib/credstore/keyring)" = "credstore:credstore 600"
check "the JWT secret is credstore:credstore 0600" test "$(owner /var/lib/credstore/jwt.secret)" = "credstore:credstore 600"
check "data_dir is credstore:credstore 0700" test "$(owner /var/lib/credstore/data)" = "credstore:credstore 700"
sum_before=$(sha256sum "$root/var/lib/credstore/keyring" | cut -d' ' -f1)
in_root dpkg-reconfigure credstore >/dev/null 2>&1
check "postinst again (dpkg-reconfigure) keeps the keyring" \
    test "$(sha256sum "$root/var/lib/credstore/keyring" | cut -d' ' -f1)" = "$sum_before"

# the check of a stored credential goes to a closed local port: unverified
probe_port=$(free_port)
echo "probe_origin_override = http://127.0.0.1:$probe_port" >>"$root/etc/credstore/credstore.conf"
echo "probe_timeout_ms = 2000" >>"$root/etc/credstore/credstore.conf"

# --- 4. the unit's command line, as systemd would run it
unit=$root/lib/systemd/system/credstore.service
execstart=$(sed -n 's/^ExecStart=//p' "$unit")
envs=$(sed -n 's/^Environment=//p' "$unit")
rundir=$(sed -n 's/^RuntimeDirectory=//p' "$unit")
[ -n "$execstart" ] || fatal "no ExecStart= in the unit"
check "the unit restarts on failure" grep -qx 'Restart=on-failure' "$unit"
for opt in ProtectSystem=strict ReadWritePaths=/var/lib/credstore NoNewPrivileges=yes PrivateTmp=yes; do
	check "the unit sets $opt" grep -qx "$opt" "$unit"
done
mkdir -p "$root/run/$rundir"
echo "deb: ExecStart=$execstart"
# not through in_root: $! must be the pid that becomes credstore.fcgi
# (chroot, env, spawn-fcgi -n and the program exec one another)
# shellcheck disable=SC2086
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin $envs $execstart \
    >"$work/fcgi.log" 2>&1 &
fcgi_pid=$!
sock=$(echo "$execstart" | sed -n 's/.* -s \([^ ]*\).*/\1/p')
i=0
while [ ! -S "$root$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the unit's command line makes the socket $sock" test -S "$root$sock"
check "the socket is www-data's, mode 0660" test "$(owner "$sock")" = "www-data:www-data 660"
sleep 0.3
cs_uid=$(in_root id -u credstore)
check "credstore.fcgi runs as credstore (pid $fcgi_pid, uid $cs_uid)" \
    test "$(ps -o uid= -p "$fcgi_pid" 2>/dev/null | tr -d ' ')" = "$cs_uid"
check "that process is credstore.fcgi itself (spawn-fcgi -n execs it)" \
    test "$(ps -o comm= -p "$fcgi_pid" 2>/dev/null)" = credstore.fcgi

# --- 5. lighttpd with the shipped snippet
port=$(free_port)
sed -i -e "s/^server.port .*/server.port = $port/" "$root/etc/lighttpd/lighttpd.conf"
echo 'server.bind = "127.0.0.1"' >>"$root/etc/lighttpd/lighttpd.conf"
in_root lighty-enable-mod credstore >"$work/lighty.log" 2>&1
check "lighty-enable-mod credstore enables the snippet" test -L "$root/etc/lighttpd/conf-enabled/50-credstore.conf"
check "and its dependency fastcgi" test -L "$root/etc/lighttpd/conf-enabled/10-fastcgi.conf"
if in_root lighttpd -tt -f /etc/lighttpd/lighttpd.conf >>"$work/lighty.log" 2>&1; then
	pass "lighttpd accepts its configuration with the snippet"
else
	cat "$work/lighty.log"
	fatal "lighttpd -tt"
fi
chroot "$root" /usr/sbin/lighttpd -D -f /etc/lighttpd/lighttpd.conf >>"$work/lighty.log" 2>&1 &
lighttpd_pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/healthz" || [ $i -gt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
code=$(curl -s -o "$work/healthz" -w '%{http_code}' "http://127.0.0.1:$port/healthz")
check "GET /healthz through lighttpd: 200 (got $code)" test "$code" = 200
curl -s -D "$work/root.hdr" -o /dev/null "http://127.0.0.1:$port/"
check "other paths stay lighttpd's (GET / is not credstore's JSON)" \
    sh -c "grep -qi '^HTTP/' '$work/root.hdr' && ! grep -qi '^content-type: application/json' '$work/root.hdr'"

token=$(in_root credstore-admin token --sub deb-test --tenant t1 --role admin --ttl 600 2>"$work/token.err")
check "credstore-admin token in the root mints a token" test -n "$token"
code=$(curl -s -o "$work/store.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data '{"credentials": {"api_key": "0123456789abcdef0123456789abcdef", "application_key": "0123456789abcdef0123456789abcdef01234567"}, "label": "deb"}' \
    "http://127.0.0.1:$port/v1/integrations/datadog/credentials")
check "POST a Datadog credential through lighttpd: 201 (got $code: $(head -c 300 "$work/store.json"))" \
    test "$code" = 201
id=$(sed -n 's/.*"credentialId" *: *"\([^"]*\)".*/\1/p' "$work/store.json")
check "the answer names the new credential ($id)" test -n "$id"
code=$(curl -s -o "$work/get.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/v1/integrations/datadog/credentials/$id")
check "GET it back: 200 (got $code)" test "$code" = 200
check "the answer is that credential, label \"deb\"" \
    sh -c "grep -q '\"credentialId\":\"$id\"' '$work/get.json' && grep -q '\"label\":\"deb\"' '$work/get.json'"
check "and carries no value" sh -c "! grep -q 0123456789abcdef '$work/get.json'"
check "the record is in /var/lib/credstore/data (credstore-admin list)" \
    sh -c "chroot '$root' credstore-admin list --tenant t1 | grep -q '$id'"

kill "$lighttpd_pid" 2>/dev/null
wait "$lighttpd_pid" 2>/dev/null
lighttpd_pid=""

# --- 6. purge
echo "deb: apt-get purge -y credstore"
if in_root apt-get purge -y -q credstore >"$work/purge.log" 2>&1; then
	pass "apt-get purge -y credstore"
else
	tail -20 "$work/purge.log"
	fail "apt-get purge -y credstore"
fi
left=""
while read -r f; do
	case $f in */) continue ;; esac
	[ -e "$root$f" ] || [ -L "$root$f" ] && left="$left $f"
done <"$work/pkg/files"
check "no file of the package is left${left:+ (left:$left)}" test -z "$left"
for d in /etc/credstore /var/lib/credstore /usr/libexec/credstore /usr/share/credstore \
    /usr/share/doc/credstore "/run/$rundir"; do
	check "$d is gone" test ! -e "$root$d"
done
check "the link lighty-enable-mod made is gone" test ! -L "$root/etc/lighttpd/conf-enabled/50-credstore.conf"
check "the user credstore is gone" sh -c "! chroot '$root' getent passwd credstore"
check "the group credstore is gone" sh -c "! chroot '$root' getent group credstore"
i=0
while alive "$fcgi_pid" && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
check "the FastCGI process is gone (prerm stopped it)" sh -c "! ps -o stat= -p $fcgi_pid | grep -qv '^Z'"
wait "$fcgi_pid" 2>/dev/null
fcgi_pid=""
check "dpkg knows no credstore" sh -c "! chroot '$root' dpkg -s credstore >/dev/null 2>&1"

summary
[ "$failures" -eq 0 ]
