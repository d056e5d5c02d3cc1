/**
 * The worker image's environment: non-secret values in a ConfigMap, secret ones in a Secret, both consumed with
 * `envFrom`. Variable names come from the worker's own list (worker/src/config.ts), so a renamed variable breaks
 * the build and the tests instead of a rollout.
 */
import { createHash } from "crypto";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { ISecret } from "kubernetes-models/v1/Secret";
import { WORKER_ENV } from "../worker/src/config";
import { componentLabels, pipelineLabels } from "./labels";
import { DATABASE_CA_FILE, HTTP_PORT, objectNames } from "./names";
import type { PipelineBindings, PipelineSecretValues, PipelineWorkloadSettings } from "./settings";

const SECRET_ENV = new Set(WORKER_ENV.filter((v) => v.secret).map((v) => v.name));
const KNOWN_ENV = new Set(WORKER_ENV.map((v) => v.name));

function checkedEnv(values: Record<string, string>, secret: boolean): Record<string, string> {
  for (const name of Object.keys(values)) {
    if (!KNOWN_ENV.has(name)) throw new Error(`${name} is not a variable the worker image reads (see WORKER_ENV in worker/src/config.ts)`);
    if (SECRET_ENV.has(name) !== secret) {
      throw new Error(
        `${name} belongs in the ${SECRET_ENV.has(name) ? "Secret" : "ConfigMap"}, not the ${secret ? "Secret" : "ConfigMap"}`,
      );
    }
  }
  return values;
}

/** Non-secret environment of the webhook, the worker and the migration Job. */
export function pipelineEnvironment(s: PipelineWorkloadSettings, b: PipelineBindings): Record<string, string> {
  const r = s.runtime;
  return checkedEnv(
    {
      S3_ENDPOINT: b.s3Endpoint,
      S3_REGION: b.s3Region,
      S3_FORCE_PATH_STYLE: "true",
      INPUT_BUCKET: b.inputBucket,
      OUTPUT_BUCKET: b.outputBucket,
      OUTPUT_PREFIX: r.outputPrefix,
      KEY_PREFIX_FILTER: r.keyPrefixFilter,
      KEY_SUFFIX_FILTER: r.keySuffixFilter,
      PORT: String(HTTP_PORT),
      VISIBILITY_TIMEOUT_SECONDS: String(r.visibilityTimeoutSeconds),
      MAX_ATTEMPTS: String(r.maxAttempts),
      RETRY_BUDGET_SECONDS: String(r.retryBudgetSeconds),
      S3_CONNECT_TIMEOUT_MS: String(r.s3ConnectTimeoutMs),
      S3_REQUEST_TIMEOUT_MS: String(r.s3RequestTimeoutMs),
      NOTIFICATION_MAX_AGE_SECONDS: String(r.notificationMaxAgeSeconds),
      LIMIT_INPUT_PIXELS: String(r.limitInputPixels),
      TRANSFORM_TIMEOUT_MS: String(r.transformTimeoutMs),
      RECONCILE_MODE: r.reconcileMode,
      RECONCILE_INTERVAL_SECONDS: String(r.reconcileIntervalSeconds),
      WORKER_CONCURRENCY: String(r.concurrency),
      SHUTDOWN_GRACE_SECONDS: String(r.shutdownGraceSeconds),
      LOG_LEVEL: r.logLevel,
      // Only the migration reads it: the role it creates for the services (in-cluster PostgreSQL).
      ...(s.database.kind === "in-cluster" ? { DATABASE_APP_ROLE: s.database.user } : {}),
    },
    false,
  );
}

export function buildConfigMap(s: PipelineWorkloadSettings, b: PipelineBindings): IConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: objectNames(s).config, namespace: s.namespace, labels: pipelineLabels(s.instance) },
    data: pipelineEnvironment(s, b),
  };
}

