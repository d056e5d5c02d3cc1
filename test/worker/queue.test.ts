import { Client, Pool } from "pg";
import { migrate, verifySchema } from "../../worker/src/db/migrate";
import { JOBS_CHANNEL, LATEST_VERSION } from "../../worker/src/db/migrations";
import { NotificationListener } from "../../worker/src/db/listener";
import { JobQueue, LeaseLostError, retryDelayMs, type Job } from "../../worker/src/queue";
import { WorkerRunner } from "../../worker/src/worker-runner";
import { silentLogger } from "./helpers/logger";
import { startTestDatabase, type TestDatabase } from "./helpers/postgres";

let db: TestDatabase;
let pool: Pool;
const options = { maxAttempts: 3, visibilityTimeoutSeconds: 2, retryBaseMs: 100, retryMaxMs: 400 };
let queue: JobQueue;
let seq = 0;
const obj = (key = `k${++seq}`, eTag = `e${seq}`) => ({ bucket: "in", key, eTag, size: 10 });
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
  await pool.query("TRUNCATE image_pipeline.events, image_pipeline.jobs RESTART IDENTITY");
});

async function jobRows() {
  return (await pool.query("SELECT object_key, status, attempts, error_code, last_error FROM image_pipeline.jobs ORDER BY id")).rows;
}

describe("migrations", () => {
  it("apply once under an advisory lock even when started concurrently", async () => {
    const results = await Promise.all([migrate(pool), migrate(pool), migrate(pool)]);
    expect(results.map((r) => r.applied)).toEqual([[], [], []]);
    expect(await verifySchema(pool)).toBe(LATEST_VERSION);
    const fresh = await startTestDatabase();
    const p = new Pool({ connectionString: fresh.url, max: 6 });
    p.on("error", () => undefined); // idle clients see the server stop at the end
    try {
      await expect(verifySchema(p)).rejects.toThrow(/schema is at version 0, this build needs 1: run 'main.js migrate'/);
      const concurrent = await Promise.all([migrate(p), migrate(p), migrate(p)]);
      expect(concurrent.flatMap((r) => r.applied)).toEqual([1]);
      expect((await p.query("SELECT version FROM image_pipeline.schema_migrations")).rows).toEqual([{ version: 1 }]);
    } finally {
      await p.end();
      await fresh.stop();
    }
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

  it("enqueueUnlogged skips objects that already have an event row, even if their job was pruned", async () => {
    const a = obj("logged.jpg", "e1");
    await queue.enqueue([a], "notification");
    const [job] = await queue.claim("w1", 1);
    await queue.complete(job, { status: "processed", startedAt });
    await pool.query("DELETE FROM image_pipeline.jobs");
    const r = await queue.enqueueUnlogged("in", [
      { key: "logged.jpg", eTag: "e1" },
      { key: "new.jpg", eTag: "e9" },
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
  it("retries transient failures with exponential backoff, then dead-letters after max attempts", async () => {
    await queue.enqueue([obj("flaky.jpg", "e1")], "notification");
    const delays: number[] = [];
    for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
      const next = await queue.msUntilNextWake();
      if (next) await new Promise((r) => setTimeout(r, next + 20));
      const [job] = await queue.claim("w1", 1);
      expect(job.attempt).toBe(attempt);
      const status = await queue.fail(job, { message: "S3 unreachable", code: "storage_unavailable", permanent: false }, { startedAt });
      if (attempt < options.maxAttempts) {
        expect(status).toBe("pending");
        const { rows } = await pool.query("SELECT extract(epoch FROM run_after - updated_at) * 1000 AS ms FROM image_pipeline.jobs");
        delays.push(Number(rows[0].ms));
      } else {
        expect(status).toBe("dead");
      }
    }
    // base 100 ms doubling: attempt 1 waits 50..100, attempt 2 waits 100..200
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(101);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(201);
    expect(await jobRows()).toEqual([
      { object_key: "flaky.jpg", status: "dead", attempts: 3, error_code: "storage_unavailable", last_error: "S3 unreachable" },
    ]);
  });

  it("sends permanent errors straight to the dead-letter state, queryable and re-drivable", async () => {
    await queue.enqueue([obj("bomb.png", "e1"), obj("ok.png", "e2")], "notification");
    const [bomb, ok] = await queue.claim("w1", 2);
    expect(
      await queue.fail(
        bomb,
        { message: "image has 2500000000 pixels", code: "pixel_limit", permanent: true },
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
    await queue.fail(job, { message: "x", code: "storage_error", permanent: false }, { startedAt });
    await settle();
    expect(received).toHaveLength(1);
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
