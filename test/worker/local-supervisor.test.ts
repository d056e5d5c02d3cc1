/**
 * `npm run local` ended in every way an operator or a bug can end it: an orderly Ctrl-C, a second SIGTERM
 * while it drains, an uncaught error in the supervisor, its terminal going away, and SIGKILL. Each time,
 * no process of the local stack is left, nothing listens on its ports, and its temporary directory is gone.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as img from "../../worker/local/sample-images";
import { sleep } from "./helpers/pipeline";
import { listening, startSupervisor, type Supervised } from "../support/supervisor";

jest.setTimeout(300_000);

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

const startLocal = (): Promise<Supervised<Ready>> => startSupervisor<Ready>("scripts/local.ts", ["--workers", "1", "--samples", samples]);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
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
  const s = await startSupervisor<Ready>("test/worker/fixtures/supervisor-uncaught-error.ts");
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
