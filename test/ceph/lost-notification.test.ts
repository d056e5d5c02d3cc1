/**
 * A synchronous topic loses the events pushed while the webhook is down (RGW still answers the PUT 200).
 * The worker's reconciler finds those objects by listing the bucket; everything ends processed exactly once.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { putTopic, type RgwConnection } from "../../infra/rgw/topic-api";
import { putObjectCreatedNotification, rgwConnection, s3Client, uniqueName } from "./support/clients";
import { testCluster, testPostgresAdminUrl } from "./support/cluster-env";
import { expectProcessedExactlyOnce, listKeys, uploadImages } from "./support/expectations";
import { noisePng, PipelineUnderTest, tearDownPipelineTest } from "./support/pipeline";
import { waitUntil } from "./support/wait";

const OUTPUT_PREFIX = "out/";
const RECONCILE_INTERVAL_SECONDS = 3;
const KNOWN = 'image_pipeline_reconciler_objects_total{outcome="known"}';
const ENQUEUED = 'image_pipeline_reconciler_objects_total{outcome="enqueued"}';

let s3: S3Client;
let connection: RgwConnection;
let pipeline: PipelineUnderTest;
let topicArn: string;

beforeAll(async () => {
  const cluster = testCluster();
  s3 = s3Client(cluster);
  connection = rgwConnection(cluster);
  pipeline = await PipelineUnderTest.create(
    {
      cluster,
      postgresAdminUrl: testPostgresAdminUrl(),
      label: "lost",
      reconcileMode: "both",
      reconcileIntervalSeconds: RECONCILE_INTERVAL_SECONDS,
      outputPrefix: OUTPUT_PREFIX,
    },
    s3,
  );
  await pipeline.startWebhook();
  await pipeline.startWorker();
  topicArn = await putTopic(connection, {
    name: uniqueName("lost-sync"),
    pushEndpoint: pipeline.pushEndpoint,
    opaqueData: pipeline.webhookSecret,
    persistent: false,
    verifySsl: false,
  });
  await putObjectCreatedNotification(s3, pipeline.inputBucket, topicArn, { suffix: ".png" });
});

afterAll(async () => {
  await tearDownPipelineTest(pipeline, s3, connection, topicArn ? [topicArn] : []);
});

test("uploads made while the webhook is down are recovered by the reconciler, and nothing is processed twice", async () => {
  const before = await Promise.all(["before 1.png", "before+2.png"].map((key) => noisePng(key)));
  const during = await Promise.all(["during 1.png", "during+2.png", "during%3.png", "düring 4.png"].map((key) => noisePng(key)));
  const after = await Promise.all(["after 1.png", "after+2.png"].map((key) => noisePng(key)));

  const eTags = await uploadImages(s3, pipeline.inputBucket, before);
  expect((await pipeline.jobs()).map((job) => job.object_key).sort()).toEqual(before.map((image) => image.key).sort());

  await pipeline.stopWebhook();
  // RGW tries the dead endpoint, gives up, and still stores the objects.
  for (const [key, eTag] of await uploadImages(s3, pipeline.inputBucket, during)) eTags.set(key, eTag);

  await pipeline.startWebhook();
  for (const [key, eTag] of await uploadImages(s3, pipeline.inputBucket, after)) eTags.set(key, eTag);

  const all = [...before, ...during, ...after];
  await waitUntil("every upload to be processed", async () => (await pipeline.events()).length === all.length, {
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  await expectProcessedExactlyOnce(s3, pipeline, all, eTags, OUTPUT_PREFIX);

  // Ceph never re-sent the lost events: the reconciler created exactly those jobs, notifications the rest.
  const sources = Object.fromEntries((await pipeline.jobs()).map((job) => [job.object_key, job.source]));
  expect(sources).toEqual(Object.fromEntries(all.map((image) => [image.key, during.includes(image) ? "reconciler" : "notification"])));

  // One more full reconciler pass over the finished bucket enqueues nothing.
  const enqueued = await pipeline.metric("worker", ENQUEUED);
  const known = await pipeline.metric("worker", KNOWN);
  await waitUntil(
    "a reconciler pass after everything was processed",
    async () => (await pipeline.metric("worker", KNOWN)) >= known + all.length,
    {
      timeoutMs: (RECONCILE_INTERVAL_SECONDS + 10) * 1000,
      intervalMs: 250,
    },
  );
  expect(await pipeline.metric("worker", ENQUEUED)).toBe(enqueued);
  expect(await pipeline.jobs()).toHaveLength(all.length);
  expect(await pipeline.events()).toHaveLength(all.length);
  expect(await listKeys(s3, pipeline.outputBucket)).toEqual(all.map((image) => `${OUTPUT_PREFIX}${image.key}`).sort());
});
