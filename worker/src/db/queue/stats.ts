import type { Pool } from "pg";
import { JOBS, type DeadReason, type JobStatus, type QueueStats } from "./job-types";

/** Counts by status and dead-letter reason, and the age of the oldest pending job (backing off or not). */
export async function stats(pool: Pool): Promise<QueueStats> {
  const { rows } = await pool.query<{ status: JobStatus; dead_reason: DeadReason | null; n: string; oldest: number | null }>(
    `SELECT status, dead_reason, count(*) AS n,
            extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending'))::float8 AS oldest
     FROM ${JOBS} GROUP BY status, dead_reason`,
  );
  const by = (s: JobStatus): number => rows.filter((r) => r.status === s).reduce((n, r) => n + Number(r.n), 0);
  const dead = (reason: DeadReason): number => Number(rows.find((r) => r.status === "dead" && r.dead_reason === reason)?.n ?? 0);
  return {
    pending: by("pending"),
    running: by("running"),
    done: by("done"),
    dead: by("dead"),
    deadByReason: { permanent: dead("permanent"), retry_budget: dead("retry_budget"), strikes: dead("strikes") },
    oldestPendingSeconds: rows.find((r) => r.status === "pending")?.oldest ?? 0,
  };
}
