import { Client, Pool } from "pg";
import { migrate, verifySchema } from "../../worker/src/db/migrate";
import { JOBS_CHANNEL, LATEST_VERSION, MIGRATIONS } from "../../worker/src/db/migrations";
import { NotificationListener } from "../../worker/src/db/listener";
import { JobQueue, LeaseLostError, retryDelayMs, type Job } from "../../worker/src/queue";
import { WorkerRunner } from "../../worker/src/worker-runner";
import { silentLogger } from "./helpers/logger";
import { startTestDatabase, type TestDatabase } from "./helpers/postgres";

let db: TestDatabase;
let pool: Pool;
const options = { maxAttempts: 3, visibilityTimeoutSeconds: 2, retryBaseMs: 100, retryMaxMs: 400, retryBudgetSeconds: 3600 };
let queue: JobQueue;
let seq = 0;
const MTIME = new Date("2026-01-02T03:04:05.678Z");
const obj = (key = `k${++seq}`, eTag = `e${seq}`, mtime: Date | null = MTIME) => ({ bucket: "in", key, eTag, mtime, size: 10 });
const startedAt = new Date();

beforeAll(async () => {
  db = await startTestDatabase();
  pool = new Pool({ connectionString: db.url, max: 12 });
  pool.on("error", () => undefined);
  await migrate(pool);
  queue = new JobQueue(pool, options);
});

afterAll(async () => {
  await pool?.end();
  await db?.stop();
});

beforeEach(async () => {
  await pool.query("TRUNCATE image_pipeline.outputs, image_pipeline.events, image_pipeline.jobs RESTART IDENTITY");
});

async function jobRows() {
  return (await pool.query("SELECT object_key, status, attempts, error_code, last_error FROM image_pipeline.jobs ORDER BY id")).rows;
}

describe("migrations", () => {
  it("apply once under an advisory lock even when started concurrently", async () => {
    const results = await Promise.all([migrate(pool), migrate(pool), migrate(pool)]);
    expect(results.map((r) => r.applied)).toEqual([[], [], []]);
    expect(await verifySchema(pool)).toBe(LATEST_VERSION);
    const p = new Pool({ connectionString: await db.freshDatabase("unmigrated_concurrent"), max: 6 });
    p.on("error", () => undefined); // idle clients see the server stop at the end
    try {
      await expect(verifySchema(p)).rejects.toThrow(
        new RegExp(`schema is at version 0, this build needs ${LATEST_VERSION}: run 'main.js migrate'`),
      );
      const concurrent = await Promise.all([migrate(p), migrate(p), migrate(p)]);
      const versions = MIGRATIONS.map((m) => m.version);
      expect(concurrent.flatMap((r) => r.applied).sort()).toEqual(versions);
      expect((await p.query("SELECT version FROM image_pipeline.schema_migrations ORDER BY version")).rows).toEqual(
        versions.map((version) => ({ version })),
      );
    } finally {
      await p.end();
    }
  });
});

describe("outstanding jobs (the queue-depth autoscaler's query)", () => {
  it("counts claimable and running jobs, not backing-off, done or dead ones", async () => {
    expect(await queue.outstanding()).toBe(0);
    await queue.enqueue([obj("running.png"), obj("backing-off.png"), obj("done.png"), obj("dead.png")], "notification");
    const claimed = await queue.claim("w1", 4);
    const job = (key: string) => claimed.find((j) => j.key === key)!;
    await queue.fail(job("backing-off.png"), { message: "S3 down", code: "storage_unavailable", kind: "transient" }, { startedAt });
    await queue.complete(job("done.png"), { status: "processed", startedAt });
    await queue.fail(job("dead.png"), { message: "not an image", code: "unsupported_input", kind: "permanent" }, { startedAt });
    await queue.enqueue([obj("waiting-1.png"), obj("waiting-2.png")], "notification");
    const statuses = (
      await pool.query("SELECT object_key, status, run_after > now() AS later FROM image_pipeline.jobs ORDER BY object_key")
    ).rows;
    expect(statuses).toEqual([
      { object_key: "backing-off.png", status: "pending", later: true },
      { object_key: "dead.png", status: "dead", later: false },
      { object_key: "done.png", status: "done", later: false },
      { object_key: "running.png", status: "running", later: false },
      { object_key: "waiting-1.png", status: "pending", later: false },
      { object_key: "waiting-2.png", status: "pending", later: false },
    ]);
    // running.png + waiting-1.png + waiting-2.png
    expect(await queue.outstanding()).toBe(3);
  });
});

