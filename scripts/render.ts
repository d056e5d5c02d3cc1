/**
 * Writes a stack's Kubernetes objects as multi-document YAML, one object per document, for review or GitOps.
 *
 *   npm run render -- --stack dev [--out k8s-dev.yaml]
 *
 * The objects are taken from the offline plan (scripts/plan.ts): the program is evaluated exactly as `pulumi up`
 * would, under mocks, and every `kubernetes:*` resource's inputs are written out. So the YAML is what Pulumi would
 * apply, not a second rendering path that could drift. Values other components compute at deploy time (bucket
 * names with generated suffixes, the promoted image in a fresh checkout) are the plan's placeholders. Secret
 * values are never written: each Secret lists its keys with the value "[redacted]" (offline, secret values are
stand-ins anyway: encrypted stack values are never decrypted by the plan).
 */
import * as fs from "fs";
import * as path from "path";
import { listStacks, planStack, SECRET_PLACEHOLDER, type Plan } from "./plan";
import { redactSecret, toMultiDocumentYaml } from "../k8s/yaml";
import { parseCommandLine } from "../common/command-line";

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; [key: string]: unknown };
  [field: string]: unknown;
}

function secretStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(secretStrings);
  return [];
}

/**
 * The Kubernetes objects of a plan, in declaration (apply) order, Secret values redacted. The plan is taken with
 * secrets shown so Secrets keep their keys; the values are dropped here, and any other object that contains one
 * of them is an error (secrets belong in Secrets only), not something to print.
 */
export function kubernetesObjects(plan: Plan): RenderedObject[] {
  const objects: RenderedObject[] = [];
  for (const r of plan.resources) {
    if (!r.type.startsWith("kubernetes:")) continue;
    const { apiVersion, kind, ...fields } = r.inputs as { apiVersion?: string; kind?: string; [k: string]: unknown };
    if (typeof apiVersion !== "string" || typeof kind !== "string")
      throw new Error(`${r.type} ${r.name} has no apiVersion/kind in its inputs`);
    objects.push({ apiVersion, kind, ...(fields as { metadata: RenderedObject["metadata"] }) });
  }
  const secrets = objects.filter((o) => o.kind === "Secret");
  // Short values (e.g. "true") could match by accident; real secrets and the offline stand-ins are longer.
  const values = [...new Set(secrets.flatMap((o) => [...secretStrings(o.data), ...secretStrings(o.stringData)]))].filter(
    (v) => v.length >= 8,
  );
  for (const o of objects) {
    if (o.kind === "Secret") continue;
    const text = JSON.stringify(o);
    if (text.includes(SECRET_PLACEHOLDER) || values.some((v) => text.includes(v))) {
      throw new Error(`${o.kind} ${o.metadata?.name ?? ""} contains a secret value; only Secrets may`);
    }
  }
  return objects.map((o) => redactSecret(o));
}

export async function renderStack(stack: string): Promise<string> {
  const plan = await planStack(stack, { showSecrets: true });
  const objects = kubernetesObjects(plan);
  if (objects.length === 0) throw new Error(`stack ${stack} declares no Kubernetes objects`);
  return toMultiDocumentYaml(objects);
}

export function parseRenderArgs(argv: string[]): { stack: string; out?: string } {
  const values = parseCommandLine(
    argv,
    { stack: { type: "string" }, out: { type: "string" } },
    "usage: npm run render -- --stack <name> [--out <file>]",
  );
  const stack = values.stack ?? "";
  const out = values.out;
  if (!stack) throw new Error(`--stack is required; stacks: ${listStacks(path.resolve(__dirname, "..")).join(", ")}`);
  if (out === "") throw new Error("--out needs a file name");
  return { stack, out };
}

async function main(): Promise<void> {
  const args = parseRenderArgs(process.argv.slice(2));
  const yaml = await renderStack(args.stack);
  if (args.out) {
    fs.writeFileSync(args.out, yaml);
    process.stderr.write(`wrote ${args.out}\n`);
  } else {
    process.stdout.write(yaml);
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
