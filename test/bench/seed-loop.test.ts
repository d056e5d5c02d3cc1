import { spawnSync } from "node:child_process";
import { IMAGE_LINE, STEP_LINE, parseLoopOutput, partition, s3cmdConfig, SEED_LOOP_SCRIPT } from "../../bench/lib/seed-loop";
import {
  compareWithPipeline,
  pipelinePerCore,
  seedLoopComplete,
  summarizeSeedLoop,
  type PipelineCaseLike,
  type SeedLoopCase,
} from "../../bench/sections/seed-loop";
import type { SeedLoopResult } from "../../bench/probes/seed-loop-probe";

const result = (over: Partial<SeedLoopResult> = {}): SeedLoopResult => ({
  type: "seed-loop",
  loops: 2,
  images: 200,
  wallMs: 50_000,
  imageWallMs: Array.from({ length: 200 }, (_, i) => 450 + i),
  steps: {
    get: { count: 200, wallMs: 40_000, cpuMs: 38_000 },
    convert: { count: 200, wallMs: 6_000, cpuMs: 4_000 },
    put: { count: 200, wallMs: 42_000, cpuMs: 40_000 },
    psql: { count: 200, wallMs: 14_000, cpuMs: 18_000 },
  },
  cpuMs: { shells: 400, tools: 100_000, postgres: 1_600, s3: 4_000, webhook: 20 },
  rowsLogged: 200,
  outputsWritten: 200,
  inversionCheck: [255.2, 254.9, 255.4],
  ...over,
});

describe("hand-built loop: configuration and script", () => {
  it("configures s3cmd for path-style plain HTTP on the given server", () => {
    const cfg = s3cmdConfig({ hostPort: "127.0.0.1:4568", accessKey: "S3RVER", secretKey: "S3RVER" });
    expect(cfg.split("\n")).toEqual(
      expect.arrayContaining(["[default]", "host_base = 127.0.0.1:4568", "host_bucket = 127.0.0.1:4568", "use_https = False"]),
    );
    // host_bucket with %(bucket)s would make s3cmd address buckets as subdomains, which a local server does not resolve.
    expect(cfg).not.toContain("%(bucket)s");
  });

  it("refuses an endpoint that is not host:port and a value that would add a setting", () => {
    expect(() => s3cmdConfig({ hostPort: "http://127.0.0.1:4568", accessKey: "a", secretKey: "b" })).toThrow(/host:port/);
    expect(() => s3cmdConfig({ hostPort: "127.0.0.1:1", accessKey: "a\nuse_https = True", secretKey: "b" })).toThrow(/access_key/);
  });

  it("is a bash script shellcheck accepts, which passes the key to SQL as a psql variable", () => {
    const r = spawnSync("shellcheck", ["--shell=bash", "-"], { input: SEED_LOOP_SCRIPT, encoding: "utf8" });
    if (r.error) throw new Error(`shellcheck is required for this test (apt-get install shellcheck): ${r.error.message}`);
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
    expect(SEED_LOOP_SCRIPT).toContain(`VALUES (:'in_bucket', :'key', :'out_bucket', :'key')`);
    expect(SEED_LOOP_SCRIPT).toMatch(/"\$CONVERT" "\$SCRATCH\/in\.jpg" -negate "\$SCRATCH\/out\.jpg"/);
  });

  it("ends with bash's own `times` output, which the parser reads", () => {
    // No keys: the loop does nothing but report its CPU, in the format of the bash on this machine.
    const r = spawnSync("/bin/bash", ["-c", SEED_LOOP_SCRIPT, "seed-loop"], { encoding: "utf8", env: { LC_ALL: "C" } });
    expect(r.status).toBe(0);
    const out = parseLoopOutput(r.stdout);
    expect(out.images).toEqual([]);
    expect(out.shellCpuMs).toBeGreaterThanOrEqual(0);
    expect(out.toolsCpuMs).toBeGreaterThanOrEqual(0);
  });
});

