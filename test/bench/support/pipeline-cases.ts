/** Pipeline-section results for the target and report tests: every summary one value unless a test says otherwise. */
import { summarize } from "../../../bench/lib/stats";
import type { PhaseSummary, PipelineCase } from "../../../bench/sections/pipeline";

/** A phase whose every timing is `ms`, with the given throughput and, when given, the PUT->event p50 and p99. */
export function phaseSummary(
  options: { images?: number; ms?: number; throughput?: number; latency?: [number, number] } = {},
): PhaseSummary {
  const s = summarize([options.ms ?? 10]);
  const latency = options.latency ? { ...summarize(options.latency), median: options.latency[0], p99: options.latency[1] } : s;
  return {
    images: options.images ?? 200,
    notProcessed: [],
    missing: [],
    latencyMs: latency,
    notifyMs: s,
    queueMs: s,
    processMs: s,
    downloadMs: s,
    transformMs: s,
    uploadMs: s,
    gapMs: s,
    throughput: options.throughput ?? 10,
  };
}

/** A 1 MP, 1 worker x 1 case with a light-load phase, changed by `overrides`. */
export function pipelineCase(overrides: Partial<PipelineCase> = {}): PipelineCase {
  return {
    image: "1mp-jpeg",
    workers: 1,
    workerConcurrency: 1,
    uploadConcurrency: 8,
    batch: phaseSummary(),
    lightLoad: { ...phaseSummary({ images: 40, throughput: 6 }), intervalMs: 150 },
    jobsPerKeyNotOne: 0,
    peakRssMiB: {},
    cpuPerImageMs: {},
    ...overrides,
  };
}
