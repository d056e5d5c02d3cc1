import { countClaims, spreadClaimers } from "../../bench/lib/queue-bench";
import { evaluateTargets } from "../../bench/lib/targets";
import { queueExactlyOnce, summarizeQueueCase, type QueueCase } from "../../bench/sections/queue";
import type { QueueCaseResult } from "../../bench/probes/queue-probe";

const raw = (claimers: number, over: Partial<QueueCaseResult> = {}): QueueCaseResult => ({
  claimers,
  perProcess: spreadClaimers(claimers, 2),
  jobs: 1000,
  wallMs: 2000,
  claimMs: Array.from({ length: 1000 }, (_, i) => 1 + i / 100),
  completeMs: Array.from({ length: 1000 }, () => 1),
  claims: { claimedTwice: [], neverClaimed: [], unknown: [] },
  leasesLost: 0,
  db: { done: 1000, attemptsNotOne: 0, eventRows: 1000 },
  cpuMs: { claimers: 1000, postgres: 3000 },
  ...over,
});

describe("queue benchmark", () => {
  it("spreads claimers over at most one process per core", () => {
    expect(spreadClaimers(1, 2)).toEqual([1]);
    expect(spreadClaimers(4, 2)).toEqual([2, 2]);
    expect(spreadClaimers(16, 2)).toEqual([8, 8]);
    expect(spreadClaimers(5, 3)).toEqual([2, 2, 1]);
    expect(() => spreadClaimers(0, 2)).toThrow(/claimers/);
    expect(() => spreadClaimers(4, 0)).toThrow(/processes/);
  });

  it("finds jobs claimed twice, never claimed, or not enqueued", () => {
    expect(countClaims([1, 2, 3, 4], [2, 1, 4, 3])).toEqual({ claimedTwice: [], neverClaimed: [], unknown: [] });
    expect(countClaims([1, 2, 3, 4], [1, 2, 2, 4, 9])).toEqual({ claimedTwice: [2], neverClaimed: [3], unknown: [9] });
  });

  it("gives jobs per second, per CPU-second, and claim latency", () => {
    const c = summarizeQueueCase(raw(4));
    expect(c.jobsPerSecond).toBe(500);
    expect(c.cpuPerJobMs).toEqual({ claimers: 1, postgres: 3 });
    expect(c.jobsPerCpuSecond).toBe(250);
    expect(c.claimMs.median).toBeCloseTo(5.99);
    expect(c.claimMs.p99).toBeCloseTo(10.89);
    expect(queueExactlyOnce(c)).toBe(true);
  });

  it("is not exactly once when a job is claimed twice, left undone, or logged twice", () => {
    expect(queueExactlyOnce(summarizeQueueCase(raw(4, { claims: { claimedTwice: [7], neverClaimed: [], unknown: [] } })))).toBe(false);
    expect(queueExactlyOnce(summarizeQueueCase(raw(4, { leasesLost: 1 })))).toBe(false);
    expect(queueExactlyOnce(summarizeQueueCase(raw(4, { db: { done: 999, attemptsNotOne: 0, eventRows: 999 } })))).toBe(false);
    expect(queueExactlyOnce(summarizeQueueCase(raw(4, { db: { done: 1000, attemptsNotOne: 1, eventRows: 1000 } })))).toBe(false);
    expect(queueExactlyOnce(summarizeQueueCase(raw(4, { db: { done: 1000, attemptsNotOne: 0, eventRows: 1001 } })))).toBe(false);
  });

  describe("targets", () => {
    const rows = (queue: QueueCase[]) =>
      evaluateTargets({ containerSetting: "glibc-arena2", workerConcurrency: 2, queue }).filter((r) => r.target.startsWith("Queue"));

    it("meets both when every case is exactly once and 16 claimers keep up with 1", () => {
      const cases = [raw(1), raw(4, { wallMs: 1500 }), raw(16, { wallMs: 1800, cpuMs: { claimers: 1500, postgres: 3500 } })].map(
        summarizeQueueCase,
      );
      expect(rows(cases)).toEqual([
        {
          target: "Queue: every job claimed and completed exactly once (1, 4, 16 claimers)",
          wall: { notApplicable: "a correctness target" },
          cpu: { notApplicable: "a correctness target" },
          other: { measured: "3000 jobs: 0 claimed twice, 0 not done; 0 case(s) failing", met: true },
          met: true,
        },
        {
          target: "Queue: 16 claimers >= 1 claimer in jobs/s, and >= 0.67x in jobs per CPU-s",
          wall: { measured: "1.11x (555.6 vs 500.0 jobs/s)", met: true },
          cpu: { measured: "0.80x (200.0 vs 250.0 jobs per CPU-s)", met: true },
          met: true,
        },
      ]);
    });

    it("misses on a double claim, on a slower 16, and on CPU per job growing past 1.5x", () => {
      const twice = [raw(1), raw(16, { claims: { claimedTwice: [3], neverClaimed: [], unknown: [] } })].map(summarizeQueueCase);
      expect(rows(twice)[0]).toMatchObject({
        met: false,
        other: { measured: "2000 jobs: 1 claimed twice, 0 not done; 1 case(s) failing" },
      });
      const slower = [raw(1), raw(16, { wallMs: 2200 })].map(summarizeQueueCase);
      expect(rows(slower)[1]).toMatchObject({ met: false, wall: { measured: expect.stringMatching(/^0\.91x/), met: false } });
      const costly = [raw(1), raw(16, { cpuMs: { claimers: 2000, postgres: 4100 } })].map(summarizeQueueCase);
      expect(rows(costly)[1]).toMatchObject({ met: false, cpu: { measured: expect.stringMatching(/^0\.66x/), met: false } });
    });
  });
});
