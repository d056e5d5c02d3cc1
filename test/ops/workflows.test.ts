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
  strategy?: { matrix: { include?: Record<string, string>[]; stack?: string[]; [k: string]: unknown } };
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
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, Job>;
}

const text = (file: string) => fs.readFileSync(path.join(workflowDir, file), "utf8");
const load = (file: string) => parseYaml(text(file)) as Workflow;
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps ?? []);
const stepUsing = (job: Job, action: string) => (job.steps ?? []).filter((s) => s.uses?.startsWith(`${action}@`));
const packageJson = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  engines: { node: string };
  dependencies: Record<string, string>;
};
const jobsOf = (file: string) => Object.entries(load(file).jobs);
const usesOf = (file: string) =>
  [...steps(load(file)).map((s) => s.uses), ...Object.values(load(file).jobs).map((j) => j.uses)].filter(
    (u): u is string => u !== undefined,
  );
/** Every `${{ secrets.X }}` / `${{ secrets[...] }}` in a text. */
const secretRefs = (text: string) => [...text.matchAll(/\$\{\{\s*secrets(?:\.(\w+)|\[[^\]]*\])\s*\}\}/g)].map((m) => m[1] ?? m[0]);
const stacks = fs
  .readdirSync(root)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

/**
 * The commits third-party actions are pinned to, each read from the action's repository at the tag named (the
 * major tag the workflows used before, resolved to its newest release): `git rev-parse <tag>^{commit}`.
 */
