import { parseBenchArgs } from "../../bench/run";
import { overheadVerdicts } from "../../bench/lib/overhead-target";
import { evaluateTargets } from "../../bench/lib/targets";
import { summarize } from "../../bench/lib/stats";
import { threadDelta } from "../../bench/lib/proc";
import { buildResult, type BuildResult, type OverheadResults } from "../../bench/sections/overhead";
import type { PipelineCase } from "../../bench/sections/pipeline";
import { phaseSummary, pipelineCase } from "./support/pipeline-cases";

const build = (name: string, cpuPerImageMs: number, jobMs: number): BuildResult => ({
  build: name,
  images: 200,
  failed: 0,
  throughput: 40,
  cpuPerImageMs,
  mainThreadPerImageMs: cpuPerImageMs / 2,
  processMs: summarize([jobMs]),
  transformMs: summarize([10]),
});

const overhead = (builds: BuildResult[]): OverheadResults => ({
  baseline: "e14f1d7",
  transformOnly: { cpuMs: summarize([12, 13, 14]), wallMs: summarize([9, 10, 11]) },
  builds,
  profiles: [],
});

describe("worker overhead target", () => {
  // A job with the machine to itself (the pipeline section's light load, one in flight).
  const alone = (ms: number) => summarize([ms]);

  it("judges CPU as the worker's mean CPU per image over the transform's mean, and wall as a job at light load over the transform", () => {
    const v = overheadVerdicts(overhead([build("baseline e14f1d7", 27, 22), build("current", 16.9, 40)]), alone(13.5));
    expect(v?.cpu).toEqual({ measured: "1.30x (16.9 worker CPU ms per image vs 13.0 transform alone, means)", met: true });
    // The batch job's 40 ms (two in flight, servers on the same cores) is not what the wall basis reads.
    expect(v?.wall).toEqual({ measured: "1.35x (job at light load, 1 in flight, 13.5 ms p50 vs transform alone 10.0 ms)", met: false });
    expect(v?.other).toEqual({ measured: "200 images, 0 failed", met: true });
  });

  it("misses on CPU above 1.3x even when the wall ratio meets it, and fails a batch with a failed image", () => {
    const v = overheadVerdicts(overhead([build("current", 17, 12)]), alone(12));
    expect(v?.cpu.met).toBe(false);
    expect(v?.wall?.met).toBe(true);
    const failed = overheadVerdicts(overhead([{ ...build("current", 15, 12), failed: 3 }]), alone(12));
    expect(failed?.other).toEqual({ measured: "200 images, 3 failed", met: false });
  });

  it("shows every basis in the targets table, takes the light-load job from the pipeline section, and meets the target only when all are met", () => {
    const base = { containerSetting: "glibc-arena2", workerConcurrency: 2 };
    const lightCase = (jobMs: number): PipelineCase =>
      pipelineCase({ lightLoad: { ...phaseSummary({ images: 40, ms: jobMs, throughput: 6 }), intervalMs: 150 } });
    const row = (o: OverheadResults, pipeline: PipelineCase[] = [lightCase(22)]) =>
      evaluateTargets({ ...base, overhead: o, pipeline }).find(
        (r) => r.target === "Worker CPU per image <= 1.3x transform alone (1 MP JPEG)",
      );
    expect(row(overhead([build("current", 27, 50)]))).toMatchObject({
      met: false,
      wall: { measured: "2.20x (job at light load, 1 in flight, 22.0 ms p50 vs transform alone 10.0 ms)", met: false },
      cpu: { measured: "2.08x (27.0 worker CPU ms per image vs 13.0 transform alone, means)", met: false },
    });
    expect(row(overhead([build("current", 15, 50)]), [lightCase(12)])).toMatchObject({ met: true });
    // Without the pipeline section the wall basis is not judged; the row stands on CPU and the failed count.
    expect(row(overhead([build("current", 15, 50)]), [])).toMatchObject({ wall: undefined, met: true });
    // Without a current build (the section did not run) the target is not judged.
    expect(overheadVerdicts(overhead([]))).toBeUndefined();
    expect(evaluateTargets(base).find((r) => r.target.startsWith("Worker CPU per image"))).toMatchObject({ met: undefined });
  });

  it("turns a run's totals into per-image figures", () => {
    const b = buildResult({
      build: "current",
      profile: false,
      images: 200,
      failed: 1,
      throughput: 35,
      cpuMs: 4000,
      mainThreadCpuMs: 1500,
      threadsCpuMs: { node: 1500, "libuv-worker": 2500 },
      processMs: [20, 22, 24],
      transformMs: [10, 11, 12],
    });
    expect(b).toMatchObject({ cpuPerImageMs: 20, mainThreadPerImageMs: 7.5, failed: 1 });
    expect(b.processMs.median).toBe(22);
  });
});

describe("CPU by thread", () => {
  it("takes the difference per thread name and gives what the process spent beyond its living threads to the exited ones", () => {
    expect(threadDelta({ node: 100, "V8 DefaultWorke": 30 }, { node: 160, "V8 DefaultWorke": 50, "vips-1": 40 }, 200)).toEqual({
      node: 60,
      "V8 DefaultWorke": 20,
      "vips-1": 40,
      "(threads that exited)": 80,
    });
  });
});

describe("--baseline", () => {
  it("defaults to the main branch before the overhead work and takes any revision", () => {
    expect(parseBenchArgs([])).toMatchObject({ baseline: "e14f1d7" });
    expect(parseBenchArgs(["--only", "profile", "--baseline", "main~3"])).toMatchObject({ sections: ["profile"], baseline: "main~3" });
    expect(() => parseBenchArgs(["--baseline", " "])).toThrow(/--baseline: give a git revision/);
  });
});
