/**
 * Program evaluation for one stack, in a process of its own (Pulumi's runtime state is process-global):
 * times planStack (config, mocks, loading and running the program, resolving outputs) and counts the
 * resources it declares. Run through ts-node like `npm run plan`, so module transpilation is part of
 * the time, as it is for `pulumi preview` of a TypeScript program.
 *
 *   node -r ts-node/register/transpile-only bench/probes/plan-stack.ts <stack>
 * prints one line: PLAN {"stack":…,"ms":…,"resources":…,"types":{…}}
 */
import { planStack } from "../../scripts/plan";

async function main(): Promise<void> {
  const stack = process.argv[2];
  if (!stack) throw new Error("usage: plan-stack.ts <stack>");
  const t0 = process.hrtime.bigint();
  const plan = await planStack(stack);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const types: Record<string, number> = {};
  for (const r of plan.resources) types[r.type] = (types[r.type] ?? 0) + 1;
  process.stdout.write(`PLAN ${JSON.stringify({ stack, ms, resources: plan.resources.length, types })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`plan-stack: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
