/**
 * The worker's HorizontalPodAutoscaler keeps at least two replicas in prod, so a node drain or a crashed pod
 * never stops processing (2 to 6 replicas in production). Kubernetes defaults an absent minReplicas to 1; a KEDA
 * ScaledObject's minReplicaCount defaults to 0.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { KUBERNETES } from "../resourceTypes";
import { field, type Props } from "../values";

export const HPA_MIN_REPLICAS_POLICY = "hpa-min-replicas";
export const DEFAULT_HPA_MIN_REPLICAS = 2;

export interface HpaMinReplicasConfig {
  readonly minReplicas?: number;
}

/** `minField` is minReplicas on an HPA, minReplicaCount on a KEDA ScaledObject (which KEDA defaults to 0). */
export function hpaMinReplicasViolations(props: Props, config: HpaMinReplicasConfig = {}, minField = "minReplicas", absent = 1): string[] {
  const required = config.minReplicas ?? DEFAULT_HPA_MIN_REPLICAS;
  const declared = field(props, "spec", minField);
  const effective = typeof declared === "number" ? declared : absent;
  if (effective >= required) return [];
  const how =
    typeof declared === "number"
      ? `${minField} is ${declared}`
      : `${minField} is not set (${minField === "minReplicas" ? "Kubernetes" : "KEDA"} defaults it to ${absent})`;
  return [`${how}; at least ${required} are required. Fix: pulumi config set workerMinReplicas ${required}`];
}

export const hpaMinReplicasPolicy: ResourceValidationPolicy = {
  name: HPA_MIN_REPLICAS_POLICY,
  description: "HorizontalPodAutoscalers and KEDA ScaledObjects keep at least 2 replicas (minReplicas / minReplicaCount >= 2).",
  severity: "medium",
  configSchema: { properties: { minReplicas: { type: "integer", minimum: 1, default: DEFAULT_HPA_MIN_REPLICAS } } },
  validateResource: (args, reportViolation) => {
    const config = args.getConfig<HpaMinReplicasConfig>();
    if (args.type === KUBERNETES.hpaV2 || args.type === KUBERNETES.hpaV1) {
      for (const message of hpaMinReplicasViolations(args.props, config)) reportViolation(message);
    } else if (args.type === KUBERNETES.scaledObject) {
      for (const message of hpaMinReplicasViolations(args.props, config, "minReplicaCount", 0)) reportViolation(message);
    }
  },
};
