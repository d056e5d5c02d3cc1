/** docs/operations.md stays true to the code: the settings, scripts, policies and files it names exist. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
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

describe("the admin kubeconfig stays out of the checkout, readable by its owner only", () => {
  const docs = ["README.md", ...fs.readdirSync(path.join(root, "docs")).map((f) => `docs/${f}`)].filter((f) => f.endsWith(".md"));

  test("no document writes the kubeconfig output anywhere but ~/.kube", () => {
    const writes = docs.flatMap((file) =>
      [...fs.readFileSync(path.join(root, file), "utf8").matchAll(/pulumi stack output kubeconfig[^\n`]*?>\s*(\S+)/g)].map((m) => ({
        file,
        target: m[1],
      })),
    );
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) expect(w).toEqual({ file: w.file, target: expect.stringMatching(/^~\/\.kube\//) });
  });

  test("the runbook's commands, run by bash, leave ~/.kube at 0700 and the file at 0600 even where both existed looser", () => {
    const block = [...runbook.matchAll(/```bash\n([\s\S]*?)```/g)]
      .map((m) => m[1])
      .find((b) => b.includes("pulumi stack output kubeconfig"));
    expect(block).toBeDefined();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kubeconfig-runbook-"));
    try {
      const home = path.join(tmp, "home");
      const checkout = path.join(tmp, "checkout");
      const bin = path.join(tmp, "bin");
      for (const d of [home, checkout, bin]) fs.mkdirSync(d);
      // An earlier, careless copy: a world-readable ~/.kube and kubeconfig.
      fs.mkdirSync(path.join(home, ".kube"), { mode: 0o755 });
      fs.writeFileSync(path.join(home, ".kube/image-pipeline-dev"), "old", { mode: 0o644 });
      fs.chmodSync(path.join(home, ".kube"), 0o755);
      fs.chmodSync(path.join(home, ".kube/image-pipeline-dev"), 0o644);
      // Stand-ins for the CLIs (no cloud here): pulumi prints a kubeconfig, kubectl succeeds.
      fs.writeFileSync(path.join(bin, "pulumi"), '#!/bin/sh\nprintf "apiVersion: v1\\nkind: Config\\n"\n', { mode: 0o755 });
      fs.writeFileSync(path.join(bin, "kubectl"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const r = spawnSync("bash", ["-c", `set -euo pipefail\numask 022\n${block}`], {
        cwd: checkout,
        env: { PATH: `${bin}:${process.env.PATH}`, HOME: home },
        encoding: "utf8",
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
      const file = path.join(home, ".kube/image-pipeline-dev");
      expect(fs.statSync(path.join(home, ".kube")).mode & 0o777).toBe(0o700);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(file, "utf8")).toBe("apiVersion: v1\nkind: Config\n");
      expect(fs.readdirSync(checkout)).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test("git ignores kubeconfig files in the checkout, but not the sources that build them", () => {
    const ignored = (p: string) => spawnSync("git", ["check-ignore", "--no-index", "-q", p], { cwd: root }).status === 0;
    for (const p of ["kubeconfig", "kubeconfig.yaml", "kubeconfig-prod", "docs/kubeconfig"])
      expect({ p, ignored: ignored(p) }).toEqual({ p, ignored: true });
    for (const p of ["infra/k3s/kubeconfig.ts", "test/k3s/kubeconfig.test.ts"])
      expect({ p, ignored: ignored(p) }).toEqual({ p, ignored: false });
  });
});
