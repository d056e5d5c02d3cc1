/** The ceph-pipeline section's pure parts: arguments, the Ceph tool check, summaries, tables and targets. Nothing here starts Ceph. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseBenchArgs, type BenchArgs } from "../../bench/run";
import { findCeph, missingToolsMessage } from "../../bench/lib/tools";
import { evaluateTargets, s3rverCpu, type RunResults } from "../../bench/lib/targets";
import { cephPipelineReport, exactlyOnce, storageCpuPerImage, summarizeCephCase } from "../../bench/sections/ceph-pipeline";
import type { CephTopicResult, TopicKind } from "../../bench/probes/ceph-pipeline-probe";
import type { ImageTiming } from "../../bench/probes/pipeline-probe";
import type { PipelineCase } from "../../bench/sections/pipeline";
import { phaseSummary, pipelineCase } from "./support/pipeline-cases";

describe("--ceph and the ceph-pipeline section", () => {
  it("runs only when asked for: by --ceph, or by name in --only", () => {
    expect((parseBenchArgs([]) as BenchArgs).sections).not.toContain("ceph-pipeline");
    expect(parseBenchArgs(["--ceph"])).toMatchObject({
      sections: ["transform", "memory", "plan", "pipeline", "seed-loop", "queue", "webhook", "profile", "ceph-pipeline"],
      quick: false,
    });
    expect(parseBenchArgs(["--only", "pipeline", "--ceph", "--quick"])).toMatchObject({
      sections: ["pipeline", "ceph-pipeline"],
      quick: true,
    });
    expect(parseBenchArgs(["--only", "ceph-pipeline"])).toMatchObject({ sections: ["ceph-pipeline"], quick: false });
  });

  it("names Ceph's Debian packages when a binary is missing, and finds nothing on an empty PATH", () => {
    const message = missingToolsMessage({}, ["ceph"]);
    expect(message).toContain("apt-get install -y --no-install-recommends ceph-common ceph-mon ceph-osd radosgw");
    expect(message).toContain("(Debian packages ceph-common ceph-mon ceph-osd radosgw)");
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "no-ceph-"));
    try {
      expect(findCeph(empty)).toBeUndefined();
      // A directory with only radosgw is not enough: the harness also runs ceph-mon, ceph-osd, monmaptool, ceph, radosgw-admin.
      fs.writeFileSync(path.join(empty, "radosgw"), "#!/bin/sh\necho ceph version 16.2.15\n", { mode: 0o755 });
      expect(findCeph(empty)).toBeUndefined();
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

/** Images put every 10 ms, each logged `latency` ms after its PUT. */
function timings(prefix: string, latencies: readonly number[]): ImageTiming[] {
  return latencies.map((latency, i) => ({
    key: `${prefix}/${i}.jpg`,
    putMs: 1_000_000 + i * 10,
    enqueuedMs: 1_000_000 + i * 10 + 5,
    startedMs: 1_000_000 + i * 10 + 6,
    finishedMs: 1_000_000 + i * 10 + latency,
    workerId: "w1",
    downloadMs: 2,
    transformMs: 10,
    uploadMs: 3,
  }));
}

function result(topic: TopicKind, overrides: Partial<CephTopicResult> = {}): CephTopicResult {
  return {
    topic,
    workers: 1,
    warmup: { images: 6, firstEventMs: topic === "persistent" ? 14_000 : 900, allProcessed: true },
    batch: { images: timings("batch", [100, 200, 300, 400]), notProcessed: [], missing: [] },
    lightLoad: { images: timings("light", topic === "persistent" ? [120, 150, 390] : [60, 70, 80]), notProcessed: [], missing: [] },
    putMs: { batch: [20, 30, 40, 50], lightLoad: topic === "persistent" ? [8, 9, 10] : [12, 14, 30] },
    jobsPerKeyNotOne: 0,
    processedPerKeyNotOne: 0,
    batchCpuMs: { radosgw: 40, "ceph-osd": 12, "ceph-mon": 0, webhook: 4, postgres: 16, "worker-1": 90, uploader: 20 },
    peakRssMiB: { radosgw: 60 },
    ...overrides,
  };
}

const setup = { batch: 4, intervalMs: 150, workerConcurrency: 1 };

describe("ceph-pipeline summaries", () => {
  it("gives throughput from the first PUT to the last event row, per-image CPU, and PUT latency", () => {
    const c = summarizeCephCase(result("persistent"), setup);
    // 4 images, first PUT at 0, last event at 30 + 400 ms.
    expect(c.batch.throughput).toBeCloseTo(4000 / 430);
    expect(c.lightLoad.latencyMs.median).toBe(150);
    expect(c.putMs.lightLoad.median).toBe(9);
    expect(c.cpuPerImageMs.radosgw).toBe(10);
    expect(storageCpuPerImage(c)).toBe(13);
    expect(exactlyOnce(c)).toBe(true);
  });

  it("counts a missing key, a doubled job and a failed image each as a break of exactly-once", () => {
    expect(exactlyOnce(summarizeCephCase(result("sync", { jobsPerKeyNotOne: 1 }), setup))).toBe(false);
    expect(exactlyOnce(summarizeCephCase(result("sync", { processedPerKeyNotOne: 1 }), setup))).toBe(false);
    const missing = result("sync");
    expect(exactlyOnce(summarizeCephCase({ ...missing, batch: { ...missing.batch, missing: ["batch/9.jpg"] } }, setup))).toBe(false);
    expect(
      exactlyOnce(summarizeCephCase({ ...missing, lightLoad: { ...missing.lightLoad, notProcessed: ["light/1.jpg: failed"] } }, setup)),
    ).toBe(false);
  });
});

