import type { Pool } from "pg";
import { JOBS } from "./job-types";

/**
 * Jobs that want a worker now: pending jobs whose time has come, and running ones. Jobs backing off until a later
 * `run_after` are left out on purpose: during an S3 or database outage every job backs off, and adding workers
 * against a store that is down would only add load. The queue-depth autoscaler (KEDA's postgresql trigger, see
 * k8s/keda.ts) runs exactly this statement; the partial indexes jobs_claimable and jobs_leased serve both halves.
 */
export const OUTSTANDING_JOBS_SQL = `SELECT count(*) FROM ${JOBS} WHERE (status = 'pending' AND run_after <= now()) OR status = 'running'`;

export async function outstandingJobs(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(OUTSTANDING_JOBS_SQL);
  return Number(rows[0].count);
}
