/** What runs on the cluster: the worker image, scaling, resources, runtime settings and the in-cluster PostgreSQL. */
import type { ResourceSettings } from "../../common/resources";
import { dnsLabelProblem, pinnedImageProblem, resourceProblems, storageSizeProblem } from "../../common/workload-rules";
import type { ResourceGroup, ResourceKind } from "../../common/workload-rules";
import { WORKER_ENV, workerEnvDefault } from "../../worker/src/config";
import type { ConfigDefaults, ConfigReader } from "./reader";

/** Settings the worker image also reads take the image's own defaults (worker/src/config.ts), so there is one source. */
export const WORKLOAD_DEFAULTS: ConfigDefaults = {
  kubernetesNamespace: "image-pipeline",
  workerImage: "",
  workerMinReplicas: "1",
  workerMaxReplicas: "3",
  workerCpuTargetPercent: "70",
  workerScaling: "cpu",
  workerQueueJobsPerReplica: "20",
  workerQueuePollingSeconds: "15",
  kedaInstall: "true",
  kedaChartVersion: "2.20.2",
  kedaNamespace: "keda",
  workerScaleDownStabilizationSeconds: "300",
  workerCpuRequest: "1",
  workerCpuLimit: "1",
  workerMemoryRequest: "384Mi",
  workerMemoryLimit: "1Gi",
  workerConcurrency: workerEnvDefault("WORKER_CONCURRENCY"),
  webhookReplicas: "1",
  webhookCpuRequest: "50m",
  webhookCpuLimit: "250m",
  webhookMemoryRequest: "96Mi",
  webhookMemoryLimit: "256Mi",
  outputPrefix: workerEnvDefault("OUTPUT_PREFIX"),
  reconcileMode: workerEnvDefault("RECONCILE_MODE"),
  reconcileIntervalSeconds: workerEnvDefault("RECONCILE_INTERVAL_SECONDS"),
  shutdownGraceSeconds: workerEnvDefault("SHUTDOWN_GRACE_SECONDS"),
  limitInputPixels: workerEnvDefault("LIMIT_INPUT_PIXELS"),
  retryBudgetSeconds: workerEnvDefault("RETRY_BUDGET_SECONDS"),
  s3ConnectTimeoutMs: workerEnvDefault("S3_CONNECT_TIMEOUT_MS"),
  s3RequestTimeoutMs: workerEnvDefault("S3_REQUEST_TIMEOUT_MS"),
  notificationMaxAgeSeconds: workerEnvDefault("NOTIFICATION_MAX_AGE_SECONDS"),
  logLevel: workerEnvDefault("LOG_LEVEL"),
  alertRules: "false",
  alertRuleLabels: JSON.stringify([]),
  // By digest, as every image the cluster pulls (docs/clouds.md, "Images by digest").
  postgresImage: "docker.io/library/postgres:16.9-bookworm@sha256:253815cf7579ffa05e1673d92e78d37273e61be0e4414e9a1449337d7925be94",
  postgresStorageSize: "10Gi",
  postgresCpuRequest: "100m",
  postgresCpuLimit: "1",
  postgresMemoryRequest: "256Mi",
  postgresMemoryLimit: "1Gi",
};

export interface WorkloadConfig {
  readonly namespace: string;
  /**
   * The digest-pinned worker image, always from this stack's own config, never read from another stack at deploy
   * time: promotion (`npm run promote -- --from dev --to prod`) writes the digest dev tested into prod's stack file.
   */
  readonly image: string;
  readonly worker: {
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly cpuTargetPercent: number;
    readonly scaleDownStabilizationSeconds: number;
    readonly resources: ResourceSettings;
    readonly concurrency: number;
  };
  /**
   * `cpu`: an HPA on CPU. `queue-depth`: a KEDA ScaledObject on the jobs that want a worker now, CPU kept as a
   * second trigger; `keda` says whether the program installs KEDA (its Helm chart, pinned) or the cluster has it.
   */
  readonly scaling:
    | { readonly kind: "cpu" }
    | {
        readonly kind: "queue-depth";
        readonly jobsPerReplica: number;
        readonly pollingIntervalSeconds: number;
        /** Where KEDA runs (its operator is the pod the in-cluster PostgreSQL admits). */
        readonly keda: { readonly namespace: string } & (
          | { readonly install: false }
          | { readonly install: true; readonly chartVersion: string }
        );
      };
  readonly webhook: { readonly replicas: number; readonly resources: ResourceSettings };
  readonly outputPrefix: string;
  readonly reconcileMode: "notifications" | "poll" | "both";
  readonly reconcileIntervalSeconds: number;
  readonly shutdownGraceSeconds: number;
  readonly limitInputPixels: number;
  /** How long transient failures (S3 or the database unavailable, timeouts) are retried before a dead letter. */
  readonly retryBudgetSeconds: number;
  readonly s3ConnectTimeoutMs: number;
  readonly s3RequestTimeoutMs: number;
  /** Notifications older than this are refused as replays. */
  readonly notificationMaxAgeSeconds: number;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
  /** Set when the cluster has the prometheus-operator CRDs: the workload then ships its PrometheusRule. */
  readonly alertRules?: { readonly ruleLabels: Readonly<Record<string, string>> };
  /** The in-cluster PostgreSQL, used when the database is in-cluster. */
  readonly postgres: { readonly image: string; readonly storageSize: string; readonly resources: ResourceSettings };
}

