/**
 * What the pipeline probes share: bounded-concurrency uploads, and reading one phase's timings back from the
 * event log (jobs.created_at, events.started_at/finished_at and the worker's own columns) once every key has a row.
 */
import type { Pool } from "pg";
import type { PhaseResult } from "./pipeline-probe";

export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

interface TimingRow {
  input_key: string;
  status: string;
  enqueued: string;
  started: string;
  finished: string;
  worker_id: string;
  download_ms: number;
  transform_ms: number;
  upload_ms: number;
}

/** Waits until every key of `putMs` has an event row (or the timeout passes), then reads the timestamps of each. */
export async function collectPhase(db: Pool, bucket: string, putMs: ReadonlyMap<string, number>, timeoutMs: number): Promise<PhaseResult> {
  const keys = [...putMs.keys()];
  const deadline = Date.now() + timeoutMs;
  let rows: TimingRow[] = [];
  for (;;) {
    rows = (
      await db.query<TimingRow>(
        `SELECT e.input_key, e.status,
                extract(epoch FROM j.created_at) * 1000 AS enqueued,
                extract(epoch FROM e.started_at) * 1000 AS started,
                extract(epoch FROM e.finished_at) * 1000 AS finished,
                e.worker_id, e.download_ms, e.transform_ms, e.upload_ms
           FROM image_pipeline.events e JOIN image_pipeline.jobs j ON j.id = e.job_id
          WHERE e.input_bucket = $1 AND e.input_key = ANY($2::text[])`,
        [bucket, keys],
      )
    ).rows;
    if (rows.length >= keys.length || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const found = new Set(rows.map((r) => r.input_key));
  return {
    images: rows
      .filter((r) => r.status === "processed")
      .map((r) => ({
        key: r.input_key,
        putMs: putMs.get(r.input_key) ?? NaN,
        enqueuedMs: Number(r.enqueued),
        startedMs: Number(r.started),
        finishedMs: Number(r.finished),
        workerId: r.worker_id,
        downloadMs: r.download_ms,
        transformMs: r.transform_ms,
        uploadMs: r.upload_ms,
      })),
    notProcessed: rows.filter((r) => r.status !== "processed").map((r) => `${r.input_key}: ${r.status}`),
    missing: keys.filter((k) => !found.has(k)),
  };
}

/** Keys with a job count other than one: a lost (0) or doubled (2+) notification. */
export async function jobsPerKeyNotOne(db: Pool, bucket: string, keys: readonly string[]): Promise<number> {
  const counts = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM (
       SELECT k FROM unnest($2::text[]) AS k
         LEFT JOIN image_pipeline.jobs j ON j.bucket = $1 AND j.object_key = k
        GROUP BY k HAVING count(j.id) <> 1) x`,
    [bucket, keys],
  );
  return Number(counts.rows[0].n);
}

/** Keys with a processed-event count other than one. */
export async function processedEventsPerKeyNotOne(db: Pool, bucket: string, keys: readonly string[]): Promise<number> {
  const counts = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM (
       SELECT k FROM unnest($2::text[]) AS k
         LEFT JOIN image_pipeline.events e ON e.input_bucket = $1 AND e.input_key = k AND e.status = 'processed'
        GROUP BY k HAVING count(e.id) <> 1) x`,
    [bucket, keys],
  );
  return Number(counts.rows[0].n);
}
