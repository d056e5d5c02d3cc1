/**
 * `npm run bench`: every benchmark of BENCHMARKS.md in one run, printed as Markdown tables, with the
 * targets and where this run stands; the raw results go to bench/results/<time>.json.
 *
 *   npm run bench [-- --only <sections>] [--ceph] [--quick]   (npm run bench -- --help lists the sections)
 *
 * Installs nothing: when a tool is missing it names the Debian package and stops. The ceph-pipeline
 * section starts a Ceph cluster, so it runs only when asked for (--ceph, or by name in --only).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { compileTree, REPO_ROOT, type CompiledTree } from "./lib/compile";
import { CONTAINER_SETTING_NAME, settingByName, settingEnv } from "./lib/container";
import { generateImage, STANDARD_IMAGES } from "./lib/images";
import { relativeSpread } from "./lib/stats";
import { markdownTable, medianWithSpread } from "./lib/table";
import { cpuRate, evaluateTargets, RETIRED_TARGETS, s3rverCpu, wallRate, type RunResults } from "./lib/targets";
import { targetsTable } from "./lib/targets-table";
import { findTools, missingToolsMessage, type ToolRequirement } from "./lib/tools";
import { measureMemory, type MemoryCase } from "./sections/memory";
import { measurePipeline, measureWebhook, systemCpuPerImageMs, workersCpuPerImageMs, type PipelineCase } from "./sections/pipeline";
import { cephPipelineReport, measureCephPipeline } from "./sections/ceph-pipeline";
import { measurePlans, type PlanCase } from "./sections/plan";
import { measureSeedLoop } from "./sections/seed-loop";
import { seedLoopReport } from "./sections/seed-loop-report";
import { measureQueue } from "./sections/queue";
import { queueReport } from "./sections/queue-report";
import { DEFAULT_BASELINE, measureOverhead, type OverheadResults } from "./sections/overhead";
import { CATEGORIES } from "./lib/cpu-profile";
import { measureTransform, type BenchImage, type TransformResults } from "./sections/transform";
import type { WebhookResult } from "./probes/pipeline-probe";
import { WORKER_ENV } from "../worker/src/config";
import { parseCommandLine } from "../common/command-line";

const SECTIONS = ["transform", "memory", "plan", "pipeline", "seed-loop", "queue", "webhook", "profile", "ceph-pipeline"] as const;
type Section = (typeof SECTIONS)[number];
/** Sections that run only when asked for: they need what a plain machine does not have. */
const OPT_IN: readonly Section[] = ["ceph-pipeline"];

const NEEDS: Readonly<Record<Section, ToolRequirement["name"][]>> = {
  transform: ["vips", "imagemagick"],
  memory: ["jemalloc"],
  plan: [],
  pipeline: [],
  "seed-loop": ["imagemagick", "s3cmd", "psql"],
  queue: [],
  webhook: [],
  profile: [],
  "ceph-pipeline": ["ceph"],
};

const USAGE = `usage: npm run bench [-- --only ${SECTIONS.join(",")}] [--ceph] [--quick] [--baseline <git revision>]
  --only      run only these sections (comma-separated)
  --ceph      also run ceph-pipeline: the pipeline on a single-host Ceph cluster (needs Debian's Ceph packages)
  --quick     few samples, for checking that the benchmark works (numbers are not worth recording)
  --baseline  the revision whose worker the profile section runs next to the current one (default ${DEFAULT_BASELINE})`;

