/**
 * No pod gets a Kubernetes API token it does not use. The pipeline never calls the API, and a token mounted into a
 * pod that decodes untrusted images is the first thing an exploit would use. Kubernetes mounts one unless the pod
 * or its ServiceAccount says `automountServiceAccountToken: false` (the pod's setting wins), so both must say so.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { KUBERNETES } from "../resourceTypes";
import { type Props } from "../values";
import { podSpecOf } from "./podSpecs";

export const SERVICE_ACCOUNT_TOKENS_POLICY = "no-service-account-token-automount";

export function serviceAccountTokenViolations(type: string, props: Props): string[] {
  if (type === KUBERNETES.serviceAccount) {
    if (props.automountServiceAccountToken === false) return [];
    const how =
      props.automountServiceAccountToken === true
        ? "sets automountServiceAccountToken: true"
        : "leaves automountServiceAccountToken unset (true)";
    return [`ServiceAccount ${how}, so every pod using it gets an API token. Fix: automountServiceAccountToken: false`];
  }
  const podSpec = podSpecOf(type, props);
  if (!podSpec || podSpec.automountServiceAccountToken === false) return [];
  const how =
    podSpec.automountServiceAccountToken === true
      ? "sets automountServiceAccountToken: true"
      : "leaves automountServiceAccountToken unset, so it inherits its ServiceAccount's (true unless the ServiceAccount says false)";
  return [`pod ${how}. Fix: automountServiceAccountToken: false on the pod spec`];
}

export const serviceAccountTokensPolicy: ResourceValidationPolicy = {
  name: SERVICE_ACCOUNT_TOKENS_POLICY,
  description: "Pods and ServiceAccounts set automountServiceAccountToken: false; no pod gets an API token it does not use.",
  severity: "high",
  validateResource: (args, reportViolation) => {
    for (const message of serviceAccountTokenViolations(args.type, args.props)) reportViolation(message);
  },
};
