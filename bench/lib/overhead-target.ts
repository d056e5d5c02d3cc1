/** The worker-overhead target, evaluated on one run's overhead section. Pure, so it is unit-tested. */
import type { OverheadResults } from "../sections/overhead";

/** The target: the worker's cost per image against the transform's alone, on CPU and on wall time, for one build. */
export function overheadVerdicts(
  o: OverheadResults,
  build = "current",
  threshold = 1.3,
): { readonly wall: { measured: string; met: boolean }; readonly cpu: { measured: string; met: boolean } } | undefined {
  const b = o.builds.find((x) => x.build === build);
  if (!b) return undefined;
  const cpu = b.cpuPerImageMs / o.transformOnly.cpuMs.median;
  const wall = b.processMs.median / o.transformOnly.wallMs.median;
  return {
    cpu: {
      measured: `${cpu.toFixed(2)}x (${b.cpuPerImageMs.toFixed(1)} worker CPU ms per image vs ${o.transformOnly.cpuMs.median.toFixed(1)} transform alone)`,
      met: cpu <= threshold,
    },
    wall: {
      measured: `${wall.toFixed(2)}x (job ${b.processMs.median.toFixed(1)} ms p50 vs transform alone ${o.transformOnly.wallMs.median.toFixed(1)} ms)`,
      met: wall <= threshold,
    },
  };
}