const EXAMPLE_IMAGE = "ghcr.io/<org>/image-pipeline-worker@sha256:<digest>";

/** Checks one component's CPU/memory keys (<prefix>CpuRequest, ...) with the shared resource rules. */
function checkedResources(r: ConfigReader, prefix: string, resources: ResourceSettings): ResourceSettings {
  const key = (resource: ResourceKind, group: ResourceGroup) =>
    `${prefix}${resource === "cpu" ? "Cpu" : "Memory"}${group === "requests" ? "Request" : "Limit"}`;
  const example = { cpu: { requests: "250m", limits: "1" }, memory: { requests: "256Mi", limits: "1Gi" } };
  for (const p of resourceProblems(resources, key)) {
    r.problem(
      key(p.resource, p.group),
      p.what,
      p.rule === "above-limit"
        ? "lower the request or raise the limit (the API server rejects requests above limits)"
        : `pulumi config set ${key(p.resource, p.group)} ${example[p.resource][p.group]}`,
    );
  }
  return resources;
}

/** The bounds the image itself enforces on one of its integer variables, so the stack cannot pass what it refuses. */
function workerEnvBounds(envName: string): [number, number] {
  const spec = WORKER_ENV.find((v) => v.name === envName);
  if (spec?.min === undefined || spec.max === undefined) throw new Error(`worker/src/config.ts declares no bounds for ${envName}`);
  return [spec.min, spec.max];
}

function readScaling(r: ConfigReader): WorkloadConfig["scaling"] {
  const kind = r.oneOf("workerScaling", ["cpu", "queue-depth"] as const);
  const jobsPerReplica = r.integer("workerQueueJobsPerReplica", 1, 10000);
  const pollingIntervalSeconds = r.integer("workerQueuePollingSeconds", 1, 600);
  const install = r.boolean("kedaInstall");
  const chartVersion = r.string("kedaChartVersion");
  const namespace = r.string("kedaNamespace");
  if (kind === "cpu") {
    for (const key of ["workerQueueJobsPerReplica", "workerQueuePollingSeconds", "kedaInstall", "kedaChartVersion", "kedaNamespace"]) {
      if (r.isSet(key)) r.problem(key, "is set but workerScaling is cpu", "pulumi config set workerScaling queue-depth, or remove the key");
    }
    return { kind };
  }
  if (install && !/^\d+\.\d+\.\d+$/.test(chartVersion))
    r.problem(
      "kedaChartVersion",
      `must be a chart version such as 2.20.2, got "${chartVersion}"`,
      "pulumi config set kedaChartVersion 2.20.2",
    );
  const namespaceProblem = dnsLabelProblem(namespace);
  if (namespaceProblem) r.problem("kedaNamespace", namespaceProblem, "pulumi config set kedaNamespace keda");
  return {
    kind,
    jobsPerReplica,
    pollingIntervalSeconds,
    keda: install ? { install, chartVersion, namespace } : { install, namespace },
  };
}

