/**
 * Plans of the unchanged example stacks, shared between test files through a cache on disk.
 *
 * Jest runs each file in its own module registry, and the Pulumi runtime is process-global, so every file that
 * wanted the plain `dev` plan used to evaluate the whole program again (about 2.5 s of CPU each; nine files plan
 * `dev`, seven `prod`). A plan depends only on the program's sources, the stack files, the installed packages, the
 * planning options and the OpenStack/Pulumi environment, so the cache key is a hash of exactly those: any edit to
 * any of them is a miss, never a stale plan. A plan is cached only when JSON keeps everything in it but properties
 * whose value is undefined (they come back absent, which reads the same), so a hit is the data a fresh evaluation
 * returns; each hit is a fresh copy, so a test that mutates its plan cannot affect another.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { planStack, type Plan, type PlanOptions } from "../../scripts/plan";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** What a plan is computed from: the program (infra, k8s, common), the plan script, the worker's settings table, the stacks, the packages. */
const SOURCE_DIRS = ["infra", "k8s", "common", "scripts", "worker/src"];
const SOURCE_FILES = ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "package-lock.json", "tsconfig.json"];
/** Environment the program or the plan reads (clouds.yaml location, Pulumi settings, our own switches). */
const ENVIRONMENT = /^(OS_|PULUMI_|IMAGE_PIPELINE_)/;

/** Options a cached plan may take: data only (no program function, no other project directory). */
export type CacheablePlanOptions = Omit<PlanOptions, "program" | "projectDir">;

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? (e.name === "node_modules" ? [] : filesUnder(path.join(dir, e.name))) : [path.join(dir, e.name)]));
}

let sourceHash: string | undefined;

/** A hash of every file a plan is computed from, by path and content (computed once per test file). */
export function planSourceHash(root = REPO_ROOT): string {
  if (root === REPO_ROOT && sourceHash) return sourceHash;
  const hash = createHash("sha256");
  const files = [...SOURCE_DIRS.flatMap((d) => filesUnder(path.join(root, d))), ...SOURCE_FILES.map((f) => path.join(root, f))];
  for (const file of files.sort()) {
    hash.update(path.relative(root, file)).update("\0");
    hash.update(fs.existsSync(file) ? fs.readFileSync(file) : "(absent)").update("\0");
  }
  const digest = hash.digest("hex");
  if (root === REPO_ROOT) sourceHash = digest;
  return digest;
}

export function planCacheKey(stack: string, options: CacheablePlanOptions, env: NodeJS.ProcessEnv = process.env): string {
  const environment = Object.entries(env)
    .filter(([k]) => ENVIRONMENT.test(k))
    .sort(([a], [b]) => a.localeCompare(b));
  const sortedOptions = JSON.stringify(options, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
  return createHash("sha256")
    .update(JSON.stringify([planSourceHash(), process.version, stack, sortedOptions, environment]))
    .digest("hex");
}

export function planCacheDir(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  return path.join(os.tmpdir(), `image-pipeline-plan-cache-${uid}`);
}

/** A deep copy without the object properties whose value is undefined (what JSON drops); anything else is kept as is. */
export function withoutUndefinedProperties(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUndefinedProperties);
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, withoutUndefinedProperties(v)]),
    );
  return value;
}

/** The cache lives in a shared temporary directory: trust it only when it is ours, a real directory, and private. */
function ownedPrivateDirectory(dir: string): boolean {
  try {
    const st = fs.lstatSync(dir);
    const uid = typeof process.getuid === "function" ? process.getuid() : st.uid;
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** Entries of earlier sources are never hit again; a day is longer than any test run. */
function pruneOldEntries(dir: string, maxAgeMs = 24 * 3600_000): void {
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    try {
      if (Date.now() - fs.statSync(file).mtimeMs > maxAgeMs) fs.rmSync(file, { force: true });
    } catch {
      // removed by another process meanwhile
    }
  }
}

/** The plan of `stack` with `options`: from the cache when an identical evaluation was cached, else evaluated and cached. */
export async function cachedPlan(stack: string, options: CacheablePlanOptions = {}, dir = planCacheDir()): Promise<Plan> {
  const file = path.join(dir, `${planCacheKey(stack, options)}.json`);
  try {
    if (ownedPrivateDirectory(dir)) return JSON.parse(fs.readFileSync(file, "utf8")) as Plan;
  } catch {
    // A miss (or a file another process is still writing: it renames into place, so this is a miss too).
  }
  const plan = await planStack(stack, options);
  const text = JSON.stringify(plan);
  if (isDeepStrictEqual(JSON.parse(text), withoutUndefinedProperties(plan))) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!ownedPrivateDirectory(dir)) return plan;
    pruneOldEntries(dir);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  return plan;
}
