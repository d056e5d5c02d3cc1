/**
 * The pipeline on a real Ceph RGW (`--ceph`): the single-host cluster of test/ceph/harness (mon, memstore OSD,
 * radosgw) and a PostgreSQL started here, guarded by the harness's watchdog, and the compiled ceph-pipeline probe
 * driving a persistent and a synchronous topic through the webhook and workers. Summaries and tables are pure.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { registerCompanion, startCephCluster, stopCephCluster } from "../../test/ceph/harness/cluster";
import { startPostgres } from "../../test/ceph/harness/postgres";
import { freeLoopbackPort } from "../../test/ceph/harness/processes";
import { forkProbe } from "../lib/child";
import type { CompiledTree } from "../lib/compile";
import { summarize, type Summary } from "../lib/stats";
import { markdownTable } from "../lib/table";
import type { CephPipelineRequest, CephReply, CephTopicResult, TopicKind } from "../probes/ceph-pipeline-probe";
import { summarizePhase, type PhaseSummary } from "./pipeline";

export interface CephPipelineCase {
  readonly topic: TopicKind;
  readonly workers: number;
  readonly workerConcurrency: number;
  readonly warmup: CephTopicResult["warmup"];
  readonly batch: PhaseSummary;
  readonly lightLoad: PhaseSummary & { readonly intervalMs: number };
  /** The client's PUT duration (a synchronous topic holds the PUT until the webhook has answered). */
  readonly putMs: { readonly batch: Summary; readonly lightLoad: Summary };
  readonly jobsPerKeyNotOne: number;
  readonly processedPerKeyNotOne: number;
  /** CPU ms per image of each process during the batch. */
  readonly cpuPerImageMs: Record<string, number>;
  readonly peakRssMiB: Record<string, number>;
}

export function summarizeCephCase(
  r: CephTopicResult,
  setup: { readonly batch: number; readonly intervalMs: number; readonly workerConcurrency: number },
): CephPipelineCase {
  return {
    topic: r.topic,
    workers: r.workers,
    workerConcurrency: setup.workerConcurrency,
    warmup: r.warmup,
    batch: summarizePhase(r.batch),
    lightLoad: { ...summarizePhase(r.lightLoad), intervalMs: setup.intervalMs },
    putMs: { batch: summarize(r.putMs.batch), lightLoad: summarize(r.putMs.lightLoad) },
    jobsPerKeyNotOne: r.jobsPerKeyNotOne,
    processedPerKeyNotOne: r.processedPerKeyNotOne,
    cpuPerImageMs: Object.fromEntries(Object.entries(r.batchCpuMs).map(([k, v]) => [k, v / setup.batch])),
    peakRssMiB: r.peakRssMiB,
  };
}

/** No key of either phase without exactly one job and one processed event, none missing, none failed. */
export function exactlyOnce(c: CephPipelineCase): boolean {
  return (
    c.jobsPerKeyNotOne === 0 &&
    c.processedPerKeyNotOne === 0 &&
    c.batch.missing.length + c.lightLoad.missing.length === 0 &&
    c.batch.notProcessed.length + c.lightLoad.notProcessed.length === 0
  );
}

/** The Ceph daemons' CPU per image: what the object store costs the pipeline, against s3rver's process. */
export function storageCpuPerImage(c: CephPipelineCase): number {
  return (c.cpuPerImageMs.radosgw ?? 0) + (c.cpuPerImageMs["ceph-osd"] ?? 0) + (c.cpuPerImageMs["ceph-mon"] ?? 0);
}

export interface CephPipelineOptions {
  readonly compiled: CompiledTree;
  readonly serviceEnv: Record<string, string>;
  readonly workers: number;
  readonly workerConcurrency: number;
  readonly topics: readonly TopicKind[];
  readonly warmup: { readonly count: number; readonly timeoutMs: number };
  readonly batch: number;
  readonly lightLoad: { readonly count: number; readonly intervalMs: number };
  readonly log: (line: string) => void;
}

