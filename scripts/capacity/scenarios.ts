/**
 * The scaling questions docs/capacity.md answers, as simulations from measured costs: the worker HPA as it was
 * (a 300m/500m request under a 1-CPU limit and a 50 % target) against the sizing chosen from the measurements
 * (request = limit = 1 CPU, a 70 % target), and CPU against queue depth as the signal for a burst.
 */
import { workerScalingBehavior } from "../../k8s/worker";
import { COSTS } from "./measured-costs";
import type { AutoscalerSpec } from "./hpa-controller";
import type { ScaleSignal, SimulationInput, WorkerPodModel } from "./simulate";

/** The worker autoscaler's bounds with the scale-up and scale-down rules it renders (k8s/worker.ts). */
export function workerBehavior(minReplicas: number, maxReplicas: number, scaleDownStabilizationSeconds = 300): AutoscalerSpec {
  return { minReplicas, maxReplicas, ...workerScalingBehavior({ scaleDownStabilizationSeconds }) };
}

export function workerPod(size: "1mp" | "12mp", cpuRequest: number, cpuLimit = 1): WorkerPodModel {
  return {
    cpuSecondsPerImage: size === "1mp" ? COSTS.workerCpuPerImage1mp.value : COSTS.workerCpuPerImage12mp.value,
    cpuRequest,
    cpuLimit,
    concurrency: 2,
    coresPerJob: size === "1mp" ? COSTS.coresPerJob1mp.value : COSTS.coresPerJob12mp.value,
    startupSeconds: COSTS.podStartupSeconds.value,
  };
}

export interface Scenario {
  readonly name: string;
  readonly question: string;
  readonly runs: readonly { readonly label: string; readonly input: SimulationInput }[];
}

const cpu = (targetPercent: number): ScaleSignal => ({ kind: "cpu", targetPercent });

export function scenarios(): Scenario[] {
  const steady = (rate: number) => () => rate;
  return [
    {
      name: "steady-1mp-dev",
      question: "Dev bounds (1–3 workers), 1 MP images at a steady 20/s for 10 minutes: about 0.44 CPU of work, half of one pod.",
      runs: [
        {
          label: "before: request 300m, limit 1, target 50 %",
          input: {
            pod: workerPod("1mp", 0.3),
            hpa: workerBehavior(1, 3),
            signal: cpu(50),
            arrivals: steady(20),
            loadSeconds: 600,
            durationSeconds: 1200,
          },
        },
        {
          label: "now: request = limit = 1, target 70 %",
          input: {
            pod: workerPod("1mp", 1),
            hpa: workerBehavior(1, 3),
            signal: cpu(70),
            arrivals: steady(20),
            loadSeconds: 600,
            durationSeconds: 1200,
          },
        },
      ],
    },
    {
      name: "ramp-1mp-prod",
      question:
        "Prod bounds (2–6 workers), 1 MP images rising from 20/s to 120/s over 5 minutes, held 5 minutes: the work grows from 0.4 to 2.6 CPU.",
      runs: [
        {
          label: "before: request 500m, limit 1, target 50 %",
          input: {
            pod: workerPod("1mp", 0.5),
            hpa: workerBehavior(2, 6),
            signal: cpu(50),
            arrivals: (t) => Math.min(120, 20 + t / 3),
            loadSeconds: 600,
            durationSeconds: 1500,
          },
        },
        {
          label: "now: request = limit = 1, target 70 %",
          input: {
            pod: workerPod("1mp", 1),
            hpa: workerBehavior(2, 6),
            signal: cpu(70),
            arrivals: (t) => Math.min(120, 20 + t / 3),
            loadSeconds: 600,
            durationSeconds: 1500,
          },
        },
      ],
    },
    {
      name: "burst-12mp-prod",
      question: "Prod bounds (2–6 workers), a folder of 5,000 12 MP images uploaded in 50 s: a backlog that CPU cannot see beyond 100 %.",
      runs: [
        {
          label: "now, CPU: request = limit = 1, target 70 %",
          input: {
            pod: workerPod("12mp", 1),
            hpa: workerBehavior(2, 6),
            signal: cpu(70),
            arrivals: steady(100),
            loadSeconds: 50,
            durationSeconds: 900,
          },
        },
        {
          label: "queue depth (workerScaling queue-depth): 20 jobs per replica, CPU 70 % as second trigger",
          input: {
            pod: workerPod("12mp", 1),
            hpa: workerBehavior(2, 6),
            signal: { kind: "queue-depth", pendingPerReplica: 20, cpuTargetPercent: 70 },
            arrivals: steady(100),
            loadSeconds: 50,
            durationSeconds: 900,
          },
        },
      ],
    },
  ];
}
