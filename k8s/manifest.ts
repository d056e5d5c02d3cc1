/**
 * The pipeline's Kubernetes objects, in apply order, each with a stable id and its dependencies.
 *
 * Which objects exist depends only on the settings (stack configuration); bindings and secret values only fill in
 * fields. The Pulumi component relies on that: it declares one typed resource per catalog entry up front and feeds
 * it fields once the other components' outputs are known.
 */
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { ISecret } from "kubernetes-models/v1/Secret";
import type { IService } from "kubernetes-models/v1/Service";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import {
  buildConfigMap,
  buildDatabaseCaConfigMap,
  buildMigrationSecret,
  buildPipelineSecret,
  buildPostgresSecret,
  configChecksum,
  pipelineEnvironment,
} from "./configuration";
import { buildPipelineAlertRules, type PrometheusRuleObject } from "./alert-rules";
import { buildDatabaseEgressPolicy, buildDefaultDenyEgress, buildDnsEgressPolicy, buildS3EgressPolicy } from "./egress";
import {
  buildWorkerScaledObject,
  buildWorkerTriggerAuthentication,
  type ScaledObjectObject,
  type TriggerAuthenticationObject,
} from "./keda";
import { buildMigrationJob } from "./migration";
import { objectNames } from "./names";
import { buildNamespace, buildServiceAccount } from "./namespace";
import { buildDefaultDenyIngress, buildDisruptionBudget, buildPostgresClientsPolicy, buildWebhookIngressPolicy } from "./policies";
import { buildPostgresService, buildPostgresStatefulSet } from "./postgres";
import { buildRegistrySecret } from "./registry";
import { assertWorkloadSettings, type PipelineBindings, type PipelineSecretValues, type PipelineWorkloadSettings } from "./settings";
import { buildWebhookDeployment, buildWebhookIngress, buildWebhookService } from "./webhook";
import { buildWorkerAutoscaler, buildWorkerDeployment } from "./worker";

export type KubernetesObject =
  | INamespace
  | IServiceAccount
  | ISecret
  | IConfigMap
  | INetworkPolicy
  | IService
  | IStatefulSet
  | IJob
  | IDeployment
  | IHorizontalPodAutoscaler
  | IPodDisruptionBudget
  | IIngress
  | PrometheusRuleObject
  | ScaledObjectObject
  | TriggerAuthenticationObject;

export type ObjectKind = KubernetesObject["kind"];

export interface CatalogEntry {
  /** Stable id, used as the Pulumi resource name suffix. */
  readonly id: string;
  readonly apiVersion: KubernetesObject["apiVersion"];
  readonly kind: ObjectKind;
  /** Built from secret values; never rendered in clear text. */
  readonly secret: boolean;
  /** Ids of objects that must exist (and, for Jobs and workloads, be ready) before this one is applied. */
  readonly after: readonly string[];
  /** Needs `PipelineBindings` (image, buckets, endpoint); the others are fixed by the settings alone. */
  readonly bound: boolean;
}

interface BuildContext {
  readonly bindings: PipelineBindings;
  readonly podAnnotations: Record<string, string>;
}

interface ObjectSpec extends CatalogEntry {
  readonly build: (ctx: BuildContext | undefined) => KubernetesObject;
  readonly buildSecret?: (values: PipelineSecretValues) => ISecret;
}

