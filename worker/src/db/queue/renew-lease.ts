import type { Pool } from "pg";
import { JOBS, type Job } from "./job-types";

/** Extends the lease; false when it was lost (the caller must stop and discard its work). */
export async function renewLease(pool: Pool, job: Job, visibilityTimeoutSeconds: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE ${JOBS} SET locked_until = now() + make_interval(secs => $3), updated_at = now()
     WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
    [job.id, job.leaseToken, visibilityTimeoutSeconds],
  );
  return rowCount === 1;
}
