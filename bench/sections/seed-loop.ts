/**
 * The tutorial's hand-built loop (s3cmd, convert -negate, psql) next to the pipeline: the same 1 MP images,
 * the same S3 server and database, one loop per core. Driven by the compiled seed-loop probe.
 */
import { forkProbe } from "../lib/child";
import type { CompiledTree } from "../lib/compile";
import { STEPS, type Step } from "../lib/seed-loop";
import { summarize, type Summary } from "../lib/stats";
import type { Reply, SeedLoopRequest, SeedLoopResult } from "../probes/seed-loop-probe";

export interface SeedLoopCase {
  readonly loops: number;
  readonly images: number;
  /** Images per second over all loops, first start to last finish. */
  readonly throughput: number;
  /** throughput / loops: one loop is one core's worth. */
  readonly perCoreRate: number;
  /** Wall ms of one image through one loop (download, convert, upload, INSERT). */
  readonly imageWallMs: Summary;
  /** Mean wall and CPU ms per image of each command (s3cmd get, convert, s3cmd put, psql). */
  readonly stepsPerImage: Record<Step, { readonly wallMs: number; readonly cpuMs: number }>;
  /** CPU ms per image: the loops' shells, their commands (s3cmd, convert, psql), and the servers. */
  readonly cpuPerImageMs: SeedLoopResult["cpuMs"];
  readonly rowsLogged: number;
  readonly outputsWritten: number;
  readonly inversionCheck: number[];
}

/** The loop's own CPU per image (shell and commands) and with the servers it uses (PostgreSQL, the S3 server). */
export function seedLoopCpu(c: Pick<SeedLoopCase, "cpuPerImageMs">): { loop: number; withServers: number } {
  const k = c.cpuPerImageMs;
  const loop = k.shells + k.tools;
  return { loop, withServers: loop + k.postgres + k.s3 };
}

export function summarizeSeedLoop(r: SeedLoopResult): SeedLoopCase {
  if (r.images < 1 || r.wallMs <= 0) throw new Error(`hand-built loop: nothing measured (${r.images} images in ${r.wallMs} ms)`);
  const throughput = (r.images * 1000) / r.wallMs;
  const per = (ms: number): number => ms / r.images;
  return {
    loops: r.loops,
    images: r.images,
    throughput,
    perCoreRate: throughput / r.loops,
    imageWallMs: summarize(r.imageWallMs),
    stepsPerImage: Object.fromEntries(
      STEPS.map((step) => {
        const t = r.steps[step];
        if (t.count !== r.images) throw new Error(`hand-built loop: ${t.count} '${step}' commands timed for ${r.images} images`);
        return [step, { wallMs: t.wallMs / t.count, cpuMs: t.cpuMs / t.count }];
      }),
    ) as SeedLoopCase["stepsPerImage"],
    cpuPerImageMs: {
      shells: per(r.cpuMs.shells),
      tools: per(r.cpuMs.tools),
      postgres: per(r.cpuMs.postgres),
      s3: per(r.cpuMs.s3),
      webhook: per(r.cpuMs.webhook),
    },
    rowsLogged: r.rowsLogged,
    outputsWritten: r.outputsWritten,
    inversionCheck: r.inversionCheck,
  };
}

/** Every image logged once and uploaded, and the sample output's colours inverted (input + output means ~255). */
export function seedLoopComplete(c: SeedLoopCase): boolean {
  return (
    c.rowsLogged === c.images &&
    c.outputsWritten === c.images &&
    c.inversionCheck.length === 3 &&
    c.inversionCheck.every((s) => Math.abs(s - 255) < 4)
  );
}

/** The pipeline case the loop is compared with, as far as the comparison needs it. */
export interface PipelinePerCore {
  /** Worker processes (one job in flight each); each counts as one core. */
  readonly workers: number;
  /** Images per second of the whole pipeline with those workers. */
  readonly throughput: number;
  /** Images per second per worker, i.e. per core: the figure set against one loop's. */
  readonly perCoreRate: number;
  /** CPU ms per image of each process (worker, webhook, PostgreSQL, S3 server, the benchmark's uploader). */
  readonly cpuPerImageMs: Readonly<Record<string, number>>;
}

