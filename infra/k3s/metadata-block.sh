#!/usr/bin/env bash
# Drops every packet from the pod network to the cloud metadata service (169.254.169.254), which serves the
# node's user data: the cluster's keys and join tokens. A systemd unit runs it at every boot, before k3s.
#
# Pod traffic to an off-node address is routed, not sent by the node: it crosses the FORWARD hook with the
# pod's own source address (flannel masquerades it only later, in POSTROUTING), and with its destination
# already rewritten by any Service DNAT. The node's own requests (cloud-init, the kubelet) leave through
# OUTPUT and are not affected. The rule sits in the mangle table: it runs before the filter table, where
# kube-router, flannel and kube-proxy ACCEPT pod traffic, and a DROP anywhere is final.
set -euo pipefail

die() { printf 'metadata-block: error: %s\n' "$*" >&2; exit 1; }

pod_cidr="${1:-}"
[[ "$pod_cidr" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] || die "usage: metadata-block POD_CIDR (e.g. 10.42.0.0/16), got '${pod_cidr}'"

readonly METADATA_ADDRESS=169.254.169.254/32
match=(--source "$pod_cidr" --destination "$METADATA_ADDRESS" --match comment --comment "image-pipeline: pods may not reach the metadata service" --jump DROP)

if iptables --wait --table mangle --check FORWARD "${match[@]}" 2>/dev/null; then
  printf 'metadata-block: %s -> %s already dropped\n' "$pod_cidr" "$METADATA_ADDRESS" >&2
else
  iptables --wait --table mangle --insert FORWARD 1 "${match[@]}" || die "iptables could not install the rule"
  printf 'metadata-block: dropping %s -> %s\n' "$pod_cidr" "$METADATA_ADDRESS" >&2
fi
