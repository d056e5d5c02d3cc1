/**
 * `npm run local -- --image` ended on purpose and killed outright: a container is not in any of the
 * supervisor's process groups (podman's monitor runs it), so the supervisor removes its containers when their
 * `podman run` exits, and the reaper removes them when the supervisor itself is killed. Either way no container
 * of the stack is left and nothing listens on its ports.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { buildWorkerImage } from "../../scripts/image/build-worker-image";
import { Podman } from "../../scripts/image/podman";
import { CONTAINER_NAME_PREFIX } from "../../worker/local/container";
import * as img from "../../worker/local/sample-images";
import { describeWithPodman } from "../support/podman-tests";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = ["-r", require.resolve("ts-node/register/transpile-only")];

let podman: Podman;
let tag: string;
let samples: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function containersOf(pid: number): string[] {
  return podman
    .ok(["ps", "--all", "--format", "{{.Names}}", "--filter", `name=^${CONTAINER_NAME_PREFIX}${pid}-`])
    .split("\n")
    .filter((n) => n !== "")
    .sort();
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

async function startLocal() {
  const child = spawn(
    process.execPath,
    [...TS_NODE, path.join(ROOT, "scripts/local.ts"), "--workers", "1", "--samples", samples, "--image", tag],
    {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + 240_000;
  for (;;) {
    const line = out.split("\n").find((l) => l.startsWith("READY "));
    if (line) {
      const ready = JSON.parse(line.slice("READY ".length)) as { webhookUrl: string; workers: { metrics: string }[] };
      return { child, exit, endpoints: [ready.webhookUrl, ...ready.workers.map((w) => w.metrics)] };
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm run local --image did not get ready:\n${out}`);
    await sleep(100);
  }
}

/** Waits up to 30 s for the stack's containers and ports to be gone, then states what is left. */
async function leftovers(pid: number, endpoints: string[]): Promise<{ containers: string[]; listening: string[] }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const containers = containersOf(pid);
    const open: string[] = [];
    for (const e of endpoints) if (await listening(e)) open.push(e);
    if ((containers.length === 0 && open.length === 0) || Date.now() > deadline) return { containers, listening: open };
    await sleep(250);
  }
}

describeWithPodman("npm run local -- --image: no container outlives it", () => {
  beforeAll(async () => {
    podman = Podman.setUp();
    tag = (await buildWorkerImage(podman, { log: (l) => void process.stderr.write(`[image] ${l}\n`) })).tag;
    samples = fs.mkdtempSync(path.join(os.tmpdir(), "local-image-samples-"));
    fs.writeFileSync(path.join(samples, "tiny.png"), await img.makePng(8, 8));
  }, 900_000);

  afterAll(() => {
    if (samples) fs.rmSync(samples, { recursive: true, force: true });
  });

  test("Ctrl-C: the services drain in their containers, the supervisor exits 0 and removes them", async () => {
    const s = await startLocal();
    const pid = s.child.pid!;
    expect(containersOf(pid)).toEqual([`${CONTAINER_NAME_PREFIX}${pid}-webhook`, `${CONTAINER_NAME_PREFIX}${pid}-worker-1`]);
    s.child.kill("SIGINT");
    expect(await s.exit).toEqual({ code: 0, signal: null });
    expect(await leftovers(pid, s.endpoints)).toEqual({ containers: [], listening: [] });
  }, 300_000);

  test("SIGKILL: the reaper removes the containers", async () => {
    const s = await startLocal();
    const pid = s.child.pid!;
    expect(containersOf(pid)).toHaveLength(2);
    s.child.kill("SIGKILL");
    expect(await s.exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(await leftovers(pid, s.endpoints)).toEqual({ containers: [], listening: [] });
  }, 300_000);
});