/** A pipeline case as bench/sections/pipeline.ts reports it, as far as the comparison reads it. */
export interface PipelineCaseLike {
  readonly workers: number;
  readonly workerConcurrency: number;
  readonly image?: string;
  readonly batch: { readonly throughput: number };
  readonly cpuPerImageMs: Readonly<Record<string, number>>;
}

/**
 * The pipeline case the loop is compared with: 1 MP, one job in flight per worker, and as many workers as there are
 * loops (one per core), or the most there are up to that. Both sides then run machine-wide, with the S3 server and the
 * database on the same cores, and both rates are divided by the cores their workers or loops occupy. (The 1 x 1
 * case alone would set the whole machine's throughput against one loop's share of it.)
 */
export function pipelinePerCore(cases: readonly PipelineCaseLike[] | undefined, loops: number): PipelinePerCore | undefined {
  const candidates = (cases ?? []).filter(
    (x) => x.workerConcurrency === 1 && (x.image ?? "1mp-jpeg") === "1mp-jpeg" && x.workers >= 1 && x.workers <= loops,
  );
  const c = candidates.sort((a, b) => b.workers - a.workers)[0];
  return (
    c && { workers: c.workers, throughput: c.batch.throughput, perCoreRate: c.batch.throughput / c.workers, cpuPerImageMs: c.cpuPerImageMs }
  );
}

export interface SeedLoopComparison {
  /** Images per second per core. */
  readonly wall: { readonly pipeline: number; readonly loop: number };
  /** Images per CPU-second, every process counted (the servers included). */
  readonly cpu: { readonly pipeline: number; readonly loop: number };
  readonly pipelineCpuMs: number;
  readonly loopCpuMs: number;
}

export function compareWithPipeline(loop: SeedLoopCase, pipeline: PipelinePerCore): SeedLoopComparison {
  const pipelineCpuMs = Object.values(pipeline.cpuPerImageMs).reduce((a, b) => a + b, 0);
  const loopCpuMs = seedLoopCpu(loop).withServers;
  return {
    wall: { pipeline: pipeline.perCoreRate, loop: loop.perCoreRate },
    cpu: { pipeline: 1000 / pipelineCpuMs, loop: 1000 / loopCpuMs },
    pipelineCpuMs,
    loopCpuMs,
  };
}

export interface SeedLoopOptions {
  readonly compiled: CompiledTree;
  readonly serviceEnv: Record<string, string>;
  readonly tools: SeedLoopRequest["tools"];
  readonly images: number;
  readonly loops: number;
  readonly log: (line: string) => void;
}

export async function measureSeedLoop(options: SeedLoopOptions): Promise<SeedLoopCase> {
  const probe = await forkProbe<SeedLoopRequest, Reply>(options.compiled.resolve("bench/probes/seed-loop-probe.ts"), options.compiled.env);
  let r: SeedLoopResult;
  try {
    r = (await probe.request({
      type: "seed-loop",
      images: options.images,
      loops: options.loops,
      warmup: 2,
      tools: options.tools,
      env: options.serviceEnv,
    })) as SeedLoopResult;
  } finally {
    await probe.close();
  }
  const c = summarizeSeedLoop(r);
  const cpu = seedLoopCpu(c);
  options.log(
    `hand-built loop x ${c.loops}: ${c.images} images at ${c.throughput.toFixed(1)}/s (${c.perCoreRate.toFixed(1)}/s per loop); ` +
      `CPU per image ${cpu.loop.toFixed(0)} ms (${cpu.withServers.toFixed(0)} ms with the servers); ${c.rowsLogged} rows, ${c.outputsWritten} outputs`,
  );
  return c;
}