export async function measureCephPipeline(options: CephPipelineOptions): Promise<CephPipelineCase[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-pipeline-bench-ceph-"));
  try {
    // ownerPid: if the benchmark dies without reaching `finally`, the watchdog stops the daemons and PostgreSQL.
    const cluster = await startCephCluster({ dir, ownerPid: process.pid, installPackages: false, log: options.log });
    const postgres = await startPostgres(await freeLoopbackPort(), options.log);
    registerCompanion(dir, { name: "postgres", pid: postgres.pid, marker: postgres.dataDir, stopSignal: "SIGINT", dir: postgres.dir });
    const req: CephPipelineRequest = {
      type: "ceph-pipeline",
      rgw: {
        endpoint: cluster.endpoint,
        region: cluster.region,
        accessKeyId: cluster.accessKeyId,
        secretAccessKey: cluster.secretAccessKey,
      },
      daemons: { radosgw: cluster.pids.rgw, "ceph-osd": cluster.pids.osd, "ceph-mon": cluster.pids.mon },
      postgres: { adminUrl: postgres.adminUrl, pid: postgres.pid },
      env: { ...options.serviceEnv, WORKER_CONCURRENCY: String(options.workerConcurrency) },
      workers: options.workers,
      topics: options.topics,
      warmup: options.warmup,
      batch: options.batch,
      uploadConcurrency: 8,
      lightLoad: options.lightLoad,
      timeoutMs: 300_000,
    };
    const probe = await forkProbe<CephPipelineRequest, CephReply>(
      options.compiled.resolve("bench/probes/ceph-pipeline-probe.ts"),
      options.compiled.env,
    );
    let reply: CephReply;
    try {
      reply = await probe.request(req);
    } finally {
      await probe.close();
    }
    if (reply.type !== "ceph-pipeline") throw new Error(`ceph-pipeline probe answered ${reply.type}`);
    return reply.cases.map((r) => {
      const c = summarizeCephCase(r, {
        batch: options.batch,
        intervalMs: options.lightLoad.intervalMs,
        workerConcurrency: options.workerConcurrency,
      });
      options.log(
        `ceph ${c.topic} topic: first warm-up event after ${c.warmup.firstEventMs} ms; ${c.batch.images}/${options.batch} images at ${c.batch.throughput.toFixed(1)}/s; ` +
          `light load PUT->event p50 ${c.lightLoad.latencyMs.median.toFixed(0)} ms p99 ${c.lightLoad.latencyMs.p99.toFixed(0)} ms; radosgw ${c.cpuPerImageMs.radosgw.toFixed(1)} CPU ms/img`,
      );
      return c;
    });
  } finally {
    await stopCephCluster(dir, { log: options.log });
  }
}

const ms4 = (s: Summary): string => `${s.median.toFixed(0)} / ${s.p95.toFixed(0)} / ${s.p99.toFixed(0)} / ${s.max.toFixed(0)}`;
const ms2 = (s: Summary): string => `${s.median.toFixed(0)} / ${s.p99.toFixed(0)}`;

/** s3rver's figures from the pipeline section's case with the same workers and jobs in flight, when it ran. */
export interface S3rverCpu {
  readonly label: string;
  /** The S3 server process alone. */
  readonly s3ServerMs: number;
  /** Every process of that case, by name. */
  readonly cpuPerImageMs: Record<string, number>;
}

