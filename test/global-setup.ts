/**
 * Runs once before `npm test`: installs the Debian tools the tests run for real when they are missing, so the
 * README's test command passes on a fresh machine. cloud-init validates every generated cloud-config, shellcheck
 * every embedded script, openssl checks the PKI, git backs the plan-diff tests, promtool (Debian's prometheus
 * package) checks and unit-tests the alert rules, ip and iptables run the metadata block in network namespaces,
 * and systemd-analyze verifies the generated units.
 */
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

export default function globalSetup(): void {
  const result = ensurePackages(TEST_BINARIES, (line) => void process.stderr.write(`[setup] ${line}\n`));
  if (result.installed.length > 0)
    process.stderr.write(`[setup] installed ${result.installed.join(", ")} in ${result.seconds.toFixed(0)} s\n`);
}
