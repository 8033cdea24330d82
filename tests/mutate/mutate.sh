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

# Every unit and end-to-end suite, fastest first (deploy and browser
# suites are left out: they test the examples, not the code).
all_suites="test_util test_config test_validate test_router test_jwt test_jwks
test_crypto test_catalog test_probe test_session test_record test_store
test_credsvc test_jwa e2e_store e2e_lifecycle e2e_admin e2e_hostile
e2e_jwks e2e_faults e2e_hygiene"

die() { echo "mutate: $*" >&2; exit 2; }

# The blocks of the list as "ID<TAB>FILE<TAB>FROM<TAB>TO<TAB>SUITES" lines.
parse() {
	awk '
	function flush() { if (id != "") print id "\t" file "\t" from "\t" to "\t" suites
		id = file = from = to = suites = "" }
	/^== / { flush(); id = substr($0, 4); next }
	/^file: / { file = substr($0, 7); next }
	/^from: / { from = substr($0, 7); next }
	/^to: / { to = substr($0, 5); next }
	/^tests: / { suites = substr($0, 8); next }
	END { flush() }
	' "$list"
}

# Replaces the one line of FILE that contains FROM: FROM becomes TO.
apply() {	# apply FILE FROM TO
	python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, frm, to = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
n = text.count(frm)
if n != 1:
    sys.stderr.write("%s: %d matches of %r\n" % (path, n, frm))
    sys.exit(1)
open(path, "w").write(text.replace(frm, to))
EOF
}

[ -f "$list" ] || die "no $list"
command -v python3 >/dev/null || die "python3 is needed"
mkdir -p "$work" || exit 2
parse >"$work/list" || die "cannot read $list"

# Check every mutation applies before spending an hour on them.
bad=0
while IFS="$(printf '\t')" read -r id file from to suites; do
	if [ -z "$file" ] || [ -z "$from" ] || [ ! -f "$top/$file" ]; then
		echo "mutate: $id: incomplete block or no file $file"; bad=1
		continue
	fi
	n=$(python3 -c 'import sys; print(open(sys.argv[1]).read().count(sys.argv[2]))' \
	    "$top/$file" "$from")
	[ "$n" = 1 ] || { echo "mutate: $id: $n matches in $file"; bad=1; }
done <"$work/list"
[ $bad -eq 0 ] || die "the list does not apply to this tree"

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
		if ! timeout 900 make -s check TESTS="$t" >"run-$s.out" 2>&1; then
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
while IFS="$(printf '\t')" read -r id file from to suites; do
	if [ $# -gt 0 ]; then
		case " $* " in *" $id "*) ;; *) continue ;; esac
	fi
	total=$((total + 1))
	cp "../$file" "../$file.orig" || exit 2
	apply "../$file" "$from" "$to" || die "$id does not apply"
	start=$(date +%s)
	if ! make -j"$jobs" >"mutant-$id.make" 2>&1 ||
	    ! make -j"$jobs" check TESTS= >>"mutant-$id.make" 2>&1; then
		# a mutant the compiler refuses is no test of the tests
		echo "mutant $id: DOES NOT BUILD (fix the mutation)"
		failed_build=$((failed_build + 1))
	elif by=$(run_suites "$suites"); then
		echo "mutant $id: killed by $by ($(( $(date +%s) - start )) s)"
		killed=$((killed + 1))
	else
		echo "mutant $id: SURVIVED ($file: $to)"
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
