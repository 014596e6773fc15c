#!/usr/bin/env bash
# Run test binaries (Check suites), print each suite's summary and a closing
# "N passed, N failed" line; exit 1 if any check failed or a binary crashed.
set -uo pipefail

passed=0 failed=0 bad=0
for t in "$@"; do
	name=$(basename "$t")
	out=$(mktemp)
	start=$(date +%s)
	"$t" >"$out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$out" | tail -n 1)
	if [ -n "$line" ]; then
		checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
		fails=$(sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/' <<<"$line")
		fails=$(( fails ))
		passed=$(( passed + checks - fails ))
		failed=$(( failed + fails ))
	fi
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		bad=1
		[ -z "$line" ] && failed=$(( failed + 1 ))
		echo "---- $name (exit $rc) ----"
		cat "$out"
	else
		echo "$name: $line (${secs}s)"
	fi
	rm -f "$out"
done
echo "$passed passed, $failed failed"
[ $bad -eq 0 ] && [ $failed -eq 0 ]
