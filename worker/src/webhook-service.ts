import type { Logger } from "pino";
import type { WorkerConfig } from "./config";
import { createPool } from "./db/pool";
import { closeServer, createServiceServer, listen } from "./http-server";
import { createWebhookMetrics } from "./metrics";
import { JobQueue, queueOptions } from "./queue";
import { SchemaGate } from "./schema-gate";
import { createNotifyHandler } from "./webhook";

export interface RunningService {
  readonly port: number;
  /** Graceful stop: not ready, stop taking work, finish or hand back what is in flight. */
  stop(): Promise<void>;
}

export async function startWebhook(config: WorkerConfig, logger: Logger, host?: string): Promise<RunningService> {
  const pool = createPool(config.databaseUrl, logger);
  const schema = new SchemaGate(pool, logger);
  await schema.check();
  const queue = new JobQueue(pool, queueOptions(config));
  const metrics = createWebhookMetrics();
  let accepting = true;
  const server = createServiceServer({
    port: config.port,
    registry: metrics.registry,
    logger,
    notReadyReason: async () => {
      if (!accepting) return "shutting down";
      if (!(await schema.check())) return schema.problem;
      return pool.query("SELECT 1").then(
        () => undefined,
        (err: unknown) => `database unavailable: ${(err as Error).message}`,
      );
    },
    routes: { "POST /notify": createNotifyHandler({ queue, config, metrics, logger, schema }) },
  });
  const port = await listen(server, config.port, host);
  logger.info({ port, inputBucket: config.inputBucket }, "webhook listening");
  return {
    port,
    async stop() {
      accepting = false;
      await closeServer(server);
      await pool.end();
      logger.info("webhook stopped");
    },
  };
}
