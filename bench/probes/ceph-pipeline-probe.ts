/**
 * Drives the pipeline against a real Ceph RGW for the ceph-pipeline benchmark: the cluster and PostgreSQL are
 * started by the benchmark (test/ceph/harness, with its watchdog); this probe adds, per topic kind, a database,
 * two buckets, an RGW topic pushing to the webhook, the bucket notification, the webhook and the workers (compiled
 * processes, as in the container), then uploads with the SDK and reads the timings back from the event log.
 * Runs as compiled JavaScript in a process of its own and answers over IPC.
 */
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Pool } from "pg";
import { deleteTopic, putTopic, type RgwConnection } from "../../infra/rgw/topic-api";
import { createDatabase } from "../../test/ceph/harness/postgres";
import { s3Client, putObjectCreatedNotification } from "../../test/ceph/support/clients";
import { migrate } from "../../worker/src/db/migrate";
import { freePort } from "../../worker/local/ports";
import { ServiceProcess } from "../../worker/local/service-process";
import { generateImage, STANDARD_IMAGES } from "../lib/images";
import { cpuMs, peakRssMiB } from "../lib/proc";
import { collectPhase, jobsPerKeyNotOne, mapLimit, processedEventsPerKeyNotOne } from "./phase-events";
import type { PhaseResult } from "./pipeline-probe";
import { serveProbe } from "../lib/probe-server";

export type TopicKind = "persistent" | "sync";

export interface CephPipelineRequest {
  readonly type: "ceph-pipeline";
  readonly rgw: RgwConnection;
  /** The cluster's daemons, whose CPU is accounted per image. */
  readonly daemons: { readonly radosgw: number; readonly "ceph-osd": number; readonly "ceph-mon": number };
  readonly postgres: { readonly adminUrl: string; readonly pid: number };
  /** Environment for the webhook and workers (allocator settings, WORKER_CONCURRENCY, …). */
  readonly env: Record<string, string>;
  readonly workers: number;
  /** Run in this order; each topic is created before the first case runs (a new persistent topic delivers late). */
  readonly topics: readonly TopicKind[];
  readonly warmup: { readonly count: number; readonly timeoutMs: number };
  readonly batch: number;
  readonly uploadConcurrency: number;
  readonly lightLoad: { readonly count: number; readonly intervalMs: number };
  readonly timeoutMs: number;
}

export interface CephTopicResult {
  readonly topic: TopicKind;
  readonly workers: number;
  /** Warm-up: images, ms from its first PUT to its first event row, and whether every one arrived. */
  readonly warmup: { readonly images: number; readonly firstEventMs: number; readonly allProcessed: boolean };
  readonly batch: PhaseResult;
  readonly lightLoad: PhaseResult;
  /** How long each PUT took for the client (a synchronous topic answers after the webhook has). */
  readonly putMs: { readonly batch: number[]; readonly lightLoad: number[] };
  /** Keys of both phases whose job count is not one (lost or doubled notification). */
  readonly jobsPerKeyNotOne: number;
  /** Keys of both phases whose processed-event count is not one. */
  readonly processedPerKeyNotOne: number;
  /** CPU ms each process spent during the batch phase. */
  readonly batchCpuMs: Record<string, number>;
  readonly peakRssMiB: Record<string, number>;
}

export type CephReply =
  | { readonly type: "ready" }
  | { readonly type: "ceph-pipeline"; readonly cases: CephTopicResult[] }
  | { readonly type: "error"; readonly message: string };

interface PreparedTopic {
  readonly kind: TopicKind;
  readonly arn: string;
  readonly webhookPort: number;
  readonly secret: string;
}

