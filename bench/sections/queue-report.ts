/** The queue section of `npm run bench`. */
import { markdownTable } from "../lib/table";
import { queueExactlyOnce, type QueueCase } from "./queue";

export function queueReport(cases: readonly QueueCase[]): string {
  return markdownTable(
    [
      "claimers (per process)",
      "jobs",
      "jobs/s",
      "claim ms p50 / p99",
      "complete ms p50 / p99",
      "CPU ms/job: claimers + PostgreSQL",
      "jobs per CPU-s",
      "claimed twice / never / leases lost / done / event rows",
    ],
    cases.map((c) => [
      `${c.claimers} (${c.perProcess.join(" + ")})`,
      String(c.jobs),
      c.jobsPerSecond.toFixed(0),
      `${c.claimMs.median.toFixed(2)} / ${c.claimMs.p99.toFixed(2)}`,
      `${c.completeMs.median.toFixed(2)} / ${c.completeMs.p99.toFixed(2)}`,
      `${c.cpuPerJobMs.claimers.toFixed(2)} + ${c.cpuPerJobMs.postgres.toFixed(2)}`,
      c.jobsPerCpuSecond.toFixed(0),
      `${c.claimedTwice} / ${c.neverClaimed} / ${c.leasesLost} / ${c.db.done} / ${c.db.eventRows}${queueExactlyOnce(c) ? "" : " (NOT exactly once)"}`,
    ]),
  );
}
