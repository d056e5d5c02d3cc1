import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import type { WorkerConfig } from "./config";
import { stripETagQuotes } from "./s3-event";

/** Called for every S3 request attempt that times out (the SDK retries once, so a call may report two). */
export type S3TimeoutListener = (operation: string, err: Error) => void;

/**
 * Path-style client for Ceph RGW. Checksums only when an operation requires them: Ceph Pacific
 * answers 411 to the SDK's default streaming (aws-chunked) checksums.
 *
 * Every request has a connection timeout and a request timeout (time to the response headers, which for
 * a PUT includes sending the body, and the longest silence while a response body streams); the SDK's
 * defaults have none, so a frozen server held every worker slot indefinitely. Callers combine these with
 * their job's abort signal.
 */
export function createS3Client(cfg: WorkerConfig["s3"], onTimeout?: S3TimeoutListener): S3Client {
  const client = new S3Client({
    endpoint: cfg.endpoint,
    region: cfg.region,
    forcePathStyle: cfg.forcePathStyle,
    credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: cfg.connectTimeoutMs,
      requestTimeout: cfg.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: cfg.requestTimeoutMs,
    },
  });
  if (onTimeout) {
    // In the deserialize step, inside the SDK's retry loop: every attempt's timeout is seen.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          if (isTimeout(err)) onTimeout(context.commandName ?? "unknown", err as Error);
          throw err;
        }
      },
      { step: "deserialize", name: "imagePipelineS3Timeouts" },
    );
  }
  return client;
}

function isTimeout(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === "TimeoutError";
}

export type StorageErrorCode =
  | "not_found"
  | "precondition_failed"
  | "too_large"
  | "storage_timeout"
  | "storage_unavailable"
  | "storage_error";

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
    if (err.name === "NoSuchKey" || err.name === "NotFound" || status === 404)
      return new StorageError("not_found", `${err.name}: ${err.message}`, true);
    if (err.name === "PreconditionFailed" || status === 412)
      return new StorageError("precondition_failed", `${err.name}: ${err.message}`, true);
    return new StorageError("storage_error", `S3 ${status ?? ""} ${err.name}: ${err.message}`.trim(), false);
  }
  const e = err as { name?: string; message?: string; code?: string };
  if (isTimeout(err)) return new StorageError("storage_timeout", `S3 timed out: ${e.message ?? ""}`.trim(), false);
  return new StorageError("storage_unavailable", `S3 unreachable: ${e.code ?? e.name ?? "error"} ${e.message ?? ""}`.trim(), false);
}

/** What the store says about the object's current version. */
export interface ObjectState {
  readonly eTag: string;
  /** Last-Modified (HTTP dates carry whole seconds). */
  readonly lastModified: Date | undefined;
}

export interface DownloadedObject extends ObjectState {
  readonly body: Buffer;
}

export interface ReadOptions {
  /** Only if the object still has this eTag: otherwise StorageError precondition_failed. */
  readonly ifMatch?: string;
  readonly abortSignal?: AbortSignal;
}

/** Downloads an object, refusing bodies above maxBytes before reading them. */
export async function downloadObject(
  client: S3Client,
  bucket: string,
  key: string,
  maxBytes: number,
  options: ReadOptions = {},
): Promise<DownloadedObject> {
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: quoted(options.ifMatch) }), {
      abortSignal: options.abortSignal,
    });
    if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new StorageError("too_large", `object is ${out.ContentLength} bytes, above MAX_INPUT_BYTES=${maxBytes}`, true);
    }
    const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    return {
      body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      eTag: stripETagQuotes(out.ETag ?? ""),
      lastModified: out.LastModified,
    };
  } catch (err) {
    throw describe(err);
  }
}

/** The object's current eTag and Last-Modified (HEAD), optionally conditional on its eTag. */
export async function headObject(client: S3Client, bucket: string, key: string, options: ReadOptions = {}): Promise<ObjectState> {
  try {
    const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, IfMatch: quoted(options.ifMatch) }), {
      abortSignal: options.abortSignal,
    });
    return { eTag: stripETagQuotes(out.ETag ?? ""), lastModified: out.LastModified };
  } catch (err) {
    throw describe(err);
  }
}

const quoted = (eTag: string | undefined): string | undefined => (eTag === undefined ? undefined : `"${eTag}"`);

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
