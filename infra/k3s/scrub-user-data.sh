#!/usr/bin/env bash
# Removes cloud-init's plain-text copies of this node's user data (node1's holds the cluster's CA keys and
# server token; an agent's holds its join token). k3s never reads them: it reads the files write_files put in
# place. cloud-init rewrites the copies from its cache at every boot, so this runs from
# /var/lib/cloud/scripts/per-boot, in the final stage of every boot, after write_files and runcmd's script
# have been generated. The cache itself (obj.pkl) stays: without it cloud-init cannot recognise the instance
# when the metadata service is unreachable at boot and would run first-boot modules again.
set -euo pipefail

root="${1:-/}"
root="${root%/}"

removed=0
for instance in "${root}"/var/lib/cloud/instances/*/; do
  [[ -d "$instance" ]] || continue
  for name in user-data.txt user-data.txt.i cloud-config.txt; do
    if [[ -e "${instance}${name}" ]]; then
      rm -f -- "${instance}${name}"
      removed=$((removed + 1))
    fi
  done
done
# cloud-init 23.1 and later also write the merged configuration, write_files contents included, to /run.
if [[ -e "${root}/run/cloud-init/combined-cloud-config.json" ]]; then
  rm -f -- "${root}/run/cloud-init/combined-cloud-config.json"
  removed=$((removed + 1))
fi
printf 'scrub-user-data: removed %d copies of the user data\n' "$removed" >&2
