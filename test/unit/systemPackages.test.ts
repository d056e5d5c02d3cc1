/** The test suite's own setup: which Debian packages a machine lacks is decided from PATH, per binary. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TEST_BINARIES } from "../global-setup";
import { ensurePackages, missingPackages } from "../support/system-packages";

test("on a machine without the tools every package is missing; a binary on PATH satisfies its package", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-pipeline-path-"));
  try {
    expect(missingPackages(TEST_BINARIES, dir)).toEqual([
      "cloud-init",
      "git",
      "iproute2",
      "iptables",
      "openssl",
      "prometheus",
      "shellcheck",
      "systemd",
    ]);
    fs.writeFileSync(path.join(dir, "shellcheck"), "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "openssl"), "not executable\n", { mode: 0o644 });
    expect(missingPackages(TEST_BINARIES, dir)).toEqual(["cloud-init", "git", "iproute2", "iptables", "openssl", "prometheus", "systemd"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("with every tool present (after the global setup ran) nothing is installed", () => {
  expect(ensurePackages(TEST_BINARIES)).toEqual({ installed: [], seconds: 0 });
});
