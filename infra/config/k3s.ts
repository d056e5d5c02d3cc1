/** k3s on the nodes: the pinned version, the installer and the bootstrap timeouts. */
import {
  DEFAULT_JOIN_TIMEOUT_SECONDS,
  DEFAULT_K3S_INSTALLER_URL,
  DEFAULT_K3S_VERSION,
  DEFAULT_READY_TIMEOUT_SECONDS,
  K3S_VERSION_PATTERN,
} from "../k3s/install-defaults";
import type { ConfigDefaults, ConfigReader } from "./reader";

export const K3S_DEFAULTS: ConfigDefaults = {
  k3sVersion: DEFAULT_K3S_VERSION,
  k3sInstallerUrl: DEFAULT_K3S_INSTALLER_URL,
  k3sJoinTimeoutSeconds: String(DEFAULT_JOIN_TIMEOUT_SECONDS),
  k3sReadyTimeoutSeconds: String(DEFAULT_READY_TIMEOUT_SECONDS),
};

export interface K3sConfig {
  /** k3s release tag installed on every node, e.g. v1.32.11+k3s3. */
  readonly version: string;
  /** The k3s installer script: https://get.k3s.io or a mirror of it. */
  readonly installerUrl: string;
  /** How long an agent waits at boot for node1's API before giving up. */
  readonly joinTimeoutSeconds: number;
  /** How long `pulumi up` waits for the API and every node to be Ready. */
  readonly readyTimeoutSeconds: number;
}

export function readK3s(r: ConfigReader): K3sConfig {
  const version = r.string("k3sVersion");
  if (!K3S_VERSION_PATTERN.test(version)) {
    r.problem(
      "k3sVersion",
      `must be a k3s release tag such as ${DEFAULT_K3S_VERSION} (see github.com/k3s-io/k3s/releases), got "${version}"`,
      `pulumi config set k3sVersion ${DEFAULT_K3S_VERSION}`,
    );
  }
  const installerUrl = r.string("k3sInstallerUrl");
  let url: URL | undefined;
  try {
    url = new URL(installerUrl);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:" || /\s/.test(installerUrl)) {
    r.problem(
      "k3sInstallerUrl",
      `must be an https:// URL of the k3s install script (nodes run what it serves as root), got "${installerUrl}"`,
      `pulumi config set k3sInstallerUrl ${DEFAULT_K3S_INSTALLER_URL}, or your mirror's https URL`,
    );
  }
  return {
    version,
    installerUrl,
    joinTimeoutSeconds: r.integer("k3sJoinTimeoutSeconds", 60, 3600),
    readyTimeoutSeconds: r.integer("k3sReadyTimeoutSeconds", 60, 7200),
  };
}
