/**
 * Memory: peak RSS of one worker-like process (the worker's modules loaded, the worker's transform)
 * over a batch of 12 MP and a batch of 24 MP images, under each allocator setting, with one and with
 * two images in flight (WORKER_CONCURRENCY). Each measurement is a fresh process, so peaks are not
 * inherited from earlier batches.
 */
import { forkProbe } from "../lib/child";
import type { CompiledTree } from "../lib/compile";
import { ALLOCATOR_SETTINGS, settingByName, settingEnv, type AllocatorSetting } from "../lib/container";
import { summarize, type Summary } from "../lib/stats";
import type { ProbeReply, ProbeRequest, TransformVariant } from "../probes/transform-probe";

export interface MemoryCase {
  readonly setting: string;
  readonly variant: TransformVariant;
  readonly image: string;
  readonly inFlight: number;
  readonly images: number;
  readonly runs: number;
  readonly peakRssMiB: Summary;
  readonly baselineRssMiB: number;
  readonly vipsThreads: number;
  readonly jemalloc: boolean;
  /** Peak RSS after each image of the first run: a rising line means fragmentation, a plateau means bounded. */
  readonly growthMiB: number[];
}

export interface MemoryOptions {
  readonly compiled: CompiledTree;
  readonly jemalloc?: string;
  /** Image files by name, e.g. { "12mp-jpeg": "/tmp/…/12mp-jpeg.jpg" }. */
  readonly files: Record<string, string>;
  readonly batch: Record<string, number>;
  readonly runs: number;
  readonly settings?: readonly AllocatorSetting[];
  readonly inFlight?: readonly number[];
  /** Extra cases with the transform as it was before the fix (setting name, in flight). */
  readonly beforeFix?: readonly { readonly setting: string; readonly inFlight: number }[];
  readonly log: (line: string) => void;
}

async function measureCase(
  options: MemoryOptions,
  setting: AllocatorSetting,
  image: string,
  file: string,
  inFlight: number,
  variant: TransformVariant,
): Promise<MemoryCase> {
  const script = options.compiled.resolve("bench/probes/transform-probe.ts");
  const count = options.batch[image] ?? 4;
  const peaks: number[] = [];
  let first: { growth: number[]; baseline: number; threads: number; jemalloc: boolean } | undefined;
  for (let run = 0; run < options.runs; run++) {
    const probe = await forkProbe<ProbeRequest, ProbeReply>(script, { ...options.compiled.env, ...settingEnv(setting, options.jemalloc) });
    try {
      const ready = probe.ready;
      if (ready.type !== "ready") throw new Error(`probe sent ${ready.type} before ready`);
      const reply = await probe.request({ type: "memory", files: Array.from({ length: count }, () => file), inFlight, variant });
      if (reply.type !== "memory") throw new Error(`probe answered ${reply.type} to a memory request`);
      peaks.push(reply.peakRssMiB);
      first ??= {
        growth: reply.peakAfterEachMiB,
        baseline: ready.baselineRssMiB,
        threads: ready.sharpConcurrency,
        jemalloc: ready.jemalloc,
      };
    } finally {
      await probe.close();
    }
  }
  if (!first) throw new Error("memory: runs must be at least 1");
  if (setting.needsJemalloc && !first.jemalloc)
    throw new Error(`setting ${setting.name}: LD_PRELOAD did not load jemalloc (${options.jemalloc})`);
  const c: MemoryCase = {
    setting: setting.name,
    variant,
    image,
    inFlight,
    images: count,
    runs: options.runs,
    peakRssMiB: summarize(peaks),
    baselineRssMiB: first.baseline,
    vipsThreads: first.threads,
    jemalloc: first.jemalloc,
    growthMiB: first.growth,
  };
  options.log(
    `memory ${setting.name}${variant === "worker" ? "" : ` (${variant})`} in-flight ${inFlight} ${image}: peak ${c.peakRssMiB.median.toFixed(0)} MiB (baseline ${c.baselineRssMiB.toFixed(0)}, threads ${c.vipsThreads}, growth ${c.growthMiB.join(" ")})`,
  );
  return c;
}

export async function measureMemory(options: MemoryOptions): Promise<MemoryCase[]> {
  const settings = (options.settings ?? ALLOCATOR_SETTINGS).filter((s) => !s.needsJemalloc || options.jemalloc);
  const cases: MemoryCase[] = [];
  for (const setting of settings) {
    for (const inFlight of options.inFlight ?? [1, 2]) {
      for (const [image, file] of Object.entries(options.files))
        cases.push(await measureCase(options, setting, image, file, inFlight, "worker"));
    }
  }
  for (const b of options.beforeFix ?? []) {
    for (const [image, file] of Object.entries(options.files))
      cases.push(await measureCase(options, settingByName(b.setting), image, file, b.inFlight, "before-fix"));
  }
  return cases;
}