function objectSpecs(s: PipelineWorkloadSettings): ObjectSpec[] {
  assertWorkloadSettings(s);
  const names = objectNames(s);
  const inCluster = s.database.kind === "in-cluster";
  const specs: ObjectSpec[] = [];
  const plain = (
    id: string,
    kind: ObjectKind,
    apiVersion: CatalogEntry["apiVersion"],
    after: string[],
    build: () => KubernetesObject,
  ): void => {
    specs.push({ id, kind, apiVersion, secret: false, bound: false, after: id === "namespace" ? after : ["namespace", ...after], build });
  };
  const bound = (
    id: string,
    kind: ObjectKind,
    apiVersion: CatalogEntry["apiVersion"],
    after: string[],
    build: (ctx: BuildContext) => KubernetesObject,
  ): void => {
    specs.push({
      id,
      kind,
      apiVersion,
      secret: false,
      bound: true,
      after: ["namespace", ...after],
      build: (ctx) => {
        if (!ctx) throw new Error(`${id} needs the pipeline bindings (image, buckets, endpoint)`);
        return build(ctx);
      },
    });
  };
  const secret = (id: string, buildSecret: (v: PipelineSecretValues) => ISecret): void => {
    specs.push({
      id,
      kind: "Secret",
      apiVersion: "v1",
      secret: true,
      bound: false,
      after: ["namespace"],
      build: () => {
        throw new Error(`${id} is a Secret; build it with buildPipelineSecrets`);
      },
      buildSecret,
    });
  };

  plain("namespace", "Namespace", "v1", [], () => buildNamespace(s));
  // Pods need the pull Secret when they are created, and the service accounts name it.
  const podInputs = ["config", "secrets"];
  if (s.registry) {
    secret("registry-credentials", (v) => buildRegistrySecret(s, v));
    podInputs.push("registry-credentials");
  }
  plain("webhook-serviceaccount", "ServiceAccount", "v1", [], () => buildServiceAccount(s, names.webhook, "webhook"));
  plain("worker-serviceaccount", "ServiceAccount", "v1", [], () => buildServiceAccount(s, names.worker, "worker"));
  plain("migrate-serviceaccount", "ServiceAccount", "v1", [], () => buildServiceAccount(s, names.migrate, "migrate"));
  secret("secrets", (v) => buildPipelineSecret(s, v));
  bound("config", "ConfigMap", "v1", [], ({ bindings }) => buildConfigMap(s, bindings));
  plain("default-deny-ingress", "NetworkPolicy", "networking.k8s.io/v1", [], () => buildDefaultDenyIngress(s));
  plain("webhook-networkpolicy", "NetworkPolicy", "networking.k8s.io/v1", [], () => buildWebhookIngressPolicy(s));
  // Pods start only once their egress is open: the default denies everything else from the first apply.
  plain("default-deny-egress", "NetworkPolicy", "networking.k8s.io/v1", [], () => buildDefaultDenyEgress(s));
  plain("dns-egress", "NetworkPolicy", "networking.k8s.io/v1", [], () => buildDnsEgressPolicy(s));
  if (inCluster) plain("database-egress", "NetworkPolicy", "networking.k8s.io/v1", [], () => buildDatabaseEgressPolicy(s));
  else
    bound("database-egress", "NetworkPolicy", "networking.k8s.io/v1", [], (ctx) =>
      buildDatabaseEgressPolicy(s, ctx.bindings.databaseTarget),
    );
  plain("s3-egress", "NetworkPolicy", "networking.k8s.io/v1", [], () => buildS3EgressPolicy(s));
  podInputs.push("default-deny-egress", "dns-egress", "database-egress", "s3-egress");
  if (s.database.kind === "trove" && s.database.caCertificate !== undefined) {
    plain("database-ca", "ConfigMap", "v1", [], () => buildDatabaseCaConfigMap(s));
    podInputs.push("database-ca");
  }

  const databaseReady: string[] = [];
  if (inCluster) {
    plain("postgres-serviceaccount", "ServiceAccount", "v1", [], () => buildServiceAccount(s, names.postgres, "postgres"));
    secret("postgres-credentials", (v) => buildPostgresSecret(s, v));
    plain("postgres-networkpolicy", "NetworkPolicy", "networking.k8s.io/v1", [], () => buildPostgresClientsPolicy(s));
    plain("postgres-service", "Service", "v1", [], () => buildPostgresService(s));
    plain(
      "postgres",
      "StatefulSet",
      "apps/v1",
      ["postgres-serviceaccount", "postgres-credentials", "postgres-service", "postgres-networkpolicy"],
      () => buildPostgresStatefulSet(s),
    );
    databaseReady.push("postgres");
  }

  const migrateInputs = inCluster ? [...podInputs.filter((id) => id !== "secrets"), "migrate-secrets"] : podInputs;
  if (inCluster) secret("migrate-secrets", (v) => buildMigrationSecret(s, v));
  bound("migrate", "Job", "batch/v1", ["migrate-serviceaccount", ...migrateInputs, ...databaseReady], (ctx) =>
    buildMigrationJob(s, ctx.bindings),
  );
  bound("webhook", "Deployment", "apps/v1", ["webhook-serviceaccount", ...podInputs, "migrate"], (ctx) =>
    buildWebhookDeployment(s, ctx.bindings, ctx.podAnnotations),
  );
  plain("webhook-service", "Service", "v1", [], () => buildWebhookService(s));
  plain("webhook-ingress", "Ingress", "networking.k8s.io/v1", ["webhook-service", "webhook-networkpolicy"], () => buildWebhookIngress(s));
  plain("webhook-pdb", "PodDisruptionBudget", "policy/v1", [], () => buildDisruptionBudget(s, "webhook"));
  bound("worker", "Deployment", "apps/v1", ["worker-serviceaccount", ...podInputs, "migrate"], (ctx) =>
    buildWorkerDeployment(s, ctx.bindings, ctx.podAnnotations),
  );
  if (s.worker.scaling.kind === "queue-depth") {
    // Custom resources: KEDA's CRDs must exist (the program installs KEDA, or the stack says the cluster has it).
    plain("worker-scaler-auth", "TriggerAuthentication", "keda.sh/v1alpha1", ["secrets"], () => buildWorkerTriggerAuthentication(s));
    plain("worker-scaler", "ScaledObject", "keda.sh/v1alpha1", ["worker", "worker-scaler-auth"], () => buildWorkerScaledObject(s));
  } else {
    plain("worker-hpa", "HorizontalPodAutoscaler", "autoscaling/v2", ["worker"], () => buildWorkerAutoscaler(s));
  }
  plain("worker-pdb", "PodDisruptionBudget", "policy/v1", [], () => buildDisruptionBudget(s, "worker"));
  // A custom resource: only when the stack says the cluster has its CRD, or applying it fails the deployment.
  if (s.alertRules) plain("alert-rules", "PrometheusRule", "monitoring.coreos.com/v1", [], () => buildPipelineAlertRules(s));
  return specs;
}

