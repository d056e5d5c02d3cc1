/**
 * Container image references, following the distribution reference grammar
 * (github.com/distribution/reference): `[registry[:port]/]path[:tag][@sha256:<64 hex>]`.
 *
 * The pipeline deploys images by digest only: a tag can be re-pushed, and "prod runs exactly what dev tested"
 * (promotion through a StackReference) is only true when both stacks name the same immutable digest.
 */
import { createHash } from "crypto";

export interface ImageReference {
  /** Repository including the registry, e.g. ghcr.io/example/image-pipeline-worker. */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>`, when the reference is pinned. */
  readonly digest?: string;
}

const DOMAIN =
  "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?";
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REFERENCE = new RegExp(
  `^(?<repository>(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(?<tag>[\\w][\\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$`,
);

/** Parses an image reference; undefined when it is not one. */
export function parseImageReference(text: string): ImageReference | undefined {
  const match = REFERENCE.exec(text);
  if (!match?.groups) return undefined;
  const { repository, tag, digest } = match.groups;
  if (repository.length > 255) return undefined;
  // The first part is a registry only if it looks like a host (has "." or ":", or is localhost); otherwise it is
  // a path component and must be lower-case, as Docker resolves it on Docker Hub.
  const first = repository.split("/")[0];
  const isRegistry = repository.includes("/") && (/[.:]/.test(first) || first === "localhost");
  if (!isRegistry && !new RegExp(`^${PATH_COMPONENT}$`).test(first)) return undefined;
  return { repository, tag, digest };
}

/** Why `text` cannot be deployed, or undefined when it is a digest-pinned reference. */
export function digestPinProblem(text: string): string | undefined {
  const ref = parseImageReference(text);
  if (!ref) return `"${text}" is not a container image reference`;
  if (!ref.digest) return `"${text}" is not pinned by digest (a tag can be re-pushed, so what runs would not be what was tested)`;
  return undefined;
}

/** The registry host of a reference: its first component when that is a host, else Docker Hub. */
export function registryHost(text: string): string | undefined {
  const ref = parseImageReference(text);
  if (!ref) return undefined;
  const [first] = ref.repository.split("/");
  return ref.repository.includes("/") && (/[.:]/.test(first) || first === "localhost") ? first : "docker.io";
}

/** Names documentation uses for "your organisation", which no one's image lives under. */
const PLACEHOLDER_COMPONENTS = new Set(["example-org", "your-org", "my-org", "example"]);

/**
 * Why a pinned reference is a documentation placeholder that cannot be pulled, or undefined: a registry under a
 * reserved example domain (RFC 2606: example.com/.net/.org, the .example, .invalid and .test TLDs), an example
 * organisation, or a digest of one repeated hex digit.
 */
export function placeholderImageProblem(text: string): string | undefined {
  const ref = parseImageReference(text);
  if (!ref) return undefined;
  const host = (registryHost(text) ?? "").replace(/:\d+$/, "").toLowerCase();
  if (/(^|\.)example\.(com|net|org)$/.test(host) || /\.(example|invalid|test)$/.test(host))
    return `"${text}" is on ${host}, a reserved example domain, not a registry that has your image`;
  const component = ref.repository
    .split("/")
    .slice(host === "docker.io" ? 0 : 1)
    .find((c) => PLACEHOLDER_COMPONENTS.has(c));
  if (component) return `"${text}" names the documentation placeholder "${component}", not the organisation that pushed your image`;
  if (ref.digest && /^sha256:(.)\1{63}$/.test(ref.digest)) return `"${text}" has a placeholder digest (one repeated digit)`;
  return undefined;
}

/** The digest of a pinned reference; throws when the reference is not pinned. */
export function imageDigest(text: string): string {
  const problem = digestPinProblem(text);
  if (problem) throw new Error(`worker image ${problem}. Use <repository>@sha256:<digest>`);
  return (parseImageReference(text) as ImageReference).digest as string;
}

/** Short, stable fingerprint of a text for object names and checksum annotations. */
export function shortHash(text: string, length = 10): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}
