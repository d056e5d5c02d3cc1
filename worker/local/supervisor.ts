/**
 * How `npm run local` itself ends, whatever ends it:
 * - the first SIGINT (Ctrl-C), SIGTERM or SIGHUP (its terminal went away), or its stdout or stderr breaking
 *   (EPIPE, EIO: the reader is gone), starts an orderly stop: workers drain, then the webhook, the S3 server
 *   and PostgreSQL stop, and the temporary directory is removed;
 * - a second signal during that stop, a signal before the pipeline is up, an uncaught exception or an
 *   unhandled rejection end it at once: every child's process group gets SIGKILL and the temporary
 *   directories are removed before the process exits;
 * - killed outright (SIGKILL), it leaves that work to the reaper (reaper-main.ts).
 * Children run in process groups of their own, so a terminal's signals reach only this process.
 */
import { Reaper } from "./reaper";

export type StopReason = "SIGINT" | "SIGTERM" | "SIGHUP" | "output closed" | "done";

export class Supervisor {
  private stopFn?: () => Promise<void>;
  private stopping?: Promise<void>;
  private outputOpen = true;
  private resolveStopRequested!: (reason: StopReason) => void;
  /** Resolves with the reason when something asks the supervisor to stop. */
  readonly stopRequested = new Promise<StopReason>((r) => (this.resolveStopRequested = r));

  constructor() {
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => this.onSignal(sig));
    const onOutputError = (err: NodeJS.ErrnoException): void => {
      this.outputOpen = false;
      this.log(`output closed (${err.code ?? err.message}); stopping`);
      void this.stop("output closed");
    };
    process.stdout.on("error", onOutputError);
    process.stderr.on("error", onOutputError);
    process.on("uncaughtException", (err) => this.fail(err));
    process.on("unhandledRejection", (err) => this.fail(err));
  }

  /** Lines for the operator, on stderr while it is open. */
  log(line: string): void {
    if (!this.outputOpen) return;
    try {
      process.stderr.write(`${line}\n`);
    } catch {
      this.outputOpen = false;
    }
  }

  /** Writes to stdout unless the reader has gone. */
  print(text: string): void {
    if (!this.outputOpen) return;
    try {
      process.stdout.write(text);
    } catch {
      this.outputOpen = false;
    }
  }

  /** What an orderly stop does; until it is set, any stop request ends the process at once. */
  setStop(stop: () => Promise<void>): void {
    this.stopFn = stop;
  }

  private onSignal(sig: NodeJS.Signals): void {
    if (this.stopping || !this.stopFn) {
      this.log(`${sig} ${this.stopping ? "during shutdown" : "during start-up"}: killing every child now`);
      this.exitNow(130);
      return;
    }
    this.log(`${sig}: stopping (send it again to kill everything at once)`);
    void this.stop(sig as StopReason);
  }

  /** Orderly stop (idempotent); resolves when every child has exited and the temporary data is gone. */
  stop(reason: StopReason): Promise<void> {
    this.resolveStopRequested(reason);
    if (!this.stopFn) {
      this.exitNow(130);
      return Promise.resolve();
    }
    this.stopping ??= this.stopFn().catch((err: unknown) => {
      this.log(`orderly stop failed (${(err as Error).stack ?? String(err)}); killing every child now`);
      this.exitNow(1);
    });
    return this.stopping;
  }

  private fail(err: unknown): void {
    this.log(`supervisor error: ${(err as Error)?.stack ?? String(err)}; killing every child now`);
    this.exitNow(1);
  }

  /** SIGKILL to every child's group, temporary directories removed, then exit. Never returns. */
  exitNow(code: number): never {
    try {
      Reaper.get().reapNow();
    } finally {
      process.exit(code);
    }
  }
}
