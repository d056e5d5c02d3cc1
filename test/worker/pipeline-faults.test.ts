/**
 * Fault injection on the real pipeline processes. Each case ends with every input processed
 * exactly once in effect: one job (done), one event row (processed), one output object.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import type { LocalPipeline } from "../../worker/local/pipeline";
import * as img from "../../worker/local/sample-images";
import { expectProcessedExactlyOnce, jobsUnder, sleep, startTestPipeline, waitUntil } from "./helpers/pipeline";

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
  await p.objectStore.stop();
  try {
    // The notifications arrive while the store is down, so every first attempt fails.
    await Promise.all(
      keys.map((k, i) => p.forwarder.forward({ bucket: p.inputBucket, key: k, size: bodies[i].length, eTag: md5(bodies[i]) })),
    );
    await waitUntil("failed attempts during the outage", async () => {
      const jobs = await jobsUnder(p, "s3down/");
      return (
        jobs.length === keys.length &&
        jobs.every((j) => j.status === "pending" && j.attempts >= 1 && j.error_code === "storage_unavailable")
      );
    });
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
  const ev = await expectProcessedExactlyOnce(p, "kill/", uploaded);
  const row = ev.get(killed!.key)!;
  expect(row.attempt).toBe(2);
  expect(row.worker_id).not.toBe(killed!.workerId);

  // A replacement worker joins; SIGTERM on an idle worker exits cleanly.
  const replacement = await p.startWorker();
  expect(await replacement.stop("SIGTERM")).toBe(0);
});
