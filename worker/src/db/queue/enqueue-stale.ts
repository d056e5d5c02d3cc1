import type { Pool } from "pg";
import { JOBS, OUTPUTS, type EnqueueResult } from "./job-types";

export interface ListedObject {
  readonly key: string;
  readonly eTag: string;
  /** LastModified from the listing. */
  readonly mtime: Date;
  readonly size?: number | null;
}

/**
 * The reconciler's enqueue: for each listed input, queues its current version unless
 * - a pending or running job will process that version (same eTag, an mtime not older to the second), or
 * - its output is current: recorded as made from the same eTag and an mtime not older to the second
 *   (listings and HTTP dates give whole seconds on some stores), or
 * - that content cannot be processed (dead with a permanent error or out of strikes; `redrive` re-queues it).
 * So it recovers lost notifications, outputs made from an older version (an A-B-A re-upload whose last
 * notification was lost), outputs a crashed or superseded job may have left behind, and jobs whose retry
 * budget ran out during a long outage. A finished job of the same version is put back to pending.
 */
export async function enqueueStale(
  pool: Pool,
  bucket: string,
  listed: readonly ListedObject[],
  maxAttempts: number,
): Promise<EnqueueResult> {
  if (listed.length === 0) return { inserted: 0, duplicates: 0 };
  const { rowCount } = await pool.query(
    `WITH listed AS (
       SELECT k, e, m, s FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::bigint[]) AS l(k, e, m, s)),
     stale AS (
       SELECT l.* FROM listed l
       WHERE NOT EXISTS (
           SELECT 1 FROM ${JOBS} j
           WHERE j.bucket = $1 AND j.object_key = l.k AND j.etag = l.e AND j.status IN ('pending', 'running')
             AND (j.mtime = '-infinity' OR date_trunc('second', j.mtime) >= date_trunc('second', l.m)))
         AND NOT EXISTS (
           SELECT 1 FROM ${OUTPUTS} o
           WHERE o.input_bucket = $1 AND o.input_key = l.k AND o.state = 'current' AND o.source_etag = l.e
             AND (o.source_mtime = '-infinity' OR date_trunc('second', o.source_mtime) >= date_trunc('second', l.m)))
         AND NOT EXISTS (
           SELECT 1 FROM ${JOBS} j
           WHERE j.bucket = $1 AND j.object_key = l.k AND j.etag = l.e AND j.status = 'dead' AND j.dead_reason IN ('permanent', 'strikes')))
     INSERT INTO ${JOBS} (bucket, object_key, etag, mtime, size_bytes, source, max_attempts)
     SELECT $1, k, e, m, s, 'reconciler', $6 FROM stale ORDER BY k, m, e
     ON CONFLICT ON CONSTRAINT jobs_object_version DO UPDATE SET
       status = 'pending', source = 'reconciler', attempts = 0, strikes = 0, retry_until = NULL, dead_reason = NULL,
       last_error = NULL, error_code = NULL, run_after = now(), finished_at = NULL, updated_at = now()
     WHERE ${JOBS}.status IN ('done', 'dead')`,
    [
      bucket,
      listed.map((o) => o.key),
      listed.map((o) => o.eTag),
      listed.map((o) => o.mtime.toISOString()),
      listed.map((o) => o.size ?? null),
      maxAttempts,
    ],
  );
  const inserted = rowCount ?? 0;
  return { inserted, duplicates: listed.length - inserted };
}
