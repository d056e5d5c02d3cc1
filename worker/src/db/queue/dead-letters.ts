import type { Pool } from "pg";
import { JOBS, toJobRow, type JobRow, type RawJob } from "./job-types";

/** Dead-lettered jobs, newest first, with the error that killed them and why it was final. */
export async function listDead(pool: Pool, limit: number): Promise<JobRow[]> {
  const { rows } = await pool.query<RawJob>(`SELECT * FROM ${JOBS} WHERE status = 'dead' ORDER BY updated_at DESC, id DESC LIMIT $1`, [
    limit,
  ]);
  return rows.map(toJobRow);
}
