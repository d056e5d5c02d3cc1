/**
 * Drives the local pipeline (worker/local/pipeline.ts: embedded PostgreSQL, s3rver, webhook, worker
 * processes) for the pipeline and webhook benchmarks. Runs as compiled JavaScript in a process of its
 * own, so the webhook and workers it starts are compiled too, as in the container. Answers over IPC.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { cephRecord } from "../../worker/local/forwarder";
import { startLocalPipeline } from "../../worker/local/pipeline";
import { pipelineBatchImages, type PipelineImage } from "../lib/images";
import { cpuMs, peakRssMiB } from "../lib/proc";
import { collectPhase, jobsPerKeyNotOne, mapLimit } from "./phase-events";
import { serveProbe } from "../lib/probe-server";

export interface PipelineRequest {
  readonly type: "pipeline";
  readonly workers: number;
  /** Environment for the webhook and workers (allocator settings, WORKER_CONCURRENCY, …). */
  readonly env: Record<string, string>;
  /** The benchmark image (bench/lib/images.ts STANDARD_IMAGES); distinct variants of it are cycled over the keys. */
  readonly image: PipelineImage;
  readonly batch: number;
  readonly uploadConcurrency: number;
  /** The open-loop light-load phase; absent to skip it. */
  readonly lightLoad?: { readonly count: number; readonly intervalMs: number };
  readonly timeoutMs: number;
}

export { PIPELINE_IMAGES, type PipelineImage } from "../lib/images";

export interface WebhookRequest {
  readonly type: "webhook";
  readonly env: Record<string, string>;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Requests per second for the fixed-rate run. */
  readonly rate: number;
  /** Every n-th request re-sends an already accepted notification, to check that re-delivery does not double a job. */
  readonly redeliverEvery: number;
}

export type Request = PipelineRequest | WebhookRequest;

/** CPU accounting names: the S3 server's own process, and this driver (notification forwarder and uploading client). */
export const S3_SERVER_CPU = "s3 server";
export const DRIVER_CPU = "forwarder + uploader";

/** One image through the pipeline, as epoch milliseconds. */
export interface ImageTiming {
  readonly key: string;
  readonly putMs: number;
  readonly enqueuedMs: number;
  readonly startedMs: number;
  readonly finishedMs: number;
  readonly workerId: string;
  /** The worker's own measurements, from the event row. */
  readonly downloadMs: number;
  readonly transformMs: number;
  readonly uploadMs: number;
}

export interface PhaseResult {
  readonly images: ImageTiming[];
  /** Event rows not in status 'processed'. */
  readonly notProcessed: string[];
  readonly missing: string[];
}

export interface PipelineResult {
  readonly type: "pipeline";
  readonly workers: number;
  readonly batch: PhaseResult;
  readonly lightLoad?: PhaseResult;
  /** Jobs per key over both phases: anything but 1 is a lost or doubled image. */
  readonly jobsPerKeyNotOne: number;
  readonly peakRssMiB: Record<string, number>;
  /** CPU time each component spent during the batch phase, ms (divide by the batch size for per image). */
  readonly batchCpuMs: Record<string, number>;
}

export interface LoadRun {
  readonly label: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly accepted: number;
  readonly acceptedPerSecond: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  readonly otherStatuses: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
}

export interface WebhookResult {
  readonly type: "webhook";
  readonly runs: LoadRun[];
  /** Distinct keys answered 200, over all runs. */
  readonly acceptedKeys: number;
  /** Re-deliveries of accepted notifications answered 200 (they must not create jobs). */
  readonly redeliveriesAccepted: number;
  readonly acceptedWithoutJob: number;
  readonly keysWithSeveralJobs: number;
  /** Jobs whose key was never sent (must be 0). */
  readonly unknownJobs: number;
  /** Keys sent whose response did not arrive before the run ended; they may or may not have a job. */
  readonly unanswered: number;
}

export type Reply = { readonly type: "ready" } | PipelineResult | WebhookResult | { readonly type: "error"; readonly message: string };

async function runPipeline(req: PipelineRequest): Promise<PipelineResult> {
  // Distinct images, so nothing downstream can profit from identical inputs; cycled over the keys.
  const variants = await pipelineBatchImages(req.image);
  const body = (i: number): Buffer => variants[i % variants.length].data;
  const pipeline = await startLocalPipeline({ workers: req.workers, env: req.env });
  try {
    const upload = async (key: string, i: number, putMs: Map<string, number>): Promise<void> => {
      putMs.set(key, Date.now());
      await pipeline.upload(key, body(i), "image/jpeg");
    };
    // Warm-up: connections, JIT, libvips start-up.
    const warm = new Map<string, number>();
    await mapLimit([0, 1, 2, 3, 4, 5], 3, (i) => upload(`warmup/${i}.jpg`, i, warm));
    await collectPhase(pipeline.db, pipeline.inputBucket, warm, req.timeoutMs);

    const postmaster = Number(fs.readFileSync(path.join(pipeline.postgres.options.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    const cpu = (): Record<string, number> => {
      const c: Record<string, number> = { webhook: cpuMs(pipeline.webhook.pid), postgres: cpuMs(postmaster, true) };
      for (const w of pipeline.workers) c[w.name] = cpuMs(w.pid);
      // The S3 server is a child process of its own; this process forwards its notifications and uploads.
      const s3 = pipeline.pids().s3;
      if (s3 !== undefined) c[S3_SERVER_CPU] = cpuMs(s3);
      const self = process.cpuUsage();
      c[DRIVER_CPU] = (self.user + self.system) / 1000;
      return c;
    };

    const batchPut = new Map<string, number>();
    const batchKeys = Array.from({ length: req.batch }, (_, i) => i);
    const cpuBefore = cpu();
    await mapLimit(batchKeys, req.uploadConcurrency, (i) => upload(`batch/${String(i).padStart(4, "0")}.jpg`, i, batchPut));
    const batch = await collectPhase(pipeline.db, pipeline.inputBucket, batchPut, req.timeoutMs);
    const cpuAfter = cpu();
    const batchCpuMs = Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, v - cpuBefore[k]]));

    // Light load: an open-loop arrival every intervalMs, far below capacity, so latency is the path's, not the queue's.
    const lightPut = new Map<string, number>();
    let lightLoad: PhaseResult | undefined;
    if (req.lightLoad) {
      const uploads: Promise<void>[] = [];
      for (let i = 0; i < req.lightLoad.count; i++) {
        uploads.push(upload(`light/${String(i).padStart(4, "0")}.jpg`, i, lightPut));
        await new Promise((r) => setTimeout(r, req.lightLoad?.intervalMs));
      }
      await Promise.all(uploads);
      lightLoad = await collectPhase(pipeline.db, pipeline.inputBucket, lightPut, req.timeoutMs);
    }

    const notOne = await jobsPerKeyNotOne(pipeline.db, pipeline.inputBucket, [...batchPut.keys(), ...lightPut.keys()]);
    const peak: Record<string, number> = { webhook: peakRssMiB(pipeline.webhook.pid) };
    for (const w of pipeline.workers) peak[w.name] = peakRssMiB(w.pid);
    return {
      type: "pipeline",
      workers: req.workers,
      batch,
      lightLoad,
      jobsPerKeyNotOne: notOne,
      peakRssMiB: peak,
      batchCpuMs,
    };
  } finally {
    await pipeline.stop();
  }
}