const VERIFIED_PINS: Record<string, { sha: string; tag: string }> = {
  "actions/checkout": { sha: "11d5960a326750d5838078e36cf38b85af677262", tag: "v4.4.0" },
  "actions/setup-node": { sha: "49933ea5288caeca8642d1e84afbd3f7d6820020", tag: "v4.4.0" },
  "actions/cache": { sha: "0057852bfaa89a56745cba8c7296529d2fc39830", tag: "v4.3.0" },
  "actions/upload-artifact": { sha: "ea165f8d65b6e75b540449e92b4886f43607fa02", tag: "v4.6.2" },
  "actions/download-artifact": { sha: "d3f86a106a0bac45b974a628896c90dbdf5c8093", tag: "v4.3.0" },
  "actions/github-script": { sha: "f28e40c7f34bde8b3046d885e986cb6290c5673b", tag: "v7.1.0" },
  "pulumi/actions": { sha: "8582a9e8cc630786854029b4e09281acd6794b58", tag: "v6.6.1" },
  "pulumi/auth-actions": { sha: "1c89817aab0c66407723cdef72b05266e7376640", tag: "v1.0.1" },
  "docker/setup-buildx-action": { sha: "8d2750c68a42422c14e847fe6c8ac0403b4cbd6f", tag: "v3.12.0" },
  "docker/login-action": { sha: "c94ce9fb468520275223c153574b00df6fe4bcc9", tag: "v3.7.0" },
  "docker/metadata-action": { sha: "c299e40c65443455700f0fdfc63efafe5b349051", tag: "v5.10.0" },
  "docker/build-push-action": { sha: "10e90e3645eae34f1e60eeb005ba3a3d33f178e8", tag: "v6.19.2" },
};

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

  test.each(workflowFiles)("%s pins every third-party action to a verified commit, and local workflows exist", (file) => {
    const lines = text(file).split("\n");
    for (const u of usesOf(file)) {
      if (u.startsWith("./")) {
        expect(fs.existsSync(path.join(root, u))).toBe(true);
        continue;
      }
      const [action, ref] = u.split("@");
      const pin = VERIFIED_PINS[action];
      expect({ action, pinned: pin !== undefined }).toEqual({ action, pinned: true });
      expect({ action, ref }).toEqual({ action, ref: pin.sha });
      // The tag the commit was taken from stays readable next to it (Dependabot keeps such comments up to date).
      for (const line of lines.filter((l) => l.includes(`uses: ${u}`))) expect(line).toMatch(new RegExp(`@${pin.sha} # ${pin.tag}$`));
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

describe("secrets and install scripts", () => {
  test.each(workflowFiles)("%s hands secrets to single steps only, never to a workflow or a job as a whole", (file) => {
    const wf = load(file);
    expect(secretRefs(JSON.stringify(wf.env ?? {}))).toEqual([]);
    for (const [, job] of jobsOf(file)) expect(secretRefs(JSON.stringify(job.env ?? {}))).toEqual([]);
    // Nor in a script's text, where it would be substituted before the shell runs (and end up in the process list).
    for (const s of steps(wf)) expect({ step: s.name, refs: secretRefs(s.run ?? "") }).toEqual({ step: s.name, refs: [] });
  });

  test.each(workflowFiles)("%s: no step that runs npm (whose packages' scripts could run) sees a secret", (file) => {
    for (const s of steps(load(file))) {
      if (!/\bnpm\b|\.ci\/run/.test(s.run ?? "")) continue;
      expect({ step: s.name ?? s.run, refs: secretRefs(JSON.stringify(s.env ?? {})) }).toEqual({ step: s.name ?? s.run, refs: [] });
    }
  });

  test.each(workflowFiles)("%s: a job whose steps read secrets runs in a GitHub environment, which holds them", (file) => {
    for (const [name, job] of jobsOf(file)) {
      const refs = (job.steps ?? []).flatMap((s) => secretRefs(JSON.stringify({ env: s.env ?? {}, with: s.with ?? {} })));
      const own = refs.filter((r) => r !== "GITHUB_TOKEN");
      if (own.length > 0) expect({ job: name, environment: job.environment !== undefined }).toEqual({ job: name, environment: true });
    }
  });

  test.each(workflowFiles)("%s installs with --ignore-scripts, then runs only the allowed install scripts", (file) => {
    for (const [name, job] of jobsOf(file)) {
      const runs = (job.steps ?? []).map((s) => s.run ?? "");
      const installs = runs.map((r, i) => [r, i] as const).filter(([r]) => /\bnpm (ci|install)\b/.test(r));
      for (const [run, i] of installs) {
        expect({ job: name, run }).toEqual({ job: name, run: "npm ci --ignore-scripts --no-audit --no-fund" });
        expect({ job: name, next: runs[i + 1] }).toEqual({ job: name, next: "npm run -s rebuild:allowed" });
      }
    }
  });

  test(".ci/run installs the same way", () => {
    const run = fs.readFileSync(path.join(root, ".ci/run"), "utf8");
    expect(run).toContain("npm ci --ignore-scripts --no-audit --no-fund\nnpm run -s rebuild:allowed\n");
    expect(run.match(/\bnpm (ci|install)\b/g)).toHaveLength(1);
  });

  test("only the job that pushes the image may write packages, and it never runs for a pull request", () => {
    for (const file of workflowFiles) {
      expect({ file, permissions: load(file).permissions?.packages }).toEqual({ file, permissions: undefined });
      for (const [name, job] of jobsOf(file)) {
        if (job.permissions?.packages !== "write") continue;
        const pushes =
          (job.steps ?? []).some((s) => s.uses?.startsWith("docker/build-push-action@") && s.with?.push === true) || job.uses !== undefined;
        expect({ file, job: name, pushes }).toEqual({ file, job: name, pushes: true });
        expect({ file, job: name, if: job.if }).toEqual({
          file,
          job: name,
          if: job.uses !== undefined ? "github.event_name == 'push'" : "github.event_name != 'pull_request'",
        });
      }
    }
  });

  test("OIDC tokens (id-token: write) only for the jobs that exchange one for a Pulumi Cloud token", () => {
    for (const file of workflowFiles) {
      expect({ file, permissions: load(file).permissions?.["id-token"] }).toEqual({ file, permissions: undefined });
      for (const [name, job] of jobsOf(file)) {
        const exchanges = stepUsing(job, "pulumi/auth-actions").length > 0;
        expect({ file, job: name, idToken: job.permissions?.["id-token"] === "write" }).toEqual({ file, job: name, idToken: exchanges });
      }
    }
  });

  test("every pulumi/actions step pins the Pulumi CLI to the SDK's version, and gets the token the OIDC step issued", () => {
    const sdk = packageJson.dependencies["@pulumi/pulumi"];
    expect(sdk).toMatch(/^\d+\.\d+\.\d+$/);
    for (const file of workflowFiles) {
      for (const [, job] of jobsOf(file)) {
        const oidc = stepUsing(job, "pulumi/auth-actions")[0];
        for (const s of stepUsing(job, "pulumi/actions")) {
          expect({ file, step: s.name, version: s.with?.["pulumi-version"] }).toEqual({ file, step: s.name, version: sdk });
          if (s.with?.command === undefined) continue;
          expect(oidc?.with).toMatchObject({ "export-environment-variables": false });
          expect(oidc?.if).toBe("vars.PULUMI_BACKEND_URL == ''");
          expect(s.env?.PULUMI_ACCESS_TOKEN).toBe(`\${{ steps.${oidc?.id}.outputs.pulumi-access-token }}`);
        }
      }
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

  test("runs .ci/run once per change: on pull requests, and on pushes to main only (a branch with a pull request is not tested twice)", () => {
    expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push"]);
    expect(wf.on.push).toEqual({ branches: ["main"] });
    expect(wf.on.pull_request).toBeNull();
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
    expect(secretRefs(JSON.stringify(job))).toEqual([]);
    expect(job.environment).toBeUndefined();
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

  test("previews every stack on pull requests from this repository; forks get only the offline plan diff", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect([...(job.strategy?.matrix.stack ?? [])].sort()).toEqual(stacks);
    expect(load("ci.yml").jobs["offline-plan-diff"].if).toContain("github.event.pull_request.head.repo.full_name != github.repository");
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
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(job.permissions).toEqual({ contents: "read", "pull-requests": "write", "id-token": "write" });
  });

  test("applies the policy pack with each stack's config (advisory dev, mandatory prod)", () => {
    expect(pulumi.with?.policyPacks).toBe("policy");
    expect(fs.existsSync(path.join(root, "policy/PulumiPolicy.yaml"))).toBe(true);
    expect(pulumi.with?.policyPackConfigs).toBe("policy/config/${{ matrix.stack }}.json");
    for (const stack of stacks) expect(fs.existsSync(path.join(root, `policy/config/${stack}.json`))).toBe(true);
  });

  test("each stack previews in its own environment (preview-prod has reviewers), whose secrets the steps read", () => {
    expect(job.environment).toBe("preview-${{ matrix.stack }}");
    const cloudsStep = (job.steps ?? []).find((s) => s.env?.CLOUDS_YAML);
    expect(cloudsStep?.env?.CLOUDS_YAML).toBe("${{ secrets.OPENSTACK_CLOUDS_YAML }}");
    expect(cloudsStep?.run).toContain('echo "OS_CLIENT_CONFIG_FILE=$RUNNER_TEMP/clouds.yaml" >> "$GITHUB_ENV"');
    expect(pulumi.env).toEqual({
      PULUMI_ACCESS_TOKEN: "${{ steps.pulumi-token.outputs.pulumi-access-token }}",
      PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
      AWS_ACCESS_KEY_ID: "${{ secrets.PULUMI_STATE_ACCESS_KEY_ID }}",
      AWS_SECRET_ACCESS_KEY: "${{ secrets.PULUMI_STATE_SECRET_ACCESS_KEY }}",
    });
    // No stored Pulumi Cloud token: a read-only team token by OIDC.
    expect(secretRefs(text("preview.yml"))).not.toContain("PULUMI_ACCESS_TOKEN");
    expect(stepUsing(job, "pulumi/auth-actions")[0].with).toMatchObject({
      "requested-token-type": "urn:pulumi:token-type:access_token:team",
      scope: "team:${{ vars.PULUMI_PREVIEW_TEAM }}",
    });
  });

  test("the clouds.yaml is removed after the preview, whatever happened", () => {
    const last = (job.steps ?? [])[(job.steps ?? []).length - 1];
    expect(last).toMatchObject({ if: "always()", run: 'rm -f "$RUNNER_TEMP/clouds.yaml"' });
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
    const publish = wf.jobs.publish;
    const pushBuild = stepUsing(publish, "docker/build-push-action")[0];
    expect(publish.if).toBe("github.event_name != 'pull_request'");
    expect(pushBuild.with?.push).toBe(true);
    expect(job.if).toBe("github.event_name == 'pull_request'");
    expect(build.with?.push).toBe(false);
    expect(publish.outputs).toEqual({ digest: "${{ steps.build.outputs.digest }}", image: "${{ steps.reference.outputs.image }}" });
    expect(wf.on.workflow_call).toEqual({
      outputs: {
        digest: { description: expect.any(String), value: "${{ jobs.publish.outputs.digest }}" },
        image: { description: expect.any(String), value: "${{ jobs.publish.outputs.image }}" },
      },
    });
    const reference = (publish.steps ?? []).find((s) => s.id === "reference");
    expect(reference?.run).toContain('echo "image=${NAME}@${DIGEST}" >> "$GITHUB_OUTPUT"');
  });

  test("the pull-request build and the push build build the same thing", () => {
    const pushBuild = stepUsing(wf.jobs.publish, "docker/build-push-action")[0];
    for (const key of ["context", "file", "platforms"]) expect(build.with?.[key]).toBe(pushBuild.with?.[key]);
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(job.permissions).toEqual({ contents: "read" });
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

  test("the smoke check runs after every up of dev, and promotion runs it on dev's digest before prod's up", () => {
    const verifyStep = (job: typeof wf.jobs.dev): number =>
      (job.steps ?? []).findIndex((s) => /npm run -s verify -- --outputs /.test(s.run ?? ""));
    const upStep = (job: typeof wf.jobs.dev): number => (job.steps ?? []).findIndex((s) => s.with?.command === "up");
    const dev = wf.jobs.dev;
    expect(verifyStep(dev)).toBeGreaterThan(upStep(dev));
    // Its exit code is the step's: a failed smoke check fails the deployment.
    expect(dev.steps![verifyStep(dev)].run).toMatch(/exit "\$status"\s*$/);
    expect(dev.steps![verifyStep(dev)].if).toBeUndefined();
    const prod = wf.jobs.prod;
    expect(verifyStep(prod)).toBeGreaterThan(-1);
    expect(verifyStep(prod)).toBeLessThan(upStep(prod));
    const read = (prod.steps ?? []).find((s) => s.run?.includes("pulumi stack output --json --show-secrets"));
    expect(read?.name).toBe("The image dev exports (what prod will run)");
    expect(read?.run).toMatch(
      /umask 077\n\s*pulumi stack output --json --show-secrets --stack "\$DEV_STACK" > "\$RUNNER_TEMP\/dev-outputs.json"/,
    );
    for (const job of [dev, prod])
      expect((job.steps ?? []).some((s) => s.if === "always()" && /rm -f .*outputs\.json/.test(s.run ?? ""))).toBe(true);
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

  test("promotion is an explicit step: npm run promote writes dev's checked digest into prod's own stack file", () => {
    const prodConfig = (parseYaml(fs.readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> })
      .config;
    // prod's program reads no other stack: no promoteFrom, and its image comes from its own file.
    expect(prodConfig["image-pipeline:promoteFrom"]).toBeUndefined();
    const read = (wf.jobs.prod.steps ?? []).find((s) => s.run?.includes("pulumi stack output workerImage"));
    expect(read?.run).toContain('pulumi stack output workerImage --stack "$DEV_STACK"');
    const promote = (wf.jobs.prod.steps ?? []).find((s) => s.run?.includes("npm run -s promote"));
    expect(promote?.env?.IMAGE).toBe("${{ steps.dev-image.outputs.image }}");
    expect(promote?.run).toContain('args=(--from dev --to prod --image "$IMAGE")');
    expect(promote?.run).toContain('args+=(--expected-digest "$EXPECTED_DIGEST")');
    expect(promote?.env?.EXPECTED_DIGEST).toBe("${{ inputs.expected_digest }}");
    expect(promote?.if).toBe("inputs.promote");
    // The up comes after the promotion, in the same job, from the file it wrote.
    const names = (wf.jobs.prod.steps ?? []).map((s) => s.name ?? s.uses);
    expect(names.indexOf("pulumi up")).toBeGreaterThan(names.indexOf(promote?.name));
  });

  test("the deployed image is committed to the stack file on main, by the only job with a write token", () => {
    const writers = Object.entries(wf.jobs).filter(([, job]) => job.permissions?.contents === "write");
    expect(writers.map(([name]) => name)).toEqual(["record"]);
    const record = wf.jobs.record;
    expect(record.needs).toEqual(["image", "dev", "prod"]);
    const run = (record.steps ?? []).map((s) => s.run ?? "").join("\n");
    expect(run).toContain('scripts/set-worker-image.sh "Pulumi.${STACK}.yaml" "$IMAGE"');
    expect(run).toContain("[skip ci]");
    expect(run).not.toMatch(/npm (ci|install)/);
  });

  test("one run per stack at a time: the whole run, not only the up, queues behind the one in progress", () => {
    expect(wf.concurrency).toEqual({
      group: "deploy-run-${{ github.event_name == 'workflow_dispatch' && 'prod' || 'dev' }}",
      "cancel-in-progress": false,
    });
  });

  test("dev and prod each read their own environment's credentials; nothing is set for the whole workflow", () => {
    expect(wf.env).toBeUndefined();
    expect(wf.jobs.dev.environment).toBe("dev");
    expect(wf.jobs.prod.environment).toBe("production");
    for (const name of ["dev", "prod"]) {
      const up = stepUsing(wf.jobs[name], "pulumi/actions").find((s) => s.with?.command === "up");
      expect(up?.env).toEqual({
        PULUMI_ACCESS_TOKEN: "${{ steps.pulumi-token.outputs.pulumi-access-token }}",
        PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        AWS_ACCESS_KEY_ID: "${{ secrets.PULUMI_STATE_ACCESS_KEY_ID }}",
        AWS_SECRET_ACCESS_KEY: "${{ secrets.PULUMI_STATE_SECRET_ACCESS_KEY }}",
      });
    }
    // Only promotion reads dev's outputs, with dev's passphrase, in that one step.
    const devPassphrase = steps(wf).filter((s) => JSON.stringify(s.env ?? {}).includes("DEV_PULUMI_CONFIG_PASSPHRASE"));
    expect(devPassphrase.map((s) => s.name)).toEqual(["The image dev exports (what prod will run)"]);
    expect((wf.jobs.prod.steps ?? []).includes(devPassphrase[0])).toBe(true);
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
