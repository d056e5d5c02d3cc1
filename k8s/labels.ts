/**
 * Recommended Kubernetes labels (app.kubernetes.io/*). Selectors use only the stable subset (name, instance,
 * component): a Deployment's selector is immutable, so it must never contain anything that changes per release.
 */
export type Component = "webhook" | "worker" | "migrate" | "postgres";

export const APP_NAME = "image-pipeline";

export interface Labels {
  [key: string]: string;
}

/** Labels that identify a component's pods; used in selectors, NetworkPolicies and PodDisruptionBudgets. */
export function selectorLabels(instance: string, component: Component): Labels {
  return {
    "app.kubernetes.io/name": APP_NAME,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/component": component,
  };
}

/** Full label set for objects and pod templates. */
export function componentLabels(instance: string, component: Component): Labels {
  return {
    ...selectorLabels(instance, component),
    "app.kubernetes.io/part-of": APP_NAME,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** Labels for objects that belong to the whole pipeline rather than one component (namespace, ConfigMap). */
export function pipelineLabels(instance: string): Labels {
  return {
    "app.kubernetes.io/name": APP_NAME,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/part-of": APP_NAME,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}
