/**
 * The performance targets, evaluated against one run's results. Pure, so it is unit-tested.
 *
 * Every target is judged on each basis that applies to it: wall-clock time (what a user waits for, which
 * moves with other load on the machine) and CPU time (what the work costs, which does not depend on idle
 * cores and so holds on any machine). What is neither (memory, correctness) is judged as "other". A
 * target is met only when every basis that applies meets it.
 */
import type { MemoryCase } from "../sections/memory";
import { systemCpuPerImageMs, workersCpuPerImageMs, type PipelineCase } from "../sections/pipeline";
import { queueExactlyOnce, type QueueCase } from "../sections/queue";
import { compareWithPipeline, pipelinePerCore, seedLoopComplete, type SeedLoopCase } from "../sections/seed-loop";
import type { TransformCase } from "../sections/transform";
import { exactlyOnce, storageCpuPerImage, type CephPipelineCase, type S3rverCpu } from "../sections/ceph-pipeline";
import type { WebhookResult } from "../probes/pipeline-probe";
import type { OverheadResults } from "../sections/overhead";
import { overheadVerdicts } from "./overhead-target";

/** One basis of a target: what this run measured, and whether that meets the target. */
export interface Verdict {
  readonly measured: string;
  readonly met: boolean;
}

/** A basis that does not apply to a target (a latency target has no CPU-time reading), and why. */
export interface NotApplicable {
  readonly notApplicable: string;
}

export interface TargetRow {
  readonly target: string;
  /** Absent when the section did not run. */
  readonly wall?: Verdict | NotApplicable;
  readonly cpu?: Verdict | NotApplicable;
  /** Memory or correctness: what is neither wall nor CPU time. */
  readonly other?: Verdict;
  /** Every applicable basis met; undefined when the section did not run. */
  readonly met: boolean | undefined;
}

/** A target that the benchmark no longer judges, and why: printed under the table so the reason travels with it. */
export interface RetiredTarget {
  readonly target: string;
  readonly why: string;
  readonly replacedBy: string;
}

export interface RunResults {
  readonly transform?: { readonly cases: readonly TransformCase[] };
  readonly memory?: readonly MemoryCase[];
  readonly pipeline?: readonly PipelineCase[];
  readonly webhook?: WebhookResult;
  readonly seedLoop?: SeedLoopCase;
  readonly queue?: readonly QueueCase[];
  readonly cephPipeline?: readonly CephPipelineCase[];
  readonly overhead?: OverheadResults;
  /** Allocator setting of the container (bench/lib/container.ts) and its WORKER_CONCURRENCY. */
  readonly containerSetting: string;
  readonly workerConcurrency: number;
  /** Cores of the machine the run used (for what the machine can reach at most). */
  readonly cores?: number;
}

/** Images per second from the median wall time of one image. */
export function wallRate(cases: readonly TransformCase[], image: string, tool: TransformCase["tool"]): number | undefined {
  const c = cases.find((x) => x.image === image && x.tool === tool);
  return c ? 1000 / c.wallMs.median : undefined;
}

/** Images per CPU-second from the median CPU time of one image: the per-core rate, immune to idle cores. */
export function cpuRate(cases: readonly TransformCase[], image: string, tool: TransformCase["tool"]): number | undefined {
  const c = cases.find((x) => x.image === image && x.tool === tool);
  return c ? 1000 / c.cpuMs.median : undefined;
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);

export const isVerdict = (b: Verdict | NotApplicable | undefined): b is Verdict => b !== undefined && "met" in b;

/** A row from its bases; met when every basis that applies is met. */
export function targetRow(target: string, bases: Pick<TargetRow, "wall" | "cpu" | "other">): TargetRow {
  const verdicts = [bases.wall, bases.cpu, bases.other].filter(isVerdict);
  return { target, ...bases, met: verdicts.length === 0 ? undefined : verdicts.every((v) => v.met) };
}

export const notRun = (target: string): TargetRow => ({ target, met: undefined });

/** A rate ratio `measured / reference >= threshold`, with both rates shown. */
export function ratioVerdict(threshold: number, rates: readonly [number, number], unit: string): Verdict {
  const ratio = rates[0] / rates[1];
  return { measured: `${fmt(ratio)}x (${fmt(rates[0], 1)} vs ${fmt(rates[1], 1)} ${unit})`, met: ratio >= threshold };
}

