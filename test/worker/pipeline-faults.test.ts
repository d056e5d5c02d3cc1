/**
 * Fault injection on the real pipeline processes. Each case ends with every input processed
 * exactly once in effect: one job (done), one event row (processed), one output object.
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import type { LocalPipeline } from "../../worker/local/pipeline";
import * as img from "../../worker/local/sample-images";
import {
  expectProcessedExactlyOnce,
  inputVersion,
  jobsUnder,
  notificationFor,
  postNotification,
  sample,
  sleep,
  startTestPipeline,
  waitUntil,
} from "./helpers/pipeline";

jest.setTimeout(180_000);

let p: LocalPipeline;

beforeAll(async () => {
  p = await startTestPipeline(2);
});

afterAll(async () => {
  await p?.stop();
});

const md5 = (b: Buffer): string => createHash("md5").update(b).digest("hex");

function notificationStatuses(prefix: string): (number | "error")[] {
  const file = path.join(p.logDir, "notifications.log");
  return fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { key: string; status: number | "error" })
    .filter((d) => d.key.startsWith(prefix))
    .map((d) => d.status);
}

it("webhook down while objects are uploaded: notifications are lost, the reconciler catches up", async () => {
  await p.webhook.stop("SIGTERM");
  p.forwarder.persistent = false;
  const keys = Array.from({ length: 5 }, (_, i) => `whdown/img-${i}.png`);
  const droppedBefore = p.forwarder.dropped;
  try {
    for (const [i, k] of keys.entries()) await p.upload(k, await img.makePng(10, 10, i));
    await p.forwarder.drain();
    expect(p.forwarder.dropped - droppedBefore).toBe(5);
    expect(notificationStatuses("whdown/")).toEqual(["error", "error", "error", "error", "error"]);
  } finally {
    p.forwarder.persistent = true;
    await p.webhook.start();
  }
  await expectProcessedExactlyOnce(p, "whdown/", keys);
  expect((await jobsUnder(p, "whdown/")).map((j) => j.source)).toEqual(Array(5).fill("reconciler"));
});

it("S3 server unavailable for a while: downloads fail, are retried with backoff, and succeed", async () => {
  const keys = Array.from({ length: 6 }, (_, i) => `s3down/img-${i}.png`);
  const bodies = await Promise.all(keys.map((_, i) => img.makePng(10, 10, 100 + i)));
  p.forwarder.paused = true;
  try {
    for (const [i, k] of keys.entries()) await p.upload(k, bodies[i]);
  } finally {
    p.forwarder.paused = false;
  }
  const mtimes = await Promise.all(keys.map(async (k) => (await inputVersion(p, k)).lastModified.toISOString()));
  await p.objectStore.stop();
  try {
    // The notifications arrive while the store is down, so every first attempt fails.
    await Promise.all(
      keys.map((k, i) =>
        p.forwarder.forward({ bucket: p.inputBucket, key: k, size: bodies[i].length, eTag: md5(bodies[i]), eventTime: mtimes[i] }),
      ),
    );
    await waitUntil(
      "failed attempts during the outage",
      async () => {
        const jobs = await jobsUnder(p, "s3down/");
        return (
          jobs.length === keys.length &&
          // Retrying: each job is pending or, for a moment per attempt, running again.
          jobs.every((j) => ["pending", "running"].includes(j.status) && j.attempts >= 1 && j.error_code === "storage_unavailable")
        );
      },
      90_000,
    );
    await sleep(1_000);
  } finally {
    await p.objectStore.start();
  }
  const ev = await expectProcessedExactlyOnce(p, "s3down/", keys);
  for (const k of keys) expect(ev.get(k)!.attempt).toBeGreaterThanOrEqual(2);
});

it("PostgreSQL restarted mid-run: the webhook answers 503, the topic retries, workers reconnect", async () => {
  const keys = Array.from({ length: 20 }, (_, i) => `pgrestart/img-${String(i).padStart(2, "0")}.png`);
  const bodies = await Promise.all(keys.map((_, i) => img.makePng(16, 12, 200 + i)));
  for (let i = 0; i < 8; i++) await p.upload(keys[i], bodies[i]);
  await p.postgres.stop();
  try {
    for (let i = 8; i < keys.length; i++) await p.upload(keys[i], bodies[i]);
    await waitUntil("a 503 from the webhook", async () => notificationStatuses("pgrestart/").includes(503));
    await sleep(1_000);
  } finally {
    await p.postgres.start();
  }
  await expectProcessedExactlyOnce(p, "pgrestart/", keys);
  expect(p.workers.filter((w) => w.running)).toHaveLength(2);
  expect((await fetch(`${p.webhook.url}/readyz`)).status).toBe(200);
});

it("a worker killed with SIGKILL mid-job: its job is reclaimed after the visibility timeout and done once", async () => {
  // Large enough that decoding, inverting and encoding take a while, so the job can be caught in flight.
  const big = await sharp({
    create: { width: 2400, height: 1800, channels: 3, background: "black", noise: { type: "gaussian", mean: 128, sigma: 50 } },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  const uploaded: string[] = [];
  let killed: { key: string; workerId: string } | undefined;
  for (let i = 0; i < 5 && !killed; i++) {
    const key = `kill/big-${i}.jpg`;
    uploaded.push(key);
    await p.upload(key, big);
    let holder = "";
    await waitUntil(`a worker to claim ${key}`, async () => {
      const { rows } = await p.db.query("SELECT status, locked_by FROM image_pipeline.jobs WHERE object_key = $1", [key]);
      holder = rows[0]?.status === "running" ? rows[0].locked_by : "";
      return holder !== "" || rows[0]?.status === "done";
    });
    const worker = p.workers.find((w) => w.workerId === holder && w.running);
    if (!worker) continue;
    // Freeze it, then confirm it still holds the job (it cannot finish while stopped) before killing it.
    worker.signal("SIGSTOP");
    const { rows } = await p.db.query("SELECT status, locked_by FROM image_pipeline.jobs WHERE object_key = $1", [key]);
    if (rows[0]?.status === "running" && rows[0].locked_by === holder) {
      worker.signal("SIGKILL");
      await worker.exited();
      killed = { key, workerId: holder };
    } else {
      worker.signal("SIGCONT");
    }
  }
  expect(killed).toBeDefined();
  // The supervisor restarts the crashed worker, as a new process with a new id.
  const crashed = p.workers.find((w) => w.workerId.startsWith(`${killed!.workerId}-r`) || w.workerId === killed!.workerId)!;
  await waitUntil(
    "the supervisor to restart the killed worker",
    async () => crashed.ready && crashed.workerId === `${killed!.workerId}-r1`,
    90_000,
  );
  const ev = await expectProcessedExactlyOnce(p, "kill/", uploaded);
  const row = ev.get(killed!.key)!;
  expect(row.attempt).toBe(2);
  expect(row.worker_id).not.toBe(killed!.workerId);

  // A replacement worker joins; SIGTERM on an idle worker exits cleanly.
  const replacement = await p.startWorker();
  expect(await replacement.stop("SIGTERM")).toBe(0);
});

it("a legal 1,000-character key crashes the local S3 server: the supervisor restarts it and nothing else stops", async () => {
  const server = p.objectStore.process;
  const [pid, restarts] = [server.pid, server.restarts];
  const others = [p.postgres.process, p.webhook.process, ...p.workers.map((w) => w.process)].filter((c) => c.running);
  const otherPids = others.map((c) => c.pid);
  // One attempt, so the client does not crash the restarted server again with its retries.
  const client = new S3Client({
    endpoint: p.s3.endpoint,
    region: p.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: p.s3.accessKeyId, secretAccessKey: p.s3.secretAccessKey },
    maxAttempts: 1,
  });
  try {
    await expect(client.send(new PutObjectCommand({ Bucket: p.inputBucket, Key: "k".repeat(1000), Body: "x" }))).rejects.toThrow();
  } finally {
    client.destroy();
  }
  await waitUntil("the S3 server to be restarted", async () => server.restarts > restarts && server.ready, 90_000);
  expect(server.pid).not.toBe(pid);
  // Nothing else stopped or restarted.
  expect(others.map((c) => c.pid)).toEqual(otherPids);
  const key = "longkey/after-the-crash.png";
  await p.upload(key, await img.makePng(6, 6, 7));
  await expectProcessedExactlyOnce(p, "longkey/", [key]);
});

/** Stops the regular workers for a test that needs its own; returns a function that starts them again. */
async function withoutRegularWorkers(): Promise<() => Promise<void>> {
  const regular = p.workers.filter((w) => w.running);
  await Promise.all(regular.map((w) => w.stop("SIGTERM")));
  return async () => {
    await Promise.all(regular.map((w) => w.start()));
  };
}

