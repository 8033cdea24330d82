#!/bin/sh
# Builds the libFuzzer harnesses of tests/fuzz with clang (ASan, UBSan and
# LeakSanitizer) straight from the sources, and runs each one for
# FUZZ_SECONDS seconds on a copy of its seed corpus, so the committed
# corpus only changes when someone copies a case into it.
#
#   tests/fuzz/fuzz.sh [NAME...]	NAME: jwt, json_body, ... (default: all)
#
# Environment:
#   FUZZ_SECONDS	seconds per harness (default 10); 0 runs the seed
#			corpus once and stops (a quick regression run)
#   FUZZ_RUNS		instead of FUZZ_SECONDS: replay the seed corpus, then
#			exactly this many generated inputs from FUZZ_SEED
#			(default 1): the same inputs on every run (CI)
#   FUZZ_SEED		libFuzzer's -seed with FUZZ_RUNS (default 1)
#   FUZZ_RSS_MB		memory limit of one run in MB (default 2048): over
#			it is a failure with the input saved, never a flake
#   FUZZ_BUILD_DIR	binaries, logs and work corpora
#			(default ${TMPDIR:-/tmp}/credstore-fuzz)
#   FUZZ_CC		the compiler (default clang; needs libFuzzer)
#   FUZZ_TIMEOUT	seconds one input may take before it is a failure
#			(default 10)
#   FUZZ_BUILD_ONLY	1: build, do not run
#
# Exits non-zero when a harness does not build, or when a run ends with a
# crash, a leak, a sanitizer report or a timeout.  Prints one line per
# harness with libFuzzer's final execution count and rate, then a summary.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${FUZZ_SECONDS:-10}
bdir=${FUZZ_BUILD_DIR:-${TMPDIR:-/tmp}/credstore-fuzz}
cc=${FUZZ_CC:-clang}
timeout=${FUZZ_TIMEOUT:-10}
all="jwt json_body form_body config catalog jsonx jflat probe_render credset
router jwks session tmpl mount proxypath"
names=${*:-$all}

runs=${FUZZ_RUNS:-}
seed=${FUZZ_SEED:-1}
rss=${FUZZ_RSS_MB:-2048}
for v in "$secs" "${runs:-0}" "$seed" "$rss"; do
	case $v in
	''|*[!0-9]*) echo "fuzz: FUZZ_SECONDS, FUZZ_RUNS, FUZZ_SEED and" \
	    "FUZZ_RSS_MB take whole numbers" >&2; exit 2 ;;
	esac
done

# Sources a harness needs besides tests/fuzz/fuzz_NAME.c and the modules
# of src/ (linked from one static library: each harness pulls what it uses).
extra_sources() {
	case $1 in
	json_body|form_body)	echo "$here/body_fixture.c" ;;
	jwt|config|catalog|jsonx|jflat|probe_render|credset|router|jwks|session|tmpl|\
	mount|proxypath)
				;;
	*)			return 1 ;;
	esac
}

# Longest input libFuzzer generates: a little past each parser's limit.
maxlen() {
	case $1 in
	jwt)		echo 9000 ;;	# JWT_MAX_TOKEN is 8192
	config)		echo 9000 ;;	# lines up to 4096 bytes
	credset)	echo 8192 ;;	# values up to 4096 bytes
	*)		echo 4096 ;;
	esac
}

mkdir -p "$bdir" || exit 1
# What src/*.c take from the configure-generated header.
cat >"$bdir/cs_build.h.$$" <<'EOF'
/* Written by tests/fuzz/fuzz.sh: the macros src/ takes from cs_build.h. */
#define PACKAGE_VERSION "fuzz"
#define _GNU_SOURCE 1
EOF
mv "$bdir/cs_build.h.$$" "$bdir/cs_build.h" || exit 1

if ! deps=$(pkg-config --cflags --libs gnutls json-c libcurl); then
	echo "fuzz: pkg-config cannot find gnutls, json-c or libcurl" >&2
	exit 1