/** Log directories of runs in progress, removed when the benchmark goes away mid-run. */
const logDirs = new Set<string>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runCase(
  req: CephPipelineRequest,
  topic: PreparedTopic,
  body: (i: number) => Buffer,
  logDir: string,
): Promise<CephTopicResult> {
  const s3 = s3Client(req.rgw);
  const suffix = randomBytes(3).toString("hex");
  const inputBucket = `bench-${topic.kind}-in-${suffix}`;
  const outputBucket = `bench-${topic.kind}-out-${suffix}`;
  const databaseUrl = await createDatabase(req.postgres.adminUrl, `bench_${topic.kind}_${suffix}`);
  const db = new Pool({ connectionString: databaseUrl, max: 4 });
  db.on("error", () => undefined);
  const services: ServiceProcess[] = [];
  try {
    await migrate(db);
    for (const b of [inputBucket, outputBucket]) await s3.send(new CreateBucketCommand({ Bucket: b }));
    await putObjectCreatedNotification(s3, inputBucket, topic.arn);

    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      S3_ENDPOINT: req.rgw.endpoint,
      S3_REGION: req.rgw.region,
      S3_ACCESS_KEY_ID: req.rgw.accessKeyId,
      S3_SECRET_ACCESS_KEY: req.rgw.secretAccessKey,
      S3_FORCE_PATH_STYLE: "true",
      INPUT_BUCKET: inputBucket,
      OUTPUT_BUCKET: outputBucket,
      WEBHOOK_SECRET: topic.secret,
      // Every job must come from a notification, so a lost one shows as a missing key.
      RECONCILE_MODE: "notifications",
      LOG_LEVEL: "info",
      ...req.env,
    };
    const webhook = new ServiceProcess({
      name: "webhook",
      command: "webhook",
      port: topic.webhookPort,
      env,
      logFile: path.join(logDir, `${topic.kind}-webhook.log`),
    });
    services.push(webhook);
    await webhook.start();
    const workers: ServiceProcess[] = [];
    for (let n = 1; n <= req.workers; n++) {
      const w = new ServiceProcess({
        name: `worker-${n}`,
        command: "worker",
        port: await freePort(),
        env: { ...env, WORKER_ID: `bench-${topic.kind}-worker-${n}` },
        logFile: path.join(logDir, `${topic.kind}-worker-${n}.log`),
      });
      services.push(w);
      workers.push(w);
    }
    await Promise.all(workers.map((w) => w.start()));

    const upload = async (key: string, i: number, putAt: Map<string, number>, putDurations: number[]): Promise<void> => {
      const t0 = Date.now();
      putAt.set(key, t0);
      await s3.send(new PutObjectCommand({ Bucket: inputBucket, Key: key, Body: body(i), ContentType: "image/jpeg" }));
      putDurations.push(Date.now() - t0);
    };

    // Warm-up: connections, JIT, libvips; for a new persistent topic also RGW's first queue scan (up to ~30 s).
    const warm = new Map<string, number>();
    await mapLimit(
      Array.from({ length: req.warmup.count }, (_, i) => i),
      3,
      (i) => upload(`warmup/${i}.jpg`, i, warm, []),
    );
    const warmed = await collectPhase(db, inputBucket, warm, req.warmup.timeoutMs);
    if (warmed.images.length === 0)
      throw new Error(`${topic.kind} topic: no warm-up image was processed within ${req.warmup.timeoutMs} ms; see ${logDir}`);
    const firstEventMs = Math.round(Math.min(...warmed.images.map((i) => i.finishedMs)) - Math.min(...warm.values()));

    const postmaster = req.postgres.pid;
    const cpu = (): Record<string, number> => {
      const c: Record<string, number> = {
        radosgw: cpuMs(req.daemons.radosgw),
        "ceph-osd": cpuMs(req.daemons["ceph-osd"]),
        "ceph-mon": cpuMs(req.daemons["ceph-mon"]),
        webhook: cpuMs(webhook.pid),
        postgres: cpuMs(postmaster, true),
      };
      for (const w of workers) c[w.name] = cpuMs(w.pid);
      const self = process.cpuUsage();
      c.uploader = (self.user + self.system) / 1000;
      return c;
    };

    const batchPut = new Map<string, number>();
    const batchPutMs: number[] = [];
    const cpuBefore = cpu();
    await mapLimit(
      Array.from({ length: req.batch }, (_, i) => i),
      req.uploadConcurrency,
      (i) => upload(`batch/${String(i).padStart(4, "0")}.jpg`, i, batchPut, batchPutMs),
    );
    const batch = await collectPhase(db, inputBucket, batchPut, req.timeoutMs);
    const cpuAfter = cpu();
    const batchCpuMs = Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, v - cpuBefore[k]]));

    // Light load: an open-loop arrival every intervalMs, far below capacity, so latency is the path's, not the queue's.
    const lightPut = new Map<string, number>();
    const lightPutMs: number[] = [];
    const uploads: Promise<void>[] = [];
    for (let i = 0; i < req.lightLoad.count; i++) {
      uploads.push(upload(`light/${String(i).padStart(4, "0")}.jpg`, i, lightPut, lightPutMs));
      await sleep(req.lightLoad.intervalMs);
    }
    await Promise.all(uploads);
    const lightLoad = await collectPhase(db, inputBucket, lightPut, req.timeoutMs);
    // Late duplicates would arrive after the last row; give them a moment before counting.
    await sleep(1000);
    const keys = [...batchPut.keys(), ...lightPut.keys()];
    const peak: Record<string, number> = {
      radosgw: peakRssMiB(req.daemons.radosgw),
      "ceph-osd": peakRssMiB(req.daemons["ceph-osd"]),
      webhook: peakRssMiB(webhook.pid),
    };
    for (const w of workers) peak[w.name] = peakRssMiB(w.pid);
    return {
      topic: topic.kind,
      workers: req.workers,
      warmup: { images: warmed.images.length, firstEventMs, allProcessed: warmed.images.length === req.warmup.count },
      batch,
      lightLoad,
      putMs: { batch: batchPutMs, lightLoad: lightPutMs },
      jobsPerKeyNotOne: await jobsPerKeyNotOne(db, inputBucket, keys),
      processedPerKeyNotOne: await processedEventsPerKeyNotOne(db, inputBucket, keys),
      batchCpuMs,
      peakRssMiB: peak,
    };
  } finally {
    // Workers drain first, then the webhook; the cluster and PostgreSQL belong to the benchmark.
    await Promise.all(services.filter((s) => s.options.command === "worker").map((s) => s.stop("SIGTERM").catch(() => null)));
    await Promise.all(services.filter((s) => s.options.command === "webhook").map((s) => s.stop("SIGTERM").catch(() => null)));
    await db.end().catch(() => undefined);
    s3.destroy();
  }
}

