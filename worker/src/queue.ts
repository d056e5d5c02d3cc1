/**
 * A durable job queue in the pipeline's PostgreSQL (why not pg-boss or graphile-worker: docs/queue.md).
 *
 * - enqueue is idempotent per object version (bucket, key, eTag);
 * - claim uses FOR UPDATE SKIP LOCKED and hands out a lease (token + expiry);
 * - a worker renews its lease while working; a lease that runs out makes the job claimable again,
 *   which recovers work from crashed workers;
 * - completion, failure and the event-log row are written in one transaction, guarded by the lease;
 * - transient failures back off exponentially, permanent ones and exhausted attempts go to 'dead'.
 */
import { backoffDelayMs } from "./backoff";
import { randomUUID } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import { SCHEMA } from "./db/migrations";
import { inTransaction } from "./db/pool";

export interface ObjectVersion {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
  readonly size?: number | null;
}

export type JobSource = "notification" | "reconciler";
export type JobStatus = "pending" | "running" | "done" | "dead";

export interface Job {
  readonly id: number;
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
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
  readonly status: JobStatus;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly runAfter: Date;
  readonly lockedBy: string | null;
  readonly lastError: string | null;
  readonly errorCode: string | null;
  readonly source: JobSource;
  readonly updatedAt: Date;
}

/** What the event log records about one processed input; written with the job's final state. */
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
  readonly maxAttempts: number;
  readonly visibilityTimeoutSeconds: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

/** The queue options the worker's environment sets (MAX_ATTEMPTS, VISIBILITY_TIMEOUT_SECONDS, RETRY_*_MS). */
export function queueOptions(config: QueueOptions): QueueOptions {
  const { maxAttempts, visibilityTimeoutSeconds, retryBaseMs, retryMaxMs } = config;
  return { maxAttempts, visibilityTimeoutSeconds, retryBaseMs, retryMaxMs };
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
  readonly oldestPendingSeconds: number;
}

/** The job's lease was lost (expired and taken by another worker, or released): its result is discarded. */
export class LeaseLostError extends Error {
  constructor(jobId: number) {
    super(`lease on job ${jobId} was lost; another worker owns it now`);
    this.name = "LeaseLostError";
  }
}

