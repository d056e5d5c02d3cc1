/**
 * The Debian packages the single-host cluster needs, installed when missing.
 * ceph-mgr is deliberately absent: nothing here needs it and it costs ~300 MB.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const CEPH_PACKAGES = ["ceph-mon", "ceph-osd", "radosgw", "ceph-common"] as const;

/** Binary → the package that provides it. */
export const CEPH_BINARIES: Record<string, (typeof CEPH_PACKAGES)[number]> = {
  "ceph-mon": "ceph-mon",
  monmaptool: "ceph-mon",
  "ceph-osd": "ceph-osd",
  radosgw: "radosgw",
  "radosgw-admin": "radosgw",
  ceph: "ceph-common",
};

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

export function missingCephPackages(searchPath?: string): string[] {
  const missing = new Set<string>();
  for (const [binary, pkg] of Object.entries(CEPH_BINARIES)) {
    if (!findExecutable(binary, searchPath)) missing.add(pkg);
  }
  return [...missing].sort();
}

export interface InstallResult {
  installed: string[];
  seconds: number;
}

function runApt(args: string[], log: (line: string) => void): { status: number | null; output: string } {
  const isRoot = process.getuid?.() === 0;
  let command: string[];
  if (isRoot) {
    command = ["apt-get", ...args];
  } else if (findExecutable("sudo")) {
    command = ["sudo", "-n", "apt-get", ...args];
  } else {
    throw new Error(
      `Ceph packages are missing and apt-get needs root. Fix: run as root, or install them first: apt-get install -y --no-install-recommends ${CEPH_PACKAGES.join(" ")}`,
    );
  }
  // Other sessions on a shared machine serialise apt through this lock; on a fresh CI machine nobody holds it.
  if (findExecutable("flock")) command = ["flock", "/tmp/apt.lock", ...command];
  log(`$ ${command.join(" ")}`);
  const result = spawnSync(command[0], command.slice(1), {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/** Installs the Ceph packages when any binary is missing; a no-op (0 s) when all are present. */
export function ensureCephPackages(log: (line: string) => void = () => undefined): InstallResult {
  const missing = missingCephPackages();
  if (missing.length === 0) return { installed: [], seconds: 0 };
  const started = process.hrtime.bigint();
  const install = ["install", "-y", "--no-install-recommends", ...CEPH_PACKAGES];
  let result = runApt(install, log);
  if (result.status !== 0) {
    // A fresh machine may have no package lists yet.
    log("apt-get install failed; running apt-get update and retrying");
    const update = runApt(["update"], log);
    if (update.status !== 0) throw new Error(`apt-get update failed (exit ${update.status}):\n${update.output.slice(-4000)}`);
    result = runApt(install, log);
  }
  if (result.status !== 0)
    throw new Error(`apt-get install ${CEPH_PACKAGES.join(" ")} failed (exit ${result.status}):\n${result.output.slice(-4000)}`);
  const still = missingCephPackages();
  if (still.length > 0)
    throw new Error(`after apt-get install, binaries of ${still.join(", ")} are still missing from PATH (${process.env.PATH}).`);
  return { installed: missing, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
