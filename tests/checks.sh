# tests/checks.sh: the result lines of the test scripts, sourced by
# tests/deploy/*.sh and tests/repl/*.sh.  Each prints one line per check
# and ends with the Check-style line that scripts/test.sh counts:
#   NN%: Checks: N, Failures: F, Errors: 0
# The script sets check_name (its name, for skip and broken) and may set
# check_label (printed after PASS/FAIL: the server or mode under test).
checks=0
failures=0
check_label=

summary() {
	pct=100
	[ "$checks" -gt 0 ] && pct=$(( (checks - failures) * 100 / checks ))
	echo "$pct%: Checks: $checks, Failures: $failures, Errors: 0"
}
skip() {	# exit 77: automake's skip
	echo "$check_name: SKIP: $*"
	summary
	exit 77
}
broken() {	# counted as one failed check, so a summary sees it
	echo "$check_name: ERROR: $*" >&2
	checks=$((checks + 1))
	failures=$((failures + 1))
	summary
	exit 99
}
check() {	# check OK|"" NAME [DETAIL]
	checks=$((checks + 1))
	if [ -n "$1" ]; then
		echo "PASS${check_label:+ $check_label}: $2"
	else
		failures=$((failures + 1))
		echo "FAIL${check_label:+ $check_label}: $2${3:+ ($3)}"
	fi
}
