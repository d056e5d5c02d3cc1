/**
 * The pinned k3s release and where the installer comes from. Kubernetes minor: 1.32 (workload manifests
 * target it). Bump deliberately: a new version only reaches nodes created after the change, because user
 * data is applied at first boot only (see docs/changes.md).
 */
export const DEFAULT_K3S_VERSION = "v1.32.11+k3s3";
export const DEFAULT_K3S_INSTALLER_URL = "https://get.k3s.io";
/** k3s release tags: v<major>.<minor>.<patch>+k3s<n>, optionally with an -rcN pre-release part. */
export const K3S_VERSION_PATTERN = /^v1\.\d{1,2}\.\d{1,2}(-rc\d+)?\+k3s\d+$/;
export const DEFAULT_JOIN_TIMEOUT_SECONDS = 900;
export const DEFAULT_READY_TIMEOUT_SECONDS = 1200;
