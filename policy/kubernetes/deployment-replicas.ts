/**
 * A Deployment with a fixed replica count runs at least two, so a node drain, a rollout or one crashed pod never
 * leaves it with none. The webhook is the case that matters: while no webhook pod answers, RGW's notifications
 * queue up and, past its retry limit, are dropped. Deployments without `replicas` are scaled by an HPA, whose
 * minimum `hpa-min-replicas` checks.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { KUBERNETES } from "../resourceTypes";
import { field, type Props } from "../values";

export const DEPLOYMENT_REPLICAS_POLICY = "deployment-min-replicas";
export const DEFAULT_DEPLOYMENT_MIN_REPLICAS = 2;

export interface DeploymentReplicasConfig {
  readonly minReplicas?: number;
}

export function deploymentReplicaViolations(props: Props, config: DeploymentReplicasConfig = {}): string[] {
  const replicas = field(props, "spec", "replicas");
  const required = config.minReplicas ?? DEFAULT_DEPLOYMENT_MIN_REPLICAS;
  if (typeof replicas !== "number" || replicas >= required) return [];
  const component = field(props, "metadata", "labels", "app.kubernetes.io/component");
  const fix = component === "webhook" ? `pulumi config set webhookReplicas ${required}` : `spec.replicas: ${required}`;
  return [`spec.replicas is ${replicas}; at least ${required} keep it serving through a drain, a rollout or a crash. Fix: ${fix}`];
}

export const deploymentReplicasPolicy: ResourceValidationPolicy = {
  name: DEPLOYMENT_REPLICAS_POLICY,
  description: "Deployments with a fixed replica count (the webhook) run at least 2 replicas.",
  severity: "medium",
  configSchema: { properties: { minReplicas: { type: "integer", minimum: 1, default: DEFAULT_DEPLOYMENT_MIN_REPLICAS } } },
  validateResource: (args, reportViolation) => {
    if (args.type !== KUBERNETES.deployment) return;
    for (const message of deploymentReplicaViolations(args.props, args.getConfig<DeploymentReplicasConfig>())) reportViolation(message);
  },
};
