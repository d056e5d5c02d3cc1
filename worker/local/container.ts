/**
 * Running the pipeline's services from the worker image instead of Node processes (`npm run local -- --image`):
 * the container engine's `run` is the supervised child, in the foreground, so that the supervisor's signals
 * reach the service (podman forwards them) and its exit is the service's exit. The container joins the host
 * network (the services listen on the ports the local stack picked, and reach PostgreSQL and the S3 server on
 * 127.0.0.1), runs read-only with only /tmp writable, and gets exactly the environment the stack gives it.
 * A container outlives a SIGKILLed engine process, so every container is named after its owner's pid and
 * removed when its process exits, and containers of owners that are gone are removed at the next start.
 */
import { spawnSync } from "node:child_process";

/** The container engine (scripts/image/podman.ts's Podman): its command, global arguments and environment. */
export interface ContainerEngine {
  globalArgs(): string[];
  env(): NodeJS.ProcessEnv;
}

export interface ContainerImage {
  readonly engine: ContainerEngine;
  /** The image reference (tag or digest). */
  readonly ref: string;
}

export const CONTAINER_NAME_PREFIX = "image-pipeline-local-";

/** The container name of a local-stack service, owned by this process. */
export function containerName(service: string, ownerPid = process.pid): string {
  return `${CONTAINER_NAME_PREFIX}${ownerPid}-${service}`;
}

/** The owner pid a container name carries, if it is one of ours. */
export function containerOwner(name: string): number | undefined {
  const m = new RegExp(`^${CONTAINER_NAME_PREFIX}(\\d+)-`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/** `podman run` arguments for one service: host network, read-only root, /tmp as tmpfs, only `envNames` passed. */
export function containerRunArgs(image: ContainerImage, name: string, command: string, envNames: readonly string[]): string[] {
  return [
    ...image.engine.globalArgs(),
    "run",
    "--rm",
    "--name",
    name,
    "--replace",
    "--network",
    "host",
    "--read-only",
    "--tmpfs",
    "/tmp:rw,nosuid,nodev,size=256m",
    // `--env NAME` without a value copies NAME from podman's own environment: no value on a command line.
    ...envNames.flatMap((n) => ["--env", n]),
    image.ref,
    command,
  ];
}

function podman(engine: ContainerEngine, args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync("podman", [...engine.globalArgs(), ...args], { env: engine.env(), encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout ?? "" };
}

/** Removes a container whatever its state (a no-op when it is gone). */
export function removeContainer(engine: ContainerEngine, name: string): void {
  podman(engine, ["rm", "--force", "--time", "0", "--ignore", name]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the local stack's containers whose owner process is gone; returns their names. */
export function removeOrphanContainers(engine: ContainerEngine): string[] {
  const list = podman(engine, ["ps", "--all", "--format", "{{.Names}}", "--filter", `name=^${CONTAINER_NAME_PREFIX}`]);
  const orphans = list.stdout
    .split("\n")
    .map((n) => n.trim())
    .filter((n) => {
      const owner = containerOwner(n);
      return owner !== undefined && !alive(owner);
    });
  for (const n of orphans) removeContainer(engine, n);
  return orphans;
}
