#!/bin/sh
# The README's second command: installs what is missing, builds, and runs
# every test: unit and end-to-end tests with warnings as errors, the same
# under AddressSanitizer and UndefinedBehaviorSanitizer, the end-to-end
# tests under ThreadSanitizer, distcheck, and the Debian package end to
# end (SKIP_DEB=1 skips it, SKIP_DEVUP=1 the dev-up test), and
# replication across three sites (SKIP_REPL=1 skips it).
# Ends with "N passed, N failed" counted from the test programs' results.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh || exit 1

jobs=$(nproc 2>/dev/null || echo 2)
status=0
logs=""

step() { echo "== $*"; }

# A step that failed with no test program's result line to show it (a
# build, distcheck): one failure in the summary.
steps_failed=0
step_failed() {
	echo "step failed: $*"
	steps_failed=$((steps_failed + 1))
	status=1
}

build() {	# build DIR CONFIGURE-ARGS...
	dir=$1; shift
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	(cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1) ||
	    { tail -30 "$dir/configure.out"; return 1; }
	make -C "$dir" -j"$jobs" >"$dir/make.out" 2>&1 ||
	    { tail -40 "$dir/make.out"; return 1; }
}

runcheck() {	# runcheck DIR [MAKE-ARGS...]
	d=$1; shift
	make -C "$d" -j"$jobs" check "$@" >"$d/check.out" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|ERROR|XFAIL|XPASS|SKIP):' "$d/check.out"
	[ $rc -eq 0 ] || { cat "$d"/tests/*/*.log 2>/dev/null | grep -E ':[FE]:' | head -40; }
	logs="$logs $(ls "$d"/tests/*/*.log 2>/dev/null | grep -v test-suite.log)"
	return $rc
}

step "autoreconf"
autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; exit 1; }

lint_passed=0
lint_failed=0
step "make lint (banned functions, line, function and file length, include cycles)"
if sh scripts/lint.sh; then lint_passed=1; else lint_failed=1; status=1; fi

step "build (warnings are errors) and make check"
if build build; then runcheck build || status=1; else step_failed build; fi

# The sanitizer builds run the C test programs (every unit and end-to-end
# suite: the paths that handle memory); the deployment, browser and
# OpenAPI scripts check the same binaries' behaviour, which the build
# above has already shown, and would only double the run's time.
step "build with AddressSanitizer and UBSan, make check (unit and e2e)"
if build build-asan --enable-sanitizers; then
	progs=$(ls tests/unit/test_*.c tests/e2e/e2e_*.c | sed 's/\.c$//' |
	    tr '\n' ' ')
	ASAN_OPTIONS=detect_leaks=1 runcheck build-asan TESTS="$progs" ||
	    status=1
else
	step_failed "build with AddressSanitizer and UBSan"
fi

# ThreadSanitizer over the end-to-end suites: lighttpd runs credstore.fcgi
# with the default fcgi_threads (16), e2e_threads with 8 and 16 threads in
# one process.  A report stops the process (halt_on_error) and lands in
# lighttpd's output, where the suites look for it; tests/tsan.supp holds
# the few suppressions for libraries not built with TSan.
step "build with ThreadSanitizer, the end-to-end suites"
if build build-tsan --enable-tsan; then
	e2e=$(ls tests/e2e/e2e_*.c | sed 's/\.c$//' | tr '\n' ' ')
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$top/tests/tsan.supp" \
	    runcheck build-tsan TESTS="$e2e" || status=1
else
	step_failed "build with ThreadSanitizer"
fi

# A deterministic libFuzzer pass over every harness (tests/fuzz): the
# committed corpus replayed, then a fixed number of inputs from a fixed
# seed, so the same tree always runs the same inputs.  Long, random
# campaigns are `make fuzz`.
fuzz_passed=0
fuzz_failed=0
if [ "${SKIP_FUZZ:-0}" != 1 ]; then
	step "fuzz (corpus + FUZZ_RUNS=${FUZZ_RUNS:-50000} runs, seed ${FUZZ_SEED:-1})"
	FUZZ_RUNS=${FUZZ_RUNS:-50000} FUZZ_SEED=${FUZZ_SEED:-1} \
	    FUZZ_BUILD_DIR="$top/build/fuzz" \
	    sh tests/fuzz/fuzz.sh >build/fuzz.out 2>&1 || status=1
	grep -E '^fuzz_[a-z_]+: |^fuzz: ' build/fuzz.out
	fuzz_passed=$(grep -cE '^fuzz_[a-z_]+: ok' build/fuzz.out)
	fuzz_failed=$(grep -cE '^fuzz_[a-z_]+: (BUILD FAILED|FAILED|CRASH|LEAK)' build/fuzz.out)
	if ! grep -qE '^fuzz: [0-9]+ harness\(es\) clean' build/fuzz.out &&
	    [ "$fuzz_failed" -eq 0 ]; then
		fuzz_failed=1
	fi
