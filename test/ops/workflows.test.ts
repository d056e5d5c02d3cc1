/**
 * The GitHub Actions workflows: schema-valid (action-validator, offline), their shell steps pass shellcheck,
 * and they do what the runbook says, checked against the files they refer to (stack files, policy configs,
 * npm scripts, the Dockerfile's build context, the plan-diff comment marker).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { validateWorkflow } from "@action-validator/core";
import { parse as parseYaml } from "yaml";
import { MARKDOWN_MARKER } from "../../scripts/plan-diff";

const root = path.resolve(__dirname, "../..");
const workflowDir = path.join(root, ".github/workflows");
const workflowFiles = fs
  .readdirSync(workflowDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  name?: string;
  if?: string;
  uses?: string;
  needs?: string | string[];
  "runs-on"?: string;
  container?: string | { image: string };
  environment?: string | { name: string };
  strategy?: { matrix: { include?: Record<string, string>[]; [k: string]: unknown } };
  outputs?: Record<string, string>;
  steps?: Step[];
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const text = (file: string) => fs.readFileSync(path.join(workflowDir, file), "utf8");
const load = (file: string) => parseYaml(text(file)) as Workflow;
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps ?? []);
const stepUsing = (job: Job, action: string) => (job.steps ?? []).filter((s) => s.uses?.startsWith(`${action}@`));
const packageJson = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  engines: { node: string };
};
const stacks = fs
  .readdirSync(root)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

test("the expected workflows exist", () => {
  expect(workflowFiles).toEqual(["ci.yml", "deploy.yml", "plan-diff-comment.yml", "preview.yml", "worker-image.yml"]);
});

/** action-validator cannot check path globs yet and says so; the test below checks them instead. */
const GLOB_WARNING = /^WARNING: Glob validation is not yet supported\. Glob at \/on\/\w+\/paths will not be validated\.$/;

describe("schema (action-validator)", () => {
  test.each(workflowFiles)("%s validates", (file) => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      expect(validateWorkflow(text(file)).errors).toEqual([]);
      for (const [message] of warn.mock.calls) expect(String(message)).toMatch(GLOB_WARNING);
    } finally {
      warn.mockRestore();
    }
  });

  test.each(workflowFiles)("%s passes the action-validator CLI", (file) => {
    const cli = path.join(root, "node_modules/@action-validator/cli/cli.mjs");
    const r = spawnSync(process.execPath, [cli, path.join(workflowDir, file)], { encoding: "utf8" });
    expect(r.status).toBe(0);
    for (const line of r.stderr.split("\n").filter(Boolean)) expect(line).toMatch(GLOB_WARNING);
  });

  test.each(workflowFiles)("%s: every path filter matches files in the repository", (file) => {
    for (const trigger of Object.values(load(file).on)) {
      for (const glob of ((trigger ?? {}) as { paths?: string[] }).paths ?? []) {
        const fixed = glob.replace(/\/?\*\*.*$/, "");
        expect({ glob, exists: fs.existsSync(path.join(root, fixed)) }).toEqual({ glob, exists: true });
      }
    }
  });

  test("the validator does reject a broken workflow (misspelt trigger, job without runs-on)", () => {
    const broken = "name: broken\non:\n  pushh:\njobs:\n  a:\n    steps:\n      - run: echo\n";
    const paths = JSON.stringify(validateWorkflow(broken).errors);
    expect(paths).toContain("Additional property 'pushh' is not allowed");
    expect(paths).toContain("/jobs/a/runs-on");
  });
});

