/** The S3 calls verify makes against the stack's object store: put, wait for an output, fetch it, clean up. */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { VerifyTarget } from "./outputs";

export function s3ClientFor(t: VerifyTarget): S3Client {
  return new S3Client({
    endpoint: t.s3Endpoint,
    region: t.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId: t.s3AccessKeyId, secretAccessKey: t.s3SecretAccessKey },
    // Ceph RGW and s3rver do not implement the SDK's default CRC32 trailers.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export const unquote = (eTag: string | undefined): string | undefined => eTag?.replace(/^"(.*)"$/, "$1");

export interface PutResult {
  readonly eTag?: string;
  readonly versionId?: string;
}

export async function putObject(s3: S3Client, bucket: string, key: string, body: Buffer, contentType: string): Promise<PutResult> {
  const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  return { eTag: unquote(out.ETag), versionId: out.VersionId };
}

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly metadata: Record<string, string>;
}

export async function getObject(s3: S3Client, bucket: string, key: string): Promise<StoredObject | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { body: Buffer.from(await out.Body!.transformToByteArray()), contentType: out.ContentType, metadata: out.Metadata ?? {} };
  } catch (err) {
    if (
      (err as { name?: string }).name === "NoSuchKey" ||
      (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
    )
      return undefined;
    throw err;
  }
}

export async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Deletes every object under the prefix; returns how many. */
export async function deletePrefix(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  const keys = await listKeys(s3, bucket, prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
    );
  }
  return keys.length;
}
