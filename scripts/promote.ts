/**
 * Promotion, as an explicit step: `npm run promote -- --from dev --to prod [--expected-digest sha256:<hex>]`.
 *
 * Reads the worker image the `--from` stack runs (its `workerImage` output, through `pulumi stack output`), checks
 * it (pinned by digest, no documentation placeholder, the digest that was reviewed when one is given) and writes it
 * into the `--to` stack's file, `Pulumi.<stack>.yaml`, with scripts/set-worker-image.sh. The change is then
 * committed like any other; the target stack's `pulumi up` reads only its own file and never needs the source stack
 * to exist. `--image <ref>` takes the source stack's image as read elsewhere (the Deploy workflow reads it in a step
 * of its own, the only one with the source stack's secrets) and checks it the same way.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { parseCommandLine } from "../common/command-line";
import { pinnedImageProblem } from "../common/workload-rules";

const USAGE = "usage: npm run promote -- --from <stack> --to <stack> [--expected-digest sha256:<hex>] [--image <reference read from it>]";
const PROJECT_DIR = path.resolve(__dirname, "..");

export interface PromoteArgs {
  /** The stack that tested the image: a short name (dev) or a fully qualified one (<org>/image-pipeline/dev). */
  readonly from: string;
  /** The stack whose file gets the image: its short name is the last path segment. */
  readonly to: string;
  readonly expectedDigest?: string;
  readonly image?: string;
}

export function parsePromoteArgs(argv: string[]): PromoteArgs {
  const values = parseCommandLine(
    argv,
    { from: { type: "string" }, to: { type: "string" }, "expected-digest": { type: "string" }, image: { type: "string" } },
    USAGE,
  );
  const from = values.from ?? "";
  const to = values.to ?? "";
  if (!to) throw new Error(`--to is required; ${USAGE}`);
  if (!from) throw new Error(`--from is required: the stack the image was tested on; ${USAGE}`);
  if (from && shortName(from) === shortName(to)) throw new Error(`--from and --to name the same stack (${shortName(to)}); ${USAGE}`);
  const expectedDigest = values["expected-digest"];
  if (expectedDigest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(expectedDigest)) {
    throw new Error(`--expected-digest must be sha256:<64 hex digits>, got "${expectedDigest}"; ${USAGE}`);
  }
  return { from, to, expectedDigest, image: values.image };
}

const shortName = (stack: string) => stack.split("/").pop() ?? stack;

/** The checks an image must pass before it is promoted; throws naming what is wrong and what to do. */
export function checkPromotedImage(image: unknown, source: string, expectedDigest?: string): string {
  if (typeof image !== "string" || image === "") {
    throw new Error(`stack ${source} has no workerImage output: run pulumi up there first, or pass --image <reference>`);
  }
  const problem = pinnedImageProblem(image);
  if (problem) throw new Error(`the image of ${source} (${image}) cannot be promoted: ${problem}`);
  const digest = image.slice(image.lastIndexOf("@") + 1);
  if (expectedDigest !== undefined && digest !== expectedDigest) {
    throw new Error(`${source} runs ${digest}, not the reviewed ${expectedDigest}: not promoting`);
  }
  return image;
}

/** `pulumi stack output --json` of a stack: its outputs as an object (secrets show as "[secret]"). */
export function readStackOutputs(stack: string, cwd = PROJECT_DIR): Record<string, unknown> {
  const text = execFileSync("pulumi", ["stack", "output", "--json", "--stack", stack], { cwd, encoding: "utf8", env: process.env });
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`pulumi stack output --json --stack ${stack} printed no object`);
  }
  return parsed as Record<string, unknown>;
}

/** Promotes and returns the image written into `Pulumi.<to>.yaml` under `projectDir`. */
export function promote(args: PromoteArgs, projectDir = PROJECT_DIR): string {
  const source = args.from;
  const found = args.image ?? readStackOutputs(args.from, projectDir).workerImage;
  const image = checkPromotedImage(found, source, args.expectedDigest);
  const stackFile = path.join(projectDir, `Pulumi.${shortName(args.to)}.yaml`);
  execFileSync("bash", [path.join(PROJECT_DIR, "scripts", "set-worker-image.sh"), stackFile, image], { stdio: "inherit" });
  return image;
}

function main(): void {
  const args = parsePromoteArgs(process.argv.slice(2));
  const image = promote(args);
  console.log(`Pulumi.${shortName(args.to)}.yaml now runs ${image}. Review and commit it; then pulumi up --stack ${args.to} deploys it.`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(`promote: ${(err as Error).message}`);
    process.exit(1);
  }
}
