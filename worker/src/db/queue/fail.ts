import type { Pool } from "pg";
import { inTransaction } from "../pool";
import { JOBS, LeaseLostError, type DeadReason, type EventRecord, type Failure, type Job } from "./job-types";
import { writeEvent } from "./write-event";

export interface FailOptions {
  /** Backoff before the next attempt. */
  readonly delayMs: number;
  readonly retryBudgetSeconds: number;
}

/**
 * Records a failed attempt (see FailureKind): reschedules the job after `delayMs`, or dead-letters it with
 * an event row when the failure is permanent, the strikes are used up, or the retry budget would be
 * exceeded by the next attempt. Guarded by the lease. Returns the new status and, for a dead job, why.
 */
export async function fail(
  pool: Pool,
  job: Job,
  failure: Failure,
  event: Omit<EventRecord, "status" | "error" | "errorCode">,
  options: FailOptions,
): Promise<{ status: "pending" | "dead"; deadReason: DeadReason | null }> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ status: "pending" | "dead"; dead_reason: DeadReason | null }>(
      `WITH decided AS (
         SELECT id,
           CASE WHEN $5 = 'transient' THEN coalesce(retry_until, now() + make_interval(secs => $7)) ELSE retry_until END AS until,
           strikes + CASE WHEN $5 = 'suspect' THEN 1 ELSE 0 END AS new_strikes,
           max_attempts
         FROM ${JOBS} WHERE id = $1 AND lease_token = $2 AND status = 'running' FOR UPDATE),
       verdict AS (
         SELECT id, until, new_strikes,
           CASE
             WHEN $5 = 'permanent' THEN 'permanent'
             WHEN $5 = 'suspect' AND new_strikes >= max_attempts THEN 'strikes'
             WHEN $5 = 'transient' AND now() + make_interval(secs => $6) > until THEN 'retry_budget'
           END AS dead_reason
         FROM decided)
       UPDATE ${JOBS} j SET
         retry_until = v.until, strikes = v.new_strikes, dead_reason = v.dead_reason,
         status = CASE WHEN v.dead_reason IS NULL THEN 'pending' ELSE 'dead' END,
         run_after = CASE WHEN v.dead_reason IS NULL THEN now() + make_interval(secs => $6) ELSE j.run_after END,
         finished_at = CASE WHEN v.dead_reason IS NULL THEN NULL ELSE now() END,
         last_error = $3, error_code = $4, locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now()
       FROM verdict v WHERE j.id = v.id
       RETURNING j.status, j.dead_reason`,
      [job.id, job.leaseToken, failure.message, failure.code, failure.kind, options.delayMs / 1000, options.retryBudgetSeconds],
    );
    const row = rows[0];
    if (!row) throw new LeaseLostError(job.id);
    if (row.status === "dead")
      await writeEvent(client, job, { ...event, status: "failed", error: failure.message, errorCode: failure.code });
    return { status: row.status, deadReason: row.dead_reason };
  });
}
