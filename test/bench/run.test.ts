import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseBenchArgs } from "../../bench/run";
import { missingToolsMessage, findImageMagick } from "../../bench/lib/tools";
import { ALLOCATOR_SETTINGS, CONTAINER_SETTING_NAME, settingByName, settingEnv } from "../../bench/lib/container";
import { evaluateTargets, type RunResults } from "../../bench/lib/targets";
import { summarize } from "../../bench/lib/stats";
import type { TransformCase } from "../../bench/sections/transform";
import type { PipelineCase, PhaseSummary } from "../../bench/sections/pipeline";
import type { MemoryCase } from "../../bench/sections/memory";
import type { WebhookResult } from "../../bench/probes/pipeline-probe";

describe("npm run bench arguments", () => {
  it("runs every section by default and a chosen subset with --only", () => {
    expect(parseBenchArgs([])).toEqual({ sections: ["transform", "memory", "plan", "pipeline", "webhook"], quick: false });
    expect(parseBenchArgs(["--only", "webhook,transform", "--quick"])).toEqual({ sections: ["transform", "webhook"], quick: true });
    expect(parseBenchArgs(["--only=plan"])).toEqual({ sections: ["plan"], quick: false });
    expect(parseBenchArgs(["--help"])).toBe("help");
  });

  it("names the unknown section and the valid ones", () => {
    expect(() => parseBenchArgs(["--only", "transfrom"])).toThrow(
      "--only: unknown section(s) transfrom; sections: transform, memory, plan, pipeline, webhook",
    );
    expect(() => parseBenchArgs(["--fast"])).toThrow(/unknown argument --fast; usage: npm run bench/);
  });
});