/** Which objects the settings produce, in apply order. */
export function pipelineObjectCatalog(s: PipelineWorkloadSettings): CatalogEntry[] {
  return objectSpecs(s).map(({ id, apiVersion, kind, secret, after, bound }) => ({ id, apiVersion, kind, secret, after, bound }));
}

/** Drops undefined fields so the objects serialise and diff cleanly. */
function pruned<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => pruned(v)) as unknown as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = pruned(v);
    return out as T;
  }
  return value;
}

/** Annotations that roll the Deployments' pods when their configuration or secrets change (not the Job's: see migration.ts). */
export function podChecksumAnnotations(s: PipelineWorkloadSettings, b: PipelineBindings): Record<string, string> {
  return {
    "image-pipeline/config-checksum": configChecksum(pipelineEnvironment(s, b)),
    "image-pipeline/secrets-checksum": b.secretsChecksum,
  };
}

/** Every non-secret object, by catalog id. */
export function buildPipelineObjects(s: PipelineWorkloadSettings, b: PipelineBindings): Record<string, KubernetesObject> {
  const ctx: BuildContext = { bindings: b, podAnnotations: podChecksumAnnotations(s, b) };
  const out: Record<string, KubernetesObject> = {};
  for (const spec of objectSpecs(s)) if (!spec.secret) out[spec.id] = pruned(spec.build(ctx));
  return out;
}

/** The objects fixed by the settings alone (catalog entries with `bound: false`, not secret), by catalog id. */
export function buildUnboundPipelineObjects(s: PipelineWorkloadSettings): Record<string, KubernetesObject> {
  const out: Record<string, KubernetesObject> = {};
  for (const spec of objectSpecs(s)) if (!spec.secret && !spec.bound) out[spec.id] = pruned(spec.build(undefined));
  return out;
}

/** Every Secret, by catalog id. */
export function buildPipelineSecrets(s: PipelineWorkloadSettings, v: PipelineSecretValues): Record<string, ISecret> {
  const out: Record<string, ISecret> = {};
  for (const spec of objectSpecs(s)) if (spec.buildSecret) out[spec.id] = pruned(spec.buildSecret(v));
  return out;
}

/** All objects in apply order: what `kubectl apply -f` or a GitOps tool would get. */
export function buildPipelineManifest(s: PipelineWorkloadSettings, b: PipelineBindings, v: PipelineSecretValues): KubernetesObject[] {
  const objects = buildPipelineObjects(s, b);
  const secrets = buildPipelineSecrets(s, v);
  return pipelineObjectCatalog(s).map((entry) => (entry.secret ? secrets[entry.id] : objects[entry.id]));
}
