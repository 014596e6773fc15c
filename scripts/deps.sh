#!/usr/bin/env bash
# Install the Debian 12 packages mosquitto-c2d needs, if any are missing.
# Idempotent: does nothing (and needs no network) when all are installed.
# Uses sudo when not run as root. Extra package names may be passed as arguments.
set -euo pipefail

pkgs=(make gcc pkg-config mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev
	liblmdb-dev lmdb-utils libcjson-dev libuv1-dev libssl-dev openssl check uthash-dev
	libmicrohttpd-dev python3-requests curl python3-paho-mqtt libfaketime
	chromium chromium-driver python3-selenium "$@")

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
