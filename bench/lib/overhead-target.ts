/** The worker-overhead target, evaluated on one run's overhead section. Pure, so it is unit-tested. */
import type { Summary } from "./stats";
import type { OverheadResults } from "../sections/overhead";

type Verdict = { readonly measured: string; readonly met: boolean };

/**
 * The target: the worker's cost per image against the transform's alone, for one build.
 * - CPU: the worker's CPU per image over the batch (a mean: total CPU / images) against the transform alone's mean.
 * - Wall: a job's time when it has the machine to itself (the pipeline section's light load, one worker, one job in
 *   flight: event started_at to finished_at, p50) against the transform alone's median. The profile section's own
 *   batch jobs share two cores with a second job in flight, the S3 server, the database and the uploader, so their
 *   time measures the contention, not the worker; without the light-load case the wall basis is not judged.
 * - Other: no image of the batch failed (a failed image would leave CPU spent on fewer images).
 */
export function overheadVerdicts(
  o: OverheadResults,
  lightLoadJobMs?: Summary,
  build = "current",
  threshold = 1.3,
): { readonly wall?: Verdict; readonly cpu: Verdict; readonly other: Verdict } | undefined {
  const b = o.builds.find((x) => x.build === build);
  if (!b) return undefined;
  const cpu = b.cpuPerImageMs / o.transformOnly.cpuMs.mean;
  const wall = lightLoadJobMs && lightLoadJobMs.median / o.transformOnly.wallMs.median;
  return {
    cpu: {
      measured: `${cpu.toFixed(2)}x (${b.cpuPerImageMs.toFixed(1)} worker CPU ms per image vs ${o.transformOnly.cpuMs.mean.toFixed(1)} transform alone, means)`,
      met: cpu <= threshold,
    },
    wall:
      lightLoadJobMs && wall !== undefined
        ? {
            measured: `${wall.toFixed(2)}x (job at light load, 1 in flight, ${lightLoadJobMs.median.toFixed(1)} ms p50 vs transform alone ${o.transformOnly.wallMs.median.toFixed(1)} ms)`,
            met: wall <= threshold,
          }
        : undefined,
    other: { measured: `${b.images} images, ${b.failed} failed`, met: b.failed === 0 && b.images > 0 },
  };
}
