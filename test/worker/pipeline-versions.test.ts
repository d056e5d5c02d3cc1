/**
 * The newest version of every object wins, on the real pipeline processes: a newer upload while an older
 * version is being processed, and the same content uploaded again (A-B-A), with and without its
 * notification. Each case ends with exactly one current output per input version (its pixels the inverse
 * of the current input, its metadata naming that version) and an event row for every version.
 */
import { createHash } from "node:crypto";
import sharp from "sharp";
import type { LocalPipeline } from "../../worker/local/pipeline";
import * as img from "../../worker/local/sample-images";
import { getOutput, inputVersion, listOutputs, nextSecond, sample, startTestPipeline, waitUntil } from "./helpers/pipeline";

jest.setTimeout(180_000);

let p: LocalPipeline;

beforeAll(async () => {
  p = await startTestPipeline(2);
});

afterAll(async () => {
  await p?.stop();
});

const md5 = (b: Buffer): string => createHash("md5").update(b).digest("hex");

interface VersionEvent {
  input_etag: string;
  /** The version's mtime; null where the event log does not record versions. */
  input_mtime: Date | null;
  status: string;
  error_code: string | null;
  started_at: Date;
  finished_at: Date;
}

async function eventsOf(key: string): Promise<VersionEvent[]> {
  const { rows } = await p.db.query<Omit<VersionEvent, "input_mtime"> & { input_mtime: string | null }>(
    `SELECT input_etag, to_jsonb(e) ->> 'input_mtime' AS input_mtime, status, error_code, started_at, finished_at
     FROM image_pipeline.events e WHERE input_bucket = $1 AND input_key = $2 ORDER BY finished_at`,
    [p.inputBucket, key],
  );
  return rows.map((r) => ({ ...r, input_mtime: r.input_mtime === null ? null : new Date(r.input_mtime) }));
}

async function waitForEvent(key: string, eTag: string, mtime: Date, status = "processed"): Promise<void> {
  const sameVersion = (e: VersionEvent): boolean =>
    e.input_etag === eTag && (e.input_mtime === null || e.input_mtime.getTime() === mtime.getTime());
  await waitUntil(
    `${status} event of ${key} ${eTag}@${mtime.toISOString()}`,
    async () => (await eventsOf(key)).some((e) => sameVersion(e) && e.status === status),
    60_000,
  );
}

/** The output is the inverse of `input`, which is the current version of the input, and says so in its metadata. */
async function expectCurrentOutput(key: string, input: Buffer): Promise<void> {
  const current = await inputVersion(p, key);
  expect(current.eTag).toBe(md5(input));
  const out = await getOutput(p, key);
  expect(out.metadata).toEqual({
    "source-bucket": p.inputBucket,
    "source-etag": current.eTag,
    "source-version": current.lastModified.toISOString(),
  });
  const a = await sharp(input).raw().toBuffer({ resolveWithObject: true });
  const b = await sharp(out.body).raw().toBuffer({ resolveWithObject: true });
  expect(b.info).toMatchObject({ width: a.info.width, height: a.info.height });
  expect(b.data.equals(Buffer.from(a.data.map((v) => 255 - v)))).toBe(true);
  expect(await listOutputs(p, key)).toEqual([key]);
}

it("2. a newer version uploaded while an older one is being processed wins; the two never run at once", async () => {
  // v1 is a large JPEG, v2 a small PNG (exactly invertible): the key's extension means nothing to the pipeline.
  const key = "versions/overtaken.img";
  // Large enough that decoding, inverting and encoding v1 take a while.
  const v1 = await sharp({
    create: { width: 3000, height: 2000, channels: 3, background: "black", noise: { type: "gaussian", mean: 128, sigma: 50 } },
  })
    .jpeg({ quality: 90 })
    .toBuffer();
  const v2 = await img.makePng(24, 16, 600);
  const downloads = async (): Promise<number> => {
    const texts = await Promise.all(p.workers.filter((w) => w.running).map(async (w) => (await fetch(`${w.url}/metrics`)).text()));
    return texts.reduce((n, t) => n + sample(t, 'image_pipeline_stage_duration_seconds_count{stage="download"}'), 0);
  };
  const before = await downloads();
  await p.upload(key, v1);
  const v1Version = await inputVersion(p, key);
  // v2 arrives after v1 is downloaded, while v1 is being transformed.
  await waitUntil("v1 to be downloaded", async () => (await downloads()) > before);
  await p.upload(key, v2);
  const v2Version = await inputVersion(p, key);
  await waitForEvent(key, v2Version.eTag, v2Version.lastModified);
  await waitUntil("an event row for v1", async () => (await eventsOf(key)).some((e) => e.input_etag === v1Version.eTag));

  const events = await eventsOf(key);
  expect(events.map((e) => [e.input_etag, e.status, e.error_code])).toEqual([
    [v1Version.eTag, "skipped", "superseded"],
    [v2Version.eTag, "processed", null],
  ]);
  // v2's job started only after v1's ended: one job per object at a time.
  expect(events[1].started_at.getTime()).toBeGreaterThanOrEqual(events[0].finished_at.getTime());
  await expectCurrentOutput(key, v2);
});

it("3. A-B-A: the same content uploaded again after another is a new version, processed again", async () => {
  const key = "versions/aba.png";
  const a = await img.makePng(20, 12, 700);
  const b = await img.makePng(20, 12, 701);
  await p.upload(key, a);
  const first = await inputVersion(p, key);
  await waitForEvent(key, first.eTag, first.lastModified);
  await nextSecond();
  await p.upload(key, b);
  const second = await inputVersion(p, key);
  await waitForEvent(key, second.eTag, second.lastModified);
  await nextSecond();
  await p.upload(key, a);
  const third = await inputVersion(p, key);
  expect(third.eTag).toBe(first.eTag);
  await waitForEvent(key, third.eTag, third.lastModified);
  expect((await eventsOf(key)).map((e) => [e.input_etag, e.input_mtime?.toISOString(), e.status])).toEqual([
    [first.eTag, first.lastModified.toISOString(), "processed"],
    [second.eTag, second.lastModified.toISOString(), "processed"],
    [third.eTag, third.lastModified.toISOString(), "processed"],
  ]);
  await expectCurrentOutput(key, a);
});

it("3. A-B-A with the last notification lost: the reconciler finds the output made from B and re-queues A", async () => {
  const key = "versions/aba-lost.png";
  const a = await img.makePng(20, 12, 800);
  const b = await img.makePng(20, 12, 801);
  await p.upload(key, a);
  const first = await inputVersion(p, key);
  await waitForEvent(key, first.eTag, first.lastModified);
  await nextSecond();
  await p.upload(key, b);
  const second = await inputVersion(p, key);
  await waitForEvent(key, second.eTag, second.lastModified);
  await nextSecond();
  p.forwarder.paused = true;
  try {
    await p.upload(key, a);
  } finally {
    p.forwarder.paused = false;
  }
  const third = await inputVersion(p, key);
  await waitForEvent(key, third.eTag, third.lastModified);
  const { rows } = await p.db.query("SELECT etag, source FROM image_pipeline.jobs WHERE bucket = $1 AND object_key = $2 ORDER BY id", [
    p.inputBucket,
    key,
  ]);
  expect(rows).toEqual([
    { etag: first.eTag, source: "notification" },
    { etag: second.eTag, source: "notification" },
    { etag: first.eTag, source: "reconciler" },
  ]);
  await expectCurrentOutput(key, a);
});
