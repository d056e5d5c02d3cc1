/**
 * The services' own PostgreSQL role, on a real PostgreSQL: the migration creates it, the queue's every operation
 * works as it, and nothing that changes the schema, deletes rows or escalates does.
 */
import { Client, Pool } from "pg";
import { APP_ROLE_TABLE_PRIVILEGES, scramVerifier } from "../../worker/src/db/app-role";
import { NotificationListener } from "../../worker/src/db/listener";
import { migrate, migrationLoginHint, verifySchema } from "../../worker/src/db/migrate";
import { JOBS_CHANNEL, LATEST_VERSION } from "../../worker/src/db/migrations";
import { JobQueue } from "../../worker/src/queue";
import { silentLogger } from "./helpers/logger";
import { startTestDatabase, type TestDatabase } from "./helpers/postgres";

const ROLE = "pipeline";
const PASSWORD = "Xq7sJ2mV9pL4wR8tK3nB6cZ1";
const ROTATED = "Hb5nW8qT2vM7kP4xR9sL3jC6";

let db: TestDatabase;
let owner: Pool;
let app: Pool;
const appUrl = (password: string) => {
  const url = new URL(db.url);
  url.username = ROLE;
  url.password = password;
  return url.toString();
};

beforeAll(async () => {
  db = await startTestDatabase();
  owner = new Pool({ connectionString: db.url, max: 4 });
  owner.on("error", () => undefined);
  await migrate(owner, undefined, { appRole: { name: ROLE, password: PASSWORD } });
  app = new Pool({ connectionString: appUrl(PASSWORD), max: 4 });
  app.on("error", () => undefined);
});

afterAll(async () => {
  await app?.end();
  await owner?.end();
  await db?.stop();
});

