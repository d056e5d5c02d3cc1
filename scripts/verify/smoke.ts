/**
 * The smoke check: one generated image per supported format under the run's prefix, each output waited for,
 * decoded and compared with its input, and its metadata checked against the input version that was uploaded.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { makeAnimatedGif, makeJpeg, makeLosslessWebp, makePng, makePngWithAlpha, makeTiff } from "../../worker/local/sample-images";
import { checkInversion } from "./inversion";
import type { VerifyTarget } from "./outputs";
import { exists, getObject, putObject, type PutResult } from "./s3";

export interface SmokeImage {
  readonly name: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** Every format the worker supports (worker/src/transform.ts SUPPORTED_FORMATS), lossless and lossy. */
export async function smokeImages(): Promise<SmokeImage[]> {
  return [
    { name: "gradient.png", contentType: "image/png", data: await makePng(64, 48, 5) },
    { name: "alpha gradient.png", contentType: "image/png", data: await makePngWithAlpha(48, 32) },
    { name: "photo.jpg", contentType: "image/jpeg", data: await makeJpeg(96, 64, 6) },
    { name: "lossless.webp", contentType: "image/webp", data: await makeLosslessWebp(40, 30) },
    { name: "scan.tiff", contentType: "image/tiff", data: await makeTiff(40, 30) },
    { name: "blink+anim.gif", contentType: "image/gif", data: await makeAnimatedGif(3, 16, 12) },
  ];
}

export interface SmokeResult {
  readonly key: string;
  readonly ok: boolean;
  readonly reason?: string;
  /** PUT → output visible, milliseconds (at the poll interval's resolution). */
  readonly latencyMs?: number;
}

export interface SmokeOptions {
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly pollMs?: number;
  /** Called once every output has been seen (or the wait ended), before they are fetched and checked. */
  readonly beforeCheck?: (outputKeys: readonly string[]) => Promise<void>;
}

/** Waits until every key exists in the bucket or the deadline passes; returns when each was first seen. */
export async function waitForKeys(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
  deadline: number,
  pollMs: number,
): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (;;) {
    await Promise.all(
      keys
        .filter((k) => !seen.has(k))
        .map(async (k) => {
          if (await exists(s3, bucket, k)) seen.set(k, Date.now());
        }),
    );
    if (seen.size === keys.length || Date.now() >= deadline) return seen;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export async function runSmoke(s3: S3Client, target: VerifyTarget, options: SmokeOptions): Promise<SmokeResult[]> {
  const images = await smokeImages();
  const puts = new Map<string, { image: SmokeImage; put: PutResult; at: number }>();
  for (const image of images) {
    const key = `${options.prefix}smoke/${image.name}`;
    const put = await putObject(s3, target.inputBucket, key, image.data, image.contentType);
    puts.set(key, { image, put, at: Date.now() });
  }
  const outputKeyOf = (key: string): string => `${target.outputPrefix}${key}`;
  const seen = await waitForKeys(
    s3,
    target.outputBucket,
    [...puts.keys()].map(outputKeyOf),
    Date.now() + options.timeoutMs,
    options.pollMs ?? 250,
  );
  await options.beforeCheck?.([...seen.keys()]);

  const results: SmokeResult[] = [];
  for (const [key, { image, put, at }] of puts) {
    const outKey = outputKeyOf(key);
    const seenAt = seen.get(outKey);
    if (seenAt === undefined) {
      results.push({
        key,
        ok: false,
        reason: `no output ${target.outputBucket}/${outKey} within ${Math.round(options.timeoutMs / 1000)} s`,
      });
      continue;
    }
    const latencyMs = seenAt - at;
    const out = await getObject(s3, target.outputBucket, outKey);
    if (!out) {
      results.push({ key, ok: false, latencyMs, reason: `output ${target.outputBucket}/${outKey} appeared and then disappeared` });
      continue;
    }
    const problems: string[] = [];
    const sourceETag = out.metadata["source-etag"];
    if (sourceETag === undefined) problems.push("output has no source-etag metadata");
    else if (put.eTag !== undefined && sourceETag !== put.eTag)
      problems.push(`source-etag ${sourceETag} is not the uploaded input's ETag ${put.eTag}`);
    const sourceVersion = out.metadata["source-version"];
    if (sourceVersion !== undefined && put.versionId !== undefined && sourceVersion !== put.versionId)
      problems.push(`source-version ${sourceVersion} is not the uploaded input's version ${put.versionId}`);
    if (out.metadata["source-bucket"] !== undefined && out.metadata["source-bucket"] !== target.inputBucket)
      problems.push(`source-bucket ${out.metadata["source-bucket"]} is not ${target.inputBucket}`);
    if (out.contentType !== undefined && out.contentType !== image.contentType)
      problems.push(`content type ${out.contentType}, expected ${image.contentType}`);
    const inversion = await checkInversion(image.data, out.body);
    if (!inversion.ok) problems.push(inversion.reason ?? "not an inversion");
    results.push({ key, ok: problems.length === 0, latencyMs, reason: problems.length ? problems.join("; ") : undefined });
  }
  return results;
}