const metricsOf = async (url: string): Promise<string> => (await fetch(`${url}/metrics`)).text();

it("1. an S3 outage longer than MAX_ATTEMPTS retries last (15 s): jobs keep retrying on a time budget and nothing is lost", async () => {
  // MAX_ATTEMPTS=10 with 200 ms base and 1 s cap spends every attempt within about 8 s; the outage is longer.
  const keys = Array.from({ length: 4 }, (_, i) => `outage/img-${i}.png`);
  p.forwarder.paused = true;
  try {
    for (const [i, k] of keys.entries()) await p.upload(k, await img.makePng(10, 10, 300 + i));
  } finally {
    p.forwarder.paused = false;
  }
  const records = await Promise.all(keys.map((k) => notificationFor(p, k)));
  await p.objectStore.stop();
  const outageStarted = Date.now();
  try {
    for (const r of records) expect((await postNotification(p, { Records: [r] })).status).toBe(200);
    await waitUntil("15 s of outage", async () => Date.now() - outageStarted > 15_000, 30_000);
    const jobs = await jobsUnder(p, "outage/");
    // Still retrying: pending between attempts, or running one at this instant; none dead-lettered.
    expect(jobs.map((j) => (j.status === "running" ? "pending" : j.status))).toEqual(["pending", "pending", "pending", "pending"]);
    expect(Math.min(...jobs.map((j) => j.attempts))).toBeGreaterThan(10);
  } finally {
    await p.objectStore.start();
  }
  await expectProcessedExactlyOnce(p, "outage/", keys);
  const { rows } = await p.db.query(
    "SELECT count(*)::int AS n FROM image_pipeline.jobs WHERE status = 'dead' AND starts_with(object_key, 'outage/')",
  );
  expect(rows[0].n).toBe(0);
});

