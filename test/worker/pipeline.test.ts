/**
 * The whole pipeline against real PostgreSQL, a real S3 server and the real webhook and worker
 * processes: end to end, bad inputs, duplicate and out-of-order delivery, and 200 images on two
 * workers. Fault injection lives in pipeline-faults.test.ts.
 */
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { buildAlertRules, metricsUsed } from "../../k8s/alert-rules";
import sharp from "sharp";
import type { LocalPipeline } from "../../worker/local/pipeline";
import { cephRecord } from "../../worker/local/forwarder";
import * as img from "../../worker/local/sample-images";
import { encodeAwsKey } from "../../worker/src/s3-event";
import {
  events,
  expectProcessedExactlyOnce,
  getOutput,
  inParallel,
  inputVersion,
  jobsUnder,
  listOutputs,
  notificationFor,
  postNotification,
  startTestPipeline,
} from "./helpers/pipeline";

jest.setTimeout(180_000);

let p: LocalPipeline;

beforeAll(async () => {
  p = await startTestPipeline(2);
});

afterAll(async () => {
  await p?.stop();
});

async function raw(data: Buffer, animated = false) {
  return sharp(data, { animated }).raw().toBuffer({ resolveWithObject: true });
}

async function eTagOf(key: string): Promise<string> {
  const head = await p.s3Client.send(new HeadObjectCommand({ Bucket: p.inputBucket, Key: key }));
  return (head.ETag ?? "").replace(/"/g, "");
}

describe("end to end", () => {
  it("PUT -> Ceph notification -> webhook -> job -> output of exactly 255 - input, and one event row", async () => {
    const inputs: Record<string, { data: Buffer; type: string }> = {
      "e2e/gradient.png": { data: await img.makePng(40, 30), type: "image/png" },
      "e2e/alpha.png": { data: await img.makePngWithAlpha(24, 16), type: "image/png" },
      "e2e/scan.tiff": { data: await img.makeTiff(20, 10), type: "image/tiff" },
      "e2e/lossless.webp": { data: await img.makeLosslessWebp(20, 12), type: "image/webp" },
    };
    for (const [key, { data }] of Object.entries(inputs)) await p.upload(key, data);
    const ev = await expectProcessedExactlyOnce(p, "e2e/", Object.keys(inputs));

    for (const [key, { data, type }] of Object.entries(inputs)) {
      const out = await getOutput(p, key);
      expect(out.contentType).toBe(type);
      expect(out.metadata).toEqual({
        "source-bucket": p.inputBucket,
        "source-etag": await eTagOf(key),
        "source-version": (await inputVersion(p, key)).lastModified.toISOString(),
      });
      const a = await raw(data);
      const b = await raw(out.body);
      expect(b.info).toMatchObject({ width: a.info.width, height: a.info.height, channels: a.info.channels });
      const alpha = a.info.channels === 4;
      const expected = Buffer.from(a.data.map((v, i) => (alpha && i % 4 === 3 ? v : 255 - v)));
      expect(b.data.equals(expected)).toBe(true);

      const row = ev.get(key)!;
      expect(row).toMatchObject({
        status: "processed",
        output_key: key,
        input_etag: await eTagOf(key),
        input_bytes: String(data.length),
        output_bytes: String(out.body.length),
        pixels: String(a.info.width * a.info.height),
        format: type.split("/")[1],
        attempt: 1,
        error: null,
      });
      expect(["local-worker-1", "local-worker-2"]).toContain(row.worker_id);
      for (const d of [row.download_ms, row.transform_ms, row.upload_ms]) expect(d).toBeGreaterThanOrEqual(0);
    }
    expect((await jobsUnder(p, "e2e/")).every((j) => j.source === "notification" && j.attempts === 1)).toBe(true);
  });

  it("exposes Prometheus metrics: processed counters, queue depth from the database, stage histograms", async () => {
    const value = (text: string, series: string): number =>
      Number(
        text
          .split("\n")
          .find((l) => l.startsWith(`${series} `))
          ?.split(" ")[1] ?? NaN,
      );
    const texts = await Promise.all(p.workers.map(async (w) => (await fetch(`${w.url}/metrics`)).text()));
    const processedPng = texts.map((t) => value(t, 'image_pipeline_jobs_processed_total{format="png"}') || 0).reduce((a, b) => a + b, 0);
    expect(processedPng).toBeGreaterThanOrEqual(2);
    const { rows } = await p.db.query("SELECT count(*)::int AS n FROM image_pipeline.jobs WHERE status = 'done'");
    for (const t of texts) {
      expect(value(t, 'image_pipeline_queue_jobs{status="done"}')).toBe(rows[0].n);
      expect(t).toMatch(/^image_pipeline_stage_duration_seconds_bucket\{le="0\.005",stage="transform"\} \d+$/m);
    }
    const webhookText = await (await fetch(`${p.webhook.url}/metrics`)).text();
    expect(value(webhookText, 'image_pipeline_notification_records_total{outcome="stored"}')).toBeGreaterThanOrEqual(4);
  });
});

describe("bad and unusual inputs: each has a defined outcome and nothing crashes", () => {
  it("classifies failures permanently and processes the unusual-but-valid ones", async () => {
    const jpeg = await sharp({
      create: { width: 200, height: 150, channels: 3, background: "black", noise: { type: "gaussian", mean: 128, sigma: 40 } },
    })
      .jpeg()
      .toBuffer();
    const inputs: Record<string, Buffer> = {
      "bad/empty.jpg": Buffer.alloc(0),
      "bad/truncated.jpg": jpeg.subarray(0, Math.floor(jpeg.length / 2)),
      "bad/text.jpg": Buffer.from("definitely not a JPEG\n"),
      "bad/bomb.png": img.makePngBomb(50_000, 50_000),
      "odd/cmyk.jpg": await img.makeCmykJpeg(),
      "odd/16bit.png": await img.makePng16(),
      "odd/alpha.png": await img.makePngWithAlpha(),
      "odd/exif6.jpg": await img.makeRotatedJpeg(),
      "odd/anim.gif": await img.makeAnimatedGif(3, 8, 6),
    };
    for (const [key, data] of Object.entries(inputs)) await p.upload(key, data);
    const ev = await events(p, Object.keys(inputs));

    const failed = (key: string, code: string) => {
      expect(ev.get(key)).toMatchObject({ status: "failed", error_code: code, attempt: 1, output_key: null });
    };
    failed("bad/empty.jpg", "empty");
    failed("bad/truncated.jpg", "decode_failed");
    failed("bad/text.jpg", "unsupported_format");
    failed("bad/bomb.png", "pixel_limit");
    expect(ev.get("bad/bomb.png")!.error).toBe("image has 50000x50000x1 = 2500000000 pixels, above LIMIT_INPUT_PIXELS=20000000");
    // Permanent errors go straight to the dead-letter state: one attempt, no retries.
    expect((await jobsUnder(p, "bad/")).map((j) => [j.object_key, j.status, j.attempts])).toEqual([
      ["bad/bomb.png", "dead", 1],
      ["bad/empty.jpg", "dead", 1],
      ["bad/text.jpg", "dead", 1],
      ["bad/truncated.jpg", "dead", 1],
    ]);
    expect(await listOutputs(p, "bad/")).toEqual([]);

    for (const key of Object.keys(inputs).filter((k) => k.startsWith("odd/"))) expect(ev.get(key)?.status).toBe("processed");
    const cmyk = await sharp((await getOutput(p, "odd/cmyk.jpg")).body).metadata();
    expect(cmyk).toMatchObject({ format: "jpeg", space: "srgb", channels: 3 });
    expect(await sharp((await getOutput(p, "odd/16bit.png")).body).metadata()).toMatchObject({ format: "png", depth: "uchar" });
    const alphaIn = await raw(inputs["odd/alpha.png"]);
    const alphaOut = await raw((await getOutput(p, "odd/alpha.png")).body);
    for (let i = 3; i < alphaIn.data.length; i += 4) expect(alphaOut.data[i]).toBe(alphaIn.data[i]);
    const rotated = await sharp((await getOutput(p, "odd/exif6.jpg")).body).metadata();
    expect([rotated.width, rotated.height, rotated.orientation]).toEqual([2, 6, undefined]);
    const gif = await sharp((await getOutput(p, "odd/anim.gif")).body, { animated: true }).metadata();
    expect([gif.pages, gif.delay]).toEqual([3, [120, 120, 120]]);
    expect(ev.get("odd/anim.gif")).toMatchObject({ format: "gif", pixels: String(8 * 6 * 3) });

    // Both processes are still serving.
    expect(p.workers.every((w) => w.running) && p.webhook.running).toBe(true);
  });

  it("handles keys with spaces, '+', '%' and unicode in both event encodings", async () => {
    p.forwarder.paused = true;
    try {
      const keys = {
        ceph: ["keys/ceph a b+c%d.png", "keys/ceph ünï 日本%2B.png"],
        aws: ["keys/aws a b+c%d.png", "keys/aws ünï 日本%2B.png"],
      };
      const png = await img.makePng(8, 8);
      for (const k of [...keys.ceph, ...keys.aws]) await p.upload(k, png);
      const eTag = await eTagOf(keys.ceph[0]);
      for (const key of keys.ceph) {
        expect((await postNotification(p, { Records: [await notificationFor(p, key)] })).status).toBe(200);
      }
      for (const key of keys.aws) {
        const rec = {
          eventVersion: "2.1",
          eventSource: "minio:s3",
          eventName: "s3:ObjectCreated:Put",
          eventTime: (await inputVersion(p, key)).lastModified.toISOString(),
          opaqueData: p.webhookSecret,
          s3: { bucket: { name: p.inputBucket }, object: { key: encodeAwsKey(key), size: png.length, eTag: `"${eTag}"` } },
        };
        expect(encodeAwsKey(key)).not.toBe(key);
        expect((await postNotification(p, { Records: [rec] })).status).toBe(200);
      }
      await expectProcessedExactlyOnce(p, "keys/", [...keys.ceph, ...keys.aws]);
    } finally {
      p.forwarder.paused = false;
    }
  });

  it("rejects a wrong OpaqueData (401) and malformed JSON (400), ignores a foreign bucket (200), and keeps serving", async () => {
    const png = await img.makePng(4, 4);
    const eTag = "0123456789abcdef0123456789abcdef";
    const wrong = await postNotification(p, {
      Records: [cephRecord({ bucket: p.inputBucket, key: "rej/x.png", size: png.length, eTag }, "not-the-secret")],
    });
    expect(wrong.status).toBe(401);
    const malformed = await postNotification(p, '{"Records": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/^body is not valid JSON/);
    const foreign = await postNotification(p, {
      Records: [cephRecord({ bucket: "someone-elses-bucket", key: "rej/y.png", size: png.length, eTag }, p.webhookSecret)],
    });
    expect(foreign).toEqual({ status: 200, body: { stored: 0, duplicates: 0, ignored: [{ key: "rej/y.png", reason: "ignored_bucket" }] } });
    expect(await jobsUnder(p, "rej/")).toEqual([]);
    expect(p.webhook.running).toBe(true);
    expect((await fetch(`${p.webhook.url}/readyz`)).status).toBe(200);
  });
});

describe("delivery semantics", () => {
  it("the same notification delivered 5 times and out of order creates one job per object", async () => {
    p.forwarder.paused = true;
    const keys = ["dup/one.png", "dup/two.png", "dup/three.png"];
    try {
      for (const [i, k] of keys.entries()) await p.upload(k, await img.makePng(10, 10, i));
      const records = await Promise.all(keys.map((key) => notificationFor(p, key)));
      // 5 deliveries of each, interleaved in a fixed scrambled order, sent concurrently.
      const order = [2, 0, 1, 1, 2, 0, 0, 2, 1, 2, 1, 0, 0, 1, 2];
      const results = await Promise.all(order.map((i) => postNotification(p, { Records: [records[i]] })));
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(results.reduce((n, r) => n + (r.body.stored as number), 0)).toBe(3);
      expect(results.reduce((n, r) => n + (r.body.duplicates as number), 0)).toBe(12);
    } finally {
      p.forwarder.paused = false;
    }
    await expectProcessedExactlyOnce(p, "dup/", keys);
    expect((await jobsUnder(p, "dup/")).map((j) => j.attempts)).toEqual([1, 1, 1]);
  });

  it("two workers process 200 images: all done, none processed twice", async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `bulk/img-${String(i).padStart(3, "0")}.png`);
    const bodies = await Promise.all(keys.map((_, i) => img.makePng(12, 8, i)));
    const t0 = Date.now();
    await inParallel(
      keys.map((k, i) => [k, bodies[i]] as const),
      8,
      ([k, b]) => p.upload(k, b),
    );
    const ev = await expectProcessedExactlyOnce(p, "bulk/", keys);
    const seconds = (Date.now() - t0) / 1000;
    const jobs = await jobsUnder(p, "bulk/");
    // One claim each: attempts counts claims, so 1 means no job was ever held by two workers.
    expect(jobs.filter((j) => j.attempts !== 1)).toEqual([]);
    const perWorker = new Map<string, number>();
    for (const r of ev.values()) perWorker.set(r.worker_id, (perWorker.get(r.worker_id) ?? 0) + 1);
    expect([...perWorker.keys()].sort()).toEqual(["local-worker-1", "local-worker-2"]);
    process.stdout.write(
      `200 images, 2 workers: ${seconds.toFixed(1)} s from first upload to last event row (${(200 / seconds).toFixed(0)} images/s); per worker ${JSON.stringify(Object.fromEntries(perWorker))}\n`,
    );
  });
});

