import type { Pool } from "pg";
import { JOBS } from "./job-types";

/**
 * Milliseconds until a job becomes claimable without a notification (a backoff ending, a lease running
 * out), measured on the database clock; null when nothing is scheduled. A pending job waiting for another
 * job of its object is not counted: that job's end notifies.
 */
export async function msUntilNextWake(pool: Pool): Promise<number | null> {
  const { rows } = await pool.query<{ ms: number | null }>(
    `SELECT (extract(epoch FROM least(
       (SELECT min(run_after) FROM ${JOBS} j WHERE j.status = 'pending'
          AND NOT EXISTS (SELECT 1 FROM ${JOBS} r WHERE r.bucket = j.bucket AND r.object_key = j.object_key AND r.status = 'running')),
       (SELECT min(locked_until) FROM ${JOBS} WHERE status = 'running')) - now()) * 1000)::float8 AS ms`,
  );
  const ms = rows[0]?.ms;
  return ms === null || ms === undefined ? null : Math.max(0, ms);
}
