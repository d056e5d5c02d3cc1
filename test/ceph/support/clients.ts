/** SDK clients configured the way Ceph Pacific needs them. */
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketNotificationConfigurationCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  S3Client,
  type Event,
} from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { randomBytes } from "node:crypto";
import type { RgwConnection } from "../../../infra/rgw/topic-api";
import type { CephClusterInfo } from "../harness/cluster";

/** Anything with the RGW endpoint and the user's keys: the cluster's info, or a topic-API connection. */
export function s3Client(info: Pick<CephClusterInfo, "endpoint" | "region" | "accessKeyId" | "secretAccessKey">): S3Client {
  return new S3Client({
    endpoint: info.endpoint,
    region: info.region,
    forcePathStyle: true,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
    // Pacific answers 411 to the SDK's default streaming (aws-chunked) checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export function snsClient(info: CephClusterInfo): SNSClient {
  return new SNSClient({
    endpoint: info.endpoint,
    region: info.region,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
  });
}

/** A bucket or topic name no other test in this run uses (S3 bucket rules: lower case, 3-63 chars). */
/** The topic API's connection to the test cluster's RGW, as the admin user. */
export function rgwConnection(info: CephClusterInfo): RgwConnection {
  return { endpoint: info.endpoint, region: info.region, accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** One entry of `aws.s3.BucketNotification`'s `topics`, with its inputs resolved. */
export interface ResolvedNotificationTopic {
  id?: string;
  topicArn: string;
  events: string[];
  filterPrefix?: string;
  filterSuffix?: string;
}

/**
 * Writes a bucket's notification configuration the way `aws.s3.BucketNotification` does on create and update
 * (one PutBucketNotificationConfiguration with every topic entry); an empty list is what its delete writes.
 */
export async function putBucketTopicNotifications(s3: S3Client, bucket: string, topics: ResolvedNotificationTopic[]): Promise<void> {
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        TopicConfigurations: topics.map((topic) => {
          const rules = [
            ...(topic.filterPrefix ? [{ Name: "prefix" as const, Value: topic.filterPrefix }] : []),
            ...(topic.filterSuffix ? [{ Name: "suffix" as const, Value: topic.filterSuffix }] : []),
          ];
          // The provider passes the event names through as given; RGW validates them.
          return {
            Id: topic.id,
            TopicArn: topic.topicArn,
            Events: topic.events as Event[],
            ...(rules.length > 0 ? { Filter: { Key: { FilterRules: rules } } } : {}),
          };
        }),
      },
    }),
  );
}

/** `s3:ObjectCreated:*` on the bucket to the topic, as infra/storage.ts declares it; writing it again re-creates it. */
export async function putObjectCreatedNotification(
  s3: S3Client,
  bucket: string,
  topicArn: string,
  filter: { prefix?: string; suffix?: string } = {},
): Promise<void> {
  await putBucketTopicNotifications(s3, bucket, [
    { id: "image-pipeline", topicArn, events: ["s3:ObjectCreated:*"], filterPrefix: filter.prefix, filterSuffix: filter.suffix },
  ]);
}

/**
 * Ceph's extension `DELETE /<bucket>?notification[=<id>]` (no AWS SDK command exists for it): the SDK's
 * GetBucketNotificationConfiguration request, turned into a DELETE before it is signed.
 */
export async function deleteBucketNotification(s3: S3Client, bucket: string, id?: string): Promise<void> {
  const command = new GetBucketNotificationConfigurationCommand({ Bucket: bucket });
  command.middlewareStack.add(
    (next) => async (args) => {
      // The build step sees the unsigned HTTP request; signing comes later, so the DELETE is what gets signed.
      const request = args.request as { method: string; query: Record<string, string> };
      request.method = "DELETE";
      request.query = { notification: id ?? "" };
      return next(args);
    },
    { step: "build", name: "cephDeleteBucketNotification" },
  );
  await s3.send(command);
}
