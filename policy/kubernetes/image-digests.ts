/**
 * Every container image is pinned by digest. A tag can be pushed again, so a node that pulls `worker:1.2` later
 * (a rescheduled pod, a new node) may run other code than the one reviewed, and "prod runs what dev tested" only
 * holds when both name the same immutable digest.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Props } from "../values";
import { containersOf, podSpecOf } from "./podSpecs";

export const IMAGE_DIGESTS_POLICY = "images-pinned-by-digest";

/** `<anything>@sha256:<64 hex>`: the digest the registry content-addresses the manifest by. */
const DIGEST_PINNED = /@sha256:[0-9a-f]{64}$/;

export function imageDigestViolations(podSpec: Props): string[] {
  const problems: string[] = [];
  for (const { label, container } of containersOf(podSpec)) {
    const image = container.image;
    if (typeof image !== "string" || image === "") problems.push(`${label}: no image`);
    else if (!DIGEST_PINNED.test(image))
      problems.push(
        `${label}: image ${image} is not pinned by digest. Fix: <repository>@sha256:<digest> (docker buildx imagetools inspect prints it)`,
      );
  }
  return problems;
}

export const imageDigestsPolicy: ResourceValidationPolicy = {
  name: IMAGE_DIGESTS_POLICY,
  description: "Every container image is referenced by digest (@sha256:...), never by tag alone.",
  severity: "high",
  validateResource: (args, reportViolation) => {
    const podSpec = podSpecOf(args.type, args.props);
    if (!podSpec) return;
    for (const message of imageDigestViolations(podSpec)) reportViolation(message);
  },
};
