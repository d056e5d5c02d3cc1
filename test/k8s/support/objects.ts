/** Navigation helpers over built objects for policy-style assertions. */
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { KubernetesObject } from "../../../k8s";

export interface PodTemplate {
  readonly owner: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly spec: IPodSpec;
  readonly selector?: Record<string, string>;
}

export function podTemplates(objects: readonly KubernetesObject[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const o of objects) {
    if (o.kind !== "Deployment" && o.kind !== "StatefulSet" && o.kind !== "Job") continue;
    const w = o as IDeployment | IStatefulSet | IJob;
    const template = w.spec?.template;
    if (!template?.spec) throw new Error(`${o.kind} ${o.metadata?.name} has no pod template`);
    out.push({
      owner: `${o.kind}/${o.metadata?.name}`,
      namespace: o.metadata?.namespace ?? "",
      labels: (template.metadata?.labels ?? {}) as Record<string, string>,
      annotations: (template.metadata?.annotations ?? {}) as Record<string, string>,
      spec: template.spec,
      selector: w.spec && "selector" in w.spec ? (w.spec.selector?.matchLabels as Record<string, string> | undefined) : undefined,
    });
  }
  return out;
}

export function find<K extends KubernetesObject["kind"]>(
  objects: readonly KubernetesObject[],
  kind: K,
  name?: string,
): Extract<KubernetesObject, { kind: K }> {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0] as Extract<KubernetesObject, { kind: K }>;
}

export function all<K extends KubernetesObject["kind"]>(
  objects: readonly KubernetesObject[],
  kind: K,
): Extract<KubernetesObject, { kind: K }>[] {
  return objects.filter((o) => o.kind === kind) as Extract<KubernetesObject, { kind: K }>[];
}

export type { IDeployment, IHorizontalPodAutoscaler, INetworkPolicy, IStatefulSet, IJob };
