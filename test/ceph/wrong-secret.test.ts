/**
 * A topic whose OpaqueData is not the webhook's secret: RGW's pushes are refused with 401 and no job is
 * created. Correcting the topic is not enough on Ceph: the bucket notification keeps the copy of the topic it
 * was written with, so it must be re-created (which the Pulumi program does by replacing the notification).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getTopic, putTopic, type RgwConnection, type RgwTopicSpec } from "../../infra/rgw/topic-api";
import { putObjectCreatedNotification, rgwConnection, s3Client, uniqueName } from "./support/clients";
import { testCluster, testPostgresAdminUrl } from "./support/cluster-env";
import { listKeys } from "./support/expectations";
import { noisePng, PipelineUnderTest, tearDownPipelineTest } from "./support/pipeline";
import { waitUntil } from "./support/wait";

const UNAUTHORIZED = 'image_pipeline_notifications_total{outcome="unauthorized"}';
const STORED = 'image_pipeline_notifications_total{outcome="stored"}';

let s3: S3Client;
let connection: RgwConnection;
let pipeline: PipelineUnderTest;
let spec: RgwTopicSpec;
let topicArn: string;

async function put(key: string): Promise<void> {
  const put = await s3.send(new PutObjectCommand({ Bucket: pipeline.inputBucket, Key: key, Body: (await noisePng(key)).body }));
  expect(put.$metadata.httpStatusCode).toBe(200);
}

beforeAll(async () => {
  const cluster = testCluster();
  s3 = s3Client(cluster);
  connection = rgwConnection(cluster);
  // Reconciler off: the only way a job could appear is an accepted notification.
  pipeline = await PipelineUnderTest.create(
    { cluster, postgresAdminUrl: testPostgresAdminUrl(), label: "secret", reconcileMode: "notifications" },
    s3,
  );
  await pipeline.startWebhook();
  await pipeline.startWorker();
  spec = {
    name: uniqueName("wrong-secret"),
    pushEndpoint: pipeline.pushEndpoint,
    opaqueData: "not-the-webhook-secret",
    persistent: false,
    verifySsl: false,
  };
  topicArn = await putTopic(connection, spec);
  await putObjectCreatedNotification(s3, pipeline.inputBucket, topicArn);
});

afterAll(async () => {
  await tearDownPipelineTest(pipeline, s3, connection, topicArn ? [topicArn] : []);
});

test("a topic with the wrong OpaqueData gets 401s and creates no job", async () => {
  await put("rejected 1.png");
  await put("rejected+2.png");
  // Synchronous topic: each push was answered before its PUT returned.
  expect(await pipeline.metric("webhook", UNAUTHORIZED)).toBe(2);
  expect(await pipeline.metric("webhook", STORED)).toBe(0);
  expect(await pipeline.jobs()).toEqual([]);
  expect(await pipeline.events()).toEqual([]);
  expect(await listKeys(s3, pipeline.outputBucket)).toEqual([]);
  // The uploads themselves are intact; only their notifications were refused.
  await expect(s3.send(new GetObjectCommand({ Bucket: pipeline.inputBucket, Key: "rejected 1.png" }))).resolves.toMatchObject({
    $metadata: { httpStatusCode: 200 },
  });
});

test("correcting the topic's secret takes effect only once the bucket notification is re-created", async () => {
  const fixed = { ...spec, opaqueData: pipeline.webhookSecret };
  expect(await putTopic(connection, fixed)).toBe(topicArn);
  expect(await getTopic(connection, topicArn)).toMatchObject({ arn: topicArn, opaqueData: pipeline.webhookSecret });

  const rejectedBefore = await pipeline.metric("webhook", UNAUTHORIZED);
  await put("still stale.png");
  expect(await pipeline.metric("webhook", UNAUTHORIZED)).toBe(rejectedBefore + 1);
  expect(await pipeline.jobs()).toEqual([]);

  await putObjectCreatedNotification(s3, pipeline.inputBucket, topicArn);
  await put("accepted.png");
  expect((await pipeline.jobs()).map((job) => [job.object_key, job.source])).toEqual([["accepted.png", "notification"]]);
  await waitUntil("the accepted upload to be processed", async () => (await pipeline.events()).length === 1, { timeoutMs: 30_000 });
  expect(await listKeys(s3, pipeline.outputBucket)).toEqual(["accepted.png"]);
  expect(await pipeline.metric("webhook", UNAUTHORIZED)).toBe(rejectedBefore + 1);
});
