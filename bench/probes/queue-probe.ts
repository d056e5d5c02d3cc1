/**
 * The queue benchmark: embedded PostgreSQL with the pipeline's schema, N jobs enqueued with the worker's queue
 * code, then 1, 4 and 16 concurrent claimers (claim -> complete, no S3, no transform) spread over one process
 * per core (queue-claimers.ts), so that one Node event loop is not what limits the figure on a small machine.
 * Afterwards every job must be done, claimed once, with one event row. Runs as compiled JavaScript in a
 * process of its own and answers over IPC.
 */
import fs from "node:fs";
import path from "node:path";
import { Pool } from "pg";
import { migrate } from "../../worker/src/db/migrate";
import { WORKER_ENV } from "../../worker/src/config";
import { JobQueue, type QueueOptions } from "../../worker/src/queue";
import { LocalPostgres } from "../../worker/local/postgres";
import { freePort } from "../../worker/local/ports";
import { makeTemporaryDirectory, removeTemporaryDirectory } from "../../worker/local/reaper";
import { forkProbe, type ForkedProbe } from "../lib/child";
import { cpuMs } from "../lib/proc";
import { countClaims, spreadClaimers, type ClaimCount } from "../lib/queue-bench";
import type { ClaimerReply, ClaimerRequest, ClaimerRun } from "./queue-claimers";
import { serveProbe } from "../lib/probe-server";

export interface QueueRequest {
  readonly type: "queue";
  readonly jobs: number;
  readonly claimerCounts: readonly number[];
  /** Claimer processes at most (one per core). */
  readonly processes: number;
}

export interface QueueCaseResult {
  readonly claimers: number;
  /** Claimer loops in each process. */
  readonly perProcess: number[];
  readonly jobs: number;
  readonly wallMs: number;
  readonly claimMs: number[];
  readonly completeMs: number[];
  readonly claims: ClaimCount;
  /** Completions refused for a lost lease (the job was handed to another claimer too). */
  readonly leasesLost: number;
  /** From the jobs table afterwards. */
  readonly db: { readonly done: number; readonly attemptsNotOne: number; readonly eventRows: number };
  readonly cpuMs: { readonly claimers: number; readonly postgres: number };
}

export interface QueueResult {
  readonly type: "queue";
  readonly cases: QueueCaseResult[];
}

export type Reply = { readonly type: "ready" } | QueueResult | { readonly type: "error"; readonly message: string };

function workerDefault(name: string): number {
  const v = WORKER_ENV.find((e) => e.name === name)?.default;
  if (v === undefined) throw new Error(`worker/src/config.ts has no default for ${name}`);
  return Number(v);
}

const QUEUE_OPTIONS: QueueOptions = {
  maxAttempts: workerDefault("MAX_ATTEMPTS"),
  visibilityTimeoutSeconds: workerDefault("VISIBILITY_TIMEOUT_SECONDS"),
  retryBaseMs: workerDefault("RETRY_BASE_MS"),
  retryMaxMs: workerDefault("RETRY_MAX_MS"),
  retryBudgetSeconds: workerDefault("RETRY_BUDGET_SECONDS"),
};

async function runCase(
  pg: LocalPostgres,
  db: Pool,
  postmaster: number,
  jobs: number,
  claimers: number,
  processes: number,
): Promise<QueueCaseResult> {
  await db.query("TRUNCATE image_pipeline.events, image_pipeline.outputs, image_pipeline.jobs");
  const queue = new JobQueue(db, QUEUE_OPTIONS);
  const mtime = new Date();
  for (let i = 0; i < jobs; i += 1000) {
    const chunk = Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({
      bucket: "in",
      key: `queue/${claimers}/${String(i + k).padStart(7, "0")}.jpg`,
      eTag: `etag-${i + k}`,
      mtime,
      size: 1_000_000,
    }));
    await queue.enqueue(chunk, "notification");
  }
  const enqueued = (await db.query<{ id: string }>("SELECT id FROM image_pipeline.jobs")).rows.map((r) => Number(r.id));
  // Fresh statistics, as autovacuum would have after a bulk insert; otherwise the planner guesses on an empty table.
  await db.query("ANALYZE image_pipeline.jobs");

  const perProcess = spreadClaimers(claimers, processes);
  const script = path.join(__dirname, "queue-claimers.js");
  const children: ForkedProbe<ClaimerRequest, ClaimerReply>[] = [];
  try {
    for (const [p, n] of perProcess.entries()) {
      const child = await forkProbe<ClaimerRequest, ClaimerReply>(script, {});
      children.push(child);
      await child.request({
        type: "prepare",
        databaseUrl: pg.url("pipeline"),
        claimers: n,
        workerIdPrefix: `bench-${p}`,
        queueOptions: QUEUE_OPTIONS,
      });
    }
    const pgBefore = cpuMs(postmaster, true);
    const runs = (await Promise.all(children.map((c) => c.request({ type: "go" })))) as ClaimerRun[];
    const pgAfter = cpuMs(postmaster, true);
    const started = Math.min(...runs.map((r) => r.startedMs));
    const finished = Math.max(...runs.map((r) => r.finishedMs));
    const check = (
      await db.query<{ done: string; attempts_not_one: string; events: string }>(
        `SELECT count(*) FILTER (WHERE status = 'done') AS done,
                count(*) FILTER (WHERE attempts <> 1) AS attempts_not_one,
                (SELECT count(*) FROM image_pipeline.events) AS events
           FROM image_pipeline.jobs`,
      )
    ).rows[0];
    return {
      claimers,
      perProcess,
      jobs: enqueued.length,
      wallMs: finished - started,
      claimMs: runs.flatMap((r) => r.claimMs),
      completeMs: runs.flatMap((r) => r.completeMs),
      leasesLost: runs.reduce((a, r) => a + r.leasesLost, 0),
      claims: countClaims(
        enqueued,
        runs.flatMap((r) => r.claimed),
      ),
      db: { done: Number(check.done), attemptsNotOne: Number(check.attempts_not_one), eventRows: Number(check.events) },
      cpuMs: { claimers: runs.reduce((a, r) => a + r.cpuMs, 0), postgres: pgAfter - pgBefore },
    };
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}

async function runQueue(req: QueueRequest): Promise<QueueResult> {
  const root = makeTemporaryDirectory("image-pipeline-queue-bench-");
  fs.chmodSync(root, 0o755);
  const pg = new LocalPostgres({
    dataDir: path.join(root, "pg"),
    port: await freePort(),
    onLog: (l) => fs.appendFileSync(path.join(root, "postgres.log"), l),
  });
  let db: Pool | undefined;
  try {
    await pg.initialise();
    await pg.start();
    await pg.createDatabase("pipeline");
    db = new Pool({ connectionString: pg.url("pipeline"), max: 2 });
    db.on("error", () => undefined);
    await migrate(db);
    const postmaster = Number(fs.readFileSync(path.join(pg.options.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    const cases: QueueCaseResult[] = [];
    for (const claimers of req.claimerCounts) cases.push(await runCase(pg, db, postmaster, req.jobs, claimers, req.processes));
    return { type: "queue", cases };
  } finally {
    await db?.end().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    removeTemporaryDirectory(root);
  }
}

serveProbe<QueueRequest, Reply>("queue-probe", runQueue);
