#!/usr/bin/env bash
# Install what is missing, build with warnings as errors, and run every test:
#  1. the unit suites and the broker suites against the real /usr/sbin/mosquitto
#     (make test);
#  2. hostile input and memory safety (scripts/check-hostile.sh): each fuzz
#     target for FUZZ_SECONDS (default 20 here), the ASan+UBSan build with all
#     suites, valgrind on the unit suites.
# C2D_QUICK=1 skips step 2. Ends with the suites' "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
mkdir -p build
make -s test 2>&1 | tee build/test.log
if [ "${C2D_QUICK:-}" != 1 ]; then
	FUZZ_SECONDS="${FUZZ_SECONDS:-20}" scripts/check-hostile.sh
fi
grep -E '^[0-9]+ passed, [0-9]+ failed$' build/test.log | tail -n 1
