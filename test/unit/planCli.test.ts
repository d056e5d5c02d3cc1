/** `npm run plan` as a reviewer runs it: a separate process, JSON on stdout. */
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";

const run = promisify(execFile);
const root = path.resolve(__dirname, "../..");
const tsNode = path.join(root, "node_modules/.bin/ts-node");

async function plan(...args: string[]) {
  return run(tsNode, ["--transpile-only", "scripts/plan.ts", ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
}

test("--json prints an array of {type, name, parent, inputs, dependsOn} with the whole dev graph", async () => {
  const { stdout } = await plan("--stack", "dev", "--json");
  const resources = JSON.parse(stdout) as {
    type: string;
    name: string;
    parent?: string;
    inputs: Record<string, unknown>;
    dependsOn: string[];
  }[];
  expect(resources.length).toBeGreaterThan(20);
  for (const r of resources) expect(Object.keys(r).sort()).toEqual(expect.arrayContaining(["dependsOn", "inputs", "name", "type"]));
  expect(resources.filter((r) => r.type === "openstack:compute/instance:Instance").map((r) => r.parent)).toEqual([
    "nodes",
    "nodes",
    "nodes",
  ]);
});

test("an unknown stack or argument is an error with usage, exit code 1", async () => {
  await expect(plan("--stack", "staging")).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringMatching(/no stack file .*Pulumi\.staging\.yaml; stacks: .*dev.*prod/),
  });
  await expect(plan("--stack", "dev", "--yaml")).rejects.toMatchObject({
    code: 1,
    stderr: expect.stringMatching(/unknown argument --yaml; usage: npm run plan -- --stack <name> \[--json\] \[--show-secrets\]/),
  });
});

test("invalid config fails the plan before any resource, naming the key", async () => {
  const { stdout, stderr } = await run(
    "node",
    [
      "-e",
      `
    require("ts-node").register({ transpileOnly: true });
    require("./scripts/plan").planStack("dev", { configOverrides: { "image-pipeline:nodeCount": "0" } })
      .then((p) => console.log("planned", p.resources.length), (e) => console.log("failed:", e.message, "resources:", 0));
  `,
    ],
    { cwd: root },
  );
  expect(stderr).toBe("");
  expect(stdout).toMatch(
    /^failed: Invalid stack configuration \(1 problem\):\n {2}- image-pipeline:nodeCount: must be a whole number from 1 to 64, got "0"/,
  );
});
