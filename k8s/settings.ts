/**
 * Everything the Kubernetes builders need, as plain typed values.
 *
 * `PipelineWorkloadSettings` comes from stack configuration and is known before anything is deployed; it decides
 * which objects exist and how they are shaped. `PipelineBindings` and `PipelineSecretValues` are produced by other
 * parts of the program (buckets, database, promoted image) and only fill in values.
 */
import type { ReconcileMode } from "../worker/src/config";
import type { ResourceSettings } from "../common/resources";
import { dnsLabelProblem, imageReferenceProblem, resourceProblems, storageSizeProblem } from "../common/workload-rules";
import type { ResourceGroup, ResourceKind } from "../common/workload-rules";

export type { ResourceSettings } from "../common/resources";

/**
 * What the worker autoscaler follows. `cpu`: an HPA on CPU utilisation (needs only k3s's metrics-server).
 * `queue-depth`: a KEDA ScaledObject whose PostgreSQL trigger reads the jobs that want a worker now, with CPU kept
 * as a second trigger (docs/capacity.md says why: CPU cannot see a backlog).
 */
export type WorkerScaling =
  | { readonly kind: "cpu" }
  | {
      readonly kind: "queue-depth";
      /** Outstanding jobs (claimable + running) one replica should carry: replicas = ceil(outstanding / this). */
      readonly jobsPerReplica: number;
      /** How often KEDA runs the query, in seconds. */
      readonly pollingIntervalSeconds: number;
      /** Namespace and pod labels of the KEDA operator, the pod that connects to PostgreSQL. */
      readonly operatorNamespace: string;
      readonly operatorPodLabels: Readonly<Record<string, string>>;
    };

export interface WorkerSettings {
  /** HPA bounds; the Deployment itself has no replica count so re-applying never fights the autoscaler. */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Average CPU utilization target, in percent of the CPU request. */
  readonly cpuTargetPercent: number;
  /** How long load must stay low before the HPA removes pods (the HPA default is 5 minutes). */
  readonly scaleDownStabilizationSeconds: number;
  readonly scaling: WorkerScaling;
  readonly resources: ResourceSettings;
}

export interface WebhookSettings {
  readonly replicas: number;
  readonly resources: ResourceSettings;
}

/** Values the worker image reads from its environment and that are not secret (names in worker/src/config.ts). */
export interface WorkerRuntimeSettings {
  readonly outputPrefix: string;
  /** Must equal the bucket notification's filter, so the reconciler and the webhook accept the same keys. */
  readonly keyPrefixFilter: string;
  readonly keySuffixFilter: string;
  readonly reconcileMode: ReconcileMode;
  readonly reconcileIntervalSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxAttempts: number;
  /** How long a job retries transient failures (S3 or the database unavailable, 5xx, timeouts) before a dead letter. */
  readonly retryBudgetSeconds: number;
  /** Connection and request timeouts of every S3 call. */
  readonly s3ConnectTimeoutMs: number;
  readonly s3RequestTimeoutMs: number;
  /** The webhook refuses notifications whose eventTime is older (a replay). */
  readonly notificationMaxAgeSeconds: number;
  readonly limitInputPixels: number;
  readonly transformTimeoutMs: number;
  readonly concurrency: number;
  /** The worker's drain time on SIGTERM; pods get this plus a margin as terminationGracePeriodSeconds. */
  readonly shutdownGraceSeconds: number;
  readonly logLevel: string;
}

export interface InClusterPostgresSettings {
  readonly kind: "in-cluster";
  readonly image: string;
  /** Size of the PersistentVolumeClaim, e.g. 10Gi. */
  readonly storageSize: string;
  /** k3s ships the local-path provisioner as its default StorageClass. */
  readonly storageClassName: string;
  readonly database: string;
  /**
   * The role the webhook and the worker connect as: only the privileges they use, created and kept so by the
   * migration Job (worker/src/db/app-role.ts), which alone connects as `adminUser`, the superuser the image creates.
   */
  readonly user: string;
  readonly adminUser: string;
  readonly resources: ResourceSettings;
  /** UID/GID of the postgres user in the image (999 in the Debian-based official image, 70 in the Alpine one). */
  readonly runAsUser: number;
}

