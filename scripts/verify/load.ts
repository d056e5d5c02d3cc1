/**
 * The load test: N copies of a generated photo-like JPEG (1 MP or 12 MP, the benchmark's images) uploaded at a
 * fixed arrival rate or as fast as C connections allow; each output is then waited for. PUT→output latency is
 * measured from the PUT's response to the first listing that shows the output, so it has the poll interval's
 * resolution.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { STANDARD_IMAGES, generateImage } from "../../bench/lib/images";
import { percentile } from "../../bench/lib/stats";
import type { VerifyTarget } from "./outputs";
import { listKeys, putObject } from "./s3";

export type ImageSize = "1mp" | "12mp";

export interface LoadOptions {
  readonly prefix: string;
  readonly images: number;
  readonly size: ImageSize;
  readonly concurrency: number;
  /** Arrivals per second; undefined: as fast as `concurrency` connections allow. */
  readonly rate?: number;
  readonly timeoutMs: number;
  readonly pollMs?: number;
  readonly onProgress?: (p: LoadProgress) => void;
}

export interface LoadProgress {
  readonly elapsedMs: number;
  readonly uploaded: number;
  readonly done: number;
  readonly total: number;
}

export interface LoadResult {
  readonly images: number;
  readonly size: ImageSize;
  readonly inputBytes: number;
  readonly uploadSeconds: number;
  /** First PUT to last output seen. */
  readonly wallSeconds: number;
  readonly uploaded: number;
  readonly completed: number;
  /** Completed images per second over the wall time. */
  readonly throughputPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number } | undefined;
  readonly missing: readonly string[];
  readonly uploadErrors: readonly string[];
  readonly pollMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runLoad(s3: S3Client, target: VerifyTarget, o: LoadOptions): Promise<LoadResult> {
  const image = await generateImage(o.size === "12mp" ? STANDARD_IMAGES.jpeg12mp : STANDARD_IMAGES.jpeg1mp);
  const pollMs = o.pollMs ?? 250;
  const keys = Array.from({ length: o.images }, (_, i) => `${o.prefix}load/${String(i).padStart(6, "0")}.jpg`);
  const putAt = new Map<string, number>();
  const doneAt = new Map<string, number>();
  const uploadErrors: string[] = [];
  const start = Date.now();
  let uploadsFinished = false;

  const put = async (key: string): Promise<void> => {
    try {
      await putObject(s3, target.inputBucket, key, image.data, "image/jpeg");
      putAt.set(key, Date.now());
    } catch (err) {
      uploadErrors.push(`${key}: ${(err as Error).message}`);
    }
  };
  const uploads = (async () => {
    if (o.rate !== undefined) {
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < keys.length; i++) {
        const due = start + (i * 1000) / o.rate;
        if (due > Date.now()) await sleep(due - Date.now());
        inFlight.push(put(keys[i]));
      }
      await Promise.all(inFlight);
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(o.concurrency, keys.length) }, async () => {
          while (next < keys.length) await put(keys[next++]);
        }),
      );
    }
    uploadsFinished = true;
  })();

  const outputPrefix = `${target.outputPrefix}${o.prefix}load/`;
  let lastProgress = 0;
  let deadline = Number.POSITIVE_INFINITY;
  for (;;) {
    const listed = await listKeys(s3, target.outputBucket, outputPrefix).catch(() => [] as string[]);
    const now = Date.now();
    for (const outKey of listed) {
      const key = outKey.slice(target.outputPrefix.length);
      if (!doneAt.has(key) && putAt.has(key)) doneAt.set(key, now);
    }
    if (now - lastProgress >= 1000) {
      lastProgress = now;
      o.onProgress?.({ elapsedMs: now - start, uploaded: putAt.size, done: doneAt.size, total: keys.length });
    }
    if (uploadsFinished && deadline === Number.POSITIVE_INFINITY) deadline = now + o.timeoutMs;
    if (uploadsFinished && (doneAt.size >= putAt.size || now >= deadline)) break;
    await sleep(pollMs);
  }
  await uploads;
  o.onProgress?.({ elapsedMs: Date.now() - start, uploaded: putAt.size, done: doneAt.size, total: keys.length });

  const latencies = [...doneAt].map(([k, t]) => t - putAt.get(k)!).sort((a, b) => a - b);
  const lastDone = Math.max(start, ...doneAt.values());
  const wallSeconds = (lastDone - start) / 1000;
  const uploadSeconds = (Math.max(start, ...putAt.values()) - start) / 1000;
  return {
    images: o.images,
    size: o.size,
    inputBytes: image.data.length,
    uploadSeconds,
    wallSeconds,
    uploaded: putAt.size,
    completed: doneAt.size,
    throughputPerSecond: wallSeconds > 0 ? doneAt.size / wallSeconds : 0,
    latencyMs:
      latencies.length > 0
        ? {
            p50: percentile(latencies, 50),
            p95: percentile(latencies, 95),
            p99: percentile(latencies, 99),
            max: latencies[latencies.length - 1],
          }
        : undefined,
    missing: [...putAt.keys()].filter((k) => !doneAt.has(k)),
    uploadErrors,
    pollMs,
  };
}
