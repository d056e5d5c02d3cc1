/**
 * A Deployment that leaves `replicas` unset hands its scale to a HorizontalPodAutoscaler (the worker does, so a
 * `pulumi up` never resets what the autoscaler chose). Without an HPA that targets it, Kubernetes runs one replica
 * forever and the queue backs up; so each such Deployment needs an HPA in its namespace naming it, or a KEDA
 * ScaledObject (from which KEDA makes the HPA).
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { KUBERNETES } from "../resourceTypes";
import { field } from "../values";
import { namespaceOf, type KubernetesView } from "./default-deny";

export const DEPLOYMENT_AUTOSCALERS_POLICY = "autoscaled-deployments-have-hpa";

export function deploymentAutoscalerViolations(resources: readonly KubernetesView[]): { resource: string; message: string }[] {
  // A KEDA ScaledObject's scaleTargetRef.kind defaults to Deployment; an HPA's is required.
  const targetKind = (r: KubernetesView) =>
    field(r.props, "spec", "scaleTargetRef", "kind") ?? (r.type === KUBERNETES.scaledObject ? "Deployment" : undefined);
  const targets = new Set(
    resources
      .filter((r) => r.type === KUBERNETES.hpaV2 || r.type === KUBERNETES.hpaV1 || r.type === KUBERNETES.scaledObject)
      .filter((r) => targetKind(r) === "Deployment")
      .map((r) => `${namespaceOf(r.props)}/${String(field(r.props, "spec", "scaleTargetRef", "name"))}`),
  );
  const violations: { resource: string; message: string }[] = [];
  for (const d of resources.filter((r) => r.type === KUBERNETES.deployment)) {
    if (typeof field(d.props, "spec", "replicas") === "number") continue;
    const name = field(d.props, "metadata", "name");
    if (typeof name !== "string") continue;
    const key = `${namespaceOf(d.props)}/${name}`;
    if (targets.has(key)) continue;
    violations.push({
      resource: d.name,
      message: `Deployment ${key} leaves replicas to an autoscaler, but no HorizontalPodAutoscaler (or KEDA ScaledObject) targets it, so it runs 1 replica. Fix: add the HPA (scaleTargetRef kind Deployment, name ${name}) or set spec.replicas`,
    });
  }
  return violations;
}

export const deploymentAutoscalersPolicy: StackValidationPolicy = {
  name: DEPLOYMENT_AUTOSCALERS_POLICY,
  description: "Every Deployment without a fixed replica count is the target of a HorizontalPodAutoscaler or a KEDA ScaledObject.",
  severity: "medium",
  validateStack: (args, reportViolation) => {
    const view = args.resources.map((r: PolicyResource) => ({ type: r.type, name: r.name, props: r.props }));
    const urns = new Map(args.resources.map((r: PolicyResource) => [r.name, r.urn]));
    for (const v of deploymentAutoscalerViolations(view)) reportViolation(v.message, urns.get(v.resource));
  },
};