/** Exponential backoff with equal jitter: the n-th retry waits between d/2 and d, d = base * 2^(n-1), capped. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return backoffDelayMs(attempt - 1, { initialMs: baseMs, maxMs, jitter: true }, random);
}

const T = `${SCHEMA}.jobs`;
const E = `${SCHEMA}.events`;

interface RawJob {
  id: string;
  bucket: string;
  object_key: string;
  etag: string;
  size_bytes: string | null;
  source: JobSource;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_after: Date;
  locked_by: string | null;
  lease_token: string | null;
  last_error: string | null;
  error_code: string | null;
  updated_at: Date;
}

function toRow(r: RawJob): JobRow {
  return {
    id: Number(r.id),
    bucket: r.bucket,
    key: r.object_key,
    eTag: r.etag,
    status: r.status,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    runAfter: r.run_after,
    lockedBy: r.locked_by,
    lastError: r.last_error,
    errorCode: r.error_code,
    source: r.source,
    updatedAt: r.updated_at,
  };
}

export class JobQueue {
  constructor(
    private readonly pool: Pool,
    readonly options: QueueOptions,
  ) {}

  /** Stores jobs for object versions not seen before. Safe to repeat: duplicates are counted, not added. */
  async enqueue(objects: readonly ObjectVersion[], source: JobSource): Promise<EnqueueResult> {
    if (objects.length === 0) return { inserted: 0, duplicates: 0 };
    const { rowCount } = await this.pool.query(
      `INSERT INTO ${T} (bucket, object_key, etag, size_bytes, source, max_attempts)
       SELECT b, k, e, s, $5, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS o(b, k, e, s)
       ORDER BY k
       ON CONFLICT ON CONSTRAINT jobs_object_version DO NOTHING`,
      [
        objects.map((o) => o.bucket),
        objects.map((o) => o.key),
        objects.map((o) => o.eTag),
        objects.map((o) => o.size ?? null),
        source,
        this.options.maxAttempts,
      ],
    );
    const inserted = rowCount ?? 0;
    return { inserted, duplicates: objects.length - inserted };
  }

  /**
   * Enqueues the listed objects of one bucket that have no event row yet: the reconciler's path,
   * which must not re-run work already logged (done, failed or skipped) even if its job was pruned.
   */
  async enqueueUnlogged(bucket: string, objects: readonly { key: string; eTag: string; size?: number | null }[]): Promise<EnqueueResult> {
    if (objects.length === 0) return { inserted: 0, duplicates: 0 };
    const { rowCount } = await this.pool.query(
      `INSERT INTO ${T} (bucket, object_key, etag, size_bytes, source, max_attempts)
       SELECT $1, o.k, o.e, o.s, 'reconciler', $5
       FROM unnest($2::text[], $3::text[], $4::bigint[]) AS o(k, e, s)
       WHERE NOT EXISTS (SELECT 1 FROM ${E} ev WHERE ev.input_bucket = $1 AND ev.input_key = o.k AND ev.input_etag = o.e)
       ORDER BY o.k
       ON CONFLICT ON CONSTRAINT jobs_object_version DO NOTHING`,
      [bucket, objects.map((o) => o.key), objects.map((o) => o.eTag), objects.map((o) => o.size ?? null), this.options.maxAttempts],
    );
    const inserted = rowCount ?? 0;
    return { inserted, duplicates: objects.length - inserted };
  }

  /**
   * Claims up to `limit` jobs: pending ones whose time has come, and running ones whose lease ran
   * out (their worker died). Jobs whose lease ran out on the last attempt are dead-lettered first.
   */
  async claim(workerId: string, limit: number): Promise<Job[]> {
    return inTransaction(this.pool, async (client) => {
      await this.deadLetterExpired(client, workerId);
      const leaseToken = randomUUID();
      const { rows } = await client.query<RawJob>(
        `WITH next AS (
           SELECT id FROM ${T}
           WHERE (status = 'pending' AND run_after <= now())
              OR (status = 'running' AND locked_until < now())
           ORDER BY run_after, id
           LIMIT $1
           FOR UPDATE SKIP LOCKED)
         UPDATE ${T} j
         SET status = 'running', attempts = j.attempts + 1, locked_by = $2, lease_token = $3,
             locked_until = now() + make_interval(secs => $4), updated_at = now()
         FROM next WHERE j.id = next.id
         RETURNING j.*`,
        [limit, workerId, leaseToken, this.options.visibilityTimeoutSeconds],
      );
      return rows
        .map((r) => ({
          id: Number(r.id),
          bucket: r.bucket,
          key: r.object_key,
          eTag: r.etag,
          size: r.size_bytes === null ? null : Number(r.size_bytes),
          source: r.source,
          attempt: r.attempts,
          maxAttempts: r.max_attempts,
          leaseToken,
          lockedBy: workerId,
        }))
        .sort((a, b) => a.id - b.id);
    });
  }

  private async deadLetterExpired(client: PoolClient, workerId: string): Promise<void> {
    await client.query(
      `WITH expired AS (
         SELECT id FROM ${T}
         WHERE status = 'running' AND locked_until < now() AND attempts >= max_attempts
         FOR UPDATE SKIP LOCKED),
       dead AS (
         UPDATE ${T} j SET status = 'dead', error_code = 'lease_expired',
           last_error = 'worker lease expired on the last attempt (worker crashed or hung; e.g. out of memory)',
           locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now(), finished_at = now()
         FROM expired WHERE j.id = expired.id
         RETURNING j.*)
       INSERT INTO ${E} (job_id, input_bucket, input_key, input_etag, worker_id, attempt, status, error, error_code, started_at)
       SELECT id, bucket, object_key, etag, $1, attempts, 'failed', last_error, error_code, updated_at FROM dead
       ON CONFLICT ON CONSTRAINT events_object_version DO UPDATE SET
         job_id = EXCLUDED.job_id, status = EXCLUDED.status, error = EXCLUDED.error, error_code = EXCLUDED.error_code,
         worker_id = EXCLUDED.worker_id, attempt = EXCLUDED.attempt, finished_at = now()`,
      [workerId],
    );
  }

  /** Extends the lease; false when it was lost (the caller must stop and discard its work). */
  async renewLease(job: Job): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE ${T} SET locked_until = now() + make_interval(secs => $3), updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
      [job.id, job.leaseToken, this.options.visibilityTimeoutSeconds],
    );
    return rowCount === 1;
  }

  /** Marks the job done and writes its event row, atomically; throws LeaseLostError if the lease is gone. */
  async complete(job: Job, event: EventRecord): Promise<void> {
    await this.finish(job, event, `status = 'done', last_error = NULL, error_code = NULL, finished_at = now()`, []);
  }

  /**
   * Records a failed attempt. Permanent errors and the last attempt dead-letter the job (with an
   * event row); other failures reschedule it after an exponential backoff. Returns the new status.
   */
  async fail(
    job: Job,
    error: { message: string; code: string; permanent: boolean },
    event: Omit<EventRecord, "status" | "error" | "errorCode">,
  ): Promise<"pending" | "dead"> {
    if (error.permanent || job.attempt >= job.maxAttempts) {
      await this.finish(
        job,
        { ...event, status: "failed", error: error.message, errorCode: error.code },
        `status = 'dead', last_error = $3, error_code = $4, finished_at = now()`,
        [error.message, error.code],
      );
      return "dead";
    }
    const delay = retryDelayMs(job.attempt, this.options.retryBaseMs, this.options.retryMaxMs);
    const { rowCount } = await this.pool.query(
      `UPDATE ${T} SET status = 'pending', run_after = now() + make_interval(secs => $3), last_error = $4, error_code = $5,
         locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
      [job.id, job.leaseToken, delay / 1000, error.message, error.code],
    );
    if (rowCount !== 1) throw new LeaseLostError(job.id);
    return "pending";
  }

  /** Gives an unfinished job back without counting the attempt (graceful shutdown). */
  async release(job: Job): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE ${T} SET status = 'pending', attempts = greatest(attempts - 1, 0), run_after = now(),
         locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
      [job.id, job.leaseToken],
    );
    return rowCount === 1;
  }

  private async finish(job: Job, event: EventRecord, setJob: string, extra: unknown[]): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE ${T} SET ${setJob}, locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now()
         WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
        [job.id, job.leaseToken, ...extra],
      );
      if (rowCount !== 1) throw new LeaseLostError(job.id);
      await client.query(
        `INSERT INTO ${E} (job_id, input_bucket, input_key, input_etag, output_bucket, output_key, input_bytes, output_bytes,
           width, height, frames, pixels, format, download_ms, transform_ms, upload_ms, worker_id, attempt, status, error, error_code, started_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
         ON CONFLICT ON CONSTRAINT events_object_version DO UPDATE SET
           job_id = EXCLUDED.job_id, output_bucket = EXCLUDED.output_bucket, output_key = EXCLUDED.output_key,
           input_bytes = EXCLUDED.input_bytes, output_bytes = EXCLUDED.output_bytes, width = EXCLUDED.width,
           height = EXCLUDED.height, frames = EXCLUDED.frames, pixels = EXCLUDED.pixels, format = EXCLUDED.format,
           download_ms = EXCLUDED.download_ms, transform_ms = EXCLUDED.transform_ms, upload_ms = EXCLUDED.upload_ms,
           worker_id = EXCLUDED.worker_id, attempt = EXCLUDED.attempt, status = EXCLUDED.status, error = EXCLUDED.error,
           error_code = EXCLUDED.error_code, started_at = EXCLUDED.started_at, finished_at = now()`,
        [
          job.id,
          job.bucket,
          job.key,
          job.eTag,
          event.outputBucket ?? null,
          event.outputKey ?? null,
          event.inputBytes ?? null,
          event.outputBytes ?? null,
          event.width ?? null,
          event.height ?? null,
          event.frames ?? null,
          event.pixels ?? null,
          event.format ?? null,
          event.downloadMs ?? null,
          event.transformMs ?? null,
          event.uploadMs ?? null,
          job.lockedBy,
          job.attempt,
          event.status,
          event.error ?? null,
          event.errorCode ?? null,
          event.startedAt,
        ],
      );
    });
  }

  /** Dead-lettered jobs, newest first, with the error that killed them. */
  async listDead(limit = 100): Promise<JobRow[]> {
    const { rows } = await this.pool.query<RawJob>(`SELECT * FROM ${T} WHERE status = 'dead' ORDER BY updated_at DESC, id DESC LIMIT $1`, [
      limit,
    ]);
    return rows.map(toRow);
  }

  /** Puts dead jobs back in the queue with a fresh attempt budget; ids omitted means all dead jobs. */
  async redrive(ids?: readonly number[]): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE ${T} SET status = 'pending', attempts = 0, run_after = now(), finished_at = NULL, updated_at = now()
       WHERE status = 'dead' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))`,
      [ids ? ids.map(String) : null],
    );
    return rowCount ?? 0;
  }

  async getJob(id: number): Promise<JobRow | undefined> {
    const { rows } = await this.pool.query<RawJob>(`SELECT * FROM ${T} WHERE id = $1`, [id]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  async stats(): Promise<QueueStats> {
    const { rows } = await this.pool.query<{ status: JobStatus; n: string; oldest: number | null }>(
      `SELECT status, count(*) AS n,
              extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending'))::float8 AS oldest
       FROM ${T} GROUP BY status`,
    );
    const by = (s: JobStatus): number => Number(rows.find((r) => r.status === s)?.n ?? 0);
    return {
      pending: by("pending"),
      running: by("running"),
      done: by("done"),
      dead: by("dead"),
      oldestPendingSeconds: rows.find((r) => r.status === "pending")?.oldest ?? 0,
    };
  }

  /**
   * Milliseconds until the next job becomes claimable without a notification (a backoff ending, a
   * lease running out), measured on the database clock; null when nothing is scheduled.
   */
  async msUntilNextWake(): Promise<number | null> {
    const { rows } = await this.pool.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM least(
         (SELECT min(run_after) FROM ${T} WHERE status = 'pending'),
         (SELECT min(locked_until) FROM ${T} WHERE status = 'running')) - now()) * 1000)::float8 AS ms`,
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Math.max(0, ms);
  }
}