describe("enqueue", () => {
  it("is idempotent per (bucket, key, eTag): duplicates and re-deliveries make one job", async () => {
    const a = obj("same.jpg", "e1");
    expect(await queue.enqueue([a, a], "notification")).toEqual({ inserted: 1, duplicates: 1 });
    const redeliveries = await Promise.all(Array.from({ length: 5 }, () => queue.enqueue([a], "notification")));
    expect(redeliveries.every((r) => r.inserted === 0 && r.duplicates === 1)).toBe(true);
    expect(await queue.enqueue([{ ...a, eTag: "e2" }], "notification")).toEqual({ inserted: 1, duplicates: 0 });
    expect((await jobRows()).map((r) => r.object_key)).toEqual(["same.jpg", "same.jpg"]);
  });

  it("does not re-create a job for an object version already completed", async () => {
    const a = obj();
    await queue.enqueue([a], "notification");
    const [job] = await queue.claim("w1", 1);
    await queue.complete(job, { status: "processed", startedAt });
    expect(await queue.enqueue([a], "notification")).toEqual({ inserted: 0, duplicates: 1 });
    expect(await queue.claim("w1", 1)).toEqual([]);
  });

  it("the reconciler's enqueue skips objects whose output is recorded, even if their job was pruned", async () => {
    const a = obj("logged.jpg", "e1");
    await queue.enqueue([a], "notification");
    const [job] = await queue.claim("w1", 1);
    await queue.complete(job, { status: "processed", startedAt });
    await pool.query("DELETE FROM image_pipeline.jobs");
    const r = await queue.enqueueStale("in", [
      { key: "logged.jpg", eTag: "e1", mtime: MTIME },
      { key: "new.jpg", eTag: "e9", mtime: MTIME },
    ]);
    expect(r).toEqual({ inserted: 1, duplicates: 1 });
    expect((await pool.query("SELECT object_key, source FROM image_pipeline.jobs")).rows).toEqual([
      { object_key: "new.jpg", source: "reconciler" },
    ]);
  });
});

describe("claim", () => {
  it("never gives the same job to two workers claiming at the same time", async () => {
    await queue.enqueue(
      Array.from({ length: 60 }, () => obj()),
      "notification",
    );
    const claimers = Array.from({ length: 6 }, (_, i) => `w${i}`);
    const seen: number[] = [];
    for (;;) {
      const batches = await Promise.all(claimers.map((w) => queue.claim(w, 3)));
      const ids = batches.flat().map((j) => j.id);
      if (ids.length === 0) break;
      seen.push(...ids);
    }
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
    const rows = await jobRows();
    expect(rows.every((r) => r.status === "running" && r.attempts === 1)).toBe(true);
  });

  it("hands a job whose lease ran out (dead worker) to another worker, and the old lease cannot complete it", async () => {
    await queue.enqueue([obj()], "notification");
    const [first] = await queue.claim("dead-worker", 1);
    expect(await queue.claim("w2", 1)).toEqual([]);
    await pool.query("UPDATE image_pipeline.jobs SET locked_until = now() - interval '1 second'");
    const [second] = await queue.claim("w2", 1);
    expect(second).toMatchObject({ id: first.id, attempt: 2, lockedBy: "w2" });
    await expect(queue.complete(first, { status: "processed", startedAt })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await queue.renewLease(first)).toBe(false);
    expect(await queue.renewLease(second)).toBe(true);
    await queue.complete(second, { status: "processed", startedAt });
    const ev = (await pool.query("SELECT worker_id, attempt, status FROM image_pipeline.events")).rows;
    expect(ev).toEqual([{ worker_id: "w2", attempt: 2, status: "processed" }]);
  });

  it("reclaims after the real visibility timeout when the lease is not renewed", async () => {
    await queue.enqueue([obj()], "notification");
    const [job] = await queue.claim("w1", 1);
    const wait = await queue.msUntilNextWake();
    expect(wait).toBeGreaterThan(1000);
    expect(wait).toBeLessThanOrEqual(2000);
    await new Promise((r) => setTimeout(r, (wait ?? 0) + 50));
    const [again] = await queue.claim("w2", 1);
    expect(again).toMatchObject({ id: job.id, attempt: 2 });
  });

  it("dead-letters a job whose lease ran out on its last attempt (a crash-looping input)", async () => {
    await queue.enqueue([obj("crasher.png", "e1")], "notification");
    for (let i = 0; i < options.maxAttempts; i++) {
      const [j] = await queue.claim(`w${i}`, 1);
      expect(j.attempt).toBe(i + 1);
      await pool.query("UPDATE image_pipeline.jobs SET locked_until = now() - interval '1 second'");
    }
    expect(await queue.claim("w9", 1)).toEqual([]);
    expect(await jobRows()).toEqual([
      {
        object_key: "crasher.png",
        status: "dead",
        attempts: 3,
        error_code: "lease_expired",
        last_error: expect.stringContaining("lease expired"),
      },
    ]);
    expect((await pool.query("SELECT status, error_code FROM image_pipeline.events")).rows).toEqual([
      { status: "failed", error_code: "lease_expired" },
    ]);
  });
});

