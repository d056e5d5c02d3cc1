import type { Pool } from "pg";
import { EVENTS, JOBS, LeaseLostError, OUTPUTS, mtimeParam, type EventRecord, type Job } from "./job-types";

/**
 * Marks the job done and writes its event row, atomically, guarded by the lease (LeaseLostError when it is
 * gone). A processed job also records its output as current: made from this job's version.
 *
 * One statement, one round trip: the job update, the event row and the output record are data-modifying
 * CTEs of one statement, which PostgreSQL runs atomically (all or nothing) without BEGIN/COMMIT. The event
 * and the output are written only from the row the guarded update returned, so with the lease gone nothing
 * is written. Parameters are cast because a SELECT list, unlike VALUES, does not take the target columns' types.
 */
export async function complete(pool: Pool, job: Job, event: EventRecord): Promise<void> {
  const { rows } = await pool.query<{ done: number }>(
    `WITH done AS (
       UPDATE ${JOBS} SET status = 'done', last_error = NULL, error_code = NULL, finished_at = now(),
         locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now()
       WHERE id = $1 AND lease_token = $2 AND status = 'running'
       RETURNING id),
     event AS (
       INSERT INTO ${EVENTS} (job_id, input_bucket, input_key, input_etag, input_mtime, output_bucket, output_key, input_bytes,
         output_bytes, width, height, frames, pixels, format, download_ms, transform_ms, upload_ms, worker_id, attempt, status, error,
         error_code, started_at)
       SELECT done.id, $3::text, $4::text, $5::text, $6::timestamptz, $7::text, $8::text, $9::bigint, $10::bigint, $11::integer,
         $12::integer, $13::integer, $14::bigint, $15::text, $16::float8, $17::float8, $18::float8, $19::text, $20::integer, $21::text,
         $22::text, $23::text, $24::timestamptz
       FROM done
       ON CONFLICT ON CONSTRAINT events_object_version DO UPDATE SET
         job_id = EXCLUDED.job_id, output_bucket = EXCLUDED.output_bucket, output_key = EXCLUDED.output_key,
         input_bytes = EXCLUDED.input_bytes, output_bytes = EXCLUDED.output_bytes, width = EXCLUDED.width,
         height = EXCLUDED.height, frames = EXCLUDED.frames, pixels = EXCLUDED.pixels, format = EXCLUDED.format,
         download_ms = EXCLUDED.download_ms, transform_ms = EXCLUDED.transform_ms, upload_ms = EXCLUDED.upload_ms,
         worker_id = EXCLUDED.worker_id, attempt = EXCLUDED.attempt, status = EXCLUDED.status, error = EXCLUDED.error,
         error_code = EXCLUDED.error_code, started_at = EXCLUDED.started_at, finished_at = now()),
     output AS (
       INSERT INTO ${OUTPUTS} (input_bucket, input_key, output_bucket, output_key, source_etag, source_mtime, job_id, state)
       SELECT $3::text, $4::text, $7::text, $8::text, $5::text, $6::timestamptz, done.id, 'current'
       FROM done WHERE $21::text = 'processed'
       ON CONFLICT (input_bucket, input_key) DO UPDATE SET
         output_bucket = EXCLUDED.output_bucket, output_key = EXCLUDED.output_key, source_etag = EXCLUDED.source_etag,
         source_mtime = EXCLUDED.source_mtime, job_id = EXCLUDED.job_id, state = 'current', updated_at = now())
     SELECT count(*)::int AS done FROM done`,
    [
      job.id,
      job.leaseToken,
      job.bucket,
      job.key,
      job.eTag,
      mtimeParam(job.mtime),
      event.outputBucket ?? null,
      event.outputKey ?? null,
      event.inputBytes ?? null,
      event.outputBytes ?? null,
      event.width ?? null,
      event.height ?? null,
      event.frames ?? null,
      event.pixels ?? null,
      event.format ?? null,
      event.downloadMs ?? null,
      event.transformMs ?? null,
      event.uploadMs ?? null,
      job.lockedBy,
      job.attempt,
      event.status,
      event.error ?? null,
      event.errorCode ?? null,
      event.startedAt,
    ],
  );
  if (rows[0]?.done !== 1) throw new LeaseLostError(job.id);
}