export function pipelineSecretEnvironment(v: PipelineSecretValues): Record<string, string> {
  return checkedEnv(
    {
      DATABASE_URL: v.databaseUrl,
      S3_ACCESS_KEY_ID: v.s3AccessKeyId,
      S3_SECRET_ACCESS_KEY: v.s3SecretAccessKey,
      WEBHOOK_SECRET: v.webhookSecret,
    },
    true,
  );
}

export function buildPipelineSecret(s: PipelineWorkloadSettings, v: PipelineSecretValues): ISecret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: objectNames(s).secrets, namespace: s.namespace, labels: pipelineLabels(s.instance) },
    type: "Opaque",
    stringData: pipelineSecretEnvironment(v),
  };
}

/** The migration Job's Secret with the in-cluster PostgreSQL: the superuser's URL and the role password it sets. */
export function buildMigrationSecret(s: PipelineWorkloadSettings, v: PipelineSecretValues): ISecret {
  if (s.database.kind !== "in-cluster") throw new Error("buildMigrationSecret: database.kind is not in-cluster");
  if (!v.migration)
    throw new Error("the migration's credentials are required when database.kind is in-cluster (superuser URL, role password)");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: objectNames(s).migrateSecrets, namespace: s.namespace, labels: componentLabels(s.instance, "migrate") },
    type: "Opaque",
    stringData: checkedEnv({ DATABASE_URL: v.migration.databaseUrl, DATABASE_APP_PASSWORD: v.migration.appRolePassword }, true),
  };
}

/** A salted fingerprint of the application role's password: it reveals only that the password changed. */
export function appRoleChecksum(appRolePassword: string): string {
  return createHash("sha256").update("image-pipeline/app-role/v1:").update(appRolePassword).digest("hex");
}

/** The CA that signs the external database's server certificate; the pods mount it at DATABASE_CA_PATH. */
export function buildDatabaseCaConfigMap(s: PipelineWorkloadSettings): IConfigMap {
  if (s.database.kind !== "trove" || s.database.caCertificate === undefined) {
    throw new Error("buildDatabaseCaConfigMap: the settings name no CA certificate for the database");
  }
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: objectNames(s).databaseCa, namespace: s.namespace, labels: pipelineLabels(s.instance) },
    data: { [DATABASE_CA_FILE]: s.database.caCertificate },
  };
}

/** Credentials of the in-cluster PostgreSQL, in the variable names the official image reads at first start. */
export function buildPostgresSecret(s: PipelineWorkloadSettings, v: PipelineSecretValues): ISecret {
  if (s.database.kind !== "in-cluster") throw new Error("buildPostgresSecret: database.kind is not in-cluster");
  if (!v.postgresPassword)
    throw new Error("postgresPassword is required when database.kind is in-cluster (the database component's RandomPassword)");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: objectNames(s).postgresCredentials, namespace: s.namespace, labels: componentLabels(s.instance, "postgres") },
    type: "Opaque",
    stringData: { POSTGRES_PASSWORD: v.postgresPassword },
  };
}

/**
 * Fingerprint of the secret values for the pods' `checksum/secrets` annotation. A salted SHA-256 over values that
 * are themselves random or credential-bearing; it reveals only whether they changed.
 */
export function secretsChecksum(v: PipelineSecretValues): string {
  const h = createHash("sha256").update("image-pipeline/secrets/v1");
  for (const value of [
    v.databaseUrl,
    v.s3AccessKeyId,
    v.s3SecretAccessKey,
    v.webhookSecret,
    v.postgresPassword ?? "",
    v.migration?.databaseUrl ?? "",
    v.migration?.appRolePassword ?? "",
  ]) {
    h.update(String(value.length)).update(":").update(value);
  }
  return h.digest("hex");
}

/** Fingerprint of the ConfigMap's data, so a configuration change rolls the pods (envFrom is read at start only). */
export function configChecksum(data: Record<string, string>): string {
  const sorted = Object.keys(data)
    .sort()
    .map((k) => [k, data[k]]);
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}