describe("failure handling", () => {
  it("retries transient failures with capped exponential backoff past MAX_ATTEMPTS, until the retry budget runs out", async () => {
    // A 1.5 s budget: attempts keep failing every 50..400 ms, far more often than maxAttempts (3) allows.
    const budgeted = new JobQueue(pool, { ...options, retryBudgetSeconds: 1.5 });
    await budgeted.enqueue([obj("flaky.jpg", "e1")], "notification");
    const delays: number[] = [];
    const statuses: string[] = [];
    const started = Date.now();
    for (let attempt = 1; statuses.at(-1) !== "dead"; attempt++) {
      const next = await budgeted.msUntilNextWake();
      if (next) await new Promise((r) => setTimeout(r, next + 20));
      const [job] = await budgeted.claim("w1", 1);
      expect(job.attempt).toBe(attempt);
      statuses.push(await budgeted.fail(job, { message: "S3 unreachable", code: "storage_unavailable", kind: "transient" }, { startedAt }));
      if (statuses.at(-1) === "pending") {
        const { rows } = await pool.query("SELECT extract(epoch FROM run_after - updated_at) * 1000 AS ms FROM image_pipeline.jobs");
        delays.push(Number(rows[0].ms));
      }
    }
    const elapsed = Date.now() - started;
    // base 100 ms doubling: attempt 1 waits 50..100, attempt 2 waits 100..200, capped at 400
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(101);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(201);
    expect(Math.max(...delays)).toBeLessThanOrEqual(401);
    // Not an attempt count: it kept retrying beyond maxAttempts, and gave up only near the end of the budget.
    expect(statuses.length).toBeGreaterThan(options.maxAttempts);
    expect(elapsed).toBeGreaterThan(1_000);
    expect((await pool.query("SELECT object_key, status, strikes, dead_reason, error_code FROM image_pipeline.jobs")).rows).toEqual([
      { object_key: "flaky.jpg", status: "dead", strikes: 0, dead_reason: "retry_budget", error_code: "storage_unavailable" },
    ]);
    expect((await pool.query("SELECT status, error_code FROM image_pipeline.events")).rows).toEqual([
      { status: "failed", error_code: "storage_unavailable" },
    ]);
  });

  it("counts suspect failures (a transform timeout) as strikes: MAX_ATTEMPTS of them dead-letter the job", async () => {
    await queue.enqueue([obj("slow.png", "e1")], "notification");
    const statuses: string[] = [];
    for (let i = 0; i < options.maxAttempts; i++) {
      await pool.query("UPDATE image_pipeline.jobs SET run_after = now()");
      const [job] = await queue.claim("w1", 1);
      statuses.push(await queue.fail(job, { message: "transform timed out", code: "timeout", kind: "suspect" }, { startedAt }));
    }
    expect(statuses).toEqual(["pending", "pending", "dead"]);
    expect((await pool.query("SELECT strikes, dead_reason FROM image_pipeline.jobs")).rows).toEqual([
      { strikes: 3, dead_reason: "strikes" },
    ]);
  });

  it("sends permanent errors straight to the dead-letter state, queryable and re-drivable", async () => {
    await queue.enqueue([obj("bomb.png", "e1"), obj("ok.png", "e2")], "notification");
    const [bomb, ok] = await queue.claim("w1", 2);
    expect(
      await queue.fail(
        bomb,
        { message: "image has 2500000000 pixels", code: "pixel_limit", kind: "permanent" },
        { startedAt, inputBytes: 900 },
      ),
    ).toBe("dead");
    await queue.complete(ok, { status: "processed", startedAt });
    const dead = await queue.listDead();
    expect(dead).toEqual([
      expect.objectContaining({
        key: "bomb.png",
        status: "dead",
        attempts: 1,
        errorCode: "pixel_limit",
        lastError: "image has 2500000000 pixels",
      }),
    ]);
    const events = (await pool.query("SELECT input_key, status, error_code, input_bytes FROM image_pipeline.events ORDER BY input_key"))
      .rows;
    expect(events).toEqual([
      { input_key: "bomb.png", status: "failed", error_code: "pixel_limit", input_bytes: "900" },
      { input_key: "ok.png", status: "processed", error_code: null, input_bytes: null },
    ]);

    expect(await queue.redrive([dead[0].id])).toBe(1);
    const [again] = await queue.claim("w2", 1);
    expect(again).toMatchObject({ key: "bomb.png", attempt: 1 });
    await queue.complete(again, { status: "processed", startedAt, format: "png" });
    // One event row per object version: the re-driven success replaces the failure.
    const after = (await pool.query("SELECT input_key, status, error_code, worker_id FROM image_pipeline.events ORDER BY input_key")).rows;
    expect(after[0]).toEqual({ input_key: "bomb.png", status: "processed", error_code: null, worker_id: "w2" });
    expect(after).toHaveLength(2);
  });

  it("release hands a job back without spending an attempt", async () => {
    await queue.enqueue([obj()], "notification");
    const [job] = await queue.claim("w1", 1);
    expect(await queue.release(job)).toBe(true);
    const [again] = await queue.claim("w2", 1);
    expect(again.attempt).toBe(1);
  });

  it("retryDelayMs doubles per attempt within [d/2, d] and is capped", () => {
    expect(retryDelayMs(1, 1000, 60000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60000, () => 1)).toBe(1000);
    expect(retryDelayMs(4, 1000, 60000, () => 1)).toBe(8000);
    expect(retryDelayMs(20, 1000, 60000, () => 1)).toBe(60000);
  });
});

