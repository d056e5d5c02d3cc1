/**
 * Offline plan diff: what a change does to a stack's resources, without credentials or the Pulumi CLI. Pull
 * requests from forks get no secrets, so the real `pulumi preview` cannot run for them; this can.
 *
 *   npm run plan:diff -- --stack dev [--stack prod] --base <git ref> [--markdown]
 *
 * Evaluates the offline plan (scripts/plan.ts, Pulumi's mocks) of the base commit, checked out in a temporary
 * `git worktree` that shares this checkout's node_modules, and of the working tree, each in its own child
 * process (Pulumi's runtime is process-global), then prints the resources added, removed and changed with the
 * changed input keys. Secret values are compared as "[secret]", so a change to a secret's value alone does not
 * show; mocked outputs (ids, addresses) are identical on both sides and never show as changes.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { evaluatePolicies, readPackConfig, type Finding } from "../policy/offline";
import type { PlannedResource } from "./plan";
import { parseCommandLine } from "../common/command-line";

export interface SnapshotResource {
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly inputs: Record<string, unknown>;
  readonly dependsOn?: string[];
  readonly provider?: string;
  /** Absent when the base's offline plan predates resource options. */
  readonly options?: PlannedResource["options"];
}

export interface PlanSnapshot {
  readonly stack: string;
  readonly resources: SnapshotResource[];
  readonly outputs: Record<string, unknown>;
}

export interface ChangedResource {
  readonly type: string;
  readonly name: string;
  /** Changed input paths (`spec.replicas`, `networks[1].port`), then `(parent)`, `(provider)`, `(dependsOn)`, `(options.x)`. */
  readonly changes: string[];
}

export interface PlanDiff {
  readonly stack: string;
  readonly baseLabel: string;
  readonly headLabel: string;
  readonly added: SnapshotResource[];
  readonly removed: SnapshotResource[];
  readonly changed: ChangedResource[];
  readonly unchanged: number;
  readonly outputs: { added: string[]; removed: string[]; changed: string[] };
  readonly warnings: string[];
  /** The policy pack's findings on the head, with the stack's pack config (undefined: not evaluated). */
  readonly findings?: Finding[];
}

const keyOf = (r: { type: string; name: string }) => `${r.type}::${r.name}`;
const byTypeAndName = (a: { type: string; name: string }, b: { type: string; name: string }) =>
  a.type.localeCompare(b.type) || a.name.localeCompare(b.name);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Paths of the leaves that differ. Arrays of scalars change as a whole; arrays of objects element by element. */