it("1. a job whose retry budget runs out in an outage is a visible dead letter, and the reconciler re-queues it when S3 is back", async () => {
  const restart = await withoutRegularWorkers();
  const keys = [`budget/a.png`, `budget/b.png`];
  p.forwarder.paused = true;
  try {
    for (const [i, k] of keys.entries()) await p.upload(k, await img.makePng(9, 9, 400 + i));
  } finally {
    p.forwarder.paused = false;
  }
  const records = await Promise.all(keys.map((k) => notificationFor(p, k)));
  await p.objectStore.stop();
  let worker;
  try {
    for (const r of records) expect((await postNotification(p, { Records: [r] })).status).toBe(200);
    worker = await p.startWorker({ RETRY_BUDGET_SECONDS: "2" });
    await waitUntil("the jobs to be dead-lettered by the retry budget", async () => {
      const { rows } = await p.db.query(
        "SELECT count(*)::int AS n FROM image_pipeline.jobs WHERE status = 'dead' AND dead_reason = 'retry_budget' AND starts_with(object_key, 'budget/')",
      );
      return rows[0].n === 2;
    });
    expect(sample(await metricsOf(worker.url), 'image_pipeline_dead_letters{reason="retry_budget"}')).toBeGreaterThanOrEqual(2);
  } finally {
    await p.objectStore.start();
  }
  await waitUntil(
    "the reconciler to re-queue the dead letters and the worker to process them",
    async () => {
      const { rows } = await p.db.query(
        "SELECT count(*)::int AS n FROM image_pipeline.events WHERE status = 'processed' AND starts_with(input_key, 'budget/')",
      );
      return rows[0].n === 2;
    },
    90_000,
  );
  await expectProcessedExactlyOnce(p, "budget/", keys);
  expect((await jobsUnder(p, "budget/")).map((j) => j.source)).toEqual(["reconciler", "reconciler"]);
  await worker?.stop("SIGTERM");
  await restart();
});

it("4. a frozen S3 server (it accepts connections, never answers): requests time out, are logged and counted, and retried after it thaws", async () => {
  const restart = await withoutRegularWorkers();
  const keys = [`frozen/a.png`, `frozen/b.png`];
  for (const [i, k] of keys.entries()) await p.upload(k, await img.makePng(7, 7, 500 + i));
  p.objectStore.signal("SIGSTOP");
  const frozenAt = Date.now();
  let worker;
  try {
    worker = await p.startWorker({ S3_CONNECT_TIMEOUT_MS: "1000", S3_REQUEST_TIMEOUT_MS: "1500" });
    const w = worker;
    await waitUntil(
      "the frozen requests to time out and the jobs to go back to the queue",
      async () => {
        const jobs = await jobsUnder(p, "frozen/");
        return jobs.length === 2 && jobs.every((j) => j.status === "pending" && j.error_code === "storage_timeout");
      },
      60_000,
    );
    // Not held for 70 s: each attempt gives up after its request timeout (twice, with the SDK's one retry).
    expect(Date.now() - frozenAt).toBeLessThan(45_000);
    expect(sample(await metricsOf(w.url), 'image_pipeline_s3_timeouts_total{operation="GetObjectCommand"}')).toBeGreaterThanOrEqual(2);
    const logged = fs
      .readFileSync(path.join(p.logDir, `${w.name}.log`), "utf8")
      .split("\n")
      .filter((l) => l.includes('"S3 request timed out"'));
    expect(logged.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(logged[0])).toMatchObject({
      level: "warn",
      operation: expect.any(String),
      err: expect.objectContaining({ message: expect.stringMatching(/timeout/i) }),
    });
  } finally {
    p.objectStore.signal("SIGCONT");
  }
  await expectProcessedExactlyOnce(p, "frozen/", keys);
  await worker?.stop("SIGTERM");
  await restart();
});
