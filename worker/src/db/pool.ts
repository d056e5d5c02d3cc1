import { Pool, type PoolClient } from "pg";
import { retryWithBackoff } from "../backoff";
import type { Logger } from "pino";

/**
 * A pool that survives a database restart: idle clients that die raise 'error' on the pool, which
 * would otherwise crash the process; the pool drops them and opens new ones on demand.
 */
export function createPool(databaseUrl: string, logger: Logger, max = 10): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // Bounds a query stuck on a half-open TCP connection (e.g. after a failover).
    query_timeout: 30_000,
    keepAlive: true,
    application_name: "image-pipeline-worker",
  });
  pool.on("error", (err) => logger.warn({ err }, "idle database connection lost"));
  return pool;
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/** True for errors that mean "the database is unreachable right now", as opposed to a bad query. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && (CONNECTION_ERROR_CODES.has(e.code) || e.code.startsWith("08"))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Query read timeout/i.test(
    e.message ?? "",
  );
}

/** Retries fn while the database is unreachable, until the deadline; other errors propagate at once. */
export async function retryWhileUnavailable<T>(fn: () => Promise<T>, deadline: number, onRetry?: (err: unknown) => void): Promise<T> {
  return retryWithBackoff(fn, {
    backoff: { initialMs: 200, maxMs: 2_000 },
    shouldRetry: (err, delayMs) => isConnectionError(err) && Date.now() + delayMs <= deadline,
    onRetry: (err) => onRetry?.(err),
  });
}

/**
 * Runs fn with a client checked out of the pool. A connection that dies while checked out but
 * between queries emits 'error' on the client, which would crash the process without a listener;
 * here it is caught, and the broken client is destroyed instead of returned to the pool.
 */
export async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on("error", onError);
  try {
    return await fn(client);
  } catch (err) {
    if (isConnectionError(err)) broken ??= err as Error;
    throw err;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

/** Runs fn inside BEGIN/COMMIT on one client; rolls back on any error. */
export function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query("BEGIN");
    try {
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  });
}
