#!/bin/sh
# make mutate: how many plausible bugs would the tests catch?
#
# Each mutation in tests/mutate/mutations (one block each: the file, one
# line's exact text, what it becomes, why it matters, and the suites most
# likely to catch it) is applied alone to a scratch copy of the tree,
# which is rebuilt and tested: the suites named first, then every other
# unit and end-to-end suite, stopping at the first failure.  The mutant is
# "killed" by that suite or "survived".  The scratch copy is restored
# after each mutant.  Prints a line per mutant and the score.
#
#   tests/mutate/mutate.sh [ID...]	ID: one mutation's name (default: all)
#
# Environment:
#   MUTATE_DIR	the scratch folder (default ${TMPDIR:-/tmp}/credstore-mutate)
#   MUTATE_MIN	the score (percent) below which it exits 1 (default 90)
#   MUTATE_CHECK_ONLY	1: only check that every mutation applies
#
# Not part of make check or CI: a full run rebuilds and tests the tree
# once per mutation (minutes each).  Exits 2 when a mutation no longer
# applies (its line is gone or is no longer unique): fix the list.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
list=$here/mutations
work=${MUTATE_DIR:-${TMPDIR:-/tmp}/credstore-mutate}
min=${MUTATE_MIN:-90}
jobs=$(nproc 2>/dev/null || echo 2)

# Every unit suite, then every end-to-end suite (found once the tree is
# built); the deploy and browser suites are left out: they test the
# shipped examples, not the code.
all_suites=""

die() { echo "mutate: $*" >&2; exit 2; }

# Splits the list into $work/m/ID.{file,from,to,tests}, one file each, and
# prints the ids in order.  A line after from: or to: that is none of the
# keys continues that value (multi-line text).
parse() {
	python3 - "$list" "$work/m" <<'EOF'
import os, re, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
muts, cur, last = [], None, None
for line in open(src).read().split("\n"):
    if line.startswith("== "):
        cur = {"id": line[3:].strip()}
        muts.append(cur)
        last = None
        continue
    m = re.match(r"^(file|from|to|why|tests): ?(.*)$", line)
    if cur is not None and m:
        cur[m.group(1)] = m.group(2)
        last = m.group(1)
    elif cur is not None and last in ("from", "to") and line.strip() != "" \
            and not line.startswith("#"):
        cur[last] += "\n" + line
    else:
        last = None
for m in muts:
    for k in ("file", "from", "to", "tests"):
        open(os.path.join(out, m["id"] + "." + k), "w").write(m.get(k, ""))
    print(m["id"])
EOF
}

# In FILE, the text of mutation ID's from (which must occur once) becomes
# its to; with a third argument, only prints how often it occurs.
apply() {	# apply FILE ID [check]
	python3 - "$1" "$work/m/$2.from" "$work/m/$2.to" "${3:-}" <<'EOF'
import sys
path, frm, to, check = sys.argv[1], open(sys.argv[2]).read(), \
    open(sys.argv[3]).read(), sys.argv[4]
text = open(path).read()
if check:
    print(text.count(frm))
    sys.exit(0)
n = text.count(frm)
if n != 1:
    sys.stderr.write("%s: %d matches of %r\n" % (path, n, frm))
    sys.exit(1)
open(path, "w").write(text.replace(frm, to))
EOF
}

[ -f "$list" ] || die "no $list"
command -v python3 >/dev/null || die "python3 is needed"
rm -rf "$work/m" && mkdir -p "$work" || exit 2
parse >"$work/list" || die "cannot read $list"

# Check every mutation applies before spending an hour on them.
bad=0
while read -r id; do
	file=$(cat "$work/m/$id.file")
	if [ -z "$file" ] || [ ! -s "$work/m/$id.from" ] || [ ! -f "$top/$file" ]; then
		echo "mutate: $id: incomplete block or no file $file"; bad=1
		continue
	fi
	n=$(apply "$top/$file" "$id" check)
	[ "$n" = 1 ] || { echo "mutate: $id: $n matches in $file"; bad=1; }
done <"$work/list"
[ $bad -eq 0 ] || die "the list does not apply to this tree"
if [ "${MUTATE_CHECK_ONLY:-0}" = 1 ]; then
	echo "mutate: $(wc -l <"$work/list") mutations apply"
	exit 0
fi

echo "mutate: copying the tree to $work/tree and building it"
rm -rf "$work/tree" && mkdir -p "$work/tree" || exit 2
(cd "$top" && git ls-files -z | xargs -0 tar cf - | (cd "$work/tree" && tar xf -)) ||
    die "cannot copy the tree"
cd "$work/tree" || exit 2
autoreconf -fi >/dev/null 2>&1 || die "autoreconf failed"
mkdir -p build && cd build || exit 2
../configure >configure.out 2>&1 || die "configure failed: $work/tree/build/configure.out"
make -j"$jobs" >make.out 2>&1 || die "the unmutated tree does not build"
make -j"$jobs" check TESTS= >make-check.out 2>&1 || die "the tests do not build"
all_suites=$( (ls tests/unit; ls tests/e2e) | grep -E '^(test|e2e)_[a-z0-9_]+$')

# Runs the suites, named ones first; prints the first that fails.
run_suites() {	# run_suites "SUITES"
	order=""
	for s in $1 $all_suites; do
		case " $order " in *" $s "*) continue ;; esac
		order="$order $s"
	done
	for s in $order; do
		t=$(ls -d tests/unit/"$s" tests/e2e/"$s" 2>/dev/null | head -1)
		[ -n "$t" ] || continue
		if ! timeout 900 make -s check TESTS="$t" >"run-$s.out" 2>&1 </dev/null; then
			echo "$s"
			return 0
		fi
	done
	return 1
}

killed=0
survived=0
failed_build=0
total=0
survivors=""
while read -r id; do
	file=$(cat "$work/m/$id.file")
	suites=$(cat "$work/m/$id.tests")
	if [ $# -gt 0 ]; then
		case " $* " in *" $id "*) ;; *) continue ;; esac
	fi
	total=$((total + 1))
	cp "../$file" "../$file.orig" || exit 2
	apply "../$file" "$id" || die "$id does not apply"
	start=$(date +%s)
	if ! make -j"$jobs" >"mutant-$id.make" 2>&1 </dev/null ||
	    ! make -j"$jobs" check TESTS= >>"mutant-$id.make" 2>&1 </dev/null; then
		# a mutant the compiler refuses is no test of the tests
		echo "mutant $id: DOES NOT BUILD (fix the mutation)"
		failed_build=$((failed_build + 1))
	elif by=$(run_suites "$suites"); then
		echo "mutant $id: killed by $by ($(( $(date +%s) - start )) s)"
		killed=$((killed + 1))
	else
		echo "mutant $id: SURVIVED ($file)"
		survived=$((survived + 1))
		survivors="$survivors $id"
	fi
	mv "../$file.orig" "../$file" && touch "../$file"
done <"$work/list"
make -j"$jobs" >/dev/null 2>&1

scored=$((killed + survived))
[ $scored -gt 0 ] || die "no mutant ran"
score=$((killed * 100 / scored))
echo "mutate: $killed killed, $survived survived, $failed_build did not build;" \
    "score ${score}% of $scored"
[ -z "$survivors" ] || echo "mutate: survivors:$survivors"
[ $failed_build -eq 0 ] || exit 2
[ $score -ge "$min" ] || exit 1
exit 0
