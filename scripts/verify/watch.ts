/**
 * Watching the worker HorizontalPodAutoscaler while the load runs: every few seconds the HPA's status
 * (autoscaling/v2: currentReplicas, desiredReplicas, currentMetrics) and the worker pods (core/v1), next to
 * how much of the load was uploaded and done. After the load it keeps sampling through the cool-down, so the
 * timeline shows the scale-in too, and it answers "scaled out under load, back in after" in one table.
 */
import type { KubeClient } from "./kube-api";

export interface LoadState {
  readonly uploaded: number;
  readonly done: number;
}

export interface WatchSample {
  readonly atMs: number;
  readonly currentReplicas?: number;
  readonly desiredReplicas?: number;
  readonly cpuPercent?: number;
  readonly cpuTargetPercent?: number;
  readonly podsReady: number;
  readonly podsTotal: number;
  readonly load?: LoadState;
  readonly error?: string;
}

export interface WatchVerdictRow {
  readonly question: string;
  readonly answer: "yes" | "no" | "n/a";
  readonly evidence: string;
}

export interface WatchReport {
  readonly autoscaler: string;
  readonly samples: readonly WatchSample[];
  readonly marks: Readonly<Record<string, number>>;
  readonly verdict: readonly WatchVerdictRow[];
  /** Set when the cluster could not be watched at all. */
  readonly problem?: string;
}

export interface WatchSession {
  mark(label: "load-start" | "load-end"): void;
  finish(): Promise<WatchReport>;
}

export interface WatchOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly autoscaler: string;
  readonly intervalMs: number;
  /** After the load: keep sampling until replicas are back to where they started, or this long. */
  readonly cooldownMs: number;
  readonly loadState?: () => LoadState;
}

interface Hpa {
  spec: {
    scaleTargetRef: { kind: string; name: string };
    minReplicas?: number;
    metrics?: { type: string; resource?: { name: string; target: { averageUtilization?: number } } }[];
  };
  status: {
    currentReplicas?: number;
    desiredReplicas: number;
    currentMetrics?: { type: string; resource?: { name: string; current: { averageUtilization?: number } } }[];
  };
}

interface Deployment {
  spec: { selector: { matchLabels?: Record<string, string> } };
}

interface PodList {
  items: { status?: { phase?: string; conditions?: { type: string; status: string }[] }; metadata?: { deletionTimestamp?: string } }[];
}