/** The s3rver section's 1 MP, 1 x 1 case with its S3 server's CPU per image and its batch throughput. */
const s3rverCase = (s3Server: number | undefined, throughput = 8): PipelineCase =>
  pipelineCase({
    batch: phaseSummary({ images: 1, throughput }),
    lightLoad: { ...phaseSummary({ images: 1, throughput }), intervalMs: 150 },
    cpuPerImageMs: { webhook: 1, ...(s3Server === undefined ? {} : { "s3 server": s3Server }), "forwarder + uploader": 8 },
  });

describe("ceph-pipeline targets and tables", () => {
  const cases = [summarizeCephCase(result("sync"), setup), summarizeCephCase(result("persistent"), setup)];
  const base: RunResults = { containerSetting: "glibc-arena2", workerConcurrency: 2 };
  const cephRows = (r: RunResults) => evaluateTargets(r).filter((t) => t.target.startsWith("RGW"));

  it("judges each RGW target on its bases, or marks it as not run", () => {
    const [once, cpu, latency] = cephRows({ ...base, cephPipeline: cases, pipeline: [s3rverCase(20)] });
    expect([once.met, cpu.met, latency.met]).toEqual([true, true, false]);
    expect(once.other).toMatchObject({ met: true, measured: expect.stringContaining("persistent: 7 processed, 0 missing") });
    expect(cpu.cpu).toEqual({ met: true, measured: "13.0 ms (radosgw 10.0 + OSD + mon, persistent topic) vs s3rver 20.0 ms" });
    expect(cpu.wall).toEqual({ met: true, measured: "1.16x (9.3 vs 8.0 img/s, persistent topic vs s3rver)" });
    expect(latency.wall).toEqual({ met: false, measured: "p50 150 ms, p99 390 ms (the PUT itself p50 9 ms)" });
    expect(latency.cpu).toEqual({ notApplicable: "a latency target" });
    // Object store dearer than s3rver, or slower: missed on that basis.
    const dearer = cephRows({ ...base, cephPipeline: cases, pipeline: [s3rverCase(12)] })[1];
    expect([dearer.cpu && "met" in dearer.cpu && dearer.cpu.met, dearer.met]).toEqual([false, false]);
    // 9.3 img/s against 10.2 is 0.91x (met), against 10.4 it is 0.89x (missed).
    expect(cephRows({ ...base, cephPipeline: cases, pipeline: [s3rverCase(20, 10.2)] })[1].met).toBe(true);
    const slower = cephRows({ ...base, cephPipeline: cases, pipeline: [s3rverCase(20, 10.4)] })[1];
    expect([slower.wall && "met" in slower.wall && slower.wall.met, slower.met]).toEqual([false, false]);
    // Without the s3rver section there is nothing to compare with.
    expect(cephRows({ ...base, cephPipeline: cases })[1]).toEqual({ target: cpu.target, met: undefined });
    expect(cephRows(base).map((r) => r.met)).toEqual([undefined, undefined, undefined]);
    // A doubled job in either topic fails exactly-once.
    const doubled = [cases[0], summarizeCephCase(result("persistent", { jobsPerKeyNotOne: 2 }), setup)];
    expect(cephRows({ ...base, cephPipeline: doubled })[0].met).toBe(false);
  });

  it("takes s3rver's figure only from the pipeline section's 1 MP, 1 x 1 case", () => {
    expect(s3rverCpu([s3rverCase(20)])?.s3ServerMs).toBe(20);
    expect(s3rverCpu([{ ...s3rverCase(20), workers: 2 }])).toBeUndefined();
    expect(s3rverCpu([{ ...s3rverCase(20), image: "12mp-jpeg" }])).toBeUndefined();
    expect(s3rverCpu([s3rverCase(undefined)])).toBeUndefined();
    expect(s3rverCpu(undefined)).toBeUndefined();
  });

  it("prints RGW's CPU next to s3rver's and the cost of persistence", () => {
    const text = cephPipelineReport(cases, s3rverCpu([s3rverCase(20)]));
    const line = (start: string): string => text.split("\n").find((l) => l.startsWith(start)) ?? "";
    expect(line("| RGW, persistent (1 x 1)")).toMatch(/\| 10\.0 +\| 3\.0 +\| 0\.0 +\| 13\.0 +\|/);
    // s3rver's driver (forwarder + uploader, 8 ms) sits in the uploader column.
    expect(line("| s3rver, 1 MP, 1 x 1 (section 2)")).toMatch(/\| - +\| - +\| - +\| 20\.0 +\| 1\.0 +\| - +\| - +\| 8\.0 +\|/);
    expect(line("| light load PUT->event p50")).toMatch(/\| 150\.0 ms +\| 70\.0 ms +\| \+80\.0 ms +\|/);
    expect(line("| light load PUT p50 (client)")).toMatch(/\| 9\.0 ms +\| 14\.0 ms +\| -5\.0 ms +\|/);
    expect(text).toContain("persistent: first event 14000 ms after the first warm-up PUT (6 images)");
  });
});
