/**
 * Every container has resource limits. The worker decodes untrusted images: without a memory limit a decompression
 * bomb that gets past the pixel limit takes the node's memory, and the kernel's OOM killer then picks among every
 * pod on the node instead of the one container. A CPU limit keeps one busy pod from starving the webhook next to it.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { field, isRecord, type Props } from "../values";
import { containersOf, podSpecOf } from "./podSpecs";

export const CONTAINER_LIMITS_POLICY = "containers-have-limits";
export const DEFAULT_REQUIRED_LIMITS: readonly string[] = ["cpu", "memory"];

export interface ContainerLimitsConfig {
  /** Resource names every container must limit. */
  readonly requiredLimits?: string[];
}

export function containerLimitViolations(podSpec: Props, config: ContainerLimitsConfig = {}): string[] {
  const required = config.requiredLimits ?? DEFAULT_REQUIRED_LIMITS;
  const problems: string[] = [];
  for (const { label, container } of containersOf(podSpec)) {
    const limits = field(container, "resources", "limits");
    const missing = required.filter((r) => !isRecord(limits) || limits[r] === undefined || limits[r] === null || limits[r] === "");
    if (missing.length > 0)
      problems.push(
        `${label}: no resources.limits.${missing.join(" or ")}. Fix: set limits (workerMemoryLimit, workerCpuLimit and the like)`,
      );
  }
  return problems;
}

export const containerLimitsPolicy: ResourceValidationPolicy = {
  name: CONTAINER_LIMITS_POLICY,
  description: "Every container limits CPU and memory.",
  severity: "medium",
  configSchema: {
    properties: { requiredLimits: { type: "array", items: { type: "string" }, default: [...DEFAULT_REQUIRED_LIMITS] } },
  },
  validateResource: (args, reportViolation) => {
    const podSpec = podSpecOf(args.type, args.props);
    if (!podSpec) return;
    for (const message of containerLimitViolations(podSpec, args.getConfig<ContainerLimitsConfig>())) reportViolation(message);
  },
};
