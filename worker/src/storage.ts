import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import type { WorkerConfig } from "./config";
import { stripETagQuotes } from "./s3-event";

/**
 * Path-style client for Ceph RGW. Checksums only when an operation requires them: Ceph Pacific
 * answers 411 to the SDK's default streaming (aws-chunked) checksums.
 */
export function createS3Client(cfg: WorkerConfig["s3"]): S3Client {
  return new S3Client({
    endpoint: cfg.endpoint,
    region: cfg.region,
    forcePathStyle: cfg.forcePathStyle,
    credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 2,
  });
}

export type StorageErrorCode = "not_found" | "too_large" | "storage_unavailable" | "storage_error";

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = "StorageError";
  }
}

function describe(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  if (err instanceof S3ServiceException) {
    const status = err.$metadata?.httpStatusCode;
    if (err.name === "NoSuchKey" || status === 404) return new StorageError("not_found", `${err.name}: ${err.message}`, true);
    return new StorageError("storage_error", `S3 ${status ?? ""} ${err.name}: ${err.message}`.trim(), false);
  }
  const e = err as { name?: string; message?: string; code?: string };
  return new StorageError("storage_unavailable", `S3 unreachable: ${e.code ?? e.name ?? "error"} ${e.message ?? ""}`.trim(), false);
}

export interface DownloadedObject {
  readonly body: Buffer;
  readonly eTag: string;
}

/** Downloads an object, refusing bodies above maxBytes before reading them. */
export async function downloadObject(
  client: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
  abortSignal?: AbortSignal,
): Promise<DownloadedObject> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
    if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new StorageError("too_large", `object is ${out.ContentLength} bytes, above MAX_INPUT_BYTES=${maxBytes}`, true);
    }
    const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    return { body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), eTag: stripETagQuotes(out.ETag ?? "") };
  } catch (err) {
    throw describe(err);
  }
}

export interface UploadRequest {
  readonly bucket: string;
  readonly key: string;
  readonly body: Buffer;
  readonly contentType: string;
  /** User metadata (x-amz-meta-*); values must be ASCII. */
  readonly metadata: Record<string, string>;
}

export async function uploadObject(client: S3Client, req: UploadRequest, abortSignal?: AbortSignal): Promise<void> {
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: req.bucket,
        Key: req.key,
        Body: req.body,
        ContentType: req.contentType,
        ContentLength: req.body.length,
        Metadata: req.metadata,
      }),
      { abortSignal },
    );
  } catch (err) {
    throw describe(err);
  }
}

/** Deterministic output location: a retried job overwrites its earlier output instead of adding one. */
export function outputKeyFor(inputKey: string, outputPrefix: string): string {
  return `${outputPrefix}${inputKey}`;
}
