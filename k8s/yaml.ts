/** Multi-document YAML for review or GitOps, one object per document, secrets redacted unless asked otherwise. */
import { stringify } from "yaml";

export const REDACTED = "[redacted]";

interface SecretLike {
  kind: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** Replaces every value of a Secret's data/stringData; keys stay visible so reviewers see what is set. */
export function redactSecret<T extends { kind: string }>(object: T): T {
  if (object.kind !== "Secret") return object;
  const secret = object as unknown as SecretLike;
  const redact = (values?: Record<string, string>): Record<string, string> | undefined =>
    values === undefined ? undefined : Object.fromEntries(Object.keys(values).map((k) => [k, REDACTED]));
  const copy: Record<string, unknown> = { ...secret };
  if (secret.data !== undefined) copy.data = redact(secret.data);
  if (secret.stringData !== undefined) copy.stringData = redact(secret.stringData);
  return copy as unknown as T;
}

export function toMultiDocumentYaml(objects: readonly { kind: string }[], options: { showSecrets?: boolean } = {}): string {
  return objects
    .map((o) => (options.showSecrets ? o : redactSecret(o)))
    .map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`)
    .join("");
}
