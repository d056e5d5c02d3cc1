import { parseProcStat, readProcStat } from "../../common/proc-stat";

describe("/proc/<pid>/stat", () => {
  test("this process: running, with its real parent", () => {
    const stat = readProcStat(process.pid);
    expect(stat?.state).toBe("R");
    expect(stat?.ppid).toBe(process.ppid);
    expect(stat!.utime + stat!.stime).toBeGreaterThan(0);
  });

  test("a command name with spaces and parentheses does not shift the fields", () => {
    const rest = ["Z", "42", ...Array.from({ length: 9 }, () => "0"), "7", "8", "9", "10"];
    expect(parseProcStat(`1234 (a) b (c)) ${rest.join(" ")} 20 0 1\n`)).toEqual({
      state: "Z",
      ppid: 42,
      utime: 7,
      stime: 8,
      cutime: 9,
      cstime: 10,
    });
  });

  test("a process that is gone reads as undefined", () => {
    expect(readProcStat(2 ** 22 + 1)).toBeUndefined();
  });
});
