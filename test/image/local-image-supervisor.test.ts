/**
 * `npm run local -- --image` ended on purpose and killed outright: a container is not in any of the
 * supervisor's process groups (podman's monitor runs it), so the supervisor removes its containers when their
 * `podman run` exits, and the reaper removes them when the supervisor itself is killed. Either way no container
 * of the stack is left and nothing listens on its ports.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildWorkerImage } from "../../scripts/image/build-worker-image";
import { Podman } from "../../scripts/image/podman";
import { CONTAINER_NAME_PREFIX } from "../../worker/local/container";
import * as img from "../../worker/local/sample-images";
import { describeWithPodman } from "../support/podman-tests";
import { listening, startSupervisor } from "../support/supervisor";

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

async function startLocal() {
  const s = await startSupervisor<{ webhookUrl: string; workers: { metrics: string }[] }>("scripts/local.ts", [
    "--workers",
    "1",
    "--samples",
    samples,
    "--image",
    tag,
  ]);
  return { child: s.child, exit: s.exit, endpoints: [s.ready.webhookUrl, ...s.ready.workers.map((w) => w.metrics)] };
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