export function readWorkload(r: ConfigReader): WorkloadConfig {
  const namespace = r.string("kubernetesNamespace");
  const namespaceProblem = dnsLabelProblem(namespace);
  if (namespaceProblem) r.problem("kubernetesNamespace", namespaceProblem, "pulumi config set kubernetesNamespace image-pipeline");

  const image = r.optionalString("workerImage") ?? "";
  if (image === "") {
    r.problem(
      "workerImage",
      "is required: the worker image this stack runs, pinned by digest (dev: the image the deploy workflow built; prod: the one dev tested, which npm run promote -- --from dev --to prod writes)",
      `pulumi config set workerImage ${EXAMPLE_IMAGE}`,
    );
  } else {
    const problem = pinnedImageProblem(image);
    if (problem)
      r.problem(
        "workerImage",
        problem,
        `pulumi config set workerImage ${EXAMPLE_IMAGE} (docker buildx imagetools inspect <image:tag> prints the digest)`,
      );
  }

  const minReplicas = r.integer("workerMinReplicas", 1, 100);
  const maxReplicas = r.integer("workerMaxReplicas", 1, 100);
  if (maxReplicas < minReplicas) {
    r.problem(
      "workerMaxReplicas",
      `${maxReplicas} is below workerMinReplicas ${minReplicas}`,
      `pulumi config set workerMaxReplicas ${minReplicas} or lower workerMinReplicas`,
    );
  }
  const shutdownGraceSeconds = r.integer("shutdownGraceSeconds", 0, 3600);
  const postgresImage = r.string("postgresImage");
  const postgresImageProblem = pinnedImageProblem(postgresImage);
  if (postgresImageProblem)
    r.problem(
      "postgresImage",
      postgresImageProblem,
      "pulumi config set postgresImage docker.io/library/postgres:<tag>@sha256:<digest> (docker buildx imagetools inspect docker.io/library/postgres:<tag> prints it)",
    );
  const alertRules = r.boolean("alertRules");
  const ruleLabels: Record<string, string> = {};
  for (const label of r.stringList("alertRuleLabels")) {
    const match = /^([A-Za-z0-9./_-]{1,253})=([A-Za-z0-9._-]{0,63})$/.exec(label);
    if (match) ruleLabels[match[1]] = match[2];
    else
      r.problem(
        "alertRuleLabels",
        `"${label}" is not a label <name>=<value>`,
        "list labels as name=value in Pulumi.<stack>.yaml, e.g. [release=kube-prometheus-stack]",
      );
  }
  const scaling = readScaling(r);
  const postgresStorageSize = r.string("postgresStorageSize");
  const storageProblem = storageSizeProblem(postgresStorageSize);
  if (storageProblem) r.problem("postgresStorageSize", storageProblem, "pulumi config set postgresStorageSize 10Gi");
  return {
    namespace,
    image,
    worker: {
      minReplicas,
      maxReplicas,
      cpuTargetPercent: r.integer("workerCpuTargetPercent", 1, 100),
      scaleDownStabilizationSeconds: r.integer("workerScaleDownStabilizationSeconds", 0, 3600),
      resources: checkedResources(r, "worker", {
        requests: { cpu: r.string("workerCpuRequest"), memory: r.string("workerMemoryRequest") },
        limits: { cpu: r.string("workerCpuLimit"), memory: r.string("workerMemoryLimit") },
      }),
      concurrency: r.integer("workerConcurrency", 1, 64),
    },
    scaling,
    webhook: {
      replicas: r.integer("webhookReplicas", 1, 20),
      resources: checkedResources(r, "webhook", {
        requests: { cpu: r.string("webhookCpuRequest"), memory: r.string("webhookMemoryRequest") },
        limits: { cpu: r.string("webhookCpuLimit"), memory: r.string("webhookMemoryLimit") },
      }),
    },
    outputPrefix: r.string("outputPrefix"),
    reconcileMode: r.oneOf("reconcileMode", ["notifications", "poll", "both"] as const),
    reconcileIntervalSeconds: r.integer("reconcileIntervalSeconds", 10, 86400),
    shutdownGraceSeconds,
    limitInputPixels: r.integer("limitInputPixels", 1, Number.MAX_SAFE_INTEGER),
    retryBudgetSeconds: r.integer("retryBudgetSeconds", ...workerEnvBounds("RETRY_BUDGET_SECONDS")),
    s3ConnectTimeoutMs: r.integer("s3ConnectTimeoutMs", ...workerEnvBounds("S3_CONNECT_TIMEOUT_MS")),
    s3RequestTimeoutMs: r.integer("s3RequestTimeoutMs", ...workerEnvBounds("S3_REQUEST_TIMEOUT_MS")),
    notificationMaxAgeSeconds: r.integer("notificationMaxAgeSeconds", ...workerEnvBounds("NOTIFICATION_MAX_AGE_SECONDS")),
    logLevel: r.oneOf("logLevel", ["fatal", "error", "warn", "info", "debug", "trace"] as const),
    alertRules: alertRules ? { ruleLabels } : undefined,
    postgres: {
      image: postgresImage,
      storageSize: postgresStorageSize,
      resources: checkedResources(r, "postgres", {
        requests: { cpu: r.string("postgresCpuRequest"), memory: r.string("postgresMemoryRequest") },
        limits: { cpu: r.string("postgresCpuLimit"), memory: r.string("postgresMemoryLimit") },
      }),
    },
  };
}