function transformTargets(r: RunResults): TargetRow[] {
  const t = r.transform?.cases;
  return (
    [
      ["Transform >= 0.95x `vips invert` CLI at 12 MP", 0.95, "vips"],
      ["Transform >= 2.5x ImageMagick at 12 MP", 2.5, "imagemagick"],
    ] as const
  ).map(([target, threshold, tool]) => {
    const wall = t && [wallRate(t, "12mp-jpeg", "worker"), wallRate(t, "12mp-jpeg", tool)];
    const cpu = t && [cpuRate(t, "12mp-jpeg", "worker"), cpuRate(t, "12mp-jpeg", tool)];
    if (!wall?.[0] || !wall[1] || !cpu?.[0] || !cpu[1]) return notRun(target);
    return targetRow(target, {
      wall: ratioVerdict(threshold, [wall[0], wall[1]], "img/s"),
      cpu: ratioVerdict(threshold, [cpu[0], cpu[1]], "img/s per CPU-s"),
    });
  });
}

const find = (r: RunResults, image: PipelineCase["image"], workers: number, workerConcurrency: number): PipelineCase | undefined =>
  r.pipeline?.find((c) => c.image === image && c.workers === workers && c.workerConcurrency === workerConcurrency);

/**
 * Two workers against one, 1 MP. On CPU: the workers together spend no more than 1.1x one worker's CPU per
 * image (nothing in the queue makes them contend). On wall time: two workers reach at least 1/1.1 of the
 * rate this machine allows them, which is twice one worker's rate, or, when the cores run out first, the
 * cores divided by what one image costs the whole machine with one worker (S3 server and database included).
 */
function scalingTarget(r: RunResults): TargetRow {
  const target = "2 workers: CPU per image <= 1.1x of 1 worker, and throughput within 1.1x of what the cores allow";
  const one = find(r, "1mp-jpeg", 1, 1);
  const two = find(r, "1mp-jpeg", 2, 1);
  if (!one || !two) return notRun(target);
  const cpuOne = workersCpuPerImageMs(one);
  const cpuTwo = workersCpuPerImageMs(two);
  const cores = r.cores ?? 1;
  // The bound comes from the one-worker case: CPU the two-worker run wastes (in the database, the S3 server) must not
  // lower the bar it is judged against.
  const ceiling = (cores * 1000) / systemCpuPerImageMs(one);
  const attainable = Math.min(2 * one.batch.throughput, ceiling);
  const bound =
    attainable === ceiling ? `the cores: ${cores} / ${fmt(systemCpuPerImageMs(one), 1)} CPU ms per image with one worker` : "2x one worker";
  const efficiency = two.batch.throughput / attainable;
  return targetRow(target, {
    wall: {
      measured:
        `${fmt(two.batch.throughput / one.batch.throughput)}x one worker (${fmt(two.batch.throughput, 1)} vs ${fmt(one.batch.throughput, 1)} img/s); ` +
        `${fmt(efficiency)} of the ${fmt(attainable, 1)} img/s attainable (bound by ${bound})`,
      met: efficiency >= 1 / 1.1,
    },
    cpu: {
      measured: `${fmt(cpuTwo / cpuOne)}x (${fmt(cpuTwo, 1)} vs ${fmt(cpuOne, 1)} worker CPU ms per image)`,
      met: cpuTwo / cpuOne <= 1.1,
    },
  });
}

/** At 12 MP the fixed cost per job is small against the transform: one worker (the deployed concurrency) keeps up with it. */
function largeImageTarget(r: RunResults): TargetRow {
  const target = "Pipeline at 12 MP >= 0.9x the transform-only rate (1 worker, deployed concurrency)";
  const p = find(r, "12mp-jpeg", 1, r.workerConcurrency);
  const t = r.transform?.cases;
  const wall = t && wallRate(t, "12mp-jpeg", "worker");
  const cpu = t && cpuRate(t, "12mp-jpeg", "worker");
  if (!p || !wall || !cpu) return notRun(target);
  return targetRow(target, {
    wall: ratioVerdict(0.9, [p.batch.throughput, wall], "img/s"),
    cpu: ratioVerdict(0.9, [1000 / workersCpuPerImageMs(p), cpu], "img/s per worker CPU-s"),
  });
}

