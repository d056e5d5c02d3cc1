/**
 * The bucket policies infra/storage.ts writes, on a real RGW, for a pipeline user that does not own the buckets:
 * it can do exactly what the worker does (list and read the input, write the output) and nothing else. And what a
 * policy does to the owner, measured: RGW lets the owner do whatever no statement denies, and an explicit Deny
 * binds the owner too, even on the bucket's own policy, where only the RGW administrator can undo it. The program
 * therefore restricts the pipeline by giving it its own identity, and never denies the owner (which is how Pulumi
 * manages the buckets and their policies).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { bucketPolicyDocument } from "../../infra/storage";
import type { CephClusterInfo } from "./harness/cluster";
import { emptyAndDeleteBucket, s3Client, uniqueName } from "./support/clients";
import { testCluster } from "./support/cluster-env";

const run = promisify(execFile);

let cluster: CephClusterInfo;
let owner: S3Client;
let pipeline: S3Client;
let pipelineUid: string;
const input = uniqueName("policy-input");
const output = uniqueName("policy-output");

/** "allowed", or the error code RGW answered with. */
async function outcome(action: Promise<unknown>): Promise<string> {
  try {
    await action;
    return "allowed";
  } catch (err) {
    if (err instanceof S3ServiceException) return err.name;
    throw err;
  }
}

const get = (s3: S3Client, bucket: string, key: string) =>
  s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).then((r) => r.Body?.transformToString());
const put = (s3: S3Client, bucket: string, key: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "x" }));
const del = (s3: S3Client, bucket: string, key: string) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
const list = (s3: S3Client, bucket: string) => s3.send(new ListObjectsV2Command({ Bucket: bucket }));

beforeAll(async () => {
  cluster = testCluster();
  owner = s3Client(cluster);
  pipelineUid = uniqueName("pipeline-user");
  const created = await run("radosgw-admin", [
    "-c",
    cluster.confPath,
    "user",
    "create",
    "--uid",
    pipelineUid,
    "--display-name",
    "pipeline (not the bucket owner)",
  ]);
  const keys = (JSON.parse(created.stdout) as { keys: { access_key: string; secret_key: string }[] }).keys[0];
  pipeline = s3Client({ ...cluster, accessKeyId: keys.access_key, secretAccessKey: keys.secret_key });

  for (const bucket of [input, output]) await owner.send(new CreateBucketCommand({ Bucket: bucket }));
  await put(owner, input, "upload.jpg");
  await put(owner, output, "earlier.jpg");
  const principal = `arn:aws:iam:::user/${pipelineUid}`;
  await owner.send(new PutBucketPolicyCommand({ Bucket: input, Policy: bucketPolicyDocument(input, principal, "read") }));
  await owner.send(new PutBucketPolicyCommand({ Bucket: output, Policy: bucketPolicyDocument(output, principal, "write") }));
});

afterAll(async () => {
  for (const bucket of [input, output]) {
    await owner.send(new DeleteBucketPolicyCommand({ Bucket: bucket })).catch(() => undefined);
    await emptyAndDeleteBucket(owner, bucket).catch(() => undefined);
  }
  if (pipelineUid) await run("radosgw-admin", ["-c", cluster.confPath, "user", "rm", "--uid", pipelineUid, "--purge-data"]);
  owner?.destroy();
  pipeline?.destroy();
});

test("the pipeline user lists and reads the input and writes the output", async () => {
  expect((await list(pipeline, input)).Contents?.map((o) => o.Key)).toEqual(["upload.jpg"]);
  expect(await get(pipeline, input, "upload.jpg")).toBe("x");
  expect(await outcome(put(pipeline, output, "upload.jpg"))).toBe("allowed");
});

test("and nothing else: no write or delete on the input, no read, list or delete on the output, no policy change", async () => {
  expect({
    putInput: await outcome(put(pipeline, input, "injected.jpg")),
    deleteInput: await outcome(del(pipeline, input, "upload.jpg")),
    getOutput: await outcome(get(pipeline, output, "earlier.jpg")),
    listOutput: await outcome(list(pipeline, output)),
    deleteOutput: await outcome(del(pipeline, output, "earlier.jpg")),
    putPolicy: await outcome(
      pipeline.send(new PutBucketPolicyCommand({ Bucket: input, Policy: bucketPolicyDocument(input, "arn:aws:iam:::user/x", "write") })),
    ),
  }).toEqual({
    putInput: "AccessDenied",
    deleteInput: "AccessDenied",
    getOutput: "AccessDenied",
    listOutput: "AccessDenied",
    deleteOutput: "AccessDenied",
    putPolicy: "AccessDenied",
  });
});

test("the owner is not restricted by statements that only allow: it still reads, writes and deletes both buckets", async () => {
  expect({
    getOutput: await outcome(get(owner, output, "earlier.jpg")),
    putInput: await outcome(put(owner, input, "by-owner.jpg")),
    deleteInput: await outcome(del(owner, input, "by-owner.jpg")),
  }).toEqual({ getOutput: "allowed", putInput: "allowed", deleteInput: "allowed" });
});

test("an explicit Deny binds the owner too, even on its own bucket policy (so the program denies the owner nothing)", async () => {
  const scratch = uniqueName("policy-deny");
  await owner.send(new CreateBucketCommand({ Bucket: scratch }));
  try {
    await put(owner, scratch, "kept.jpg");
    const denyOwner = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OwnerLocksItselfOut",
          Effect: "Deny",
          Principal: { AWS: [`arn:aws:iam:::user/${cluster.userId}`] },
          Action: ["s3:DeleteObject", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy"],
          Resource: [`arn:aws:s3:::${scratch}`, `arn:aws:s3:::${scratch}/*`],
        },
      ],
    });
    await owner.send(new PutBucketPolicyCommand({ Bucket: scratch, Policy: denyOwner }));
    expect({
      deleteObject: await outcome(del(owner, scratch, "kept.jpg")),
      deletePolicy: await outcome(owner.send(new DeleteBucketPolicyCommand({ Bucket: scratch }))),
      putPolicy: await outcome(
        owner.send(new PutBucketPolicyCommand({ Bucket: scratch, Policy: bucketPolicyDocument(scratch, "arn:aws:iam:::user/x", "read") })),
      ),
    }).toEqual({ deleteObject: "AccessDenied", deletePolicy: "AccessDenied", putPolicy: "AccessDenied" });
  } finally {
    // Only the RGW administrator gets past such a policy.
    await run("radosgw-admin", ["-c", cluster.confPath, "bucket", "rm", "--bucket", scratch, "--purge-objects"]);
  }
});
