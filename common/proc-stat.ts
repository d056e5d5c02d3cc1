/** One process's line of Linux `/proc/<pid>/stat` (proc(5)), read by the benchmark's CPU accounting and the Ceph harness. */
import * as fs from "node:fs";

export interface ProcStat {
  /** Field 3: R running, S sleeping, Z zombie, ... */
  readonly state: string;
  readonly ppid: number;
  /** Fields 14-17, in clock ticks: own user and system time, and those of waited-for children. */
  readonly utime: number;
  readonly stime: number;
  readonly cutime: number;
  readonly cstime: number;
}

/** The parsed stat line; undefined when the process is gone (or /proc is not there). */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  return parseProcStat(text);
}

export function parseProcStat(text: string): ProcStat {
  // The command name (field 2) may contain spaces and parentheses: split after its last closing parenthesis.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const field = (n: number): string => fields[n - 3] ?? "";
  const num = (n: number): number => Number(field(n));
  return { state: field(3), ppid: num(4), utime: num(14), stime: num(15), cutime: num(16), cstime: num(17) };
}