async function runCephPipeline(req: CephPipelineRequest): Promise<CephTopicResult[]> {
  // Distinct images, so nothing downstream can profit from identical inputs; cycled over the keys.
  const variants = await Promise.all(
    Array.from({ length: 10 }, (_, i) => generateImage({ ...STANDARD_IMAGES.jpeg1mp, name: `1mp-${i}`, seed: 100 + i })),
  );
  const body = (i: number): Buffer => variants[i % variants.length].data;
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), "image-pipeline-bench-ceph-logs-"));
  logDirs.add(logDir);
  const topics: PreparedTopic[] = [];
  try {
    // All topics first: a new persistent topic's queue is adopted by RGW's periodic scan, which then runs
    // while the cases before it do.
    for (const kind of req.topics) {
      const webhookPort = await freePort();
      const secret = randomBytes(18).toString("base64url");
      const arn = await putTopic(req.rgw, {
        name: `bench-${kind}-${randomBytes(3).toString("hex")}`,
        pushEndpoint: `http://127.0.0.1:${webhookPort}/notify`,
        opaqueData: secret,
        persistent: kind === "persistent",
        verifySsl: false,
      });
      topics.push({ kind, arn, webhookPort, secret });
    }
    const cases: CephTopicResult[] = [];
    for (const topic of topics) cases.push(await runCase(req, topic, body, logDir));
    // Kept after a failure: the error names it.
    fs.rmSync(logDir, { recursive: true, force: true });
    logDirs.delete(logDir);
    return cases;
  } finally {
    for (const t of topics) await deleteTopic(req.rgw, t.arn).catch(() => undefined);
  }
}

serveProbe<CephPipelineRequest, CephReply>(
  "ceph-pipeline-probe",
  async (req) => ({ type: "ceph-pipeline", cases: await runCephPipeline(req) }),
  // Without the benchmark nothing would stop the services; the reaper does, and the logs go.
  {
    onDisconnect: () => {
      for (const dir of logDirs) fs.rmSync(dir, { recursive: true, force: true });
      process.exit(1);
    },
  },
);
