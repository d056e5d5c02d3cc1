/**
 * The application's own PostgreSQL role: the webhook and the worker connect as it, never as the database owner.
 *
 * The migration (run with the owner's credentials) creates or updates it after the schema is current, so a new
 * table gets its grant in the same run that creates it, and a changed password (rotation) takes effect before the
 * pods that carry it start. The role may log in and read and write the queue's rows; it owns nothing and can create,
 * alter, drop, delete or truncate nothing, so a compromised pod cannot destroy the event log or change the schema.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import type { PoolClient } from "pg";
import { SCHEMA } from "./migrations";

export interface AppRole {
  readonly name: string;
  readonly password: string;
}

/**
 * Table privileges, by table: exactly the statements in worker/src/db/queue (SELECT … FOR UPDATE and
 * INSERT … ON CONFLICT DO UPDATE need UPDATE), and the schema check at start (SELECT on schema_migrations).
 */
export const APP_ROLE_TABLE_PRIVILEGES: Readonly<Record<string, readonly string[]>> = {
  jobs: ["SELECT", "INSERT", "UPDATE"],
  events: ["SELECT", "INSERT", "UPDATE"],
  outputs: ["SELECT", "INSERT", "UPDATE"],
  schema_migrations: ["SELECT"],
};

/** Role attributes: it logs in, and nothing else. */
const ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS";

const SCRAM_ITERATIONS = 4096;

/**
 * The password as a SCRAM-SHA-256 verifier (RFC 5802, RFC 7677; PostgreSQL's stored form), so the plain password
 * never reaches the server, its statement log or pg_stat_activity.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, SCRAM_ITERATIONS, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** A role name PostgreSQL takes unquoted; anything else is refused before it reaches SQL. */
export const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Statements are built server-side with format(%I, %L), so no value is ever spliced into SQL here. */
async function run(client: PoolClient, template: string, ...args: string[]): Promise<void> {
  const placeholders = args.map((_, i) => `$${i + 1}::text`).join(", ");
  const { rows } = await client.query<{ sql: string }>(
    `SELECT format('${template}'${args.length ? `, ${placeholders}` : ""}) AS sql`,
    args,
  );
  await client.query(rows[0].sql);
}

/** Refuses a role the migration cannot provision: not a plain identifier, a short password, or its own login. */
export async function checkAppRole(client: PoolClient, role: AppRole): Promise<void> {
  if (!ROLE_NAME.test(role.name)) throw new Error(`application role "${role.name}" is not a plain PostgreSQL identifier`);
  if (role.password.length < 16) throw new Error(`the password of application role ${role.name} is shorter than 16 characters`);
  const { rows } = await client.query<{ me: string }>("SELECT current_user AS me");
  if (rows[0].me === role.name)
    throw new Error(`the migration connects as ${role.name}, the application role itself: give DATABASE_URL the owner's credentials`);
}

/** Creates the role or brings it to exactly the privileges above (and the given password), in one transaction. */
export async function provisionAppRole(client: PoolClient, role: AppRole): Promise<void> {
  await checkAppRole(client, role);
  const { rows } = await client.query<{ exists: boolean }>("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists", [
    role.name,
  ]);
  const verifier = scramVerifier(role.password);
  await client.query("BEGIN");
  try {
    await run(client, `${rows[0].exists ? "ALTER" : "CREATE"} ROLE %I WITH ${ROLE_ATTRIBUTES} PASSWORD %L`, role.name, verifier);
    // An owner keeps every privilege whatever is revoked: a database made when this role was the superuser has it
    // own the database, the schema and the tables. They move to the role running the migration.
    await run(client, "REASSIGN OWNED BY %I TO CURRENT_USER", role.name);
    // Converge: whatever the role held before (an older grant, a hand-made one) goes, then exactly the list.
    await run(client, `REVOKE ALL ON ALL TABLES IN SCHEMA ${SCHEMA} FROM %I`, role.name);
    await run(client, `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${SCHEMA} FROM %I`, role.name);
    await run(client, `REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${SCHEMA} FROM %I`, role.name);
    await run(client, `REVOKE ALL ON SCHEMA ${SCHEMA} FROM %I`, role.name);
    // PostgreSQL before 15 lets every role create in public; no role here needs temporary tables.
    await client.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    const { rows: db } = await client.query<{ name: string }>("SELECT current_database() AS name");
    await run(client, "REVOKE ALL ON DATABASE %I FROM PUBLIC", db[0].name);
    await run(client, "GRANT CONNECT ON DATABASE %I TO %I", db[0].name, role.name);
    await run(client, `GRANT USAGE ON SCHEMA ${SCHEMA} TO %I`, role.name);
    for (const [table, privileges] of Object.entries(APP_ROLE_TABLE_PRIVILEGES))
      await run(client, `GRANT ${privileges.join(", ")} ON ${SCHEMA}.${table} TO %I`, role.name);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK");
    throw new Error(`provisioning application role ${role.name} failed: ${(err as Error).message}`);
  }
}
