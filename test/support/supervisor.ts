/**
 * `npm run local` as the supervisor tests run it: started under ts-node, ready when it prints its READY line (the
 * outputs JSON), with its whole output kept for failure messages.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import net from "node:net";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = ["-r", require.resolve("ts-node/register/transpile-only")];

export interface Supervised<Ready> {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Ready;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Starts `script` (relative to the repository) and waits up to 4 minutes for its READY line. */
export async function startSupervisor<Ready>(script: string, args: string[] = []): Promise<Supervised<Ready>> {
  const child = spawn(process.execPath, [...TS_NODE, path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + 240_000;
  for (;;) {
    const line = out.split("\n").find((l) => l.startsWith("READY "));
    if (line) return { child, ready: JSON.parse(line.slice("READY ".length)) as Ready, exit, output: () => out };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${script} ${args.join(" ")} did not get ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether something accepts TCP connections at the endpoint URL's host and port. */
export function listening(endpoint: string): Promise<boolean> {
  const url = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
