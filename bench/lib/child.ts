/** Child processes for the benchmark: forked compiled probes, and external commands timed with their CPU use. */
import { fork, spawn, type ChildProcess } from "node:child_process";

export interface ForkedProbe<Req, Reply> {
  readonly process: ChildProcess;
  /** The first message the probe sends (its "ready" report). */
  readonly ready: Reply;
  request(req: Req): Promise<Reply>;
  close(): Promise<void>;
}

/** Forks a compiled probe and waits for its first message. */
export async function forkProbe<Req, Reply extends { type: string; message?: string }>(
  script: string,
  env: Record<string, string>,
): Promise<ForkedProbe<Req, Reply>> {
  const child = fork(script, [], { env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code, signal) => reject(new Error(`probe ${script} exited (code ${code}, signal ${signal})`))),
  );
  exited.catch(() => undefined);
  const nextMessage = (): Promise<Reply> =>
    Promise.race([
      new Promise<Reply>((resolve, reject) =>
        child.once("message", (m: Reply) => (m.type === "error" ? reject(new Error(`probe ${script}: ${m.message}`)) : resolve(m))),
      ),
      exited,
    ]);
  const ready = await nextMessage();
  return {
    process: child,
    ready,
    request: (req) => {
      const reply = nextMessage();
      child.send(req as object);
      return reply;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export interface CommandSample {
  readonly wallMs: number;
  /** user + system CPU time of the command and its children, from the shell's `times`. */
  readonly cpuMs: number;
}

/** Parses `times` output ("0m0.012s 0m0.004s" twice); the second line is the children's user and system time. */
export function parseTimes(output: string): number {
  const lines = output
    .trim()
    .split("\n")
    .filter((l) => /\d+m[\d.]+s/.test(l));
  const children = lines[lines.length - 1];
  if (!children) throw new Error(`no CPU times in shell output: ${JSON.stringify(output)}`);
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (seconds.length !== 2) throw new Error(`expected user and system time, got: ${children}`);
  return (seconds[0] + seconds[1]) * 1000;
}

/** Runs a command once; fails with its stderr if it exits non-zero. */
export function timeCommand(file: string, args: readonly string[], env: Record<string, string> = {}): Promise<CommandSample> {
  return new Promise((resolve, reject) => {
    // The shell's `times` builtin reports the CPU time of the finished command; Node cannot see a child's rusage.
    const shell = spawn("/bin/sh", ["-c", '"$@" >/dev/null || exit $?; times >&2', "sh", file, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    shell.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const t0 = process.hrtime.bigint();
    shell.on("error", reject);
    shell.on("exit", (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) return reject(new Error(`${file} ${args.join(" ")} exited with ${code}: ${stderr.trim()}`));
      try {
        resolve({ wallMs, cpuMs: parseTimes(stderr) });
      } catch (err) {
        reject(err);
      }
    });
  });
}
