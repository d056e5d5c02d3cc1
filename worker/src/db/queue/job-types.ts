/**
 * The queue's rows and values, shared by the one-operation-per-file SQL in this directory and by
 * JobQueue (worker/src/queue.ts).
 */
import { SCHEMA } from "../migrations";

export const JOBS = `${SCHEMA}.jobs`;
export const EVENTS = `${SCHEMA}.events`;
export const OUTPUTS = `${SCHEMA}.outputs`;

/**
 * One version of an input object: its eTag (the content) and its modification time as the store reports
 * it (RGW's notification eventTime, the listing's LastModified). `mtime` null means unknown (rows written
 * before versions were recorded); such versions are compared by eTag alone.
 */
export interface ObjectVersion {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
  readonly mtime: Date | null;
  readonly size?: number | null;
}

export type JobSource = "notification" | "reconciler";
export type JobStatus = "pending" | "running" | "done" | "dead";
export type DeadReason = "permanent" | "retry_budget" | "strikes";

/**
 * How a failed attempt counts:
 * - permanent: the input can never be processed (undecodable, over the pixel limit): dead at once;
 * - transient: the environment failed (S3 or the database unavailable, 5xx, timeouts): retried with capped
 *   backoff until the job's retry budget (RETRY_BUDGET_SECONDS from its first transient failure) runs out;
 * - suspect: the input itself may be to blame (the transform timed out, an unexpected error, the worker
 *   died holding it): a strike; MAX_ATTEMPTS strikes dead-letter the job.
 */
export type FailureKind = "permanent" | "transient" | "suspect";

export interface Failure {
  readonly message: string;
  readonly code: string;
  readonly kind: FailureKind;
}

export interface Job extends ObjectVersion {
  readonly id: number;
  readonly size: number | null;
  readonly source: JobSource;
  /** Attempt number of this claim, starting at 1. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly leaseToken: string;
  readonly lockedBy: string;
}

export interface JobRow {
  readonly id: number;
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
  readonly mtime: Date | null;
  readonly status: JobStatus;
  readonly attempts: number;
  readonly strikes: number;
  readonly maxAttempts: number;
  readonly runAfter: Date;
  readonly retryUntil: Date | null;
  readonly lockedBy: string | null;
  readonly lastError: string | null;
  readonly errorCode: string | null;
  readonly deadReason: DeadReason | null;
  readonly source: JobSource;
  readonly updatedAt: Date;
}

/** What the event log records about one processed input version; written with the job's final state. */
export interface EventRecord {
  readonly status: "processed" | "failed" | "skipped";
  readonly outputBucket?: string;
  readonly outputKey?: string;
  readonly inputBytes?: number;
  readonly outputBytes?: number;
  readonly width?: number;
  readonly height?: number;
  readonly frames?: number;
  readonly pixels?: number;
  readonly format?: string;
  readonly downloadMs?: number;
  readonly transformMs?: number;
  readonly uploadMs?: number;
  readonly error?: string;
  readonly errorCode?: string;
  readonly startedAt: Date;
}

export interface QueueOptions {
  /** Strikes (suspect failures, expired leases) before a job is dead-lettered. */
  readonly maxAttempts: number;
  readonly visibilityTimeoutSeconds: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** How long transient failures are retried, from the job's first one. */
  readonly retryBudgetSeconds: number;
}

export interface EnqueueResult {
  readonly inserted: number;
  readonly duplicates: number;
}

export interface QueueStats {
  readonly pending: number;
  readonly running: number;
  readonly done: number;
  readonly dead: number;
  readonly deadByReason: Readonly<Record<DeadReason, number>>;
  readonly oldestPendingSeconds: number;
}

/** The job's lease was lost (expired and taken by another worker, or released): its result is discarded. */
export class LeaseLostError extends Error {
  constructor(jobId: number) {
    super(`lease on job ${jobId} was lost; another worker owns it now`);
    this.name = "LeaseLostError";
  }
}

/** The SQL value of a version's mtime: '-infinity' stands for unknown. */
export function mtimeParam(mtime: Date | null): string {
  return mtime ? mtime.toISOString() : "-infinity";
}

/** node-postgres returns -Infinity for '-infinity'. */
export function mtimeOf(value: unknown): Date | null {
  return value instanceof Date ? value : null;
}

export interface RawJob {
  id: string;
  bucket: string;
  object_key: string;
  etag: string;
  mtime: Date | number;
  size_bytes: string | null;
  source: JobSource;
  status: JobStatus;
  attempts: number;
  strikes: number;
  max_attempts: number;
  run_after: Date;
  retry_until: Date | null;
  locked_by: string | null;
  lease_token: string | null;
  last_error: string | null;
  error_code: string | null;
  dead_reason: DeadReason | null;
  updated_at: Date;
}

export function toJobRow(r: RawJob): JobRow {
  return {
    id: Number(r.id),
    bucket: r.bucket,
    key: r.object_key,
    eTag: r.etag,
    mtime: mtimeOf(r.mtime),
    status: r.status,
    attempts: r.attempts,
    strikes: r.strikes,
    maxAttempts: r.max_attempts,
    runAfter: r.run_after,
    retryUntil: r.retry_until,
    lockedBy: r.locked_by,
    lastError: r.last_error,
    errorCode: r.error_code,
    deadReason: r.dead_reason,
    source: r.source,
    updatedAt: r.updated_at,
  };
}
