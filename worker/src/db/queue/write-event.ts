import type { PoolClient } from "pg";
import { EVENTS, mtimeParam, type EventRecord, type Job } from "./job-types";

/** Writes (or, for a re-run of the same version, replaces) the version's event row; inside the job's final transaction. */
export async function writeEvent(client: PoolClient, job: Job, event: EventRecord): Promise<void> {
  await client.query(
    `INSERT INTO ${EVENTS} (job_id, input_bucket, input_key, input_etag, input_mtime, output_bucket, output_key, input_bytes, output_bytes,
       width, height, frames, pixels, format, download_ms, transform_ms, upload_ms, worker_id, attempt, status, error, error_code, started_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
     ON CONFLICT ON CONSTRAINT events_object_version DO UPDATE SET
       job_id = EXCLUDED.job_id, output_bucket = EXCLUDED.output_bucket, output_key = EXCLUDED.output_key,
       input_bytes = EXCLUDED.input_bytes, output_bytes = EXCLUDED.output_bytes, width = EXCLUDED.width,
       height = EXCLUDED.height, frames = EXCLUDED.frames, pixels = EXCLUDED.pixels, format = EXCLUDED.format,
       download_ms = EXCLUDED.download_ms, transform_ms = EXCLUDED.transform_ms, upload_ms = EXCLUDED.upload_ms,
       worker_id = EXCLUDED.worker_id, attempt = EXCLUDED.attempt, status = EXCLUDED.status, error = EXCLUDED.error,
       error_code = EXCLUDED.error_code, started_at = EXCLUDED.started_at, finished_at = now()`,
    [
      job.id,
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
}
