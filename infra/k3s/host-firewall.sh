#!/bin/bash
# Opens what the cluster needs in firewalld, on images that run it: Chameleon's bare-metal images start firewalld
# with only ssh and dhcpv6-client in the public zone, and its bare-metal sites enforce no security groups, so this
# is both what lets k3s work and the only filter in front of the node. Without a running firewalld it does nothing.
# The rules are permanent (they survive a reboot): the private network, pods and Services are trusted; the public
# zone allows http and https (the webhook's ingress, and ACME's HTTP-01 challenge) from anywhere and ssh, plus the Kubernetes API on the server, from the
# admin range only.
set -euo pipefail

usage="usage: $0 --role server|agent --private-cidr <cidr> --pod-cidr <cidr> --service-cidr <cidr> --admin-cidr <cidr>"
role="" private_cidr="" pod_cidr="" service_cidr="" admin_cidr=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --role) role="${2-}" ;;
    --private-cidr) private_cidr="${2-}" ;;
    --pod-cidr) pod_cidr="${2-}" ;;
    --service-cidr) service_cidr="${2-}" ;;
    --admin-cidr) admin_cidr="${2-}" ;;
    *)
      echo "host-firewall: unknown argument $1; $usage" >&2
      exit 2
      ;;
  esac
  shift 2 || {
    echo "host-firewall: $1 needs a value; $usage" >&2
    exit 2
  }
done
if [[ "$role" != server && "$role" != agent ]] || [ -z "$private_cidr" ] || [ -z "$pod_cidr" ] || [ -z "$service_cidr" ] || [ -z "$admin_cidr" ]; then
  echo "host-firewall: $usage" >&2
  exit 2
fi

if ! command -v firewall-cmd >/dev/null 2>&1 || ! firewall-cmd --state >/dev/null 2>&1; then
  echo "host-firewall: firewalld is not running; nothing to open"
  exit 0
fi

for source in "$private_cidr" "$pod_cidr" "$service_cidr"; do
  firewall-cmd --permanent --zone=trusted --add-source="$source"
done
firewall-cmd --permanent --zone=public --add-service=http
firewall-cmd --permanent --zone=public --add-service=https
# ssh from the admin range only, as the security groups do where a cloud enforces them.
firewall-cmd --permanent --zone=public --remove-service=ssh
firewall-cmd --permanent --zone=public --add-rich-rule="rule family=\"ipv4\" source address=\"$admin_cidr\" service name=\"ssh\" accept"
if [ "$role" = server ]; then
  firewall-cmd --permanent --zone=public --add-rich-rule="rule family=\"ipv4\" source address=\"$admin_cidr\" port port=\"6443\" protocol=\"tcp\" accept"
fi
firewall-cmd --reload
echo "host-firewall: trusted $private_cidr $pod_cidr $service_cidr; public: http, https, ssh$([ "$role" = server ] && echo " and 6443") from $admin_cidr"