export interface BenchArgs {
  readonly sections: readonly Section[];
  readonly quick: boolean;
  readonly baseline: string;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs | "help" {
  const values = parseCommandLine(
    argv,
    {
      only: { type: "string" },
      quick: { type: "boolean" },
      ceph: { type: "boolean" },
      baseline: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    USAGE.split("\n")[0],
  );
  if (values.help) return "help";
  const ceph = values.ceph === true;
  let sections: Section[] = SECTIONS.filter((s) => ceph || !OPT_IN.includes(s));
  if (values.only !== undefined) {
    const wanted = values.only
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = wanted.filter((s) => !(SECTIONS as readonly string[]).includes(s));
    if (wanted.length === 0 || unknown.length > 0)
      throw new Error(`--only: unknown section(s) ${unknown.join(", ") || "(none given)"}; sections: ${SECTIONS.join(", ")}`);
    sections = SECTIONS.filter((s) => wanted.includes(s) || (ceph && s === "ceph-pipeline"));
  }
  if (values.baseline !== undefined && values.baseline.trim() === "")
    throw new Error("--baseline: give a git revision (a commit, tag or branch), e.g. --baseline " + DEFAULT_BASELINE);
  return { sections, quick: values.quick === true, baseline: values.baseline?.trim() ?? DEFAULT_BASELINE };
}

/** Samples per measurement: enough for a median and a spread within ~10 minutes on 2 cores. */
function plan(quick: boolean) {
  return {
    transformRounds: (image: BenchImage): number =>
      quick ? 2 : image.spec.format === "png" ? 12 : image.megapixels <= 1 ? 30 : image.megapixels <= 12 ? 15 : 8,
    memoryRuns: quick ? 1 : 3,
    memoryBatch: { "12mp-jpeg": quick ? 3 : 8, "24mp-jpeg": quick ? 2 : 5 },
    planRuns: quick ? 1 : 3,
    pipelineBatch: quick ? 20 : 200,
    // 12 MP images cost ~10x a 1 MP one; 40 give a steady rate in about 10 s per case.
    pipelineBatch12mp: quick ? 6 : 40,
    lightLoad: { count: quick ? 10 : 40, intervalMs: 150 },
    webhookSeconds: quick ? 3 : 10,
    seedLoopImages: quick ? 20 : 200,
    queueJobs: quick ? 500 : 5000,
    overheadBatch: quick ? 20 : 200,
    overheadTransformRounds: quick ? 1 : 5,
    // A new persistent topic waits for RGW's periodic queue scan (up to ~30 s) before its first delivery.
    cephWarmup: { count: quick ? 3 : 6, timeoutMs: 90_000 },
  };
}

function workerDefault(name: string): number {
  const spec = WORKER_ENV.find((v) => v.name === name);
  if (spec?.default === undefined) throw new Error(`worker/src/config.ts has no default for ${name}`);
  return Number(spec.default);
}

function machine(tools: ReturnType<typeof findTools>): Record<string, string> {
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model ?? "unknown"} x ${cpus.length}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    sharp: `${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
    vipsCli: tools.vips?.version ?? "missing",
    imagemagick: tools.imagemagick?.version ?? "missing",
    s3cmd: tools.s3cmd?.version ?? "missing",
    psql: tools.psql?.version ?? "missing",
    jemalloc: tools.jemalloc ?? "missing",
    ceph: tools.ceph?.version ?? "missing",
    loadAverageAtStart: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
  };
}

function transformReport(t: TransformResults): string {
  const rows = t.cases.map((c) => {
    const rate = 1000 / c.wallMs.median;
    const perCpu = 1000 / c.cpuMs.median;
    const versus = (tool: "vips" | "imagemagick"): string => {
      const wall = wallRate(t.cases, c.image, tool);
      const cpu = cpuRate(t.cases, c.image, tool);
      return wall && cpu ? `${(rate / wall).toFixed(2)}x / ${(perCpu / cpu).toFixed(2)}x` : "-";
    };
    return [
      c.image,
      c.tool,
      String(c.wallMs.n),
      medianWithSpread(c.wallMs),
      `${(relativeSpread(c.wallMs) * 100).toFixed(0)} %`,
      c.cpuMs.median.toFixed(0),
      rate.toFixed(1),
      perCpu.toFixed(1),
      versus("vips"),
      versus("imagemagick"),
    ];
  });
  const table = markdownTable(
    [
      "image",
      "tool",
      "n",
      "wall ms median [p25–p75]",
      "IQR/median",
      "CPU ms",
      "img/s",
      "img/s per CPU-s",
      "vs vips (wall / CPU)",
      "vs ImageMagick (wall / CPU)",
    ],
    rows,
  );
  const startup = t.startup.map((s) => `${s.tool} ${s.wallMs.median.toFixed(0)} ms`).join(", ");
  return `${table}\n\nCLI start-up (1x1 image, median of ${t.startup[0]?.wallMs.n ?? 0}, included in each CLI sample): ${startup}. Worker process setting: ${t.workerSetting}, one libvips thread.`;
}

function memoryReport(cases: readonly MemoryCase[]): string {
  return markdownTable(
    [
      "setting",
      "transform",
      "image",
      "in flight",
      "images",
      "runs",
      "peak RSS MiB (median, max)",
      "baseline MiB",
      "peak after each image (first run)",
    ],
    cases.map((c) => [
      c.setting,
      c.variant,
      c.image,
      String(c.inFlight),
      String(c.images),
      String(c.runs),
      `${c.peakRssMiB.median.toFixed(0)}, ${c.peakRssMiB.max.toFixed(0)}`,
      c.baselineRssMiB.toFixed(0),
      c.growthMiB.join(" "),
    ]),
  );
}

function pipelineReport(cases: readonly PipelineCase[]): string {
  const ms = (s: { median: number; p95: number; p99: number; max: number }): string =>
    `${s.median.toFixed(0)} / ${s.p95.toFixed(0)} / ${s.p99.toFixed(0)} / ${s.max.toFixed(0)}`;
  const label = (c: PipelineCase): string => `${c.image}, ${c.workers} x ${c.workerConcurrency}`;
  const throughput = markdownTable(
    [
      "image, workers x in flight",
      "images",
      "img/s",
      "PUT->event p50/p95/p99/max ms",
      "notify p50",
      "queue p50",
      "process p50 (dl+tx+ul)",
      "gap p50",
      "lost/doubled",
    ],
    cases.map((c) => [
      label(c),
      `${c.batch.images} (+${c.batch.missing.length} missing, ${c.batch.notProcessed.length} failed)`,
      c.batch.throughput.toFixed(1),
      ms(c.batch.latencyMs),
      c.batch.notifyMs.median.toFixed(0),
      c.batch.queueMs.median.toFixed(0),
      `${c.batch.processMs.median.toFixed(0)} (${c.batch.downloadMs.median.toFixed(0)}+${c.batch.transformMs.median.toFixed(0)}+${c.batch.uploadMs.median.toFixed(0)})`,
      c.batch.gapMs ? c.batch.gapMs.median.toFixed(0) : "-",
      String(c.jobsPerKeyNotOne),
    ]),
  );
  const withLight = cases.filter((c) => c.lightLoad);
  const light = markdownTable(
    ["image, workers x in flight", "images", "arrival every", "PUT->event p50/p95/p99/max ms", "notify p50", "queue p50", "process p50"],
    withLight.map((c) => {
      const l = c.lightLoad as NonNullable<PipelineCase["lightLoad"]>;
      return [
        label(c),
        String(l.images),
        `${l.intervalMs} ms`,
        ms(l.latencyMs),
        l.notifyMs.median.toFixed(0),
        l.queueMs.median.toFixed(0),
        l.processMs.median.toFixed(0),
      ];
    }),
  );
  const components = [...new Set(cases.flatMap((c) => Object.keys(c.cpuPerImageMs)))];
  const cpu = markdownTable(
    ["image, workers x in flight", ...components.map((k) => `${k} CPU ms/img`), "workers together", "whole machine", "peak RSS MiB"],
    cases.map((c) => [
      label(c),
      ...components.map((k) => (c.cpuPerImageMs[k] === undefined ? "-" : c.cpuPerImageMs[k].toFixed(1))),
      workersCpuPerImageMs(c).toFixed(1),
      systemCpuPerImageMs(c).toFixed(1),
      Object.entries(c.peakRssMiB)
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(", "),
    ]),
  );
  const batchNote = [...new Set(cases.map((c) => `${c.image} uploaded ${c.uploadConcurrency} at a time`))].join(", ");
  return `Batch (${batchNote}):\n\n${throughput}\n\nLight load:\n\n${light}\n\nCPU per image during the batch, by process:\n\n${cpu}`;
}

function webhookReport(w: WebhookResult): string {
  const table = markdownTable(
    ["run", "connections", "s", "accepted", "accepted/s", "latency p50/p90/p99/max ms", "other statuses", "errors"],
    w.runs.map((r) => [
      r.label,
      String(r.connections),
      r.durationSeconds.toFixed(1),
      String(r.accepted),
      r.acceptedPerSecond.toFixed(0),
      `${r.latencyMs.p50} / ${r.latencyMs.p90} / ${r.latencyMs.p99} / ${r.latencyMs.max}`,
      JSON.stringify(r.otherStatuses),
      String(r.errors + r.timeouts),
    ]),
  );
  return `${table}\n\nExactly one job per accepted notification: ${w.acceptedKeys} distinct keys accepted, ${w.redeliveriesAccepted} re-deliveries accepted; ${w.acceptedWithoutJob} accepted without a job, ${w.keysWithSeveralJobs} keys with more than one job, ${w.unknownJobs} jobs for keys never sent; ${w.unanswered} requests cut off by the end of a run.`;
}

function overheadReport(o: OverheadResults): string {
  const t = o.transformOnly;
  const builds = markdownTable(
    [
      "worker build",
      "images",
      "img/s",
      "worker CPU ms/img",
      "JS thread ms/img",
      "other threads ms/img",
      "x transform alone (CPU)",
      "job p50 ms (worker's transform p50)",
      "x transform alone (wall)",
    ],
    o.builds.map((b) => [
      b.build,
      `${b.images}${b.failed ? ` (+${b.failed} failed)` : ""}`,
      b.throughput.toFixed(1),
      b.cpuPerImageMs.toFixed(1),
      b.mainThreadPerImageMs.toFixed(1),
      (b.cpuPerImageMs - b.mainThreadPerImageMs).toFixed(1),
      `${(b.cpuPerImageMs / t.cpuMs.median).toFixed(2)}x`,
      `${b.processMs.median.toFixed(1)} (${b.transformMs.median.toFixed(1)})`,
      `${(b.processMs.median / t.wallMs.median).toFixed(2)}x`,
    ]),
  );
  const profile = markdownTable(
    ["where (ms per image)", ...o.profiles.map((p) => p.build)],
    [
      ...CATEGORIES.map((c) => [`JS thread: ${c}`, ...o.profiles.map((p) => p.perImageMs[c].toFixed(2))]),
      ["JS thread, sampled total", ...o.profiles.map((p) => CATEGORIES.reduce((sum, c) => sum + p.perImageMs[c], 0).toFixed(2))],
      ["JS thread, CPU from /proc", ...o.profiles.map((p) => p.mainThreadPerImageMs.toFixed(2))],
      ["other threads (libvips, libuv pool, V8 helpers), CPU from /proc", ...o.profiles.map((p) => p.otherThreadsPerImageMs.toFixed(2))],
    ],
  );
  const names = [...new Set(o.profiles.flatMap((p) => Object.keys(p.threadsPerImageMs)))].sort();
  const threads = markdownTable(
    ["thread (CPU ms per image, /proc)", ...o.profiles.map((p) => p.build)],
    names.map((n) => [n, ...o.profiles.map((p) => (p.threadsPerImageMs[n] ?? 0).toFixed(2))]),
  );
  return (
    `Transform alone (the worker's invertImage on the same 10 images, container settings): ${t.cpuMs.median.toFixed(1)} CPU ms, ` +
    `${t.wallMs.median.toFixed(1)} ms wall (medians of ${t.cpuMs.n}).\n\nOne worker at the deployed WORKER_CONCURRENCY (the default), ${o.builds[0]?.images ?? 0} images per build, same pipeline:\n\n${builds}` +
    `\n\nProfile (\`node --cpu-prof\`, samples inside the batch, per image):\n\n${profile}` +
    `\n\nThe profiled runs' CPU by thread:\n\n${threads}`
  );
}

function planReport(cases: readonly PlanCase[]): string {
  return markdownTable(
    ["stack", "resources", "runs", "evaluation ms median [p25–p75]", "whole process ms median"],
    cases.map((c) => [
      c.stack,
      String(c.resources),
      String(c.evaluationMs.n),
      medianWithSpread(c.evaluationMs, 0),
      c.processMs.median.toFixed(0),
    ]),
  );
}

async function writeImages(dir: string): Promise<BenchImage[]> {
  const images: BenchImage[] = [];
  for (const spec of Object.values(STANDARD_IMAGES)) {
    const g = await generateImage(spec);
    const file = path.join(dir, `${spec.name}.${spec.format === "jpeg" ? "jpg" : "png"}`);
    fs.writeFileSync(file, g.data);
    images.push({ spec, file, megapixels: g.megapixels });
  }
  return images;
}

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const tools = findTools();
  const missing = missingToolsMessage(tools, [...new Set(args.sections.flatMap((s) => NEEDS[s]))]);
  if (missing) {
    process.stderr.write(`${missing}\n`);
    return 2;
  }
  const p = plan(args.quick);
  const log = (line: string): void => void process.stderr.write(`  ${line}\n`);
  const started = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "image-pipeline-bench-"));
  let compiled: CompiledTree | undefined;
  const containerSetting = settingByName(CONTAINER_SETTING_NAME);
  const workerConcurrency = workerDefault("WORKER_CONCURRENCY");
  const results: RunResults & {
    machine: Record<string, string>;
    plan?: PlanCase[];
    startedAt: string;
    durationSeconds?: number;
    quick: boolean;
  } = {
    machine: machine(tools),
    startedAt: new Date(started).toISOString(),
    quick: args.quick,
    containerSetting: containerSetting.name,
    workerConcurrency,
    cores: os.cpus().length,
  };
  const out: string[] = [];
  const section = (title: string, body: string): void => {
    out.push(`## ${title}\n\n${body}\n`);
    process.stdout.write(`\n## ${title}\n\n${body}\n`);
  };
  try {
    compiled = compileTree();
    const images = await writeImages(workDir);
    const serviceEnv = {
      ...settingEnv(containerSetting, tools.jemalloc),
      RECONCILE_INTERVAL_SECONDS: String(workerDefault("RECONCILE_INTERVAL_SECONDS")),
    };
    section("Machine", markdownTable(["", ""], Object.entries(results.machine)));

    if (args.sections.includes("transform") && tools.vips && tools.imagemagick) {
      process.stderr.write("transform: worker vs vips CLI vs ImageMagick, one thread each\n");
      const t = await measureTransform({
        compiled,
        images,
        vips: tools.vips,
        imagemagick: tools.imagemagick,
        jemalloc: tools.jemalloc,
        workDir,
        rounds: p.transformRounds,
        log,
      });
      Object.assign(results, { transform: t });
      section("1. Transform, per core", transformReport(t));
    }
    if (args.sections.includes("pipeline")) {
      process.stderr.write("pipeline: 1 MP and 12 MP batches through the local pipeline\n");
      const oneMp = { image: "1mp-jpeg", batch: p.pipelineBatch, uploadConcurrency: 8, lightLoad: p.lightLoad } as const;
      const twelveMp = { image: "12mp-jpeg", batch: p.pipelineBatch12mp, uploadConcurrency: 4 } as const;
      const cases = await measurePipeline({
        compiled,
        serviceEnv,
        cases: [
          { ...oneMp, workers: 1, workerConcurrency: 1 },
          { ...oneMp, workers: 2, workerConcurrency: 1 },
          { ...oneMp, workers: 1, workerConcurrency },
          { ...twelveMp, workers: 1, workerConcurrency: 1 },
          { ...twelveMp, workers: 1, workerConcurrency },
        ],
        log,
      });
      Object.assign(results, { pipeline: cases });
      section("2. Pipeline", pipelineReport(cases));
    }
    if (args.sections.includes("seed-loop") && tools.imagemagick && tools.s3cmd && tools.psql) {
      const loops = os.cpus().length;
      process.stderr.write(`seed-loop: the tutorial's s3cmd + convert + psql loop, ${loops} loop(s), one per core\n`);
      const loop = await measureSeedLoop({
        compiled,
        serviceEnv,
        tools: { s3cmd: tools.s3cmd.path, convert: tools.imagemagick.path, psql: tools.psql.path, bash: "/bin/bash" },
        images: p.seedLoopImages,
        loops,
        log,
      });
      Object.assign(results, { seedLoop: loop });
      section("2b. Against the hand-built loop", seedLoopReport(loop, results.pipeline));
    }
    if (args.sections.includes("queue")) {
      const processes = os.cpus().length;
      process.stderr.write(`queue: claim -> complete with 1, 4 and 16 claimers over at most ${processes} processes\n`);
      const cases = await measureQueue({ compiled, jobs: p.queueJobs, claimerCounts: [1, 4, 16], processes, log });
      Object.assign(results, { queue: cases });
      section("2c. Queue", queueReport(cases));
    }
    if (args.sections.includes("ceph-pipeline")) {
      process.stderr.write("ceph-pipeline: 1 MP batch through a real Ceph RGW, persistent and synchronous topics\n");
      // 1 worker x 1 job in flight, to line up with the s3rver section's first case.
      const cases = await measureCephPipeline({
        compiled,
        serviceEnv,
        workers: 1,
        workerConcurrency: 1,
        // The synchronous case first: meanwhile RGW's queue scan adopts the new persistent topic.
        topics: ["sync", "persistent"],
        warmup: p.cephWarmup,
        batch: p.pipelineBatch,
        lightLoad: p.lightLoad,
        log,
      });
      Object.assign(results, { cephPipeline: cases });
      section("2d. Pipeline on Ceph RGW", cephPipelineReport(cases, s3rverCpu(results.pipeline)));
    }
    if (args.sections.includes("memory")) {
      process.stderr.write("memory: peak RSS per allocator setting\n");
      const files = Object.fromEntries(images.filter((i) => i.megapixels >= 12).map((i) => [i.spec.name, i.file]));
      const cases = await measureMemory({
        compiled,
        jemalloc: tools.jemalloc,
        files,
        batch: p.memoryBatch,
        runs: p.memoryRuns,
        inFlight: [1, workerConcurrency],
        beforeFix: [
          { setting: "glibc", inFlight: 1 },
          { setting: containerSetting.name, inFlight: workerConcurrency },
        ],
        log,
      });
      if (!args.quick) {
        // The largest image the worker accepts (LIMIT_INPUT_PIXELS, 100 MP by default) sizes the memory limit.
        const side = Math.floor(Math.sqrt(workerDefault("LIMIT_INPUT_PIXELS")));
        const largest = await generateImage({ name: "limit-jpeg", width: side, height: side, format: "jpeg", seed: 5 });
        const file = path.join(workDir, "limit-jpeg.jpg");
        fs.writeFileSync(file, largest.data);
        cases.push(
          ...(await measureMemory({
            compiled,
            files: { [`${largest.megapixels.toFixed(0)}mp-jpeg`]: file },
            batch: {},
            runs: 1,
            settings: [containerSetting],
            inFlight: [1, workerConcurrency],
            log,
          })),
        );
        fs.rmSync(file);
      }
      Object.assign(results, { memory: cases });
      section("3. Memory", memoryReport(cases));
    }
    if (args.sections.includes("webhook")) {
      process.stderr.write("webhook: autocannon against the local webhook\n");
      const w = await measureWebhook({ compiled, serviceEnv, connections: 16, durationSeconds: p.webhookSeconds, rate: 1000, log });
      Object.assign(results, { webhook: w });
      section("4. Webhook", webhookReport(w));
    }
    if (args.sections.includes("plan")) {
      process.stderr.write("plan: offline plan of each stack\n");
      const cases = await measurePlans({ runs: p.planRuns, log });
      results.plan = cases;
      section("5. Program evaluation", planReport(cases));
    }
    if (args.sections.includes("profile")) {
      process.stderr.write(`profile: the worker's overhead, baseline ${args.baseline} and current, 1 MP\n`);
      const o = await measureOverhead({
        compiled,
        baseline: args.baseline,
        serviceEnv,
        batch: p.overheadBatch,
        transformRounds: p.overheadTransformRounds,
        workDir,
        keepPrefix: path.join(REPO_ROOT, "bench", "results", `${results.startedAt.replace(/[:.]/g, "-")}-`),
        log,
      });
      Object.assign(results, { overhead: o });
      section("7. Worker overhead: profile, before and after", overheadReport(o));
    }
    const targets = evaluateTargets(results);
    section("Targets", targetsTable(targets, RETIRED_TARGETS));
    results.durationSeconds = (Date.now() - started) / 1000;
    const resultsDir = path.join(REPO_ROOT, "bench", "results");
    fs.mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `${results.startedAt.replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(file, `${JSON.stringify({ ...results, targets, markdown: out.join("\n") }, null, 2)}\n`);
    process.stdout.write(
      `\n${args.sections.join(", ")} in ${results.durationSeconds.toFixed(0)} s (load average now ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}); results: ${path.relative(process.cwd(), file)}\n`,
    );
    return 0;
  } finally {
    compiled?.remove();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
