/** The unit lane stays fast: a test file that starts real services or plans the whole program is an integration test. */
import fs from "node:fs";
import path from "node:path";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { INTEGRATION } = require("../lanes") as { INTEGRATION: string[] };

const root = path.join(__dirname, "..", "..");
const SLOW = [
  /\bplanOnce\(|\bplanStack\(|\bcachedPlan\(|support\/plan(-cache)?"|scripts\/plan"/, // a plan of the whole program
  /startTestDatabase|LocalPostgres|helpers\/postgres"/, // a real PostgreSQL
  /helpers\/pipeline"|startLocalPipeline/, // the local pipeline
  /describeWithPodman|scripts\/image\/|\bPodman\b/, // containers
  /spawnSync\("ip"|unshare/, // network namespaces
];

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "ceph" ? [] : testFiles(full);
    return e.name.endsWith(".test.ts") ? [path.relative(root, full)] : [];
  });
}

const integration = (file: string) => INTEGRATION.some((p) => new RegExp(p).test(file));

const self = path.relative(root, __filename);

test.each(testFiles(path.join(root, "test")).filter((f) => !integration(f) && f !== self))("%s does nothing slow", (file) => {
  const text = fs.readFileSync(path.join(root, file), "utf8");
  expect(SLOW.filter((marker) => marker.test(text)).map(String)).toEqual([]);
});

test("every integration pattern matches a test file", () => {
  const files = testFiles(path.join(root, "test"));
  expect(INTEGRATION.filter((p) => !files.some((f) => new RegExp(p).test(f)))).toEqual([]);
});

test("the integration lane picks up test files only, not their helpers", () => {
  // jest runs every file its testRegex matches as a suite: a helper it matched would fail as a suite without tests.
  const everyFile = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === "ceph" || e.name === "node_modules" ? [] : everyFile(full);
      return [path.relative(root, full)];
    });
  const matched = everyFile(path.join(root, "test")).filter(integration);
  expect(matched.filter((f) => !f.endsWith(".test.ts"))).toEqual([]);
});
