/**
 * The worker's overhead around the transform: the worker of a baseline git revision next to the current
 * one, in one local pipeline, through the same 1 MP images; each also under `node --cpu-prof`, whose
 * profile is broken down by category (bench/lib/cpu-profile.ts); and the transform alone on the same
 * images in a worker-like process, the reference of the target.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { forkProbe } from "../lib/child";
import { compileTree, REPO_ROOT, type CompiledTree } from "../lib/compile";
import { CATEGORIES, profileBreakdown, type Category, type CpuProfile } from "../lib/cpu-profile";
import { generateImage, STANDARD_IMAGES } from "../lib/images";
import { summarize, type Summary } from "../lib/stats";
import type { OverheadReply, OverheadRequest, OverheadRunResult, WorkerBuild } from "../probes/overhead-probe";
import type { ProbeReply, ProbeRequest } from "../probes/transform-probe";

/** The main branch before the overhead work: the default baseline. */
export const DEFAULT_BASELINE = "e14f1d7";

export interface BuildResult {
  readonly build: string;
  readonly images: number;
  readonly failed: number;
  readonly throughput: number;
  /** Worker process CPU per image, all threads. */
  readonly cpuPerImageMs: number;
  /** Of which the JavaScript thread (the rest is libvips' and libuv's threads). */
  readonly mainThreadPerImageMs: number;
  /** Per job: event started_at → finished_at. */
  readonly processMs: Summary;
  readonly transformMs: Summary;
}

export interface ProfileResult {
  readonly build: string;
  readonly images: number;
  /** Sampled JavaScript-thread time per image, by category. */
  readonly perImageMs: Readonly<Record<Category, number>>;
  /** Other threads' CPU per image in the profiled run (from /proc): libvips, the libuv pool, V8 helpers. */
  readonly otherThreadsPerImageMs: number;
  /** JavaScript-thread CPU per image from /proc in the profiled run, against which the samples can be checked. */
  readonly mainThreadPerImageMs: number;
  /** CPU per image by thread name (from /proc) in the profiled run. */
  readonly threadsPerImageMs: Readonly<Record<string, number>>;
  readonly profileFile: string;
  /** The batch on the profile's clock (µs), to analyse the kept profile again. */
  readonly windowUs: { readonly startUs: number; readonly endUs: number };
}

export interface OverheadResults {
  readonly baseline: string;
  /** The transform alone, per 1 MP image, in a worker-like process with the container's settings. */
  readonly transformOnly: { readonly wallMs: Summary; readonly cpuMs: Summary };
  readonly builds: readonly BuildResult[];
  readonly profiles: readonly ProfileResult[];
}

/** The baseline's tree from `git archive <rev>`, compiled like the current one. */
export function compileRevision(rev: string): { readonly compiled: CompiledTree; remove(): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "image-pipeline-baseline-"));
  try {
    const commit = execFileSync("git", ["-C", REPO_ROOT, "rev-parse", "--verify", `${rev}^{commit}`], { encoding: "utf8" }).trim();
    const tar = execFileSync("git", ["-C", REPO_ROOT, "archive", "--format=tar", commit], {
      maxBuffer: 256 * 2 ** 20,
    });
    execFileSync("tar", ["-x", "-C", root], { input: tar });
    const compiled = compileTree(["worker"], root);
    return {
      compiled,
      remove: () => {
        compiled.remove();
        fs.rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`--baseline ${rev}: cannot build that revision's worker: ${(err as Error).message}`);
  }
}

export interface OverheadOptions {
  readonly compiled: CompiledTree;
  readonly baseline: string;
  /** The container's allocator settings, for the workers and the transform-only process. */
  readonly serviceEnv: Record<string, string>;
  readonly batch: number;
  readonly transformRounds: number;
  readonly workDir: string;
  /** Where the profiles are kept (as <keepPrefix><build>.cpuprofile), for DevTools or a second look. */
  readonly keepPrefix: string;
  readonly log: (line: string) => void;
}