describe("hand-built loop: parsing and figures", () => {
  it("reads each image's wall time, each command's time, and the CPU of the shell and of its commands", () => {
    const out = parseLoopOutput(
      [
        `${STEP_LINE} get 0.210 0.150 0.030`,
        `${STEP_LINE} convert 0.031 0.020 0.004`,
        `${STEP_LINE} put 0.220 0.160 0.020`,
        `${STEP_LINE} psql 0.051 0.010 0.005`,
        `${IMAGE_LINE} seed-loop/0000.jpg 512`,
        `${STEP_LINE} get 0.190 0.140 0.030`,
        `${IMAGE_LINE} seed-loop/0002.jpg 498`,
        "0m0.010s 0m0.020s",
        "1m2.500s 0m3.250s",
        "",
      ].join("\n"),
    );
    expect(out.steps.get).toEqual({ count: 2, wallMs: expect.closeTo(400, 6), cpuMs: expect.closeTo(350, 6) });
    expect(out.steps.psql).toEqual({ count: 1, wallMs: expect.closeTo(51, 6), cpuMs: expect.closeTo(15, 6) });
    expect(out.images).toEqual([
      { key: "seed-loop/0000.jpg", wallMs: 512 },
      { key: "seed-loop/0002.jpg", wallMs: 498 },
    ]);
    expect(out.shellCpuMs).toBeCloseTo(30);
    expect(out.toolsCpuMs).toBeCloseTo(65_750);
  });

  it("fails on output without `times`, and on a malformed image or step line", () => {
    expect(() => parseLoopOutput(`${STEP_LINE} resize 0.1 0.1 0.0\n0m0.0s 0m0.0s\n0m0.0s 0m0.0s\n`)).toThrow(/malformed step line/);
    expect(() => parseLoopOutput(`${STEP_LINE} get 0.1 0.1\n0m0.0s 0m0.0s\n0m0.0s 0m0.0s\n`)).toThrow(/malformed step line/);
    expect(() => parseLoopOutput(`${IMAGE_LINE} a.jpg 5\n`)).toThrow(/two lines of `times`/);
    expect(() => parseLoopOutput(`${IMAGE_LINE} a.jpg x\n0m0.0s 0m0.0s\n0m0.0s 0m0.0s\n`)).toThrow(/malformed image line/);
  });

  it("splits the keys round-robin over the loops", () => {
    expect(partition([1, 2, 3, 4, 5], 2)).toEqual([
      [1, 3, 5],
      [2, 4],
    ]);
    expect(() => partition([1], 0)).toThrow(/positive integer/);
  });

  it("gives the rate per core and the CPU per image of the loop and of the servers", () => {
    const c = summarizeSeedLoop(result());
    expect(c.throughput).toBeCloseTo(4);
    expect(c.perCoreRate).toBeCloseTo(2);
    expect(c.cpuPerImageMs).toEqual({ shells: 2, tools: 500, postgres: 8, s3: 20, webhook: 0.1 });
    expect(c.imageWallMs.median).toBe(549);
    expect(c.stepsPerImage.get).toEqual({ wallMs: 200, cpuMs: 190 });
    expect(c.stepsPerImage.psql).toEqual({ wallMs: 70, cpuMs: 90 });
    expect(seedLoopComplete(c)).toBe(true);
  });

  it("refuses a run where a command was timed more or fewer times than there were images", () => {
    const r = result();
    expect(() => summarizeSeedLoop({ ...r, steps: { ...r.steps, put: { count: 199, wallMs: 1, cpuMs: 1 } } })).toThrow(
      /199 'put' commands timed for 200 images/,
    );
  });

  it("is not complete when a row or an output is missing or the colours were not inverted", () => {
    expect(seedLoopComplete(summarizeSeedLoop(result({ rowsLogged: 199 })))).toBe(false);
    expect(seedLoopComplete(summarizeSeedLoop(result({ outputsWritten: 199 })))).toBe(false);
    // Output = input: each channel's two means add up to twice the input's, not 255.
    expect(seedLoopComplete(summarizeSeedLoop(result({ inversionCheck: [240, 200, 180] })))).toBe(false);
  });

  it("compares per core with the 1 MP pipeline's case of one worker per loop, machine-wide on both sides, counting every process", () => {
    const loop: SeedLoopCase = summarizeSeedLoop(result());
    expect(loop.loops).toBe(2);
    const cases: PipelineCaseLike[] = [
      { image: "12mp-jpeg", workers: 2, workerConcurrency: 1, batch: { throughput: 5 }, cpuPerImageMs: { "worker-1": 150 } },
      { image: "1mp-jpeg", workers: 1, workerConcurrency: 1, batch: { throughput: 25 }, cpuPerImageMs: { "worker-1": 30 } },
      { image: "1mp-jpeg", workers: 1, workerConcurrency: 2, batch: { throughput: 45 }, cpuPerImageMs: { "worker-1": 30 } },
      {
        image: "1mp-jpeg",
        workers: 2,
        workerConcurrency: 1,
        batch: { throughput: 40 },
        cpuPerImageMs: { "worker-1": 16, "worker-2": 16, webhook: 3, postgres: 5, "s3 server": 10 },
      },
    ];
    // Two loops on two cores against two workers on the same two cores: 40 img/s is 20 per core, not 40.
    const perCore = pipelinePerCore(cases, loop.loops);
    expect(perCore).toMatchObject({ workers: 2, throughput: 40, perCoreRate: 20 });
    const cmp = compareWithPipeline(loop, perCore as NonNullable<typeof perCore>);
    expect(cmp.wall).toEqual({ pipeline: 20, loop: 2 });
    expect(cmp.pipelineCpuMs).toBe(50);
    // The loop's commands and shell, PostgreSQL and the S3 server; the idle webhook is no part of the loop.
    expect(cmp.loopCpuMs).toBe(530);
    expect(cmp.cpu.pipeline / cmp.cpu.loop).toBeCloseTo(10.6);
    // One loop is set against one worker; without a 1 MP case of one job in flight there is nothing to compare.
    expect(pipelinePerCore(cases, 1)).toMatchObject({ workers: 1, perCoreRate: 25 });
    expect(pipelinePerCore(cases.slice(0, 1), 2)).toBeUndefined();
  });
});
