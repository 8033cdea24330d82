#!/bin/sh
# Installs what credstore needs from Debian's packages, only when something
# is missing.  Debian 12 (bookworm), as root.
#
#   sh scripts/deps.sh --run     building and running (scripts/dev-up.sh)
#   sh scripts/deps.sh           that, and everything the tests use
#                                (scripts/test.sh)
#   sh scripts/deps.sh PKG...    and these too
#
# It never stops, disables or reconfigures a service.  A web server it
# installs is not started by the installation (a policy-rc.d that refuses
# every start is in place while apt-get runs, unless the machine already
# has one): Debian would start it on port 80.  Debian still enables it
# for the next boot, as for any package.
set -eu

# building and running
RUN_PKGS="build-essential autoconf automake libtool pkg-config
libfcgi-dev libjson-c-dev libgnutls28-dev libcurl4-gnutls-dev libdb5.3-dev
libcurl3-gnutls lighttpd curl"
# the tests: Check, the web servers of tests/deploy, the browser suite,
# sanitizers, fuzzing, valgrind, the benchmark, the Debian package test,
# the replication tests (ip for network namespaces; perl picks ports)
TEST_PKGS="check db5.3-util gnutls-bin procps openssl iproute2 perl
apache2 libapache2-mod-fcgid nginx spawn-fcgi
chromium fonts-dejavu-core nodejs gdb valgrind clang libclang-rt-14-dev wrk
debhelper lintian debootstrap fakeroot"

PKGS=$RUN_PKGS
if [ "${1:-}" = --run ]; then
	shift
else
	PKGS="$PKGS $TEST_PKGS"
	# npm only when missing: a NodeSource nodejs bundles it, and Debian's
	# npm package would pull an older node stack in beside it.
	command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
fi
[ $# -gt 0 ] && PKGS="$PKGS $*"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -n "$missing" ] || exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: run as root (or install:$missing)" >&2
	exit 1
fi
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs\nexit 101\n' \
	    >"$policy"
	chmod 755 "$policy"
	ours=1
	trap 'rm -f "$policy"' EXIT
	trap 'rm -f "$policy"; exit 1' INT TERM HUP
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -z "$ours" ] || rm -f "$policy"
exit 0
