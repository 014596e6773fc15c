#!/usr/bin/env bash
# Install what is missing, build with warnings as errors, run every test
# (unit suites, then broker suites against the real /usr/sbin/mosquitto).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
make -s test
