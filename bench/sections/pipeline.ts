/**
 * Pipeline overhead and webhook load, on the local pipeline (embedded PostgreSQL, s3rver, webhook,
 * workers) driven by the compiled pipeline probe.
 */
import { forkProbe } from "../lib/child";
import type { CompiledTree } from "../lib/compile";
import { summarize, type Summary } from "../lib/stats";
import type {
  ImageTiming,
  PhaseResult,
  PipelineImage,
  PipelineRequest,
  Reply,
  Request,
  WebhookRequest,
  WebhookResult,
} from "../probes/pipeline-probe";

export interface PhaseSummary {
  readonly images: number;
  readonly notProcessed: string[];
  readonly missing: string[];
  /** PUT start → event row written, ms. */
  readonly latencyMs: Summary;
  /** PUT start → job enqueued by the webhook (S3 server, notification, webhook, INSERT). */
  readonly notifyMs: Summary;
  /** Job enqueued → a worker starts it (queue wait and LISTEN/NOTIFY wake-up). */
  readonly queueMs: Summary;
  /** Worker start → event row (download, transform, upload, commit). */
  readonly processMs: Summary;
  /** The worker's own split of processMs, from the event rows. */
  readonly downloadMs: Summary;
  readonly transformMs: Summary;
  readonly uploadMs: Summary;
  /** Per worker, from one event row to the start of its next job: claiming, and completing the previous one. */
  readonly gapMs: Summary | undefined;
  /** Images per second from the first PUT to the last event row. */
  readonly throughput: number;
}

export interface PipelineCase {
  readonly image: PipelineImage;
  readonly workers: number;
  /** WORKER_CONCURRENCY: jobs in flight per worker process. */
  readonly workerConcurrency: number;
  /** Uploads in flight during the batch. */
  readonly uploadConcurrency: number;
  readonly batch: PhaseSummary;
  /** Absent for cases that run only the batch (the 12 MP case). */
  readonly lightLoad?: PhaseSummary & { readonly intervalMs: number };
  readonly jobsPerKeyNotOne: number;
  readonly peakRssMiB: Record<string, number>;
  /** CPU ms per image of each component during the batch. */
  readonly cpuPerImageMs: Record<string, number>;
}

/** One pipeline run: which image, how many worker processes, and how many jobs each has in flight. */
export interface PipelineCaseSpec {
  readonly image: PipelineImage;
  readonly workers: number;
  readonly workerConcurrency: number;
  /** Images in the batch phase. */
  readonly batch: number;
  readonly uploadConcurrency: number;
  readonly lightLoad?: { readonly count: number; readonly intervalMs: number };
}

/** The workers' CPU per image together: every process named worker-N. */
export function workersCpuPerImageMs(c: Pick<PipelineCase, "cpuPerImageMs">): number {
  return Object.entries(c.cpuPerImageMs)
    .filter(([name]) => /^worker-\d+$/.test(name))
    .reduce((sum, [, ms]) => sum + ms, 0);
}

/** Every measured process's CPU per image together: what one image costs the whole machine. */
export function systemCpuPerImageMs(c: Pick<PipelineCase, "cpuPerImageMs">): number {
  return Object.values(c.cpuPerImageMs).reduce((sum, ms) => sum + ms, 0);
}

/** Gaps between one job's end and the next job's start on the same worker (only meaningful with one job in flight per worker). */
function workerGaps(images: readonly ImageTiming[]): Summary | undefined {
  const byWorker = new Map<string, ImageTiming[]>();
  for (const i of images) byWorker.set(i.workerId, [...(byWorker.get(i.workerId) ?? []), i]);
  const gaps: number[] = [];
  for (const list of byWorker.values()) {
    list.sort((a, b) => a.startedMs - b.startedMs);
    for (let k = 1; k < list.length; k++) gaps.push(list[k].startedMs - list[k - 1].finishedMs);
  }
  return gaps.length > 0 ? summarize(gaps) : undefined;
}

