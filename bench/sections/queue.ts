/**
 * The queue on its own: claimed and completed jobs per second with 1, 4 and 16 concurrent claimers, each on its
 * own connection, using the worker's queue code; no job may be claimed twice. Driven by the compiled queue probe.
 */
import { forkProbe } from "../lib/child";
import type { CompiledTree } from "../lib/compile";
import { summarize, type Summary } from "../lib/stats";
import type { QueueCaseResult, QueueRequest, QueueResult, Reply } from "../probes/queue-probe";

export interface QueueCase {
  readonly claimers: number;
  readonly perProcess: number[];
  readonly jobs: number;
  /** Claimed and completed jobs per second, first claim to last completion. */
  readonly jobsPerSecond: number;
  readonly claimMs: Summary;
  readonly completeMs: Summary;
  /** CPU ms per job of the claimer processes and of PostgreSQL (postmaster and backends). */
  readonly cpuPerJobMs: { readonly claimers: number; readonly postgres: number };
  /** Jobs per CPU-second, claimers and PostgreSQL together. */
  readonly jobsPerCpuSecond: number;
  readonly claimedTwice: number;
  readonly neverClaimed: number;
  readonly unknownClaimed: number;
  readonly leasesLost: number;
  readonly db: QueueCaseResult["db"];
}

export function summarizeQueueCase(r: QueueCaseResult): QueueCase {
  if (r.jobs < 1 || r.wallMs <= 0 || r.claimMs.length === 0)
    throw new Error(`queue benchmark: nothing measured with ${r.claimers} claimers`);
  const claimers = r.cpuMs.claimers / r.jobs;
  const postgres = r.cpuMs.postgres / r.jobs;
  return {
    claimers: r.claimers,
    perProcess: r.perProcess,
    jobs: r.jobs,
    jobsPerSecond: (r.jobs * 1000) / r.wallMs,
    claimMs: summarize(r.claimMs),
    completeMs: summarize(r.completeMs),
    cpuPerJobMs: { claimers, postgres },
    jobsPerCpuSecond: 1000 / (claimers + postgres),
    claimedTwice: r.claims.claimedTwice.length,
    neverClaimed: r.claims.neverClaimed.length,
    unknownClaimed: r.claims.unknown.length,
    leasesLost: r.leasesLost,
    db: r.db,
  };
}

/** Every job claimed exactly once, completed once (one attempt, done) and logged once. */
export function queueExactlyOnce(c: QueueCase): boolean {
  return (
    c.claimedTwice === 0 &&
    c.neverClaimed === 0 &&
    c.unknownClaimed === 0 &&
    c.leasesLost === 0 &&
    c.db.done === c.jobs &&
    c.db.attemptsNotOne === 0 &&
    c.db.eventRows === c.jobs
  );
}

export interface QueueOptions {
  readonly compiled: CompiledTree;
  readonly jobs: number;
  readonly claimerCounts: readonly number[];
  readonly processes: number;
  readonly log: (line: string) => void;
}

export async function measureQueue(options: QueueOptions): Promise<QueueCase[]> {
  const probe = await forkProbe<QueueRequest, Reply>(options.compiled.resolve("bench/probes/queue-probe.ts"), options.compiled.env);
  let r: QueueResult;
  try {
    r = (await probe.request({
      type: "queue",
      jobs: options.jobs,
      claimerCounts: options.claimerCounts,
      processes: options.processes,
    })) as QueueResult;
  } finally {
    await probe.close();
  }
  return r.cases.map((raw) => {
    const c = summarizeQueueCase(raw);
    options.log(
      `queue ${c.claimers} claimer(s) in ${c.perProcess.length} process(es): ${c.jobsPerSecond.toFixed(0)} jobs/s, claim p50 ${c.claimMs.median.toFixed(1)} ms ` +
        `p99 ${c.claimMs.p99.toFixed(1)} ms; ${c.claimedTwice} claimed twice, ${c.neverClaimed} never`,
    );
    return c;
  });
}