describe("LISTEN/NOTIFY wake-up", () => {
  it("wakes an idle worker as soon as a job is enqueued (no polling)", async () => {
    const handled: Job[] = [];
    let resolveHandled: () => void = () => undefined;
    const gotJob = new Promise<void>((r) => (resolveHandled = r));
    const runner = new WorkerRunner({
      queue,
      workerId: "listener-test",
      concurrency: 1,
      logger: silentLogger,
      // An idle poll far beyond the test timeout: only a notification can wake it.
      idlePollMs: 10 * 60_000,
      handle: async (job) => {
        handled.push(job);
        await queue.complete(job, { status: "processed", startedAt });
        resolveHandled();
      },
    });
    const listener = new NotificationListener(db.url, JOBS_CHANNEL, () => runner.notify(), silentLogger);
    await listener.start();
    runner.start();
    await new Promise((r) => setTimeout(r, 300)); // the runner is now asleep on an empty queue
    expect(runner.claims).toBe(0);
    await queue.enqueue([obj("wake.jpg", "e1")], "notification");
    await gotJob;
    expect(handled.map((j) => j.key)).toEqual(["wake.jpg"]);
    await runner.stop(1000);
    await listener.stop();
  });

  it("the trigger notifies for claimable jobs only, not for lease renewals or future retries", async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const received: string[] = [];
    client.on("notification", (n) => received.push(n.channel));
    await client.query(`LISTEN ${JOBS_CHANNEL}`);
    const settle = () => new Promise((r) => setTimeout(r, 150));
    await queue.enqueue([obj()], "notification");
    await settle();
    expect(received).toHaveLength(1);
    const [job] = await queue.claim("w1", 1);
    await queue.renewLease(job);
    await queue.fail(job, { message: "x", code: "storage_error", kind: "transient" }, { startedAt });
    await settle();
    expect(received).toHaveLength(1);
    await client.end();
  });

  it("a job that stops running wakes the workers when another version of its object is waiting", async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const received: string[] = [];
    client.on("notification", (n) => received.push(n.channel));
    await client.query(`LISTEN ${JOBS_CHANNEL}`);
    const settle = () => new Promise((r) => setTimeout(r, 150));
    await queue.enqueue([obj("waiting.png", "v1")], "notification");
    const [v1] = await queue.claim("w1", 1);
    await queue.enqueue([obj("waiting.png", "v2")], "notification");
    await settle();
    expect(received).toHaveLength(2); // the two inserts
    await queue.complete(v1, { status: "processed", startedAt });
    await settle();
    expect(received).toHaveLength(3);
    await client.end();
  });
});

