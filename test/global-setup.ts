/**
 * Runs once before `npm test`: installs the Debian tools the tests run for real when they are missing, so the
 * README's test command passes on a fresh machine. cloud-init validates every generated cloud-config, shellcheck
 * every embedded script, openssl checks the PKI, git backs the plan-diff tests, and promtool (Debian's prometheus
 * package) checks and unit-tests the alert rules.
 */
import { ensurePackages } from "./support/system-packages";

export const TEST_BINARIES = {
  "cloud-init": "cloud-init",
  shellcheck: "shellcheck",
  openssl: "openssl",
  git: "git",
  promtool: "prometheus",
} as const;

export default function globalSetup(): void {
  const result = ensurePackages(TEST_BINARIES, (line) => void process.stderr.write(`[setup] ${line}\n`));
  if (result.installed.length > 0)
    process.stderr.write(`[setup] installed ${result.installed.join(", ")} in ${result.seconds.toFixed(0)} s\n`);
}
