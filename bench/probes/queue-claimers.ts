/**
 * One claimer process of the queue benchmark: `claimers` loops, each on its own connection of one pool, each
 * claiming one job at a time with the worker's queue code (JobQueue.claim) and completing it at once
 * (JobQueue.complete, which writes the event row), with no S3 and no transform, until the queue is empty.
 * Forked by queue-probe.ts; answers over IPC.
 */
import { Pool } from "pg";
import { JobQueue, LeaseLostError, type QueueOptions } from "../../worker/src/queue";
import { serveProbe } from "../lib/probe-server";

export interface PrepareRequest {
  readonly type: "prepare";
  readonly databaseUrl: string;
  readonly claimers: number;
  readonly workerIdPrefix: string;
  readonly queueOptions: QueueOptions;
}

export type ClaimerRequest = PrepareRequest | { readonly type: "go" };

export interface ClaimerRun {
  readonly type: "done";
  /** Ids of the jobs this process's loops claimed, in order. */
  readonly claimed: number[];
  /** Each claim call that returned a job, ms. */
  readonly claimMs: number[];
  /** Each complete call, ms. */
  readonly completeMs: number[];
  /** Completions refused because the lease was gone: another claimer holds the same job (it was handed out twice). */
  readonly leasesLost: number;
  /** Epoch ms of the first claim and of the last loop's end. */
  readonly startedMs: number;
  readonly finishedMs: number;
  /** This process's CPU during the run, ms. */
  readonly cpuMs: number;
}

export type ClaimerReply =
  | { readonly type: "ready" }
  | { readonly type: "prepared" }
  | ClaimerRun
  | { readonly type: "error"; readonly message: string };

let pool: Pool | undefined;
let prepared: PrepareRequest | undefined;

async function prepare(req: PrepareRequest): Promise<ClaimerReply> {
  pool = new Pool({ connectionString: req.databaseUrl, max: req.claimers });
  pool.on("error", () => undefined);
  // Open every connection now, so that connecting is not part of the measurement.
  const clients = await Promise.all(Array.from({ length: req.claimers }, () => (pool as Pool).connect()));
  for (const c of clients) c.release();
  prepared = req;
  return { type: "prepared" };
}

async function go(): Promise<ClaimerReply> {
  if (!pool || !prepared) throw new Error("go before prepare");
  const queue = new JobQueue(pool, prepared.queueOptions);
  const claimed: number[] = [];
  const claimMs: number[] = [];
  const completeMs: number[] = [];
  let leasesLost = 0;
  const now = (): number => performance.timeOrigin + performance.now();
  const cpu0 = process.cpuUsage();
  const startedMs = now();
  const loop = async (n: number): Promise<void> => {
    const workerId = `${prepared?.workerIdPrefix}-${n}`;
    for (;;) {
      const t0 = performance.now();
      const jobs = await queue.claim(workerId, 1);
      const t1 = performance.now();
      // Empty: every remaining job is done or held by another loop, which completes it.
      if (jobs.length === 0) return;
      claimMs.push(t1 - t0);
      for (const job of jobs) {
        claimed.push(job.id);
        try {
          await queue.complete(job, { status: "processed", outputBucket: "out", outputKey: job.key, startedAt: new Date() });
        } catch (err) {
          // Counted, not fatal, so that the run reports how often the queue handed a job out twice.
          if (!(err instanceof LeaseLostError)) throw err;
          leasesLost++;
        }
      }
      completeMs.push(performance.now() - t1);
    }
  };
  await Promise.all(Array.from({ length: prepared.claimers }, (_, n) => loop(n)));
  const finishedMs = now();
  const cpu = process.cpuUsage(cpu0);
  return { type: "done", claimed, claimMs, completeMs, leasesLost, startedMs, finishedMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

process.on("SIGTERM", () => {
  void (pool?.end() ?? Promise.resolve()).finally(() => process.exit(0));
});
// The queue probe gone (crashed or killed): nothing would stop this process otherwise.
serveProbe<ClaimerRequest, ClaimerReply>("queue-claimers", (req) => (req.type === "prepare" ? prepare(req) : go()), {
  onDisconnect: () => process.exit(0),
});
