/**
 * One child process of the local stack, supervised: started in a process group of its own (so that a
 * Ctrl-C on the terminal reaches only the supervisor, which then stops the children in order), registered
 * with the reaper (so that it cannot outlive the supervisor), restarted with exponential backoff when it
 * exits without being asked to, and stopped with a signal that escalates to SIGKILL after a timeout.
 * A child's failure is an event, never an exception that could take the supervisor down.
 */
import { spawn, type ChildProcess, type Serializable } from "node:child_process";
import fs from "node:fs";
import { backoffDelayMs } from "../src/backoff";
import { Reaper } from "./reaper";

export interface RestartPolicy {
  /** Delay before the first restart; doubles per consecutive failure up to maxDelayMs. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** A child that ran this long before exiting starts the backoff from the beginning again. */
  readonly resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, resetAfterMs: 60_000 };

export type SupervisorEvent =
  | { readonly type: "started"; readonly name: string; readonly pid: number; readonly incarnation: number }
  | {
      readonly type: "exited";
      readonly name: string;
      readonly pid: number;
      readonly code: number | null;
      readonly signal: string | null;
      readonly expected: boolean;
    }
  | { readonly type: "restart-scheduled"; readonly name: string; readonly delayMs: number; readonly failures: number }
  | { readonly type: "restart-failed"; readonly name: string; readonly error: string };

export interface SupervisedProcessOptions {
  readonly name: string;
  readonly command: string;
  /** Arguments and environment per incarnation (1 for the first start, 2 for the first restart, ...). */
  readonly args: (incarnation: number) => string[];
  readonly env: (incarnation: number) => NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  /** Where stdout and stderr go: appended to a file, or handed to a callback. */
  readonly output: { readonly file: string } | { readonly onData: (text: string) => void };
  /** Open an IPC channel (Node.js children only); messages go to onMessage. */
  readonly onMessage?: (message: Serializable) => void;
  /** Resolves once the child serves; rejects (or the child exits) when it does not. */
  readonly ready?: (child: SupervisedProcess) => Promise<void>;
  /** false: a child that exits stays down (PostgreSQL: the tests stop and start it on purpose). */
  readonly restart?: RestartPolicy | false;
  readonly onEvent?: (event: SupervisorEvent) => void;
}

export class SupervisedProcess {
  private proc?: ChildProcess;
  private readyProc?: ChildProcess;
  private exitPromise: Promise<number | null> = Promise.resolve(null);
  private wanted = false;
  private restartTimer?: NodeJS.Timeout;
  private failures = 0;
  private startedAt = 0;
  /** Starts so far, including restarts. */
  incarnation = 0;
  /** Restarts after unexpected exits. */
  restarts = 0;

  constructor(readonly options: SupervisedProcessOptions) {}

  get name(): string {
    return this.options.name;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** The process exists (it may still be starting). */
  get running(): boolean {
    return this.proc !== undefined;
  }

  /** The process exists and passed its readiness check. */
  get ready(): boolean {
    return this.proc !== undefined && this.readyProc === this.proc;
  }

  private emit(event: SupervisorEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // a logging failure must not stop supervision
    }
  }

  /** Starts the child (if not running) and waits until it is ready. */
  async start(): Promise<void> {
    this.wanted = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (this.proc) return;
    try {
      await this.spawnAndWait();
    } catch (err) {
      this.wanted = false;
      throw err;
    }
  }

