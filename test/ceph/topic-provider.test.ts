/**
 * The RGW topic dynamic provider (infra/rgw/topic-provider.ts) driven directly, as the Pulumi engine would,
 * against a real RGW: create/read/update/delete, attribute round trips, the ARN, error mapping, and why a
 * changed topic has to re-create the bucket notification.
 */
import { CreateBucketCommand, GetBucketNotificationConfigurationCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { GetTopicAttributesCommand, type SNSClient } from "@aws-sdk/client-sns";
import { RgwTopicError, getTopic } from "../../infra/rgw/topic-api";
import { rgwTopicProvider, type RgwTopicInputs, type RgwTopicOutputs } from "../../infra/rgw/topic-provider";
import type { CephClusterInfo } from "./harness/cluster";
import { freeLoopbackPort } from "./harness/processes";
import { notificationId, topicNotification } from "../../infra/storage";
import {
  deleteBucketNotification,
  emptyAndDeleteBucket,
  putBucketTopicNotifications,
  s3Client,
  snsClient,
  uniqueName,
  type ResolvedNotificationTopic,
} from "./support/clients";
import { testCluster } from "./support/cluster-env";
import { NotificationReceiver } from "./support/notification-receiver";

let cluster: CephClusterInfo;
let s3: S3Client;
let sns: SNSClient;
const receiverA = new NotificationReceiver();
const receiverB = new NotificationReceiver();
let endpointA: string;
let endpointB: string;
const created: RgwTopicOutputs[] = [];
const buckets: string[] = [];

function inputs(overrides: Partial<RgwTopicInputs> = {}): RgwTopicInputs {
  return {
    endpoint: cluster.endpoint,
    region: cluster.region,
    accessKeyId: cluster.accessKeyId,
    secretAccessKey: cluster.secretAccessKey,
    name: uniqueName("provider-topic"),
    pushEndpoint: endpointA,
    opaqueData: "secret-one",
    persistent: true,
    verifySsl: false,
    ...overrides,
  };
}

async function create(news: RgwTopicInputs): Promise<{ id: string; outs: RgwTopicOutputs }> {
  const result = await rgwTopicProvider.create(news);
  if (!result.outs) throw new Error(`create of ${news.name} returned no outputs`);
  created.push(result.outs);
  return { id: result.id, outs: result.outs };
}

async function notificationIds(bucket: string): Promise<string[]> {
  const configuration = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  return (configuration.TopicConfigurations ?? []).map((topic) => topic.Id!).sort();
}

async function rawAttributes(arn: string): Promise<Record<string, string>> {
  return (await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes ?? {};
}

beforeAll(async () => {
  cluster = testCluster();
  s3 = s3Client(cluster);
  sns = snsClient(cluster);
  endpointA = await receiverA.start();
  endpointB = await receiverB.start();
});

afterAll(async () => {
  for (const bucket of buckets) await emptyAndDeleteBucket(s3, bucket).catch(() => undefined);
  for (const outs of created) await rgwTopicProvider.delete(outs.arn, outs).catch(() => undefined);
  await receiverA.stop();
  await receiverB.stop();
  s3?.destroy();
  sns?.destroy();
});

test("check accepts valid inputs and names the property of invalid ones", async () => {
  expect(await rgwTopicProvider.check(inputs(), inputs())).toEqual({ inputs: inputs({ name: expect.any(String) }) });
  const bad = await rgwTopicProvider.check(inputs(), inputs({ opaqueData: "a&b=c" }));
  expect(bad.failures?.map((failure) => failure.property)).toEqual(["opaqueData"]);
});

test("create makes the topic RGW reports, with ARN arn:aws:sns:default::<name>", async () => {
  const news = inputs();
  const { id, outs } = await create(news);
  expect(id).toBe(`arn:aws:sns:default::${news.name}`);
  expect(outs).toMatchObject({ ...news, arn: id, revision: expect.stringMatching(/^[0-9a-f]{12}$/) });

  const attributes = await rawAttributes(id);
  expect(attributes).toMatchObject({ TopicArn: id, Name: news.name, OpaqueData: "secret-one" });
  expect(JSON.parse(attributes.EndPoint)).toMatchObject({ EndpointAddress: endpointA, Persistent: "true" });
});

test.each([
  { persistent: true, verifySsl: false },
  { persistent: false, verifySsl: true },
])("read round-trips every attribute (persistent=$persistent, verifySsl=$verifySsl)", async ({ persistent, verifySsl }) => {
  const news = inputs({ persistent, verifySsl, pushEndpoint: verifySsl ? "https://webhook.example.org/notify" : endpointA });
  const { id, outs } = await create(news);
  const read = await rgwTopicProvider.read(id, outs);
  expect(read).toEqual({ id, props: outs, inputs: news });
  expect(JSON.parse((await rawAttributes(id)).EndPoint).Persistent).toBe(String(persistent));
});

test("an endpoint or secret change is an in-place update: same ARN, new attributes, new revision", async () => {
  const news = inputs();
  const { id, outs } = await create(news);
  const changed = { ...news, pushEndpoint: endpointB, opaqueData: "secret-two" };

  const diff = await rgwTopicProvider.diff(id, outs, changed);
  expect(diff).toMatchObject({ changes: true, replaces: [] });

  const updated = await rgwTopicProvider.update(id, outs, changed);
  expect(updated.outs).toMatchObject({ arn: id, pushEndpoint: endpointB, opaqueData: "secret-two" });
  expect(updated.outs!.revision).not.toBe(outs.revision);
  created.push(updated.outs!);

  expect(
    await getTopic(
      { endpoint: cluster.endpoint, region: cluster.region, accessKeyId: cluster.accessKeyId, secretAccessKey: cluster.secretAccessKey },
      id,
    ),
  ).toMatchObject({
    arn: id,
    pushEndpoint: endpointB,
    opaqueData: "secret-two",
    persistent: true,
  });
  // A rename is a different topic.
  expect(await rgwTopicProvider.diff(id, outs, { ...news, name: uniqueName("renamed") })).toMatchObject({
    changes: true,
    replaces: ["name"],
  });
});

test("delete removes the topic; read then reports it gone and a second delete succeeds", async () => {
  const { id, outs } = await create(inputs());
  await rgwTopicProvider.delete(id, outs);
  await expect(rawAttributes(id)).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  expect(await rgwTopicProvider.read(id, outs)).toEqual({});
  await expect(rgwTopicProvider.delete(id, outs)).resolves.toBeUndefined();
});

test("RGW errors come back classified: refused credentials and an unreachable endpoint", async () => {
  const refused = rgwTopicProvider.create(inputs({ secretAccessKey: "not-the-secret-key-of-this-user-000000000" }));
  await expect(refused).rejects.toBeInstanceOf(RgwTopicError);
  await expect(refused).rejects.toMatchObject({ kind: "access-denied", status: 403 });

  const deadEndpoint = `http://127.0.0.1:${await freeLoopbackPort()}`;
  await expect(rgwTopicProvider.create(inputs({ endpoint: deadEndpoint }))).rejects.toMatchObject({ kind: "unreachable" });
});

describe("bucket notifications after a topic change", () => {
  const filter = { keyPrefix: "", keySuffix: ".png" };
  let bucket: string;

  beforeEach(async () => {
    bucket = uniqueName("provider-notify");
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    buckets.push(bucket);
  });

  async function putObject(key: string): Promise<void> {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  }

  test("a changed endpoint or secret takes effect only when the notification is written again; the same Id rewrites it in place", async () => {
    const news = inputs({ persistent: false });
    const { id, outs } = await create(news);
    // The notification as PipelineStorage declares it (events, key filter), under a fixed Id.
    const declared = topicNotification(id, notificationId(news.name), filter) as ResolvedNotificationTopic;
    await putBucketTopicNotifications(s3, bucket, [declared]);
    await putObject("one.png");
    expect(receiverA.recordsFor("one.png").map((record) => [record.opaqueData, record.s3.configurationId])).toEqual([
      ["secret-one", declared.id],
    ]);

    const updated = await rgwTopicProvider.update(id, outs, { ...news, pushEndpoint: endpointB, opaqueData: "secret-two" });
    created.push(updated.outs!);
    expect(updated.outs!.revision).not.toBe(outs.revision);
    // Ceph copied the topic into the notification when it was written: old endpoint, old secret.
    await putObject("two.png");
    expect(receiverA.recordsFor("two.png").map((record) => record.opaqueData)).toEqual(["secret-one"]);
    expect(receiverB.recordsFor("two.png")).toHaveLength(0);

    await putBucketTopicNotifications(s3, bucket, [declared]);
    await putObject("three.png");
    expect(receiverB.recordsFor("three.png").map((record) => [record.opaqueData, record.s3.configurationId])).toEqual([
      ["secret-two", declared.id],
    ]);
    expect(receiverA.recordsFor("three.png")).toHaveLength(0);
    // The suffix filter is applied by RGW.
    await putObject("notes.txt");
    expect(receiverB.recordsFor("notes.txt")).toHaveLength(0);
  });

  test("RGW 16.2 semantics the aws.s3.BucketNotification lifecycle meets: additive PUT, empty PUT refused, DELETE ?notification=<id>", async () => {
    const { id } = await create(inputs({ persistent: false }));
    const first = topicNotification(id, "revision-1", filter) as ResolvedNotificationTopic;
    const second = topicNotification(id, "revision-2", filter) as ResolvedNotificationTopic;
    await putBucketTopicNotifications(s3, bucket, [first]);
    await putBucketTopicNotifications(s3, bucket, [second]);

    // Unlike AWS, a PUT with another Id does not replace the configuration: both fire, every event twice.
    expect(await notificationIds(bucket)).toEqual(["revision-1", "revision-2"]);
    await putObject("twice.png");
    expect(
      receiverA
        .recordsFor("twice.png")
        .map((record) => record.s3.configurationId)
        .sort(),
    ).toEqual(["revision-1", "revision-2"]);

    // What aws.s3.BucketNotification's delete sends (an empty configuration) is refused, so Pulumi cannot delete it.
    await expect(putBucketTopicNotifications(s3, bucket, [])).rejects.toMatchObject({
      name: "MalformedXML",
      $metadata: { httpStatusCode: 400 },
    });

    // Ceph's own extension removes one notification by Id, or all of them.
    await deleteBucketNotification(s3, bucket, "revision-1");
    expect(await notificationIds(bucket)).toEqual(["revision-2"]);
    await deleteBucketNotification(s3, bucket);
    expect(await notificationIds(bucket)).toEqual([]);
  });
});
