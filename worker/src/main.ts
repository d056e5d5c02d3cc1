/**
 * Entry point of the worker image: `node dist/worker/src/main.js <command>`.
 *   webhook       POST /notify -> queue; /healthz /readyz /metrics
 *   worker        claims and processes jobs, runs the reconciler; /healthz /readyz /metrics
 *   migrate       applies schema migrations under an advisory lock, creates or updates the services' role
 *                 (DATABASE_APP_ROLE), then exits
 *   dead-letters  prints dead-lettered jobs as JSON lines
 *   redrive [id…] puts dead-lettered jobs (all, or the given ids) back in the queue
 */
import { ConfigError, loadConfig, type Command } from "./config";
import { migrate, migrationLoginHint } from "./db/migrate";
import { createPool } from "./db/pool";
import { createLogger } from "./logger";
import { JobQueue, queueOptions } from "./queue";
import { startWebhook, type RunningService } from "./webhook-service";
import { startWorker } from "./worker-service";

const USAGE = "usage: main.js webhook | worker | migrate | dead-letters | redrive [job-id ...]";

function installSignalHandlers(service: RunningService, logger: ReturnType<typeof createLogger>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without draining");
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const configCommand: Command | undefined =
    name === "webhook" || name === "worker" || name === "migrate"
      ? name
      : name === "dead-letters" || name === "redrive"
        ? "migrate"
        : undefined;
  if (!configCommand) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env, configCommand);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, { command: name });

  if (name === "webhook" || name === "worker") {
    const service = name === "webhook" ? await startWebhook(config, logger) : await startWorker(config, logger);
    installSignalHandlers(service, logger);
    return -1;
  }

  const pool = createPool(config.databaseUrl, logger, 2);
  try {
    if (name === "migrate") {
      try {
        const result = await migrate(pool, undefined, { appRole: config.databaseAppRole });
        logger.info(result, "schema up to date");
        return 0;
      } catch (err) {
        const hint = migrationLoginHint(err);
        if (hint === undefined) throw err;
        logger.fatal({ err }, hint);
        return 1;
      }
    }
    const queue = new JobQueue(pool, queueOptions(config));
    if (name === "dead-letters") {
      for (const job of await queue.listDead(1000)) process.stdout.write(`${JSON.stringify(job)}\n`);
      return 0;
    }
    const ids = rest.map((s) => {
      if (!/^\d+$/.test(s)) throw new Error(`redrive: '${s}' is not a job id; give numeric ids or none for all`);
      return Number(s);
    });
    const n = await queue.redrive(ids.length > 0 ? ids : undefined);
    logger.info({ redriven: n }, "dead-lettered jobs returned to the queue");
    return 0;
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
