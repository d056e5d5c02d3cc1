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

/**
 * CPU ms of a process's living threads, summed by thread name (/proc/<pid>/task/<tid>/comm: "node" for the
 * JavaScript thread, "V8 DefaultWorke" for V8's GC and compiler helpers, "libuv-worker" for the libuv pool,
 * libvips' and glib's own names). Threads that exited are in the process's total, not here.
 */
export function threadCpuByName(pid: number | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (pid === undefined) return out;
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const stat = parseProcStat(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8"));
      out[name] = (out[name] ?? 0) + ((stat.utime + stat.stime) * 1000) / USER_HZ;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** Per thread name, the CPU spent between two snapshots; what the process spent beyond them went to threads that exited. */
export function threadDelta(before: Record<string, number>, after: Record<string, number>, totalMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after)) out[name] = ms - (before[name] ?? 0);
  const living = Object.values(out).reduce((a, b) => a + b, 0);
  out["(threads that exited)"] = Math.max(0, totalMs - living);
  return out;
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