export function changedPaths(before: unknown, after: unknown, prefix = ""): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedPaths(before[k], after[k], prefix ? `${prefix}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const objects = [...before, ...after].some((v) => isPlainObject(v) || Array.isArray(v));
    if (!objects) return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
    const out: string[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) out.push(...changedPaths(before[i], after[i], `${prefix}[${i}]`));
    return out;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
}

function sameList(a: readonly string[] = [], b: readonly string[] = []): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
}

export function diffPlans(
  base: PlanSnapshot,
  head: PlanSnapshot,
  labels: { base: string; head: string } = { base: "base", head: "head" },
  warnings: string[] = [],
): PlanDiff {
  const baseByKey = new Map(base.resources.map((r) => [keyOf(r), r]));
  const headByKey = new Map(head.resources.map((r) => [keyOf(r), r]));
  const added = head.resources.filter((r) => !baseByKey.has(keyOf(r))).sort(byTypeAndName);
  const removed = base.resources.filter((r) => !headByKey.has(keyOf(r))).sort(byTypeAndName);
  const changed: ChangedResource[] = [];
  let unchanged = 0;
  for (const after of head.resources) {
    const before = baseByKey.get(keyOf(after));
    if (!before) continue;
    const changes = changedPaths(before.inputs, after.inputs);
    if ((before.parent ?? "") !== (after.parent ?? "")) changes.push("(parent)");
    if ((before.provider ?? "") !== (after.provider ?? "")) changes.push("(provider)");
    if (!sameList(before.dependsOn, after.dependsOn)) changes.push("(dependsOn)");
    for (const option of changedPaths(before.options ?? {}, after.options ?? {})) changes.push(`(options.${option})`);
    if (changes.length > 0) changed.push({ type: after.type, name: after.name, changes });
    else unchanged++;
  }
  changed.sort(byTypeAndName);
  const outputKeys = (o: Record<string, unknown>) => new Set(Object.keys(o ?? {}));
  const baseOut = outputKeys(base.outputs);
  const headOut = outputKeys(head.outputs);
  return {
    stack: head.stack,
    baseLabel: labels.base,
    headLabel: labels.head,
    added,
    removed,
    changed,
    unchanged,
    outputs: {
      added: [...headOut].filter((k) => !baseOut.has(k)).sort(),
      removed: [...baseOut].filter((k) => !headOut.has(k)).sort(),
      changed: [...headOut].filter((k) => baseOut.has(k) && JSON.stringify(base.outputs[k]) !== JSON.stringify(head.outputs[k])).sort(),
    },
    warnings,
  };
}

export function hasChanges(d: PlanDiff): boolean {
  return (
    d.added.length + d.removed.length + d.changed.length + d.outputs.added.length + d.outputs.removed.length + d.outputs.changed.length > 0
  );
}

const MAX_PATHS = 12;
function listPaths(paths: string[]): string {
  const shown = paths.slice(0, MAX_PATHS).join(", ");
  return paths.length > MAX_PATHS ? `${shown}, … ${paths.length - MAX_PATHS} more` : shown;
}

function summary(d: PlanDiff): string {
  return `${d.added.length} to add, ${d.changed.length} to change, ${d.removed.length} to remove, ${d.unchanged} unchanged`;
}

function outputLines(d: PlanDiff): string[] {
  const lines: string[] = [];
  if (d.outputs.added.length) lines.push(`outputs added: ${d.outputs.added.join(", ")}`);
  if (d.outputs.removed.length) lines.push(`outputs removed: ${d.outputs.removed.join(", ")}`);
  if (d.outputs.changed.length) lines.push(`outputs changed: ${d.outputs.changed.join(", ")}`);
  return lines;
}

function findingLine(f: Finding): string {
  return `${f.enforcementLevel} ${f.policy}${f.resource ? ` ${f.resource}` : ""}: ${f.message}`;
}

function policyLines(d: PlanDiff): string[] {
  if (d.findings === undefined) return [];
  if (d.findings.length === 0) return ["policy pack: no findings"];
  return [`policy pack: ${d.findings.length} finding(s)`, ...d.findings.map((f) => `  ! ${findingLine(f)}`)];
}

export function formatText(diffs: readonly PlanDiff[]): string {
  const blocks = diffs.map((d) => {
    const header = `stack ${d.stack}: ${d.baseLabel} -> ${d.headLabel}`;
    const warnings = d.warnings.map((w) => `warning: ${w}`);
    if (!hasChanges(d)) return [header, ...warnings, `no changes (${d.unchanged} resources)`, ...policyLines(d)].join("\n");
    const lines = [header, ...warnings, summary(d), ""];
    for (const r of d.added) lines.push(`+ ${r.type}  ${r.name}`);
    for (const r of d.removed) lines.push(`- ${r.type}  ${r.name}`);
    for (const r of d.changed) lines.push(`~ ${r.type}  ${r.name}`, `    ${listPaths(r.changes)}`);
    const outputs = outputLines(d);
    if (outputs.length) lines.push("", ...outputs);
    const findings = policyLines(d);
    if (findings.length) lines.push("", ...findings);
    return lines.join("\n");
  });
  return `${blocks.join("\n\n")}\n`;
}

/** Marker the CI workflow uses to find and edit its own comment on a pull request. */
export const MARKDOWN_MARKER = "<!-- image-pipeline:offline-plan-diff -->";
/** GitHub rejects comments over 65,536 characters; stay clear of it. */
export const MARKDOWN_LIMIT = 60_000;

function policyCell(d: PlanDiff): string {
  if (d.findings === undefined) return "not run";
  const mandatory = d.findings.filter((f) => f.enforcementLevel === "mandatory").length;
  const advisory = d.findings.length - mandatory;
  if (d.findings.length === 0) return "✅ pass";
  return `${mandatory ? `❌ ${mandatory} mandatory` : "✅ pass"}${advisory ? `, ⚠️ ${advisory} advisory` : ""}`;
}

const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/**
 * A pull-request comment: a one-line summary per stack first, then the details per stack in collapsible
 * sections. When the whole would exceed GitHub's comment limit, detail rows are cut from the end with a note,
 * so the summary always survives.
 */
export function formatMarkdown(diffs: readonly PlanDiff[], limit = MARKDOWN_LIMIT): string {
  const head = [MARKDOWN_MARKER, "### Offline plan diff", ""];
  head.push("| stack | add | change | remove | unchanged | policy pack |", "| --- | ---: | ---: | ---: | ---: | --- |");
  for (const d of diffs)
    head.push(`| ${code(d.stack)} | ${d.added.length} | ${d.changed.length} | ${d.removed.length} | ${d.unchanged} | ${policyCell(d)} |`);
  head.push("");
  for (const d of diffs) {
    const blocking = (d.findings ?? []).filter((f) => f.enforcementLevel === "mandatory");
    if (blocking.length)
      head.push(`**${code(d.stack)} violates mandatory policies:**`, ...blocking.map((f) => `- ${cell(findingLine(f))}`), "");
  }
  const base = diffs[0];
  if (base)
    head.push(
      `Evaluated offline with Pulumi's mocks: ${code(base.baseLabel)} → ${code(base.headLabel)}. Secret values compare as \`[secret]\`; the real \`pulumi preview\` remains the reference.`,
      "",
    );
  for (const d of diffs) for (const w of d.warnings) head.push(`> **Warning** (${d.stack}): ${w}`, "");

  const footer = (omitted: number) =>
    omitted > 0
      ? [
          `_${omitted} detail rows omitted to fit a comment; run \`npm run plan:diff -- --stack <name> --base ${base?.baseLabel ?? "<ref>"}\` for all of them._`,
          "",
        ]
      : [];

  const sections = diffs.map((d) => {
    const rows: string[] = [];
    for (const r of d.added) rows.push(`| ➕ add | ${code(r.type)} | ${code(r.name)} | |`);
    for (const r of d.removed) rows.push(`| ➖ remove | ${code(r.type)} | ${code(r.name)} | |`);
    for (const r of d.changed) rows.push(`| ✏️ change | ${code(r.type)} | ${code(r.name)} | ${cell(listPaths(r.changes))} |`);
    const outputs = outputLines(d);
    return { d, rows, outputs };
  });

  const render = (budgetRows: number): { text: string; omitted: number } => {
    let remaining = budgetRows;
    let omitted = 0;
    const parts = [...head];
    for (const { d, rows, outputs } of sections) {
      if (!hasChanges(d)) {
        parts.push(`**${code(d.stack)}: no changes.**`, "");
        continue;
      }
      const shown = rows.slice(0, Math.max(0, remaining));
      omitted += rows.length - shown.length;
      remaining -= shown.length;
      parts.push(`<details><summary><b>${d.stack}</b>: ${summary(d)}</summary>`, "");
      if (shown.length) parts.push("| | type | name | changed inputs |", "| --- | --- | --- | --- |", ...shown, "");
      if (rows.length > shown.length) parts.push(`_… ${rows.length - shown.length} more rows for ${d.stack}._`, "");
      if (outputs.length) parts.push(...outputs.map((o) => `- ${o}`), "");
      const advisory = (d.findings ?? []).filter((f) => f.enforcementLevel !== "mandatory");
      if (advisory.length) parts.push("Advisory policy findings:", ...advisory.map((f) => `- ${cell(findingLine(f))}`), "");
      parts.push("</details>", "");
    }
    return { text: [...parts, ...footer(omitted)].join("\n"), omitted };
  };

  const totalRows = sections.reduce((n, s) => n + s.rows.length, 0);
  let full = render(totalRows);
  if (full.text.length <= limit) return full.text;
  // Binary search the number of rows that fits.
  let lo = 0;
  let hi = totalRows;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (render(mid).text.length <= limit) lo = mid;
    else hi = mid - 1;
  }
  full = render(lo);
  return full.text;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluating the two trees.