describe("every workflow", () => {
  test.each(workflowFiles)("%s declares least-privilege permissions and never uses pull_request_target", (file) => {
    const wf = load(file);
    expect(wf.permissions).toBeDefined();
    expect(Object.values(wf.permissions ?? {}).every((p) => p === "read" || p === "write")).toBe(true);
    expect(Object.keys(wf.on)).not.toContain("pull_request_target");
  });

  test.each(workflowFiles)("%s pins every action to a major version or a commit, and local workflows exist", (file) => {
    const uses = [...steps(load(file)).map((s) => s.uses), ...Object.values(load(file).jobs).map((j) => j.uses)].filter(
      (u): u is string => u !== undefined,
    );
    for (const u of uses) {
      if (u.startsWith("./")) expect(fs.existsSync(path.join(root, u))).toBe(true);
      else expect(u).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
    }
  });

  test.each(workflowFiles)("%s runs on Node 20 (package.json engines)", (file) => {
    const major = /(\d+)/.exec(packageJson.engines.node)?.[1];
    expect(major).toBe("20");
    const wf = load(file);
    for (const job of Object.values(wf.jobs)) {
      const image = typeof job.container === "string" ? job.container : job.container?.image;
      if (image !== undefined) expect(image).toMatch(new RegExp(`^node:${major}-bookworm$`));
      for (const s of stepUsing(job, "actions/setup-node")) expect(String(s.with?.["node-version"])).toBe(major);
      const runsNpm = (job.steps ?? []).some((s) => /\bnpm\b/.test(s.run ?? ""));
      if (runsNpm) expect(image !== undefined || stepUsing(job, "actions/setup-node").length > 0).toBe(true);
    }
  });

  test.each(workflowFiles)("%s: every npm script it runs exists", (file) => {
    for (const s of steps(load(file))) {
      for (const m of (s.run ?? "").matchAll(/npm run (?:-s )?([\w:-]+)/g)) expect(Object.keys(packageJson.scripts)).toContain(m[1]);
    }
  });

  test.each(workflowFiles)("%s: multi-line shell steps start with set -euo pipefail", (file) => {
    for (const s of steps(load(file))) {
      const lines = (s.run ?? "").trim().split("\n");
      if (lines.length > 1) expect({ step: s.name, first: lines[0] }).toEqual({ step: s.name, first: "set -euo pipefail" });
    }
  });
});

describe("shell steps pass shellcheck", () => {
  const shellcheck = spawnSync("shellcheck", ["--version"]).status === 0;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-shell-"));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test.each(workflowFiles)("%s", (file) => {
    if (!shellcheck) throw new Error("shellcheck is not installed (apt-get install shellcheck; .ci/run installs it)");
    steps(load(file)).forEach((s, i) => {
      if (!s.run) return;
      // GitHub substitutes ${{ }} before the shell sees the script; a quoted placeholder stands in for it.
      const script = `#!/usr/bin/env bash\n${s.run.replace(/\$\{\{[^}]*\}\}/g, "PLACEHOLDER")}\n`;
      const scriptFile = path.join(tmp, `${file}-${i}.sh`);
      fs.writeFileSync(scriptFile, script);
      const r = spawnSync("shellcheck", ["-s", "bash", "-S", "warning", scriptFile], { encoding: "utf8" });
      expect({ step: s.name ?? s.run, output: r.stdout }).toEqual({ step: s.name ?? s.run, output: "" });
    });
  });
});

describe("ci.yml", () => {
  const wf = load("ci.yml");

  test("runs .ci/run on every push and pull request", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push"]);
    expect(wf.on.push).toBeNull();
    const run = steps({ ...wf, jobs: { test: wf.jobs.test } }).map((s) => s.run);
    expect(run).toContain(".ci/run");
    expect(fs.statSync(path.join(root, ".ci/run")).mode & 0o111).not.toBe(0);
  });

  test("posts an offline plan diff only for pull requests from forks, against the base commit", () => {
    const job = wf.jobs["offline-plan-diff"];
    expect(job.if).toBe("github.event_name == 'pull_request' && github.event.pull_request.head.repo.full_name != github.repository");
    expect(stepUsing(job, "actions/checkout")[0].with?.["fetch-depth"]).toBe(0);
    const diff = (job.steps ?? []).find((s) => s.run?.includes("plan:diff"));
    expect(diff?.env?.BASE_SHA).toBe("${{ github.event.pull_request.base.sha }}");
    expect(diff?.run).toContain(
      `npm run -s plan:diff -- ${stacks.map((s) => `--stack ${s}`).join(" ")} --base "$BASE_SHA" --markdown > offline-plan-diff/plan-diff.md`,
    );
    expect(stepUsing(job, "actions/upload-artifact")[0].with).toMatchObject({ name: "offline-plan-diff", path: "offline-plan-diff/" });
  });
});

