#!/usr/bin/env bash
# Records a worker image in a committed stack file: sets `image-pipeline:workerImage` in Pulumi.<stack>.yaml,
# replacing the line that is there or adding one at the end of the `config:` map. The committed stack file is
# where `pulumi up` reads the image from, so this is how a deployed or promoted digest reaches the next `up`.
#
#   scripts/set-worker-image.sh Pulumi.dev.yaml ghcr.io/org/image-pipeline-worker@sha256:<64 hex>
#
# Plain bash and sed, no dependencies: the workflow jobs that commit with a write token run it without
# installing any package (deploy.yml, promote.yml), and `npm run promote` runs the same script.
set -euo pipefail

usage() {
  echo "usage: $0 <Pulumi.<stack>.yaml> <repository>[:tag]@sha256:<digest>" >&2
  exit 2
}

[ "$#" -eq 2 ] || usage
file="$1"
image="$2"

# The image reference grammar the program accepts (k8s/image.ts), pinned by digest; nothing YAML or sed would read
# as syntax can get through.
if ! [[ "$image" =~ ^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$ ]]; then
  echo "set-worker-image: \"$image\" is not an image reference pinned by digest (<repository>[:tag]@sha256:<64 hex digits>)" >&2
  exit 1
fi
if [ ! -f "$file" ]; then
  echo "set-worker-image: no stack file $file" >&2
  exit 1
fi
if ! grep -q '^config:[[:space:]]*$' "$file"; then
  echo "set-worker-image: $file has no top-level config: map" >&2
  exit 1
fi

key='image-pipeline:workerImage'
count="$(grep -c "^  ${key}:" "$file" || true)"
tmp="$(mktemp "${file}.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
if [ "$count" -gt 1 ]; then
  echo "set-worker-image: $file sets $key $count times" >&2
  exit 1
elif [ "$count" -eq 1 ]; then
  sed "s|^  ${key}:.*\$|  ${key}: ${image}|" "$file" >"$tmp"
else
  # Keys of a stack file's config map are indented by two spaces; the new one goes first in the map.
  awk -v line="  ${key}: ${image}" '{ print } /^config:[[:space:]]*$/ && !done { print line; done = 1 }' "$file" >"$tmp"
fi
mv "$tmp" "$file"
trap - EXIT
echo "$file: ${key} = ${image}"
