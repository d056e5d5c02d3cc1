/** CPU time and memory of processes from Linux /proc, for accounting a pipeline's cost per image by component. */
import fs from "node:fs";
import { parseProcStat, readProcStat } from "../../common/proc-stat";

/** Kernel clock ticks per second (USER_HZ); 100 on every Linux architecture Node supports. */
const USER_HZ = 100;

interface Stat {
  readonly ppid: number;
  /** Own user + system CPU, ms. */
  readonly cpuMs: number;
  /** User + system CPU of children that exited and were waited for, ms. */
  readonly reapedChildrenMs: number;
}

export function readStat(pid: number): Stat | undefined {
  const stat = readProcStat(pid);
  if (!stat) return undefined;
  return {
    ppid: stat.ppid,
    cpuMs: ((stat.utime + stat.stime) * 1000) / USER_HZ,
    reapedChildrenMs: ((stat.cutime + stat.cstime) * 1000) / USER_HZ,
  };
}

/** CPU ms of a process; with `tree`, plus its live children's and the exited children it reaped (a PostgreSQL postmaster and its backends). */
export function cpuMs(pid: number | undefined, tree = false): number {
  if (pid === undefined) return NaN;
  const own = readStat(pid);
  if (!own) return NaN;
  if (!tree) return own.cpuMs;
  let total = own.cpuMs + own.reapedChildrenMs;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const child = readStat(Number(entry));
    if (child?.ppid === pid) total += child.cpuMs;
  }
  return total;
}

/**
 * CPU ms of a process's main thread (the JavaScript thread of a Node process: its task id is the pid); the
 * process's total minus this is its other threads' (libvips, the libuv pool, V8's helpers), living or exited.
 */
export function mainThreadCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = parseProcStat(fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8"));
    return ((stat.utime + stat.stime) * 1000) / USER_HZ;
  } catch {
    return NaN;
  }
}

export function peakRssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? NaN : Number(kib) / 1024;
  } catch {
    return NaN;
  }
}
