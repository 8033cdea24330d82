#!/bin/sh
# Installs what credstore needs to build and test, from Debian's packages,
# only when something is missing.  Debian 12 (bookworm), as root.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libfcgi-dev libjson-c-dev libgnutls28-dev libcurl4-gnutls-dev libdb5.3-dev
check lighttpd curl db5.3-util gnutls-bin procps openssl
apache2 libapache2-mod-fcgid nginx spawn-fcgi
chromium fonts-dejavu-core nodejs gdb valgrind clang libclang-rt-14-dev wrk"
# npm only when missing: a NodeSource nodejs bundles it, and Debian's npm
# package would pull an older node stack in beside it.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
[ $# -gt 0 ] && PKGS="$PKGS $*"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: run as root (or install:$missing)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Debian starts the web servers on port 80 when it installs them; the
# project runs its own instances on other ports.
for svc in lighttpd apache2 apache-htcacheclean nginx; do
	if command -v systemctl >/dev/null 2>&1; then
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	fi
	service "$svc" stop >/dev/null 2>&1 || true
done
exit 0