describe("the alert rules' metrics", () => {
  it("every metric an alert rule reads is served on the running webhook's and workers' /metrics, with the labels the rules select", async () => {
    const rule = buildAlertRules({
      namespace: "image-pipeline",
      instance: "image-pipeline",
      ruleLabels: {},
      oldestPendingSeconds: 900,
      webhookErrorRatio: 0.05,
    });
    const urls = [p.webhook.url, ...p.workers.filter((w) => w.running).map((w) => w.url)];
    const served = (await Promise.all(urls.map(async (u) => (await fetch(`${u}/metrics`)).text()))).join("\n");
    for (const name of metricsUsed(rule))
      expect({ name, served: new RegExp(`^# TYPE ${name} `, "m").test(served) }).toEqual({ name, served: true });
    // The label values the expressions select on: the webhook's notify route, and every dead-letter reason.
    expect(served).toMatch(/^image_pipeline_http_responses_total\{route="POST \/notify",code="200"\} [1-9]/m);
    for (const reason of ["permanent", "retry_budget", "strikes"])
      expect(served).toMatch(new RegExp(`^image_pipeline_dead_letters\\{reason="${reason}"\\} \\d+$`, "m"));
    expect(served).toMatch(/^image_pipeline_queue_oldest_pending_seconds \d/m);
  });
});