export function cephPipelineReport(cases: readonly CephPipelineCase[], s3rver: S3rverCpu | undefined): string {
  const config = (c: CephPipelineCase): string => `${c.topic} (${c.workers} x ${c.workerConcurrency})`;
  const batch = markdownTable(
    [
      "topic (workers x in flight)",
      "images",
      "img/s",
      "PUT->event p50/p95/p99/max ms",
      "PUT p50/p99 ms",
      "notify p50",
      "queue p50",
      "process p50 (dl+tx+ul)",
      "lost/doubled (jobs, events)",
    ],
    cases.map((c) => [
      config(c),
      `${c.batch.images} (+${c.batch.missing.length} missing, ${c.batch.notProcessed.length} failed)`,
      c.batch.throughput.toFixed(1),
      ms4(c.batch.latencyMs),
      ms2(c.putMs.batch),
      c.batch.notifyMs.median.toFixed(0),
      c.batch.queueMs.median.toFixed(0),
      `${c.batch.processMs.median.toFixed(0)} (${c.batch.downloadMs.median.toFixed(0)}+${c.batch.transformMs.median.toFixed(0)}+${c.batch.uploadMs.median.toFixed(0)})`,
      `${c.jobsPerKeyNotOne}, ${c.processedPerKeyNotOne}`,
    ]),
  );
  const light = markdownTable(
    [
      "topic (workers x in flight)",
      "images",
      "arrival every",
      "PUT->event p50/p95/p99/max ms",
      "PUT p50/p99 ms",
      "notify p50",
      "queue p50",
      "process p50",
    ],
    cases.map((c) => [
      config(c),
      `${c.lightLoad.images} (+${c.lightLoad.missing.length} missing)`,
      `${c.lightLoad.intervalMs} ms`,
      ms4(c.lightLoad.latencyMs),
      ms2(c.putMs.lightLoad),
      c.lightLoad.notifyMs.median.toFixed(0),
      c.lightLoad.queueMs.median.toFixed(0),
      c.lightLoad.processMs.median.toFixed(0),
    ]),
  );
  const storage = ["radosgw", "ceph-osd", "ceph-mon"];
  const others = [...new Set(cases.flatMap((c) => Object.keys(c.cpuPerImageMs)))].filter((k) => !storage.includes(k));
  const cell = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? "-" : v.toFixed(1));
  const total = (m: Record<string, number>): number => Object.values(m).reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0);
  const cpuRows = cases.map((c) => [
    `RGW, ${config(c)}`,
    ...storage.map((k) => cell(c.cpuPerImageMs[k])),
    cell(storageCpuPerImage(c)),
    ...others.map((k) => cell(c.cpuPerImageMs[k])),
    cell(total(c.cpuPerImageMs)),
  ]);
  if (s3rver) {
    const s = s3rver.cpuPerImageMs;
    // The s3rver pipeline's driver both uploads and forwards the notifications; it sits in the uploader column.
    const driver = (k: string): number | undefined => (k === "uploader" ? s["forwarder + uploader"] : s[k]);
    cpuRows.push([
      `s3rver, ${s3rver.label} (section 2)`,
      "-",
      "-",
      "-",
      cell(s3rver.s3ServerMs),
      ...others.map((k) => cell(driver(k))),
      cell(total(s)),
    ]);
  }
  const cpu = markdownTable(
    [
      "store, topic",
      ...storage,
      "object store total",
      ...others.map((k) => (k === "uploader" ? "uploader (s3rver: + forwarder)" : k)),
      "all processes",
    ],
    cpuRows,
  );
  const rss = cases
    .map(
      (c) =>
        `${c.topic}: ${Object.entries(c.peakRssMiB)
          .map(([k, v]) => `${k} ${v.toFixed(0)}`)
          .join(", ")}`,
    )
    .join("; ");
  const warm = cases
    .map((c) => `${c.topic}: first event ${c.warmup.firstEventMs} ms after the first warm-up PUT (${c.warmup.images} images)`)
    .join("; ");
  const persistent = cases.find((c) => c.topic === "persistent");
  const sync = cases.find((c) => c.topic === "sync");
  let cost = "";
  if (persistent && sync) {
    const row = (what: string, p: number, s: number, unit: string): string[] => [
      what,
      `${p.toFixed(1)} ${unit}`,
      `${s.toFixed(1)} ${unit}`,
      `${(p - s >= 0 ? "+" : "") + (p - s).toFixed(1)} ${unit}`,
    ];
    cost = `\n\nThe cost of persistence (persistent minus synchronous):\n\n${markdownTable(
      ["measure", "persistent", "sync", "persistence costs"],
      [
        row("light load PUT->event p50", persistent.lightLoad.latencyMs.median, sync.lightLoad.latencyMs.median, "ms"),
        row("light load PUT->event p99", persistent.lightLoad.latencyMs.p99, sync.lightLoad.latencyMs.p99, "ms"),
        row("light load notify p50 (PUT->job)", persistent.lightLoad.notifyMs.median, sync.lightLoad.notifyMs.median, "ms"),
        row("light load PUT p50 (client)", persistent.putMs.lightLoad.median, sync.putMs.lightLoad.median, "ms"),
        row("batch PUT p50 (client)", persistent.putMs.batch.median, sync.putMs.batch.median, "ms"),
        row("batch throughput", persistent.batch.throughput, sync.batch.throughput, "img/s"),
        row("radosgw CPU per image", persistent.cpuPerImageMs.radosgw, sync.cpuPerImageMs.radosgw, "ms"),
        row("ceph-osd CPU per image", persistent.cpuPerImageMs["ceph-osd"], sync.cpuPerImageMs["ceph-osd"], "ms"),
      ],
    )}`;
  }
  return (
    `Batch (uploaded 8 at a time):\n\n${batch}\n\nLight load:\n\n${light}\n\nCPU ms per image during the batch, by process:\n\n${cpu}${cost}\n\n` +
    `Warm-up before measuring: ${warm}. Peak RSS MiB: ${rss}.`
  );
}
