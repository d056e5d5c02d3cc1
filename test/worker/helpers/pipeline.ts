import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { cephRecord, type CephRecord } from "../../../worker/local/forwarder";
import { startLocalPipeline, waitForEvents, type EventRow, type LocalPipeline } from "../../../worker/local/pipeline";

/** Settings that make retries, leases and reconciliation fast enough for tests. */
export const TEST_PIPELINE_ENV: Record<string, string> = {
  VISIBILITY_TIMEOUT_SECONDS: "3",
  RETRY_BASE_MS: "200",
  RETRY_MAX_MS: "1000",
  MAX_ATTEMPTS: "10",
  LIMIT_INPUT_PIXELS: "20000000",
  RECONCILE_INTERVAL_SECONDS: "2",
  SHUTDOWN_GRACE_SECONDS: "5",
  WORKER_CONCURRENCY: "2",
};

/** Set KEEP_PIPELINE_LOGS=<dir> to keep the processes' logs and data for debugging. */
export function startTestPipeline(workers = 2): Promise<LocalPipeline> {
  const keep = process.env.KEEP_PIPELINE_LOGS;
  return startLocalPipeline({ workers, env: TEST_PIPELINE_ENV, rootDir: keep ? `${keep}/${Date.now()}` : undefined });
}

export async function events(p: LocalPipeline, keys: readonly string[], timeoutMs = 60_000): Promise<Map<string, EventRow>> {
  const rows = await waitForEvents(p.db, p.inputBucket, keys, timeoutMs);
  return new Map(rows.map((r) => [r.input_key, r]));
}

export async function getOutput(
  p: LocalPipeline,
  key: string,
): Promise<{ body: Buffer; contentType?: string; metadata?: Record<string, string> }> {
  const out = await p.s3Client.send(new GetObjectCommand({ Bucket: p.outputBucket, Key: key }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()), contentType: out.ContentType, metadata: out.Metadata };
}

export async function outputExists(p: LocalPipeline, key: string): Promise<boolean> {
  try {
    await p.s3Client.send(new HeadObjectCommand({ Bucket: p.outputBucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

export async function listOutputs(p: LocalPipeline, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await p.s3Client.send(new ListObjectsV2Command({ Bucket: p.outputBucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export interface JobSummary {
  object_key: string;
  status: string;
  attempts: number;
  source: string;
  error_code: string | null;
}

export async function jobsUnder(p: LocalPipeline, prefix: string): Promise<JobSummary[]> {
  const { rows } = await p.db.query<JobSummary>(
    "SELECT object_key, status, attempts, source, error_code FROM image_pipeline.jobs WHERE bucket = $1 AND starts_with(object_key, $2) ORDER BY object_key",
    [p.inputBucket, prefix],
  );
  return rows;
}

/**
 * "Exactly once in effect": every input under the prefix has one job (done), one event row
 * (processed) and one output object, and nothing else is there.
 */
export async function expectProcessedExactlyOnce(
  p: LocalPipeline,
  prefix: string,
  keys: readonly string[],
): Promise<Map<string, EventRow>> {
  const sorted = [...keys].sort();
  const ev = await events(p, sorted, 90_000);
  const { rows } = await p.db.query<{ input_key: string; status: string }>(
    "SELECT input_key, status FROM image_pipeline.events WHERE input_bucket = $1 AND starts_with(input_key, $2) ORDER BY input_key",
    [p.inputBucket, prefix],
  );
  expect(rows).toEqual(sorted.map((k) => ({ input_key: k, status: "processed" })));
  const jobs = await jobsUnder(p, prefix);
  expect(jobs.map((j) => [j.object_key, j.status])).toEqual(sorted.map((k) => [k, "done"]));
  expect(await listOutputs(p, prefix)).toEqual(sorted);
  return ev;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export async function postNotification(p: LocalPipeline, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(p.webhookUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Runs fn over items with at most `limit` in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** The input's current version as the store reports it: eTag and Last-Modified. */
export async function inputVersion(p: LocalPipeline, key: string): Promise<{ eTag: string; lastModified: Date; size: number }> {
  const head = await p.s3Client.send(new HeadObjectCommand({ Bucket: p.inputBucket, Key: key }));
  return { eTag: (head.ETag ?? "").replace(/"/g, ""), lastModified: head.LastModified!, size: head.ContentLength ?? 0 };
}

/** The notification RGW would send for the object's current version (eventTime is its mtime). */
export async function notificationFor(p: LocalPipeline, key: string): Promise<CephRecord> {
  const v = await inputVersion(p, key);
  return cephRecord({ bucket: p.inputBucket, key, size: v.size, eTag: v.eTag, eventTime: v.lastModified.toISOString() }, p.webhookSecret);
}

/** A Prometheus sample's value from a /metrics text (0 when absent). */
export function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

/** Waits until the next wall-clock second, so that an upload gets a later mtime than the previous one. */
export async function nextSecond(): Promise<void> {
  await sleep(1_050 - (Date.now() % 1_000));
}
