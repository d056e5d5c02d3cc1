/**
 * The supervisor's side of the reaper (reaper-main.ts): registers the process groups of the children and
 * the temporary directories, so that they are killed and removed even when the supervisor cannot do it
 * itself. One reaper per supervisor process, started on first use.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { removeContainer, type ContainerEngine } from "./container";
import { NODE_CHILD_ENV, nodeScriptArgs } from "./node-entry";

export class Reaper {
  private static current?: Reaper;
  private readonly child: ChildProcess;
  private readonly groups = new Set<number>();
  private readonly dirs = new Set<string>();
  private readonly containers = new Map<string, ContainerEngine>();

  /** The reaper of this process, started if needed. */
  static get(): Reaper {
    Reaper.current ??= new Reaper();
    return Reaper.current;
  }

  private constructor() {
    this.child = spawn(process.execPath, nodeScriptArgs(__dirname, "reaper-main"), {
      env: { ...process.env, ...NODE_CHILD_ENV },
      // A group of its own: a Ctrl-C on the terminal must not take the reaper down with the supervisor.
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    this.child.on("error", () => undefined);
    this.child.stdin?.on("error", () => undefined);
    // Neither the reaper nor the pipe to it keeps the supervisor alive.
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Kill this process group (a detached child's pid) if the supervisor goes away. */
  watchGroup(pid: number): void {
    this.groups.add(pid);
    this.send(`group ${pid}`);
  }

  forgetGroup(pid: number): void {
    if (this.groups.delete(pid)) this.send(`ungroup ${pid}`);
  }

  /** Remove this directory if the supervisor goes away. */
  watchDir(dir: string): void {
    this.dirs.add(dir);
    this.send(`dir ${dir}`);
  }

  forgetDir(dir: string): void {
    if (this.dirs.delete(dir)) this.send(`undir ${dir}`);
  }

  /** Remove this container (in the engine's storage) if the supervisor goes away. */
  watchContainer(engine: ContainerEngine, name: string): void {
    this.containers.set(name, engine);
    const env = { CONTAINERS_CONF: engine.env().CONTAINERS_CONF ?? "" };
    this.send(`container ${JSON.stringify({ name, globalArgs: engine.globalArgs(), env })}`);
  }

  forgetContainer(name: string): void {
    if (this.containers.delete(name)) this.send(`uncontainer ${name}`);
  }

  /**
   * Does the reaper's job now, synchronously: SIGKILL to every watched group, then removes every
   * watched directory. For exits that cannot wait for an orderly stop (a second signal, an uncaught error).
   */
  reapNow(): void {
    for (const pid of this.groups) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.groups.clear();
    for (const [name, engine] of this.containers) removeContainer(engine, name);
    this.containers.clear();
    for (const dir of this.dirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    this.dirs.clear();
  }
}

/** A new temporary directory that is removed on every exit path of this process (see Reaper). */
export function makeTemporaryDirectory(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  Reaper.get().watchDir(dir);
  return dir;
}

export function removeTemporaryDirectory(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  Reaper.get().forgetDir(dir);
}
