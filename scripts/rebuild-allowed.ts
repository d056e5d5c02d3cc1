/**
 * Runs the install scripts of the dependencies package.json's `allowScripts` allows, and no others.
 *
 *   npm ci --ignore-scripts && npm run -s rebuild:allowed [-- --dry-run]
 *
 * The npm of Node 20 (npm 10) runs every dependency's preinstall/install/postinstall script during `npm ci`, with
 * the job's environment, so a compromised package would run with whatever the job holds; only newer npm reads
 * `allowScripts` itself (`npm help install-scripts`). CI therefore installs with `--ignore-scripts`, whatever the
 * npm, and then rebuilds only the packages allowScripts allows. A package that gains an install script and is not
 * listed either way stops the install: someone has to decide.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseCommandLine } from "../common/command-line";

export interface LockPackage {
  readonly version?: string;
  readonly hasInstallScript?: boolean;
  readonly os?: string[];
  readonly cpu?: string[];
}

export interface RebuildPlan {
  /** Installed packages whose scripts may run, in lock-file order. */
  readonly rebuild: string[];
  /** Installed packages whose scripts stay off. */
  readonly skipped: string[];
}

/** The package name of a lock-file key: node_modules/a/node_modules/@s/b -> @s/b. */
export function packageName(lockKey: string): string {
  const at = lockKey.lastIndexOf("node_modules/");
  return lockKey.slice(at + "node_modules/".length);
}

/** npm's rule for `os`/`cpu` lists: any listed value matches, `!x` excludes x. */
function matches(list: string[] | undefined, value: string): boolean {
  if (!list || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const positive = list.filter((v) => !v.startsWith("!"));
  return positive.length === 0 || positive.includes(value);
}

/**
 * An allowScripts key as npm writes it (`npm install-scripts approve`): a name, or a name pinned to one version
 * (`pkg@1.2.3`, `@scope/pkg@1.2.3`).
 */
export function parseAllowKey(key: string): { name: string; version?: string } {
  const at = key.indexOf("@", key.startsWith("@") ? 1 : 0);
  return at === -1 ? { name: key } : { name: key.slice(0, at), version: key.slice(at + 1) };
}

/** The entry that decides a package at a version: a pin to that version wins over a name-only entry. */
function decision(allowScripts: Record<string, boolean>, name: string, version: string | undefined): boolean | undefined {
  let byName: boolean | undefined;
  for (const [key, allowed] of Object.entries(allowScripts)) {
    const parsed = parseAllowKey(key);
    if (parsed.name !== name) continue;
    if (parsed.version === undefined) byName = allowed;
    else if (parsed.version === version) return allowed;
  }
  return byName;
}

export function planRebuild(
  allowScripts: Record<string, boolean>,
  lockPackages: Record<string, LockPackage>,
  platform: { os: string; cpu: string },
  isInstalled: (name: string) => boolean,
): RebuildPlan {
  const problems: string[] = [];
  const rebuild: string[] = [];
  const skipped: string[] = [];
  const inLock = new Set(
    Object.keys(lockPackages)
      .filter((k) => k !== "")
      .map(packageName),
  );
  for (const key of Object.keys(allowScripts)) {
    if (typeof allowScripts[key] !== "boolean") problems.push(`allowScripts["${key}"] must be true or false`);
    const { name } = parseAllowKey(key);
    if (!inLock.has(name)) problems.push(`allowScripts names ${name}, which package-lock.json does not install. Fix: remove it`);
  }
  for (const [key, pkg] of Object.entries(lockPackages)) {
    if (key === "" || !pkg.hasInstallScript) continue;
    if (!matches(pkg.os, platform.os) || !matches(pkg.cpu, platform.cpu)) continue;
    const name = packageName(key);
    if (!isInstalled(name)) continue;
    const allowed = decision(allowScripts, name, pkg.version);
    if (allowed === undefined)
      problems.push(
        `${name}@${pkg.version ?? "?"} has install scripts and allowScripts does not say whether they may run. Fix: add "${name}": true or false (npm install-scripts approve/deny)`,
      );
    else if (allowed === true && !rebuild.includes(name)) rebuild.push(name);
    else if (allowed === false && !skipped.includes(name)) skipped.push(name);
  }
  if (problems.length > 0) throw new Error(`package.json allowScripts:\n  ${problems.join("\n  ")}`);
  return { rebuild, skipped };
}

function main(): void {
  const root = path.resolve(__dirname, "..");
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { allowScripts?: Record<string, boolean> };
  const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, LockPackage> };
  const plan = planRebuild(manifest.allowScripts ?? {}, lock.packages, { os: process.platform, cpu: process.arch }, (name) =>
    fs.existsSync(path.join(root, "node_modules", name, "package.json")),
  );
  const command = ["rebuild", ...plan.rebuild];
  console.log(
    `rebuild-allowed: npm ${command.join(" ")}${plan.skipped.length > 0 ? ` (scripts kept off: ${plan.skipped.join(", ")})` : ""}`,
  );
  if (
    parseCommandLine(process.argv.slice(2), { "dry-run": { type: "boolean" } }, "usage: npm run rebuild:allowed [-- --dry-run]")[
      "dry-run"
    ] === true ||
    plan.rebuild.length === 0
  )
    return;
  execFileSync("npm", command, { cwd: root, stdio: "inherit" });
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