export interface ExternalDatabaseSettings {
  /** A managed database outside the cluster (Trove); nothing is deployed for it. */
  readonly kind: "trove";
  /**
   * Set when the database is reached over the Internet (an external DBaaS): the PEM of the CA that signs its server
   * certificate, mounted into the pods so DATABASE_URL's `sslrootcert` can verify the server.
   */
  readonly caCertificate?: string;
}

export interface RegistrySettings {
  /** Registry host of the worker image, as in the image reference (e.g. ghcr.io). */
  readonly server: string;
}

export interface IngressTlsSettings {
  readonly hostName: string;
  /** Name of the Traefik certificate resolver (traefik.ts) the router asks for its certificate. */
  readonly certResolver: string;
  /** Let's Encrypt account contact, and the ACME directory. */
  readonly acmeEmail?: string;
  readonly acmeCaServer: string;
}

export interface IngressSettings {
  /** k3s ships Traefik as the ingress controller, with IngressClass `traefik`. */
  readonly className: string;
  /** The path the notification topic pushes to: `https://<host name><path>` (or `http://<floating IP><path>`). */
  readonly path: string;
  /** HTTPS on the host name with a certificate from Traefik's ACME resolver; absent when the stack opted in to plain HTTP. */
  readonly tls?: IngressTlsSettings;
  /** Where the ingress controller's pods run and how they are labelled, for the webhook's NetworkPolicy. */
  readonly controllerNamespace: string;
  readonly controllerPodLabels: Readonly<Record<string, string>>;
}

/**
 * Where the pipeline's pods may open connections; everything else is denied. NetworkPolicies match addresses and
 * labels, never DNS names, so the S3 endpoint is given by its addresses.
 */
export interface EgressSettings {
  /** The cluster DNS: k3s runs CoreDNS in kube-system, its pods labelled k8s-app=kube-dns. */
  readonly dnsNamespace: string;
  readonly dnsPodLabels: Readonly<Record<string, string>>;
  /** The S3 endpoint's IPv4 addresses (CIDRs) and port; only the worker talks to S3. */
  readonly s3Cidrs: readonly string[];
  readonly s3Port: number;
}

/** Prometheus alert rules, for a cluster with the prometheus-operator CRDs (monitoring.coreos.com). */
export interface AlertRulesSettings {
  /** Extra labels on the PrometheusRule, for a Prometheus whose ruleSelector wants them (e.g. `release: <name>`). */
  readonly ruleLabels: Readonly<Record<string, string>>;
  /** Age of the oldest pending job that alerts, in seconds. */
  readonly oldestPendingSeconds: number;
  /** Share of the webhook's /notify answers that may be 5xx before it alerts (0..1). */
  readonly webhookErrorRatio: number;
}

export interface PipelineWorkloadSettings {
  readonly namespace: string;
  /** `app.kubernetes.io/instance` and the prefix of every object name. */
  readonly instance: string;
  readonly worker: WorkerSettings;
  readonly webhook: WebhookSettings;
  readonly runtime: WorkerRuntimeSettings;
  readonly database: InClusterPostgresSettings | ExternalDatabaseSettings;
  readonly ingress: IngressSettings;
  readonly egress: EgressSettings;
  /** UID/GID the worker image runs as (the Dockerfile's non-root user); numeric so runAsNonRoot can be verified. */
  readonly workerRunAsUser: number;
  /** Pod Security Standards version the namespace enforces (`v1.<minor>` of the cluster, or `latest`). */
  readonly podSecurityVersion: string;
  /** A PrometheusRule is created only when set: applying it without its CRD would fail the deployment. */
  readonly alertRules?: AlertRulesSettings;
  /** Pull credentials for the worker image's registry; absent for a public image. */
  readonly registry?: RegistrySettings;
}

