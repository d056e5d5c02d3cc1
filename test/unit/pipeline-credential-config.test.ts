/** s3PipelineAccessKeyId / s3PipelineSecretAccessKey: the worker's own S3 credential, read before anything exists. */
import { parseStackConfig } from "../../infra/config";
import { configProblems, mapSource, stackValues } from "../support/configSource";

const NOW = new Date("2026-11-22T12:00:00Z");
const parse = (stack: string, overrides: Record<string, string | undefined>) =>
  parseStackConfig(mapSource(stackValues(stack, overrides)), stack, NOW);
const problemsOf = (stack: string, overrides: Record<string, string | undefined>) => configProblems(() => parse(stack, overrides));
const PRINCIPAL = "arn:aws:iam::tacc:user/image-pipeline-worker";

test("absent: the pods use the credential that makes the buckets", () => {
  expect(parse("dev", {}).storage.pipelineCredential).toBeUndefined();
});

test("both keys and the principal they belong to give the dedicated credential", () => {
  const cfg = parse("dev", { s3PipelineAccessKeyId: "AK", s3PipelineSecretAccessKey: "SK", s3PipelinePrincipal: PRINCIPAL });
  expect(cfg.storage.pipelineCredential).toEqual({ accessKeyId: "AK", secretAccessKey: "SK" });
  expect(cfg.storage.pipelinePrincipal).toBe(PRINCIPAL);
});

test.each([
  [{ s3PipelineAccessKeyId: "AK", s3PipelinePrincipal: PRINCIPAL }, /s3PipelineSecretAccessKey: is required with s3PipelineAccessKeyId/],
  [
    { s3PipelineSecretAccessKey: "SK", s3PipelinePrincipal: PRINCIPAL },
    /s3PipelineAccessKeyId: is required with s3PipelineSecretAccessKey/,
  ],
  [
    { s3PipelineAccessKeyId: "AK", s3PipelineSecretAccessKey: "SK" },
    /s3PipelinePrincipal: is required with s3PipelineAccessKeyId: the bucket policies must grant the pipeline's own RGW user, not the owner/,
  ],
])("refuses %j naming the key", (overrides, message) => {
  expect(problemsOf("dev", overrides)).toEqual([expect.stringMatching(message)]);
});
