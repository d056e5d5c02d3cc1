#!/bin/sh
# Stub k3s installer (the bootstrap runs it as `sh <file> <role> --flannel-iface <iface>`): records its
# arguments and its INSTALL_K3S_* environment, installs the fake k3s and runs its first-start checks.
set -eu
state=/var/lib/harness
date +%s.%N >"$state/installer-time"
for a in "$@"; do printf '%s\n' "$a"; done >"$state/installer-args"
env | grep '^INSTALL_K3S_' | sort >"$state/installer-env" || true
if [ -e /harness/fail-installer ]; then
  echo "[ERROR]  Download failed" >&2
  exit 1
fi
install -m 0755 /harness/k3s /usr/local/bin/k3s
/usr/local/bin/k3s "$1"