/** Late-bound, non-secret values produced by other components. */
export interface PipelineBindings {
  /** Digest-pinned worker image reference. */
  readonly image: string;
  readonly s3Endpoint: string;
  readonly s3Region: string;
  readonly inputBucket: string;
  readonly outputBucket: string;
  /**
   * Fingerprint of the secret values (see `secretsChecksum`), put on pod templates so a rotated secret rolls the pods;
   * environment variables from a Secret are read only at container start.
   */
  readonly secretsChecksum: string;
  /**
   * Where the database is, without credentials: `<host>:<port>/<database>`. The migration Job's pod template carries
   * it, so a new database (a replaced Trove instance) gets its migrations.
   */
  readonly databaseTarget: string;
  /**
   * In-cluster only: a fingerprint of the application role's password, on the migration Job's template, so a
   * rotated password re-runs the Job (which sets it) before the Deployments roll onto it.
   */
  readonly appRoleChecksum?: string;
}

/** Secret values; they only ever appear in Secret objects. */
export interface PipelineSecretValues {
  readonly databaseUrl: string;
  readonly s3AccessKeyId: string;
  readonly s3SecretAccessKey: string;
  readonly webhookSecret: string;
  /** The in-cluster PostgreSQL superuser's password (POSTGRES_PASSWORD); required when `database.kind` is `in-cluster`. */
  readonly postgresPassword?: string;
  /**
   * In-cluster only: the superuser's URL, which only the migration Job gets, and the application role's password
   * it sets (the one in `databaseUrl`).
   */
  readonly migration?: { readonly databaseUrl: string; readonly appRolePassword: string };
  /** Registry login for the image pull Secret; required when the settings name a registry. */
  readonly registry?: { readonly username: string; readonly password: string };
}

