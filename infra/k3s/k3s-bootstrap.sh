#!/usr/bin/env bash
# Installs k3s on first boot. cloud-init writes this file and runs it from runcmd with the node's parameters
# as arguments; the CA files, /etc/rancher/k3s/config.yaml and the metadata-block unit are already in place
# (write_files runs first).
# Nobody logs in: progress and failures go to /var/log/cloud-init-output.log, which is also visible without
# SSH through `openstack console log show <node>`.
set -euo pipefail

log() { printf 'k3s-bootstrap: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat >&2 <<'USAGE'
usage: k3s-bootstrap --role server|agent --node-ip IP --k3s-version VERSION --metadata-block-unit UNIT
                     --installer-url URL --installer-sha256 HEX --binary-url URL --binary-sha256 HEX
                     --airgap-images-url URL --airgap-images-sha256 HEX
                     [--server-url URL --server-ca FILE --join-timeout SECONDS]   (agents)
USAGE
  exit 2
}

role=""
node_ip=""
k3s_version=""
installer_url=""
installer_sha256=""
binary_url=""
binary_sha256=""
images_url=""
images_sha256=""
metadata_block_unit=""
server_url=""
server_ca=""
join_timeout=""

while (($# > 0)); do
  [[ $# -ge 2 ]] || { log "missing value for $1"; usage; }
  case "$1" in
    --role) role="$2" ;;
    --node-ip) node_ip="$2" ;;
    --k3s-version) k3s_version="$2" ;;
    --installer-url) installer_url="$2" ;;
    --installer-sha256) installer_sha256="$2" ;;
    --binary-url) binary_url="$2" ;;
    --binary-sha256) binary_sha256="$2" ;;
    --airgap-images-url) images_url="$2" ;;
    --airgap-images-sha256) images_sha256="$2" ;;
    --metadata-block-unit) metadata_block_unit="$2" ;;
    --server-url) server_url="$2" ;;
    --server-ca) server_ca="$2" ;;
    --join-timeout) join_timeout="$2" ;;
    *) log "unknown argument $1"; usage ;;
  esac
  shift 2
done

[[ "$role" == server || "$role" == agent ]] || die "--role must be server or agent, got '${role}'"
[[ -n "$node_ip" && -n "$k3s_version" && -n "$installer_url" && -n "$binary_url" && -n "$images_url" && -n "$metadata_block_unit" ]] || usage
for pin in "$installer_sha256" "$binary_sha256" "$images_sha256"; do
  [[ "$pin" =~ ^[0-9a-f]{64}$ ]] || die "a sha256 pin must be 64 hex characters, got '${pin}'"
done
if [[ "$role" == agent ]]; then
  [[ -n "$server_url" && -n "$server_ca" ]] || die "agents need --server-url and --server-ca"
  [[ "$join_timeout" =~ ^[0-9]+$ ]] || die "--join-timeout must be a number of seconds, got '${join_timeout}'"
fi

# Pods must never reach the metadata service: it serves this node's user data, with the cluster's keys and
# tokens. The unit installs the block now and at every boot before k3s, whose unit requires it.
systemctl daemon-reload || die "systemctl daemon-reload failed"
systemctl enable --now "$metadata_block_unit" || die "could not start ${metadata_block_unit}; k3s is not installed without the metadata block"
log "pods are blocked from the metadata service (${metadata_block_unit})"

# The interface that carries the private address is where flannel's VXLAN must run; its name depends on
# the image, so look it up by address. Bounded: the port is attached at boot, but the address may lag.
interface_with_address() {
  ip -o -4 addr show | awk -v ip="$1" '{ split($4, cidr, "/"); if (cidr[1] == ip) { print $2; exit } }'
}
private_iface=""
for _ in $(seq 1 60); do
  private_iface="$(interface_with_address "$node_ip")"
  [[ -n "$private_iface" ]] && break
  sleep 2
done
[[ -n "$private_iface" ]] || die "no interface has address ${node_ip} after 120s; check the private port of this node"
log "private network ${node_ip} is on ${private_iface}"

if [[ "$role" == agent ]]; then
  # The installer starts k3s-agent right away; waiting here turns "server not up yet" into a clear log line
  # instead of a crash-looping unit. The CA bundle makes this check verify the server it talks to.
  log "waiting up to ${join_timeout}s for the server at ${server_url}"
  deadline=$((SECONDS + join_timeout))
  until curl --silent --fail --max-time 5 --cacert "$server_ca" --output /dev/null "${server_url}/cacerts"; do
    ((SECONDS < deadline)) || die "server ${server_url} did not answer within ${join_timeout}s; check node1's console log"
    sleep 5
  done
  log "server is answering"
fi

# Everything that ends up running as root is pinned by sha256 in stack config (k3sInstallerSha256,
# k3sBinarySha256, k3sAirgapImagesSha256): a mismatch stops here, before anything is installed, and says so on
# the console, which the readiness gate reports. Each file is checked before it is moved into place.
download_dir="$(mktemp -d)"
trap 'rm -rf "$download_dir"' EXIT

# fetch_verified WHAT URL SHA256 FILE: download URL to FILE and stop the bootstrap unless its sha256 is SHA256.
fetch_verified() {
  local what="$1" url="$2" expected="$3" out="$4" actual
  # A failure names the step and the URL: curl's own message alone does not say what was being fetched, or why.
  log "downloading ${what} from ${url}"
  curl --silent --show-error --fail --location --retry 5 --retry-delay 5 --retry-connrefused \
    --output "$out" "$url" || die "downloading ${what} from ${url} failed (curl exit $?)"
  actual="$(sha256sum "$out" | cut -d ' ' -f 1)"
  if [[ "$actual" != "$expected" ]]; then
    rm -f "$out"
    die "${what} from ${url} has sha256 ${actual}, but stack config pins ${expected}; k3s is not installed (a replaced release asset, a mirror serving another file, or a pin for another version)"
  fi
  log "${what} verified: sha256 ${actual}"
}

installer="${download_dir}/install.sh"
fetch_verified "the k3s installer" "$installer_url" "$installer_sha256" "$installer"
fetch_verified "the k3s ${k3s_version} binary" "$binary_url" "$binary_sha256" "${download_dir}/k3s"
fetch_verified "the k3s ${k3s_version} airgap images" "$images_url" "$images_sha256" "${download_dir}/images.tar.zst"

# Where the installer expects a binary it is told not to download, and where k3s imports images at start.
install -m 0755 -o root -g root "${download_dir}/k3s" /usr/local/bin/k3s
install -d -m 0755 /var/lib/rancher/k3s/agent/images
install -m 0644 -o root -g root "${download_dir}/images.tar.zst" /var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst

log "installing k3s ${k3s_version} as ${role}"
INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_VERSION="$k3s_version" sh "$installer" "$role" --flannel-iface "$private_iface" ||
  die "the k3s installer from ${installer_url} failed (exit $?) installing k3s ${k3s_version} as ${role}"
log "k3s ${role} installed"
