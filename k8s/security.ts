/**
 * The Kubernetes "restricted" Pod Security Standard, applied to every pod the pipeline runs
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted). The namespace also enforces
 * it through Pod Security Admission, so a pod that drifts from these settings is rejected, not just flagged.
 */
import type { IPodSecurityContext } from "kubernetes-models/v1/PodSecurityContext";
import type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";

export function restrictedPodSecurityContext(uid: number): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    // Volumes that support ownership management (PVCs, emptyDir) become writable by the pod's group.
    fsGroup: uid,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function restrictedContainerSecurityContext(): ISecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}
