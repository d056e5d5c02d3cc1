/**
 * Every pod follows the Kubernetes "restricted" Pod Security Standard
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted; the /proc, sysctl, AppArmor,
 * SELinux and host-process controls are in ./pod-security-baseline) plus two house rules the
 * pipeline depends on: a read-only root filesystem, and resource requests on every container (the HPA's CPU
 * target is a percentage of requests, and the scheduler needs them to place pods on small nodes).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { field, isRecord, records, strings, type Props } from "../values";
import { baselineFieldViolations } from "./pod-security-baseline";
import { containersOf, podMetadataOf, podSpecOf } from "./podSpecs";

export const RESTRICTED_PODS_POLICY = "pods-restricted-with-requests";

export interface RestrictedPodsConfig {
  readonly requireReadOnlyRootFilesystem?: boolean;
  /** Resource names every container must request. */
  readonly requiredRequests?: string[];
}

/** Volume types the restricted profile allows. */
const ALLOWED_VOLUME_SOURCES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);
const ALLOWED_SECCOMP = new Set(["RuntimeDefault", "Localhost"]);

export function restrictedPodViolations(podSpec: Props, config: RestrictedPodsConfig = {}, podMetadata?: Props): string[] {
  const problems: string[] = [];
  const requireReadOnlyRoot = config.requireReadOnlyRootFilesystem ?? true;
  const requiredRequests = config.requiredRequests ?? ["cpu", "memory"];
  const pod = isRecord(podSpec.securityContext) ? podSpec.securityContext : {};

  for (const hostField of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (podSpec[hostField] === true) problems.push(`pod sets ${hostField}: true. Fix: remove it (host namespaces are forbidden)`);
  }
  for (const volume of records(podSpec.volumes)) {
    const sources = Object.keys(volume).filter((k) => k !== "name");
    const forbidden = sources.filter((s) => !ALLOWED_VOLUME_SOURCES.has(s));
    if (forbidden.length > 0)
      problems.push(
        `volume ${String(volume.name)} uses ${forbidden.join(", ")}. Fix: use a configMap, secret, emptyDir, projected or persistentVolumeClaim volume`,
      );
  }
  const podSeccomp = field(pod, "seccompProfile", "type");
  if (podSeccomp !== undefined && !ALLOWED_SECCOMP.has(String(podSeccomp)))
    problems.push(`pod seccompProfile.type is ${String(podSeccomp)}. Fix: RuntimeDefault`);
  if (pod.runAsUser === 0) problems.push("pod runAsUser is 0 (root). Fix: run as a non-zero UID");

  const containers = containersOf(podSpec);
  if (containers.length === 0) problems.push("pod declares no containers");
  for (const { label, container } of containers) {
    const sc = isRecord(container.securityContext) ? container.securityContext : {};
    if (sc.privileged === true) problems.push(`${label}: privileged: true. Fix: remove it`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${label}: securityContext.allowPrivilegeEscalation must be false`);
    const capabilities = isRecord(sc.capabilities) ? sc.capabilities : {};
    if (!strings(capabilities.drop).includes("ALL")) problems.push(`${label}: securityContext.capabilities.drop must include ALL`);
    const added = strings(capabilities.add).filter((c) => c !== "NET_BIND_SERVICE");
    if (added.length > 0) problems.push(`${label}: adds capabilities ${added.join(", ")}; only NET_BIND_SERVICE is allowed`);

    const nonRoot = sc.runAsNonRoot === true || (pod.runAsNonRoot === true && sc.runAsNonRoot !== false);
    if (!nonRoot) problems.push(`${label}: runAsNonRoot must be true (on the container or the pod)`);
    if (sc.runAsUser === 0) problems.push(`${label}: runAsUser is 0 (root). Fix: run as a non-zero UID`);

    const seccomp = field(sc, "seccompProfile", "type") ?? podSeccomp;
    if (seccomp === undefined || !ALLOWED_SECCOMP.has(String(seccomp))) {
      problems.push(
        `${label}: seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got ${seccomp === undefined ? "none" : String(seccomp)}`,
      );
    }
    if (requireReadOnlyRoot && sc.readOnlyRootFilesystem !== true)
      problems.push(`${label}: securityContext.readOnlyRootFilesystem must be true (mount an emptyDir where it writes)`);

    for (const port of records(container.ports)) {
      if (typeof port.hostPort === "number" && port.hostPort !== 0)
        problems.push(`${label}: hostPort ${port.hostPort} is forbidden. Fix: expose it through a Service`);
    }
    const requests = field(container, "resources", "requests");
    const missing = requiredRequests.filter(
      (r) => !isRecord(requests) || requests[r] === undefined || requests[r] === null || requests[r] === "",
    );
    if (missing.length > 0)
      problems.push(
        `${label}: no resources.requests.${missing.join(" or ")}. Fix: set requests (the HPA's CPU target is relative to them)`,
      );
  }
  problems.push(...baselineFieldViolations(podSpec, containers, podMetadata));
  return problems;
}

export const restrictedPodsPolicy: ResourceValidationPolicy = {
  name: RESTRICTED_PODS_POLICY,
  description:
    "Every Kubernetes pod follows the restricted Pod Security Standard, has a read-only root filesystem and requests CPU and memory.",
  severity: "high",
  configSchema: {
    properties: {
      requireReadOnlyRootFilesystem: { type: "boolean", default: true },
      requiredRequests: { type: "array", items: { type: "string" }, default: ["cpu", "memory"] },
    },
  },
  validateResource: (args, reportViolation) => {
    const podSpec = podSpecOf(args.type, args.props);
    if (!podSpec) return;
    const metadata = podMetadataOf(args.type, args.props);
    for (const message of restrictedPodViolations(podSpec, args.getConfig<RestrictedPodsConfig>(), metadata)) reportViolation(message);
  },
};
