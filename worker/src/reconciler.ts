/**
 * Lists the input bucket and enqueues every input whose output is not current (see enqueueStale): recovers
 * notifications Ceph lost (synchronous topics, webhook down), outputs made from an older version, and jobs
 * whose retry budget ran out; the only trigger for stores without notifications. Runs in worker processes,
 * one at a time cluster-wide (advisory lock).
 */
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { Pool } from "pg";
import type { Logger } from "pino";
import { isUnsafeKey, keyMatchesFilter, type WorkerConfig } from "./config";
import { withClient } from "./db/pool";
import type { WorkerMetrics } from "./metrics";
import type { JobQueue } from "./queue";
import { stripETagQuotes } from "./s3-event";

const RECONCILER_LOCK_KEY = 0x1a6e_0002;

export interface ReconcileResult {
  readonly listed: number;
  readonly matched: number;
  readonly enqueued: number;
}

export type ReconcileConfig = Pick<WorkerConfig, "inputBucket" | "keyPrefixFilter" | "keySuffixFilter">;

export async function reconcileOnce(
  s3: S3Client,
  queue: JobQueue,
  cfg: ReconcileConfig,
  metrics?: WorkerMetrics,
): Promise<ReconcileResult> {
  let listed = 0;
  let matched = 0;
  let enqueued = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: cfg.inputBucket,
        Prefix: cfg.keyPrefixFilter || undefined,
        ContinuationToken: token,
        MaxKeys: 1000,
      }),
    );
    const keyed = (page.Contents ?? [])
      .filter((o): o is typeof o & { Key: string; LastModified: Date } => typeof o.Key === "string" && o.LastModified instanceof Date)
      .filter((o) => keyMatchesFilter(o.Key, cfg));
    const unsafe = keyed.filter((o) => isUnsafeKey(o.Key)).length;
    if (unsafe > 0) metrics?.reconciled.inc({ outcome: "ignored_unsafe_key" }, unsafe);
    const objects = keyed
      .filter((o) => !isUnsafeKey(o.Key))
      .map((o) => ({ key: o.Key, eTag: stripETagQuotes(o.ETag ?? ""), mtime: o.LastModified, size: o.Size ?? null }))
      .filter((o) => o.eTag !== "");
    listed += page.KeyCount ?? page.Contents?.length ?? 0;
    matched += objects.length;
    const { inserted } = await queue.enqueueStale(cfg.inputBucket, objects);
    enqueued += inserted;
    metrics?.reconciled.inc({ outcome: "enqueued" }, inserted);
    metrics?.reconciled.inc({ outcome: "known" }, objects.length - inserted);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { listed, matched, enqueued };
}

/** Runs fn only if no other process holds the lock; the lock dies with the session if we crash. */
export async function withTryAdvisoryLock<T>(
  pool: Pool,
  key: number,
  fn: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  return withClient(pool, async (client) => {
    const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [key]);
    if (!rows[0]?.ok) return { ran: false };
    try {
      return { ran: true, value: await fn() };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [key]);
    }
  });
}

export class Reconciler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly deps: { s3: S3Client; queue: JobQueue; pool: Pool; config: ReconcileConfig; logger: Logger; metrics?: WorkerMetrics },
    private readonly intervalMs: number,
  ) {}

  /** Runs once soon after start (catch up after downtime), then every interval. */
  start(initialDelayMs = 1_000): void {
    this.schedule(initialDelayMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then(() => undefined)
        .finally(() => {
          this.running = undefined;
          this.schedule(this.intervalMs);
        });
    }, ms);
  }

  async runOnce(): Promise<ReconcileResult | undefined> {
    const { s3, queue, pool, config, logger, metrics } = this.deps;
    try {
      const out = await withTryAdvisoryLock(pool, RECONCILER_LOCK_KEY, () => reconcileOnce(s3, queue, config, metrics));
      if (!out.ran) {
        logger.debug("reconciler skipped: another worker is reconciling");
        return undefined;
      }
      logger.info({ ...out.value }, "reconciled input bucket");
      return out.value;
    } catch (err) {
      logger.warn({ err }, "reconcile failed; will retry next interval");
      return undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
