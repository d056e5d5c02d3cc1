/**
 * One job: download the input, invert it, upload the output under a deterministic key, and record
 * the outcome (job state + event row) in one transaction.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config";
import { retryWhileUnavailable } from "./db/pool";
import type { WorkerMetrics } from "./metrics";
import { LeaseLostError, type EventRecord, type Job, type JobQueue } from "./queue";
import { StorageError, downloadObject, outputKeyFor, uploadObject } from "./storage";
import { TransformError, invertImage } from "./transform";

export type JobConfig = Pick<
  WorkerConfig,
  "outputBucket" | "outputPrefix" | "limitInputPixels" | "transformTimeoutMs" | "maxInputBytes" | "visibilityTimeoutSeconds"
>;

export interface JobDeps {
  readonly s3: S3Client;
  readonly queue: JobQueue;
  readonly config: JobConfig;
  readonly logger: Logger;
  readonly metrics?: WorkerMetrics;
}

/** Raised through the job when the worker is shutting down and the job should be handed back. */
export class ShutdownError extends Error {
  constructor() {
    super("worker is shutting down");
    this.name = "ShutdownError";
  }
}

export type JobOutcome = "processed" | "skipped" | "retry" | "dead" | "released" | "lease_lost";

interface FailureInfo {
  readonly message: string;
  readonly code: string;
  readonly permanent: boolean;
}

function failureOf(err: unknown): FailureInfo {
  if (err instanceof TransformError || err instanceof StorageError)
    return { message: err.message, code: err.code, permanent: err.permanent };
  return { message: err instanceof Error ? err.message : String(err), code: "internal", permanent: false };
}

/** Resolves with the promise, or rejects with the signal's reason as soon as it is aborted. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

const since = (t: number): number => Math.round((performance.now() - t) * 100) / 100;

export async function processJob(job: Job, signal: AbortSignal, deps: JobDeps): Promise<JobOutcome> {
  const { s3, queue, config, metrics } = deps;
  const log = deps.logger.child({ jobId: job.id, bucket: job.bucket, key: job.key, eTag: job.eTag, attempt: job.attempt });
  const startedAt = new Date();
  const partial: { -readonly [K in keyof EventRecord]?: EventRecord[K] } & { startedAt: Date } = { startedAt };
  // The result is recorded while the lease holds; a database blip is ridden out until then.
  const leaseDeadline = Date.now() + config.visibilityTimeoutSeconds * 1000;
  const record = <T>(fn: () => Promise<T>): Promise<T> =>
    retryWhileUnavailable(fn, leaseDeadline, (err) =>
      log.warn({ err: (err as Error).message }, "database unavailable while recording the result; retrying"),
    );

  try {
    let t = performance.now();
    const object = await downloadObject(s3, job.bucket, job.key, config.maxInputBytes, signal);
    partial.downloadMs = since(t);
    partial.inputBytes = object.body.length;
    metrics?.stage.observe({ stage: "download" }, partial.downloadMs / 1000);
    if (object.eTag && object.eTag !== job.eTag) {
      // The key was overwritten after this notification; the newer version has its own job.
      await record(() =>
        queue.complete(job, { ...partial, status: "skipped", errorCode: "superseded", error: `object now has eTag ${object.eTag}` }),
      );
      metrics?.skipped.inc({ code: "superseded" });
      log.info({ currentETag: object.eTag }, "skipped: object was replaced by a newer version");
      return "skipped";
    }

    t = performance.now();
    const result = await abortable(
      invertImage(object.body, { limitInputPixels: config.limitInputPixels, timeoutMs: config.transformTimeoutMs }),
      signal,
    );
    partial.transformMs = since(t);
    metrics?.stage.observe({ stage: "transform" }, partial.transformMs / 1000);

    const outputKey = outputKeyFor(job.key, config.outputPrefix);
    t = performance.now();
    await uploadObject(
      s3,
      {
        bucket: config.outputBucket,
        key: outputKey,
        body: result.data,
        contentType: result.contentType,
        metadata: { "source-bucket": job.bucket, "source-etag": job.eTag },
      },
      signal,
    );
    partial.uploadMs = since(t);
    metrics?.stage.observe({ stage: "upload" }, partial.uploadMs / 1000);

    await record(() =>
      queue.complete(job, {
        ...partial,
        status: "processed",
        outputBucket: config.outputBucket,
        outputKey,
        outputBytes: result.outputBytes,
        width: result.width,
        height: result.height,
        frames: result.frames,
        pixels: result.pixels,
        format: result.format,
      }),
    );
    metrics?.processed.inc({ format: result.format });
    metrics?.inputBytes.observe(result.inputBytes);
    log.info(
      {
        outputKey,
        format: result.format,
        inputBytes: result.inputBytes,
        outputBytes: result.outputBytes,
        pixels: result.pixels,
        downloadMs: partial.downloadMs,
        transformMs: partial.transformMs,
        uploadMs: partial.uploadMs,
      },
      "processed",
    );
    return "processed";
  } catch (err) {
    if (err instanceof LeaseLostError || signal.reason instanceof LeaseLostError) {
      log.warn("lease lost; another worker owns this job now, result discarded");
      return "lease_lost";
    }
    if (signal.reason instanceof ShutdownError) {
      const released = await queue.release(job).catch(() => false);
      log.info({ released }, "job handed back on shutdown");
      return "released";
    }
    if (err instanceof StorageError && err.code === "not_found") {
      await record(() =>
        queue.complete(job, { ...partial, status: "skipped", errorCode: "gone", error: "object was deleted before it was processed" }),
      );
      metrics?.skipped.inc({ code: "gone" });
      log.info("skipped: object no longer exists");
      return "skipped";
    }
    const failure = failureOf(err);
    metrics?.failed.inc({ code: failure.code });
    try {
      const status = await record(() => queue.fail(job, failure, partial));
      if (status === "dead") {
        metrics?.dead.inc({ code: failure.code });
        log.error({ err: failure.message, code: failure.code, permanent: failure.permanent }, "job dead-lettered");
        return "dead";
      }
      log.warn({ err: failure.message, code: failure.code }, "attempt failed; will retry");
      return "retry";
    } catch (recordErr) {
      if (recordErr instanceof LeaseLostError) return "lease_lost";
      // Left running: the lease runs out and the job is retried, which is what we wanted anyway.
      log.error({ err: (recordErr as Error).message, cause: failure.message }, "could not record the failure");
      return "retry";
    }
  }
}