  private async spawnAndWait(): Promise<void> {
    const n = ++this.incarnation;
    const o = this.options;
    const out = "file" in o.output ? fs.openSync(o.output.file, "a") : "pipe";
    let proc: ChildProcess;
    try {
      proc = spawn(o.command, o.args(n), {
        cwd: o.cwd,
        env: o.env(n),
        uid: o.uid,
        gid: o.gid,
        detached: true,
        stdio: o.onMessage ? ["ignore", out, out, "ipc"] : ["ignore", out, out],
      });
    } finally {
      if (typeof out === "number") fs.closeSync(out);
    }
    const pid = proc.pid;
    if (pid === undefined) {
      const error = await new Promise<Error>((resolve) => proc.once("error", resolve));
      throw new Error(`${o.name}: could not start ${o.command}: ${error.message}`);
    }
    Reaper.get().watchGroup(pid);
    this.proc = proc;
    this.startedAt = Date.now();
    proc.on("error", () => undefined);
    if ("onData" in o.output) {
      const onData = o.output.onData;
      proc.stdout?.on("data", (d: Buffer) => onData(d.toString()));
      proc.stderr?.on("data", (d: Buffer) => onData(d.toString()));
    }
    if (o.onMessage) {
      const onMessage = o.onMessage;
      proc.on("message", (m) => onMessage(m));
    }
    this.exitPromise = new Promise((resolve) => {
      proc.once("exit", (code, signal) => {
        Reaper.get().forgetGroup(pid);
        // Whatever the child left in its group (e.g. PostgreSQL's backends) goes with it.
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // group already empty
        }
        if (this.proc === proc) this.proc = undefined;
        const expected = !this.wanted;
        this.emit({ type: "exited", name: o.name, pid, code, signal, expected });
        resolve(code ?? (signal ? 128 : null));
        if (!expected) this.scheduleRestart();
      });
    });
    this.emit({ type: "started", name: o.name, pid, incarnation: n });
    try {
      await o.ready?.(this);
      this.readyProc = proc;
    } catch (err) {
      if (this.proc === proc) {
        // Not ready in time: this start failed; stop what is left of it.
        const wanted = this.wanted;
        this.wanted = false;
        this.signalGroup("SIGKILL");
        await this.exitPromise;
        this.wanted = wanted;
      }
      throw err;
    }
  }

  private scheduleRestart(): void {
    const policy = this.options.restart === undefined ? DEFAULT_RESTART_POLICY : this.options.restart;
    if (!policy || !this.wanted) return;
    if (Date.now() - this.startedAt >= policy.resetAfterMs) this.failures = 0;
    this.failures++;
    const delayMs = backoffDelayMs(this.failures - 1, { initialMs: policy.initialDelayMs, maxMs: policy.maxDelayMs });
    this.emit({ type: "restart-scheduled", name: this.name, delayMs, failures: this.failures });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.wanted || this.proc) return;
      this.restarts++;
      this.spawnAndWait().catch((err: unknown) => {
        this.emit({ type: "restart-failed", name: this.name, error: (err as Error).message });
        if (!this.proc) this.scheduleRestart();
      });
    }, delayMs);
  }

  /** Sends a signal to the child without waiting (SIGKILL simulates a crash, SIGSTOP freezes it). */
  signal(sig: NodeJS.Signals): void {
    try {
      this.proc?.kill(sig);
    } catch {
      // exited meanwhile
    }
  }

  /** Sends a signal to the child's whole process group. */
  signalGroup(sig: NodeJS.Signals): void {
    const pid = this.proc?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // exited meanwhile
    }
  }

  /**
   * Stops the child on purpose (no restart): sends `sig`, waits up to `timeoutMs`, then SIGKILLs its
   * group. Returns the exit code (128 for a signal), or null when it was not running.
   */
  async stop(sig: NodeJS.Signals = "SIGTERM", timeoutMs = 30_000): Promise<number | null> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (!this.proc) return null;
    const exited = this.exitPromise;
    if (sig === "SIGKILL") this.signalGroup("SIGKILL");
    else this.signal(sig);
    // The child may have stopped itself with SIGSTOP in a test; it cannot handle sig until continued.
    this.signal("SIGCONT");
    const escalate = setTimeout(() => this.signalGroup("SIGKILL"), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(escalate);
    }
  }

  /** Resolves with the exit code when the current process ends. */
  exited(): Promise<number | null> {
    return this.exitPromise;
  }

  send(message: Serializable): void {
    if (this.proc?.connected) this.proc.send(message);
  }
}