describe("plan-diff-comment.yml", () => {
  const wf = load("plan-diff-comment.yml");
  const job = wf.jobs.comment;
  const script = String(stepUsing(job, "actions/github-script")[0].with?.script);

  test("follows the CI workflow by its name and downloads the artifact CI uploads", () => {
    expect(wf.on).toEqual({ workflow_run: { workflows: [load("ci.yml").name], types: ["completed"] } });
    expect(stepUsing(job, "actions/download-artifact")[0].with).toMatchObject({
      name: "offline-plan-diff",
      "run-id": "${{ github.event.workflow_run.id }}",
    });
  });

  test("never checks out or runs pull request code, and checks the artifact belongs to the pull request's head", () => {
    expect(stepUsing(job, "actions/checkout")).toEqual([]);
    expect((job.steps ?? []).filter((s) => s.run !== undefined)).toEqual([]);
    expect(script).toContain("pr.head.sha !== process.env.HEAD_SHA");
    expect(stepUsing(job, "actions/github-script")[0].env?.HEAD_SHA).toBe("${{ github.event.workflow_run.head_sha }}");
  });

  test("edits the comment marked with the marker plan:diff writes, within GitHub's size limit", () => {
    expect(script).toContain(`const marker = "${MARKDOWN_MARKER}";`);
    expect(script).toContain("updateComment");
    expect(script).toContain(".slice(0, 65000)");
  });
});

describe("preview.yml", () => {
  const wf = load("preview.yml");
  const job = wf.jobs.preview;
  const pulumi = stepUsing(job, "pulumi/actions")[0];

  test("previews every stack on pull requests from this repository", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect((job.strategy?.matrix.include ?? []).map((m) => m.stack).sort()).toEqual(stacks);
  });

  test("pulumi preview --diff with a PR comment that is edited on new pushes and keeps the summary when trimmed", () => {
    expect(pulumi.with).toMatchObject({
      command: "preview",
      diff: true,
      "comment-on-pr": true,
      "edit-pr-comment": true,
      "always-include-summary": true,
      "stack-name": "${{ vars.PULUMI_ORG || 'organization' }}/${{ matrix.stack }}",
    });
    expect(wf.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });

  test("applies the policy pack with each stack's config (advisory dev, mandatory prod)", () => {
    expect(pulumi.with?.policyPacks).toBe("policy");
    expect(fs.existsSync(path.join(root, "policy/PulumiPolicy.yaml"))).toBe(true);
    expect(pulumi.with?.policyPackConfigs).toBe("policy/config/${{ matrix.stack }}.json");
    for (const stack of stacks) expect(fs.existsSync(path.join(root, `policy/config/${stack}.json`))).toBe(true);
  });

  test("reads credentials from repository secrets, one clouds.yaml per stack", () => {
    for (const m of job.strategy?.matrix.include ?? []) expect(m.clouds_secret).toBe(`OPENSTACK_CLOUDS_YAML_${m.stack.toUpperCase()}`);
    const cloudsStep = (job.steps ?? []).find((s) => s.env?.CLOUDS_YAML);
    expect(cloudsStep?.env?.CLOUDS_YAML).toBe("${{ secrets[matrix.clouds_secret] }}");
    expect(cloudsStep?.run).toContain('echo "OS_CLIENT_CONFIG_FILE=$RUNNER_TEMP/clouds.yaml" >> "$GITHUB_ENV"');
    expect(job.env).toMatchObject({
      PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
      PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
    });
  });
});

describe("worker-image.yml", () => {
  const wf = load("worker-image.yml");
  const job = wf.jobs.build;
  const build = stepUsing(job, "docker/build-push-action")[0];

  test("builds worker/Dockerfile from the context its COPY instructions assume", () => {
    expect(build.with).toMatchObject({ file: "worker/Dockerfile", context: "." });
    const dockerfile = fs.readFileSync(path.join(root, String(build.with?.file)), "utf8");
    const sources = [...dockerfile.matchAll(/^COPY\s+(?!--from)(?:--\S+\s+)*(.+)$/gm)].flatMap((m) =>
      m[1].trim().split(/\s+/).slice(0, -1),
    );
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources)
      expect({ src, exists: fs.existsSync(path.join(root, String(build.with?.context), src)) }).toEqual({ src, exists: true });
  });

  test("pushes except on pull requests, and outputs the digest and the digest-pinned reference", () => {
    expect(build.with?.push).toBe("${{ github.event_name != 'pull_request' }}");
    expect(job.outputs).toEqual({ digest: "${{ steps.build.outputs.digest }}", image: "${{ steps.reference.outputs.image }}" });
    expect(wf.on.workflow_call).toEqual({
      outputs: {
        digest: { description: expect.any(String), value: "${{ jobs.build.outputs.digest }}" },
        image: { description: expect.any(String), value: "${{ jobs.build.outputs.image }}" },
      },
    });
    const reference = (job.steps ?? []).find((s) => s.id === "reference");
    expect(reference?.run).toContain('echo "image=${NAME}@${DIGEST}" >> "$GITHUB_OUTPUT"');
  });
});

