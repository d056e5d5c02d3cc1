/** The performance targets, evaluated against one run's results. Pure, so it is unit-tested. */
import type { MemoryCase } from "../sections/memory";
import type { PipelineCase } from "../sections/pipeline";
import type { TransformCase } from "../sections/transform";
import type { WebhookResult } from "../probes/pipeline-probe";

export interface TargetRow {
  readonly target: string;
  readonly measured: string;
  /** undefined when the section did not run. */
  readonly met: boolean | undefined;
}

export interface RunResults {
  readonly transform?: { readonly cases: readonly TransformCase[] };
  readonly memory?: readonly MemoryCase[];
  readonly pipeline?: readonly PipelineCase[];
  readonly webhook?: WebhookResult;
  /** Allocator setting of the container (bench/lib/container.ts) and its WORKER_CONCURRENCY. */
  readonly containerSetting: string;
  readonly workerConcurrency: number;
}

/** Images per second from the median wall time of one image. */
export function wallRate(cases: readonly TransformCase[], image: string, tool: TransformCase["tool"]): number | undefined {
  const c = cases.find((x) => x.image === image && x.tool === tool);
  return c ? 1000 / c.wallMs.median : undefined;
}

/** Images per CPU-second from the median CPU time of one image: the per-core rate, immune to idle cores. */
export function cpuRate(cases: readonly TransformCase[], image: string, tool: TransformCase["tool"]): number | undefined {
  const c = cases.find((x) => x.image === image && x.tool === tool);
  return c ? 1000 / c.cpuMs.median : undefined;
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);

/**
 * A rate ratio on both bases. libvips overlaps decoding and encoding in a write-behind thread even with
 * one worker thread, so the wall-clock rate of "one thread" can use more than a core when one is idle;
 * the CPU-time rate is the per-core figure. A target is met only when both ratios meet it.
 */
function ratioRow(target: string, threshold: number, wall: [number, number], cpu: [number, number] | undefined): TargetRow {
  const wallRatio = wall[0] / wall[1];
  const cpuRatio = cpu ? cpu[0] / cpu[1] : undefined;
  const measured =
    `${fmt(wallRatio)}x wall (${fmt(wall[0], 1)} vs ${fmt(wall[1], 1)} img/s)` +
    (cpu && cpuRatio !== undefined ? `; ${fmt(cpuRatio)}x per CPU-s (${fmt(cpu[0], 1)} vs ${fmt(cpu[1], 1)})` : "");
  return { target, measured, met: wallRatio >= threshold && (cpuRatio === undefined || cpuRatio >= threshold) };
}
const skipped = (target: string): TargetRow => ({ target, measured: "not run", met: undefined });

export function evaluateTargets(r: RunResults): TargetRow[] {
  const rows: TargetRow[] = [];
  const t = r.transform?.cases;
  const worker12 = t && wallRate(t, "12mp-jpeg", "worker");
  const vips12 = t && wallRate(t, "12mp-jpeg", "vips");
  const magick12 = t && wallRate(t, "12mp-jpeg", "imagemagick");
  const cpu = (image: string, tool: TransformCase["tool"]): number => (t && cpuRate(t, image, tool)) ?? NaN;
  if (worker12 && vips12) {
    rows.push(
      ratioRow(
        "Transform >= 0.95x `vips invert` CLI at 12 MP",
        0.95,
        [worker12, vips12],
        [cpu("12mp-jpeg", "worker"), cpu("12mp-jpeg", "vips")],
      ),
    );
  } else rows.push(skipped("Transform >= 0.95x `vips invert` CLI at 12 MP"));
  if (worker12 && magick12) {
    rows.push(
      ratioRow(
        "Transform >= 2.5x ImageMagick at 12 MP",
        2.5,
        [worker12, magick12],
        [cpu("12mp-jpeg", "worker"), cpu("12mp-jpeg", "imagemagick")],
      ),
    );
  } else rows.push(skipped("Transform >= 2.5x ImageMagick at 12 MP"));

  const one = r.pipeline?.find((c) => c.workers === 1 && c.workerConcurrency === 1);
  const two = r.pipeline?.find((c) => c.workers === 2 && c.workerConcurrency === 1);
  const transform1 = t && wallRate(t, "1mp-jpeg", "worker");
  if (one && transform1) {
    // The pipeline's rate is wall-clock; the transform-only rate on both bases.
    rows.push(
      ratioRow(
        "Pipeline, 1 worker >= 0.8x transform-only rate (1 MP)",
        0.8,
        [one.batch.throughput, transform1],
        [one.batch.throughput, cpu("1mp-jpeg", "worker")],
      ),
    );
  } else rows.push(skipped("Pipeline, 1 worker >= 0.8x transform-only rate (1 MP)"));
  if (one && two) {
    const ratio = two.batch.throughput / one.batch.throughput;
    rows.push({
      target: "Pipeline, 2 workers >= 1.7x 1 worker",
      measured: `${fmt(ratio)}x (${fmt(two.batch.throughput, 1)} vs ${fmt(one.batch.throughput, 1)} img/s)`,
      met: ratio >= 1.7,
    });
  } else rows.push(skipped("Pipeline, 2 workers >= 1.7x 1 worker"));
  const light = r.pipeline?.filter((c) => c.workerConcurrency === 1) ?? [];
  if (light.length > 0) {
    const p50 = Math.max(...light.map((c) => c.lightLoad.latencyMs.median));
    const p99 = Math.max(...light.map((c) => c.lightLoad.latencyMs.p99));
    rows.push({
      target: "PUT -> event at light load: p50 < 100 ms, p99 < 400 ms (1 MP)",
      measured: `p50 ${fmt(p50, 0)} ms, p99 ${fmt(p99, 0)} ms (worst of 1 and 2 workers)`,
      met: p50 < 100 && p99 < 400,
    });
  } else rows.push(skipped("PUT -> event at light load: p50 < 100 ms, p99 < 400 ms (1 MP)"));

  const mem = r.memory?.find(
    (c) => c.setting === r.containerSetting && c.variant === "worker" && c.image === "12mp-jpeg" && c.inFlight === r.workerConcurrency,
  );
  if (mem) {
    rows.push({
      target: "Worker peak RSS <= 200 MiB on 12 MP",
      measured: `${fmt(mem.peakRssMiB.max, 0)} MiB (max of ${mem.runs} runs; ${r.containerSetting}, ${mem.inFlight} in flight)`,
      met: mem.peakRssMiB.max <= 200,
    });
  } else rows.push(skipped("Worker peak RSS <= 200 MiB on 12 MP"));

  const w = r.webhook;
  const saturation = w?.runs.find((x) => x.label === "saturation");
  if (w && saturation) {
    const exact = w.acceptedWithoutJob === 0 && w.keysWithSeveralJobs === 0 && w.unknownJobs === 0;
    const rejected = Object.values(saturation.otherStatuses).reduce((a, b) => a + b, 0) + saturation.errors;
    rows.push({
      target: "Webhook >= 1,000 notifications/s, p99 < 50 ms, none lost or doubled",
      measured: `${fmt(saturation.acceptedPerSecond, 0)}/s, p99 ${saturation.latencyMs.p99} ms, ${rejected} refused/errors; ${w.acceptedKeys} accepted: ${w.acceptedWithoutJob} lost, ${w.keysWithSeveralJobs} doubled`,
      met: saturation.acceptedPerSecond >= 1000 && saturation.latencyMs.p99 < 50 && exact && rejected === 0,
    });
  } else rows.push(skipped("Webhook >= 1,000 notifications/s, p99 < 50 ms, none lost or doubled"));
  return rows;
}
