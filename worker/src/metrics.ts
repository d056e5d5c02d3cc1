import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { JobQueue } from "./queue";

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
      help: "Notification records by outcome: stored, duplicate, ignored_event, ignored_bucket, ignored_key",
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
}

/** Queue depth is read from the database at scrape time, so every replica reports the same truth. */
export function createWorkerMetrics(queue: JobQueue): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  new Gauge({
    name: `${PREFIX}queue_jobs`,
    help: "Jobs in the queue by status",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      try {
        const s = await queue.stats();
        this.set({ status: "pending" }, s.pending);
        this.set({ status: "running" }, s.running);
        this.set({ status: "done" }, s.done);
        this.set({ status: "dead" }, s.dead);
      } catch {
        // An unreachable database shows as a failing /readyz, not as a failed scrape.
      }
    },
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
      help: "Jobs with nothing to do (object deleted or replaced)",
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
      help: "Objects seen by the reconciler: enqueued or already known",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    inFlight: new Gauge({ name: `${PREFIX}jobs_in_flight`, help: "Jobs this process is working on", registers: [registry] }),
  };
}
