/**
 * The scaling claims of docs/capacity.md, from the simulation over measured costs: the old request and target made
 * the HPA an on/off switch; the chosen ones make replicas track the load; queue depth sees a backlog CPU cannot.
 */
import fs from "node:fs";
import path from "node:path";
import { capacityReport } from "../../scripts/capacity";
import { scenarios, workerBehavior, workerPod } from "../../scripts/capacity/scenarios";
import { simulate } from "../../scripts/capacity/simulate";
import { sizeFor } from "../../scripts/capacity/sizing";
import { WORKLOAD_DEFAULTS } from "../../infra/config/workload";
import { parseQuantity } from "../../common/quantity";

const cpuOf = (q: string): number => parseQuantity(q)!;
const run = (name: string, index: number) => simulate(scenarios().find((s) => s.name === name)!.runs[index].input);

test("the stack's defaults are the settings the simulations call 'now'", () => {
  expect(cpuOf(WORKLOAD_DEFAULTS.workerCpuRequest)).toBe(cpuOf(WORKLOAD_DEFAULTS.workerCpuLimit));
  expect(Number(WORKLOAD_DEFAULTS.workerCpuTargetPercent)).toBe(70);
  expect(workerPod("1mp", cpuOf(WORKLOAD_DEFAULTS.workerCpuRequest)).cpuRequest).toBe(1);
});

test("before: a load worth half a pod drives a 300m request at a 50 % target to its maximum at the first sync", () => {
  const before = run("steady-1mp-dev", 0);
  expect(before.samples[0].desiredReplicas).toBe(3);
  expect(before.samples[0].cpuPercent!).toBeGreaterThan(100);
  const now = run("steady-1mp-dev", 1);
  expect(now.peakReplicas).toBe(1);
  expect(now.peakBacklog).toBe(0);
});

test("now: on a ramp replicas track the load, with no backlog and fewer pods than before", () => {
  const before = run("ramp-1mp-prod", 0);
  const now = run("ramp-1mp-prod", 1);
  expect(now.peakBacklog).toBe(0);
  expect(now.peakReplicas).toBeLessThan(before.peakReplicas);
  expect(now.replicaSeconds).toBeLessThan(before.replicaSeconds);
  // Replicas never drop below what the load needs at 100 % of each pod's CPU, and rise step by step.
  const increments = now.samples.map((s) => s.desiredReplicas! - s.currentReplicas!).filter((d) => d > 0);
  expect(Math.max(...increments)).toBeLessThanOrEqual(1);
});

test("a burst: queue depth scales out further and drains no later than CPU", () => {
  const cpu = run("burst-12mp-prod", 0);
  const queue = run("burst-12mp-prod", 1);
  expect(queue.peakReplicas).toBeGreaterThanOrEqual(cpu.peakReplicas);
  expect(queue.drainedAtSeconds!).toBeLessThanOrEqual(cpu.drainedAtSeconds!);
  // CPU cannot read above 100 % of the request, so each sync can grow the fleet by at most 100/70.
  expect(Math.max(...cpu.samples.map((s) => s.cpuPercent!))).toBeLessThanOrEqual(100);
});

test("no image is lost or counted twice in a simulation", () => {
  for (const s of scenarios())
    for (const r of s.runs) {
      const result = simulate(r.input);
      const last = result.samples[result.samples.length - 1].load!;
      expect(last.done).toBe(last.uploaded);
    }
});

test("sizing grows with volume and size and respects the floors", () => {
  const small = sizeFor(100_000, "1mp");
  expect(small.workers).toBe(1);
  expect(small.webhookReplicas).toBe(2);
  const big = sizeFor(10_000_000, "12mp");
  // 10 M/day × 3 peak / 86,400 s × 0.124 CPU-s ÷ 0.7 per pod
  expect(big.workers).toBe(Math.ceil((((10_000_000 * 3) / 86_400) * 0.124) / 0.7));
  expect(big.postgresConnections).toBeGreaterThan(100); // past PostgreSQL's default max_connections
  expect(sizeFor(1_000_000, "12mp").workers).toBeGreaterThan(sizeFor(1_000_000, "1mp").workers);
});

test("docs/capacity.md carries the current output of npm run capacity", () => {
  const doc = fs.readFileSync(path.join(__dirname, "../../docs/capacity.md"), "utf8");
  const begin = "<!-- npm run capacity: begin -->\n";
  const end = "<!-- npm run capacity: end -->";
  expect(doc.slice(doc.indexOf(begin) + begin.length, doc.indexOf(end))).toBe(capacityReport());
});

test("a worker pod model never uses more CPU than its limit", () => {
  const r = simulate({
    pod: workerPod("12mp", 1),
    hpa: workerBehavior(1, 1),
    signal: { kind: "cpu", targetPercent: 70 },
    arrivals: () => 50,
    loadSeconds: 60,
    durationSeconds: 120,
  });
  expect(Math.max(...r.samples.map((s) => s.cpuPercent!))).toBeLessThanOrEqual(100);
});
