import os from "node:os";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config";
import { JOBS_CHANNEL } from "./db/migrations";
import { NotificationListener } from "./db/listener";
import { createPool } from "./db/pool";
import { closeServer, createServiceServer, listen } from "./http-server";
import { createWorkerMetrics } from "./metrics";
import { processJob } from "./process-job";
import { JobQueue, queueOptions } from "./queue";
import { Reconciler } from "./reconciler";
import { SchemaGate } from "./schema-gate";
import { createS3Client } from "./storage";
import type { RunningService } from "./webhook-service";
import { WorkerRunner } from "./worker-runner";

export function defaultWorkerId(): string {
  return `${os.hostname()}-${process.pid}`;
}

export async function startWorker(
  config: WorkerConfig,
  logger: Logger,
  host?: string,
): Promise<RunningService & { readonly workerId: string }> {
  const workerId = config.workerId || defaultWorkerId();
  const log = logger.child({ workerId });
  const pool = createPool(config.databaseUrl, log, config.workerConcurrency + 4);
  const schema = new SchemaGate(pool, log);
  const queue = new JobQueue(pool, queueOptions(config));
  const metrics = createWorkerMetrics(queue);
  const s3 = createS3Client(config.s3, (operation, err) => {
    metrics.s3Timeouts.inc({ operation });
    log.warn({ err, operation }, "S3 request timed out");
  });

  const runner = new WorkerRunner({
    queue,
    workerId,
    concurrency: config.workerConcurrency,
    logger: log,
    handle: (job, signal, lease) => processJob(job, signal, { s3, queue, config, logger: log, metrics }, lease),
    onInFlightChange: (n) => metrics.inFlight.set(n),
  });
  const listener = new NotificationListener(config.databaseUrl, JOBS_CHANNEL, () => runner.notify(), log);

  const reconciler =
    config.reconcileMode === "notifications"
      ? undefined
      : new Reconciler({ s3, queue, pool, config, logger: log, metrics }, config.reconcileIntervalSeconds * 1000);

  let stopping = false;
  let started = false;
  const server = createServiceServer({
    port: config.port,
    registry: metrics.registry,
    logger: log,
    notReadyReason: async () => {
      if (stopping || runner.isStopping) return "shutting down";
      if (!(await schema.check())) return schema.problem;
      if (!started) return "starting";
      return pool.query("SELECT 1").then(
        () => undefined,
        (err: unknown) => `database unavailable: ${(err as Error).message}`,
      );
    },
  });
  const port = await listen(server, config.port, host);

  // Claiming jobs and listing the bucket wait for a verified schema; until then /readyz says why.
  const running = schema
    .waitUntilVerified(() => stopping)
    .then(async (verified) => {
      if (!verified) return;
      await listener.start();
      runner.start();
      reconciler?.start();
      started = true;
      log.info({ port, concurrency: config.workerConcurrency, reconcileMode: config.reconcileMode }, "worker started");
    });

  return {
    port,
    workerId,
    async stop() {
      log.info({ graceSeconds: config.shutdownGraceSeconds }, "draining");
      stopping = true;
      await running;
      await reconciler?.stop();
      const drained = await runner.stop(config.shutdownGraceSeconds * 1000);
      await listener.stop();
      await closeServer(server);
      await pool.end();
      s3.destroy();
      log.info(drained, "worker stopped");
    },
  };
}
