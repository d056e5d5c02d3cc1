/**
 * The rules a workload setting must follow, in one place: the stack config reader (infra/config/) and the Kubernetes
 * builders' own check (k8s/settings.ts) both apply them, and word the problem alike. Each rule returns what is wrong
 * (undefined when nothing is); the caller prefixes the name the user knows the value by (a config key or a settings
 * path) and, for stack config, the fix.
 */
import { digestPinProblem, parseImageReference, placeholderImageProblem } from "./image";
import { parseQuantity } from "./quantity";
import type { ResourceSettings } from "./resources";

/** RFC 1123 label, which Kubernetes requires of namespaces and of the names derived from the instance. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function dnsLabelProblem(value: string, maxLength = 63): string | undefined {
  if (DNS_LABEL.test(value) && value.length <= maxLength) return undefined;
  return `must be a DNS label (lower-case letters, digits and "-", at most ${maxLength}), got "${value}"`;
}

/** A PVC below 1Gi is too small for PostgreSQL's WAL segments and a base backup. */
export function storageSizeProblem(size: string): string | undefined {
  if ((parseQuantity(size) ?? 0) >= 1024 ** 3) return undefined;
  return `must be a Kubernetes quantity of at least 1Gi, got "${size}"`;
}

export function imageReferenceProblem(image: string): string | undefined {
  return parseImageReference(image) ? undefined : `"${image}" is not a container image reference`;
}

/**
 * An image the cluster can pull reproducibly: pinned by digest, and not a documentation placeholder (which would pass
 * the digest check and then sit in ImagePullBackOff until `up` times out).
 */
export function pinnedImageProblem(image: string): string | undefined {
  return digestPinProblem(image) ?? placeholderImageProblem(image);
}

export type ResourceKind = "cpu" | "memory";
export type ResourceGroup = "requests" | "limits";

export interface ResourceProblem {
  readonly resource: ResourceKind;
  readonly group: ResourceGroup;
  /** `quantity`: the value is not a positive quantity; `above-limit`: the request exceeds its limit. */
  readonly rule: "quantity" | "above-limit";
  /** What is wrong with that value. */
  readonly what: string;
}

/**
 * CPU and memory of one container: each value a positive quantity (a zero request makes the HPA's percentage target
 * meaningless, a zero limit kills the container), and no request above its limit (the API server rejects such pods,
 * but only at apply time). `nameOf` names a value the way the caller's user knows it.
 */
export function resourceProblems(
  resources: ResourceSettings,
  nameOf: (resource: ResourceKind, group: ResourceGroup) => string,
): ResourceProblem[] {
  const problems: ResourceProblem[] = [];
  for (const resource of ["cpu", "memory"] as const) {
    const request = parseQuantity(resources.requests[resource]);
    const limit = parseQuantity(resources.limits[resource]);
    for (const [group, value] of [
      ["requests", request],
      ["limits", limit],
    ] as const) {
      if (value === undefined || value === 0)
        problems.push({ resource, group, rule: "quantity", what: `"${resources[group][resource]}" is not a positive Kubernetes quantity` });
    }
    if (request !== undefined && limit !== undefined && limit > 0 && request > limit) {
      problems.push({
        resource,
        group: "requests",
        rule: "above-limit",
        what: `${resources.requests[resource]} exceeds ${nameOf(resource, "limits")} ${resources.limits[resource]}`,
      });
    }
  }
  return problems;
}
