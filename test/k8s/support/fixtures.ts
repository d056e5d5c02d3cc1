/** Settings, bindings and secret values for the builders, derived from the committed stack files. */
import { parseStackConfig, type StackConfig } from "../../../infra/config";
import { workloadSettings } from "../../../infra/workload-settings";
import type { PipelineBindings, PipelineSecretValues, PipelineWorkloadSettings } from "../../../k8s/settings";
import { mapSource, stackValues } from "../../support/configSource";

export const STACKS = ["dev", "prod"] as const;
export type StackName = (typeof STACKS)[number];

const NOW = new Date("2026-11-22T12:00:00Z");

export function stackConfig(stack: StackName, overrides: Record<string, string | undefined> = {}): StackConfig {
  return parseStackConfig(mapSource(stackValues(stack, overrides)), stack, NOW);
}

export function stackSettings(stack: StackName, overrides: Record<string, string | undefined> = {}): PipelineWorkloadSettings {
  return workloadSettings(stackConfig(stack, overrides));
}

export const DEV_IMAGE =
  "ghcr.io/example-org/image-pipeline-worker:0.1.0@sha256:e0d0366a59c8a68bbcf62d8d574f27301590b0bdf76bb83f67627848b1fbe1fc";

export function bindings(overrides: Partial<PipelineBindings> = {}): PipelineBindings {
  return {
    image: DEV_IMAGE,
    s3Endpoint: "https://rgw.example.org",
    s3Region: "default",
    inputBucket: "input-bucket-dev",
    outputBucket: "output-bucket-dev",
    secretsChecksum: "0".repeat(64),
    // The managed database's address (prod's Trove); the in-cluster stack only carries it on the migration Job.
    databaseTarget: "192.168.1.50:5432/pipeline_db",
    ...overrides,
  };
}

export function secretValues(stack: StackName): PipelineSecretValues {
  const host = stack === "dev" ? "postgres.image-pipeline.svc.cluster.local" : "192.168.1.50";
  return {
    databaseUrl: `postgresql://pipeline:s3cr3t-db@${host}:5432/pipeline_db`,
    s3AccessKeyId: "AKIAEXAMPLE",
    s3SecretAccessKey: "secret-access-key-example",
    webhookSecret: "opaque-data-example",
    // dev's in-cluster PostgreSQL: the superuser is the migration Job's alone; the services connect as pipeline.
    postgresPassword: stack === "dev" ? "s3cr3t-admin" : undefined,
    migration:
      stack === "dev"
        ? { databaseUrl: `postgresql://postgres:s3cr3t-admin@${host}:5432/pipeline_db`, appRolePassword: "s3cr3t-db" }
        : undefined,
    // Both example stacks pull the worker image from ghcr.io, which keeps a new package private.
    registry: { username: "ci-bot", password: "ghp_token" },
  };
}
