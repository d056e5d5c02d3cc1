/**
 * One webhook or worker process of the local pipeline: the real entry point (worker/src/main.ts),
 * run through ts-node in development or as compiled JavaScript from dist/.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface ServiceProcessOptions {
  readonly name: string;
  readonly command: "webhook" | "worker";
  readonly port: number;
  readonly env: Record<string, string>;
  readonly logFile: string;
}

/** How to run main: ts-node next to the .ts sources, node next to compiled .js. */
function entryPoint(): { args: string[] } {
  const ext = path.extname(__filename);
  const main = path.resolve(__dirname, "..", "src", `main${ext}`);
  if (ext === ".ts") return { args: ["-r", require.resolve("ts-node/register/transpile-only"), main] };
  return { args: [main] };
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

export class ServiceProcess {
  private proc?: ChildProcess;
  private exitPromise?: Promise<number | null>;

  constructor(readonly options: ServiceProcessOptions) {}

  get name(): string {
    return this.options.name;
  }

  get port(): number {
    return this.options.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** WORKER_ID given to the process (recorded as locked_by on its jobs and worker_id on its events). */
  get workerId(): string {
    return this.options.env.WORKER_ID ?? "";
  }

  async start(readyTimeoutMs = 60_000): Promise<void> {
    if (this.proc) return;
    const log = fs.openSync(this.options.logFile, "a");
    const { args } = entryPoint();
    const proc = spawn(process.execPath, [...args, this.options.command], {
      cwd: path.resolve(__dirname, "..", ".."),
      env: { ...process.env, ...this.options.env, PORT: String(this.port), TS_NODE_TRANSPILE_ONLY: "true" },
      stdio: ["ignore", log, log],
      // Own process group: a Ctrl-C on the terminal reaches only the supervisor, which then drains
      // the services in order (a second signal would make them skip draining).
      detached: true,
    });
    fs.closeSync(log);
    this.proc = proc;
    running.add(proc);
    this.exitPromise = new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        running.delete(proc);
        if (this.proc === proc) this.proc = undefined;
        resolve(code ?? (signal ? 128 : null));
      });
    });
    await this.waitReady(readyTimeoutMs);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.proc) throw new Error(`${this.name} exited during start-up; see ${this.options.logFile}:\n${this.tail()}`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.name} not ready within ${timeoutMs} ms; see ${this.options.logFile}:\n${this.tail()}`);
  }

  /** Last lines of the process log, for error messages. */
  tail(lines = 20): string {
    try {
      return fs.readFileSync(this.options.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }

  /** Sends a signal without waiting (SIGKILL simulates a crash, SIGSTOP freezes it). */
  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  /** Sends SIGTERM (graceful) and waits for exit; returns the exit code. */
  async stop(sig: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (!this.proc) return null;
    const exited = this.exitPromise;
    this.proc.kill(sig);
    return (await exited) ?? null;
  }

  /** Resolves with the exit code when the process ends. */
  exited(): Promise<number | null> {
    return this.exitPromise ?? Promise.resolve(null);
  }
}