async function runWebhook(req: WebhookRequest): Promise<WebhookResult> {
  // No workers: jobs stay in the queue, where each accepted notification must appear exactly once.
  const pipeline = await startLocalPipeline({ workers: 0, env: req.env });
  try {
    const sent = new Set<string>();
    const accepted = new Set<string>();
    let redeliveriesAccepted = 0;
    let seq = 0;
    // A re-delivery is the same record again: same eTag and same eventTime (the object's mtime). A new eventTime
    // would be the same content uploaded again, a new version that rightly gets a job of its own.
    const versions = new Map<string, { readonly eTag: string; readonly eventTime: string }>();
    const notification = (key: string): string => {
      const v = versions.get(key);
      return JSON.stringify({
        Records: [
          cephRecord(
            { bucket: pipeline.inputBucket, key, size: 1_000_000, eTag: v?.eTag ?? "", eventTime: v?.eventTime },
            pipeline.webhookSecret,
          ),
        ],
      });
    };
    const acceptedList: string[] = [];

    const load = async (label: string, options: { overallRate?: number }): Promise<LoadRun> => {
      const statuses: Record<string, number> = {};
      const result = await autocannon({
        url: pipeline.webhookUrl,
        connections: req.connections,
        duration: req.durationSeconds,
        timeout: 10,
        ...options,
        requests: [
          {
            method: "POST",
            headers: { "content-type": "application/json" },
            setupRequest: (r, context) => {
              const n = seq++;
              let key: string;
              const redelivery = n % req.redeliverEvery === req.redeliverEvery - 1 && acceptedList.length > 0;
              if (redelivery) {
                key = acceptedList[n % acceptedList.length];
              } else {
                key = `load/${label}/${String(n).padStart(7, "0")}.jpg`;
                versions.set(key, { eTag: randomBytes(16).toString("hex"), eventTime: new Date().toISOString() });
                sent.add(key);
              }
              context.key = key;
              context.redelivery = redelivery;
              return { ...r, body: notification(key) };
            },
            onResponse: (status, _body, context) => {
              statuses[status] = (statuses[status] ?? 0) + 1;
              if (status !== 200) return;
              const key = context.key as string;
              if (context.redelivery) redeliveriesAccepted++;
              else if (!accepted.has(key)) {
                accepted.add(key);
                acceptedList.push(key);
              }
            },
          },
        ],
      });
      const ok = statuses["200"] ?? 0;
      delete statuses["200"];
      return {
        label,
        connections: req.connections,
        durationSeconds: result.duration,
        accepted: ok,
        acceptedPerSecond: ok / result.duration,
        latencyMs: {
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          max: result.latency.max,
          mean: result.latency.mean,
        },
        otherStatuses: statuses,
        errors: result.errors,
        timeouts: result.timeouts,
      };
    };

    const runs = [await load("saturation", {}), await load(`rate-${req.rate}`, { overallRate: req.rate })];

    const jobs = (
      await pipeline.db.query<{ object_key: string; n: string }>(
        `SELECT object_key, count(*) AS n FROM image_pipeline.jobs WHERE bucket = $1 GROUP BY object_key`,
        [pipeline.inputBucket],
      )
    ).rows;
    const jobCount = new Map(jobs.map((j) => [j.object_key, Number(j.n)]));
    let acceptedWithoutJob = 0;
    for (const key of accepted) if (!jobCount.has(key)) acceptedWithoutJob++;
    let unanswered = 0;
    for (const key of sent) if (!accepted.has(key)) unanswered++;
    return {
      type: "webhook",
      runs,
      acceptedKeys: accepted.size,
      redeliveriesAccepted,
      acceptedWithoutJob,
      keysWithSeveralJobs: jobs.filter((j) => Number(j.n) > 1).length,
      unknownJobs: jobs.filter((j) => !sent.has(j.object_key)).length,
      unanswered,
    };
  } finally {
    await pipeline.stop();
  }
}

serveProbe<Request, Reply>("pipeline-probe", (req) => (req.type === "pipeline" ? runPipeline(req) : runWebhook(req)));
