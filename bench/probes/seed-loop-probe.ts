/**
 * Runs the tutorial's hand-built loop (bench/lib/seed-loop.ts: s3cmd get, convert -negate, s3cmd put, psql
 * INSERT) against the local pipeline's own S3 server and PostgreSQL (worker/local/pipeline.ts, no workers),
 * over the pipeline benchmark's images, one loop per core. Runs as compiled JavaScript in a process of its
 * own, like the pipeline probe, and answers over IPC.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { startLocalPipeline, type LocalPipeline } from "../../worker/local/pipeline";
import { Reaper } from "../../worker/local/reaper";
import { pipelineBatchImages } from "../lib/images";
import { cpuMs } from "../lib/proc";
import {
  parseLoopOutput,
  partition,
  s3cmdConfig,
  SEED_LOOP_SCHEMA_SQL,
  SEED_LOOP_SCRIPT,
  SEED_LOOP_TABLE,
  STEPS,
  type LoopOutput,
  type Step,
  type StepTotals,
} from "../lib/seed-loop";
import { serveProbe } from "../lib/probe-server";

export interface SeedLoopRequest {
  readonly type: "seed-loop";
  readonly images: number;
  readonly loops: number;
  readonly warmup: number;
  readonly tools: { readonly s3cmd: string; readonly convert: string; readonly psql: string; readonly bash: string };
  /** Environment of the pipeline's services (the webhook runs; no worker does). */
  readonly env: Record<string, string>;
}

export interface SeedLoopResult {
  readonly type: "seed-loop";
  readonly loops: number;
  readonly images: number;
  /** First loop started to last loop finished, ms. */
  readonly wallMs: number;
  /** Wall ms of each image (download, convert, upload, INSERT), over all loops. */
  readonly imageWallMs: number[];
  /** Each command of the loop (s3cmd get, convert, s3cmd put, psql) over all loops: count, wall and CPU ms. */
  readonly steps: Record<Step, StepTotals>;
  /** CPU ms during the timed run: the loops' shells, their commands, and each server. */
  readonly cpuMs: {
    readonly shells: number;
    readonly tools: number;
    readonly postgres: number;
    readonly s3: number;
    readonly webhook: number;
  };
  /** Rows the loops logged, and output objects they wrote: both must equal `images`. */
  readonly rowsLogged: number;
  readonly outputsWritten: number;
  /** Mean of an output's pixels plus the mean of its input's, per channel: 255 each when the colours were inverted. */
  readonly inversionCheck: number[];
}

export type Reply = { readonly type: "ready" } | SeedLoopResult | { readonly type: "error"; readonly message: string };

/** Loops still running: stopped when the run fails, so that none outlives the servers it talks to. */
const running = new Set<ChildProcess>();

function stopLoops(): void {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // The group is already gone (ESRCH): nothing to stop.
    }
  }
}

function runLoop(req: SeedLoopRequest, env: Record<string, string>, keys: readonly string[]): Promise<LoopOutput> {
  return new Promise((resolve, reject) => {
    // A process group of its own, so that stopping the loop also stops the command it is running.
    const child = spawn(req.tools.bash, ["-c", SEED_LOOP_SCRIPT, "seed-loop", ...keys], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    running.add(child);
    // If this probe is killed before its finally runs, the reaper (the local pipeline's) stops the loop's group too.
    const group = child.pid;
    if (group !== undefined) Reaper.get().watchGroup(group);
    child.on("exit", () => {
      running.delete(child);
      if (group !== undefined) Reaper.get().forgetGroup(group);
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code !== 0) return reject(new Error(`hand-built loop exited with ${code ?? signal}: ${stderr.trim().slice(-2000)}`));
      try {
        resolve(parseLoopOutput(stdout));
      } catch (err) {
        reject(err);
      }
    });
  });
}

async function channelMeans(data: Buffer): Promise<number[]> {
  return (await sharp(data).stats()).channels.slice(0, 3).map((c) => c.mean);
}

