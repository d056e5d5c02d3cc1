/**
 * The pipeline probes' reading of the event log, against a real PostgreSQL with the worker's schema: a key with no
 * job at all counts as lost, as a key with two jobs counts as doubled.
 */
import { Pool } from "pg";
import { collectPhase, jobsPerKeyNotOne, processedEventsPerKeyNotOne } from "../../bench/probes/phase-events";
import { migrate } from "../../worker/src/db/migrate";
import { startTestDatabase, type TestDatabase } from "../worker/helpers/postgres";

let database: TestDatabase;
let db: Pool;

beforeAll(async () => {
  database = await startTestDatabase();
  db = new Pool({ connectionString: database.url, max: 2 });
  await migrate(db);
}, 60_000);

afterAll(async () => {
  await db?.end();
  await database?.stop();
});

async function job(key: string, etag: string): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO image_pipeline.jobs (bucket, object_key, etag, mtime, source, max_attempts) VALUES ('in', $1, $2, now(), 'notification', 3) RETURNING id`,
    [key, etag],
  );
  return Number(rows[0].id);
}

async function event(jobId: number, key: string, etag: string, status: "processed" | "failed"): Promise<void> {
  await db.query(
    `INSERT INTO image_pipeline.events (job_id, input_bucket, input_key, input_etag, input_mtime, worker_id, attempt, status, started_at, download_ms, transform_ms, upload_ms)
     VALUES ($1, 'in', $2, $3, now(), 'w1', 1, $4, now() - interval '20 milliseconds', 2, 10, 3)`,
    [jobId, key, etag, status],
  );
}

test("a key without a job is lost and a key with two jobs is doubled; likewise for processed events", async () => {
  await event(await job("once", "e1"), "once", "e1", "processed");
  // Two versions' jobs for one key in a phase that put it once: a doubled notification.
  await event(await job("twice", "e1"), "twice", "e1", "processed");
  await event(await job("twice", "e2"), "twice", "e2", "processed");
  await event(await job("failed", "e1"), "failed", "e1", "failed");
  const keys = ["once", "twice", "failed", "never"];
  // twice (2 jobs) and never (0 jobs).
  expect(await jobsPerKeyNotOne(db, "in", keys)).toBe(2);
  // twice (2 processed), failed (0 processed) and never (0).
  expect(await processedEventsPerKeyNotOne(db, "in", keys)).toBe(3);
  expect(await jobsPerKeyNotOne(db, "in", ["once", "failed"])).toBe(0);
});

test("a phase's timings: processed rows as images, failed ones named, missing keys listed after the timeout", async () => {
  await event(await job("t/a", "e1"), "t/a", "e1", "processed");
  await event(await job("t/b", "e1"), "t/b", "e1", "failed");
  const put = Date.now() - 1000;
  const phase = await collectPhase(
    db,
    "in",
    new Map([
      ["t/a", put],
      ["t/b", put],
      ["t/missing", put],
    ]),
    300,
  );
  expect(phase.images.map((i) => i.key)).toEqual(["t/a"]);
  expect(phase.images[0]).toMatchObject({ putMs: put, workerId: "w1", downloadMs: 2, transformMs: 10, uploadMs: 3 });
  expect(phase.images[0].finishedMs - phase.images[0].startedMs).toBeGreaterThanOrEqual(19);
  expect(phase.notProcessed).toEqual(["t/b: failed"]);
  expect(phase.missing).toEqual(["t/missing"]);
});
