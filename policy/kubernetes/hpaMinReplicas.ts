/**
 * The worker's HorizontalPodAutoscaler keeps at least two replicas in prod, so a node drain or a crashed pod
 * never stops processing (seed 001 scales 2 to 6). Kubernetes defaults an absent minReplicas to 1.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { KUBERNETES } from "../resourceTypes";
import { field, type Props } from "../values";

export const HPA_MIN_REPLICAS_POLICY = "hpa-min-replicas";
export const DEFAULT_HPA_MIN_REPLICAS = 2;

export interface HpaMinReplicasConfig {
  readonly minReplicas?: number;
}

export function hpaMinReplicasViolations(props: Props, config: HpaMinReplicasConfig = {}): string[] {
  const required = config.minReplicas ?? DEFAULT_HPA_MIN_REPLICAS;
  const declared = field(props, "spec", "minReplicas");
  const effective = typeof declared === "number" ? declared : 1;
  if (effective >= required) return [];
  const how = typeof declared === "number" ? `minReplicas is ${declared}` : "minReplicas is not set (Kubernetes defaults it to 1)";
  return [`${how}; at least ${required} are required. Fix: pulumi config set workerMinReplicas ${required}`];
}

export const hpaMinReplicasPolicy: ResourceValidationPolicy = {
  name: HPA_MIN_REPLICAS_POLICY,
  description: "HorizontalPodAutoscalers keep at least 2 replicas (minReplicas >= 2).",
  severity: "medium",
  configSchema: { properties: { minReplicas: { type: "integer", minimum: 1, default: DEFAULT_HPA_MIN_REPLICAS } } },
  validateResource: (args, reportViolation) => {
    if (args.type !== KUBERNETES.hpaV2 && args.type !== KUBERNETES.hpaV1) return;
    for (const message of hpaMinReplicasViolations(args.props, args.getConfig<HpaMinReplicasConfig>())) reportViolation(message);
  },
};