async function transformOnly(options: OverheadOptions): Promise<OverheadResults["transformOnly"]> {
  const files: string[] = [];
  for (let i = 0; i < 10; i++) {
    const g = await generateImage({ ...STANDARD_IMAGES.jpeg1mp, name: `1mp-${i}`, seed: 100 + i });
    const file = path.join(options.workDir, `overhead-1mp-${i}.jpg`);
    fs.writeFileSync(file, g.data);
    files.push(file);
  }
  const probe = await forkProbe<ProbeRequest, ProbeReply>(options.compiled.resolve("bench/probes/transform-probe.ts"), {
    ...options.compiled.env,
    ...options.serviceEnv,
  });
  try {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (const file of files) await probe.request({ type: "time", file, iterations: 2 }); // warm-up
    for (let round = 0; round < options.transformRounds; round++) {
      for (const file of files) {
        const reply = await probe.request({ type: "time", file, iterations: 1 });
        if (reply.type !== "time") throw new Error(`transform probe answered ${reply.type}`);
        for (const s of reply.samples) {
          wall.push(s.wallMs);
          cpu.push(s.cpuMs);
        }
      }
    }
    return { wallMs: summarize(wall), cpuMs: summarize(cpu) };
  } finally {
    await probe.close();
  }
}

export function buildResult(r: OverheadRunResult): BuildResult {
  return {
    build: r.build,
    images: r.images,
    failed: r.failed,
    throughput: r.throughput,
    cpuPerImageMs: r.cpuMs / r.images,
    mainThreadPerImageMs: r.mainThreadCpuMs / r.images,
    processMs: summarize(r.processMs),
    transformMs: summarize(r.transformMs),
  };
}

export function profileResult(r: OverheadRunResult, profile: CpuProfile): ProfileResult {
  if (!r.windowUs || !r.profileFile) throw new Error(`run of ${r.build} was not profiled`);
  const b = profileBreakdown(profile, r.windowUs);
  if (b.samples === 0) throw new Error(`${r.profileFile}: no sample inside the batch window (is the profile on the monotonic clock?)`);
  return {
    build: r.build,
    images: r.images,
    perImageMs: Object.fromEntries(CATEGORIES.map((c) => [c, b.ms[c] / r.images])) as Record<Category, number>,
    otherThreadsPerImageMs: (r.cpuMs - r.mainThreadCpuMs) / r.images,
    mainThreadPerImageMs: r.mainThreadCpuMs / r.images,
    threadsPerImageMs: Object.fromEntries(Object.entries(r.threadsCpuMs).map(([k, v]) => [k, v / r.images])),
    profileFile: r.profileFile,
    windowUs: r.windowUs,
  };
}

export async function measureOverhead(options: OverheadOptions): Promise<OverheadResults> {
  const baseline = compileRevision(options.baseline);
  const profileDir = fs.mkdtempSync(path.join(options.workDir, "profiles-"));
  try {
    options.log(`transform alone: 10 images x ${options.transformRounds} rounds`);
    const alone = await transformOnly(options);
    const builds: WorkerBuild[] = [
      { label: `baseline ${options.baseline}`, serviceDir: baseline.compiled.resolve("worker/src") },
      { label: "current", serviceDir: options.compiled.resolve("worker/src") },
    ];
    const req: OverheadRequest = {
      type: "overhead",
      builds,
      // Unprofiled first (the profiler's own cost stays out of the CPU figures), alternating builds.
      runs: [...builds.map((b) => ({ build: b.label, profile: false })), ...builds.map((b) => ({ build: b.label, profile: true }))],
      env: options.serviceEnv,
      batch: options.batch,
      uploadConcurrency: 8,
      profileDir,
      timeoutMs: 300_000,
    };
    const probe = await forkProbe<OverheadRequest, OverheadReply>(
      options.compiled.resolve("bench/probes/overhead-probe.ts"),
      options.compiled.env,
    );
    let runs: OverheadRunResult[];
    try {
      const reply = await probe.request(req);
      if (reply.type !== "overhead") throw new Error(`overhead probe answered ${reply.type}`);
      runs = reply.runs;
    } finally {
      await probe.close();
    }
    const results: OverheadResults = {
      baseline: options.baseline,
      transformOnly: alone,
      builds: runs.filter((r) => !r.profile).map(buildResult),
      profiles: runs
        .filter((r) => r.profile)
        .map((r) => {
          const kept = `${options.keepPrefix}${r.build.replace(/[^\w.-]+/g, "-")}.cpuprofile`;
          fs.mkdirSync(path.dirname(kept), { recursive: true });
          fs.copyFileSync(r.profileFile as string, kept);
          return profileResult({ ...r, profileFile: kept }, JSON.parse(fs.readFileSync(kept, "utf8")) as CpuProfile);
        }),
    };
    for (const b of results.builds)
      options.log(
        `${b.build}: ${b.cpuPerImageMs.toFixed(1)} CPU ms/img (transform alone ${alone.cpuMs.median.toFixed(1)}), ${b.throughput.toFixed(1)} img/s`,
      );
    return results;
  } finally {
    baseline.remove();
    fs.rmSync(profileDir, { recursive: true, force: true });
  }
}
