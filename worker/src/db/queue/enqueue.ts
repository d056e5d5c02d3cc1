import type { Pool } from "pg";
import { JOBS, mtimeParam, type EnqueueResult, type JobSource, type ObjectVersion } from "./job-types";

/**
 * Stores one job per input version not seen before: a re-delivered notification (same eTag and mtime) adds
 * nothing; the same content uploaded again (a new mtime) is a new version and gets a job. Rows are inserted in
 * (key, mtime) order, so two versions of one object in one batch get ids oldest first: the claim runs an object's
 * jobs in id order, and the newest version must run last.
 */
export async function enqueue(
  pool: Pool,
  objects: readonly ObjectVersion[],
  source: JobSource,
  maxAttempts: number,
): Promise<EnqueueResult> {
  if (objects.length === 0) return { inserted: 0, duplicates: 0 };
  const { rowCount } = await pool.query(
    `INSERT INTO ${JOBS} (bucket, object_key, etag, mtime, size_bytes, source, max_attempts)
     SELECT b, k, e, m, s, $6, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[]) AS o(b, k, e, m, s)
     ORDER BY k, m, e
     ON CONFLICT ON CONSTRAINT jobs_object_version DO NOTHING`,
    [
      objects.map((o) => o.bucket),
      objects.map((o) => o.key),
      objects.map((o) => o.eTag),
      objects.map((o) => mtimeParam(o.mtime)),
      objects.map((o) => o.size ?? null),
      source,
      maxAttempts,
    ],
  );
  const inserted = rowCount ?? 0;
  return { inserted, duplicates: objects.length - inserted };
}
