/**
 * A durable job queue in the pipeline's PostgreSQL (why not pg-boss or graphile-worker: docs/queue.md).
 * The SQL lives one operation per file in db/queue/; this class binds them to a pool and the options.
 *
 * - enqueue is idempotent per input version (bucket, key, eTag, mtime);
 * - claim uses FOR UPDATE SKIP LOCKED, hands out a lease (token + expiry), and runs at most one job per
 *   object at a time;
 * - a worker renews its lease while working; a lease that runs out makes the job claimable again (with a
 *   strike), which recovers work from crashed workers;
 * - completion, failure and the event-log row are written in one transaction, guarded by the lease;
 * - transient failures back off exponentially until the retry budget runs out; permanent ones go to 'dead'
 *   at once; suspect ones (the input may be to blame) after MAX_ATTEMPTS strikes.
 */
import type { Pool } from "pg";
import { backoffDelayMs } from "./backoff";
import type { WorkerConfig } from "./config";
import { claim } from "./db/queue/claim";
import { complete } from "./db/queue/complete";
import { listDead } from "./db/queue/dead-letters";
import { enqueue } from "./db/queue/enqueue";
import { enqueueStale, type ListedObject } from "./db/queue/enqueue-stale";
import { fail } from "./db/queue/fail";
import { getJob } from "./db/queue/get-job";
import type {
  DeadReason,
  EnqueueResult,
  EventRecord,
  Failure,
  Job,
  JobRow,
  JobSource,
  ObjectVersion,
  QueueOptions,
  QueueStats,
} from "./db/queue/job-types";
import { msUntilNextWake } from "./db/queue/next-wake";
import { recordOutputIntent } from "./db/queue/record-output-intent";
import { redrive } from "./db/queue/redrive";
import { release } from "./db/queue/release";
import { renewLease } from "./db/queue/renew-lease";
import { outstandingJobs } from "./db/queue/outstanding";
import { stats } from "./db/queue/stats";

export * from "./db/queue/job-types";
export type { ListedObject } from "./db/queue/enqueue-stale";

/** Exponential backoff with equal jitter: the n-th retry waits between d/2 and d, d = base * 2^(n-1), capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return backoffDelayMs(attempt - 1, { initialMs: baseMs, maxMs, jitter: true }, random);
}

/** The queue's options from the worker's configuration. */
export function queueOptions(
  c: Pick<WorkerConfig, "maxAttempts" | "visibilityTimeoutSeconds" | "retryBaseMs" | "retryMaxMs" | "retryBudgetSeconds">,
): QueueOptions {
  return {
    maxAttempts: c.maxAttempts,
    visibilityTimeoutSeconds: c.visibilityTimeoutSeconds,
    retryBaseMs: c.retryBaseMs,
    retryMaxMs: c.retryMaxMs,
    retryBudgetSeconds: c.retryBudgetSeconds,
  };
}

export class JobQueue {
  constructor(
    private readonly pool: Pool,
    readonly options: QueueOptions,
  ) {}

  /** Stores jobs for input versions not seen before. Safe to repeat: duplicates are counted, not added. */
  enqueue(objects: readonly ObjectVersion[], source: JobSource): Promise<EnqueueResult> {
    return enqueue(this.pool, objects, source, this.options.maxAttempts);
  }

  /** The reconciler's path: queues the listed inputs whose output is not current (see enqueueStale). */
  enqueueStale(bucket: string, listed: readonly ListedObject[]): Promise<EnqueueResult> {
    return enqueueStale(this.pool, bucket, listed, this.options.maxAttempts);
  }

  /** Claims up to `limit` jobs, at most one per object; expired leases are handled first. */
  claim(workerId: string, limit: number): Promise<Job[]> {
    return claim(this.pool, workerId, limit, this.options.visibilityTimeoutSeconds);
  }

  /** Extends the lease; false when it was lost (the caller must stop and discard its work). */
  renewLease(job: Job): Promise<boolean> {
    return renewLease(this.pool, job, this.options.visibilityTimeoutSeconds);
  }

  /** Records that the output is about to be made from this job's version, renewing the lease; LeaseLostError if gone. */
  recordOutputIntent(job: Job, output: { readonly bucket: string; readonly key: string }): Promise<void> {
    return recordOutputIntent(this.pool, job, output, this.options.visibilityTimeoutSeconds);
  }

  /** Marks the job done and writes its event row, atomically; throws LeaseLostError if the lease is gone. */
  complete(job: Job, event: EventRecord): Promise<void> {
    return complete(this.pool, job, event);
  }

  /** Records a failed attempt (retry, or dead-letter with an event row); returns the new status. */
  async fail(job: Job, failure: Failure, event: Omit<EventRecord, "status" | "error" | "errorCode">): Promise<"pending" | "dead"> {
    return (await this.failWithReason(job, failure, event)).status;
  }

  /** As fail, also saying why a dead-lettered job is dead. */
  failWithReason(
    job: Job,
    failure: Failure,
    event: Omit<EventRecord, "status" | "error" | "errorCode">,
  ): Promise<{ status: "pending" | "dead"; deadReason: DeadReason | null }> {
    const { retryBaseMs, retryMaxMs, retryBudgetSeconds } = this.options;
    return fail(this.pool, job, failure, event, { delayMs: retryDelayMs(job.attempt, retryBaseMs, retryMaxMs), retryBudgetSeconds });
  }

  /** Gives an unfinished job back without counting the attempt (graceful shutdown). */
  release(job: Job): Promise<boolean> {
    return release(this.pool, job);
  }

  /** Dead-lettered jobs, newest first, with the error that killed them. */
  listDead(limit = 100): Promise<JobRow[]> {
    return listDead(this.pool, limit);
  }

  /** Puts dead jobs back in the queue with fresh strikes and retry budget; ids omitted means all dead jobs. */
  redrive(ids?: readonly number[]): Promise<number> {
    return redrive(this.pool, ids);
  }

  getJob(id: number): Promise<JobRow | undefined> {
    return getJob(this.pool, id);
  }

  stats(): Promise<QueueStats> {
    return stats(this.pool);
  }

  /** Jobs that want a worker now (claimable or running): what the queue-depth autoscaler reads. */
  outstanding(): Promise<number> {
    return outstandingJobs(this.pool);
  }

  /** Milliseconds until the next job becomes claimable without a notification; null when nothing is scheduled. */
  msUntilNextWake(): Promise<number | null> {
    return msUntilNextWake(this.pool);
  }
}
