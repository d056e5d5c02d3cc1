/** k3s on the nodes: the pinned version, where its installer, binary and images come from, their hashes, and timeouts. */
import {
  checksumListUrlFor,
  DEFAULT_JOIN_TIMEOUT_SECONDS,
  DEFAULT_K3S_DOWNLOAD_BASE_URL,
  DEFAULT_K3S_VERSION,
  DEFAULT_READY_TIMEOUT_SECONDS,
  installerUrlFor,
  K3S_AIRGAP_IMAGES_ASSET,
  K3S_BINARY_ASSET,
  K3S_RELEASE_PINS,
  K3S_VERSION_PATTERN,
  releaseTagPath,
} from "../k3s/install-defaults";
import type { ConfigDefaults, ConfigReader } from "./reader";

/** Empty defaults are derived from k3sVersion: the installer at its tag, and the hashes the program pins for it. */
export const K3S_DEFAULTS: ConfigDefaults = {
  k3sVersion: DEFAULT_K3S_VERSION,
  k3sInstallerUrl: "",
  k3sInstallerSha256: "",
  k3sDownloadBaseUrl: DEFAULT_K3S_DOWNLOAD_BASE_URL,
  k3sBinarySha256: "",
  k3sAirgapImagesSha256: "",
  k3sJoinTimeoutSeconds: String(DEFAULT_JOIN_TIMEOUT_SECONDS),
  k3sReadyTimeoutSeconds: String(DEFAULT_READY_TIMEOUT_SECONDS),
};

/** A download the bootstrap verifies before it uses it. */
export interface PinnedDownload {
  readonly url: string;
  readonly sha256: string;
}

export interface K3sConfig {
  /** k3s release tag installed on every node, e.g. v1.36.2+k3s1. */
  readonly version: string;
  /** install.sh from the k3s repository at the release's tag (or a mirror of that file). */
  readonly installer: PinnedDownload;
  /** The release's k3s binary and airgap images archive (amd64). */
  readonly binary: PinnedDownload;
  readonly airgapImages: PinnedDownload;
  /** How long an agent waits at boot for node1's API before giving up. */
  readonly joinTimeoutSeconds: number;
  /** How long `pulumi up` waits for the API and every node to be Ready. */
  readonly readyTimeoutSeconds: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

function httpsUrl(r: ConfigReader, key: string, value: string, what: string, fix: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:" || /\s/.test(value)) r.problem(key, `must be an https:// URL of ${what}, got "${value}"`, fix);
}

export function readK3s(r: ConfigReader): K3sConfig {
  const version = r.string("k3sVersion");
  const versionValid = K3S_VERSION_PATTERN.test(version);
  if (!versionValid) {
    r.problem(
      "k3sVersion",
      `must be a k3s release tag such as ${DEFAULT_K3S_VERSION} (see github.com/k3s-io/k3s/releases), got "${version}"`,
      `pulumi config set k3sVersion ${DEFAULT_K3S_VERSION}`,
    );
  }
  const installerUrl = r.string("k3sInstallerUrl", installerUrlFor(version));
  httpsUrl(
    r,
    "k3sInstallerUrl",
    installerUrl,
    "the k3s install script (nodes run what it serves as root)",
    `pulumi config rm k3sInstallerUrl (the script at the release's tag, ${installerUrlFor(DEFAULT_K3S_VERSION)}), or your mirror of it`,
  );
  const baseUrl = r.string("k3sDownloadBaseUrl").replace(/\/+$/, "");
  httpsUrl(
    r,
    "k3sDownloadBaseUrl",
    baseUrl,
    "the k3s release downloads (<base>/<tag>/k3s)",
    `pulumi config set k3sDownloadBaseUrl ${DEFAULT_K3S_DOWNLOAD_BASE_URL}, or your mirror laid out the same way`,
  );

  // The hashes: the stack's own, else the program's pins for this release, else the stack must give them.
  const pins = K3S_RELEASE_PINS[version];
  const list = checksumListUrlFor(version, baseUrl);
  const hash = (key: string, configured: string | undefined, pinned: string | undefined, howToGet: string): string => {
    const value = configured?.toLowerCase() ?? pinned;
    if (value === undefined) {
      if (versionValid)
        r.problem(
          key,
          `is required for k3sVersion ${version}: the program pins hashes only for ${Object.keys(K3S_RELEASE_PINS).join(", ")}, and nodes install nothing unverified`,
          `${howToGet}, then pulumi config set ${key} <sha256>`,
        );
      return "";
    }
    if (!SHA256.test(value)) r.problem(key, `must be a sha256 in hex (64 characters 0-9a-f), got "${value}"`, howToGet);
    return value;
  };
  const installerSha256 = hash(
    "k3sInstallerSha256",
    r.optionalString("k3sInstallerSha256"),
    pins?.installerSha256,
    `curl -sL ${installerUrl} | sha256sum (read the script first)`,
  );
  const binarySha256 = hash(
    "k3sBinarySha256",
    r.optionalString("k3sBinarySha256"),
    pins?.binarySha256,
    `curl -sL ${list} | grep ' ${K3S_BINARY_ASSET}$'`,
  );
  const airgapImagesSha256 = hash(
    "k3sAirgapImagesSha256",
    r.optionalString("k3sAirgapImagesSha256"),
    pins?.airgapImagesSha256,
    `curl -sL ${list} | grep ' ${K3S_AIRGAP_IMAGES_ASSET}$'`,
  );
  const asset = (name: string) => `${baseUrl}/${releaseTagPath(version)}/${name}`;
  return {
    version,
    installer: { url: installerUrl, sha256: installerSha256 },
    binary: { url: asset(K3S_BINARY_ASSET), sha256: binarySha256 },
    airgapImages: { url: asset(K3S_AIRGAP_IMAGES_ASSET), sha256: airgapImagesSha256 },
    joinTimeoutSeconds: r.integer("k3sJoinTimeoutSeconds", 60, 3600),
    readyTimeoutSeconds: r.integer("k3sReadyTimeoutSeconds", 60, 7200),
  };
}