/** The SQLSTATE a statement fails with as the application role, or "ok". */
async function asApp(sql: string): Promise<string> {
  try {
    await app.query(sql);
    return "ok";
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

test("the role logs in with a SCRAM verifier the migration computed; it has no attribute but LOGIN", async () => {
  const { rows } = await owner.query(
    "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = $1",
    [ROLE],
  );
  expect(rows).toEqual([
    {
      rolcanlogin: true,
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolinherit: false,
      rolreplication: false,
      rolbypassrls: false,
    },
  ]);
  const stored = await owner.query<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [ROLE]);
  expect(stored.rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
  expect((await app.query("SELECT current_user AS u")).rows).toEqual([{ u: ROLE }]);
});

test("every queue operation the webhook and the worker perform works as the role", async () => {
  const queue = new JobQueue(app, {
    maxAttempts: 1,
    visibilityTimeoutSeconds: 30,
    retryBaseMs: 10,
    retryMaxMs: 20,
    retryBudgetSeconds: 60,
  });
  expect(await verifySchema(app)).toBe(LATEST_VERSION);
  const mtime = new Date("2026-01-02T03:04:05Z");
  const notified: string[] = [];
  const listener = new NotificationListener(appUrl(PASSWORD), JOBS_CHANNEL, () => notified.push("job"), silentLogger);
  await listener.start();
  try {
    await queue.enqueue([{ bucket: "in", key: "a.jpg", eTag: "e1", mtime, size: 10 }], "notification");
    await queue.enqueueStale("in", [{ key: "b.jpg", eTag: "e2", mtime, size: 20 }]);
    const [first, second] = await queue.claim("w1", 2);
    expect(await queue.renewLease(first)).toBe(true);
    await queue.recordOutputIntent(first, { bucket: "out", key: "a.jpg" });
    await queue.complete(first, { status: "processed", outputBucket: "out", outputKey: "a.jpg", startedAt: new Date() });
    expect(await queue.fail(second, { message: "undecodable", code: "E_DECODE", kind: "permanent" }, { startedAt: new Date() })).toBe(
      "dead",
    );
    expect(await queue.listDead()).toHaveLength(1);
    expect(await queue.redrive()).toBe(1);
    const [again] = await queue.claim("w1", 1);
    expect(await queue.release(again)).toBe(true);
    expect(await queue.getJob(first.id)).toBeDefined();
    expect(await queue.stats()).toBeDefined();
    await queue.msUntilNextWake();
    for (let i = 0; i < 50 && notified.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(notified.length).toBeGreaterThan(0);
  } finally {
    await listener.stop();
  }
});

test.each([
  ["delete queue rows", "DELETE FROM image_pipeline.jobs"],
  ["truncate the event log", "TRUNCATE image_pipeline.events"],
  ["drop a table", "DROP TABLE image_pipeline.outputs"],
  ["alter a table", "ALTER TABLE image_pipeline.jobs ADD COLUMN x int"],
  ["create in the schema", "CREATE TABLE image_pipeline.x (id int)"],
  ["create in public", "CREATE TABLE public.x (id int)"],
  ["create a temporary table", "CREATE TEMP TABLE x (id int)"],
  ["record a migration", "INSERT INTO image_pipeline.schema_migrations (version, name) VALUES (999, 'x')"],
  ["rewrite the migration record", "UPDATE image_pipeline.schema_migrations SET name = 'x'"],
  [
    "replace a trigger function",
    "CREATE OR REPLACE FUNCTION image_pipeline.notify_job_ready() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
  ],
  ["drop a trigger", "DROP TRIGGER jobs_ready ON image_pipeline.jobs"],
  ["create a role", "CREATE ROLE intruder LOGIN"],
  ["create a database", "CREATE DATABASE intruder"],
  ["read password hashes", "SELECT rolpassword FROM pg_authid"],
  ["run a program", "COPY image_pipeline.jobs TO PROGRAM 'id'"],
  ["read a server file", "SELECT pg_read_file('/etc/passwd')"],
  ["become the owner", "SET ROLE postgres"],
])("the role cannot %s", async (_what, sql) => {
  // insufficient_privilege: the role connected and was refused (a failed login would not prove anything).
  expect(await asApp(sql)).toBe("42501");
});

test("its table privileges are exactly the list, and nothing on sequences or other schemas", async () => {
  const { rows } = await owner.query<{ table_name: string; privilege_type: string }>(
    "SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = $1 ORDER BY 1, 2",
    [ROLE],
  );
  const expected = Object.entries(APP_ROLE_TABLE_PRIVILEGES).flatMap(([t, ps]) => ps.map((p) => ({ table_name: t, privilege_type: p })));
  expect(rows).toEqual(
    expected.sort((a, b) => a.table_name.localeCompare(b.table_name) || a.privilege_type.localeCompare(b.privilege_type)),
  );
});

test("re-running converges: a stray grant goes, and a new password replaces the old one (rotation)", async () => {
  await owner.query(`GRANT DELETE ON image_pipeline.jobs TO ${ROLE}`);
  expect(await asApp("DELETE FROM image_pipeline.jobs WHERE false")).toBe("ok");
  const result = await migrate(owner, undefined, { appRole: { name: ROLE, password: ROTATED } });
  expect(result.applied).toEqual([]);
  expect(await asApp("DELETE FROM image_pipeline.jobs WHERE false")).toBe("42501");
  const old = new Client({ connectionString: appUrl(PASSWORD) });
  await expect(old.connect()).rejects.toThrow(/password authentication failed/);
  const rotated = new Client({ connectionString: appUrl(ROTATED) });
  await rotated.connect();
  await rotated.end();
});

test("a database made when the role was its superuser and owner: the migration takes both away", async () => {
  const legacy = await startTestDatabase();
  const superuser = new Pool({ connectionString: legacy.url, max: 2 });
  superuser.on("error", () => undefined);
  const legacyUrl = new URL(legacy.url);
  legacyUrl.username = ROLE;
  legacyUrl.password = PASSWORD;
  try {
    // What the image's initdb made before the split: POSTGRES_USER=pipeline, a superuser that owns everything.
    await superuser.query(`CREATE ROLE ${ROLE} SUPERUSER LOGIN PASSWORD '${PASSWORD}'`);
    const asOld = new Pool({ connectionString: legacyUrl.toString(), max: 2 });
    asOld.on("error", () => undefined);
    await migrate(asOld);
    await asOld.end();
    expect((await superuser.query("SELECT tableowner FROM pg_tables WHERE tablename = 'jobs'")).rows).toEqual([{ tableowner: ROLE }]);
    await migrate(superuser, undefined, { appRole: { name: ROLE, password: PASSWORD } });
    const asRole = new Pool({ connectionString: legacyUrl.toString(), max: 2 });
    asRole.on("error", () => undefined);
    try {
      expect((await superuser.query("SELECT rolsuper FROM pg_roles WHERE rolname = $1", [ROLE])).rows).toEqual([{ rolsuper: false }]);
      expect((await superuser.query("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'image_pipeline'")).rows).toEqual([
        { tableowner: "postgres" },
      ]);
      await expect(asRole.query("DROP TABLE image_pipeline.events")).rejects.toMatchObject({ code: "42501" });
      await expect(asRole.query("DELETE FROM image_pipeline.jobs")).rejects.toMatchObject({ code: "42501" });
      expect(await verifySchema(asRole)).toBe(LATEST_VERSION);
    } finally {
      await asRole.end();
    }
  } finally {
    await superuser.end();
    await legacy.stop();
  }
});

test("the migration refuses to provision the role it connects as, and names that are not plain identifiers", async () => {
  const asRole = new Pool({ connectionString: appUrl(ROTATED), max: 1 });
  try {
    await expect(migrate(asRole, [], { appRole: { name: ROLE, password: ROTATED } })).rejects.toThrow(
      /connects as pipeline, the application role itself/,
    );
  } finally {
    await asRole.end();
  }
  await expect(migrate(owner, [], { appRole: { name: 'x"; DROP TABLE y; --', password: ROTATED } })).rejects.toThrow(
    /not a plain PostgreSQL identifier/,
  );
});

test("the SCRAM verifier matches RFC 7677's test vector (user password pencil); the logins above prove PostgreSQL takes it", () => {
  expect(scramVerifier("pencil", Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"))).toBe(
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
  );
});

test("a migration that cannot log in (a database made before the postgres superuser existed) fails at once with the way out", async () => {
  const url = new URL(db.url);
  url.username = "postgres_missing";
  url.password = "whatever-password-1234";
  const stranger = new Pool({ connectionString: url.toString(), max: 1 });
  stranger.on("error", () => undefined);
  try {
    const err = await migrate(stranger).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { code?: string }).code).toMatch(/^28/);
    expect(migrationLoginHint(err)).toMatch(/could not log in to the database \(.*postgres_missing.*\)\. .*docs\/storage\.md/);
  } finally {
    await stranger.end();
  }
  // Anything else is not a login problem and keeps its own error.
  expect(migrationLoginHint(Object.assign(new Error("relation does not exist"), { code: "42P01" }))).toBeUndefined();
  expect(migrationLoginHint(new Error("ECONNREFUSED"))).toBeUndefined();
});
