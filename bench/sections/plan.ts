/** Program evaluation: the offline plan of each stack (the program under Pulumi's mocks), timed, with its resource count. */
import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "../lib/compile";
import { summarize, type Summary } from "../lib/stats";
import { listStacks } from "../../scripts/plan";

export interface PlanCase {
  readonly stack: string;
  readonly resources: number;
  readonly types: Record<string, number>;
  /** planStack alone: config, mocks, loading (transpiling) and running the program. */
  readonly evaluationMs: Summary;
  /** The whole process, including Node and ts-node start-up: what `npm run plan` costs minus npm. */
  readonly processMs: Summary;
}

interface PlanLine {
  stack: string;
  ms: number;
  resources: number;
  types: Record<string, number>;
}

function planOnce(stack: string): Promise<{ line: PlanLine; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(
      process.execPath,
      ["-r", require.resolve("ts-node/register/transpile-only"), path.join(REPO_ROOT, "bench/probes/plan-stack.ts"), stack],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", NODE_NO_WARNINGS: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const json = /^PLAN (.*)$/m.exec(out)?.[1];
      if (code !== 0 || !json)
        return reject(new Error(`offline plan of stack ${stack} failed (exit ${code}): ${err.trim() || out.trim()}`));
      resolve({ line: JSON.parse(json) as PlanLine, wallMs });
    });
  });
}

export async function measurePlans(options: {
  runs: number;
  stacks?: readonly string[];
  log: (line: string) => void;
}): Promise<PlanCase[]> {
  const stacks = options.stacks ?? listStacks(REPO_ROOT);
  const cases: PlanCase[] = [];
  for (const stack of stacks) {
    const runs: { line: PlanLine; wallMs: number }[] = [];
    for (let i = 0; i < options.runs; i++) runs.push(await planOnce(stack));
    const counts = new Set(runs.map((r) => r.line.resources));
    if (counts.size !== 1)
      throw new Error(`stack ${stack}: resource count differs between runs (${[...counts].join(", ")}); the program is not deterministic`);
    const c: PlanCase = {
      stack,
      resources: runs[0].line.resources,
      types: runs[0].line.types,
      evaluationMs: summarize(runs.map((r) => r.line.ms)),
      processMs: summarize(runs.map((r) => r.wallMs)),
    };
    options.log(
      `plan ${stack}: ${c.resources} resources, evaluation median ${c.evaluationMs.median.toFixed(0)} ms, process ${c.processMs.median.toFixed(0)} ms (n=${options.runs})`,
    );
    cases.push(c);
  }
  return cases;
}
