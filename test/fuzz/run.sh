#!/usr/bin/env bash
# Run libFuzzer targets for a while each (called by `make fuzz`, mk/fuzz.mk).
#   test/fuzz/run.sh SECONDS BINDIR TARGET...
# Each target BINDIR/fuzz_TARGET runs for SECONDS on a temporary copy of its
# checked-in seed corpus test/fuzz/corpus/TARGET (new inputs go to the copy,
# which is deleted; the checked-in corpus never changes), with leak
# detection, test/fuzz/TARGET.dict if present, and crash artifacts kept in
# BINDIR/artifacts/. Prints one line per target and a closing summary; exit 1
# if any target found a crash, a leak or a timeout.
set -uo pipefail
cd "$(dirname "$0")/../.."

secs=$1 bindir=$2
shift 2
mkdir -p "$bindir/artifacts" "$bindir/logs"
failed=0 total_execs=0 n=0
for t in "$@"; do
	n=$(( n + 1 ))
	bin="$bindir/fuzz_$t"
	work=$(mktemp -d "${TMPDIR:-/tmp}/c2d-fuzz-$t.XXXXXX")
	log="$bindir/logs/fuzz_$t.log"
	seeds=0
	if [ -d "test/fuzz/corpus/$t" ]; then
		cp -r "test/fuzz/corpus/$t/." "$work/"
		seeds=$(find "$work" -type f | wc -l)
	fi
	dict=()
	[ -f "test/fuzz/$t.dict" ] && dict=("-dict=test/fuzz/$t.dict")
	start=$(date +%s)
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
		-print_final_stats=1 -artifact_prefix="$bindir/artifacts/fuzz_$t-" \
		"${dict[@]}" "$work" >"$log" 2>&1
	rc=$?
	took=$(( $(date +%s) - start ))
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
	execs=${execs:-0}
	total_execs=$(( total_execs + execs ))
	corpus=$(find "$work" -type f | wc -l)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | sed 's/cov: //')
	if [ $rc -eq 0 ]; then
		echo "fuzz_$t: OK, $execs execs in ${took}s, cov ${cov:-?}, corpus $seeds seeds -> $corpus inputs"
	else
		failed=$(( failed + 1 ))
		what=$(grep -m1 -oE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)[^ ]*: [^ ]+( [^ ]+)?|SUMMARY: [A-Za-z]+Sanitizer: [a-z-]+|runtime error: .*|assertion failed: .*' "$log" | head -n 1)
		art=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
		echo "fuzz_$t: FAILED (exit $rc) ${what:-see log} after $execs execs; input: ${art:-none}; log: $log"
		# the reason and the top of the stack
		grep -E -m1 -B2 -A12 '^==[0-9]+==ERROR|runtime error:|assertion failed:' "$log" | grep -v '^#[0-9]' | head -n 16 | sed 's/^/    /'
	fi
	rm -rf "$work"
done
echo "fuzz: $n targets, $(( n - failed )) passed, $failed failed, $total_execs execs in all (${secs}s each)"
[ $failed -eq 0 ]