/** One sample of the HPA and its pods. */
export async function sampleAutoscaler(client: KubeClient, namespace: string, name: string): Promise<Omit<WatchSample, "atMs" | "load">> {
  const ns = encodeURIComponent(namespace);
  const hpa = await client.get<Hpa>(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${encodeURIComponent(name)}`);
  const cpuOf = <M extends { type: string; resource?: { name: string } }>(ms: M[] | undefined): M | undefined =>
    ms?.find((m) => m.type === "Resource" && m.resource?.name === "cpu");
  let podsReady = 0;
  let podsTotal = 0;
  if (hpa.spec.scaleTargetRef.kind === "Deployment") {
    const deployment = await client.get<Deployment>(
      `/apis/apps/v1/namespaces/${ns}/deployments/${encodeURIComponent(hpa.spec.scaleTargetRef.name)}`,
    );
    const selector = Object.entries(deployment.spec.selector.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const pods = await client.get<PodList>(`/api/v1/namespaces/${ns}/pods?labelSelector=${encodeURIComponent(selector)}`);
    const live = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    podsTotal = live.length;
    podsReady = live.filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
  }
  return {
    currentReplicas: hpa.status.currentReplicas,
    desiredReplicas: hpa.status.desiredReplicas,
    cpuPercent: cpuOf(hpa.status.currentMetrics)?.resource?.current.averageUtilization,
    cpuTargetPercent: cpuOf(hpa.spec.metrics)?.resource?.target.averageUtilization,
    podsReady,
    podsTotal,
  };
}

const secondsOf = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** The one-table answer, from the samples and the load's start and end marks. */
export function verdictOf(samples: readonly WatchSample[], marks: Readonly<Record<string, number>>): WatchVerdictRow[] {
  const good = samples.filter((s) => s.currentReplicas !== undefined);
  const start = marks["load-start"] ?? 0;
  const end = marks["load-end"] ?? Number.POSITIVE_INFINITY;
  if (good.length === 0)
    return [
      { question: "scaled out under load", answer: "n/a", evidence: "no sample of the autoscaler succeeded" },
      { question: "scaled back in after", answer: "n/a", evidence: "no sample of the autoscaler succeeded" },
    ];
  const before = good.filter((s) => s.atMs <= start);
  const baseline = (before.length > 0 ? before[before.length - 1] : good[0]).currentReplicas!;
  const during = good.filter((s) => s.atMs > start && s.atMs <= end);
  const peak = during.reduce<WatchSample | undefined>(
    (p, s) => (p === undefined || s.currentReplicas! > p.currentReplicas! ? s : p),
    undefined,
  );
  const out = peak !== undefined && peak.currentReplicas! > baseline;
  const after = good.filter((s) => s.atMs > end);
  const peakAny = Math.max(baseline, ...good.map((s) => s.currentReplicas!));
  const backIn = out ? after.find((s) => s.currentReplicas! <= baseline) : undefined;
  const maxCpu = Math.max(...good.map((s) => s.cpuPercent ?? 0));
  const target = good.find((s) => s.cpuTargetPercent !== undefined)?.cpuTargetPercent;
  return [
    {
      question: "scaled out under load",
      answer: out ? "yes" : "no",
      evidence: out
        ? `${baseline} → ${peak!.currentReplicas} replicas, first at +${secondsOf(good.find((s) => s.atMs > start && s.currentReplicas! > baseline)!.atMs - start)} into the load`
        : `stayed at ${baseline} replica(s) during the load`,
    },
    {
      question: "scaled back in after",
      answer: !out ? "n/a" : backIn ? "yes" : "no",
      evidence: !out
        ? "did not scale out"
        : backIn
          ? `back to ${backIn.currentReplicas} at +${secondsOf(backIn.atMs - end)} after the load ended`
          : `still ${after.length ? after[after.length - 1].currentReplicas : peakAny} replicas at the end of the watch`,
    },
    {
      question: "CPU against target",
      answer: target !== undefined ? (maxCpu > target ? "yes" : "no") : "n/a",
      evidence: `peak ${maxCpu}% of request against a ${target ?? "?"}% target`,
    },
  ];
}

export function startWatch(o: WatchOptions): WatchSession {
  const t0 = Date.now();
  const samples: WatchSample[] = [];
  const marks: Record<string, number> = {};
  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number): Promise<void> =>
    new Promise((r) => {
      const timer = setTimeout(r, ms);
      wake = () => {
        clearTimeout(timer);
        r();
      };
    });

  const takeSample = async (): Promise<void> => {
    const atMs = Date.now() - t0;
    const load = o.loadState?.();
    try {
      samples.push({ atMs, load, ...(await sampleAutoscaler(o.client, o.namespace, o.autoscaler)) });
    } catch (err) {
      samples.push({ atMs, load, podsReady: 0, podsTotal: 0, error: (err as Error).message });
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await takeSample();
      if (marks["load-end"] !== undefined) {
        const first = samples.find((s) => s.currentReplicas !== undefined);
        const last = samples[samples.length - 1];
        const backToStart =
          first &&
          last.currentReplicas !== undefined &&
          last.currentReplicas <= first.currentReplicas! &&
          last.desiredReplicas! <= first.currentReplicas!;
        if (
          Date.now() - t0 - marks["load-end"] >= o.cooldownMs ||
          (backToStart && samples.some((s) => (s.currentReplicas ?? 0) > first.currentReplicas!))
        )
          break;
      }
      if (!stopped) await sleep(o.intervalMs);
    }
  })();

  return {
    mark(label) {
      marks[label] = Date.now() - t0;
    },
    async finish() {
      if (marks["load-end"] === undefined) {
        stopped = true;
        wake?.();
      }
      await loop;
      const errors = samples.filter((s) => s.error);
      return {
        autoscaler: `${o.namespace}/${o.autoscaler}`,
        samples,
        marks,
        verdict: verdictOf(samples, marks),
        problem: errors.length === samples.length ? `could not read the autoscaler: ${errors[0]?.error ?? "no samples"}` : undefined,
      };
    },
  };
}
