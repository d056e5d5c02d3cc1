import type { Pool } from "pg";
import { JOBS, LeaseLostError, OUTPUTS, mtimeParam, type Job } from "./job-types";

/**
 * Records, before the upload, that the output is about to be made from this job's version ('writing'), and
 * renews the lease in the same statement. If the upload then fails, the job crashes or it ends superseded,
 * the record says the output may hold this version, unconfirmed, and the reconciler re-checks the object.
 * Throws LeaseLostError (nothing may be uploaded) when the lease is gone.
 *
 * One statement, one round trip: the lease renewal and the output record are data-modifying CTEs, atomic
 * without BEGIN/COMMIT; the record is written only from the row the guarded renewal returned.
 */
export async function recordOutputIntent(
  pool: Pool,
  job: Job,
  output: { readonly bucket: string; readonly key: string },
  visibilityTimeoutSeconds: number,
): Promise<void> {
  const { rows } = await pool.query<{ renewed: number }>(
    `WITH renewed AS (
       UPDATE ${JOBS} SET locked_until = now() + make_interval(secs => $3), updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND status = 'running'
       RETURNING id),
     intent AS (
       INSERT INTO ${OUTPUTS} (input_bucket, input_key, output_bucket, output_key, source_etag, source_mtime, job_id, state)
       SELECT $4::text, $5::text, $6::text, $7::text, $8::text, $9::timestamptz, renewed.id, 'writing'
       FROM renewed
       ON CONFLICT (input_bucket, input_key) DO UPDATE SET
         output_bucket = EXCLUDED.output_bucket, output_key = EXCLUDED.output_key, source_etag = EXCLUDED.source_etag,
         source_mtime = EXCLUDED.source_mtime, job_id = EXCLUDED.job_id, state = 'writing', updated_at = now())
     SELECT count(*)::int AS renewed FROM renewed`,
    [job.id, job.leaseToken, visibilityTimeoutSeconds, job.bucket, job.key, output.bucket, output.key, job.eTag, mtimeParam(job.mtime)],
  );
  if (rows[0]?.renewed !== 1) throw new LeaseLostError(job.id);
}
