/** Process helpers that only ever touch processes by PID, after checking the PID is still the one we started. */
import * as fs from "node:fs";
import * as net from "node:net";
import { readProcStat } from "../../../common/proc-stat";

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie still answers signal 0; treat it as gone.
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

export function commandLineOf(pid: number): string[] | undefined {
  try {
    return fs
      .readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((part) => part.length > 0);
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and its command line still contains `marker` (the cluster's conf path),
 * so a recycled PID is never signalled.
 */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false;
  const argv = commandLineOf(pid);
  return argv !== undefined && argv.some((arg) => arg.includes(marker));
}

export function residentBytes(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Signals each of ours (SIGTERM unless told otherwise), wait up to graceMs for all to exit, then SIGKILL the rest. Returns the PIDs that needed SIGKILL. */
export async function terminate(
  pids: number[],
  marker: string,
  graceMs: number,
  stopSignal: NodeJS.Signals = "SIGTERM",
): Promise<number[]> {
  const ours = pids.filter((pid) => isOurProcess(pid, marker));
  for (const pid of ours) signal(pid, stopSignal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && ours.some(isAlive)) await sleep(100);
  const stubborn = ours.filter((pid) => isOurProcess(pid, marker));
  for (const pid of stubborn) signal(pid, "SIGKILL");
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline && stubborn.some(isAlive)) await sleep(50);
  const survivors = ours.filter(isAlive);
  if (survivors.length > 0) throw new Error(`processes ${survivors.join(", ")} survived SIGKILL`);
  return stubborn;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/** A port that was free on 127.0.0.1 a moment ago (the caller binds it right after). */
export function freeLoopbackPort(exclude: ReadonlySet<number> = new Set()): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => {
        if (exclude.has(port)) freeLoopbackPort(exclude).then(resolve, reject);
        else resolve(port);
      });
    });
  });
}
