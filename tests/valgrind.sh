#!/bin/sh
# check-valgrind: the end-to-end suites with every credstore.fcgi process
# under valgrind (memcheck, full leak check).  lighttpd starts a wrapper
# script in place of credstore.fcgi (the harness reads
# CREDSTORE_FCGI_WRAPPER); valgrind writes one log per process, and this
# script fails when any log reports an error or a leak.
#
# usage: tests/valgrind.sh [SUITE...]
#   SUITE: e2e_store, e2e_lifecycle, ... (default: every e2e program built)
# environment: top_srcdir and top_builddir, as `make check-valgrind` sets
# them; KEEP_VALGRIND=1 keeps the logs.
#
# e2e_hygiene is not in the default list: it dumps the FastCGI process's
# memory, which under valgrind is valgrind's.  A suite that fails under
# valgrind for its own reasons (a timing limit) is reported, and fails the
# run too unless VALGRIND_SUITES_MAY_FAIL=1.

set -u
: "${top_srcdir:?set top_srcdir}" "${top_builddir:?set top_builddir}"
export top_srcdir top_builddir

# every end-to-end program that is built, but e2e_hygiene
SUITES=
for f in "$top_builddir"/tests/e2e/e2e_*; do
	n=${f##*/}
	case "$n" in
	*.o|*.log|*.trs|e2e_hygiene) continue ;;
	esac
	[ -f "$f" ] && [ -x "$f" ] && SUITES="$SUITES $n"
done
[ $# -gt 0 ] && SUITES="$*"
[ -n "$SUITES" ] || { echo "valgrind.sh: no e2e suite built" >&2; exit 1; }

command -v valgrind >/dev/null 2>&1 || {
	echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2
	exit 1
}
fcgi="$(cd "$top_builddir/cgi-bin" && pwd -P)/credstore.fcgi"
[ -x "$fcgi" ] || { echo "valgrind.sh: no $fcgi (run make first)" >&2; exit 1; }

vgdir=$(mktemp -d /tmp/credstore-valgrind-XXXXXX) || exit 1
wrapper="$vgdir/credstore.fcgi.sh"
supp="$(cd "$(dirname "$0")" && pwd -P)/valgrind.supp"
suppopt=
[ -f "$supp" ] && suppopt="--suppressions=$supp"
cat >"$wrapper" <<EOF
#!/bin/sh
exec valgrind --leak-check=full \\
	--show-leak-kinds=definite,indirect,possible \\
	--errors-for-leak-kinds=definite,indirect,possible \\
	--error-exitcode=1 --track-origins=yes --num-callers=30 \\
	--child-silent-after-fork=yes $suppopt \\
	--log-file="$vgdir/vg.%p.log" "$fcgi" "\$@"
EOF
chmod 755 "$wrapper"

# Waits for the valgrind processes of this run to finish their leak check.
wait_valgrind() {
	i=0
	while pgrep -f -- "--log-file=$vgdir/" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 600 ]; then
			echo "valgrind.sh: valgrind processes still running," \
			    "ending them" >&2
			for p in $(pgrep -f -- "--log-file=$vgdir/"); do
				kill -9 "$p" 2>/dev/null
			done
			break
		fi
		sleep 0.1
	done
}

# What counts as a finding in a valgrind log.  A process killed with
# SIGKILL (the crash tests) writes no summary, but its errors are logged
# as they happen.
FINDINGS='ERROR SUMMARY: [1-9]|are (definitely|indirectly|possibly) lost|(definitely|indirectly|possibly) lost: [1-9]|Invalid (read|write|free)|uninitialised|Mismatched free|overlap|Jump to the invalid address|Process terminating with default action of signal (11|7|6|4|8)'

passed=0
failed=0
for s in $SUITES; do
	prog="$top_builddir/tests/e2e/$s"
	if [ ! -x "$prog" ]; then
		echo "valgrind.sh: no $prog" >&2
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$vgdir/$s"
	sed -i "s|$vgdir/[^\"]*vg\\.%p\\.log|$vgdir/$s/vg.%p.log|" "$wrapper"
	echo "== $s under valgrind"
	CREDSTORE_FCGI_WRAPPER="$wrapper" "$prog"
	rc=$?
	wait_valgrind
	ok=1
	n=$(ls "$vgdir/$s" | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "valgrind.sh: $s: no valgrind log: the wrapper was not used" >&2
		ok=0
	fi
	bad=$(grep -lE "$FINDINGS" "$vgdir/$s"/vg.*.log 2>/dev/null)
	if [ -n "$bad" ]; then
		ok=0
		echo "valgrind.sh: $s: valgrind findings in:" $bad >&2
		for f in $bad; do
			echo "---- $f" >&2
			sed -n '1,200p' "$f" >&2
		done
	fi
	if [ $rc -ne 0 ]; then
		echo "valgrind.sh: $s: the suite failed under valgrind (exit $rc)" >&2
		[ "${VALGRIND_SUITES_MAY_FAIL:-0}" = 1 ] || ok=0
	fi
	# processes that exited and ran the leak check (the others were
	# killed on purpose, by a test or at lighttpd's shutdown)
	checked=$(grep -l "ERROR SUMMARY" "$vgdir/$s"/vg.*.log 2>/dev/null |
	    wc -l)
	if [ $ok -eq 1 ]; then
		echo "valgrind.sh: $s: $n FastCGI processes ($checked ran the" \
		    "leak check at exit), no valgrind finding"
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

if [ "${KEEP_VALGRIND:-0}" = 1 ]; then
	echo "valgrind.sh: logs kept in $vgdir"
else
	rm -rf "$vgdir"
fi
echo "valgrind: $passed passed, $failed failed"
[ $failed -eq 0 ]
