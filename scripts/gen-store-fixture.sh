#!/bin/sh
# Regenerates test/data/store-1.3.tar.gz: a schema 1.3 store written by the
# plugin of commit 4643f48 (the last release before schema 2.0) through real
# clients (test/data/gen_store_1_3.c says what it holds). That commit is
# exported and built in a temporary directory; nothing here is touched but
# the fixture file. test_upgrade opens the fixture with the current plugin.
#   scripts/gen-store-fixture.sh [COMMIT]
set -eu
commit=${1:-4643f48}
top=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d /tmp/c2d-fixture-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

git -C "$top" archive "$commit" | tar -x -C "$tmp/"
mkdir -p "$tmp/out"
cp "$top/test/data/gen_store_1_3.c" "$tmp/test/broker/gen_store.c"
make -C "$tmp" -j2 build/mosquitto_c2d.so build/test/broker/gen_store >/dev/null
"$tmp/build/test/broker/gen_store" "$tmp/out"
tar -C "$tmp/out" -czf "$top/test/data/store-1.3.tar.gz" --owner=0 --group=0 --mtime=@0 data.mdb created
ls -l "$top/test/data/store-1.3.tar.gz"