fi

distcheck_passed=0
if [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
	step "make distcheck"
	# counted as one check: its test programs are the ones above, run
	# again from the release tarball
	if make -C build -j"$jobs" distcheck >build/distcheck.out 2>&1; then
		echo "distcheck: ok"
		distcheck_passed=1
	else
		tail -40 build/distcheck.out
		grep -E '^(FAIL|ERROR):' build/distcheck.out
		echo "distcheck: FAILED"
		step_failed distcheck
	fi
fi

# The scripts outside make check (root; slow): scripts/dev-up.sh beside a
# running lighttpd (tests/deb/devup.sh), and the Debian package built,
# linted, installed in a clean debootstrap root, used through lighttpd and
# purged (tests/deb/run.sh).  Each prints a Check-style result line.
if [ "${SKIP_DEVUP:-0}" != 1 ]; then
	step "dev-up.sh leaves the system's lighttpd alone (tests/deb/devup.sh)"
	sh tests/deb/devup.sh >build/devup.log 2>&1 || status=1
	grep -E '^FAIL' build/devup.log
	tail -1 build/devup.log
	logs="$logs build/devup.log"
fi
if [ "${SKIP_DEB:-0}" != 1 ]; then
	step "Debian package: build, lintian, install in a clean root, purge (tests/deb/run.sh)"
	sh tests/deb/run.sh >build/deb.log 2>&1
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 77 ] || status=1
	grep -E '^(FAIL|E: |W: )|SKIP' build/deb.log
	tail -1 build/deb.log
	logs="$logs build/deb.log"
fi

# Replication (SPEC section 11, `make check-repl`): three sites on this
# machine with their repl-serve and lighttpd, a failover under load and
# the old master's return, a key rotation (tests/repl/repl.sh, 1.5 to 6 min
# on 2 shared cores), and
# a partition in network namespaces (tests/repl/partition.sh, root and
# iproute2, about 40 s).  Each prints a Check-style result line; 77 is a
# skip (no lighttpd, or no network namespaces), printed as SKIP.
if [ "${SKIP_REPL:-0}" != 1 ]; then
	step "replication: three sites, failover, rejoin; a partition (tests/repl)"
	make -C build -j"$jobs" tests/mock/mockprov >build/repl-make.out 2>&1 ||
	    { tail -20 build/repl-make.out; step_failed "the mock, for replication"; }
	for t in repl partition; do
		top_srcdir=$top top_builddir=$top/build sh "tests/repl/$t.sh" \
		    >"build/$t.log" 2>&1
		rc=$?
		[ $rc -eq 0 ] || [ $rc -eq 77 ] || status=1
		grep -E '^FAIL|SKIP|ERROR' "build/$t.log"
		tail -1 "build/$t.log"
		logs="$logs build/$t.log"
	done
fi

# Count from the test programs' own result lines (Check prints
# "NN%: Checks: N, Failures: F, Errors: E"); a program that died without
# one counts as one failure.
passed=0
failed=0
for f in $logs; do
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$f" | tail -1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		echo "no result line in $f"
		continue
	fi
	n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	fl=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	er=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	passed=$((passed + n - fl - er))
	failed=$((failed + fl + er))
done
passed=$((passed + fuzz_passed + lint_passed + distcheck_passed))
failed=$((failed + fuzz_failed + lint_failed + steps_failed))
[ "$failed" -eq 0 ] || status=1
# a step that failed must show in the count, whatever it printed
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "a step failed without a test result"
	failed=1
fi
echo "$passed passed, $failed failed"
exit $status
