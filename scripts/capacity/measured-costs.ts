/**
 * Per-component costs measured by `npm run bench`, recorded run bench/results/2026-11-22T04-35-56-229Z.json
 * (BENCHMARKS.md: 2 vCPU AMD EPYC, Node 20.20.2, sharp 0.35.5). Each figure names the section it comes from;
 * `estimate` marks what was not measured, with its assumption.
 */
export const BENCH_RUN = "bench/results/2026-11-22T04-35-56-229Z.json";

export interface Cost {
  readonly value: number;
  readonly unit: string;
  readonly source: string;
  readonly estimate?: string;
}

export const COSTS = {
  workerCpuPerImage1mp: {
    value: 0.022,
    unit: "CPU s per image",
    source: "BENCHMARKS.md §2 Pipeline, CPU per image by process, worker-1 at 1 × 1 (22.1 ms) and 1 × 2 (21.6 ms)",
  },
  transformCpuPerImage12mp: { value: 0.114, unit: "CPU s per image", source: "BENCHMARKS.md §1 Transform, 12mp-jpeg worker, CPU ms" },
  workerOverheadPerImage: {
    value: 0.01,
    unit: "CPU s per image",
    source: "BENCHMARKS.md §2: worker CPU per 1 MP image (22 ms) minus the transform alone (12–13 ms)",
  },
  workerCpuPerImage12mp: {
    value: 0.124,
    unit: "CPU s per image",
    source: "transform 114 ms (§1) + per-job overhead 10 ms (§2)",
    estimate: "the pipeline was not run at 12 MP; assumes the per-job overhead does not grow with the image",
  },
  coresPerJob1mp: { value: 13 / 9.4, unit: "cores", source: "BENCHMARKS.md §1, 1mp-jpeg worker: 13 ms CPU in 9.4 ms wall" },
  coresPerJob12mp: { value: 114 / 73.1, unit: "cores", source: "BENCHMARKS.md §1, 12mp-jpeg worker: 114 ms CPU in 73.1 ms wall" },
  webhookCpuPerNotification: { value: 0.0013, unit: "CPU s", source: "BENCHMARKS.md §2, webhook CPU per image (1.1–1.3 ms)" },
  webhookSaturation: {
    value: 2741,
    unit: "notifications/s",
    source: "BENCHMARKS.md §4 Webhook, saturation run (16 connections, 2 shared cores)",
  },
  postgresCpuPerImage: {
    value: 0.003,
    unit: "CPU s",
    source: "BENCHMARKS.md §2, postgres CPU per image (all backends: insert, claim, complete, event row)",
  },
  workerPeakRssMiB: { value: 186, unit: "MiB", source: "BENCHMARKS.md §3, glibc-arena2, 24 MP, 2 in flight (max of 3 runs)" },
  podStartupSeconds: {
    value: 20,
    unit: "s",
    source: "not measured",
    estimate: "image already on the node; container start plus the readiness probe's first success",
  },
} as const satisfies Record<string, Cost>;
