/**
 * How many worker pods, nodes, webhook replicas and how much PostgreSQL a daily volume needs, from the measured
 * per-image costs. The peak factor and the node shape are assumptions, stated in the table.
 */
import { COSTS } from "./measured-costs";

export interface SizingAssumptions {
  /** Peak arrival rate over the day's average. */
  readonly peakFactor: number;
  /** The worker HPA's CPU target, as a fraction of the 1-CPU request. */
  readonly cpuTarget: number;
  /** Worker pods per node: 4-vCPU nodes (cPouta standard.large) keep one core for k3s and the rest. */
  readonly workersPerNode: number;
  /** CPU limit of one webhook replica (webhookCpuLimit) and the share of it to plan for. */
  readonly webhookCpuLimit: number;
  /** Connections one worker pod holds (WORKER_CONCURRENCY + 4, worker/src/worker-service.ts) and one webhook (10). */
  readonly connectionsPerWorker: number;
  readonly connectionsPerWebhook: number;
}

export const SIZING_ASSUMPTIONS: SizingAssumptions = {
  peakFactor: 3,
  cpuTarget: 0.7,
  workersPerNode: 3,
  webhookCpuLimit: 0.25,
  connectionsPerWorker: 6,
  connectionsPerWebhook: 10,
};

export interface SizingRow {
  readonly imagesPerDay: number;
  readonly size: "1mp" | "12mp";
  readonly averagePerSecond: number;
  readonly peakPerSecond: number;
  readonly workerCpuAtPeak: number;
  readonly workers: number;
  readonly workerNodes: number;
  readonly webhookReplicas: number;
  readonly postgresCpuAtPeak: number;
  readonly postgresConnections: number;
  readonly jobRowsPerDay: number;
}

export function sizeFor(imagesPerDay: number, size: "1mp" | "12mp", a: SizingAssumptions = SIZING_ASSUMPTIONS): SizingRow {
  const averagePerSecond = imagesPerDay / 86_400;
  const peakPerSecond = averagePerSecond * a.peakFactor;
  const cpuPerImage = size === "1mp" ? COSTS.workerCpuPerImage1mp.value : COSTS.workerCpuPerImage12mp.value;
  const workerCpuAtPeak = peakPerSecond * cpuPerImage;
  const workers = Math.max(1, Math.ceil(workerCpuAtPeak / a.cpuTarget));
  const webhookPerReplica = (a.webhookCpuLimit * a.cpuTarget) / COSTS.webhookCpuPerNotification.value;
  const webhookReplicas = Math.max(2, Math.ceil(peakPerSecond / webhookPerReplica));
  return {
    imagesPerDay,
    size,
    averagePerSecond,
    peakPerSecond,
    workerCpuAtPeak,
    workers,
    workerNodes: Math.ceil(workers / a.workersPerNode),
    webhookReplicas,
    postgresCpuAtPeak: peakPerSecond * COSTS.postgresCpuPerImage.value,
    postgresConnections: workers * a.connectionsPerWorker + webhookReplicas * a.connectionsPerWebhook,
    jobRowsPerDay: imagesPerDay,
  };
}
