#!/usr/bin/env bash
# Hostile input and memory safety (docs/reliability.md): fuzzing, the
# ASan+UBSan build with the unit and broker suites, valgrind on the unit
# suites, the device library's suite under valgrind and ASan+UBSan. What CI
# calls after the regular suite.
#   FUZZ_SECONDS=N   seconds per fuzz target (default 60; 5 targets)
#   SAN_BROKER="test_foundation test_twins"   broker suites under the
#                    sanitizers (default: all)
# Every step runs even when an earlier one failed; exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

# what the regular suite needs, plus the fuzzer and valgrind (no-op when present)
scripts/deps.sh clang-14 libclang-rt-14-dev valgrind || exit 1

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
export FUZZ_SECONDS
mk=(make --no-print-directory)
[ -n "${SAN_BROKER:-}" ] && mk+=("SAN_BROKER=$SAN_BROKER")
summary=()
failed=0
t0=$(date +%s)

step() {
	local name=$1 start rc secs out
	shift
	start=$(date +%s)
	echo "==== $name"
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))
	if [ "$rc" -eq 0 ]; then
		summary+=("$name: OK (${secs}s) - $(grep -E "^$name: " "$out" | tail -n 1 | sed "s/^$name: //")")
	else
		failed=$(( failed + 1 ))
		summary+=("$name: FAILED (exit $rc, ${secs}s) - $(grep -E "^$name: " "$out" | tail -n 1 | sed "s/^$name: //")")
	fi
	rm -f "$out"
}

step fuzz "${mk[@]}" fuzz FUZZ_SECONDS="$FUZZ_SECONDS"
step sanitize "${mk[@]}" sanitize
step valgrind "${mk[@]}" valgrind
# the device library's suite (real broker) under valgrind and ASan+UBSan
step device-valgrind "${mk[@]}" device-valgrind
step device-sanitize "${mk[@]}" device-sanitize

echo "==== summary (FUZZ_SECONDS=$FUZZ_SECONDS, $(( $(date +%s) - t0 ))s in all)"
printf '%s\n' "${summary[@]}"
if [ $failed -eq 0 ]; then
	echo "check-hostile: OK"
else
	echo "check-hostile: $failed of ${#summary[@]} steps FAILED"
fi
[ $failed -eq 0 ]
