/**
 * The worker's overhead around the transform, for builds side by side: one local pipeline (the same
 * PostgreSQL, S3 server and webhook for every build), then one worker at a time, each from its own
 * compiled tree, through the same 1 MP images. Each run measures the worker process's CPU from /proc
 * (all threads, and the JavaScript thread alone) over its batch, the batch's throughput and the
 * per-job process time; with `profile`, the worker runs under `node --cpu-prof` and the probe returns the
 * profile's path and the batch's window on the profile's clock. Runs as compiled JavaScript; answers over IPC.
 */
import fs from "node:fs";
import path from "node:path";
import { startLocalPipeline } from "../../worker/local/pipeline";
import { generateImage, STANDARD_IMAGES } from "../lib/images";
import { cpuMs, mainThreadCpuMs, threadCpuByName, threadDelta } from "../lib/proc";
import { serveProbe } from "../lib/probe-server";

export interface WorkerBuild {
  /** What the rows call it ("current", "baseline e14f1d7"). */
  readonly label: string;
  /** Directory holding that build's compiled worker/src (main.js). */
  readonly serviceDir: string;
}

export interface OverheadRun {
  readonly build: string;
  readonly profile: boolean;
}

export interface OverheadRequest {
  readonly type: "overhead";
  readonly builds: readonly WorkerBuild[];
  /** In order; each names a build by label. */
  readonly runs: readonly OverheadRun[];
  readonly env: Record<string, string>;
  readonly batch: number;
  readonly uploadConcurrency: number;
  /** Where the profiles go (one subdirectory per run). */
  readonly profileDir: string;
  readonly timeoutMs: number;
}

export interface OverheadRunResult {
  readonly build: string;
  readonly profile: boolean;
  readonly images: number;
  readonly failed: number;
  readonly throughput: number;
  /** Whole worker process, all threads, ms over the batch. */
  readonly cpuMs: number;
  /** The JavaScript thread alone. */
  readonly mainThreadCpuMs: number;
  /** By thread name over the batch; "(threads that exited)" is what the process total has beyond the living threads. */
  readonly threadsCpuMs: Record<string, number>;
  /** Event row started_at → finished_at per job, ms (download, transform, upload, completion). */
  readonly processMs: number[];
  /** The worker's own transform timing per job, ms. */
  readonly transformMs: number[];
  /** With profile: the .cpuprofile and the batch window on its clock (µs, CLOCK_MONOTONIC). */
  readonly profileFile?: string;
  readonly windowUs?: { readonly startUs: number; readonly endUs: number };
}

export type OverheadReply =
  | { readonly type: "ready" }
  | { readonly type: "overhead"; readonly runs: OverheadRunResult[] }
  | { readonly type: "error"; readonly message: string };

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

interface Row {
  input_key: string;
  status: string;
  process_ms: number;
  transform_ms: number | null;
}

async function run(req: OverheadRequest): Promise<OverheadRunResult[]> {
  // The pipeline benchmark's images: ten distinct 1 MP JPEGs, cycled over the keys.
  const variants = await Promise.all(
    Array.from({ length: 10 }, (_, i) => generateImage({ ...STANDARD_IMAGES.jpeg1mp, name: `1mp-${i}`, seed: 100 + i })),
  );
  const pipeline = await startLocalPipeline({ workers: 0, env: req.env });
  const results: OverheadRunResult[] = [];
  try {
    const upload = (key: string, i: number): Promise<void> => pipeline.upload(key, variants[i % variants.length].data, "image/jpeg");
    const waitFor = async (keys: readonly string[]): Promise<Row[]> => {
      const deadline = Date.now() + req.timeoutMs;
      for (;;) {
        const rows = (
          await pipeline.db.query<Row>(
            `SELECT input_key, status, extract(epoch FROM finished_at - started_at)::float8 * 1000 AS process_ms, transform_ms
               FROM image_pipeline.events WHERE input_bucket = $1 AND input_key = ANY($2::text[])`,
            [pipeline.inputBucket, keys],
          )
        ).rows;
        if (rows.length >= keys.length) return rows;
        if (Date.now() > deadline) throw new Error(`only ${rows.length} of ${keys.length} images processed in ${req.timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    for (const [n, r] of req.runs.entries()) {
      const build = req.builds.find((b) => b.label === r.build);
      if (!build) throw new Error(`run ${n}: no build labelled ${r.build}`);
      const dir = path.join(req.profileDir, `run-${n}`);
      fs.mkdirSync(dir, { recursive: true });
      const worker = await pipeline.startWorker(
        {},
        { serviceDir: build.serviceDir, nodeArgs: r.profile ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [] },
      );
      const pid = worker.pid as number;
      const prefix = `run-${n}`;
      // Warm-up: connections, JIT, libvips start-up.
      const warm = Array.from({ length: 6 }, (_, i) => `${prefix}/warmup/${i}.jpg`);
      await mapLimit([...warm.keys()], 3, (i) => upload(warm[i], i));
      await waitFor(warm);

      const keys = Array.from({ length: req.batch }, (_, i) => `${prefix}/batch/${String(i).padStart(4, "0")}.jpg`);
      const startUs = monotonicUs();
      const started = Date.now();
      const cpu0 = cpuMs(pid);
      const main0 = mainThreadCpuMs(pid);
      const threads0 = threadCpuByName(pid);
      await mapLimit([...keys.keys()], req.uploadConcurrency, (i) => upload(keys[i], i));
      const rows = await waitFor(keys);
      const cpu1 = cpuMs(pid);
      const main1 = mainThreadCpuMs(pid);
      const threads1 = threadCpuByName(pid);
      const endUs = monotonicUs();
      const seconds = (Date.now() - started) / 1000;
      await worker.stop("SIGTERM");
      const profileFile = r.profile
        ? fs
            .readdirSync(dir)
            .filter((f) => f.endsWith(".cpuprofile") && f.includes(`.${pid}.`))
            .map((f) => path.join(dir, f))[0]
        : undefined;
      if (r.profile && !profileFile) throw new Error(`worker ${pid} (${build.label}) wrote no .cpuprofile in ${dir}`);
      const processed = rows.filter((x) => x.status === "processed");
      results.push({
        build: build.label,
        profile: r.profile,
        images: processed.length,
        failed: rows.length - processed.length,
        throughput: processed.length / seconds,
        cpuMs: cpu1 - cpu0,
        mainThreadCpuMs: main1 - main0,
        threadsCpuMs: threadDelta(threads0, threads1, cpu1 - cpu0),
        processMs: processed.map((x) => x.process_ms),
        transformMs: processed.map((x) => x.transform_ms ?? NaN),
        ...(profileFile ? { profileFile, windowUs: { startUs, endUs } } : {}),
      });
    }
    return results;
  } finally {
    await pipeline.stop();
  }
}

serveProbe<OverheadRequest, OverheadReply>("overhead-probe", async (req) => ({ type: "overhead", runs: await run(req) }));
