import type { Pool } from "pg";
import { JOBS } from "./job-types";

/** Puts dead jobs back in the queue with fresh strikes and retry budget; ids omitted means all dead jobs. */
export async function redrive(pool: Pool, ids?: readonly number[]): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE ${JOBS} SET status = 'pending', attempts = 0, strikes = 0, retry_until = NULL, dead_reason = NULL,
       run_after = now(), finished_at = NULL, updated_at = now()
     WHERE status = 'dead' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))`,
    [ids ? ids.map(String) : null],
  );
  return rowCount ?? 0;
}
