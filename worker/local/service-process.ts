/**
 * One webhook or worker process of the local pipeline: the real entry point (worker/src/main.ts), run
 * through ts-node in development or as compiled JavaScript from dist/, supervised (restarted with
 * backoff after a crash, never outliving the supervisor). A restarted worker gets a new WORKER_ID
 * (`<id>-r<n>`), as a restarted pod's process does (its default id carries the pid).
 */
import fs from "node:fs";
import path from "node:path";
import { containerName, containerRunArgs, removeContainer, type ContainerImage } from "./container";
import { NODE_CHILD_ENV, nodeScriptArgs } from "./node-entry";
import { Reaper } from "./reaper";
import { SupervisedProcess, type RestartPolicy, type SupervisorEvent } from "./supervised-process";

export interface ServiceProcessOptions {
  readonly name: string;
  readonly command: "webhook" | "worker";
  readonly port: number;
  readonly env: Record<string, string>;
  readonly logFile: string;
  readonly readyTimeoutMs?: number;
  readonly restart?: RestartPolicy | false;
  readonly onSupervisorEvent?: (event: SupervisorEvent) => void;
  /** Run the service from this image (worker/local/container.ts) instead of as a Node process. */
  readonly image?: ContainerImage;
  /** Directory of the entry point (main.ts or main.js); default worker/src next to this file. The benchmark runs another build's worker from it. */
  readonly serviceDir?: string;
  /** Options for node before the script (e.g. --cpu-prof, which NODE_OPTIONS does not accept); not with `image`. */
  readonly nodeArgs?: readonly string[];
}

export class ServiceProcess {
  readonly process: SupervisedProcess;

  constructor(readonly options: ServiceProcessOptions) {
    const image = options.image;
    const serviceEnv = (n: number): Record<string, string> => ({ ...this.envFor(n), PORT: String(options.port) });
    this.container = image ? containerName(options.name) : undefined;
    this.process = new SupervisedProcess({
      name: options.name,
      ...(image
        ? {
            command: "podman",
            args: (n) => containerRunArgs(image, this.container!, options.command, Object.keys(serviceEnv(n))),
            env: (n) => ({ ...image.engine.env(), ...serviceEnv(n) }),
          }
        : {
            command: process.execPath,
            args: () => [
              ...(options.nodeArgs ?? []),
              ...nodeScriptArgs(options.serviceDir ?? path.resolve(__dirname, "..", "src"), "main"),
              options.command,
            ],
            env: (n) => ({ ...process.env, ...NODE_CHILD_ENV, ...serviceEnv(n) }),
          }),
      cwd: path.resolve(__dirname, "..", ".."),
      output: { file: options.logFile },
      ready: () => this.waitReady(options.readyTimeoutMs ?? 60_000),
      restart: options.restart,
      onEvent: (event) => {
        if (image && event.type === "started") Reaper.get().watchContainer(image.engine, this.container!);
        // The engine process is gone (on purpose or not); its container must not outlive it.
        if (image && event.type === "exited") {
          removeContainer(image.engine, this.container!);
          Reaper.get().forgetContainer(this.container!);
        }
        options.onSupervisorEvent?.(event);
      },
    });
  }

  /** The container's name when the service runs from the image. */
  readonly container?: string;

  private envFor(incarnation: number): Record<string, string> {
    const env = { ...this.options.env };
    if (env.WORKER_ID && incarnation > 1) env.WORKER_ID = `${env.WORKER_ID}-r${incarnation - 1}`;
    return env;
  }

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
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Running and past its readiness check. */
  get ready(): boolean {
    return this.process.ready;
  }

  /** WORKER_ID of the current process (recorded as locked_by on its jobs and worker_id on its events). */
  get workerId(): string {
    return this.envFor(Math.max(1, this.process.incarnation)).WORKER_ID ?? "";
  }

  async start(): Promise<void> {
    await this.process.start();
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.process.running) throw new Error(`${this.name} exited during start-up; see ${this.options.logFile}:\n${this.tail()}`);
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

  /** Sends a signal without waiting (SIGKILL simulates a crash, which the supervisor answers with a restart; SIGSTOP freezes it). */
  signal(sig: NodeJS.Signals): void {
    this.process.signal(sig);
  }

  /** Stops the process on purpose (SIGTERM drains) and waits for its exit; returns the exit code. */
  async stop(sig: NodeJS.Signals = "SIGTERM", timeoutMs = 60_000): Promise<number | null> {
    return this.process.stop(sig, timeoutMs);
  }

  /** Resolves with the exit code when the current process ends. */
  exited(): Promise<number | null> {
    return this.process.exited();
  }
}
