import type { Pool } from "pg";
import { checkAppRole, provisionAppRole, type AppRole } from "./app-role";
import { withClient } from "./pool";
import { MIGRATIONS, SCHEMA, LATEST_VERSION, type Migration } from "./migrations";

/** Arbitrary constant shared by every process that migrates this schema. */
const MIGRATION_LOCK_KEY = 0x1a6e_0001;

export interface MigrationResult {
  readonly applied: readonly number[];
  readonly version: number;
}

/**
 * Applies pending migrations, one transaction each, while holding a session advisory lock so that
 * concurrent starters (a migrate Job, webhook and worker pods) serialise instead of racing. With `appRole`, then
 * creates or updates the role the services connect as (app-role.ts), under the same lock.
 */
export async function migrate(
  pool: Pool,
  migrations: readonly Migration[] = MIGRATIONS,
  options: { readonly appRole?: AppRole } = {},
): Promise<MigrationResult> {
  return withClient(pool, async (client) => {
    // Before any change: a migration that could not finish by provisioning the role must not start.
    if (options.appRole) await checkAppRole(client, options.appRole);
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (
           version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${SCHEMA}.schema_migrations`);
      const done = new Set(rows.map((r) => r.version));
      const applied: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(m.sql);
          await client.query(`INSERT INTO ${SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK");
          throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
        }
        applied.push(m.version);
      }
      if (options.appRole) await provisionAppRole(client, options.appRole);
      return { applied, version: Math.max(0, ...done, ...applied) };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  });
}

/** Fails with an actionable message when the database schema is older than this code needs. */
export async function verifySchema(pool: Pool): Promise<number> {
  let version = 0;
  try {
    const { rows } = await pool.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${SCHEMA}.schema_migrations`);
    version = rows[0]?.v ?? 0;
  } catch (err) {
    if ((err as { code?: string }).code !== "42P01") throw err;
  }
  if (version < LATEST_VERSION) {
    throw new Error(
      `database schema is at version ${version}, this build needs ${LATEST_VERSION}: run 'main.js migrate' (the migrate Job) first`,
    );
  }
  return version;
}

/**
 * What to do when the migration cannot log in (SQLSTATE class 28: no such role, wrong password). Retrying cannot
 * help, so the Job fails fast with the way out: the usual cause is a database created before the superuser
 * became `postgres`, whose volume `initdb` never touches again.
 */
export function migrationLoginHint(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string" || !code.startsWith("28")) return undefined;
  return (
    `the migration could not log in to the database (${(err as Error).message}). ` +
    "A database created before the superuser became postgres has no such role: create it once as docs/storage.md " +
    '("Who connects as whom") says, then let the Job run again; otherwise check DATABASE_URL in the migration Secret.'
  );
}
