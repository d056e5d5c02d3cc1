/** docs/operations.md stays true to the code: the settings, scripts, policies and files it names exist. */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { policies } from "../../policy/policies";

const root = path.resolve(__dirname, "../..");
const runbook = fs.readFileSync(path.join(root, "docs/operations.md"), "utf8");
const configKeys = Object.keys(
  (parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { config: Record<string, unknown> }).config,
);
const projectText = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8");
const scripts = Object.keys(
  (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts,
);

test("every stack setting the runbook tells you to change is a documented config key", () => {
  const named = new Set<string>();
  for (const m of runbook.matchAll(/`((?:worker|webhook|lease|k3s|s3|node|admin|os|promote)[A-Za-z]+)`/g)) named.add(m[1]);
  for (const m of runbook.matchAll(/pulumi config set (?:--secret )?(\w+)/g)) named.add(m[1]);
  expect(named.size).toBeGreaterThan(15);
  const unknown = [...named].filter((k) => !configKeys.includes(k) && !new RegExp(`^#\\s+${k}\\s`, "m").test(projectText));
  expect(unknown).toEqual([]);
});

test("the policy table lists exactly the pack's policies", () => {
  const table = [...runbook.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]).filter((n) => n.includes("-"));
  expect(table.sort()).toEqual(policies.map((p) => p.name).sort());
});

test("the npm scripts and repository files it refers to exist", () => {
  for (const m of runbook.matchAll(/npm run ([\w:-]+)/g)) expect(scripts).toContain(m[1]);
  for (const m of runbook.matchAll(/`((?:\.github\/workflows|policy|docs|worker)\/[\w./<>-]+)`/g)) {
    const file = m[1].replace("<stack>", "dev");
    expect({ file, exists: fs.existsSync(path.join(root, file)) }).toEqual({ file, exists: true });
  }
  for (const m of runbook.matchAll(/\(([a-z]+\.md)\)/g)) expect(fs.existsSync(path.join(root, "docs", m[1]))).toBe(true);
});
