#!/usr/bin/env bash
# Run each benchmark binary given (make bench passes build/bench/*), collect
# their markdown output in build/bench/results.md and print it. Progress goes
# to stderr. Extra arguments for the binaries: BENCH_ARGS="-n 5000 -r 1".
# Exits 1 if a benchmark failed (its partial output is kept).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -eq 0 ]; then
	echo "usage: scripts/bench.sh build/bench/<bench>..." >&2
	exit 2
fi
out=build/bench/results.md
mkdir -p "$(dirname "$out")"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
status=0
{
	echo "# mosquitto-c2d benchmarks"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -srm), $(nproc) CPUs, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$tmp"
for b in "$@"; do
	echo >>"$tmp"
	echo "bench: running $b ${BENCH_ARGS:-}" >&2
	# shellcheck disable=SC2086 # BENCH_ARGS is a list of options
	if ! "$b" ${BENCH_ARGS:-} >>"$tmp"; then
		echo "bench: $b failed" >&2
		echo "**$(basename "$b") failed: see its output above.**" >>"$tmp"
		status=1
	fi
done
cp "$tmp" "$out"
cat "$out"
echo "bench: results in $out" >&2
exit $status
