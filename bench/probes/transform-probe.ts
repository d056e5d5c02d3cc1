/**
 * A worker-like process for the transform and memory benchmarks, started by bench/ as compiled
 * JavaScript with the allocator environment under test (LD_PRELOAD, MALLOC_ARENA_MAX). It loads the
 * worker's service modules (PostgreSQL, S3 client, logging, metrics) so its baseline memory is the
 * worker's, then transforms images with the worker's own transform, on request over IPC.
 *
 * Environment: the container's (LD_PRELOAD, MALLOC_ARENA_MAX, VIPS_CONCURRENCY), plus
 * BENCH_SHARP_CACHE=off to call sharp.cache(false), which has no environment variable.
 */
import fs from "node:fs";
import sharp from "sharp";
import { invertImage } from "../../worker/src/transform";
import { WORKER_ENV } from "../../worker/src/config";

export interface TransformSample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/**
 * "worker": the worker's transform as it is. "before-fix": the same JPEG pipeline with sharp's default
 * encoder options (Huffman optimisation on), which the transform used before the benchmark; kept so
 * every run shows what the change bought.
 */
export type TransformVariant = "worker" | "before-fix";

export type ProbeRequest =
  | { readonly type: "time"; readonly file: string; readonly iterations: number; readonly variant?: TransformVariant }
  | { readonly type: "memory"; readonly files: readonly string[]; readonly inFlight: number; readonly variant?: TransformVariant };

export type ProbeReply =
  | { readonly type: "ready"; readonly sharpConcurrency: number; readonly jemalloc: boolean; readonly baselineRssMiB: number }
  | { readonly type: "time"; readonly samples: TransformSample[] }
  | { readonly type: "memory"; readonly peakRssMiB: number; readonly finalRssMiB: number; readonly peakAfterEachMiB: number[] }
  | { readonly type: "error"; readonly message: string };

function envDefault(name: string): number {
  const spec = WORKER_ENV.find((v) => v.name === name);
  if (spec?.default === undefined) throw new Error(`worker/src/config.ts has no default for ${name}`);
  return Number(spec.default);
}

const transformOptions = { limitInputPixels: envDefault("LIMIT_INPUT_PIXELS"), timeoutMs: envDefault("TRANSFORM_TIMEOUT_MS") };

async function beforeFix(input: Buffer): Promise<void> {
  await sharp(input, { limitInputPixels: transformOptions.limitInputPixels, failOn: "error", sequentialRead: true })
    .autoOrient()
    .negate({ alpha: false })
    .jpeg({ quality: 90 })
    .toBuffer();
}

function transformOf(variant: TransformVariant = "worker"): (input: Buffer) => Promise<unknown> {
  return variant === "worker" ? (input) => invertImage(input, transformOptions) : beforeFix;
}

/** Resident-set high-water mark and current size from the kernel, in MiB. */
function rssMiB(): { peak: number; current: number } {
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { peak: kib("VmHWM") / 1024, current: kib("VmRSS") / 1024 };
}

async function timeTransform(file: string, iterations: number, variant?: TransformVariant): Promise<TransformSample[]> {
  const transform = transformOf(variant);
  const input = fs.readFileSync(file);
  const samples: TransformSample[] = [];
  for (let i = 0; i < iterations; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await transform(input);
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = process.cpuUsage(cpu0);
    samples.push({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  return samples;
}

/** Transforms the files in order with up to `inFlight` at once, each from a fresh buffer as a download would be. */
async function measureMemory(files: readonly string[], inFlight: number, variant?: TransformVariant): Promise<ProbeReply> {
  const transform = transformOf(variant);
  const peakAfterEachMiB: number[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++];
      await transform(fs.readFileSync(file));
      peakAfterEachMiB.push(Math.round(rssMiB().peak));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const { peak, current } = rssMiB();
  return { type: "memory", peakRssMiB: peak, finalRssMiB: current, peakAfterEachMiB };
}

function send(reply: ProbeReply): void {
  process.send?.(reply);
}

async function main(): Promise<void> {
  if (!process.send) throw new Error("transform-probe must be started with child_process.fork (it answers over IPC)");
  // Loaded for their memory footprint, as in a worker process; nothing is started.
  await import("../../worker/src/worker-service");
  if (process.env.BENCH_SHARP_CACHE === "off") sharp.cache(false);
  const jemalloc = fs.readFileSync("/proc/self/maps", "utf8").includes("libjemalloc");
  process.on("message", (req: ProbeRequest) => {
    const run =
      req.type === "time"
        ? timeTransform(req.file, req.iterations, req.variant).then((samples): ProbeReply => ({ type: "time", samples }))
        : measureMemory(req.files, req.inFlight, req.variant);
    run.then(send, (err: unknown) => send({ type: "error", message: err instanceof Error ? err.message : String(err) }));
  });
  send({ type: "ready", sharpConcurrency: sharp.concurrency(), jemalloc, baselineRssMiB: rssMiB().current });
}

main().catch((err: unknown) => {
  process.stderr.write(`transform-probe: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
