/**
 * A worker fleet under load, driven by the HPA controller model, one second at a time: images arrive, ready pods
 * process them at the rate their CPU allows, metrics-server reports each pod's CPU over its resolution window, and
 * every sync period the controller sets the replica count. New pods are ready after a start-up delay.
 *
 * The per-image CPU costs come from BENCHMARKS.md (see measured-costs.ts); the start-up delay and the arrival
 * pattern are assumptions that the caller states. The output has the shape of `npm run verify`'s cluster watch, so
 * the same table and the same verdict describe a simulated run and a real one.
 */
import type { WatchSample } from "../verify/watch";
import { AutoscalerController, SYNC_PERIOD_SECONDS, metricRecommendation, type AutoscalerSpec } from "./hpa-controller";

export interface WorkerPodModel {
  /** CPU seconds one image costs the worker (download, transform, upload, queue). */
  readonly cpuSecondsPerImage: number;
  /** The pod's CPU request and limit, in cores. */
  readonly cpuRequest: number;
  readonly cpuLimit: number;
  /** Jobs in flight per pod, and how many cores one job can keep busy (libvips decodes and encodes in parallel). */
  readonly concurrency: number;
  readonly coresPerJob: number;
  /** Seconds from the controller's decision to a ready pod. */
  readonly startupSeconds: number;
}

export type ScaleSignal =
  | { readonly kind: "cpu"; readonly targetPercent: number }
  /** The ScaledObject of workerScaling queue-depth: the larger of the queue trigger and its CPU trigger. */
  | { readonly kind: "queue-depth"; readonly pendingPerReplica: number; readonly cpuTargetPercent: number };

export interface SimulationInput {
  readonly pod: WorkerPodModel;
  readonly hpa: AutoscalerSpec;
  readonly signal: ScaleSignal;
  /** Images arriving in second `t`. */
  readonly arrivals: (t: number) => number;
  readonly loadSeconds: number;
  readonly durationSeconds: number;
  /** metrics-server's resolution: CPU is averaged over this window. */
  readonly metricWindowSeconds?: number;
}

export interface SimulationResult {
  readonly samples: WatchSample[];
  readonly marks: Record<string, number>;
  readonly peakReplicas: number;
  readonly peakBacklog: number;
  /** Time an image waits from arrival to completion (first in, first out), in seconds. */
  readonly waitSeconds: { readonly p50: number; readonly p95: number; readonly max: number };
  /** Replica-seconds used, against the least the load needed at the target. */
  readonly replicaSeconds: number;
  readonly drainedAtSeconds?: number;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

export function simulate(input: SimulationInput): SimulationResult {
  const { pod, hpa, signal } = input;
  const window = input.metricWindowSeconds ?? 15;
  const controller = new AutoscalerController(hpa);
  const podCapacityCores = Math.min(pod.cpuLimit, pod.concurrency * pod.coresPerJob);
  const readyAt: number[] = Array.from({ length: hpa.minReplicas }, () => 0);
  const cpuHistory: number[] = [];
  const samples: WatchSample[] = [];
  const arrivalTimes: number[] = [];
  const waits: number[] = [];
  let backlog = 0;
  let uploaded = 0;
  let done = 0;
  let desired = hpa.minReplicas;
  let peakBacklog = 0;
  let peakReplicas = hpa.minReplicas;
  let replicaSeconds = 0;
  let drainedAtSeconds: number | undefined;
  let carry = 0;

  for (let t = 0; t < input.durationSeconds; t++) {
    const arriving = t < input.loadSeconds ? input.arrivals(t) : 0;
    carry += arriving;
    const whole = Math.floor(carry);
    carry -= whole;
    for (let i = 0; i < whole; i++) arrivalTimes.push(t);
    uploaded += whole;
    backlog += whole;

    const ready = readyAt.filter((r) => r <= t).length;
    const capacity = (ready * podCapacityCores) / pod.cpuSecondsPerImage;
    const processed = Math.min(backlog, Math.floor(capacity + 1e-9));
    for (let i = 0; i < processed; i++) waits.push(t + 1 - arrivalTimes[done + i]);
    done += processed;
    backlog -= processed;
    if (backlog === 0 && t >= input.loadSeconds && drainedAtSeconds === undefined && uploaded > 0) drainedAtSeconds = t;
    peakBacklog = Math.max(peakBacklog, backlog);
    cpuHistory.push(ready === 0 ? 0 : (processed * pod.cpuSecondsPerImage) / ready);
    replicaSeconds += readyAt.length;

    if (t > 0 && t % SYNC_PERIOD_SECONDS === 0) {
      const recent = cpuHistory.slice(-window);
      const cpuPerPod = recent.reduce((a, b) => a + b, 0) / recent.length;
      const utilisation = (100 * cpuPerPod) / pod.cpuRequest;
      const current = readyAt.length;
      const byCpu = (targetPercent: number) =>
        metricRecommendation(current, { ratio: utilisation / targetPercent, readyPods: ready, unreadyPods: current - ready });
      // With several metrics the HPA takes the largest recommendation.
      const metricDesired =
        signal.kind === "cpu"
          ? byCpu(signal.targetPercent)
          : Math.max(1, Math.ceil((backlog / signal.pendingPerReplica) * (1 - 1e-9)), byCpu(signal.cpuTargetPercent));
      desired = controller.decide(t, current, metricDesired);
      if (desired > current) for (let i = current; i < desired; i++) readyAt.push(t + pod.startupSeconds);
      if (desired < current) readyAt.splice(desired);
      peakReplicas = Math.max(peakReplicas, desired);
      samples.push({
        atMs: t * 1000,
        currentReplicas: current,
        desiredReplicas: desired,
        cpuPercent: Math.round(utilisation),
        cpuTargetPercent: signal.kind === "cpu" ? signal.targetPercent : signal.cpuTargetPercent,
        podsReady: readyAt.filter((r) => r <= t).length,
        podsTotal: readyAt.length,
        load: { uploaded, done },
      });
    }
  }
  const sorted = [...waits].sort((a, b) => a - b);
  return {
    samples,
    marks: { "load-start": 0, "load-end": input.loadSeconds * 1000 },
    peakReplicas,
    peakBacklog,
    waitSeconds: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] ?? 0 },
    replicaSeconds,
    drainedAtSeconds,
  };
}
