#!/bin/sh
# make lint: the house rules a compiler does not check (STYLE.md).
#   - no banned function (sprintf, strcpy, strcat, atoi, gets, strtok) in
#     the C sources of src/, cgi-bin/ and tests/;
#   - no call that is not safe from threads (strerror, gmtime, localtime,
#     ctime, asctime, rand, ...) in src/ and cgi-bin/:
#     a FastCGI process serves requests on several threads;
#   - no line over 100 columns (tabs count as 8) in src/ and cgi-bin/;
#   - no function over 100 lines and no file over 1,000 lines in src/;
#   - no include cycle among the modules of src/ (a module is NAME.c and
#     NAME.h, and a private NAME_int.h; A depends on B when a file of A
#     includes "B.h").
# Prints one line per finding and a summary; exits 1 when anything is found.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
found=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

csrc=$(ls src/*.c src/*.h cgi-bin/*.c 2>/dev/null)
ctests=$(find tests -name '*.c' -o -name '*.h' | sort)

# Banned calls: the name as a word followed by "(" (comments are not
# exempt: write "no sprintf" without the parenthesis).
# shellcheck disable=SC2086
if grep -nE '(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|atoi|atol|gets|strtok)[[:space:]]*\(' \
    $csrc $ctests >"$tmp/banned"; then
	sed 's/^/lint: banned function: /' "$tmp/banned"
	found=$((found + $(wc -l <"$tmp/banned")))
fi

# Not safe from threads (use errstr, gmtime_r, localtime_r, gnutls_rnd).
# shellcheck disable=SC2086
if grep -nE '(^|[^A-Za-z0-9_])(strerror|gmtime|localtime|ctime|asctime|rand|srand|random|drand48|getpwnam|getgrnam|inet_ntoa)[[:space:]]*\(' \
    $csrc >"$tmp/unsafe"; then
	sed 's/^/lint: not thread-safe: /' "$tmp/unsafe"
	found=$((found + $(wc -l <"$tmp/unsafe")))
fi

# Line length, tabs expanded to 8 columns.
# shellcheck disable=SC2086
for f in $csrc; do
	expand -t 8 "$f" | awk -v f="$f" \
	    'length($0) > 100 { printf "lint: %s:%d: %d columns (max 100)\n", f, NR, length($0) }'
done >"$tmp/long"
cat "$tmp/long"
found=$((found + $(wc -l <"$tmp/long")))

# File and function length in src/.  Functions are written in the house
# style: the body opens with "{" and closes with "}" in column 1.
for f in src/*.c src/*.h; do
	awk -v f="$f" '
	    /^\{/ { start = NR; name = prev }
	    /^\}/ && start { n = NR - start + 1
		if (n > 100) printf "lint: %s:%d: function %s is %d lines (max 100)\n", f, start, name, n
		start = 0 }
	    { if ($0 ~ /^[A-Za-z_][A-Za-z0-9_]*\(/) { prev = $0; sub(/\(.*/, "", prev) } }
	    END { if (NR > 1000) printf "lint: %s: %d lines (max 1000)\n", f, NR }
	' "$f"
done >"$tmp/size"
cat "$tmp/size"
found=$((found + $(wc -l <"$tmp/size")))

# Include cycles between modules: tsort reports any loop.
for f in src/*.c src/*.h; do
	from=$(basename "$f"); from=${from%.*}; from=${from%_int}
	sed -n 's/^#include "\([A-Za-z0-9_-]*\)\.h".*/\1/p' "$f" |
	    while read -r to; do
		to=${to%_int}
		[ "$to" = "$from" ] || [ ! -f "src/$to.h" ] || echo "$from $to"
	    done
done >"$tmp/deps"
if ! tsort "$tmp/deps" >/dev/null 2>"$tmp/loop"; then
	echo "lint: include cycle among:" \
	    $(sed -n 's/^tsort: \([A-Za-z0-9_-]*\)$/\1/p' "$tmp/loop")
	found=$((found + 1))
fi

if [ "$found" -eq 0 ]; then
	echo "lint: clean ($(echo "$csrc" | wc -l) source files," \
	    "$(echo "$ctests" | wc -l) test files)"
	exit 0
fi
echo "lint: $found finding(s)"
exit 1
