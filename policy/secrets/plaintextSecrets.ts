/**
 * No secret-looking input is a plain string.
 *
 * The engine hands policies secret values already decrypted and unmarked (pulumi/pulumi-policy#241), so a policy
 * cannot ask "is this a Pulumi secret?". Fields a provider's schema marks sensitive (Trove user passwords,
 * Kubernetes Secret data, ...) are secret whatever the program does. What leaks secrets in practice is putting
 * them where no provider treats them as sensitive, and that this policy checks:
 *  - Kubernetes container env with a secret-looking name and a literal `value` (must be `valueFrom.secretKeyRef`),
 *    env values that embed credentials in a URL, and `--password=...`-style arguments;
 *  - ConfigMap entries with secret-looking keys or credential URLs (they belong in a Secret);
 *  - labels, annotations, tags and OpenStack instance metadata with secret-looking keys (visible to anyone who can
 *    list the object, and to every process on the VM through the metadata service).
 * The offline plan, which does see secretness, additionally checks every secret-looking input is a secret
 * (`plainSecretPaths`).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { KUBERNETES, OPENSTACK, isKubernetesType } from "../resourceTypes";
import { field, isRecord, records, strings, type Props } from "../values";
import { containersOf, podMetadataOf, podSpecOf } from "../kubernetes/podSpecs";
import { hasUrlCredentials, isSecretFlag, looksSecret } from "./secretNames";

export const PLAINTEXT_SECRETS_POLICY = "no-plaintext-secrets";

function mapViolations(where: string, map: unknown): string[] {
  if (!isRecord(map)) return [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(map)) {
    if (typeof value !== "string" || value === "") continue;
    if (looksSecret(key)) problems.push(`${where} "${key}" looks like a secret in plain text. Fix: keep secrets out of ${where}s`);
    else if (hasUrlCredentials(value))
      problems.push(`${where} "${key}" holds a URL with embedded credentials. Fix: keep secrets out of ${where}s`);
  }
  return problems;
}

function kubernetesMetadataViolations(metadata: unknown, owner: string): string[] {
  return [
    ...mapViolations(`${owner}label`, field(metadata, "labels")),
    ...mapViolations(`${owner}annotation`, field(metadata, "annotations")),
  ];
}

function podViolations(type: string, props: Props): string[] {
  const podSpec = podSpecOf(type, props);
  if (!podSpec) return [];
  const problems: string[] = [];
  for (const { label, container } of containersOf(podSpec)) {
    for (const env of records(container.env)) {
      const name = String(env.name ?? "");
      if (typeof env.value !== "string" || env.value === "") continue;
      if (looksSecret(name)) problems.push(`${label}: env ${name} is a literal value. Fix: valueFrom.secretKeyRef to a Kubernetes Secret`);
      else if (hasUrlCredentials(env.value))
        problems.push(`${label}: env ${name} is a URL with embedded credentials. Fix: valueFrom.secretKeyRef to a Kubernetes Secret`);
    }
    for (const key of ["command", "args"] as const) {
      for (const arg of strings(container[key])) {
        if (isSecretFlag(arg) || hasUrlCredentials(arg))
          problems.push(
            `${label}: ${key} carries a secret on the command line (${arg.split("=")[0]}=...). Fix: read it from an env var bound to a Secret`,
          );
      }
    }
  }
  return problems;
}

export function plaintextSecretViolations(type: string, props: Props): string[] {
  if (type === KUBERNETES.secret) return [];
  const problems: string[] = [];
  if (isKubernetesType(type)) {
    problems.push(...kubernetesMetadataViolations(props.metadata, ""));
    const template = type !== KUBERNETES.pod && podSpecOf(type, props) ? podMetadataOf(type, props) : undefined;
    if (template !== undefined) problems.push(...kubernetesMetadataViolations(template, "pod template "));
    problems.push(...podViolations(type, props));
    if (type === KUBERNETES.configMap) problems.push(...mapViolations("ConfigMap key", props.data));
  } else {
    if (type === OPENSTACK.computeInstance) problems.push(...mapViolations("instance metadata key", props.metadata));
    problems.push(...mapViolations("tag", props.tags));
    problems.push(...mapViolations("label", props.labels));
  }
  return problems;
}

export const plaintextSecretsPolicy: ResourceValidationPolicy = {
  name: PLAINTEXT_SECRETS_POLICY,
  description:
    "No secret-looking value (password, token, key) sits in plain text where providers do not treat it as a secret: env literals, ConfigMaps, labels, annotations, tags, instance metadata.",
  severity: "high",
  validateResource: (args, reportViolation) => {
    for (const message of plaintextSecretViolations(args.type, args.props)) reportViolation(message);
  },
};

/**
 * Paths of secret-looking string inputs that are not Pulumi secrets, given how the caller marks secrets (the
 * offline plan shows them as "[secret]"). Kubernetes Secret objects are secret by schema and skipped.
 */
export function plainSecretPaths(type: string, inputs: Props, isSecretValue: (value: unknown) => boolean): string[] {
  if (type === KUBERNETES.secret) return [];
  const found: string[] = [];
  const walk = (value: unknown, path: string, key: string | undefined): void => {
    if (isSecretValue(value)) return;
    if (typeof value === "string") {
      // Providers take booleans as strings ("true"); a flag is not a secret whatever its name.
      if (key !== undefined && value !== "" && value !== "true" && value !== "false" && looksSecret(key)) found.push(path);
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, key));
    else if (isRecord(value)) for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, k);
  };
  walk(inputs, "", undefined);
  return found;
}
