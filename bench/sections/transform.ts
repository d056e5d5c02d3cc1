/**
 * Transform against its limit and its alternatives, per core: the worker's transform (in a
 * worker-like process with one libvips thread), the `vips invert` CLI (the same library with nothing
 * on top: the limit) and ImageMagick `convert -negate` (what a seed-era VM script would run), all with
 * the same output settings. The tools are interleaved round by round, in rotating order, so load from
 * elsewhere on a shared machine hits all three alike.
 */
import fs from "node:fs";
import path from "node:path";
import { forkProbe, timeCommand, type CommandSample } from "../lib/child";
import type { CompiledTree } from "../lib/compile";
import { settingByName, settingEnv, CONTAINER_SETTING_NAME } from "../lib/container";
import type { ImageSpec } from "../lib/images";
import { summarize, type Summary } from "../lib/stats";
import type { Tool } from "../lib/tools";
import type { ProbeReply, ProbeRequest, TransformVariant } from "../probes/transform-probe";

/** "worker-before-fix": the worker's JPEG pipeline with sharp's default encoder options (see transform-probe.ts). */
export type TransformTool = "worker" | "worker-before-fix" | "vips" | "imagemagick";

export interface TransformCase {
  readonly image: string;
  readonly megapixels: number;
  readonly tool: TransformTool;
  readonly wallMs: Summary;
  readonly cpuMs: Summary;
}

export interface StartupCost {
  readonly tool: "vips" | "imagemagick";
  readonly wallMs: Summary;
}

export interface TransformResults {
  readonly cases: TransformCase[];
  /** Process start-up cost of each CLI, from transforming a 1x1 image; part of every CLI sample. */
  readonly startup: StartupCost[];
  readonly workerSetting: string;
}

export interface BenchImage {
  readonly spec: ImageSpec;
  readonly file: string;
  readonly megapixels: number;
}

export interface TransformOptions {
  readonly compiled: CompiledTree;
  readonly images: readonly BenchImage[];
  readonly vips: Tool;
  readonly imagemagick: Tool;
  readonly jemalloc?: string;
  readonly workDir: string;
  /** Rounds per image (each round times every tool once). */
  readonly rounds: (image: BenchImage) => number;
  readonly log: (line: string) => void;
}

/**
 * Output settings matching the worker's: JPEG quality 90 without Huffman optimisation, PNG zlib level 6.
 * ImageMagick negates only the colour channels, like the worker; `vips invert` negates every band
 * including alpha, which costs the same.
 */
function vipsArgs(input: string, output: string, format: ImageSpec["format"]): string[] {
  return ["invert", input, format === "jpeg" ? `${output}[Q=90]` : `${output}[compression=6]`];
}

function convertArgs(input: string, output: string, format: ImageSpec["format"]): string[] {
  const encode = format === "jpeg" ? ["-quality", "90"] : ["-define", "png:compression-level=6"];
  return ["-limit", "thread", "1", input, "-channel", "RGB", "-negate", "+channel", ...encode, output];
}

/** One libvips / ImageMagick thread: the comparison is per core. */
const ONE_THREAD = { VIPS_CONCURRENCY: "1", MAGICK_THREAD_LIMIT: "1", OMP_NUM_THREADS: "1" };

export async function measureTransform(options: TransformOptions): Promise<TransformResults> {
  const setting = settingByName(CONTAINER_SETTING_NAME);
  const probe = await forkProbe<ProbeRequest, ProbeReply>(options.compiled.resolve("bench/probes/transform-probe.ts"), {
    ...options.compiled.env,
    ...settingEnv(setting, options.jemalloc),
    ...ONE_THREAD,
  });
  try {
    if (probe.ready.type !== "ready" || probe.ready.sharpConcurrency !== 1) {
      throw new Error(`the transform probe must run one libvips thread; it reports ${JSON.stringify(probe.ready)}`);
    }
    const cases: TransformCase[] = [];
    for (const image of options.images) {
      const ext = image.spec.format === "jpeg" ? "jpg" : "png";
      const out = (tool: string): string => path.join(options.workDir, `${image.spec.name}.${tool}.out.${ext}`);
      const inProcess = (variant: TransformVariant) => async (): Promise<CommandSample> => {
        const reply = await probe.request({ type: "time", file: image.file, iterations: 1, variant });
        if (reply.type !== "time") throw new Error(`probe answered ${reply.type} to a time request`);
        return reply.samples[0];
      };
      const runners: Partial<Record<TransformTool, () => Promise<CommandSample>>> = {
        worker: inProcess("worker"),
        ...(image.spec.format === "jpeg" ? { "worker-before-fix": inProcess("before-fix") } : {}),
        vips: () => timeCommand(options.vips.path, vipsArgs(image.file, out("vips"), image.spec.format), ONE_THREAD),
        imagemagick: () => timeCommand(options.imagemagick.path, convertArgs(image.file, out("magick"), image.spec.format), ONE_THREAD),
      };
      const tools = Object.keys(runners) as TransformTool[];
      const run = (tool: TransformTool): Promise<CommandSample> => (runners[tool] as () => Promise<CommandSample>)();
      for (const tool of tools) await run(tool); // warm-up: page cache, lazy loading
      const samples = Object.fromEntries(tools.map((t) => [t, [] as CommandSample[]])) as Record<TransformTool, CommandSample[]>;
      const rounds = options.rounds(image);
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < tools.length; i++) {
          const tool = tools[(round + i) % tools.length];
          samples[tool].push(await run(tool));
        }
      }
      for (const tool of tools) {
        const c: TransformCase = {
          image: image.spec.name,
          megapixels: image.megapixels,
          tool,
          wallMs: summarize(samples[tool].map((s) => s.wallMs)),
          cpuMs: summarize(samples[tool].map((s) => s.cpuMs)),
        };
        cases.push(c);
        options.log(
          `transform ${image.spec.name} ${tool}: median ${c.wallMs.median.toFixed(1)} ms wall, ${c.cpuMs.median.toFixed(0)} ms CPU (n=${c.wallMs.n})`,
        );
      }
      for (const tool of ["vips", "magick"]) fs.rmSync(out(tool), { force: true });
    }
    return { cases, startup: await measureStartup(options), workerSetting: setting.name };
  } finally {
    await probe.close();
  }
}

async function measureStartup(options: TransformOptions): Promise<StartupCost[]> {
  const tiny = path.join(options.workDir, "startup-1x1.jpg");
  const sharp = (await import("sharp")).default;
  await sharp({ create: { width: 1, height: 1, channels: 3, background: "#808080" } })
    .jpeg()
    .toFile(tiny);
  const out = path.join(options.workDir, "startup-out.jpg");
  const n = 15;
  const vips: number[] = [];
  const magick: number[] = [];
  for (let i = 0; i < n; i++) {
    vips.push((await timeCommand(options.vips.path, vipsArgs(tiny, out, "jpeg"), ONE_THREAD)).wallMs);
    magick.push((await timeCommand(options.imagemagick.path, convertArgs(tiny, out, "jpeg"), ONE_THREAD)).wallMs);
  }
  return [
    { tool: "vips", wallMs: summarize(vips) },
    { tool: "imagemagick", wallMs: summarize(magick) },
  ];
}
