/**
 * Proves the harness and pins down the RGW (Ceph 16.2 Pacific) behaviour the pipeline relies on,
 * with raw SDK calls only: S3 objects, SNS topics with a push endpoint, bucket notifications,
 * and the events as they arrive at a real HTTP endpoint.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CreateTopicCommand, DeleteTopicCommand, GetTopicAttributesCommand, ListTopicsCommand, type SNSClient } from "@aws-sdk/client-sns";
import { createHash, randomBytes } from "node:crypto";
import type { CephClusterInfo } from "./harness/cluster";
import { clusterStatus } from "./harness/cluster";
import { emptyAndDeleteBucket, s3Client, snsClient, uniqueName } from "./support/clients";
import { testCluster } from "./support/cluster-env";
import { NotificationReceiver } from "./support/notification-receiver";
import { waitUntil } from "./support/wait";

const md5 = (body: Buffer | string): string => createHash("md5").update(body).digest("hex");

let info: CephClusterInfo;
let s3: S3Client;
let sns: SNSClient;
const receiver = new NotificationReceiver();
let pushEndpoint: string;
const buckets: string[] = [];
const topics: string[] = [];

async function createTopic(name: string, attributes: Record<string, string>): Promise<string> {
  const created = await sns.send(new CreateTopicCommand({ Name: name, Attributes: attributes }));
  topics.push(created.TopicArn!);
  return created.TopicArn!;
}

async function createBucket(prefix: string): Promise<string> {
  const bucket = uniqueName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  buckets.push(bucket);
  return bucket;
}

async function notify(bucket: string, topicArn: string, filterPrefix?: string): Promise<void> {
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        TopicConfigurations: [
          {
            Id: "object-created",
            TopicArn: topicArn,
            Events: ["s3:ObjectCreated:*"],
            ...(filterPrefix ? { Filter: { Key: { FilterRules: [{ Name: "prefix", Value: filterPrefix }] } } } : {}),
          },
        ],
      },
    }),
  );
}

beforeAll(async () => {
  info = testCluster();
  s3 = s3Client(info);
  sns = snsClient(info);
  pushEndpoint = await receiver.start();
});

afterAll(async () => {
  for (const bucket of buckets) await emptyAndDeleteBucket(s3, bucket).catch(() => undefined);
  for (const topicArn of topics) await sns.send(new DeleteTopicCommand({ TopicArn: topicArn })).catch(() => undefined);
  await receiver.stop();
  s3?.destroy();
  sns?.destroy();
});

beforeEach(() => {
  receiver.respondWith = 200;
});

test("the cluster is up: mon, OSD and radosgw alive, S3 answering", async () => {
  const status = await clusterStatus(info);
  expect(status).toMatchObject({ running: true, daemons: { mon: true, osd: true, rgw: true }, gatewayHttpStatus: 200 });
  process.stderr.write(
    `[ceph] cluster RSS ${(status.residentBytes / 1048576).toFixed(0)} MiB, start timings (s) ${JSON.stringify(info.timings)}\n`,
  );
});

test("S3 PUT then GET returns the same bytes, and the ETag is the body's MD5", async () => {
  const bucket = await createBucket("harness-objects");
  const body = randomBytes(256 * 1024);
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "blob.bin", Body: body, ContentType: "application/octet-stream" }));
  expect(put.ETag).toBe(`"${md5(body)}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "blob.bin" }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "blob.bin" }));
  expect(head).toMatchObject({ ContentLength: body.length, ContentType: "application/octet-stream" });
});

test("CreateTopic returns arn:aws:sns:default::<name>; attributes, ListTopics and DeleteTopic round-trip", async () => {
  const name = uniqueName("harness-topic");
  const created = await sns.send(
    new CreateTopicCommand({
      Name: name,
      Attributes: { "push-endpoint": pushEndpoint, OpaqueData: "s3cr3t", persistent: "true", "verify-ssl": "false" },
    }),
  );
  expect(created.TopicArn).toBe(`arn:aws:sns:default::${name}`);

  const attributes = (await sns.send(new GetTopicAttributesCommand({ TopicArn: created.TopicArn }))).Attributes!;
  expect(attributes).toMatchObject({ Name: name, TopicArn: created.TopicArn, OpaqueData: "s3cr3t" });
  // Pacific reports the endpoint as a JSON document inside the attribute map.
  expect(JSON.parse(attributes.EndPoint)).toMatchObject({ EndpointAddress: pushEndpoint, EndpointTopic: name, Persistent: "true" });

  const listed = await sns.send(new ListTopicsCommand({}));
  expect(listed.Topics?.map((topic) => topic.TopicArn)).toContain(created.TopicArn);

  await sns.send(new DeleteTopicCommand({ TopicArn: created.TopicArn }));
  const after = await sns.send(new ListTopicsCommand({}));
  expect(after.Topics?.map((topic) => topic.TopicArn) ?? []).not.toContain(created.TopicArn);
  await expect(sns.send(new GetTopicAttributesCommand({ TopicArn: created.TopicArn }))).rejects.toMatchObject({
    $metadata: { httpStatusCode: 404 },
  });
});

describe("synchronous topic (persistent=false)", () => {
  let bucket: string;
  let topicArn: string;

  beforeAll(async () => {
    bucket = await createBucket("harness-sync");
    topicArn = await createTopic(uniqueName("harness-sync"), {
      "push-endpoint": pushEndpoint,
      OpaqueData: "sync-secret",
      persistent: "false",
      "verify-ssl": "false",
    });
    await notify(bucket, topicArn, "in/");
  });

  test('"persistent": "false" makes a synchronous topic on 16.2 (the value is read, not just its presence)', async () => {
    const attributes = (await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }))).Attributes!;
    expect(JSON.parse(attributes.EndPoint)).toMatchObject({ Persistent: "false" });
  });

  test("delivers one record per POST before the PUT returns, with the key not URL-encoded", async () => {
    const key = "in/a b+c%41 ünï 🖼.png";
    const body = randomBytes(1000);
    const before = receiver.pushes.length;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

    // No waiting: a synchronous topic pushes while the PUT is being served.
    const pushes = receiver.pushes.slice(before);
    expect(pushes).toHaveLength(1);
    expect(pushes[0]).toMatchObject({ path: "/notify", headers: { "content-type": "application/json" } });
    const records = (pushes[0].body as { Records: unknown[] }).Records;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      eventSource: "ceph:s3",
      eventName: "ObjectCreated:Put",
      opaqueData: "sync-secret",
      s3: { configurationId: "object-created", bucket: { name: bucket }, object: { key, size: body.length, eTag: md5(body) } },
    });
  });

  test("a notification's eventTime is the object's mtime: the listing's LastModified to the millisecond, HEAD's to the second", async () => {
    // The worker identifies an input version by (eTag, mtime), the mtime taken from eventTime for a notification
    // and from LastModified for a listing; both must name the same upload, also when the same content comes again.
    const key = "in/versions/aba.bin";
    const [a, b] = [randomBytes(2000), randomBytes(2000)];
    const seen: { eTag: string; eventTime: string; listed: string; head: string }[] = [];
    for (const body of [a, b, a]) {
      // Uploads in different seconds, so HEAD's Last-Modified (whole seconds) tells them apart too.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      const records = receiver.recordsFor(key);
      const record = records[records.length - 1];
      const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      seen.push({
        eTag: record.s3.object.eTag,
        eventTime: record.eventTime,
        listed: listing.Contents![0].LastModified!.toISOString(),
        head: head.LastModified!.toISOString(),
      });
    }
    process.stderr.write(`[ceph] eventTime vs LastModified (listing, HEAD): ${JSON.stringify(seen)}\n`);
    expect(receiver.recordsFor(key)).toHaveLength(3);
    expect(seen.map((v) => v.eTag)).toEqual([md5(a), md5(b), md5(a)]);
    for (const v of seen) {
      expect(new Date(v.eventTime).toISOString()).toBe(v.listed);
      expect(v.head).toBe(`${v.listed.slice(0, 19)}.000Z`);
    }
    // The two uploads of the same content are two versions: different mtimes.
    expect(new Set(seen.map((v) => v.listed)).size).toBe(3);
  });

  test("keys outside the prefix filter are not pushed", async () => {
    const before = receiver.pushes.length;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "elsewhere/x.png", Body: "x" }));
    expect(receiver.pushes.length).toBe(before);
  });

  test("Copy and CompleteMultipartUpload are reported as ObjectCreated:Copy and ObjectCreated:CompleteMultipartUpload", async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "in/source.bin", Body: "source" }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "in/copy.bin", CopySource: `${bucket}/in/source.bin` }));
    expect(receiver.recordsFor("in/copy.bin").map((record) => record.eventName)).toEqual(["ObjectCreated:Copy"]);

    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "in/multi.bin" }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: "in/multi.bin", UploadId: upload.UploadId, PartNumber: 1, Body: randomBytes(1024) }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: "in/multi.bin",
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(receiver.recordsFor("in/multi.bin").map((record) => record.eventName)).toEqual(["ObjectCreated:CompleteMultipartUpload"]);
  });

  test("an endpoint answering 500 loses the event, and the PUT still succeeds", async () => {
    receiver.respondWith = 500;
    const before = receiver.pushes.length;
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "in/lost.png", Body: "lost" }));
    expect(put.$metadata.httpStatusCode).toBe(200);
    const attempts = receiver.pushes.slice(before);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.every((push) => push.status === 500)).toBe(true);

    receiver.respondWith = 200;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "in/after.png", Body: "after" }));
    expect(receiver.recordsFor("in/after.png")).toHaveLength(1);
    // Nothing re-posts the lost one: that is the reconciler's job.
    expect(receiver.recordsFor("in/lost.png")).toHaveLength(0);
  });
});

describe("persistent topic (persistent=true)", () => {
  let bucket: string;
  let topicArn: string;

  beforeAll(async () => {
    bucket = await createBucket("harness-persistent");
    topicArn = await createTopic(uniqueName("harness-persistent"), {
      "push-endpoint": pushEndpoint,
      OpaqueData: "queued-secret",
      persistent: "true",
      "verify-ssl": "false",
    });
    await notify(bucket, topicArn);
  });

  test("delivers the first event of a new topic after its queue is picked up", async () => {
    const started = Date.now();
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "first one.png", Body: "first" }));
    expect(put.$metadata.httpStatusCode).toBe(200);
    await waitUntil("the first persistent event", () => receiver.recordsFor("first one.png").length > 0, { timeoutMs: 90_000 });
    const [record] = receiver.recordsFor("first one.png");
    const delivered = receiver.pushes.find((push) => push.status < 300 && JSON.stringify(push.body).includes("first one.png"))!;
    process.stderr.write(`[ceph] persistent topic first-event latency: ${delivered.receivedAt - started} ms\n`);
    expect(record).toMatchObject({
      eventSource: "ceph:s3",
      eventName: "ObjectCreated:Put",
      opaqueData: "queued-secret",
      s3: { bucket: { name: bucket }, object: { eTag: md5("first") } },
    });
  });

  test("re-posts an event the endpoint answered 500 until it is accepted, then delivers it exactly once", async () => {
    let failuresLeft = 5;
    receiver.respondWith = (push) => (JSON.stringify(push.body).includes("retried.png") && failuresLeft-- > 0 ? 500 : 200);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "retried.png", Body: "retried" }));
    await waitUntil("the retried event to be accepted", () => receiver.recordsFor("retried.png").length > 0, { timeoutMs: 60_000 });

    // The queue is FIFO: once a later object's event arrives, any duplicate of the earlier one would have too.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "marker.png", Body: "marker" }));
    await waitUntil("the marker event", () => receiver.recordsFor("marker.png").length > 0, { timeoutMs: 60_000 });

    const attempts = receiver.pushes.filter((push) => JSON.stringify(push.body).includes("retried.png"));
    expect(attempts.filter((push) => push.status === 500)).toHaveLength(5);
    expect(receiver.recordsFor("retried.png")).toHaveLength(1);
  });
});
