/**
 * No bucket or object is readable or writable by everyone. On S3, and on Ceph RGW, a bucket becomes public through
 * a canned ACL (`public-read`, `public-read-write`; `authenticated-read` opens it to every user of the endpoint,
 * which on a shared RGW such as CSC Allas is every project), an ACL grant to the AllUsers or AuthenticatedUsers
 * group, or a bucket policy statement that allows the principal `*` (or everyone but someone, `NotPrincipal`).
 * The input bucket holds what users upload and the output bucket what the pipeline made of it: neither is public.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { AWS_S3 } from "../resourceTypes";
import { field, isRecord, records, strings, type Props } from "../values";

export const PUBLIC_BUCKETS_POLICY = "no-public-buckets";

const PUBLIC_CANNED_ACLS = new Set(["public-read", "public-read-write", "authenticated-read"]);
/** The S3 ACL groups that mean "everyone" and "anyone with any account". */
const PUBLIC_GROUP = /\/groups\/global\/(AllUsers|AuthenticatedUsers)$/;

function cannedAclProblem(props: Props): string | undefined {
  const acl = props.acl;
  if (typeof acl !== "string" || !PUBLIC_CANNED_ACLS.has(acl)) return undefined;
  return `acl is ${acl}, which opens it to ${acl === "authenticated-read" ? "every user of the endpoint" : "everyone"}. Fix: remove acl (private is the default)`;
}

function grantProblems(grants: Props[], uriOf: (grant: Props) => unknown): string[] {
  return grants
    .map((g) => uriOf(g))
    .filter((uri): uri is string => typeof uri === "string" && PUBLIC_GROUP.test(uri))
    .map((uri) => `ACL grants to ${uri}. Fix: grant to the pipeline's user only (bucket policy), never to a group`);
}

function everyone(principal: unknown): boolean {
  if (principal === "*") return true;
  if (!isRecord(principal)) return false;
  return Object.values(principal).some((p) => p === "*" || (Array.isArray(p) && p.includes("*")));
}

/** The statements of an IAM-style policy document (JSON text or an object); undefined when it cannot be read. */
export function policyStatements(policy: unknown): Props[] | undefined {
  let doc: unknown = policy;
  if (typeof policy === "string") {
    try {
      doc = JSON.parse(policy);
    } catch {
      return undefined;
    }
  }
  if (!isRecord(doc)) return undefined;
  return isRecord(doc.Statement) ? [doc.Statement] : records(doc.Statement);
}

export function bucketPolicyProblems(policy: unknown): string[] {
  const statements = policyStatements(policy);
  if (statements === undefined) return ["the bucket policy is not a JSON policy document, so it cannot be checked. Fix: a valid document"];
  const problems: string[] = [];
  statements.forEach((s, i) => {
    if (s.Effect !== "Allow") return;
    const sid = typeof s.Sid === "string" ? s.Sid : `#${i}`;
    const actions = [...strings(s.Action), ...(typeof s.Action === "string" ? [s.Action] : [])].join(", ");
    if (everyone(s.Principal))
      problems.push(
        `statement ${sid} allows ${actions || "actions"} to Principal "*" (everyone). Fix: name the pipeline's user (arn:aws:iam::<tenant>:user/<uid>)`,
      );
    else if (s.NotPrincipal !== undefined)
      problems.push(`statement ${sid} allows ${actions || "actions"} with NotPrincipal, i.e. to everyone else. Fix: an explicit Principal`);
  });
  return problems;
}

export function publicBucketViolations(type: string, props: Props): string[] {
  switch (type) {
    case AWS_S3.bucket:
    case AWS_S3.bucketV2:
      return [
        ...[cannedAclProblem(props)].filter((p): p is string => p !== undefined),
        ...grantProblems(records(props.grants), (g) => g.uri),
        ...(props.policy !== undefined && props.policy !== "" ? bucketPolicyProblems(props.policy) : []),
      ];
    case AWS_S3.bucketAcl:
    case AWS_S3.bucketAclV2:
      return [
        ...[cannedAclProblem(props)].filter((p): p is string => p !== undefined),
        ...grantProblems(records(field(props, "accessControlPolicy", "grants")), (g) => field(g, "grantee", "uri")),
      ];
    case AWS_S3.bucketObject:
    case AWS_S3.bucketObjectV2:
      return [cannedAclProblem(props)].filter((p): p is string => p !== undefined);
    case AWS_S3.bucketPolicy:
      return bucketPolicyProblems(props.policy);
    default:
      return [];
  }
}

export const publicBucketsPolicy: ResourceValidationPolicy = {
  name: PUBLIC_BUCKETS_POLICY,
  description:
    'No public bucket or object: no public canned ACL, no grant to AllUsers/AuthenticatedUsers, no policy allowing Principal "*".',
  severity: "critical",
  validateResource: (args, reportViolation) => {
    for (const message of publicBucketViolations(args.type, args.props)) reportViolation(message);
  },
};
