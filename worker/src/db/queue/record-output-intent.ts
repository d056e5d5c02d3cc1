import type { Pool } from "pg";
import { inTransaction } from "../pool";
import { JOBS, LeaseLostError, OUTPUTS, mtimeParam, type Job } from "./job-types";

/**
 * Records, before the upload, that the output is about to be made from this job's version ('writing'), and
 * renews the lease in the same transaction. If the upload then fails, the job crashes or it ends superseded,
 * the record says the output may hold this version, unconfirmed, and the reconciler re-checks the object.
 * Throws LeaseLostError (nothing may be uploaded) when the lease is gone.
 */
export async function recordOutputIntent(
  pool: Pool,
  job: Job,
  output: { readonly bucket: string; readonly key: string },
  visibilityTimeoutSeconds: number,
): Promise<void> {
  await inTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE ${JOBS} SET locked_until = now() + make_interval(secs => $3), updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
      [job.id, job.leaseToken, visibilityTimeoutSeconds],
    );
    if (rowCount !== 1) throw new LeaseLostError(job.id);
    await client.query(
      `INSERT INTO ${OUTPUTS} (input_bucket, input_key, output_bucket, output_key, source_etag, source_mtime, job_id, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'writing')
       ON CONFLICT (input_bucket, input_key) DO UPDATE SET
         output_bucket = EXCLUDED.output_bucket, output_key = EXCLUDED.output_key, source_etag = EXCLUDED.source_etag,
         source_mtime = EXCLUDED.source_mtime, job_id = EXCLUDED.job_id, state = 'writing', updated_at = now()`,
      [job.bucket, job.key, output.bucket, output.key, job.eTag, mtimeParam(job.mtime), job.id],
    );
  });
}
