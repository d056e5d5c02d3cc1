/**
 * Every namespace that runs pods of this stack has a default-deny NetworkPolicy: one that selects every pod
 * (`podSelector: {}`) and allows nothing for each required direction. The allow rules then open exactly what is
 * needed; without the default, a pod no allow rule selects accepts (or sends) anything. Kubernetes defaults an
 * absent `policyTypes` to Ingress, plus Egress when egress rules are given.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { KUBERNETES } from "../resourceTypes";
import { field, isRecord, strings, type Props } from "../values";
import { POD_CARRYING_TYPES } from "./podSpecs";

export const DEFAULT_DENY_POLICY = "namespace-default-deny";
/** Both directions: a pod that may send anywhere reaches the nodes, the metadata service and the Internet. */
export const DEFAULT_DENY_DIRECTIONS: readonly string[] = ["Ingress", "Egress"];

export interface DefaultDenyConfig {
  /** Directions the default-deny policy must cover: Ingress, Egress. */
  readonly policyTypes?: string[];
}

export interface KubernetesView {
  readonly type: string;
  readonly name: string;
  readonly props: Props;
}

export function namespaceOf(props: Props): string {
  const ns = field(props, "metadata", "namespace");
  return typeof ns === "string" && ns !== "" ? ns : "default";
}

function selectsEveryPod(spec: Props): boolean {
  const selector = spec.podSelector;
  if (!isRecord(selector)) return false;
  const labels = selector.matchLabels;
  const expressions = selector.matchExpressions;
  return (!isRecord(labels) || Object.keys(labels).length === 0) && (!Array.isArray(expressions) || expressions.length === 0);
}

/** The directions a NetworkPolicy denies to every pod: types it covers whose rule list is empty. */
export function deniedDirections(networkPolicy: Props): string[] {
  const spec = field(networkPolicy, "spec");
  if (!isRecord(spec) || !selectsEveryPod(spec)) return [];
  const declared = strings(spec.policyTypes);
  const egressRules = Array.isArray(spec.egress) ? spec.egress : [];
  const types = declared.length > 0 ? declared : ["Ingress", ...(egressRules.length > 0 ? ["Egress"] : [])];
  const rules: Record<string, unknown> = { Ingress: spec.ingress, Egress: spec.egress };
  return types.filter((t) => !Array.isArray(rules[t]) || (rules[t] as unknown[]).length === 0);
}

export function defaultDenyViolations(
  resources: readonly KubernetesView[],
  config: DefaultDenyConfig = {},
): { resource: string; message: string }[] {
  const required = config.policyTypes ?? DEFAULT_DENY_DIRECTIONS;
  const denied = new Map<string, Set<string>>();
  for (const r of resources.filter((r) => r.type === KUBERNETES.networkPolicy)) {
    const ns = namespaceOf(r.props);
    const set = denied.get(ns) ?? new Set<string>();
    for (const d of deniedDirections(r.props)) set.add(d);
    denied.set(ns, set);
  }
  const violations: { resource: string; message: string }[] = [];
  const reported = new Set<string>();
  for (const r of resources.filter((r) => POD_CARRYING_TYPES.includes(r.type))) {
    const ns = namespaceOf(r.props);
    if (reported.has(ns)) continue;
    const missing = required.filter((d) => !denied.get(ns)?.has(d));
    if (missing.length === 0) continue;
    reported.add(ns);
    violations.push({
      resource: r.name,
      message: `namespace ${ns} runs pods but has no default-deny NetworkPolicy for ${missing.join(" and ")}, so pods no rule selects are open. Fix: a NetworkPolicy with podSelector: {} and policyTypes [${missing.join(", ")}] and no rules`,
    });
  }
  return violations;
}

export const defaultDenyPolicy: StackValidationPolicy = {
  name: DEFAULT_DENY_POLICY,
  description: "Every namespace running pods has a default-deny NetworkPolicy (podSelector: {}, no rules) for the required directions.",
  severity: "high",
  configSchema: {
    properties: {
      policyTypes: { type: "array", items: { type: "string", enum: ["Ingress", "Egress"] }, default: [...DEFAULT_DENY_DIRECTIONS] },
    },
  },
  validateStack: (args, reportViolation) => {
    const view = args.resources.map((r: PolicyResource) => ({ type: r.type, name: r.name, props: r.props }));
    const urns = new Map(args.resources.map((r: PolicyResource) => [r.name, r.urn]));
    for (const v of defaultDenyViolations(view, args.getConfig<DefaultDenyConfig>())) reportViolation(v.message, urns.get(v.resource));
  },
};
