/**
 * `npm run verify` against the real local pipeline (embedded PostgreSQL, s3rver, webhook and worker processes):
 * it passes on a healthy pipeline and removes what it uploaded, and it reports seeded faults as failed.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { localStackOutputs, type LocalPipeline } from "../../worker/local/pipeline";
import { parseArgs } from "../../scripts/verify";
import { markdownReport } from "../../scripts/verify/report";
import { parseOutputs, readOutputsFile, type VerifyTarget } from "../../scripts/verify/outputs";
import { verify, type VerifyOptions } from "../../scripts/verify/run";
import { listKeys } from "../../scripts/verify/s3";
import { smokeImages } from "../../scripts/verify/smoke";
import { startTestPipeline } from "../worker/helpers/pipeline";

jest.setTimeout(180_000);

let pipeline: LocalPipeline;
let target: VerifyTarget;
const smokeOnly: VerifyOptions = { images: 0, size: "1mp", concurrency: 4, keep: false, timeoutMs: 60_000 };

beforeAll(async () => {
  pipeline = await startTestPipeline(2);
  target = parseOutputs(JSON.parse(JSON.stringify(localStackOutputs(pipeline))), "local");
});
afterAll(() => pipeline?.stop());

async function objectsUnder(prefix: string): Promise<string[]> {
  return [
    ...(await listKeys(pipeline.s3Client, target.inputBucket, prefix)),
    ...(await listKeys(pipeline.s3Client, target.outputBucket, prefix)),
  ];
}

test("the smoke check passes on the local pipeline, one image per supported format, and removes its objects", async () => {
  const report = await verify(target, smokeOnly);
  expect(report.failures).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.smoke.map((s) => path.extname(s.key)).sort()).toEqual([".gif", ".jpg", ".png", ".png", ".tiff", ".webp"]);
  expect(report.smoke.every((s) => s.ok && (s.latencyMs ?? -1) >= 0)).toBe(true);
  expect(report.prefix).toMatch(/^verify\/\d{8}T\d{6}-[0-9a-f]{6}\/$/);
  expect(await objectsUnder(report.prefix)).toEqual([]);
  expect(markdownReport(report)).toContain("## verify: PASSED");
});

test("--keep leaves the test objects in both buckets", async () => {
  const report = await verify(target, { ...smokeOnly, keep: true });
  expect(report.ok).toBe(true);
  expect((await listKeys(pipeline.s3Client, target.inputBucket, report.prefix)).length).toBe(6);
  expect((await listKeys(pipeline.s3Client, target.outputBucket, report.prefix)).length).toBe(6);
});

test("an output deleted before it is checked is reported with its key", async () => {
  const report = await verify(target, {
    ...smokeOnly,
    beforeCheck: async (outputKeys) => {
      const victim = outputKeys.find((k) => k.endsWith("scan.tiff"))!;
      await pipeline.s3Client.send(new DeleteObjectCommand({ Bucket: target.outputBucket, Key: victim }));
    },
  });
  expect(report.ok).toBe(false);
  expect(report.failures).toEqual([{ key: `${report.prefix}smoke/scan.tiff`, reason: expect.stringContaining("disappeared") }]);
  expect(markdownReport(report)).toContain("## verify: FAILED");
});

test("an output that is not the inversion of its input, or names another input version, fails", async () => {
  const images = await smokeImages();
  const png = images.find((i) => i.name === "gradient.png")!;
  const report = await verify(target, {
    ...smokeOnly,
    beforeCheck: async (outputKeys) => {
      // The input itself where its inversion belongs, with the metadata the worker would write.
      const pngKey = outputKeys.find((k) => k.endsWith("gradient.png") && !k.includes("alpha"))!;
      const head = await pipeline.s3Client.send(new HeadObjectCommand({ Bucket: target.outputBucket, Key: pngKey }));
      await pipeline.s3Client.send(
        new PutObjectCommand({
          Bucket: target.outputBucket,
          Key: pngKey,
          Body: png.data,
          ContentType: "image/png",
          Metadata: head.Metadata,
        }),
      );
      const webpKey = outputKeys.find((k) => k.endsWith(".webp"))!;
      const out = await pipeline.s3Client.send(new GetObjectCommand({ Bucket: target.outputBucket, Key: webpKey }));
      await pipeline.s3Client.send(
        new PutObjectCommand({
          Bucket: target.outputBucket,
          Key: webpKey,
          Body: Buffer.from(await out.Body!.transformToByteArray()),
          ContentType: "image/webp",
          Metadata: { ...out.Metadata, "source-etag": "0123456789abcdef0123456789abcdef" },
        }),
      );
    },
  });
  const reasons = Object.fromEntries(report.failures.map((f) => [path.basename(f.key), f.reason]));
  expect(Object.keys(reasons).sort()).toEqual(["gradient.png", "lossless.webp"]);
  expect(reasons["gradient.png"]).toMatch(/not an exact inversion/);
  expect(reasons["lossless.webp"]).toMatch(/source-etag 0123456789abcdef0123456789abcdef is not the uploaded input's ETag/);
});

test("the load test uploads N images, waits for every output and reports throughput and latency percentiles", async () => {
  const progress: number[] = [];
  const report = await verify(target, { ...smokeOnly, images: 8, concurrency: 4, onProgress: (p) => progress.push(p.done) });
  expect(report.failures).toEqual([]);
  const load = report.load!;
  expect(load).toMatchObject({ images: 8, uploaded: 8, completed: 8, missing: [], uploadErrors: [] });
  expect(load.throughputPerSecond).toBeGreaterThan(0);
  expect(load.latencyMs!.p50).toBeLessThanOrEqual(load.latencyMs!.p95);
  expect(load.latencyMs!.p95).toBeLessThanOrEqual(load.latencyMs!.p99);
  expect(progress[progress.length - 1]).toBe(8);
  expect(await objectsUnder(report.prefix)).toEqual([]);
});

test("with every worker stopped, each smoke image is reported missing and the run fails", async () => {
  await Promise.all(pipeline.workers.map((w) => w.stop("SIGTERM")));
  const report = await verify(target, { ...smokeOnly, timeoutMs: 4_000 });
  expect(report.ok).toBe(false);
  expect(report.failures).toHaveLength(6);
  for (const f of report.failures) expect(f.reason).toMatch(/^no output images-out\/verify\/.* within 4 s$/);
  expect(await objectsUnder(report.prefix)).toEqual([]);
});

describe("reading the stack outputs", () => {
  test("a READY line written to a file is a valid outputs file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-outputs-"));
    const file = path.join(dir, "ready.json");
    fs.writeFileSync(file, `READY ${JSON.stringify(localStackOutputs(pipeline))}\n`);
    expect(readOutputsFile(file)).toMatchObject({
      s3Endpoint: pipeline.s3.endpoint,
      inputBucket: "images-in",
      outputBucket: "images-out",
      outputPrefix: "",
    });
    fs.rmSync(dir, { recursive: true });
  });

  test("missing keys and masked secrets are named", () => {
    expect(() => parseOutputs({ s3Endpoint: "http://x", s3AccessKeyId: "a", inputBucket: "i", outputBucket: "o" }, "stack dev")).toThrow(
      "stack dev: s3SecretAccessKey: missing or not a string (pulumi stack output needs --show-secrets)",
    );
    expect(() =>
      parseOutputs(
        { s3Endpoint: "http://x", s3AccessKeyId: "a", s3SecretAccessKey: "s", inputBucket: "i", outputBucket: "o", kubeconfig: "[secret]" },
        "stack dev",
      ),
    ).toThrow(/kubeconfig is masked/);
  });
});

describe("command line", () => {
  test("exactly one of --stack and --outputs, and checked numbers", () => {
    expect(parseArgs(["--stack", "dev"])).toMatchObject({ stack: "dev", images: 0, size: "1mp", concurrency: 8, keep: false, json: false });
    expect(parseArgs(["--outputs", "o.json", "--images", "50", "--size", "12mp", "--rate", "2.5", "--keep", "--json"])).toMatchObject({
      outputs: "o.json",
      images: 50,
      size: "12mp",
      rate: 2.5,
      keep: true,
      json: true,
    });
    expect(() => parseArgs([])).toThrow(/exactly one of --stack and --outputs/);
    expect(() => parseArgs(["--stack", "dev", "--outputs", "x"])).toThrow(/exactly one/);
    expect(() => parseArgs(["--stack", "dev", "--size", "3mp"])).toThrow("--size must be 1mp or 12mp, got '3mp'");
    expect(() => parseArgs(["--stack", "dev", "--images", "-1"])).toThrow(/--images needs a value|--images must be a positive integer/);
    expect(() => parseArgs(["--stack", "dev", "--bogus"])).toThrow(/unknown argument --bogus; usage: npm run verify/);
  });
});
