/**
 * The services do not migrate the database: the migrate command does, once per rollout (the migrate Job,
 * or `npm run local` before it starts the services). A service checks that the schema is at the version its
 * code needs and stays unready, saying why, until it is; a pod applied before its migration (a GitOps tool
 * that ignores the dependency, a migration that failed) serves /healthz but takes no traffic and no jobs.
 */
import type { Pool } from "pg";
import type { Logger } from "pino";
import { sleep } from "./backoff";
import { verifySchema } from "./db/migrate";

export class SchemaGate {
  private verified = false;
  private reason = "database schema not checked yet";
  private lastLogged?: string;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Logger,
    private readonly recheckMs = 5_000,
  ) {}

  /** Undefined once the schema is verified; otherwise why the service is not ready. */
  get problem(): string | undefined {
    return this.verified ? undefined : this.reason;
  }

  /** Checks once; a verified schema stays verified (migrations only move forward). */
  async check(): Promise<boolean> {
    if (this.verified) return true;
    try {
      const version = await verifySchema(this.pool);
      this.verified = true;
      this.logger.info({ schemaVersion: version }, "database schema verified");
      return true;
    } catch (err) {
      this.reason = (err as Error).message;
      // Once per distinct reason: a service waiting for its migration must not flood the log.
      if (this.reason !== this.lastLogged) {
        this.lastLogged = this.reason;
        this.logger.error({ err }, "not ready: database schema check failed");
      }
      return false;
    }
  }

  /** Resolves once the schema is verified, checking every recheckMs; false when `stopped` says to give up. */
  async waitUntilVerified(stopped: () => boolean): Promise<boolean> {
    while (!stopped()) {
      if (await this.check()) return true;
      await sleep(this.recheckMs);
    }
    return false;
  }
}
