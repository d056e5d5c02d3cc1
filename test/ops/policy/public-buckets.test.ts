import { AWS_S3 } from "../../../policy/resourceTypes";
import { publicBucketsPolicy } from "../../../policy/storage/public-buckets";
import { resourceViolations } from "../support/policyHarness";

const check = (type: string, props: Record<string, unknown>) => resourceViolations(publicBucketsPolicy, type, props);
const statement = (over: Record<string, unknown>) => ({
  Sid: "S",
  Effect: "Allow",
  Principal: { AWS: ["arn:aws:iam::t:user/pipeline"] },
  Action: ["s3:GetObject"],
  Resource: ["arn:aws:s3:::b/*"],
  ...over,
});
const policyDoc = (...statements: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

describe("no-public-buckets", () => {
  test("passes private buckets and a policy naming a user", async () => {
    expect(await check(AWS_S3.bucket, { bucket: "b" })).toEqual([]);
    expect(await check(AWS_S3.bucket, { bucket: "b", acl: "private" })).toEqual([]);
    expect(await check(AWS_S3.bucketPolicy, { bucket: "b", policy: policyDoc(statement({})) })).toEqual([]);
    expect(await check(AWS_S3.bucketPolicy, { bucket: "b", policy: policyDoc(statement({ Effect: "Deny", Principal: "*" })) })).toEqual([]);
  });

  test.each(["public-read", "public-read-write", "authenticated-read"])(
    "fails the canned ACL %s on buckets, ACLs and objects",
    async (acl) => {
      for (const type of [AWS_S3.bucket, AWS_S3.bucketV2, AWS_S3.bucketAcl, AWS_S3.bucketAclV2, AWS_S3.bucketObject, AWS_S3.bucketObjectV2])
        expect(await check(type, { bucket: "b", acl })).toEqual([expect.stringMatching(new RegExp(`^acl is ${acl}, which opens it to`))]);
    },
  );

  test("fails grants to the AllUsers and AuthenticatedUsers groups", async () => {
    const group = (name: string) => `http://acs.amazonaws.com/groups/global/${name}`;
    expect(await check(AWS_S3.bucket, { grants: [{ type: "Group", uri: group("AllUsers"), permissions: ["READ"] }] })).toEqual([
      expect.stringContaining("ACL grants to http://acs.amazonaws.com/groups/global/AllUsers"),
    ]);
    expect(
      await check(AWS_S3.bucketAclV2, {
        accessControlPolicy: {
          owner: { id: "o" },
          grants: [{ grantee: { type: "Group", uri: group("AuthenticatedUsers") }, permission: "READ" }],
        },
      }),
    ).toEqual([expect.stringContaining("AuthenticatedUsers")]);
  });

  test('fails Principal "*" in every spelling, NotPrincipal, and a policy that cannot be read', async () => {
    for (const principal of ["*", { AWS: "*" }, { AWS: ["arn:aws:iam::t:user/x", "*"] }])
      expect(await check(AWS_S3.bucketPolicy, { policy: policyDoc(statement({ Principal: principal })) })).toEqual([
        'statement S allows s3:GetObject to Principal "*" (everyone). Fix: name the pipeline\'s user (arn:aws:iam::<tenant>:user/<uid>)',
      ]);
    const single = JSON.stringify({ Statement: statement({ Principal: undefined, NotPrincipal: { AWS: "x" }, Action: "s3:*" }) });
    expect(await check(AWS_S3.bucketPolicy, { policy: single })).toEqual([expect.stringContaining("allows s3:* with NotPrincipal")]);
    expect(await check(AWS_S3.bucketPolicy, { policy: "{not json" })).toEqual([expect.stringContaining("not a JSON policy document")]);
  });
});
