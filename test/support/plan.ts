import type { Plan, PlannedResource } from "../../scripts/plan";
import { cachedPlan, type CacheablePlanOptions } from "./plan-cache";

export type { Plan, PlannedResource };

/** Plans a stack once per test file, and through the plan cache once per test run (see plan-cache.ts). */
export function planOnce(stack: string, options: CacheablePlanOptions = {}): () => Promise<Plan> {
  let plan: Promise<Plan> | undefined;
  return () => (plan ??= cachedPlan(stack, options));
}

export function ofType(plan: Plan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

export function byName(plan: Plan, name: string): PlannedResource {
  const found = plan.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}; have ${plan.resources.map((r) => r.name).join(", ")}`);
  return found;
}