function latencyTarget(r: RunResults): TargetRow {
  const target = "PUT -> event at light load: p50 < 100 ms, p99 < 400 ms (1 MP)";
  const light = (r.pipeline ?? []).filter((c) => c.image === "1mp-jpeg" && c.workerConcurrency === 1 && c.lightLoad);
  if (light.length === 0) return notRun(target);
  // The worst of the cases decides.
  const p50 = Math.max(...light.map((c) => c.lightLoad?.latencyMs.median ?? NaN));
  const p99 = Math.max(...light.map((c) => c.lightLoad?.latencyMs.p99 ?? NaN));
  return targetRow(target, {
    wall: { measured: `p50 ${fmt(p50, 0)} ms, p99 ${fmt(p99, 0)} ms (worst of 1 and 2 workers)`, met: p50 < 100 && p99 < 400 },
    cpu: { notApplicable: "a latency target" },
  });
}

function exactlyOnceTarget(r: RunResults): TargetRow {
  const target = "Pipeline: every image processed exactly once (none lost, none doubled)";
  const cases = r.pipeline ?? [];
  if (cases.length === 0) return notRun(target);
  const lost = cases.reduce((n, c) => n + c.batch.missing.length + c.batch.notProcessed.length, 0);
  const doubled = cases.reduce((n, c) => n + c.jobsPerKeyNotOne, 0);
  const images = cases.reduce((n, c) => n + c.batch.images + (c.lightLoad?.images ?? 0), 0);
  return targetRow(target, {
    wall: { notApplicable: "a correctness target" },
    cpu: { notApplicable: "a correctness target" },
    other: {
      measured: `${images} images in ${cases.length} ${cases.length === 1 ? "case" : "cases"}: ${lost} lost or failed, ${doubled} keys not exactly one job`,
      met: lost + doubled === 0,
    },
  });
}

function memoryTarget(r: RunResults): TargetRow {
  const target = "Worker peak RSS <= 200 MiB on 12 MP";
  const mem = r.memory?.find(
    (c) => c.setting === r.containerSetting && c.variant === "worker" && c.image === "12mp-jpeg" && c.inFlight === r.workerConcurrency,
  );
  if (!mem) return notRun(target);
  return targetRow(target, {
    wall: { notApplicable: "a memory target" },
    cpu: { notApplicable: "a memory target" },
    other: {
      measured: `${fmt(mem.peakRssMiB.max, 0)} MiB (max of ${mem.runs} runs; ${r.containerSetting}, ${mem.inFlight} in flight)`,
      met: mem.peakRssMiB.max <= 200,
    },
  });
}

function webhookTarget(r: RunResults): TargetRow {
  const target = "Webhook >= 1,000 notifications/s, p99 < 50 ms, none lost or doubled";
  const w = r.webhook;
  const saturation = w?.runs.find((x) => x.label === "saturation");
  if (!w || !saturation) return notRun(target);
  const rejected = Object.values(saturation.otherStatuses).reduce((a, b) => a + b, 0) + saturation.errors;
  return targetRow(target, {
    wall: {
      measured: `${fmt(saturation.acceptedPerSecond, 0)}/s, p99 ${saturation.latencyMs.p99} ms, ${rejected} refused/errors`,
      met: saturation.acceptedPerSecond >= 1000 && saturation.latencyMs.p99 < 50 && rejected === 0,
    },
    cpu: { notApplicable: "the webhook's CPU is not sampled under autocannon" },
    other: {
      measured: `${w.acceptedKeys} accepted: ${w.acceptedWithoutJob} lost, ${w.keysWithSeveralJobs} doubled, ${w.unknownJobs} unknown`,
      met: w.acceptedWithoutJob === 0 && w.keysWithSeveralJobs === 0 && w.unknownJobs === 0,
    },
  });
}

