import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { EVENTS, JOBS, mtimeOf, type Job, type RawJob } from "./job-types";

const UNIQUE_VIOLATION = "23505";

/**
 * Jobs whose lease ran out (their worker died, hung or lost the database) go back to pending with a strike;
 * out of strikes, they are dead-lettered with an event row. A crash-looping input (e.g. one that runs the
 * worker out of memory) ends here instead of taking workers down forever.
 */
async function expireLeases(pool: Pool, workerId: string): Promise<void> {
  await pool.query(
    `WITH expired AS (
       SELECT id FROM ${JOBS} WHERE status = 'running' AND locked_until < now() FOR UPDATE SKIP LOCKED),
     moved AS (
       UPDATE ${JOBS} j SET
         strikes = j.strikes + 1,
         status = CASE WHEN j.strikes + 1 >= j.max_attempts THEN 'dead' ELSE 'pending' END,
         dead_reason = CASE WHEN j.strikes + 1 >= j.max_attempts THEN 'strikes' END,
         error_code = 'lease_expired',
         last_error = 'worker lease expired (the worker crashed, hung or lost the database; e.g. out of memory)',
         run_after = now(), locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now(),
         finished_at = CASE WHEN j.strikes + 1 >= j.max_attempts THEN now() END
       FROM expired WHERE j.id = expired.id
       RETURNING j.*)
     INSERT INTO ${EVENTS} (job_id, input_bucket, input_key, input_etag, input_mtime, worker_id, attempt, status, error, error_code, started_at)
     SELECT id, bucket, object_key, etag, mtime, $1, attempts, 'failed', last_error, error_code, updated_at FROM moved WHERE status = 'dead'
     ON CONFLICT ON CONSTRAINT events_object_version DO UPDATE SET
       job_id = EXCLUDED.job_id, status = EXCLUDED.status, error = EXCLUDED.error, error_code = EXCLUDED.error_code,
       worker_id = EXCLUDED.worker_id, attempt = EXCLUDED.attempt, finished_at = now()`,
    [workerId],
  );
}

/**
 * Claims up to `limit` pending jobs whose time has come, at most one per object: a job is claimable only
 * when no job of the same object is running and no older one of it is claimable (FIFO per object). The
 * unique index jobs_one_running_per_object enforces the rule against concurrent claimers; the loser of
 * such a race retries.
 *
 * Two statements, two round trips, no BEGIN/COMMIT: each statement is atomic on its own, and the claim,
 * sent after the expiry committed, sees the jobs it put back. Nothing ties the two together: leases that
 * ran out are expired correctly whether or not the claim that follows succeeds.
 */
export async function claim(pool: Pool, workerId: string, limit: number, visibilityTimeoutSeconds: number): Promise<Job[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await claimOnce(pool, workerId, limit, visibilityTimeoutSeconds);
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 3) throw err;
    }
  }
}

async function claimOnce(pool: Pool, workerId: string, limit: number, visibilityTimeoutSeconds: number): Promise<Job[]> {
  await expireLeases(pool, workerId);
  const leaseToken = randomUUID();
  const { rows } = await pool.query<RawJob>(
    `WITH next AS (
       SELECT id FROM ${JOBS} j
       WHERE j.status = 'pending' AND j.run_after <= now()
         AND NOT EXISTS (
           SELECT 1 FROM ${JOBS} r WHERE r.bucket = j.bucket AND r.object_key = j.object_key AND r.status = 'running')
         AND NOT EXISTS (
           SELECT 1 FROM ${JOBS} o WHERE o.bucket = j.bucket AND o.object_key = j.object_key
             AND o.status = 'pending' AND o.run_after <= now() AND o.id < j.id)
       ORDER BY j.run_after, j.id
       LIMIT $1
       FOR UPDATE SKIP LOCKED)
     UPDATE ${JOBS} j
     SET status = 'running', attempts = j.attempts + 1, locked_by = $2, lease_token = $3,
         locked_until = now() + make_interval(secs => $4), updated_at = now()
     FROM next WHERE j.id = next.id
     RETURNING j.*`,
    [limit, workerId, leaseToken, visibilityTimeoutSeconds],
  );
  return rows
    .map((r) => ({
      id: Number(r.id),
      bucket: r.bucket,
      key: r.object_key,
      eTag: r.etag,
      mtime: mtimeOf(r.mtime),
      size: r.size_bytes === null ? null : Number(r.size_bytes),
      source: r.source,
      attempt: r.attempts,
      maxAttempts: r.max_attempts,
      leaseToken,
      lockedBy: workerId,
    }))
    .sort((a, b) => a.id - b.id);
}
