import type { Pool } from "pg";
import { JOBS, toJobRow, type JobRow, type RawJob } from "./job-types";

export async function getJob(pool: Pool, id: number): Promise<JobRow | undefined> {
  const { rows } = await pool.query<RawJob>(`SELECT * FROM ${JOBS} WHERE id = $1`, [id]);
  return rows[0] ? toJobRow(rows[0]) : undefined;
}
