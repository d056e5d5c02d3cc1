/**
 * `npm run plan:diff` end to end on a throwaway git repository holding a copy of this project (so the result
 * does not depend on what is committed here): "no changes" against HEAD, then a stack setting changed.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "../..");
let repo: string;

function git(args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.name=plan-diff-test", "-c", "user.email=plan-diff@test.invalid", "-c", "commit.gpgsign=false", ...args],
    { cwd: repo, encoding: "utf8" },
  );
}

function planDiff(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    ["-r", require.resolve("ts-node/register/transpile-only"), path.join(repo, "scripts/plan-diff.ts"), ...args],
    {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, TS_NODE_PROJECT: path.join(repo, "tsconfig.json") },
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "plan-diff-repo-"));
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    const from = path.join(root, file);
    if (!fs.existsSync(from) || !fs.statSync(from).isFile()) continue;
    fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    fs.copyFileSync(from, path.join(repo, file));
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(repo, "node_modules"), "dir");
  fs.writeFileSync(path.join(repo, ".gitignore"), "node_modules\n");
  git(["init", "-q", "-b", "main"]);
  git(["add", "-A"]);
  git(["commit", "-q", "-m", "base"]);
});

afterAll(() => {
  if (repo) fs.rmSync(repo, { recursive: true, force: true });
});

test("against HEAD of an unchanged tree it prints no changes, and leaves no worktree behind", () => {
  const r = planDiff("--stack", "dev", "--base", "HEAD");
  expect(r.stderr).not.toMatch(/plan:diff:/);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^stack dev: HEAD \([0-9a-f]{7}\) -> working tree\nno changes \(\d+ resources\)\n/);
  expect(git(["worktree", "list", "--porcelain"]).match(/^worktree /gm)).toHaveLength(1);
}, 180_000);

test("after raising nodeCount it lists the new node's ports and instance, and the lease's new amount", () => {
  const stackFile = path.join(repo, "Pulumi.dev.yaml");
  const original = fs.readFileSync(stackFile, "utf8");
  expect(original).toMatch(/image-pipeline:nodeCount: "3"/);
  fs.writeFileSync(stackFile, original.replace(/image-pipeline:nodeCount: "3"/, 'image-pipeline:nodeCount: "4"'));
  try {
    const r = planDiff("--stack", "dev", "--base", "HEAD");
    expect(r.status).toBe(0);
    const added = [...r.stdout.matchAll(/^\+ (\S+) {2}(\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(added).toEqual(
      expect.arrayContaining([
        "openstack:networking/port:Port network-external-port-4",
        "openstack:networking/port:Port network-private-port-4",
        "openstack:compute/instance:Instance nodes-ip-dev-node4",
      ]),
    );
    expect(r.stdout).not.toMatch(/^- /m);
    expect(r.stdout).toMatch(/^~ pulumi-nodejs:dynamic\/image-pipeline:BlazarLease {2}lease\n {4}.*reservation\.amount/m);
  } finally {
    fs.writeFileSync(stackFile, original);
  }
}, 180_000);

test("an unknown base ref fails with the fix", () => {
  const r = planDiff("--stack", "dev", "--base", "no-such-branch");
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("plan:diff: --base no-such-branch: not a commit in");
  expect(r.stderr).toContain("fetch-depth: 0");
});
