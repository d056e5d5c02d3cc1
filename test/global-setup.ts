/**
 * Runs once before `npm test`: installs the Debian tools the tests run for real when they are missing, so the
 * README's test command passes on a fresh machine. cloud-init validates every generated cloud-config, shellcheck
 * every embedded script, openssl checks the PKI, git backs the plan-diff tests, promtool (Debian's prometheus
 * package) checks and unit-tests the alert rules, ip and iptables run the metadata block in network namespaces,
 * and systemd-analyze verifies the generated units.
 */
import { DEBIAN_BASE_BINARIES, PODMAN_BINARIES } from "../scripts/image/podman";
import { ensurePackages } from "./support/system-packages";

export const TEST_BINARIES = {
  "cloud-init": "cloud-init",
  shellcheck: "shellcheck",
  openssl: "openssl",
  git: "git",
  promtool: "prometheus",
  ip: "iproute2",
  iptables: "iptables",
  "systemd-analyze": "systemd",
} as const;

/**
 * The image tests' and the cloud-init runs' tools (test/image/, test/k3s/cloud-init-run.test.ts): podman with runc,
 * and mmdebstrap for the bases built from Debian's packages. Installed when those tests are required
 * (IMAGE_PIPELINE_REQUIRE_PODMAN=1, as .ci/run sets it); elsewhere they run where podman is already installed.
 */
export const CONTAINER_TEST_BINARIES = { ...PODMAN_BINARIES, ...DEBIAN_BASE_BINARIES } as const;

export default function globalSetup(): void {
  const required = process.env.IMAGE_PIPELINE_REQUIRE_PODMAN === "1";
  const binaries = required ? { ...TEST_BINARIES, ...CONTAINER_TEST_BINARIES } : TEST_BINARIES;
  const result = ensurePackages(binaries, (line) => void process.stderr.write(`[setup] ${line}\n`));
  if (result.installed.length > 0)
    process.stderr.write(`[setup] installed ${result.installed.join(", ")} in ${result.seconds.toFixed(0)} s\n`);
}
