/** Order statistics for benchmark samples. Percentiles use the nearest-rank method, so every reported value is a sample that was actually observed. */

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly p25: number;
  readonly median: number;
  readonly p75: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** The nearest-rank percentile (0 < p <= 100) of ascending-sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("percentile of an empty sample set");
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error("cannot summarize zero samples");
  for (const s of samples) if (!Number.isFinite(s)) throw new Error(`sample ${s} is not a finite number`);
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0],
    p25: percentile(sorted, 25),
    median: percentile(sorted, 50),
    p75: percentile(sorted, 75),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

/** Spread as the interquartile range relative to the median, e.g. 0.04 for ±2 %. */
export function relativeSpread(s: Summary): number {
  return s.median === 0 ? 0 : (s.p75 - s.p25) / s.median;
}

/** Throughput (items per second) from the median duration in milliseconds of one item. */
export function ratePerSecond(durationMs: Summary): number {
  return 1000 / durationMs.median;
}