async function objectBody(p: LocalPipeline, bucket: string, key: string): Promise<Buffer> {
  const r = await p.s3Client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

async function runSeedLoop(req: SeedLoopRequest): Promise<SeedLoopResult> {
  const images = await pipelineBatchImages("1mp-jpeg");
  const pipeline = await startLocalPipeline({ workers: 0, env: req.env });
  const scratch = fs.mkdtempSync(path.join(pipeline.rootDir, "seed-loop-"));
  try {
    for (const sql of SEED_LOOP_SCHEMA_SQL) await pipeline.db.query(sql);
    const config = path.join(scratch, "s3cfg");
    const endpoint = new URL(pipeline.s3.endpoint);
    fs.writeFileSync(
      config,
      s3cmdConfig({ hostPort: endpoint.host, accessKey: pipeline.s3.accessKeyId, secretKey: pipeline.s3.secretAccessKey }),
    );

    const warmKeys = Array.from({ length: req.warmup }, (_, i) => `seed-loop/warmup/${i}.jpg`);
    const keys = Array.from({ length: req.images }, (_, i) => `seed-loop/${String(i).padStart(4, "0")}.jpg`);
    for (const [i, key] of [...warmKeys, ...keys].entries()) await pipeline.upload(key, images[i % images.length].data, "image/jpeg");

    const loopEnv = (n: number): Record<string, string> => {
      const dir = path.join(scratch, `loop-${n}`);
      fs.mkdirSync(dir);
      return {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: scratch,
        LC_ALL: "C",
        S3CMD: req.tools.s3cmd,
        CONVERT: req.tools.convert,
        PSQL: req.tools.psql,
        S3CMD_CONFIG: config,
        SCRATCH: dir,
        INPUT_BUCKET: pipeline.inputBucket,
        OUTPUT_BUCKET: pipeline.outputBucket,
        DATABASE_URL: pipeline.databaseUrl,
        // One image at a time per core: ImageMagick's OpenMP would otherwise spread one convert over every core.
        MAGICK_THREAD_LIMIT: "1",
      };
    };
    // Warm-up: page cache for the tools' binaries and Python modules, the database's first connections.
    if (warmKeys.length > 0) await runLoop(req, loopEnv(-1), warmKeys);

    const postmaster = Number(fs.readFileSync(path.join(pipeline.postgres.options.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    const servers = (): { postgres: number; s3: number; webhook: number } => ({
      postgres: cpuMs(postmaster, true),
      s3: cpuMs(pipeline.objectStore.process.pid),
      webhook: cpuMs(pipeline.webhook.pid),
    });
    const before = servers();
    const t0 = process.hrtime.bigint();
    const outputs = await Promise.all(partition(keys, req.loops).map((part, n) => runLoop(req, loopEnv(n), part)));
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const after = servers();

    const rows = await pipeline.db.query<{ n: string }>(
      `SELECT count(DISTINCT input_key) AS n FROM ${SEED_LOOP_TABLE} WHERE input_key = ANY($1::text[])`,
      [keys],
    );
    let outputsWritten = 0;
    let token: string | undefined;
    do {
      const page = await pipeline.s3Client.send(
        new ListObjectsV2Command({ Bucket: pipeline.outputBucket, Prefix: "seed-loop/", ContinuationToken: token }),
      );
      outputsWritten += (page.Contents ?? []).filter((o) => keys.includes(o.Key ?? "")).length;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const [inMeans, outMeans] = await Promise.all([
      channelMeans(await objectBody(pipeline, pipeline.inputBucket, keys[0])),
      channelMeans(await objectBody(pipeline, pipeline.outputBucket, keys[0])),
    ]);

    return {
      type: "seed-loop",
      loops: req.loops,
      images: keys.length,
      wallMs,
      imageWallMs: outputs.flatMap((o) => o.images.map((i) => i.wallMs)),
      steps: Object.fromEntries(
        STEPS.map((step) => [
          step,
          outputs.reduce(
            (t, o) => ({
              count: t.count + o.steps[step].count,
              wallMs: t.wallMs + o.steps[step].wallMs,
              cpuMs: t.cpuMs + o.steps[step].cpuMs,
            }),
            { count: 0, wallMs: 0, cpuMs: 0 },
          ),
        ]),
      ) as Record<Step, StepTotals>,
      cpuMs: {
        shells: outputs.reduce((a, o) => a + o.shellCpuMs, 0),
        tools: outputs.reduce((a, o) => a + o.toolsCpuMs, 0),
        postgres: after.postgres - before.postgres,
        s3: after.s3 - before.s3,
        webhook: after.webhook - before.webhook,
      },
      rowsLogged: Number(rows.rows[0].n),
      outputsWritten,
      inversionCheck: inMeans.map((m, i) => m + outMeans[i]),
    };
  } finally {
    stopLoops();
    await pipeline.stop();
  }
}

// When the benchmark goes, the loops stop (the reaper stops the servers).
serveProbe<SeedLoopRequest, Reply>("seed-loop-probe", runSeedLoop, {
  onDisconnect: () => {
    stopLoops();
    process.exit(1);
  },
});