describe("graceful stop", () => {
  it("finishes in-flight jobs within the grace period and releases the ones that do not finish", async () => {
    await queue.enqueue([obj("fast.jpg", "e1"), obj("slow.jpg", "e2")], "notification");
    const runner = new WorkerRunner({
      queue,
      workerId: "drainer",
      concurrency: 2,
      logger: silentLogger,
      idlePollMs: 60_000,
      handle: async (job, signal) => {
        if (job.key === "fast.jpg") {
          await new Promise((r) => setTimeout(r, 100));
          await queue.complete(job, { status: "processed", startedAt });
          return;
        }
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        await queue.release(job);
      },
    });
    runner.start();
    while (runner.inFlight < 2) await new Promise((r) => setTimeout(r, 10));
    const result = await runner.stop(500);
    expect(result).toEqual({ finished: 1, released: 1 });
    expect(await jobRows()).toEqual([
      expect.objectContaining({ object_key: "fast.jpg", status: "done" }),
      expect.objectContaining({ object_key: "slow.jpg", status: "pending", attempts: 0 }),
    ]);
  });
});

describe("input versions", () => {
  it("the same content uploaded again (a new mtime) is a new version with its own job; a re-delivery is not", async () => {
    const later = new Date(MTIME.getTime() + 60_000);
    expect(await queue.enqueue([obj("aba.png", "A", MTIME)], "notification")).toEqual({ inserted: 1, duplicates: 0 });
    expect(await queue.enqueue([obj("aba.png", "B", MTIME)], "notification")).toEqual({ inserted: 1, duplicates: 0 });
    expect(await queue.enqueue([obj("aba.png", "A", later)], "notification")).toEqual({ inserted: 1, duplicates: 0 });
    expect(await queue.enqueue([obj("aba.png", "A", later)], "notification")).toEqual({ inserted: 0, duplicates: 1 });
    const { rows } = await pool.query("SELECT etag, mtime FROM image_pipeline.jobs ORDER BY id");
    expect(rows).toEqual([
      { etag: "A", mtime: MTIME },
      { etag: "B", mtime: MTIME },
      { etag: "A", mtime: later },
    ]);
  });
});

describe("one job per object at a time", () => {
  it("never runs two versions of one object at once, even with concurrent claimers; the next runs when the first ends", async () => {
    await queue.enqueue([obj("same.png", "v1"), obj("same.png", "v2"), obj("other.png", "o1")], "notification");
    const batches = await Promise.all(["w1", "w2", "w3", "w4"].map((w) => queue.claim(w, 3)));
    const claimed = batches.flat();
    expect(claimed.map((j) => `${j.key}:${j.eTag}`).sort()).toEqual(["other.png:o1", "same.png:v1"]);
    // Nothing else is claimable, and no worker is told to wake for the waiting version.
    expect(await queue.claim("w5", 5)).toEqual([]);
    const v1 = claimed.find((j) => j.eTag === "v1")!;
    const wake = await queue.msUntilNextWake();
    expect(wake).toBeGreaterThan(1_000); // only the leases of the running jobs
    await queue.complete(v1, { status: "processed", startedAt });
    const [v2] = await queue.claim("w5", 5);
    expect(v2).toMatchObject({ key: "same.png", eTag: "v2" });
  });

  it("a unique index enforces it in the database", async () => {
    await queue.enqueue([obj("dup.png", "v1"), obj("dup.png", "v2")], "notification");
    await queue.claim("w1", 1);
    await expect(pool.query("UPDATE image_pipeline.jobs SET status = 'running' WHERE etag = 'v2'")).rejects.toThrow(
      /jobs_one_running_per_object/,
    );
  });

  it("a version backing off after a failure does not hold back a newer version of its object", async () => {
    await queue.enqueue([obj("backoff.png", "v1")], "notification");
    const [v1] = await queue.claim("w1", 1);
    await queue.fail(v1, { message: "S3 unreachable", code: "storage_unavailable", kind: "transient" }, { startedAt });
    await pool.query("UPDATE image_pipeline.jobs SET run_after = now() + interval '1 hour' WHERE etag = 'v1'");
    await queue.enqueue([obj("backoff.png", "v2")], "notification");
    const [v2] = await queue.claim("w1", 1);
    expect(v2).toMatchObject({ key: "backoff.png", eTag: "v2" });
  });
});

