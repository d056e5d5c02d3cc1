/**
 * One job: download the input, invert it, upload the output under a deterministic key, and record the
 * outcome (job state + event row) in one transaction.
 *
 * The newest version of every object wins: the job processes exactly its own version (eTag and mtime) and
 * checks, when it downloads, before it uploads and before it completes, that the input is still that
 * version. If it is not, the job ends `superseded` and uploads nothing (or, when the input changed during
 * the upload, leaves an output the newer version's job replaces: only one job per object runs at a time,
 * so that job runs after this one). The output's metadata names the version it was made from.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config";
import { isConnectionError, retryWhileUnavailable } from "./db/pool";
import { LeaseClock } from "./lease-clock";
import type { WorkerMetrics } from "./metrics";
import { LeaseLostError, type EventRecord, type Failure, type Job, type JobQueue } from "./queue";
import { StorageError, downloadObject, headObject, outputKeyFor, uploadObject, type ObjectState } from "./storage";
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

/** The output metadata naming the input version an output was made from. */
export function sourceMetadata(job: Job): Record<string, string> {
  return {
    "source-bucket": job.bucket,
    "source-etag": job.eTag,
    // The input's mtime, as in the notification's eventTime or the listing's LastModified.
    "source-version": job.mtime ? job.mtime.toISOString() : "unknown",
  };
}

/**
 * Why the object is no longer the job's version, or undefined when it is: another eTag, or a
 * Last-Modified later than the job's mtime (to the second, the precision of HTTP dates): the same
 * content uploaded again, which has its own job.
 */
export function versionMismatch(job: Job, state: ObjectState): string | undefined {
  if (state.eTag && state.eTag !== job.eTag) return `object now has eTag ${state.eTag}`;
  if (job.mtime && state.lastModified && Math.floor(state.lastModified.getTime() / 1000) > Math.floor(job.mtime.getTime() / 1000))
    return `object was uploaded again at ${state.lastModified.toISOString()}`;
  return undefined;
}

function failureOf(err: unknown): Failure {
  if (err instanceof TransformError) return { message: err.message, code: err.code, kind: err.permanent ? "permanent" : "suspect" };
  if (err instanceof StorageError) return { message: err.message, code: err.code, kind: err.permanent ? "permanent" : "transient" };
  const message = err instanceof Error ? err.message : String(err);
  if (isConnectionError(err)) return { message, code: "database_unavailable", kind: "transient" };
  return { message, code: "internal", kind: "suspect" };
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

class Superseded extends Error {}

const since = (t: number): number => Math.round((performance.now() - t) * 100) / 100;

export async function processJob(job: Job, signal: AbortSignal, deps: JobDeps, lease?: LeaseClock): Promise<JobOutcome> {
  const { s3, queue, config, metrics } = deps;
  const log = deps.logger.child({
    jobId: job.id,
    bucket: job.bucket,
    key: job.key,
    eTag: job.eTag,
    version: job.mtime?.toISOString(),
    attempt: job.attempt,
  });
  const leaseClock = lease ?? new LeaseClock(config.visibilityTimeoutSeconds * 1000);
  const startedAt = new Date();
  const partial: { -readonly [K in keyof EventRecord]?: EventRecord[K] } & { startedAt: Date } = { startedAt };
  // The result is recorded while the lease holds; a database blip is ridden out until then.
  const record = <T>(fn: () => Promise<T>): Promise<T> =>
    retryWhileUnavailable(fn, Date.now() + Math.max(0, leaseClock.remainingMs()), (err) =>
      log.warn({ err }, "database unavailable while recording the result; retrying"),
    );
  /** Throws Superseded when the input is no longer this job's version (HEAD, conditional on the eTag). */
  const checkStillCurrent = async (stage: string): Promise<void> => {
    let state: ObjectState;
    try {
      state = await headObject(s3, job.bucket, job.key, { ifMatch: job.eTag, abortSignal: signal });
    } catch (err) {
      if (err instanceof StorageError && err.code === "precondition_failed")
        throw new Superseded(`${stage}: object no longer has eTag ${job.eTag}`);
      throw err;
    }
    const mismatch = versionMismatch(job, state);
    if (mismatch) throw new Superseded(`${stage}: ${mismatch}`);
  };

  try {
    let t = performance.now();
    let object;
    try {
      object = await downloadObject(s3, job.bucket, job.key, config.maxInputBytes, { ifMatch: job.eTag, abortSignal: signal });
    } catch (err) {
      if (err instanceof StorageError && err.code === "precondition_failed")
        throw new Superseded(`download: object no longer has eTag ${job.eTag}`);
      throw err;
    }
    partial.downloadMs = since(t);
    partial.inputBytes = object.body.length;
    metrics?.stage.observe({ stage: "download" }, partial.downloadMs / 1000);
    const mismatch = versionMismatch(job, object);
    if (mismatch) throw new Superseded(`download: ${mismatch}`);

    t = performance.now();
    const result = await abortable(
      invertImage(object.body, { limitInputPixels: config.limitInputPixels, timeoutMs: config.transformTimeoutMs }),
      signal,
    );
    partial.transformMs = since(t);
    metrics?.stage.observe({ stage: "transform" }, partial.transformMs / 1000);

    await checkStillCurrent("before upload");
    const outputKey = outputKeyFor(job.key, config.outputPrefix);
    const intentSentAt = Date.now();
    await record(() => queue.recordOutputIntent(job, { bucket: config.outputBucket, key: outputKey }));
    leaseClock.renewed(intentSentAt);
    // The upload must end while the lease is certainly ours: later, another worker may own the job.
    const uploadDeadline = AbortSignal.timeout(Math.max(1, leaseClock.remainingMs()));
    t = performance.now();
    await uploadObject(
      s3,
      {
        bucket: config.outputBucket,
        key: outputKey,
        body: result.data,
        contentType: result.contentType,
        metadata: sourceMetadata(job),
      },
      AbortSignal.any([signal, uploadDeadline]),
    );
    partial.uploadMs = since(t);
    metrics?.stage.observe({ stage: "upload" }, partial.uploadMs / 1000);
    // The output now holds this version; if the input changed meanwhile, the newer version's job (next for
    // this object) replaces it, and until then the output is recorded as unconfirmed.
    await checkStillCurrent("before completing");

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
    try {
      if (err instanceof Superseded) {
        await record(() => queue.complete(job, { ...partial, status: "skipped", errorCode: "superseded", error: err.message }));
        metrics?.skipped.inc({ code: "superseded" });
        log.info({ reason: err.message }, "superseded: the input is no longer this version; a newer version's job handles it");
        return "skipped";
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
      const { status, deadReason } = await record(() => queue.failWithReason(job, failure, partial));
      if (status === "dead") {
        metrics?.dead.inc({ code: failure.code });
        log.error({ err, code: failure.code, kind: failure.kind, deadReason }, "job dead-lettered");
        return "dead";
      }
      log.warn({ err, code: failure.code, kind: failure.kind }, "attempt failed; will retry");
      return "retry";
    } catch (recordErr) {
      if (recordErr instanceof LeaseLostError) return "lease_lost";
      // Left running: the lease runs out and the job is retried, which is what we wanted anyway.
      // The attempt's own error as plain fields: pino's err serializer only formats the `err` key.
      log.error({ err: recordErr, failure: failureOf(err) }, "could not record the outcome");
      return "retry";
    }
  }
}
