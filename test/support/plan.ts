import { Plan, planStack, PlannedResource } from "../../scripts/plan";

export type { Plan, PlannedResource };

/** Plans a stack once per test file (the Pulumi runtime is process-global; jest isolates files). */
export function planOnce(stack: string, options: Parameters<typeof planStack>[1] = {}): () => Promise<Plan> {
  let plan: Promise<Plan> | undefined;
  return () => (plan ??= planStack(stack, options));
}

export function ofType(plan: Plan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

export function byName(plan: Plan, name: string): PlannedResource {
  const found = plan.resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}; have ${plan.resources.map((r) => r.name).join(", ")}`);
  return found;
}
