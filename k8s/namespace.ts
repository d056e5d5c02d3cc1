import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { componentLabels, pipelineLabels, type Component } from "./labels";
import { objectNames } from "./names";
import type { PipelineWorkloadSettings } from "./settings";

/** The pipeline's namespace, enforcing the restricted Pod Security Standard on everything in it. */
export function buildNamespace(s: PipelineWorkloadSettings): INamespace {
  const level = "restricted";
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: s.namespace,
      labels: {
        ...pipelineLabels(s.instance),
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": s.podSecurityVersion,
        "pod-security.kubernetes.io/warn": level,
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": level,
        "pod-security.kubernetes.io/audit-version": "latest",
      },
    },
  };
}

/**
 * One identity per component, none of which can talk to the Kubernetes API. The components that run the worker
 * image name its registry's pull Secret, so their pods can pull a private image; PostgreSQL's public image needs none.
 */
export function buildServiceAccount(s: PipelineWorkloadSettings, name: string, component: Component): IServiceAccount {
  const pullsWorkerImage = component !== "postgres";
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace: s.namespace, labels: componentLabels(s.instance, component) },
    automountServiceAccountToken: false,
    imagePullSecrets: s.registry && pullsWorkerImage ? [{ name: objectNames(s).registry }] : undefined,
  };
}
