/**
 * The real worker (webhook + worker with its reconciler) wired to the test Ceph cluster and the test
 * PostgreSQL, configured through the same environment variables the container reads (worker/src/config.ts).
 * The webhook keeps its port across restarts so the topic's push endpoint stays valid.
 */
import { CreateBucketCommand, GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { Pool } from "pg";
import sharp from "sharp";
import { loadConfig, type ReconcileMode } from "../../../worker/src/config";
import { migrate } from "../../../worker/src/db/migrate";
import { createLogger } from "../../../worker/src/logger";
import { startWebhook, type RunningService } from "../../../worker/src/webhook-service";
import { startWorker } from "../../../worker/src/worker-service";
import type { CephClusterInfo } from "../harness/cluster";
import { createDatabase } from "../harness/postgres";
import { freeLoopbackPort } from "../harness/processes";
import { deleteTopic, type RgwConnection } from "../../../infra/rgw/topic-api";
import { emptyAndDeleteBucket, uniqueName } from "./clients";

export interface PipelineOptions {
  cluster: CephClusterInfo;
  postgresAdminUrl: string;
  /** Label for bucket and database names. */
  label: string;
  reconcileMode: ReconcileMode;
  reconcileIntervalSeconds?: number;
  outputPrefix?: string;
  keyPrefixFilter?: string;
}

export interface EventRow {
  input_key: string;
  input_etag: string;
  output_bucket: string;
  output_key: string;
  status: string;
  width: number;
  height: number;
  format: string;
}

export interface JobRowView {
  object_key: string;
  etag: string;
  source: "notification" | "reconciler";
  status: string;
}

export class PipelineUnderTest {
  readonly inputBucket: string;
  readonly outputBucket: string;
  readonly webhookSecret = randomBytes(24).toString("hex");
  /** For assertions on the queue and the event log. */
  readonly db: Pool;
  webhook?: RunningService;
  worker?: RunningService;

  private constructor(
    private readonly options: PipelineOptions,
    readonly databaseUrl: string,
    readonly webhookPort: number,
    readonly workerPort: number,
  ) {
    this.inputBucket = uniqueName(`${options.label}-in`);
    this.outputBucket = uniqueName(`${options.label}-out`);
    this.db = new Pool({ connectionString: databaseUrl, max: 2 });
  }

  static async create(options: PipelineOptions, s3: S3Client): Promise<PipelineUnderTest> {
    const databaseUrl = await createDatabase(options.postgresAdminUrl, uniqueName(options.label).replace(/-/g, "_"));
    const webhookPort = await freeLoopbackPort();
    const workerPort = await freeLoopbackPort(new Set([webhookPort]));
    const pipeline = new PipelineUnderTest(options, databaseUrl, webhookPort, workerPort);
    // The services only verify the schema; the migrate Job applies it in a cluster.
    await migrate(pipeline.db);
    await s3.send(new CreateBucketCommand({ Bucket: pipeline.inputBucket }));
    await s3.send(new CreateBucketCommand({ Bucket: pipeline.outputBucket }));
    return pipeline;
  }

  get pushEndpoint(): string {
    return `http://127.0.0.1:${this.webhookPort}/notify`;
  }

  /** The environment a Kubernetes Deployment would give the container. */
  env(port: number): NodeJS.ProcessEnv {
    const { cluster } = this.options;
    return {
      DATABASE_URL: this.databaseUrl,
      S3_ENDPOINT: cluster.endpoint,
      S3_REGION: cluster.region,
      S3_ACCESS_KEY_ID: cluster.accessKeyId,
      S3_SECRET_ACCESS_KEY: cluster.secretAccessKey,
      S3_FORCE_PATH_STYLE: "true",
      INPUT_BUCKET: this.inputBucket,
      OUTPUT_BUCKET: this.outputBucket,
      OUTPUT_PREFIX: this.options.outputPrefix ?? "",
      WEBHOOK_SECRET: this.webhookSecret,
      KEY_PREFIX_FILTER: this.options.keyPrefixFilter ?? "",
      KEY_SUFFIX_FILTER: ".png",
      PORT: String(port),
      RECONCILE_MODE: this.options.reconcileMode,
      RECONCILE_INTERVAL_SECONDS: String(this.options.reconcileIntervalSeconds ?? 300),
      WORKER_CONCURRENCY: "2",
      MAX_ATTEMPTS: "3",
      RETRY_BASE_MS: "200",
      RETRY_MAX_MS: "1000",
      SHUTDOWN_GRACE_SECONDS: "5",
      LOG_LEVEL: process.env.CEPH_TEST_LOG_LEVEL ?? "silent",
    };
  }

  async startWebhook(): Promise<void> {
    const config = loadConfig(this.env(this.webhookPort), "webhook");
    this.webhook = await startWebhook(config, createLogger(config.logLevel, { command: "webhook", test: this.options.label }), "127.0.0.1");
  }

  async stopWebhook(): Promise<void> {
    await this.webhook?.stop();
    this.webhook = undefined;
  }

  async startWorker(): Promise<void> {
    const config = loadConfig(this.env(this.workerPort), "worker");
    this.worker = await startWorker(config, createLogger(config.logLevel, { command: "worker", test: this.options.label }), "127.0.0.1");
  }

  async stopWorker(): Promise<void> {
    await this.worker?.stop();
    this.worker = undefined;
  }

  async events(): Promise<EventRow[]> {
    const { rows } = await this.db.query<EventRow>(
      "SELECT input_key, input_etag, output_bucket, output_key, status, width, height, format FROM image_pipeline.events WHERE input_bucket = $1 ORDER BY input_key",
      [this.inputBucket],
    );
    return rows;
  }

  async jobs(): Promise<JobRowView[]> {
    const { rows } = await this.db.query<JobRowView>(
      "SELECT object_key, etag, source, status FROM image_pipeline.jobs WHERE bucket = $1 ORDER BY object_key",
      [this.inputBucket],
    );
    return rows;
  }

  /** A Prometheus counter's value from a service's /metrics (0 when the series does not exist yet). */
  async metric(service: "webhook" | "worker", series: string): Promise<number> {
    const port = service === "webhook" ? this.webhookPort : this.workerPort;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  }

  async stop(): Promise<void> {
    await this.stopWorker().catch(() => undefined);
    await this.stopWebhook().catch(() => undefined);
    await this.db.end();
  }
}

export interface TestImage {
  key: string;
  body: Buffer;
  width: number;
  height: number;
  /** Raw RGB pixels of the input. */
  pixels: Buffer;
}

/** A small PNG of random RGB noise, so any pixel the worker got wrong shows. */
export async function noisePng(key: string, width = 24, height = 16): Promise<TestImage> {
  const pixels = randomBytes(width * height * 3);
  const body = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  return { key, body, width, height, pixels };
}

/** Asserts-friendly view of an output object: its raw RGB pixels and metadata. */
export async function readOutputImage(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ contentType?: string; width?: number; height?: number; format?: string; pixels: Buffer }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from(await object.Body!.transformToByteArray());
  const meta = await sharp(body).metadata();
  const pixels = await sharp(body).removeAlpha().raw().toBuffer();
  return { contentType: object.ContentType, width: meta.width, height: meta.height, format: meta.format, pixels };
}

export function inverted(pixels: Buffer): Buffer {
  return Buffer.from(pixels.map((value) => 255 - value));
}

/** Stops the pipeline and removes what a test made on the shared cluster; best effort, so one failure hides nothing. */
export async function tearDownPipelineTest(
  pipeline: PipelineUnderTest | undefined,
  s3: S3Client | undefined,
  connection: RgwConnection | undefined,
  topicArns: string[],
): Promise<void> {
  await pipeline?.stop();
  if (s3 && pipeline) {
    for (const bucket of [pipeline.inputBucket, pipeline.outputBucket]) await emptyAndDeleteBucket(s3, bucket).catch(() => undefined);
  }
  if (connection) for (const arn of topicArns) await deleteTopic(connection, arn).catch(() => undefined);
  s3?.destroy();
}
