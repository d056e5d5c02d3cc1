/**
 * The claim loop: keeps up to `concurrency` jobs in flight, sleeps until LISTEN/NOTIFY (or the next
 * scheduled retry / lease expiry) says there is work, renews leases while jobs run, and drains on stop.
 */
import type { Logger } from "pino";
import { LeaseClock } from "./lease-clock";
import { LeaseLostError, type Job, type JobQueue } from "./queue";
import { ShutdownError } from "./process-job";

/** A wake-up signal that is not lost when fired while nobody waits. */
export class Wakeup {
  private pending = false;
  private waiter?: () => void;

  fire(): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w();
    } else {
      this.pending = true;
    }
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, ms);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

export interface WorkerRunnerOptions {
  readonly queue: JobQueue;
  readonly workerId: string;
  readonly concurrency: number;
  readonly logger: Logger;
  /** Works on one job; `lease` says how long the lease is certainly held (renewals update it). */
  readonly handle: (job: Job, signal: AbortSignal, lease: LeaseClock) => Promise<unknown>;
  /** Safety net against a missed notification; not the happy path. */
  readonly idlePollMs?: number;
  readonly onInFlightChange?: (n: number) => void;
}

interface Running {
  readonly job: Job;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export class WorkerRunner {
  private readonly wakeup = new Wakeup();
  private readonly running = new Map<number, Running>();
  private stopping = false;
  private loopDone?: Promise<void>;
  private readonly idlePollMs: number;
  /** Claims made; exposed for tests and metrics. */
  claims = 0;

  constructor(private readonly opts: WorkerRunnerOptions) {
    this.idlePollMs = opts.idlePollMs ?? 30_000;
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Called by the LISTEN connection: there may be new work. */
  notify(): void {
    this.wakeup.fire();
  }

  get inFlight(): number {
    return this.running.size;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  private async loop(): Promise<void> {
    const { queue, logger } = this.opts;
    let errorDelay = 250;
    while (!this.stopping) {
      const free = this.opts.concurrency - this.running.size;
      if (free <= 0) {
        await this.wakeup.wait(this.idlePollMs);
        continue;
      }
      let jobs: Job[];
      // The database starts each lease after this moment, so leases measured from it are never overestimated.
      const claimSentAt = Date.now();
      try {
        jobs = await queue.claim(this.opts.workerId, free);
        errorDelay = 250;
      } catch (err) {
        logger.warn({ err, retryInMs: errorDelay }, "claim failed");
        await this.wakeup.wait(errorDelay);
        errorDelay = Math.min(errorDelay * 2, 5_000);
        continue;
      }
      if (this.stopping) {
        // Claimed while stop() was called: hand them straight back.
        await Promise.all(jobs.map((j) => queue.release(j).catch(() => false)));
        break;
      }
      this.claims += jobs.length;
      for (const job of jobs) this.run(job, claimSentAt);
      if (jobs.length === free) continue;
      let waitMs = this.idlePollMs;
      try {
        const next = await queue.msUntilNextWake();
        if (next !== null) waitMs = Math.min(waitMs, Math.max(next, 10));
      } catch {
        waitMs = errorDelay;
      }
      await this.wakeup.wait(waitMs);
    }
  }

  private run(job: Job, claimSentAt: number): void {
    const { queue, logger } = this.opts;
    const controller = new AbortController();
    const visibilityMs = queue.options.visibilityTimeoutSeconds * 1000;
    const lease = new LeaseClock(visibilityMs, claimSentAt);
    const renewEvery = Math.max(500, visibilityMs / 3);
    const renew = setInterval(() => {
      const sentAt = Date.now();
      queue.renewLease(job).then(
        (held) => {
          if (held) lease.renewed(sentAt);
          else if (!controller.signal.aborted) controller.abort(new LeaseLostError(job.id));
        },
        (err: unknown) => logger.warn({ jobId: job.id, err }, "lease renewal failed; will retry"),
      );
    }, renewEvery);
    const done = this.opts
      .handle(job, controller.signal, lease)
      .then(
        () => undefined,
        (err: unknown) => logger.error({ jobId: job.id, err }, "job handler crashed"),
      )
      .finally(() => {
        clearInterval(renew);
        this.running.delete(job.id);
        this.opts.onInFlightChange?.(this.running.size);
        this.wakeup.fire();
      });
    this.running.set(job.id, { job, controller, done });
    this.opts.onInFlightChange?.(this.running.size);
  }

  /**
   * Stops claiming, lets in-flight jobs finish for up to graceMs, then aborts the rest (they are
   * released back to the queue without counting the attempt).
   */
  async stop(graceMs: number): Promise<{ finished: number; released: number }> {
    this.stopping = true;
    this.wakeup.fire();
    await this.loopDone;
    const before = this.running.size;
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
    clearTimeout(timer);
    const released = timedOut ? this.running.size : 0;
    if (timedOut) for (const r of this.running.values()) r.controller.abort(new ShutdownError());
    await all;
    return { finished: before - released, released };
  }
}