describe("tool check", () => {
  it("says which Debian packages to install for the missing tools only", () => {
    const message = missingToolsMessage({ vips: { path: "/usr/bin/vips", version: "vips-8.14.1" } }, ["vips", "imagemagick", "jemalloc"]);
    expect(message).toContain("apt-get install -y --no-install-recommends imagemagick libjemalloc2");
    expect(message).not.toContain("libvips-tools");
    expect(missingToolsMessage({}, [])).toBeUndefined();
  });

  it("never takes a script standing in for ImageMagick as the real thing", () => {
    // Scripts first on PATH that answer -version like ImageMagick: a lookup by name and output would take them.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-imagemagick-"));
    const savedPath = process.env.PATH;
    try {
      for (const name of ["convert", "magick"]) {
        fs.writeFileSync(path.join(dir, name), '#!/bin/sh\necho "Version: ImageMagick 7.1.1-47 Q16-HDRI x86_64"\n', { mode: 0o755 });
        expect(execFileSync(path.join(dir, name), ["-version"], { encoding: "utf8" })).toContain("ImageMagick");
      }
      process.env.PATH = `${dir}${path.delimiter}${savedPath ?? ""}`;
      const found = findImageMagick();
      expect(found?.path ?? "none").not.toContain(dir);
      // Whatever it does take (a real ImageMagick, when installed) is a binary that says it is ImageMagick.
      if (found)
        expect([fs.readFileSync(found.path).subarray(0, 4).toString("latin1"), found.version]).toEqual([
          "\x7fELF",
          expect.stringMatching(/ImageMagick/),
        ]);
    } finally {
      process.env.PATH = savedPath;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("allocator settings", () => {
  it("the container's setting exists and sets only what the Dockerfile can set", () => {
    const s = settingByName(CONTAINER_SETTING_NAME);
    expect(settingEnv(s, undefined)).toEqual({ MALLOC_ARENA_MAX: "2", VIPS_CONCURRENCY: "1" });
  });

  it("jemalloc settings need the library and preload it", () => {
    const jemalloc = ALLOCATOR_SETTINGS.find((s) => s.needsJemalloc)!;
    expect(() => settingEnv(jemalloc, undefined)).toThrow(/libjemalloc2/);
    expect(settingEnv(jemalloc, "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2").LD_PRELOAD).toBe(
      "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    );
    expect(() => settingByName("tcmalloc")).toThrow(/unknown allocator setting 'tcmalloc'; known: glibc/);
  });
});

describe("targets", () => {
  const tc = (image: string, tool: TransformCase["tool"], ms: number): TransformCase => ({
    image,
    megapixels: 12,
    tool,
    wallMs: summarize([ms]),
    cpuMs: summarize([ms]),
  });
  const phase = (throughput: number, p50: number, p99: number): PhaseSummary => {
    const s = summarize([p50, p99]);
    const latency = { ...s, median: p50, p99 };
    return {
      images: 200,
      notProcessed: [],
      missing: [],
      latencyMs: latency,
      notifyMs: s,
      queueMs: s,
      processMs: s,
      downloadMs: s,
      transformMs: s,
      uploadMs: s,
      gapMs: s,
      throughput,
    };
  };
  const pipeline = (workers: number, throughput: number, p50 = 40, p99 = 90): PipelineCase => ({
    workers,
    workerConcurrency: 1,
    batch: phase(throughput, 500, 900),
    lightLoad: { ...phase(6, p50, p99), intervalMs: 150 },
    jobsPerKeyNotOne: 0,
    peakRssMiB: {},
    cpuPerImageMs: {},
  });
  const memory: MemoryCase = {
    setting: "glibc-arena2",
    variant: "worker",
    image: "12mp-jpeg",
    inFlight: 2,
    images: 8,
    runs: 2,
    peakRssMiB: summarize([150, 210]),
    baselineRssMiB: 74,
    vipsThreads: 1,
    jemalloc: false,
    growthMiB: [],
  };
  const webhook: WebhookResult = {
    type: "webhook",
    runs: [
      {
        label: "saturation",
        connections: 16,
        durationSeconds: 10,
        accepted: 15000,
        acceptedPerSecond: 1500,
        latencyMs: { p50: 5, p90: 20, p99: 40, max: 90, mean: 8 },
        otherStatuses: {},
        errors: 0,
        timeouts: 0,
      },
    ],
    acceptedKeys: 13500,
    redeliveriesAccepted: 1500,
    acceptedWithoutJob: 0,
    keysWithSeveralJobs: 1,
    unknownJobs: 0,
    unanswered: 3,
  };
  const results: RunResults = {
    transform: {
      cases: [
        tc("12mp-jpeg", "worker", 100),
        tc("12mp-jpeg", "vips", 104),
        tc("12mp-jpeg", "imagemagick", 240),
        tc("1mp-jpeg", "worker", 10),
      ],
    },
    pipeline: [pipeline(1, 85), pipeline(2, 140, 60, 450)],
    memory: [memory],
    webhook,
    containerSetting: "glibc-arena2",
    workerConcurrency: 2,
  };

  it("compares rates, not times, and flags each miss", () => {
    const rows = evaluateTargets(results);
    expect(rows.map((r) => r.met)).toEqual([true, false, true, false, false, false, false]);
    expect(rows[0].measured).toBe("1.04x wall (10.0 vs 9.6 img/s); 1.04x per CPU-s (10.0 vs 9.6)");
    expect(rows[1].measured).toBe("2.40x wall (10.0 vs 4.2 img/s); 2.40x per CPU-s (10.0 vs 4.2)");
    expect(rows[2].measured).toBe("0.85x wall (85.0 vs 100.0 img/s); 0.85x per CPU-s (85.0 vs 100.0)");
    expect(rows[3].measured).toBe("1.65x (140.0 vs 85.0 img/s)");
    // The worst p99 of the worker counts decides.
    expect(rows[4].measured).toBe("p50 60 ms, p99 450 ms (worst of 1 and 2 workers)");
    // The container's WORKER_CONCURRENCY, and the worst run.
    expect(rows[5].measured).toMatch(/^210 MiB \(max of 2 runs; glibc-arena2, 2 in flight\)/);
    // One key with two jobs fails the webhook target even though rate and latency pass.
    expect(rows[6].measured).toContain("1 doubled");
    expect(new Set(rows.map((r) => r.target)).size).toBe(7);
  });

  it("meets a transform target only when the per-core (CPU time) ratio meets it too", () => {
    // The worker finishes a 12 MP image in 100 ms wall but burns 160 ms CPU on two threads; vips 104 ms of both.
    const worker: TransformCase = { image: "12mp-jpeg", megapixels: 12, tool: "worker", wallMs: summarize([100]), cpuMs: summarize([160]) };
    const rows = evaluateTargets({
      ...results,
      transform: { cases: [worker, tc("12mp-jpeg", "vips", 104), tc("12mp-jpeg", "imagemagick", 240)] },
    });
    expect(rows[0]).toMatchObject({ met: false, measured: "1.04x wall (10.0 vs 9.6 img/s); 0.65x per CPU-s (6.3 vs 9.6)" });
  });

  it("marks sections that did not run instead of passing or failing them", () => {
    const rows = evaluateTargets({ containerSetting: "glibc-arena2", workerConcurrency: 2 });
    expect(rows).toHaveLength(7);
    for (const r of rows) expect(r).toMatchObject({ measured: "not run", met: undefined });
  });
});
