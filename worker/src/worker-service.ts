import os from "node:os";
import type { Logger } from "pino";
import type { WorkerConfig } from "./config";
import { JOBS_CHANNEL } from "./db/migrations";
import { migrate } from "./db/migrate";
import { NotificationListener } from "./db/listener";
import { createPool } from "./db/pool";
import { closeServer, createServiceServer, listen } from "./http-server";
import { createWorkerMetrics } from "./metrics";
import { processJob } from "./process-job";
import { JobQueue, queueOptions } from "./queue";
import { Reconciler } from "./reconciler";
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
  await migrate(pool);
  const queue = new JobQueue(pool, queueOptions(config));
  const s3 = createS3Client(config.s3);
  const metrics = createWorkerMetrics(queue);

  const runner = new WorkerRunner({
    queue,
    workerId,
    concurrency: config.workerConcurrency,
    logger: log,
    handle: (job, signal) => processJob(job, signal, { s3, queue, config, logger: log, metrics }),
    onInFlightChange: (n) => metrics.inFlight.set(n),
  });
  const listener = new NotificationListener(config.databaseUrl, JOBS_CHANNEL, () => runner.notify(), log);
  await listener.start();

  const reconciler =
    config.reconcileMode === "notifications"
      ? undefined
      : new Reconciler({ s3, queue, pool, config, logger: log, metrics }, config.reconcileIntervalSeconds * 1000);

  const server = createServiceServer({
    port: config.port,
    registry: metrics.registry,
    logger: log,
    isReady: async () =>
      !runner.isStopping &&
      (await pool.query("SELECT 1").then(
        () => true,
        () => false,
      )),
  });
  const port = await listen(server, config.port, host);
  runner.start();
  reconciler?.start();
  log.info({ port, concurrency: config.workerConcurrency, reconcileMode: config.reconcileMode }, "worker started");

  return {
    port,
    workerId,
    async stop() {
      log.info({ graceSeconds: config.shutdownGraceSeconds }, "draining");
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
