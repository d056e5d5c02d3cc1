/**
 * The whole event path on a real RGW: a PUT into the input bucket → the bucket notification → the topic
 * (created by the real topic code in infra/rgw) → the real webhook → the PostgreSQL queue → the real workers
 * → an inverted image in the output bucket and one event row. Once with a synchronous topic, once with a
 * persistent one. The reconciler is off here, so every job must have come from a notification.
 */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { putTopic, type RgwConnection } from "../../infra/rgw/topic-api";
import type { CephClusterInfo } from "./harness/cluster";
import { putObjectCreatedNotification, rgwConnection, s3Client, uniqueName } from "./support/clients";
import { testCluster, testPostgresAdminUrl } from "./support/cluster-env";
import { expectProcessedExactlyOnce, listKeys, uploadImages } from "./support/expectations";
import { noisePng, PipelineUnderTest, tearDownPipelineTest } from "./support/pipeline";
import { waitUntil } from "./support/wait";

const OUTPUT_PREFIX = "inverted/";
/** Keys RGW sends unencoded and AWS would encode; each must reach the worker byte for byte. */
const AWKWARD_NAMES = ["plain.png", "with space.png", "plus+sign.png", "percent%20literal.png", "100%.png", "ünïcødé 画像 🖼.png"];

let cluster: CephClusterInfo;
let s3: S3Client;
let connection: RgwConnection;
let pipeline: PipelineUnderTest;
const topicArns: string[] = [];
let syncTopicArn: string;
let persistentTopicArn: string;

async function pointNotificationAt(topicArn: string): Promise<void> {
  await putObjectCreatedNotification(s3, pipeline.inputBucket, topicArn, { prefix: "in/", suffix: ".png" });
}

beforeAll(async () => {
  cluster = testCluster();
  s3 = s3Client(cluster);
  connection = rgwConnection(cluster);
  pipeline = await PipelineUnderTest.create(
    {
      cluster,
      postgresAdminUrl: testPostgresAdminUrl(),
      label: "event-path",
      reconcileMode: "notifications",
      outputPrefix: OUTPUT_PREFIX,
      keyPrefixFilter: "in/",
    },
    s3,
  );
  await pipeline.startWebhook();
  await pipeline.startWorker();
  const spec = { pushEndpoint: pipeline.pushEndpoint, opaqueData: pipeline.webhookSecret, verifySsl: false };
  syncTopicArn = await putTopic(connection, { ...spec, name: uniqueName("event-path-sync"), persistent: false });
  // Created now so RGW's periodic scan has adopted its queue by the time the persistent test runs.
  persistentTopicArn = await putTopic(connection, { ...spec, name: uniqueName("event-path-persistent"), persistent: true });
  topicArns.push(syncTopicArn, persistentTopicArn);
});

afterAll(async () => {
  await tearDownPipelineTest(pipeline, s3, connection, topicArns);
});

test("synchronous topic: each PUT is queued before it returns and ends as one inverted output and one event row", async () => {
  await pointNotificationAt(syncTopicArn);
  const images = await Promise.all(AWKWARD_NAMES.map((name) => noisePng(`in/sync/${name}`)));
  const eTags = await uploadImages(s3, pipeline.inputBucket, images);

  // A synchronous topic delivers while the PUT is served, and the webhook answers only once the job is stored.
  expect((await pipeline.jobs()).map((job) => job.object_key).sort()).toEqual(images.map((image) => image.key).sort());

  await waitUntil("every sync upload to be processed", async () => (await pipeline.events()).length === images.length, {
    timeoutMs: 60_000,
  });
  await expectProcessedExactlyOnce(s3, pipeline, images, eTags, OUTPUT_PREFIX);
  expect(new Set((await pipeline.jobs()).map((job) => job.source))).toEqual(new Set(["notification"]));
});

test("objects outside the notification filter create no job", async () => {
  const before = (await pipeline.jobs()).length;
  await s3.send(new PutObjectCommand({ Bucket: pipeline.inputBucket, Key: "in/readme.txt", Body: "not an image" }));
  await s3.send(new PutObjectCommand({ Bucket: pipeline.inputBucket, Key: "elsewhere/photo.png", Body: (await noisePng("x")).body }));
  expect((await pipeline.jobs()).length).toBe(before);
});

test("persistent topic: after its first-event delay, each PUT ends as one inverted output and one event row", async () => {
  await pointNotificationAt(persistentTopicArn);
  const images = await Promise.all(AWKWARD_NAMES.map((name) => noisePng(`in/persistent/${name}`)));
  const started = Date.now();
  const eTags = await uploadImages(s3, pipeline.inputBucket, images);
  const keys = new Set(images.map((image) => image.key));

  // Up to ~30 s before RGW's queue scan adopts a new persistent topic, then sub-second.
  await waitUntil(
    "every persistent upload to be processed",
    async () => (await pipeline.events()).filter((row) => keys.has(row.input_key)).length === images.length,
    {
      timeoutMs: 100_000,
      intervalMs: 250,
    },
  );
  process.stderr.write(`[ceph] persistent topic: ${images.length} images processed ${Date.now() - started} ms after the first PUT\n`);
  await expectProcessedExactlyOnce(s3, pipeline, images, eTags, OUTPUT_PREFIX);

  // Both rounds together: one output per input, nothing else, nothing twice.
  const all = [...AWKWARD_NAMES.map((name) => `in/sync/${name}`), ...keys];
  expect(await listKeys(s3, pipeline.outputBucket)).toEqual(all.map((key) => `${OUTPUT_PREFIX}${key}`).sort());
  expect((await pipeline.events()).length).toBe(all.length);
  expect(new Set((await pipeline.jobs()).map((job) => job.source))).toEqual(new Set(["notification"]));
});
