import type { Pool } from "pg";
import { inTransaction } from "../pool";
import { JOBS, LeaseLostError, OUTPUTS, mtimeParam, type EventRecord, type Job } from "./job-types";
import { writeEvent } from "./write-event";

/**
 * Marks the job done and writes its event row, atomically, guarded by the lease (LeaseLostError when it is
 * gone). A processed job also records its output as current: made from this job's version.
 */
export async function complete(pool: Pool, job: Job, event: EventRecord): Promise<void> {
  await inTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE ${JOBS} SET status = 'done', last_error = NULL, error_code = NULL, finished_at = now(),
         locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
      [job.id, job.leaseToken],
    );
    if (rowCount !== 1) throw new LeaseLostError(job.id);
    await writeEvent(client, job, event);
    if (event.status !== "processed") return;
    await client.query(
      `INSERT INTO ${OUTPUTS} (input_bucket, input_key, output_bucket, output_key, source_etag, source_mtime, job_id, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'current')
       ON CONFLICT (input_bucket, input_key) DO UPDATE SET
         output_bucket = EXCLUDED.output_bucket, output_key = EXCLUDED.output_key, source_etag = EXCLUDED.source_etag,
         source_mtime = EXCLUDED.source_mtime, job_id = EXCLUDED.job_id, state = 'current', updated_at = now()`,
      [job.bucket, job.key, event.outputBucket ?? null, event.outputKey ?? null, job.eTag, mtimeParam(job.mtime), job.id],
    );
  });
}
