/**
 * A dedicated S3 credential for the pipeline: the pods get it, the bucket owner's credential (the one that creates
 * the buckets and the topic) stays with Pulumi, the bucket policies grant the dedicated user, and a new key rolls
 * the pods.
 */
import { planStack, type Plan } from "../../scripts/plan";
import { cachedPlan } from "../support/plan-cache";

const PRINCIPAL = "arn:aws:iam::tacc:user/image-pipeline-worker";
const dedicated = (secret: string) => ({
  "image-pipeline:s3PipelineAccessKeyId": "PIPELINE-ACCESS-KEY",
  "image-pipeline:s3PipelineSecretAccessKey": secret,
  "image-pipeline:s3PipelinePrincipal": PRINCIPAL,
});

let owner: Plan;
let pipeline: Plan;
let rotated: Plan;
beforeAll(async () => {
  // One after the other: the mocked Pulumi runtime is process-wide.
  owner = await cachedPlan("dev", { showSecrets: true });
  pipeline = await planStack("dev", { showSecrets: true, configOverrides: dedicated("pipeline-secret-1") });
  rotated = await planStack("dev", { showSecrets: true, configOverrides: dedicated("pipeline-secret-2") });
}, 300_000);

const byName = (plan: Plan, name: string) => {
  const r = plan.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no ${name} in the plan`);
  return r;
};
const podEnv = (plan: Plan) => byName(plan, "workload-secrets").inputs.stringData as Record<string, string>;
const annotations = (plan: Plan, name: string) =>
  (byName(plan, name).inputs as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata
    .annotations;

test("without one, the pods hold the owner's credential, the one that made the buckets", () => {
  expect(podEnv(owner).S3_ACCESS_KEY_ID).toBe(byName(owner, "storage-topic").inputs.accessKeyId);
});

test("with one, the pods hold it, the buckets and the topic are still made with the owner's, and the policies grant it", () => {
  expect(podEnv(pipeline)).toMatchObject({ S3_ACCESS_KEY_ID: "PIPELINE-ACCESS-KEY", S3_SECRET_ACCESS_KEY: "pipeline-secret-1" });
  expect(byName(pipeline, "storage-topic").inputs.accessKeyId).toBe(byName(owner, "storage-topic").inputs.accessKeyId);
  expect(byName(pipeline, "storage-topic").inputs.accessKeyId).not.toBe("PIPELINE-ACCESS-KEY");
  for (const policy of ["storage-input-policy", "storage-output-policy"]) {
    const doc = JSON.parse(String(byName(pipeline, policy).inputs.policy)) as { Statement: { Principal: { AWS: string[] } }[] };
    expect(doc.Statement.map((s) => s.Principal.AWS)).toEqual(doc.Statement.map(() => [PRINCIPAL]));
  }
});

test("rotating the key is a stack-config change: the Secret changes and the Deployments' pods roll", () => {
  expect(podEnv(rotated).S3_SECRET_ACCESS_KEY).toBe("pipeline-secret-2");
  for (const deployment of ["workload-worker", "workload-webhook"])
    expect(annotations(rotated, deployment)["image-pipeline/secrets-checksum"]).not.toBe(
      annotations(pipeline, deployment)["image-pipeline/secrets-checksum"],
    );
});
