/**
 * The pinned k3s release and the hashes its downloads must have. Kubernetes minor: 1.36, supported upstream until
 * 2027-06-28 (kubernetes.io/releases/1.36; k3s follows upstream's minors). Bump deliberately: a new version only
 * reaches nodes created after the change, because user data is applied at first boot only (docs/changes.md), and
 * a new version needs its three hashes here (or in stack config).
 */
export const DEFAULT_K3S_VERSION = "v1.36.2+k3s1";
/** Where the release assets are: `<base>/<tag>/k3s` and `<base>/<tag>/k3s-airgap-images-amd64.tar.zst`. */
export const DEFAULT_K3S_DOWNLOAD_BASE_URL = "https://github.com/k3s-io/k3s/releases/download";
/** The nodes are x86-64 (every flavor this program targets): the amd64 assets. */
export const K3S_BINARY_ASSET = "k3s";
export const K3S_AIRGAP_IMAGES_ASSET = "k3s-airgap-images-amd64.tar.zst";
/** k3s release tags: v<major>.<minor>.<patch>+k3s<n>, optionally with an -rcN pre-release part. */
export const K3S_VERSION_PATTERN = /^v1\.\d{1,2}\.\d{1,2}(-rc\d+)?\+k3s\d+$/;
export const DEFAULT_JOIN_TIMEOUT_SECONDS = 900;
export const DEFAULT_READY_TIMEOUT_SECONDS = 1200;

export interface K3sReleasePins {
  /** install.sh at the release's tag in the k3s repository. */
  readonly installerSha256: string;
  /** The `k3s` and `k3s-airgap-images-amd64.tar.zst` lines of the release's sha256sum-amd64.txt. */
  readonly binarySha256: string;
  readonly airgapImagesSha256: string;
}

/**
 * Hashes of the releases the program knows, so a stack on one of them needs no hash in its config. v1.36.2+k3s1:
 * the binary and images hashes as the release's sha256sum-amd64.txt lists them (recorded independently by nixpkgs'
 * k3s 1_36 images-versions.json and by several projects that pin the release); install.sh at tag v1.36.2+k3s1
 * (unchanged through v1.36.5+k3s1). docs/security.md says how to check them.
 */
export const K3S_RELEASE_PINS: Readonly<Record<string, K3sReleasePins>> = {
  "v1.36.2+k3s1": {
    installerSha256: "46177d4c99440b4c0311b67233823a8e8a2fc09693f6c89af1a7161e152fbfad",
    binarySha256: "65a55ec56c24eab44383086166ec620a491952b7e23941a49ddca6e8a4c4b4de",
    airgapImagesSha256: "da6a3b2dbd55cc368d930078ae8814ed22eb9c92247f7b9b46bf073445ff55b3",
  },
};

/** A release tag as a URL path segment (`+` escaped, as GitHub's release links have it). */
export function releaseTagPath(version: string): string {
  return encodeURIComponent(version);
}

/** The installer from the k3s repository at the release's own tag, not get.k3s.io's current one. */
export function installerUrlFor(version: string): string {
  return `https://raw.githubusercontent.com/k3s-io/k3s/${releaseTagPath(version)}/install.sh`;
}

/** The release's checksum list, for the messages that ask for a hash. */
export function checksumListUrlFor(version: string, baseUrl = DEFAULT_K3S_DOWNLOAD_BASE_URL): string {
  return `${baseUrl}/${releaseTagPath(version)}/sha256sum-amd64.txt`;
}