/** The pipeline's 1 worker x 1 job (1 MP) against the tutorial's hand-built loop, one loop per core. */
function seedLoopTarget(r: RunResults): TargetRow {
  const target = "Pipeline >= 5x the hand-built loop per core (1 MP; every process's CPU counted)";
  const perCore = r.seedLoop && pipelinePerCore(r.pipeline, r.seedLoop.loops);
  if (!r.seedLoop || !perCore) return notRun(target);
  const cmp = compareWithPipeline(r.seedLoop, perCore);
  const complete = seedLoopComplete(r.seedLoop);
  return targetRow(target, {
    wall: ratioVerdict(5, [cmp.wall.pipeline, cmp.wall.loop], "img/s per core"),
    cpu: ratioVerdict(5, [cmp.cpu.pipeline, cmp.cpu.loop], "img per CPU-s"),
    // A loop that lost images would not be measuring the loop.
    other: {
      measured: `loop: ${r.seedLoop.rowsLogged} rows, ${r.seedLoop.outputsWritten} outputs of ${r.seedLoop.images} images${complete ? ", colours inverted" : ", NOT complete"}`,
      met: complete,
    },
  });
}

function queueOnceTarget(r: RunResults): TargetRow {
  const target = "Queue: every job claimed and completed exactly once (1, 4, 16 claimers)";
  const q = r.queue;
  if (!q || q.length === 0) return notRun(target);
  const twice = q.reduce((a, c) => a + c.claimedTwice, 0);
  const lost = q.reduce((a, c) => a + c.neverClaimed + (c.jobs - c.db.done), 0);
  return targetRow(target, {
    wall: { notApplicable: "a correctness target" },
    cpu: { notApplicable: "a correctness target" },
    other: {
      measured: `${q.reduce((a, c) => a + c.jobs, 0)} jobs: ${twice} claimed twice, ${lost} not done; ${q.filter((c) => !queueExactlyOnce(c)).length} case(s) failing`,
      met: q.every(queueExactlyOnce),
    },
  });
}

/**
 * More claimers must not slow the queue down: on wall time 16 claimers complete at least as many jobs per second
 * as 1. Contention (skipped locks, the one-running-per-object check) may cost CPU, but at most 1.5x per job.
 */
function queueScalingTarget(r: RunResults): TargetRow {
  const target = "Queue: 16 claimers >= 1 claimer in jobs/s, and >= 0.67x in jobs per CPU-s";
  const q1 = r.queue?.find((c) => c.claimers === 1);
  const q16 = r.queue?.find((c) => c.claimers === 16);
  if (!q1 || !q16) return notRun(target);
  return targetRow(target, {
    wall: ratioVerdict(1, [q16.jobsPerSecond, q1.jobsPerSecond], "jobs/s"),
    cpu: ratioVerdict(0.67, [q16.jobsPerCpuSecond, q1.jobsPerCpuSecond], "jobs per CPU-s"),
  });
}

/** The worker's cost per 1 MP image against the transform's alone, from the profile section (current build). */
function overheadTarget(r: RunResults): TargetRow {
  const target = "Worker CPU per image <= 1.3x transform alone (1 MP JPEG)";
  const lightLoad = find(r, "1mp-jpeg", 1, 1)?.lightLoad;
  const v = r.overhead && overheadVerdicts(r.overhead, lightLoad?.processMs);
  return v ? targetRow(target, v) : notRun(target);
}

/** pipeline-probe's S3_SERVER_CPU (a probe module runs when imported, so the name is repeated here). */
const S3_SERVER_CPU = "s3 server";

/** The S3 server's CPU per image from the pipeline section's 1 MP, 1 worker x 1 case: the Ceph section's setup. */
export function s3rverCpu(pipeline: readonly PipelineCase[] | undefined): S3rverCpu | undefined {
  const c = pipeline?.find((x) => x.image === "1mp-jpeg" && x.workers === 1 && x.workerConcurrency === 1);
  const ms = c?.cpuPerImageMs[S3_SERVER_CPU];
  return c && ms !== undefined ? { label: "1 MP, 1 x 1", s3ServerMs: ms, cpuPerImageMs: c.cpuPerImageMs } : undefined;
}

/**
 * The pipeline on Ceph RGW: exactly once per key on both topic kinds; the object store's CPU per image (radosgw,
 * OSD and mon together) below s3rver's, and a throughput that the real store costs at most 10 % of (one worker
 * with one job in flight bounds both pipelines, so equal rates are within noise of each other); and the
 * light-load latency target of the s3rver section, on the persistent topic production uses.
 */
