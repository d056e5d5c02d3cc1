import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { JobQueue, QueueStats } from "./queue";

const PREFIX = "image_pipeline_";
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface WebhookMetrics {
  readonly registry: Registry;
  readonly notifications: Counter<"outcome">;
  readonly records: Counter<"outcome">;
}

export function createWebhookMetrics(): WebhookMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  return {
    registry,
    notifications: new Counter({
      name: `${PREFIX}notifications_total`,
      help: "Notification requests by HTTP outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    records: new Counter({
      name: `${PREFIX}notification_records_total`,
      help: "Notification records by outcome: stored, duplicate, ignored_event, ignored_bucket, ignored_key, ignored_unsafe_key",
      labelNames: ["outcome"],
      registers: [registry],
    }),
  };
}

export interface WorkerMetrics {
  readonly registry: Registry;
  readonly processed: Counter<"format">;
  readonly failed: Counter<"code">;
  readonly dead: Counter<"code">;
  readonly skipped: Counter<"code">;
  readonly stage: Histogram<"stage">;
  readonly inputBytes: Histogram;
  readonly reconciled: Counter<"outcome">;
  readonly inFlight: Gauge;
  readonly s3Timeouts: Counter<"operation">;
}

/** Queue depth is read from the database at scrape time, so every replica reports the same truth. */
export function createWorkerMetrics(queue: JobQueue): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  // One query per scrape feeds the three gauges below (each collect awaits the same snapshot).
  let snapshot: { readonly at: number; readonly stats: Promise<QueueStats> } | undefined;
  const current = (): Promise<QueueStats> => {
    if (!snapshot || Date.now() - snapshot.at > 1_000) snapshot = { at: Date.now(), stats: queue.stats() };
    return snapshot.stats;
  };
  const fromDatabase = (set: (s: QueueStats) => void) =>
    async function collect(): Promise<void> {
      try {
        set(await current());
      } catch {
        // An unreachable database shows as a failing /readyz, not as a failed scrape.
      }
    };
  const queueJobs: Gauge<"status"> = new Gauge({
    name: `${PREFIX}queue_jobs`,
    help: "Jobs in the queue by status",
    labelNames: ["status"],
    registers: [registry],
    collect: fromDatabase((s) => {
      for (const status of ["pending", "running", "done", "dead"] as const) queueJobs.set({ status }, s[status]);
    }),
  });
  const deadLetters: Gauge<"reason"> = new Gauge({
    name: `${PREFIX}dead_letters`,
    help: "Dead-lettered jobs by reason: permanent (the input cannot be processed), retry_budget (transient failures for longer than RETRY_BUDGET_SECONDS; the reconciler re-queues them), strikes (the worker died or timed out on it MAX_ATTEMPTS times)",
    labelNames: ["reason"],
    registers: [registry],
    collect: fromDatabase((s) => {
      for (const [reason, n] of Object.entries(s.deadByReason)) deadLetters.set({ reason }, n);
    }),
  });
  const oldestPending: Gauge = new Gauge({
    name: `${PREFIX}queue_oldest_pending_seconds`,
    help: "Age of the oldest pending job, including jobs backing off after failures; 0 when none is pending",
    registers: [registry],
    collect: fromDatabase((s) => oldestPending.set(s.oldestPendingSeconds)),
  });
  return {
    registry,
    processed: new Counter({
      name: `${PREFIX}jobs_processed_total`,
      help: "Images transformed and stored",
      labelNames: ["format"],
      registers: [registry],
    }),
    failed: new Counter({
      name: `${PREFIX}jobs_failed_total`,
      help: "Failed attempts (retried or dead-lettered) by error code",
      labelNames: ["code"],
      registers: [registry],
    }),
    dead: new Counter({
      name: `${PREFIX}jobs_dead_total`,
      help: "Jobs moved to the dead-letter state by error code",
      labelNames: ["code"],
      registers: [registry],
    }),
    skipped: new Counter({
      name: `${PREFIX}jobs_skipped_total`,
      help: "Jobs with nothing to do: gone (the object was deleted), superseded (the object is no longer the job's version)",
      labelNames: ["code"],
      registers: [registry],
    }),
    stage: new Histogram({
      name: `${PREFIX}stage_duration_seconds`,
      help: "Duration of download, transform and upload",
      labelNames: ["stage"],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    inputBytes: new Histogram({
      name: `${PREFIX}input_bytes`,
      help: "Size of processed inputs",
      buckets: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8],
      registers: [registry],
    }),
    reconciled: new Counter({
      name: `${PREFIX}reconciler_objects_total`,
      help: "Objects seen by the reconciler: enqueued, known (queued already, or its output is current), ignored_unsafe_key",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    inFlight: new Gauge({ name: `${PREFIX}jobs_in_flight`, help: "Jobs this process is working on", registers: [registry] }),
    s3Timeouts: new Counter({
      name: `${PREFIX}s3_timeouts_total`,
      help: "S3 request attempts that hit S3_CONNECT_TIMEOUT_MS or S3_REQUEST_TIMEOUT_MS, by operation",
      labelNames: ["operation"],
      registers: [registry],
    }),
  };
}
