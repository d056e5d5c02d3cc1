/**
 * The acceptance run, as `.ci/run` does it: `npm run verify:local` starts `npm run local`, feeds its READY line to
 * `npm run verify -- --outputs <file>` and stops the pipeline. It passes and leaves no process behind.
 */
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, "../..");

function descendants(pid: number): number[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" });
  const children = new Map<number, number[]>();
  for (const line of out.trim().split("\n")) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const all: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      all.push(c);
      walk(c);
    }
  };
  walk(pid);
  return all;
}

test("npm run verify -- --outputs <READY json> passes against npm run local, in JSON, with no process left", async () => {
  const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "scripts/verify-local.ts", "--json"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let seen: number[] = [];
  const sampler = setInterval(() => {
    seen = [...new Set([...seen, ...descendants(child.pid!)])];
  }, 500);
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearInterval(sampler);
  expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
  const report = JSON.parse(stdout.slice(stdout.indexOf("{"))) as { ok: boolean; smoke: { ok: boolean }[]; cleanedUp: boolean };
  expect(report).toMatchObject({ ok: true, cleanedUp: true });
  expect(report.smoke).toHaveLength(6);
  expect(seen.length).toBeGreaterThan(0);
  // The local stack's reaper (worker/local/reaper-main.ts) notices the supervisor's exit and then cleans up and
  // exits itself, so give the tree a few seconds to be gone; anything still alive after that was left behind.
  const isAlive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  let alive = seen.filter(isAlive);
  for (let waited = 0; alive.length > 0 && waited < 15_000; waited += 250) {
    await new Promise((r) => setTimeout(r, 250));
    alive = alive.filter(isAlive);
  }
  expect(alive).toEqual([]);
});
