import type { Pool } from "pg";
import { eventParam, eventParams, upsertEventSql } from "./event-row";
import { JOBS, LeaseLostError, OUTPUTS, type EventRecord, type Job } from "./job-types";

/**
 * Marks the job done and writes its event row, atomically, guarded by the lease (LeaseLostError when it is
 * gone). A processed job also records its output as current: made from this job's version.
 *
 * One statement, one round trip: the job update, the event row and the output record are data-modifying
 * CTEs of one statement, which PostgreSQL runs atomically (all or nothing) without BEGIN/COMMIT. The event
 * and the output are written only from the row the guarded update returned, so with the lease gone nothing
 * is written. The event row's columns and values come from event-row.ts, shared with write-event.ts.
 */
/** The event's values follow the job id and the lease token. */
const FIRST_EVENT_PARAM = 3;
const p = (column: string): string => eventParam(column, FIRST_EVENT_PARAM);

export async function complete(pool: Pool, job: Job, event: EventRecord): Promise<void> {
  const { rows } = await pool.query<{ done: number }>(
    `WITH done AS (
       UPDATE ${JOBS} SET status = 'done', last_error = NULL, error_code = NULL, finished_at = now(),
         locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND status = 'running'
       RETURNING id),
     event AS (
       ${upsertEventSql("done.id", FIRST_EVENT_PARAM, "done")}),
     output AS (
       INSERT INTO ${OUTPUTS} (input_bucket, input_key, output_bucket, output_key, source_etag, source_mtime, job_id, state)
       SELECT ${p("input_bucket")}, ${p("input_key")}, ${p("output_bucket")}, ${p("output_key")}, ${p("input_etag")}, ${p("input_mtime")},
         done.id, 'current'
       FROM done WHERE ${p("status")} = 'processed'
       ON CONFLICT (input_bucket, input_key) DO UPDATE SET
         output_bucket = EXCLUDED.output_bucket, output_key = EXCLUDED.output_key, source_etag = EXCLUDED.source_etag,
         source_mtime = EXCLUDED.source_mtime, job_id = EXCLUDED.job_id, state = 'current', updated_at = now())
     SELECT count(*)::int AS done FROM done`,
    [job.id, job.leaseToken, ...eventParams(job, event)],
  );
  if (rows[0]?.done !== 1) throw new LeaseLostError(job.id);
}