export class WorkloadSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid workload settings:\n  - ${problems.join("\n  - ")}`);
    this.name = "WorkloadSettingsError";
  }
}

/** The shared resource rules, each problem named by its settings path (e.g. worker.resources.requests.cpu). */
function resourceSettingsProblems(path: string, resources: ResourceSettings): string[] {
  const name = (resource: ResourceKind, group: ResourceGroup) => `${path}.${group}.${resource}`;
  return resourceProblems(resources, name).map((p) => `${name(p.resource, p.group)}: ${p.what}`);
}

function named(path: string, problem: string | undefined): string[] {
  return problem === undefined ? [] : [`${path}: ${problem}`];
}

/** Every problem with the settings, each naming the field; empty when the builders can use them. */
export function workloadSettingsProblems(s: PipelineWorkloadSettings): string[] {
  const problems: string[] = [];
  problems.push(...named("namespace", dnsLabelProblem(s.namespace)));
  // The longest derived name is "<instance>-migrate-<10 hex>", which must stay a DNS label for the Job's pods.
  problems.push(...named("instance", dnsLabelProblem(s.instance, 40)));
  const w = s.worker;
  if (!Number.isInteger(w.minReplicas) || w.minReplicas < 1)
    problems.push(`worker.minReplicas: must be a whole number of at least 1, got ${w.minReplicas}`);
  if (!Number.isInteger(w.maxReplicas) || w.maxReplicas < w.minReplicas)
    problems.push(`worker.maxReplicas: must be a whole number not below worker.minReplicas (${w.minReplicas}), got ${w.maxReplicas}`);
  if (!Number.isInteger(w.cpuTargetPercent) || w.cpuTargetPercent < 1 || w.cpuTargetPercent > 100)
    problems.push(`worker.cpuTargetPercent: must be 1..100, got ${w.cpuTargetPercent}`);
  if (!Number.isInteger(w.scaleDownStabilizationSeconds) || w.scaleDownStabilizationSeconds < 0 || w.scaleDownStabilizationSeconds > 3600) {
    problems.push(`worker.scaleDownStabilizationSeconds: must be 0..3600, got ${w.scaleDownStabilizationSeconds}`);
  }
  if (w.scaling.kind === "queue-depth") {
    if (!Number.isInteger(w.scaling.jobsPerReplica) || w.scaling.jobsPerReplica < 1)
      problems.push(`worker.scaling.jobsPerReplica: must be a whole number of at least 1, got ${w.scaling.jobsPerReplica}`);
    if (!Number.isInteger(w.scaling.pollingIntervalSeconds) || w.scaling.pollingIntervalSeconds < 1)
      problems.push(`worker.scaling.pollingIntervalSeconds: must be a whole number of at least 1, got ${w.scaling.pollingIntervalSeconds}`);
    problems.push(...named("worker.scaling.operatorNamespace", dnsLabelProblem(w.scaling.operatorNamespace)));
    // KEDA reads DATABASE_URL, whose sslrootcert is a file only the pipeline's pods have: it could not verify the server.
    if (s.database.kind === "trove" && s.database.caCertificate !== undefined)
      problems.push(
        "worker.scaling: queue-depth cannot reach an external database over verified TLS (KEDA's operator has no copy of its CA); use cpu",
      );
  }
  problems.push(...resourceSettingsProblems("worker.resources", w.resources));
  if (!Number.isInteger(s.webhook.replicas) || s.webhook.replicas < 1)
    problems.push(`webhook.replicas: must be a whole number of at least 1, got ${s.webhook.replicas}`);
  problems.push(...resourceSettingsProblems("webhook.resources", s.webhook.resources));
  if (s.egress.s3Cidrs.length === 0) problems.push("egress.s3Cidrs: must list the S3 endpoint's addresses, or the worker cannot reach it");
  for (const cidr of s.egress.s3Cidrs)
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr)) problems.push(`egress.s3Cidrs: "${cidr}" is not an IPv4 CIDR`);
  if (!Number.isInteger(s.egress.s3Port) || s.egress.s3Port < 1 || s.egress.s3Port > 65535)
    problems.push(`egress.s3Port: must be a TCP port, got ${s.egress.s3Port}`);
  if (!s.ingress.path.startsWith("/")) problems.push(`ingress.path: must start with "/", got "${s.ingress.path}"`);
  if (!Number.isInteger(s.workerRunAsUser) || s.workerRunAsUser < 1)
    problems.push(`workerRunAsUser: must be a non-root UID (1 or more), got ${s.workerRunAsUser}`);
  if (!/^(v1\.\d+|latest)$/.test(s.podSecurityVersion))
    problems.push(`podSecurityVersion: must be v1.<minor> or latest, got "${s.podSecurityVersion}"`);
  if (!Number.isInteger(s.runtime.shutdownGraceSeconds) || s.runtime.shutdownGraceSeconds < 0)
    problems.push(`runtime.shutdownGraceSeconds: must be a whole number of seconds, got ${s.runtime.shutdownGraceSeconds}`);
  if (s.registry && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(s.registry.server))
    problems.push(`registry.server: must be a registry host such as ghcr.io, got "${s.registry.server}"`);
  if (
    s.database.kind === "trove" &&
    s.database.caCertificate !== undefined &&
    !/-----BEGIN CERTIFICATE-----/.test(s.database.caCertificate)
  )
    problems.push("database.caCertificate: must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
  if (s.database.kind === "in-cluster") {
    const db = s.database;
    problems.push(...named("database.image", imageReferenceProblem(db.image)));
    problems.push(...named("database.storageSize", storageSizeProblem(db.storageSize)));
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db.database))
      problems.push(`database.database: "${db.database}" is not a plain PostgreSQL identifier`);
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db.user)) problems.push(`database.user: "${db.user}" is not a plain PostgreSQL identifier`);
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db.adminUser))
      problems.push(`database.adminUser: "${db.adminUser}" is not a plain PostgreSQL identifier`);
    if (db.adminUser === db.user) problems.push(`database.adminUser: must differ from database.user (${db.user}), the services' role`);
    if (!Number.isInteger(db.runAsUser) || db.runAsUser < 1)
      problems.push(`database.runAsUser: must be a non-root UID, got ${db.runAsUser}`);
    problems.push(...resourceSettingsProblems("database.resources", db.resources));
  }
  return problems;
}

export function assertWorkloadSettings(s: PipelineWorkloadSettings): void {
  const problems = workloadSettingsProblems(s);
  if (problems.length > 0) throw new WorkloadSettingsError(problems);
}

/** Seconds Kubernetes waits after SIGTERM before SIGKILL: the worker's drain plus room for the last job's upload. */
export function terminationGraceSeconds(s: PipelineWorkloadSettings): number {
  return s.runtime.shutdownGraceSeconds + 15;
}