describe("the reconciler's view: what is stale", () => {
  const listed = (key: string, eTag: string, mtime = MTIME) => ({ key, eTag, mtime, size: 10 });
  const process = async (key: string, eTag: string, mtime = MTIME) => {
    await queue.enqueue([obj(key, eTag, mtime)], "notification");
    const [job] = await queue.claim("w1", 1);
    await queue.recordOutputIntent(job, { bucket: "out", key });
    await queue.complete(job, { status: "processed", startedAt, outputBucket: "out", outputKey: key });
    return job;
  };
  const jobsOf = async (key: string) =>
    (await pool.query("SELECT etag, status, source FROM image_pipeline.jobs WHERE object_key = $1 ORDER BY id", [key])).rows;

  it("leaves inputs whose output is current, or whose version is queued, alone", async () => {
    await process("current.png", "A");
    await queue.enqueue([obj("queued.png", "Q")], "notification");
    expect(await queue.enqueueStale("in", [listed("current.png", "A"), listed("queued.png", "Q")])).toEqual({ inserted: 0, duplicates: 2 });
  });

  it("re-queues an input whose output was made from another eTag (A-B-A with the last notification lost)", async () => {
    const t1 = MTIME;
    const t2 = new Date(MTIME.getTime() + 5_000);
    const t3 = new Date(MTIME.getTime() + 10_000);
    await process("aba.png", "A", t1);
    await process("aba.png", "B", t2);
    expect(await queue.enqueueStale("in", [listed("aba.png", "A", t3)])).toEqual({ inserted: 1, duplicates: 0 });
    expect(await jobsOf("aba.png")).toEqual([
      { etag: "A", status: "done", source: "notification" },
      { etag: "B", status: "done", source: "notification" },
      { etag: "A", status: "pending", source: "reconciler" },
    ]);
  });

  it("re-queues an input uploaded again with the same content after its output was made (a newer mtime, to the second)", async () => {
    await process("again.png", "A", MTIME);
    expect(await queue.enqueueStale("in", [listed("again.png", "A", new Date(MTIME.getTime() + 200))])).toEqual({
      inserted: 0,
      duplicates: 1,
    });
    expect(await queue.enqueueStale("in", [listed("again.png", "A", new Date(MTIME.getTime() + 2_000))])).toEqual({
      inserted: 1,
      duplicates: 0,
    });
  });

  it("re-queues an output left unconfirmed (the job crashed or was superseded after writing it)", async () => {
    await queue.enqueue([obj("unconfirmed.png", "A")], "notification");
    const [job] = await queue.claim("w1", 1);
    await queue.recordOutputIntent(job, { bucket: "out", key: "unconfirmed.png" });
    await queue.complete(job, { status: "skipped", errorCode: "superseded", startedAt });
    expect(await queue.enqueueStale("in", [listed("unconfirmed.png", "A")])).toEqual({ inserted: 1, duplicates: 0 });
    // The finished job of that very version is put back to pending.
    expect(await jobsOf("unconfirmed.png")).toEqual([{ etag: "A", status: "pending", source: "reconciler" }]);
  });

  it("re-queues a job whose retry budget ran out, but not one that failed permanently or ran out of strikes", async () => {
    await queue.enqueue([obj("budget.png", "A"), obj("bad.png", "B"), obj("crash.png", "C")], "notification");
    const jobs = await queue.claim("w1", 3);
    const byKey = new Map(jobs.map((j) => [j.key, j]));
    const tight = new JobQueue(pool, { ...options, retryBudgetSeconds: 0.001 });
    expect(
      await tight.fail(byKey.get("budget.png")!, { message: "S3 down", code: "storage_unavailable", kind: "transient" }, { startedAt }),
    ).toBe("dead");
    await queue.fail(byKey.get("bad.png")!, { message: "not an image", code: "unsupported_format", kind: "permanent" }, { startedAt });
    await pool.query("UPDATE image_pipeline.jobs SET max_attempts = 1 WHERE object_key = 'crash.png'");
    await queue.fail(byKey.get("crash.png")!, { message: "transform timed out", code: "timeout", kind: "suspect" }, { startedAt });
    expect((await queue.stats()).deadByReason).toEqual({ permanent: 1, retry_budget: 1, strikes: 1 });

    const r = await queue.enqueueStale("in", [listed("budget.png", "A"), listed("bad.png", "B"), listed("crash.png", "C")]);
    expect(r).toEqual({ inserted: 1, duplicates: 2 });
    expect(await jobsOf("budget.png")).toEqual([{ etag: "A", status: "pending", source: "reconciler" }]);
    expect(
      (await pool.query("SELECT retry_until, strikes, dead_reason FROM image_pipeline.jobs WHERE object_key = 'budget.png'")).rows,
    ).toEqual([{ retry_until: null, strikes: 0, dead_reason: null }]);
  });
});