function git(args: string[], cwd: string): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export function resolveCommit(repo: string, ref: string): string {
  try {
    return git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], repo);
  } catch {
    throw new Error(
      `--base ${ref}: not a commit in ${repo}. Fix: pass a branch, tag or sha that exists locally (in CI: fetch it first, e.g. actions/checkout with fetch-depth: 0)`,
    );
  }
}

/** Runs `fn` with the commit checked out in a temporary worktree that shares this checkout's node_modules. */
export async function withWorktree<T>(repo: string, sha: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-diff-"));
  const link = path.join(dir, "node_modules");
  const cleanup = () => {
    try {
      if (fs.existsSync(link)) fs.unlinkSync(link);
      git(["worktree", "remove", "--force", dir], repo);
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
      try {
        git(["worktree", "prune"], repo);
      } catch {
        // Nothing left to prune.
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    git(["worktree", "add", "--detach", "--quiet", dir, sha], repo);
    fs.symlinkSync(path.join(repo, "node_modules"), link, "dir");
    return await fn(dir);
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    cleanup();
  }
}

/** Plans `stack` of the tree at `projectDir` in a child process and returns the snapshot. */
export function planInChild(projectDir: string, stack: string): Promise<PlanSnapshot> {
  const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-snapshot-")), "plan.json");
  const tsconfig = fs.existsSync(path.join(projectDir, "tsconfig.json"))
    ? path.join(projectDir, "tsconfig.json")
    : path.resolve(__dirname, "../tsconfig.json");
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["-r", require.resolve("ts-node/register/transpile-only"), __filename, "--emit-plan", projectDir, "--stack", stack, "--out", outFile],
      {
        cwd: projectDir,
        env: { ...process.env, TS_NODE_PROJECT: tsconfig, TS_NODE_TRANSPILE_ONLY: "true" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.resume();
    child.on("error", reject);
    child.on("close", (status) => {
      try {
        if (status !== 0) {
          reject(
            new Error(`planning ${stack} in ${projectDir} failed (exit ${status}):\n${stderr.trim().split("\n").slice(-15).join("\n")}`),
          );
          return;
        }
        resolve(JSON.parse(fs.readFileSync(outFile, "utf8")) as PlanSnapshot);
      } catch (err) {
        reject(err);
      } finally {
        fs.rmSync(path.dirname(outFile), { recursive: true, force: true });
      }
    });
  });
}

/** Child-process side: loads that tree's own offline plan and writes its snapshot. */
async function emitPlan(projectDir: string, stack: string, outFile: string): Promise<void> {
  const planModule = path.join(projectDir, "scripts", "plan.ts");
  if (!fs.existsSync(planModule))
    throw new Error(`${projectDir} has no scripts/plan.ts (the offline plan); choose a base commit that has it`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { planStack } = require(planModule) as { planStack(stack: string): Promise<PlanSnapshot> };
  const plan = await planStack(stack);
  const snapshot: PlanSnapshot = {
    stack,
    resources: plan.resources.map(({ type, name, parent, inputs, dependsOn, provider, options }) => ({
      type,
      name,
      parent,
      inputs,
      dependsOn,
      provider,
      options,
    })),
    outputs: plan.outputs ?? {},
  };
  fs.writeFileSync(outFile, JSON.stringify(snapshot));
}

async function inPool<T>(tasks: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return results;
}

async function headFindings(stack: string, head: PlanSnapshot, warnings: string[]): Promise<Finding[] | undefined> {
  let config;
  try {
    config = readPackConfig(stack);
  } catch (err) {
    warnings.push(`policy pack not run: ${(err as Error).message}`);
    return undefined;
  }
  return evaluatePolicies(head.resources, { stack, config });
}

export interface DiffRequest {
  readonly stacks: string[];
  readonly base: string;
  /** Repository to diff (default: the one holding this script). */
  readonly repo?: string;
}

export async function planDiff(request: DiffRequest): Promise<PlanDiff[]> {
  const repo = request.repo ?? git(["rev-parse", "--show-toplevel"], path.resolve(__dirname, ".."));
  const sha = resolveCommit(repo, request.base);
  const warnings: string[] = [];
  try {
    git(["diff", "--quiet", sha, "--", "package-lock.json"], repo);
  } catch {
    warnings.push("package-lock.json differs from the base; both sides were evaluated with this checkout's node_modules");
  }
  const labels = { base: `${request.base} (${sha.slice(0, 7)})`, head: "working tree" };
  return withWorktree(repo, sha, async (baseDir) => {
    const jobs = request.stacks.flatMap((stack) => [() => planInChild(baseDir, stack), () => planInChild(repo, stack)]);
    const snapshots = await inPool(jobs, Math.max(2, os.cpus().length));
    return Promise.all(
      request.stacks.map(async (stack, i) => {
        const diff = diffPlans(snapshots[2 * i], snapshots[2 * i + 1], labels, [...warnings]);
        return { ...diff, findings: await headFindings(stack, snapshots[2 * i + 1], diff.warnings) };
      }),
    );
  });
}

// ---------------------------------------------------------------------------------------------------------
// Command line.

const USAGE = "usage: npm run plan:diff -- --stack <name> [--stack <name>...] --base <git ref> [--markdown]";

export function parseArgs(argv: string[]): { stacks: string[]; base: string; markdown: boolean } {
  const values = parseCommandLine(
    argv,
    { stack: { type: "string", multiple: true }, base: { type: "string" }, markdown: { type: "boolean" } },
    USAGE,
  );
  const stacks = values.stack ?? [];
  const base = values.base ?? "";
  const markdown = values.markdown ?? false;
  if (stacks.length === 0) throw new Error(`--stack is required; ${USAGE}`);
  if (!base) throw new Error(`--base is required (e.g. --base origin/main); ${USAGE}`);
  return { stacks: [...new Set(stacks)], base, markdown };
}

async function main(argv: string[]): Promise<void> {
  const emitAt = argv.indexOf("--emit-plan");
  if (emitAt >= 0) {
    const stack = argv[argv.indexOf("--stack") + 1];
    const out = argv[argv.indexOf("--out") + 1];
    await emitPlan(argv[emitAt + 1], stack, out);
    return;
  }
  const args = parseArgs(argv);
  const diffs = await planDiff({ stacks: args.stacks, base: args.base });
  process.stdout.write(args.markdown ? formatMarkdown(diffs) : formatText(diffs));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`plan:diff: ${err.message}\n`);
    process.exit(1);
  });
}
