/**
 * Stack configuration → the Kubernetes builders' settings. Pure, so tests, the offline plan and `npm run render`
 * see exactly the settings `pulumi up` uses.
 */
import type { StackConfig } from "./config";
import { DATABASE_ADMIN_USER, DATABASE_NAME, DATABASE_USER } from "./database-names";
import type { InClusterPostgresSettings, PipelineWorkloadSettings } from "../k8s/settings";
import { workerEnvDefault } from "../worker/src/config";
import { KEDA_OPERATOR_POD_LABELS } from "../k8s/keda";

/** UID of the worker image's non-root user (the official Node.js images' `node` user). */
export const WORKER_IMAGE_UID = 1000;
/** UID of `postgres` in the official Debian-based PostgreSQL images. */
export const POSTGRES_IMAGE_UID = 999;

/** `v1.32` from a k3s release tag such as `v1.32.11+k3s3`. */
export function kubernetesMinorOf(k3sVersion: string): string {
  const match = /^(v1\.\d+)\./.exec(k3sVersion);
  if (!match) throw new Error(`k3s version "${k3sVersion}" does not start with v1.<minor>.`);
  return match[1];
}

/** The oldest pending job alerts after 15 minutes: far beyond a healthy queue's wait, well inside the retry budget. */
export const ALERT_OLDEST_PENDING_SECONDS = 900;
/** The webhook alerts when more than 5 % of notifications get a 5xx for 10 minutes. */
export const ALERT_WEBHOOK_ERROR_RATIO = 0.05;

function workerDefault(name: string): number {
  return Number(workerEnvDefault(name));
}

export function workloadSettings(cfg: StackConfig): PipelineWorkloadSettings {
  const w = cfg.workload;
  const postgres: InClusterPostgresSettings | undefined =
    cfg.database.kind === "in-cluster"
      ? {
          kind: "in-cluster",
          image: w.postgres.image,
          storageSize: w.postgres.storageSize,
          storageClassName: "local-path",
          database: DATABASE_NAME,
          user: DATABASE_USER,
          adminUser: DATABASE_ADMIN_USER,
          resources: w.postgres.resources,
          runAsUser: POSTGRES_IMAGE_UID,
        }
      : undefined;
  return {
    namespace: w.namespace,
    instance: "image-pipeline",
    worker: {
      minReplicas: w.worker.minReplicas,
      maxReplicas: w.worker.maxReplicas,
      cpuTargetPercent: w.worker.cpuTargetPercent,
      scaleDownStabilizationSeconds: w.worker.scaleDownStabilizationSeconds,
      scaling:
        w.scaling.kind === "queue-depth"
          ? {
              kind: "queue-depth",
              jobsPerReplica: w.scaling.jobsPerReplica,
              pollingIntervalSeconds: w.scaling.pollingIntervalSeconds,
              operatorNamespace: w.scaling.keda.namespace,
              operatorPodLabels: KEDA_OPERATOR_POD_LABELS,
            }
          : { kind: "cpu" },
      resources: w.worker.resources,
    },
    webhook: w.webhook,
    runtime: {
      outputPrefix: w.outputPrefix,
      keyPrefixFilter: cfg.storage.keyPrefix,
      keySuffixFilter: cfg.storage.keySuffix,
      reconcileMode: w.reconcileMode,
      reconcileIntervalSeconds: w.reconcileIntervalSeconds,
      visibilityTimeoutSeconds: workerDefault("VISIBILITY_TIMEOUT_SECONDS"),
      maxAttempts: workerDefault("MAX_ATTEMPTS"),
      retryBudgetSeconds: w.retryBudgetSeconds,
      s3ConnectTimeoutMs: w.s3ConnectTimeoutMs,
      s3RequestTimeoutMs: w.s3RequestTimeoutMs,
      notificationMaxAgeSeconds: w.notificationMaxAgeSeconds,
      limitInputPixels: w.limitInputPixels,
      transformTimeoutMs: workerDefault("TRANSFORM_TIMEOUT_MS"),
      concurrency: w.worker.concurrency,
      shutdownGraceSeconds: w.shutdownGraceSeconds,
      logLevel: w.logLevel,
    },
    // An external DBaaS is verified over TLS: its CA goes to the pods (DATABASE_URL's sslrootcert points at it).
    database:
      postgres ??
      (cfg.database.kind === "trove" && cfg.database.site.kind === "external"
        ? { kind: "trove", caCertificate: cfg.database.site.caCertificate }
        : { kind: "trove" }),
    ingress: {
      className: "traefik",
      path: "/notify",
      controllerNamespace: "kube-system",
      // Labels of the Traefik pods that k3s deploys from its bundled Helm chart.
      controllerPodLabels: { "app.kubernetes.io/name": "traefik" },
      tls:
        cfg.webhook.kind === "https"
          ? {
              hostName: cfg.webhook.hostName,
              certResolver: "letsencrypt",
              acmeEmail: cfg.webhook.acmeEmail,
              acmeCaServer: cfg.webhook.acmeCaServer,
            }
          : undefined,
    },
    egress: {
      dnsNamespace: "kube-system",
      // Labels of the CoreDNS pods k3s deploys (its coredns manifest keeps the kube-dns names).
      dnsPodLabels: { "k8s-app": "kube-dns" },
      s3Cidrs: cfg.storage.egress.cidrs,
      s3Port: cfg.storage.egress.port,
    },
    alertRules: w.alertRules && {
      ruleLabels: w.alertRules.ruleLabels,
      oldestPendingSeconds: ALERT_OLDEST_PENDING_SECONDS,
      webhookErrorRatio: ALERT_WEBHOOK_ERROR_RATIO,
    },
    workerRunAsUser: WORKER_IMAGE_UID,
    // Enforce the Pod Security Standard of the cluster's own version, not a newer one it does not know.
    podSecurityVersion: kubernetesMinorOf(cfg.k3s.version),
    registry: cfg.registry ? { server: cfg.registry.server } : undefined,
  };
}
