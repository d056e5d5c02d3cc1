/**
 * The local stack's reaper: a process of its own that cleans up after the supervisor, however the
 * supervisor ends (a crash, a second signal, SIGKILL, its terminal closing).
 *
 * The supervisor holds the only write end of this process's stdin and writes one command per line:
 *   group <pid>     a child process group to kill if the supervisor goes away
 *   ungroup <pid>   that child has exited and was reaped by the supervisor
 *   dir <path>      a directory to remove if the supervisor goes away
 *   undir <path>    the supervisor removed it (or handed it to the user)
 *   container <json> a container to remove if the supervisor goes away: {"name", "globalArgs", "env"}, the
 *                   podman arguments and environment that reach its storage (worker/local/container.ts)
 *   uncontainer <name> the supervisor removed it
 * The kernel closes the pipe when the supervisor exits, so end of input means "the supervisor is
 * gone": every group still listed gets SIGKILL, every container still listed is removed (a container is
 * not in any of the supervisor's process groups: podman's monitor runs it) and every directory still
 * listed is removed.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import readline from "node:readline";

const groups = new Set<number>();
const dirs = new Set<string>();
const containers = new Map<string, { globalArgs: string[]; env: Record<string, string> }>();

// The reaper runs in a process group of its own; these only arrive if someone targets it on purpose,
// and it must still finish its job.
for (const sig of ["SIGHUP", "SIGINT", "SIGTERM"] as const) process.on(sig, () => undefined);

function apply(line: string): void {
  const space = line.indexOf(" ");
  if (space < 0) return;
  const verb = line.slice(0, space);
  const arg = line.slice(space + 1);
  if (verb === "group" || verb === "ungroup") {
    const pid = Number(arg);
    if (!Number.isSafeInteger(pid) || pid <= 1) return;
    if (verb === "group") groups.add(pid);
    else groups.delete(pid);
  } else if (verb === "dir") {
    dirs.add(arg);
  } else if (verb === "undir") {
    dirs.delete(arg);
  } else if (verb === "container") {
    try {
      const c = JSON.parse(arg) as { name: string; globalArgs: string[]; env: Record<string, string> };
      containers.set(c.name, { globalArgs: c.globalArgs, env: c.env });
    } catch {
      // not ours
    }
  } else if (verb === "uncontainer") {
    containers.delete(arg);
  }
}

function reap(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const [name, c] of containers)
    spawnSync("podman", [...c.globalArgs, "rm", "--force", "--time", "0", "--ignore", name], {
      env: { ...process.env, ...c.env },
      stdio: "ignore",
      timeout: 60_000,
    });
  for (const dir of dirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch (err) {
      process.stderr.write(`reaper: could not remove ${dir}: ${(err as Error).message}\n`);
    }
  }
}

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on("line", apply);
input.on("close", () => {
  reap();
  process.exit(0);
});
