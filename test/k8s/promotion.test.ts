/**
 * Promotion as an explicit step (`npm run promote`): the image dev runs goes into prod's stack file, checked, and
 * prod's program reads only its own config. The Pulumi CLI cannot run here: a stand-in `pulumi` on PATH answers
 * `pulumi stack output --json --stack <s>` as the CLI documents it (a JSON object of the stack's outputs) and fails
 * for a stack that does not exist, as the CLI does. set-worker-image.sh and the stack files are the real ones.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readCliConfig } from "../../infra/config/cli-config";
import { checkPromotedImage, parsePromoteArgs, promote } from "../../scripts/promote";
import { planStack } from "../../scripts/plan";

const ROOT = path.resolve(__dirname, "../..");
const TESTED = `ghcr.io/image-pipeline-ci/image-pipeline-worker@sha256:${"ab12".repeat(16)}`;
const DIGEST = TESTED.slice(TESTED.indexOf("@") + 1);

let dir: string;
let savedPath: string | undefined;

/** A project copy with the real stack files, and a stand-in `pulumi` whose dev stack exports `outputs`. */
function project(outputs: Record<string, unknown> | undefined): string {
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  for (const stack of ["dev", "prod"]) fs.copyFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), path.join(dir, `Pulumi.${stack}.yaml`));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  const answer = outputs === undefined ? "" : JSON.stringify(outputs);
  fs.writeFileSync(
    path.join(bin, "pulumi"),
    [
      "#!/usr/bin/env bash",
      "set -euo pipefail",
      `[ "$*" = "stack output --json --stack dev" ] || { echo "error: no stack named '\${*: -1}' found" >&2; exit 255; }`,
      answer ? `printf '%s\\n' '${answer}'` : `echo "error: no stack named 'dev' found" >&2; exit 255`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  process.env.PATH = `${bin}:${savedPath}`;
  return dir;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "promote-"));
  savedPath = process.env.PATH;
});
afterEach(() => {
  process.env.PATH = savedPath;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("npm run promote -- --from dev --to prod", () => {
  test("writes the image dev runs into Pulumi.prod.yaml, which the program then reads as prod's workerImage", () => {
    const projectDir = project({ workerImage: TESTED, kubeconfig: "[secret]" });
    expect(promote(parsePromoteArgs(["--from", "dev", "--to", "prod"]), projectDir)).toBe(TESTED);
    expect(readCliConfig(projectDir, "prod").config["image-pipeline:workerImage"]).toBe(TESTED);
    // Nothing else in the stack file changed.
    const before = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8").split("\n");
    const after = fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8").split("\n");
    expect(after.filter((line) => !before.includes(line))).toEqual([`  image-pipeline:workerImage: ${TESTED}`]);
    expect(before.filter((line) => !after.includes(line))).toEqual([]);
  });

  test("promoting again replaces the line instead of adding another", () => {
    const projectDir = project({ workerImage: TESTED });
    promote(parsePromoteArgs(["--from", "dev", "--to", "prod"]), projectDir);
    const next = TESTED.replace(/@sha256:.*/, `@sha256:${"cd34".repeat(16)}`);
    promote(parsePromoteArgs(["--from", "dev", "--to", "prod", "--image", next]), projectDir);
    const lines = fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8").split("\n");
    expect(lines.filter((l) => l.includes("image-pipeline:workerImage:"))).toEqual([`  image-pipeline:workerImage: ${next}`]);
  });

  test("stops, leaving prod's file untouched, when dev's digest is not the reviewed one", () => {
    const projectDir = project({ workerImage: TESTED });
    const other = `sha256:${"0f".repeat(32)}`;
    expect(() => promote(parsePromoteArgs(["--from", "dev", "--to", "prod", "--expected-digest", other]), projectDir)).toThrow(
      `dev runs ${DIGEST}, not the reviewed ${other}: not promoting`,
    );
    expect(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")).toBe(
      fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8"),
    );
    expect(promote(parsePromoteArgs(["--from", "dev", "--to", "prod", "--expected-digest", DIGEST]), projectDir)).toBe(TESTED);
  });

  test("refuses an image that is not pinned, a placeholder, or missing", () => {
    expect(() => checkPromotedImage("ghcr.io/org/worker:latest", "dev")).toThrow(/cannot be promoted: .*digest/);
    expect(() => checkPromotedImage(`ghcr.io/example-org/image-pipeline-worker@sha256:${"1".repeat(64)}`, "dev")).toThrow(
      /cannot be promoted/,
    );
    expect(() => checkPromotedImage(undefined, "dev")).toThrow("stack dev has no workerImage output: run pulumi up there first");
  });

  test("fails naming the stack when dev does not exist; an image read elsewhere (--image) is checked the same way", () => {
    const projectDir = project(undefined);
    expect(() => promote(parsePromoteArgs(["--from", "dev", "--to", "prod"]), projectDir)).toThrow(/no stack named 'dev'/);
    expect(() => promote(parsePromoteArgs(["--from", "dev", "--to", "prod", "--image", "ghcr.io/o/w:1"]), projectDir)).toThrow(
      /cannot be promoted/,
    );
    expect(promote(parsePromoteArgs(["--from", "dev", "--to", "prod", "--image", TESTED]), projectDir)).toBe(TESTED);
  });

  test("arguments: --to required, not the same stack twice, a well-formed digest", () => {
    expect(() => parsePromoteArgs(["--from", "dev"])).toThrow(/--to is required/);
    expect(() => parsePromoteArgs(["--to", "prod"])).toThrow(/--from is required/);
    expect(() => parsePromoteArgs(["--from", "org/image-pipeline/prod", "--to", "prod"])).toThrow(/same stack \(prod\)/);
    expect(() => parsePromoteArgs(["--from", "dev", "--to", "prod", "--expected-digest", "abc"])).toThrow(/--expected-digest must be/);
  });

  test("the command exits non-zero with the reason on stderr", () => {
    const result = spawnSync("npx", ["ts-node", "--transpile-only", "scripts/promote.ts", "--from", "dev"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^promote: --to is required/m);
  });
});

describe("set-worker-image.sh", () => {
  test("refuses a reference that is not pinned by digest, and a file without a config map", () => {
    const file = path.join(dir, "Pulumi.x.yaml");
    fs.writeFileSync(file, 'config:\n  image-pipeline:nodeCount: "3"\n');
    const run = (image: string) => spawnSync("bash", [path.join(ROOT, "scripts/set-worker-image.sh"), file, image], { encoding: "utf8" });
    expect(run("ghcr.io/org/w:latest").status).toBe(1);
    expect(run(`ghcr.io/org/w@sha256:${"a".repeat(64)}|x`).status).toBe(1);
    expect(fs.readFileSync(file, "utf8")).toBe('config:\n  image-pipeline:nodeCount: "3"\n');
    expect(run(TESTED).status).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(`config:\n  image-pipeline:workerImage: ${TESTED}\n  image-pipeline:nodeCount: "3"\n`);
    fs.writeFileSync(file, "secretsprovider: passphrase\n");
    expect(run(TESTED).stderr).toMatch(/has no top-level config: map/);
  });

  test("passes shellcheck", () => {
    expect(() => execFileSync("shellcheck", [path.join(ROOT, "scripts/set-worker-image.sh")])).not.toThrow();
  });
});

describe("prod's program never reads another stack", () => {
  test("prod's plan declares no StackReference and runs the image of its own config", async () => {
    const plan = await planStack("prod", { configOverrides: { "image-pipeline:workerImage": TESTED } });
    expect(plan.resources.filter((r) => r.type === "pulumi:pulumi:StackReference")).toEqual([]);
    expect(plan.outputs.workerImage).toBe(TESTED);
  });
});
