/**
 * `npm run local` ended in every way an operator or a bug can end it: an orderly Ctrl-C, a second SIGTERM
 * while it drains, an uncaught error in the supervisor, its terminal going away, and SIGKILL. Each time,
 * no process of the local stack is left, nothing listens on its ports, and its temporary directory is gone.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import * as img from "../../worker/local/sample-images";
import { sleep } from "./helpers/pipeline";

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = ["-r", require.resolve("ts-node/register/transpile-only")];
let samples: string;

beforeAll(async () => {
  samples = fs.mkdtempSync(path.join(os.tmpdir(), "supervisor-test-samples-"));
  fs.writeFileSync(path.join(samples, "tiny.png"), await img.makePng(8, 8));
});

afterAll(() => {
  fs.rmSync(samples, { recursive: true, force: true });
});

interface Ready {
  readonly rootDir: string;
  readonly pids: Record<string, number>;
  readonly endpoints: string[];
}

interface Supervised {
  readonly child: ChildProcessWithoutNullStreams;
  readonly ready: Ready;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

async function startSupervisor(script: string, args: string[] = []): Promise<Supervised> {
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
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`supervisor did not get ready:\n${out}`);
    await sleep(100);
  }
}

const startLocal = (): Promise<Supervised> => startSupervisor("scripts/local.ts", ["--workers", "1", "--samples", samples]);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function listening(endpoint: string): Promise<boolean> {
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

/** Waits up to 15 s for the stack to be gone, then states what is left. */
async function leftovers(ready: Ready): Promise<{ processes: string[]; listening: string[]; rootDir: boolean }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const processes = Object.entries(ready.pids)
      .filter(([, pid]) => alive(pid))
      .map(([name]) => name);
    const open: string[] = [];
    for (const e of ready.endpoints) if (await listening(e)) open.push(e);
    const rootDir = fs.existsSync(ready.rootDir);
    if ((processes.length === 0 && open.length === 0 && !rootDir) || Date.now() > deadline) return { processes, listening: open, rootDir };
    await sleep(200);
  }
}

const NOTHING_LEFT = { processes: [], listening: [], rootDir: false };

it("an orderly Ctrl-C drains and stops everything, then exits 0", async () => {
  const s = await startLocal();
  expect(Object.keys(s.ready.pids).sort()).toEqual(["postgres", "s3", "webhook", "worker-1"]);
  for (const e of s.ready.endpoints) expect(await listening(e)).toBe(true);
  s.child.kill("SIGINT");
  expect(await s.exit).toEqual({ code: 0, signal: null });
  expect(await leftovers(s.ready)).toEqual(NOTHING_LEFT);
});

it("a second SIGTERM during the shutdown kills every child at once and exits 130", async () => {
  const s = await startLocal();
  s.child.kill("SIGTERM");
  await sleep(50);
  s.child.kill("SIGTERM");
  expect(await s.exit).toEqual({ code: 130, signal: null });
  expect(await leftovers(s.ready)).toEqual(NOTHING_LEFT);
});

it("an uncaught error in the supervisor kills every child and removes the temporary directory", async () => {
  const s = await startSupervisor("test/worker/fixtures/supervisor-uncaught-error.ts");
  expect(await s.exit).toEqual({ code: 1, signal: null });
  expect(s.output()).toMatch(/supervisor error: Error: a bug in the supervisor/);
  expect(await leftovers(s.ready)).toEqual(NOTHING_LEFT);
});

it("its terminal going away (SIGHUP, output closed) stops everything", async () => {
  const s = await startLocal();
  s.child.stdout.destroy();
  s.child.stderr.destroy();
  s.child.kill("SIGHUP");
  expect(await s.exit).toEqual({ code: 0, signal: null });
  expect(await leftovers(s.ready)).toEqual(NOTHING_LEFT);
});

it("SIGKILL: the reaper kills every child and removes the temporary directory", async () => {
  const s = await startLocal();
  s.child.kill("SIGKILL");
  expect(await s.exit).toEqual({ code: null, signal: "SIGKILL" });
  expect(await leftovers(s.ready)).toEqual(NOTHING_LEFT);
});