function cephTargets(r: RunResults): TargetRow[] {
  const once = "RGW: every key exactly one job and one processed event (persistent and sync topics)";
  const cpu = "RGW: object store CPU per image < s3rver's, and pipeline throughput >= 0.9x s3rver's (1 MP, 1 x 1)";
  const latency = "RGW persistent topic, PUT -> event at light load: p50 < 100 ms, p99 < 400 ms (1 MP)";
  const cases = r.cephPipeline ?? [];
  if (cases.length === 0) return [notRun(once), notRun(cpu), notRun(latency)];
  const rows: TargetRow[] = [
    targetRow(once, {
      wall: { notApplicable: "a correctness target" },
      cpu: { notApplicable: "a correctness target" },
      other: {
        measured: cases
          .map(
            (c) =>
              `${c.topic}: ${c.batch.images + c.lightLoad.images} processed, ${c.batch.missing.length + c.lightLoad.missing.length} missing, ` +
              `${c.jobsPerKeyNotOne} keys not exactly one job, ${c.processedPerKeyNotOne} not exactly one event`,
          )
          .join("; "),
        met: cases.every(exactlyOnce),
      },
    }),
  ];
  const persistent = cases.find((c) => c.topic === "persistent");
  const s3rver = s3rverCpu(r.pipeline);
  const s3rverCase = r.pipeline?.find((x) => x.image === "1mp-jpeg" && x.workers === 1 && x.workerConcurrency === 1);
  if (persistent && s3rver && s3rverCase) {
    const store = storageCpuPerImage(persistent);
    rows.push(
      targetRow(cpu, {
        wall: ratioVerdict(0.9, [persistent.batch.throughput, s3rverCase.batch.throughput], "img/s, persistent topic vs s3rver"),
        cpu: {
          measured: `${fmt(store, 1)} ms (radosgw ${fmt(persistent.cpuPerImageMs.radosgw, 1)} + OSD + mon, persistent topic) vs s3rver ${fmt(s3rver.s3ServerMs, 1)} ms`,
          met: store < s3rver.s3ServerMs,
        },
      }),
    );
  } else rows.push(notRun(cpu));
  if (persistent) {
    const l = persistent.lightLoad.latencyMs;
    rows.push(
      targetRow(latency, {
        wall: {
          measured: `p50 ${fmt(l.median, 0)} ms, p99 ${fmt(l.p99, 0)} ms (the PUT itself p50 ${fmt(persistent.putMs.lightLoad.median, 0)} ms)`,
          met: l.median < 100 && l.p99 < 400,
        },
        cpu: { notApplicable: "a latency target" },
      }),
    );
  } else rows.push(notRun(latency));
  return rows;
}

/** Each section's targets; a section adds its evaluator here. */
const EVALUATORS: readonly ((r: RunResults) => TargetRow | TargetRow[])[] = [
  transformTargets,
  scalingTarget,
  largeImageTarget,
  latencyTarget,
  exactlyOnceTarget,
  memoryTarget,
  webhookTarget,
  seedLoopTarget,
  queueOnceTarget,
  queueScalingTarget,
  overheadTarget,
  cephTargets,
];

export function evaluateTargets(r: RunResults): TargetRow[] {
  return EVALUATORS.flatMap((evaluate) => evaluate(r));
}

/** Targets of earlier runs that a 2-core machine cannot show; BENCHMARKS.md says more. */
export const RETIRED_TARGETS: readonly RetiredTarget[] = [
  {
    target: "Pipeline, 1 worker >= 0.8x transform-only rate (1 MP)",
    why:
      "on one machine the pipeline's wall-clock rate includes the S3 server, PostgreSQL and the load generator on the same " +
      "cores as the worker, so it measures the machine; the worker's own cost is what the program controls",
    replacedBy: "the worker's CPU per image against the transform's (1 MP), and the 12 MP pipeline against the transform",
  },
  {
    target: "Pipeline, 2 workers >= 1.7x 1 worker",
    why:
      "two workers, the S3 server, PostgreSQL and the uploader share two cores: two workers cannot get twice the CPU of one, " +
      "whatever the program does",
    replacedBy: "2 workers' CPU per image against 1 worker's, and their throughput against what the cores allow",
  },
];
