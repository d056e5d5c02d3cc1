/**
 * `npm run render -- --stack dev`: multi-document YAML, one object per document, that parses and validates
 * against the Kubernetes schema as a separate step (kubectl cannot validate without an API server).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { parseAllDocuments } from "yaml";
import { parseRenderArgs } from "../../scripts/render";
import { validateKubernetesObject } from "./support/kubernetesSchema";

const run = promisify(execFile);
const root = path.resolve(__dirname, "../..");

test("npm run render writes the dev stack as schema-valid YAML, secrets redacted", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
  const out = path.join(dir, "dev.yaml");
  try {
    await run("npm", ["run", "--silent", "render", "--", "--stack", "dev", "--out", out], { cwd: root, timeout: 120_000 });
    const docs = parseAllDocuments(fs.readFileSync(out, "utf8"));
    expect(docs.map((d) => d.errors.length)).toEqual(docs.map(() => 0));
    const objects = docs.map(
      (d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string }; stringData?: Record<string, string> },
    );
    for (const o of objects) validateKubernetesObject(o);
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "Namespace/image-pipeline",
        "Deployment/image-pipeline-worker",
        "Deployment/image-pipeline-webhook",
        "HorizontalPodAutoscaler/image-pipeline-worker",
        "Ingress/image-pipeline-webhook",
        "StatefulSet/postgres",
        "Secret/image-pipeline-secrets",
      ]),
    );
    expect(new Set(kinds).size).toBe(kinds.length);
    const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === "image-pipeline-secrets");
    expect(secret?.stringData).toEqual({
      DATABASE_URL: "[redacted]",
      S3_ACCESS_KEY_ID: "[redacted]",
      S3_SECRET_ACCESS_KEY: "[redacted]",
      WEBHOOK_SECRET: "[redacted]",
    });
    expect(fs.readFileSync(out, "utf8")).not.toMatch(/offline-(password|secret)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("render arguments: a stack is required and unknown flags are refused", () => {
  expect(parseRenderArgs(["--stack", "prod", "--out=x.yaml"])).toEqual({ stack: "prod", out: "x.yaml" });
  expect(() => parseRenderArgs([])).toThrow(/--stack is required; stacks: .*dev/);
  expect(() => parseRenderArgs(["--stack", "dev", "--kubeconfig"])).toThrow(
    "unknown argument --kubeconfig; usage: npm run render -- --stack <name> [--out <file>]",
  );
});