fi
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer
    -fsanitize=address,undefined -fno-sanitize-recover=all
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -I$bdir -I$top/src -I$here"
# every module of src/ but the command-line tool's main, once, into one
# library: each harness links only the objects it uses
lib=$bdir/libsrc.a
rm -f "$lib"
mkdir -p "$bdir/obj" || exit 1
# the OpenAPI document as api.c takes it (Makefile.am's src/openapi_doc.c)
{
	echo '#include "cs_build.h"'; echo '#include "api.h"'
	echo 'const unsigned char api_openapi_doc[] = {'
	od -An -v -tu1 "$top/etc/openapi.json" |
	    awk '{ for (i = 1; i <= NF; i++) printf "%s,", $i; print "" }'
	echo '0 };'
	echo 'const size_t api_openapi_doc_len = sizeof(api_openapi_doc) - 1;'
} >"$bdir/openapi_doc.c" || exit 1
for f in "$top"/src/*.c "$bdir/openapi_doc.c"; do
	case $f in */credstore-admin.c) continue ;; esac
	o=$bdir/obj/$(basename "$f" .c).o
	# shellcheck disable=SC2086	# word splitting is wanted here
	if ! $cc $cflags -fsanitize=fuzzer-no-link \
	    $(pkg-config --cflags gnutls json-c libcurl) -c -o "$o" "$f" \
	    >"$bdir/build-lib.log" 2>&1; then
		cat "$bdir/build-lib.log"
		echo "fuzz: BUILD FAILED: $f"
		exit 1
	fi
	ar rc "$lib" "$o" || exit 1
done

status=0
failed=""
total=0
n_ok=0

for n in $names; do
	if ! src=$(extra_sources "$n"); then
		echo "fuzz_$n: no such harness (have: $all)"
		status=1; failed="$failed $n"; continue
	fi
	bin=$bdir/fuzz_$n
	# shellcheck disable=SC2086	# word splitting is wanted here
	if ! $cc $cflags -fsanitize=fuzzer -o "$bin" "$here/fuzz_$n.c" $src \
	    "$lib" $deps -ldb -lfcgi -lm \
	    >"$bdir/build-$n.log" 2>&1; then
		cat "$bdir/build-$n.log"
		echo "fuzz_$n: BUILD FAILED"
		status=1; failed="$failed $n"; continue
	fi
	[ -s "$bdir/build-$n.log" ] && cat "$bdir/build-$n.log"
	[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && { echo "fuzz_$n: built"; continue; }

	work=$bdir/work/$n
	rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts" || exit 1
	if [ -d "$here/corpus/$n" ]; then
		cp "$here/corpus/$n"/* "$work/corpus/" 2>/dev/null
	fi
	set -- -detect_leaks=1 -print_final_stats=1 -timeout="$timeout" \
	    -rss_limit_mb="$rss" -malloc_limit_mb="$rss" \
	    -max_len="$(maxlen "$n")" -artifact_prefix="$work/artifacts/"
	[ -f "$here/$n.dict" ] && set -- "$@" -dict="$here/$n.dict"
	if [ -n "$runs" ]; then
		set -- "$@" -runs="$runs" -seed="$seed"
	elif [ "$secs" -eq 0 ]; then
		set -- "$@" -runs=0
	else
		set -- "$@" -max_total_time="$secs"
	fi
	echo "fuzz_$n: $bin $* $work/corpus" >"$work/command"
	(cd "$work" &&
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:symbolize=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    "$bin" "$@" "$work/corpus" >"$work/log" 2>&1)
	rc=$?

	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
	arts=$(ls "$work/artifacts" 2>/dev/null)
	if [ $rc -ne 0 ] || [ -n "$arts" ] || grep -Eq \
	    'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^SUMMARY: ' \
	    "$work/log"; then
		echo "fuzz_$n: FAILED (exit $rc) after ${execs:-?} executions"
		grep -E -m1 -A40 \
		    'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|==ERROR|deadly signal' \
		    "$work/log"
		for a in $arts; do
			echo "fuzz_$n: input $work/artifacts/$a:"
			od -An -tx1 "$work/artifacts/$a" | head -20
			echo "  reproduce: $bin $work/artifacts/$a"
			echo "  minimize:  $bin -minimize_crash=1" \
			    "-max_total_time=60 $work/artifacts/$a"
		done
		echo "fuzz_$n: log in $work/log"
		status=1; failed="$failed $n"
		continue
	fi
	echo "fuzz_$n: ok, ${execs:-0} executions, ${rate:-0} exec/s," \
	    "$(ls "$work/corpus" | wc -l) corpus files"
	total=$((total + ${execs:-0}))
	n_ok=$((n_ok + 1))
done

if [ $status -eq 0 ]; then
	if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ]; then
		echo "fuzz: built in $bdir"
	else
		if [ -n "$runs" ]; then
			how="seed corpora + $runs runs each, seed $seed"
		elif [ "$secs" -eq 0 ]; then
			how="seed corpora only"
		else
			how="$secs s each"
		fi
		echo "fuzz: $n_ok harness(es) clean, $total executions, $how"
	fi
else
	echo "fuzz: FAILED:$failed ($n_ok clean)"
fi
exit $status
