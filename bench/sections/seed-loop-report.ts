/** The hand-built loop's section of `npm run bench`: its own figures, then side by side with the pipeline's 1 worker x 1. */
import { STEPS, type Step } from "../lib/seed-loop";
import { markdownTable } from "../lib/table";

const STEP_NAMES: Readonly<Record<Step, string>> = {
  get: "s3cmd get",
  convert: "convert -negate",
  put: "s3cmd put",
  psql: "psql INSERT",
};
import { compareWithPipeline, pipelinePerCore, seedLoopComplete, seedLoopCpu, type PipelinePerCore, type SeedLoopCase } from "./seed-loop";

export function seedLoopReport(c: SeedLoopCase, pipeline: Parameters<typeof pipelinePerCore>[0]): string {
  const k = c.cpuPerImageMs;
  const cpu = seedLoopCpu(c);
  const loop = markdownTable(
    [
      "loops (cores)",
      "images",
      "img/s",
      "img/s per core",
      "per image wall ms p50/p95/p99/max",
      "CPU ms/img: commands + shells",
      "PostgreSQL",
      "S3 server",
      "total",
      "complete",
    ],
    [
      [
        String(c.loops),
        String(c.images),
        c.throughput.toFixed(1),
        c.perCoreRate.toFixed(1),
        [c.imageWallMs.median, c.imageWallMs.p95, c.imageWallMs.p99, c.imageWallMs.max].map((v) => v.toFixed(0)).join(" / "),
        `${cpu.loop.toFixed(1)} (${k.tools.toFixed(1)} + ${k.shells.toFixed(1)})`,
        k.postgres.toFixed(1),
        k.s3.toFixed(1),
        cpu.withServers.toFixed(1),
        seedLoopComplete(c)
          ? `yes: ${c.rowsLogged} rows, ${c.outputsWritten} outputs`
          : `NO: ${c.rowsLogged} rows, ${c.outputsWritten} outputs, inversion ${c.inversionCheck.map((v) => v.toFixed(0)).join("/")}`,
      ],
    ],
  );
  const steps = markdownTable(
    ["per image", ...STEPS.map((step) => STEP_NAMES[step])],
    [
      ["wall ms (mean)", ...STEPS.map((step) => c.stepsPerImage[step].wallMs.toFixed(0))],
      ["CPU ms (mean)", ...STEPS.map((step) => c.stepsPerImage[step].cpuMs.toFixed(0))],
    ],
  );
  const own = `${loop}\n\nEach command, from bash's \`time\`:\n\n${steps}`;
  const one: PipelinePerCore | undefined = pipelinePerCore(pipeline, c.loops);
  if (!one) return `${own}\n\nNo side-by-side comparison: the pipeline section did not run (add pipeline to --only).`;
  const cmp = compareWithPipeline(c, one);
  const side = markdownTable(
    ["", "img/s per core", "CPU ms/img (every process)", "img per CPU-s"],
    [
      [
        `pipeline, ${one.workers} worker${one.workers === 1 ? "" : "s"} x 1 job (${one.throughput.toFixed(1)} img/s / ${one.workers})`,
        cmp.wall.pipeline.toFixed(1),
        cmp.pipelineCpuMs.toFixed(1),
        cmp.cpu.pipeline.toFixed(1),
      ],
      [`hand-built loop (${c.loops} loops / ${c.loops})`, cmp.wall.loop.toFixed(1), cmp.loopCpuMs.toFixed(1), cmp.cpu.loop.toFixed(1)],
      ["pipeline / loop", `${(cmp.wall.pipeline / cmp.wall.loop).toFixed(2)}x`, "", `${(cmp.cpu.pipeline / cmp.cpu.loop).toFixed(2)}x`],
    ],
  );
  return `${own}\n\nSide by side (same run, same S3 server and database, same images):\n\n${side}`;
}