describe("deploy.yml", () => {
  const wf = load("deploy.yml");

  test("on push to main: builds the image, then pulumi up dev with that digest", () => {
    expect(wf.on.push).toEqual({ branches: ["main"] });
    expect(wf.jobs.image).toMatchObject({ if: "github.event_name == 'push'", uses: "./.github/workflows/worker-image.yml" });
    const dev = wf.jobs.dev;
    expect(dev).toMatchObject({ if: "github.event_name == 'push'", needs: "image" });
    const up = stepUsing(dev, "pulumi/actions")[0];
    expect(up.with).toMatchObject({
      command: "up",
      "stack-name": "${{ vars.PULUMI_ORG || 'organization' }}/dev",
      policyPackConfigs: "policy/config/dev.json",
    });
    expect(parseYaml(String(up.with?.["config-map"]))).toEqual({
      workerImage: { value: "${{ needs.image.outputs.image }}", secret: false },
    });
  });

  test("prod only by manual dispatch from main, behind the production environment", () => {
    expect(Object.keys(wf.on)).toContain("workflow_dispatch");
    const prod = wf.jobs.prod;
    expect(prod.if).toBe("github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main'");
    expect(prod.environment).toBe("production");
    const ups = stepUsing(prod, "pulumi/actions").filter((s) => s.with?.command === "up");
    expect(ups).toHaveLength(1);
    expect(ups[0].with).toMatchObject({
      "stack-name": "${{ vars.PULUMI_ORG || 'organization' }}/prod",
      policyPacks: "policy",
      policyPackConfigs: "policy/config/prod.json",
    });
    expect(ups[0].with?.["config-map"]).toBeUndefined();
  });

  test("prod deploys the digest dev exports: promoteFrom names the dev stack and prod pins no image of its own", () => {
    const prodConfig = (parseYaml(fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> })
      .config;
    expect(String(prodConfig["image-pipeline:promoteFrom"])).toMatch(/^[\w.-]+\/image-pipeline\/dev$/);
    expect(prodConfig["image-pipeline:workerImage"]).toBeUndefined();
    const show = (wf.jobs.prod.steps ?? []).find((s) => s.run?.includes("pulumi stack output workerImage"));
    expect(show?.run).toContain('pulumi stack output workerImage --stack "$DEV_STACK"');
    expect(show?.env?.EXPECTED_DIGEST).toBe("${{ inputs.expected_digest }}");
  });

  test("never cancels a deployment in progress", () => {
    for (const name of ["dev", "prod"])
      expect(wf.jobs[name]).toMatchObject({ concurrency: { group: `deploy-${name}`, "cancel-in-progress": false } });
  });
});

test("the dev stack exports workerImage, the output deploy.yml reads and prod's promoteFrom takes", () => {
  const out = execFileSync(
    process.execPath,
    [
      "-r",
      require.resolve("ts-node/register/transpile-only"),
      path.join(root, "scripts/plan-diff.ts"),
      "--emit-plan",
      root,
      "--stack",
      "dev",
      "--out",
      path.join(os.tmpdir(), `dev-plan-${process.pid}.json`),
    ],
    {
      cwd: root,
      env: { ...process.env, TS_NODE_PROJECT: path.join(root, "tsconfig.json") },
    },
  );
  expect(out.toString()).toBe("");
  const plan = JSON.parse(fs.readFileSync(path.join(os.tmpdir(), `dev-plan-${process.pid}.json`), "utf8")) as {
    outputs: Record<string, unknown>;
  };
  fs.rmSync(path.join(os.tmpdir(), `dev-plan-${process.pid}.json`));
  expect(String(plan.outputs.workerImage)).toMatch(/@sha256:[0-9a-f]{64}$/);
}, 120_000);
