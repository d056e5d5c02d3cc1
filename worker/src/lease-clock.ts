/**
 * How long this process can be sure it still holds a job's lease: until the last successful renewal's send
 * time plus the visibility timeout (the database set locked_until after that moment, so this is never late).
 * Renewals that keep failing (the database is unreachable) let it run out; an irreversible step (the
 * upload) must finish before then, or another worker may already own the job.
 */
export class LeaseClock {
  private until: number;

  constructor(
    private readonly visibilityTimeoutMs: number,
    claimedAt: number = Date.now(),
  ) {
    this.until = claimedAt + visibilityTimeoutMs;
  }

  /** A renewal (or another lease-extending write) sent at `sentAt` succeeded. */
  renewed(sentAt: number): void {
    this.until = Math.max(this.until, sentAt + this.visibilityTimeoutMs);
  }

  /** Milliseconds the lease is certainly held for, keeping a safety margin of a tenth of the timeout. */
  remainingMs(now: number = Date.now()): number {
    return this.until - Math.max(200, this.visibilityTimeoutMs / 10) - now;
  }
}