describe("migration 2 on a database with version-1 data", () => {
  it("keeps every row, gives old rows an unknown version, dead reasons and recorded outputs, and leaves one running job per object", async () => {
    const p = new Pool({ connectionString: await db.freshDatabase("version_1_data"), max: 4 });
    p.on("error", () => undefined);
    try {
      await migrate(p, MIGRATIONS.slice(0, 1));
      await p.query(`
        INSERT INTO image_pipeline.jobs (bucket, object_key, etag, source, status, attempts, max_attempts, error_code, locked_by, lease_token, locked_until)
        VALUES ('in', 'a.png', 'e1', 'notification', 'running', 1, 5, NULL, 'w1', gen_random_uuid(), now() + interval '1 minute'),
               ('in', 'a.png', 'e2', 'notification', 'running', 1, 5, NULL, 'w2', gen_random_uuid(), now() + interval '1 minute'),
               ('in', 'lost.png', 'e3', 'notification', 'dead', 5, 5, 'storage_unavailable', NULL, NULL, NULL),
               ('in', 'bad.png', 'e4', 'notification', 'dead', 1, 5, 'decode_failed', NULL, NULL, NULL),
               ('in', 'ok.png', 'e5', 'notification', 'done', 1, 5, NULL, NULL, NULL, NULL)`);
      await p.query(`
        INSERT INTO image_pipeline.events (input_bucket, input_key, input_etag, output_bucket, output_key, worker_id, attempt, status, started_at)
        VALUES ('in', 'ok.png', 'e5', 'out', 'ok.png', 'w1', 1, 'processed', now())`);
      expect(await migrate(p)).toEqual({ applied: [2], version: LATEST_VERSION });
      const jobs = (await p.query("SELECT object_key, etag, status, dead_reason, mtime FROM image_pipeline.jobs ORDER BY id")).rows;
      expect(jobs).toEqual([
        { object_key: "a.png", etag: "e1", status: "running", dead_reason: null, mtime: -Infinity },
        { object_key: "a.png", etag: "e2", status: "pending", dead_reason: null, mtime: -Infinity },
        { object_key: "lost.png", etag: "e3", status: "dead", dead_reason: "retry_budget", mtime: -Infinity },
        { object_key: "bad.png", etag: "e4", status: "dead", dead_reason: "permanent", mtime: -Infinity },
        { object_key: "ok.png", etag: "e5", status: "done", dead_reason: null, mtime: -Infinity },
      ]);
      expect((await p.query("SELECT input_key, source_etag, state FROM image_pipeline.outputs")).rows).toEqual([
        { input_key: "ok.png", source_etag: "e5", state: "current" },
      ]);
      // The outage's dead letters are recoverable: the reconciler re-queues them, the bad input stays dead.
      const upgraded = new JobQueue(p, options);
      const r = await upgraded.enqueueStale("in", [
        { key: "lost.png", eTag: "e3", mtime: MTIME },
        { key: "bad.png", eTag: "e4", mtime: MTIME },
        { key: "ok.png", eTag: "e5", mtime: MTIME },
      ]);
      expect(r).toEqual({ inserted: 1, duplicates: 2 });
    } finally {
      await p.end();
    }
  });
});