export function summarizePhase(phase: PhaseResult): PhaseSummary {
  const images: ImageTiming[] = phase.images;
  if (images.length === 0)
    throw new Error(
      `no image was processed (missing ${phase.missing.length}, not processed: ${phase.notProcessed.slice(0, 3).join("; ")})`,
    );
  const firstPut = Math.min(...images.map((i) => i.putMs));
  const lastEvent = Math.max(...images.map((i) => i.finishedMs));
  return {
    images: images.length,
    notProcessed: phase.notProcessed,
    missing: phase.missing,
    latencyMs: summarize(images.map((i) => i.finishedMs - i.putMs)),
    notifyMs: summarize(images.map((i) => i.enqueuedMs - i.putMs)),
    queueMs: summarize(images.map((i) => i.startedMs - i.enqueuedMs)),
    processMs: summarize(images.map((i) => i.finishedMs - i.startedMs)),
    downloadMs: summarize(images.map((i) => i.downloadMs)),
    transformMs: summarize(images.map((i) => i.transformMs)),
    uploadMs: summarize(images.map((i) => i.uploadMs)),
    gapMs: workerGaps(images),
    throughput: (images.length * 1000) / (lastEvent - firstPut),
  };
}

export interface PipelineOptions {
  readonly compiled: CompiledTree;
  /** Environment of the webhook and worker processes: the container's allocator settings. */
  readonly serviceEnv: Record<string, string>;
  readonly cases: readonly PipelineCaseSpec[];
  readonly log: (line: string) => void;
}

async function withProbe<T extends Reply>(compiled: CompiledTree, req: Request): Promise<T> {
  const probe = await forkProbe<Request, Reply>(compiled.resolve("bench/probes/pipeline-probe.ts"), compiled.env);
  try {
    return (await probe.request(req)) as T;
  } finally {
    await probe.close();
  }
}

export async function measurePipeline(options: PipelineOptions): Promise<PipelineCase[]> {
  const cases: PipelineCase[] = [];
  for (const spec of options.cases) {
    const { image, workers, workerConcurrency } = spec;
    const req: PipelineRequest = {
      type: "pipeline",
      workers,
      env: { ...options.serviceEnv, WORKER_CONCURRENCY: String(workerConcurrency) },
      image,
      batch: spec.batch,
      uploadConcurrency: spec.uploadConcurrency,
      lightLoad: spec.lightLoad,
      timeoutMs: 300_000,
    };
    const r = await withProbe<Extract<Reply, { type: "pipeline" }>>(options.compiled, req);
    const c: PipelineCase = {
      image,
      workers,
      workerConcurrency,
      uploadConcurrency: spec.uploadConcurrency,
      batch: summarizePhase(r.batch),
      lightLoad: r.lightLoad && spec.lightLoad ? { ...summarizePhase(r.lightLoad), intervalMs: spec.lightLoad.intervalMs } : undefined,
      jobsPerKeyNotOne: r.jobsPerKeyNotOne,
      peakRssMiB: r.peakRssMiB,
      cpuPerImageMs: Object.fromEntries(Object.entries(r.batchCpuMs).map(([k, v]) => [k, v / spec.batch])),
    };
    options.log(
      `pipeline ${image} ${workers} worker(s) x ${workerConcurrency} in flight: ${c.batch.images}/${spec.batch} images at ${c.batch.throughput.toFixed(1)}/s` +
        (c.lightLoad
          ? `; light load PUT->event p50 ${c.lightLoad.latencyMs.median.toFixed(0)} ms p99 ${c.lightLoad.latencyMs.p99.toFixed(0)} ms`
          : ""),
    );
    cases.push(c);
  }
  return cases;
}

export interface WebhookOptions {
  readonly compiled: CompiledTree;
  readonly serviceEnv: Record<string, string>;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly rate: number;
  readonly log: (line: string) => void;
}

export async function measureWebhook(options: WebhookOptions): Promise<WebhookResult> {
  const req: WebhookRequest = {
    type: "webhook",
    env: options.serviceEnv,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    rate: options.rate,
    redeliverEvery: 10,
  };
  const r = await withProbe<WebhookResult>(options.compiled, req);
  for (const run of r.runs) {
    options.log(
      `webhook ${run.label}: ${run.acceptedPerSecond.toFixed(0)} accepted/s, p99 ${run.latencyMs.p99} ms, other statuses ${JSON.stringify(run.otherStatuses)}, errors ${run.errors}`,
    );
  }
  options.log(
    `webhook exactly-once: ${r.acceptedKeys} accepted keys, ${r.acceptedWithoutJob} without a job, ${r.keysWithSeveralJobs} with several, ${r.unknownJobs} unknown`,
  );
  return r;
}
