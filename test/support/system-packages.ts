/**
 * Debian packages the tests run for real (cloud-init, shellcheck, openssl, git, Ceph), installed when missing,
 * so the README's test command passes on a fresh machine with nothing installed by hand. A no-op when every
 * binary is already on PATH; otherwise apt-get as root, or `sudo -n` for a user with passwordless sudo.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** Binary → the Debian package that provides it. */
export type BinaryPackages = Readonly<Record<string, string>>;

export function findExecutable(name: string, searchPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The packages whose binaries are not on PATH, sorted. */
export function missingPackages(binaries: BinaryPackages, searchPath?: string): string[] {
  const missing = new Set<string>();
  for (const [binary, pkg] of Object.entries(binaries)) {
    if (!findExecutable(binary, searchPath)) missing.add(pkg);
  }
  return [...missing].sort();
}

export interface InstallResult {
  installed: string[];
  seconds: number;
}

function runApt(args: string[], packages: string[], log: (line: string) => void): { status: number | null; output: string } {
  const isRoot = process.getuid?.() === 0;
  let command: string[];
  if (isRoot) {
    command = ["apt-get", ...args];
  } else if (findExecutable("sudo")) {
    command = ["sudo", "-n", "apt-get", ...args];
  } else {
    throw new Error(
      `${packages.join(", ")} missing and apt-get needs root. Fix: run as root, or install them first: apt-get install -y --no-install-recommends ${packages.join(" ")}`,
    );
  }
  // Concurrent test runs on one machine serialise apt through this lock; on a fresh CI machine nobody holds it.
  if (findExecutable("flock")) command = ["flock", "/tmp/apt.lock", ...command];
  log(`$ ${command.join(" ")}`);
  const result = spawnSync(command[0], command.slice(1), {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/** Installs the packages of every missing binary; a no-op (0 s) when all are present. */
export function ensurePackages(binaries: BinaryPackages, log: (line: string) => void = () => undefined): InstallResult {
  const missing = missingPackages(binaries);
  if (missing.length === 0) return { installed: [], seconds: 0 };
  const started = process.hrtime.bigint();
  const install = ["install", "-y", "--no-install-recommends", ...missing];
  let result = runApt(install, missing, log);
  if (result.status !== 0) {
    // A fresh machine may have no package lists yet.
    log("apt-get install failed; running apt-get update and retrying");
    const update = runApt(["update"], missing, log);
    if (update.status !== 0) throw new Error(`apt-get update failed (exit ${update.status}):\n${update.output.slice(-4000)}`);
    result = runApt(install, missing, log);
  }
  if (result.status !== 0)
    throw new Error(`apt-get install ${missing.join(" ")} failed (exit ${result.status}):\n${result.output.slice(-4000)}`);
  const still = missingPackages(binaries);
  if (still.length > 0)
    throw new Error(`after apt-get install, binaries of ${still.join(", ")} are still missing from PATH (${process.env.PATH}).`);
  return { installed: missing, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
