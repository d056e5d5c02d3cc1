/** Pure parts of the queue benchmark: how claimers are spread over processes, and the exactly-once check. */

/** Splits `claimers` over at most `processes` processes as evenly as possible (16 over 2: 8 and 8; 1 over 2: 1). */
export function spreadClaimers(claimers: number, processes: number): number[] {
  if (!Number.isInteger(claimers) || claimers < 1) throw new Error(`claimers must be a positive integer, got ${claimers}`);
  if (!Number.isInteger(processes) || processes < 1) throw new Error(`processes must be a positive integer, got ${processes}`);
  const n = Math.min(claimers, processes);
  return Array.from({ length: n }, (_, i) => Math.floor(claimers / n) + (i < claimers % n ? 1 : 0));
}

export interface ClaimCount {
  /** Job ids handed out more than once, over every claimer. */
  readonly claimedTwice: number[];
  /** Enqueued job ids nobody claimed. */
  readonly neverClaimed: number[];
  /** Claimed ids that were never enqueued. */
  readonly unknown: number[];
}

/** Counts claims per job id: every enqueued job must be claimed exactly once. */
export function countClaims(enqueued: readonly number[], claimed: readonly number[]): ClaimCount {
  const times = new Map<number, number>();
  for (const id of claimed) times.set(id, (times.get(id) ?? 0) + 1);
  const known = new Set(enqueued);
  return {
    claimedTwice: [...times].filter(([, n]) => n > 1).map(([id]) => id),
    neverClaimed: enqueued.filter((id) => !times.has(id)),
    unknown: [...times.keys()].filter((id) => !known.has(id)),
  };
}