describe("round trips of a job's own writes", () => {
  /** Statements sent to the server while fn runs (BEGIN and COMMIT count: each is a round trip). */
  async function statementsDuring(fn: () => Promise<unknown>): Promise<number> {
    const spy = jest.spyOn(Client.prototype, "query");
    try {
      await fn();
      return spy.mock.calls.length;
    } finally {
      spy.mockRestore();
    }
  }

  it("claims in two statements, records the output intent and completes in one each, writing the lease, the event row and the output together", async () => {
    await queue.enqueue([obj("one-trip.png", "A")], "notification");
    let job!: Job;
    // Expiring leases that ran out, then claiming: each atomic on its own, no transaction around them.
    expect(await statementsDuring(async () => ([job] = await queue.claim("w1", 1)))).toBe(2);
    expect(await statementsDuring(() => queue.recordOutputIntent(job, { bucket: "out", key: "one-trip.png" }))).toBe(1);
    expect((await pool.query("SELECT state, source_etag FROM image_pipeline.outputs WHERE input_key = 'one-trip.png'")).rows).toEqual([
      { state: "writing", source_etag: "A" },
    ]);
    const event = { status: "processed" as const, startedAt, outputBucket: "out", outputKey: "one-trip.png", outputBytes: 42, width: 3 };
    expect(await statementsDuring(() => queue.complete(job, event))).toBe(1);
    expect((await jobRows()).map((r) => r.status)).toEqual(["done"]);
    expect(
      (await pool.query("SELECT status, output_key, output_bytes, width, worker_id, attempt FROM image_pipeline.events")).rows,
    ).toEqual([{ status: "processed", output_key: "one-trip.png", output_bytes: "42", width: 3, worker_id: "w1", attempt: 1 }]);
    expect((await pool.query("SELECT state, job_id FROM image_pipeline.outputs WHERE input_key = 'one-trip.png'")).rows).toEqual([
      { state: "current", job_id: String(job.id) },
    ]);
  });

  it("with the lease gone, neither statement writes anything", async () => {
    await queue.enqueue([obj("gone-lease.png", "A")], "notification");
    const [job] = await queue.claim("w1", 1);
    await pool.query("UPDATE image_pipeline.jobs SET lease_token = gen_random_uuid() WHERE id = $1", [job.id]);
    await expect(queue.recordOutputIntent(job, { bucket: "out", key: "gone-lease.png" })).rejects.toBeInstanceOf(LeaseLostError);
    await expect(
      queue.complete(job, { status: "processed", startedAt, outputBucket: "out", outputKey: "gone-lease.png" }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(queue.complete(job, { status: "skipped", errorCode: "superseded", startedAt })).rejects.toBeInstanceOf(LeaseLostError);
    expect((await pool.query("SELECT count(*)::int AS n FROM image_pipeline.events")).rows[0].n).toBe(0);
    expect((await pool.query("SELECT count(*)::int AS n FROM image_pipeline.outputs")).rows[0].n).toBe(0);
    expect((await jobRows()).map((r) => r.status)).toEqual(["running"]);
  });

  it("a skipped job's completion leaves an unconfirmed output record as it was", async () => {
    await queue.enqueue([obj("skip-keeps.png", "A")], "notification");
    const [job] = await queue.claim("w1", 1);
    await queue.recordOutputIntent(job, { bucket: "out", key: "skip-keeps.png" });
    await queue.complete(job, { status: "skipped", errorCode: "superseded", error: "newer version", startedAt });
    expect((await pool.query("SELECT state FROM image_pipeline.outputs WHERE input_key = 'skip-keeps.png'")).rows).toEqual([
      { state: "writing" },
    ]);
    expect((await pool.query("SELECT status, error_code FROM image_pipeline.events")).rows).toEqual([
      { status: "skipped", error_code: "superseded" },
    ]);
  });
});

describe("two versions of one object in one batch", () => {
  it("get ids oldest first, whatever the batch's order, so the newest version runs last (notifications and the reconciler)", async () => {
    const older = new Date("2026-01-02T03:04:05.000Z");
    const newer = new Date("2026-01-02T03:04:09.000Z");
    await queue.enqueue(
      [
        { bucket: "in", key: "two.png", eTag: "new", mtime: newer, size: 10 },
        { bucket: "in", key: "two.png", eTag: "old", mtime: older, size: 10 },
      ],
      "notification",
    );
    await queue.enqueueStale("in", [
      { key: "listed.png", eTag: "new", mtime: newer },
      { key: "listed.png", eTag: "old", mtime: older },
    ]);
    const order = async (key: string) =>
      (await pool.query("SELECT etag FROM image_pipeline.jobs WHERE object_key = $1 ORDER BY id", [key])).rows.map((r) => r.etag);
    expect(await order("two.png")).toEqual(["old", "new"]);
    expect(await order("listed.png")).toEqual(["old", "new"]);
    // One job per object at a time, oldest first: the first claim takes each object's older version.
    const first = await queue.claim("w1", 10);
    expect(first.map((j) => [j.key, j.eTag]).sort()).toEqual([
      ["listed.png", "old"],
      ["two.png", "old"],
    ]);
  });
});
