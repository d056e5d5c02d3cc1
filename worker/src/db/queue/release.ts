import type { Pool } from "pg";
import { JOBS, type Job } from "./job-types";

/** Gives an unfinished job back without counting the attempt (graceful shutdown). */
export async function release(pool: Pool, job: Job): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE ${JOBS} SET status = 'pending', attempts = greatest(attempts - 1, 0), run_after = now(),
       locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now()
     WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
    [job.id, job.leaseToken],
  );
  return rowCount === 1;
}
