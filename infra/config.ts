/**
 * The one place that reads stack configuration.
 *
 * `parseStackConfig` is pure: it takes a key reader and returns a typed, validated `StackConfig`, or throws a
 * `ConfigError` listing every problem at once (key, what is wrong, how to fix it). The program calls it before
 * declaring any resource, so a bad stack file never leaves a half-created deployment behind.
 * Every key is documented in Pulumi.yaml.
 */
import * as pulumi from "@pulumi/pulumi";
import { formatIpv4, isUsableHost, parseCidr, parseIpv4 } from "./ipv4";
import {
  DEFAULT_JOIN_TIMEOUT_SECONDS,
  DEFAULT_K3S_INSTALLER_URL,
  DEFAULT_K3S_VERSION,
  DEFAULT_READY_TIMEOUT_SECONDS,
  K3S_VERSION_PATTERN,
} from "./k3s/install-defaults";
import { digestPinProblem, parseImageReference } from "../k8s/image";
import { parseQuantity } from "../k8s/quantity";
import type { ResourceSettings } from "../k8s/settings";

export const CONFIG_NAMESPACE = "image-pipeline";

/** Reads raw config values. Secret keys are read through `secret` so they stay secret in the program. */
export interface ConfigSource {
  get(key: string): string | undefined;
  secret(key: string): pulumi.Input<string> | undefined;
}

export type Environment = "dev" | "prod";

export interface OpenStackAuthConfig {
  /** Entry in clouds.yaml; when unset, OS_CLOUD or the OS_* environment variables are used. */
  readonly cloud?: string;
  readonly region?: string;
  /** Explicit application-credential auth, an alternative to clouds.yaml. */
  readonly authUrl?: string;
  readonly applicationCredentialId?: string;
  readonly applicationCredentialSecret?: pulumi.Input<string>;
}

export interface NetworkConfig {
  readonly cidr: string;
  /** Fixed private addresses, one per node, node1 first. */
  readonly privateIps: string[];
  readonly externalNetwork: string;
  readonly floatingIpPool: string;
  /** Source CIDR allowed to reach ssh (22) and the Kubernetes API (6443). */
  readonly adminCidr: string;
  readonly dnsNameservers: string[];
}

export interface NodesConfig {
  readonly count: number;
  readonly namePrefix: string;
  readonly image: string;
  readonly flavor: string;
  readonly keypairName?: string;
  readonly sshPublicKey?: string;
  readonly availabilityZone?: string;
}

export type LeaseEnd = { readonly kind: "duration"; readonly hours: number } | { readonly kind: "absolute"; readonly date: string };

export interface LeaseConfig {
  readonly type: "flavor:instance" | "physical:host";
  readonly name: string;
  /** "now" or an ISO-8601 UTC date. */
  readonly start: string;
  readonly end: LeaseEnd;
  /** Blazar resource_properties filter for physical:host leases, e.g. ["==", "$node_type", "compute_skylake"]. */
  readonly resourceProperties: string;
  readonly timeoutMinutes: number;
}

export interface StackConfig {
  readonly stack: string;
  readonly environment: Environment;
  /** Prefix of every cloud resource name, so several stacks share a project without clashes. */
  readonly resourcePrefix: string;
  readonly openstack: OpenStackAuthConfig;
  readonly network: NetworkConfig;
  readonly nodes: NodesConfig;
  readonly lease?: LeaseConfig;
  /** k3s on the nodes (issue 3): pinned version, installer, bootstrap timeouts. */
  readonly k3s: K3sConfig;
  /** What runs on the cluster: image, scaling, resources (issue 6). */
  readonly workload: WorkloadConfig;
  /** PostgreSQL: Trove or in-cluster (issue 4). */
  readonly database: DatabaseConfig;
  /** S3 buckets, credentials and the notification topic on a Ceph RGW endpoint (issue 4). */
  readonly storage: StorageConfig;
  /** Non-fatal findings, logged by the program (for example an ssh rule open to the world in dev). */
  readonly warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Collects problems so the user sees all of them in one run instead of fixing one per `pulumi up`. */
export class ConfigReader {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  constructor(private readonly source: ConfigSource) {}

  problem(key: string, what: string, fix: string): void {
    this.problems.push(`${CONFIG_NAMESPACE}:${key}: ${what}. Fix: ${fix}`);
  }

  warn(key: string, what: string): void {
    this.warnings.push(`${CONFIG_NAMESPACE}:${key}: ${what}`);
  }

  optionalString(key: string): string | undefined {
    const value = this.source.get(key);
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === "" ? undefined : trimmed;
  }

  string(key: string, fallback: string): string {
    return this.optionalString(key) ?? fallback;
  }

  requiredString(key: string, example: string): string {
    const value = this.optionalString(key);
    if (value === undefined) {
      this.problem(key, "is required and not set", `pulumi config set ${key} ${example}`);
      return "";
    }
    return value;
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const raw = this.optionalString(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      this.problem(
        key,
        `must be a whole number from ${min} to ${max}, got "${raw}"`,
        `pulumi config set ${key} ${Math.max(min, Math.min(max, fallback))}`,
      );
      return fallback;
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const raw = this.optionalString(key);
    if (raw === undefined) return fallback;
    if (raw === "true" || raw === "false") return raw === "true";
    this.problem(key, `must be true or false, got "${raw}"`, `pulumi config set ${key} ${fallback}`);
    return fallback;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const raw = this.optionalString(key);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problem(key, `must be one of ${allowed.join(", ")}, got "${raw}"`, `pulumi config set ${key} ${fallback}`);
    return fallback;
  }

  /** A JSON array of strings, as `pulumi config set --path` or a YAML list in the stack file produces. */
  stringList(key: string, fallback: string[]): string[] {
    const raw = this.optionalString(key);
    if (raw === undefined) return fallback;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (Array.isArray(parsed) && parsed.every((v) => typeof v === "string")) return parsed;
    } catch {
      // reported below
    }
    this.problem(key, `must be a list of strings, got ${raw}`, `set it as a YAML list in Pulumi.<stack>.yaml, e.g. ["1.1.1.1"]`);
    return fallback;
  }

  optionalSecret(key: string): pulumi.Input<string> | undefined {
    return this.source.secret(key);
  }

  requiredSecret(key: string, example: string): pulumi.Input<string> {
    const value = this.source.secret(key);
    if (value === undefined) {
      this.problem(key, "is required and not set", `pulumi config set --secret ${key} ${example}`);
      return "";
    }
    return value;
  }
}

const DURATION = /^(\d+)\s*([mhd])$/;

function parseDurationHours(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2];
  return unit === "m" ? amount / 60 : unit === "h" ? amount : amount * 24;
}

function parseUtcDate(text: string): Date | undefined {
  // Blazar dates are UTC; insist on an explicit zone so "2026-12-01T10:00" is not silently local time.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function readOpenStack(r: ConfigReader): OpenStackAuthConfig {
  const cloud = r.optionalString("osCloud");
  const authUrl = r.optionalString("osAuthUrl");
  const applicationCredentialId = r.optionalString("osApplicationCredentialId");
  const applicationCredentialSecret = r.optionalSecret("osApplicationCredentialSecret");
  if (authUrl !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(authUrl))
      r.problem(
        "osAuthUrl",
        `must be the Keystone URL, got "${authUrl}"`,
        "pulumi config set osAuthUrl https://keystone.example.org:5000/v3",
      );
    if (applicationCredentialId === undefined)
      r.problem("osApplicationCredentialId", "is required when osAuthUrl is set", "pulumi config set osApplicationCredentialId <id>");
    if (applicationCredentialSecret === undefined)
      r.problem(
        "osApplicationCredentialSecret",
        "is required when osAuthUrl is set",
        "pulumi config set --secret osApplicationCredentialSecret <secret>",
      );
    if (cloud !== undefined)
      r.problem(
        "osCloud",
        "cannot be combined with osAuthUrl (choose clouds.yaml or explicit credentials)",
        "pulumi config rm osCloud, or pulumi config rm osAuthUrl",
      );
  }
  return { cloud, region: r.optionalString("osRegion"), authUrl, applicationCredentialId, applicationCredentialSecret };
}

function readNetwork(r: ConfigReader, environment: Environment, nodeCount: number): NetworkConfig {
  const cidrText = r.string("privateNetworkCidr", "192.168.1.0/24");
  const firstText = r.string("firstNodeIp", "192.168.1.11");
  const cidr = parseCidr(cidrText);
  const first = parseIpv4(firstText);
  const privateIps: string[] = [];
  if (!cidr) {
    r.problem(
      "privateNetworkCidr",
      `must be an IPv4 network in CIDR form with no host bits set, got "${cidrText}"`,
      "pulumi config set privateNetworkCidr 192.168.1.0/24",
    );
  } else if (first === undefined) {
    r.problem("firstNodeIp", `must be an IPv4 address, got "${firstText}"`, "pulumi config set firstNodeIp 192.168.1.11");
  } else if (!isUsableHost(cidr, first)) {
    r.problem(
      "firstNodeIp",
      `${firstText} is not a usable host address of privateNetworkCidr ${cidrText}`,
      `choose an address inside ${cidrText}, e.g. pulumi config set firstNodeIp ${formatIpv4(cidr.network + 11)}`,
    );
  } else {
    const last = first + nodeCount - 1;
    if (!isUsableHost(cidr, last)) {
      r.problem(
        "nodeCount",
        `${nodeCount} nodes starting at ${firstText} run past the end of ${cidrText} (last would be ${formatIpv4(last)})`,
        "lower nodeCount, choose a lower firstNodeIp, or a larger privateNetworkCidr",
      );
    } else {
      for (let i = 0; i < nodeCount; i++) privateIps.push(formatIpv4(first + i));
    }
  }

  const adminCidr = r.string("adminCidr", "");
  if (adminCidr === "") {
    r.problem(
      "adminCidr",
      "is required: the source network allowed to reach ssh (22) and the Kubernetes API (6443)",
      "pulumi config set adminCidr 203.0.113.0/24 (your office or VPN range)",
    );
  } else if (!parseCidr(adminCidr)) {
    r.problem("adminCidr", `must be an IPv4 network in CIDR form, got "${adminCidr}"`, "pulumi config set adminCidr 203.0.113.0/24");
  } else if (adminCidr === "0.0.0.0/0") {
    if (environment === "prod") {
      r.problem(
        "adminCidr",
        "0.0.0.0/0 opens ssh and the Kubernetes API to the whole Internet, which is not allowed in prod",
        "pulumi config set adminCidr <your office or VPN range>",
      );
    } else {
      r.warn(
        "adminCidr",
        "0.0.0.0/0 opens ssh (22) and the Kubernetes API (6443) to the whole Internet; acceptable for a short-lived dev stack only",
      );
    }
  }

  return {
    cidr: cidrText,
    privateIps,
    externalNetwork: r.requiredString("externalNetwork", "sharednet1"),
    floatingIpPool: r.requiredString("floatingIpPool", "public"),
    adminCidr,
    dnsNameservers: r.stringList("dnsNameservers", []),
  };
}

function readNodes(r: ConfigReader, count: number): NodesConfig {
  const namePrefix = r.string("nodeNamePrefix", "node");
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(namePrefix)) {
    r.problem(
      "nodeNamePrefix",
      `must start with a letter and contain only lower-case letters, digits and "-" (at most 41 characters; it becomes a hostname), got "${namePrefix}"`,
      "pulumi config set nodeNamePrefix node",
    );
  }
  const keypairName = r.optionalString("keypairName");
  const sshPublicKey = r.optionalString("sshPublicKey");
  if (keypairName !== undefined && sshPublicKey !== undefined) {
    r.problem(
      "sshPublicKey",
      "cannot be combined with keypairName (one names an existing key pair, the other creates one)",
      "pulumi config rm sshPublicKey, or pulumi config rm keypairName",
    );
  }
  if (sshPublicKey !== undefined && !/^(ssh-(rsa|ed25519)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+/.test(sshPublicKey)) {
    r.problem("sshPublicKey", "is not an OpenSSH public key", 'pulumi config set sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"');
  }
  return {
    count,
    namePrefix,
    image: r.requiredString("image", "CC-Ubuntu24.04"),
    flavor: r.requiredString("flavor", "m1.medium"),
    keypairName,
    sshPublicKey,
    availabilityZone: r.optionalString("availabilityZone"),
  };
}

function readLease(r: ConfigReader, resourcePrefix: string, now: Date): LeaseConfig | undefined {
  const before = r.problems.length;
  const type = r.oneOf("leaseType", ["none", "flavor:instance", "physical:host"] as const, "none");
  // An unknown type is already reported; checking the other lease keys against a guess would only add noise.
  if (r.problems.length > before) return undefined;
  const durationText = r.optionalString("leaseDuration");
  const endText = r.optionalString("leaseEnd");
  if (type === "none") {
    for (const key of ["leaseDuration", "leaseEnd", "leaseStart", "leaseResourceProperties"]) {
      if (r.optionalString(key) !== undefined)
        r.problem(key, "is set but leaseType is none", `pulumi config rm ${key}, or pulumi config set leaseType flavor:instance`);
    }
    return undefined;
  }

  const startText = r.string("leaseStart", "now");
  let start = "now";
  if (startText !== "now") {
    const date = parseUtcDate(startText);
    if (!date)
      r.problem(
        "leaseStart",
        `must be "now" or an ISO-8601 UTC date such as 2026-12-01T09:00Z, got "${startText}"`,
        "pulumi config set leaseStart now",
      );
    else start = date.toISOString();
  }
  const startDate = start === "now" ? now : new Date(start);

  let end: LeaseEnd = { kind: "duration", hours: 8 };
  if (durationText !== undefined && endText !== undefined) {
    r.problem(
      "leaseEnd",
      "cannot be combined with leaseDuration",
      "keep one: pulumi config rm leaseEnd, or pulumi config rm leaseDuration",
    );
  } else if (endText !== undefined) {
    const date = parseUtcDate(endText);
    if (!date) {
      r.problem(
        "leaseEnd",
        `must be an ISO-8601 UTC date such as 2026-12-01T17:00Z, got "${endText}"`,
        "pulumi config set leaseEnd 2026-12-01T17:00Z, or use leaseDuration 8h",
      );
    } else if (date.getTime() <= now.getTime()) {
      r.problem("leaseEnd", `${endText} is in the past`, "set a future date, or use a relative leaseDuration such as 8h");
    } else if (date.getTime() <= startDate.getTime()) {
      r.problem("leaseEnd", `${endText} is not after leaseStart ${startText}`, "set leaseEnd after leaseStart");
    } else {
      end = { kind: "absolute", date: date.toISOString() };
    }
  } else if (durationText !== undefined) {
    const hours = parseDurationHours(durationText);
    if (hours === undefined || hours <= 0) {
      r.problem(
        "leaseDuration",
        `must be a positive duration such as 90m, 8h or 7d, got "${durationText}"`,
        "pulumi config set leaseDuration 8h",
      );
    } else {
      end = { kind: "duration", hours };
    }
  }

  const resourceProperties = r.string("leaseResourceProperties", "");
  if (resourceProperties !== "") {
    let valid = false;
    try {
      valid = Array.isArray(JSON.parse(resourceProperties));
    } catch {
      valid = false;
    }
    if (!valid)
      r.problem(
        "leaseResourceProperties",
        `must be a Blazar filter as a JSON array, got ${resourceProperties}`,
        `pulumi config set leaseResourceProperties '["==", "$node_type", "compute_skylake"]'`,
      );
    if (type !== "physical:host")
      r.problem("leaseResourceProperties", "only applies to physical:host leases", "pulumi config rm leaseResourceProperties");
  }

  return {
    type,
    name: r.string("leaseName", `${resourcePrefix}-lease`),
    start,
    end,
    resourceProperties,
    timeoutMinutes: r.integer("leaseTimeoutMinutes", 30, 1, 24 * 60),
  };
}

/** How the worker image is chosen: a digest-pinned reference, or the one another stack deployed. */
export type WorkerImageSource =
  | { readonly kind: "reference"; readonly reference: string }
  /** `<org>/<project>/<stack>`: use that stack's `workerImage` output (prod runs exactly what dev tested). */
  | { readonly kind: "promote"; readonly stackReference: string };

export interface WorkloadConfig {
  readonly namespace: string;
  readonly image: WorkerImageSource;
  readonly worker: {
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly cpuTargetPercent: number;
    readonly scaleDownStabilizationSeconds: number;
    readonly resources: ResourceSettings;
    readonly concurrency: number;
  };
  readonly webhook: { readonly replicas: number; readonly resources: ResourceSettings };
  readonly outputPrefix: string;
  readonly reconcileMode: "notifications" | "poll" | "both";
  readonly reconcileIntervalSeconds: number;
  readonly shutdownGraceSeconds: number;
  readonly limitInputPixels: number;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
  /** The in-cluster PostgreSQL, used when the database is in-cluster. */
  readonly postgres: { readonly image: string; readonly storageSize: string; readonly resources: ResourceSettings };
}

const EXAMPLE_IMAGE = "ghcr.io/<org>/image-pipeline-worker@sha256:<digest>";

/** Checks one component's CPU/memory keys (<prefix>CpuRequest, ...): quantities, and requests not above limits. */
function checkedResources(r: ConfigReader, prefix: string, resources: ResourceSettings): ResourceSettings {
  const key = (resource: "cpu" | "memory", group: "requests" | "limits") =>
    `${prefix}${resource === "cpu" ? "Cpu" : "Memory"}${group === "requests" ? "Request" : "Limit"}`;
  const example = { cpu: { requests: "250m", limits: "1" }, memory: { requests: "256Mi", limits: "1Gi" } };
  for (const resource of ["cpu", "memory"] as const) {
    const request = parseQuantity(resources.requests[resource]);
    const limit = parseQuantity(resources.limits[resource]);
    for (const [group, value] of [
      ["requests", request],
      ["limits", limit],
    ] as const) {
      if (value === undefined || value === 0) {
        r.problem(
          key(resource, group),
          `"${resources[group][resource]}" is not a positive Kubernetes quantity`,
          `pulumi config set ${key(resource, group)} ${example[resource][group]}`,
        );
      }
    }
    if (request !== undefined && limit !== undefined && limit > 0 && request > limit) {
      r.problem(
        key(resource, "requests"),
        `${resources.requests[resource]} exceeds ${key(resource, "limits")} ${resources.limits[resource]}`,
        "lower the request or raise the limit (the API server rejects requests above limits)",
      );
    }
  }
  return resources;
}

function readWorkload(r: ConfigReader, stack: string): WorkloadConfig {
  const namespace = r.string("kubernetesNamespace", "image-pipeline");
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    r.problem(
      "kubernetesNamespace",
      `must be a DNS label (lower-case letters, digits and "-", at most 63), got "${namespace}"`,
      "pulumi config set kubernetesNamespace image-pipeline",
    );
  }

  const reference = r.optionalString("workerImage");
  const promoteFrom = r.optionalString("promoteFrom");
  let image: WorkerImageSource = { kind: "reference", reference: reference ?? "" };
  if (reference !== undefined && promoteFrom !== undefined) {
    r.problem(
      "promoteFrom",
      "cannot be combined with workerImage (the image would come from two places)",
      "pulumi config rm workerImage to deploy what the other stack runs, or pulumi config rm promoteFrom",
    );
  } else if (promoteFrom !== undefined) {
    const parts = promoteFrom.split("/");
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
      r.problem(
        "promoteFrom",
        `must be a fully qualified stack name <org>/<project>/<stack>, got "${promoteFrom}"`,
        "pulumi config set promoteFrom <org>/image-pipeline/dev",
      );
    } else if (parts[2] === stack) {
      r.problem(
        "promoteFrom",
        `names this stack (${stack}) itself`,
        "promote from the stack that tested the image, e.g. <org>/image-pipeline/dev",
      );
    }
    image = { kind: "promote", stackReference: promoteFrom };
  } else if (reference === undefined) {
    r.problem(
      "workerImage",
      "is required (or set promoteFrom to take the image another stack deployed)",
      `pulumi config set workerImage ${EXAMPLE_IMAGE}`,
    );
  } else {
    const problem = digestPinProblem(reference);
    if (problem)
      r.problem(
        "workerImage",
        problem,
        `pulumi config set workerImage ${EXAMPLE_IMAGE} (docker buildx imagetools inspect <image:tag> prints the digest)`,
      );
  }

  const minReplicas = r.integer("workerMinReplicas", 1, 1, 100);
  const maxReplicas = r.integer("workerMaxReplicas", 3, 1, 100);
  if (maxReplicas < minReplicas) {
    r.problem(
      "workerMaxReplicas",
      `${maxReplicas} is below workerMinReplicas ${minReplicas}`,
      `pulumi config set workerMaxReplicas ${minReplicas} or lower workerMinReplicas`,
    );
  }
  const shutdownGraceSeconds = r.integer("shutdownGraceSeconds", 25, 0, 3600);
  const postgresImage = r.string("postgresImage", "docker.io/library/postgres:16.9-bookworm");
  if (!parseImageReference(postgresImage)) {
    r.problem(
      "postgresImage",
      `"${postgresImage}" is not a container image reference`,
      "pulumi config set postgresImage docker.io/library/postgres:16.9-bookworm",
    );
  }
  const postgresStorageSize = r.string("postgresStorageSize", "10Gi");
  if ((parseQuantity(postgresStorageSize) ?? 0) < 1024 ** 3) {
    r.problem(
      "postgresStorageSize",
      `must be a Kubernetes quantity of at least 1Gi, got "${postgresStorageSize}"`,
      "pulumi config set postgresStorageSize 10Gi",
    );
  }
  return {
    namespace,
    image,
    worker: {
      minReplicas,
      maxReplicas,
      cpuTargetPercent: r.integer("workerCpuTargetPercent", 50, 1, 100),
      scaleDownStabilizationSeconds: r.integer("workerScaleDownStabilizationSeconds", 300, 0, 3600),
      resources: checkedResources(r, "worker", {
        requests: { cpu: r.string("workerCpuRequest", "300m"), memory: r.string("workerMemoryRequest", "384Mi") },
        limits: { cpu: r.string("workerCpuLimit", "1"), memory: r.string("workerMemoryLimit", "1Gi") },
      }),
      concurrency: r.integer("workerConcurrency", 2, 1, 64),
    },
    webhook: {
      replicas: r.integer("webhookReplicas", 1, 1, 20),
      resources: checkedResources(r, "webhook", {
        requests: { cpu: r.string("webhookCpuRequest", "50m"), memory: r.string("webhookMemoryRequest", "96Mi") },
        limits: { cpu: r.string("webhookCpuLimit", "250m"), memory: r.string("webhookMemoryLimit", "256Mi") },
      }),
    },
    outputPrefix: r.string("outputPrefix", ""),
    reconcileMode: r.oneOf("reconcileMode", ["notifications", "poll", "both"] as const, "both"),
    reconcileIntervalSeconds: r.integer("reconcileIntervalSeconds", 300, 10, 86400),
    shutdownGraceSeconds,
    limitInputPixels: r.integer("limitInputPixels", 100_000_000, 1, Number.MAX_SAFE_INTEGER),
    logLevel: r.oneOf("logLevel", ["fatal", "error", "warn", "info", "debug", "trace"] as const, "info"),
    postgres: {
      image: postgresImage,
      storageSize: postgresStorageSize,
      resources: checkedResources(r, "postgres", {
        requests: { cpu: r.string("postgresCpuRequest", "100m"), memory: r.string("postgresMemoryRequest", "256Mi") },
        limits: { cpu: r.string("postgresCpuLimit", "1"), memory: r.string("postgresMemoryLimit", "1Gi") },
      }),
    },
  };
}

export interface K3sConfig {
  /** k3s release tag installed on every node, e.g. v1.32.11+k3s3. */
  readonly version: string;
  /** The k3s installer script: https://get.k3s.io or a mirror of it. */
  readonly installerUrl: string;
  /** How long an agent waits at boot for node1's API before giving up. */
  readonly joinTimeoutSeconds: number;
  /** How long `pulumi up` waits for the API and every node to be Ready. */
  readonly readyTimeoutSeconds: number;
}

export function readK3s(r: ConfigReader): K3sConfig {
  const version = r.string("k3sVersion", DEFAULT_K3S_VERSION);
  if (!K3S_VERSION_PATTERN.test(version)) {
    r.problem(
      "k3sVersion",
      `must be a k3s release tag such as ${DEFAULT_K3S_VERSION} (see github.com/k3s-io/k3s/releases), got "${version}"`,
      `pulumi config set k3sVersion ${DEFAULT_K3S_VERSION}`,
    );
  }
  const installerUrl = r.string("k3sInstallerUrl", DEFAULT_K3S_INSTALLER_URL);
  let url: URL | undefined;
  try {
    url = new URL(installerUrl);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:" || /\s/.test(installerUrl)) {
    r.problem(
      "k3sInstallerUrl",
      `must be an https:// URL of the k3s install script (nodes run what it serves as root), got "${installerUrl}"`,
      `pulumi config set k3sInstallerUrl ${DEFAULT_K3S_INSTALLER_URL}, or your mirror's https URL`,
    );
  }
  return {
    version,
    installerUrl,
    joinTimeoutSeconds: r.integer("k3sJoinTimeoutSeconds", DEFAULT_JOIN_TIMEOUT_SECONDS, 60, 3600),
    readyTimeoutSeconds: r.integer("k3sReadyTimeoutSeconds", DEFAULT_READY_TIMEOUT_SECONDS, 60, 7200),
  };
}

export type DatabaseConfig =
  /** PostgreSQL deployed in the cluster by the workload (clouds without Trove, such as Chameleon KVM). */
  | { readonly kind: "in-cluster" }
  | {
      readonly kind: "trove";
      readonly instanceName: string;
      /** Nova flavor name for the Trove instance, e.g. standard.small on CSC Pukki. */
      readonly flavor: string;
      readonly datastoreType: string;
      readonly datastoreVersion: string;
      readonly volumeSizeGb: number;
    };

export type S3Credentials =
  | { readonly kind: "config"; readonly accessKeyId: pulumi.Input<string>; readonly secretAccessKey: pulumi.Input<string> }
  /** Created as Keystone EC2 credentials, for Keystone-integrated RGW such as CSC Allas. */
  | { readonly kind: "openstack-ec2" };

export interface StorageConfig {
  readonly endpoint: string;
  /** RGW zonegroup, used as the signing region and in topic ARNs. */
  readonly region: string;
  readonly inputBucket: string;
  readonly outputBucket: string;
  readonly credentials: S3Credentials;
  /** Principal the bucket policies grant to; derived from the EC2 credential's project when unset. */
  readonly pipelinePrincipal?: string;
  /** Let `pulumi destroy` delete buckets that still hold objects. */
  readonly forceDestroy: boolean;
  readonly topicName: string;
  readonly verifySsl: boolean;
  /** Object-key filter of the bucket notification; the worker applies the same (KEY_PREFIX_FILTER/KEY_SUFFIX_FILTER). */
  readonly keyPrefix: string;
  readonly keySuffix: string;
}

const TROVE_KEYS = ["troveFlavor", "troveDatastoreType", "troveDatastoreVersion", "troveVolumeSize", "troveInstanceName"];

function readDatabase(r: ConfigReader, resourcePrefix: string): DatabaseConfig {
  const kind = r.oneOf("databaseKind", ["in-cluster", "trove"] as const, "in-cluster");
  // An invalid kind is already reported; judging the Trove keys against the fallback would only add noise.
  if (r.optionalString("databaseKind") !== undefined && r.optionalString("databaseKind") !== kind) return { kind: "in-cluster" };
  if (kind === "in-cluster") {
    for (const key of TROVE_KEYS) {
      if (r.optionalString(key) !== undefined)
        r.problem(key, "is set but databaseKind is in-cluster", `pulumi config rm ${key}, or pulumi config set databaseKind trove`);
    }
    return { kind };
  }
  const instanceName = r.string("troveInstanceName", `${resourcePrefix}-db`);
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(instanceName)) {
    r.problem(
      "troveInstanceName",
      `must start with a letter and contain only letters, digits, "-" and "_" (at most 64), got "${instanceName}"`,
      `pulumi config set troveInstanceName ${resourcePrefix}-db`,
    );
  }
  const datastoreVersion = r.requiredString("troveDatastoreVersion", "17.2 (see: openstack datastore version list postgresql)");
  if (datastoreVersion !== "" && !/^\d+(\.\d+)*$/.test(datastoreVersion)) {
    r.problem(
      "troveDatastoreVersion",
      `must be a version such as 17.2, got "${datastoreVersion}"`,
      "pulumi config set troveDatastoreVersion 17.2 (see: openstack datastore version list postgresql)",
    );
  }
  return {
    kind,
    instanceName,
    flavor: r.requiredString("troveFlavor", "standard.small"),
    datastoreType: r.string("troveDatastoreType", "postgresql"),
    datastoreVersion,
    volumeSizeGb: r.integer("troveVolumeSize", 1, 1, 16384),
  };
}

/** Problems with an S3 bucket name under the DNS-compatible rules RGW and the AWS provider enforce. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `must be 3 to 63 characters, got ${name.length}`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
    return 'may contain only lower-case letters, digits, "." and "-", and must start and end with a letter or digit (no "_": seed 000\'s input_bucket becomes input-bucket)';
  if (name.includes("..") || name.includes(".-") || name.includes("-.")) return 'must not contain "..", ".-" or "-."';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not look like an IP address";
  return undefined;
}

function readStorage(r: ConfigReader, stack: string, resourcePrefix: string, environment: Environment): StorageConfig {
  const endpoint = r.requiredString("s3Endpoint", "https://a3s.fi");
  let endpointUrl: URL | undefined;
  try {
    endpointUrl = endpoint === "" ? undefined : new URL(endpoint);
  } catch {
    endpointUrl = undefined;
  }
  if (
    endpoint !== "" &&
    (!endpointUrl || !["http:", "https:"].includes(endpointUrl.protocol) || endpointUrl.pathname !== "/" || endpointUrl.search !== "")
  ) {
    r.problem(
      "s3Endpoint",
      `must be the S3 endpoint URL without a path, e.g. https://a3s.fi, got "${endpoint}"`,
      "pulumi config set s3Endpoint https://a3s.fi",
    );
  } else if (endpointUrl?.protocol === "http:" && environment === "prod") {
    r.warn("s3Endpoint", `${endpoint} is plain http: S3 credentials and objects cross the network unencrypted`);
  }
  const region = r.string("s3Region", "default");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(region))
    r.problem("s3Region", `must be the RGW zonegroup name, got "${region}"`, "pulumi config set s3Region default");

  const inputBucket = r.string("s3InputBucket", `input-bucket-${stack}`);
  const outputBucket = r.string("s3OutputBucket", `output-bucket-${stack}`);
  for (const [key, name, example] of [
    ["s3InputBucket", inputBucket, `input-bucket-${stack}`],
    ["s3OutputBucket", outputBucket, `output-bucket-${stack}`],
  ] as const) {
    const problem = bucketNameProblem(name);
    if (problem) r.problem(key, `"${name}" ${problem}`, `pulumi config set ${key} ${example}`);
  }
  if (inputBucket === outputBucket) {
    r.problem(
      "s3OutputBucket",
      `is the same bucket as s3InputBucket (${inputBucket}); results written there would notify the pipeline about its own output`,
      `pulumi config set s3OutputBucket output-bucket-${stack}`,
    );
  }

  const source = r.oneOf("s3Credentials", ["config", "openstack-ec2"] as const, "config");
  const accessKeyId = r.optionalSecret("s3AccessKeyId");
  const secretAccessKey = r.optionalSecret("s3SecretAccessKey");
  let credentials: S3Credentials = { kind: "openstack-ec2" };
  const sourceValid = r.optionalString("s3Credentials") === undefined || r.optionalString("s3Credentials") === source;
  if (!sourceValid) {
    // Already reported; the keys that depend on the source cannot be judged.
  } else if (source === "config") {
    if (accessKeyId === undefined)
      r.problem(
        "s3AccessKeyId",
        "is required when s3Credentials is config",
        "pulumi config set --secret s3AccessKeyId <access key> (for a Ceph user: radosgw-admin user info --uid <uid>)",
      );
    if (secretAccessKey === undefined)
      r.problem(
        "s3SecretAccessKey",
        "is required when s3Credentials is config",
        "pulumi config set --secret s3SecretAccessKey <secret key>",
      );
    credentials = { kind: "config", accessKeyId: accessKeyId ?? "", secretAccessKey: secretAccessKey ?? "" };
  } else {
    if (accessKeyId !== undefined)
      r.problem(
        "s3AccessKeyId",
        "is set but s3Credentials is openstack-ec2, which creates the credentials",
        "pulumi config rm s3AccessKeyId, or pulumi config set s3Credentials config",
      );
    if (secretAccessKey !== undefined)
      r.problem(
        "s3SecretAccessKey",
        "is set but s3Credentials is openstack-ec2, which creates the credentials",
        "pulumi config rm s3SecretAccessKey, or pulumi config set s3Credentials config",
      );
  }

  const pipelinePrincipal = r.optionalString("s3PipelinePrincipal");
  if (pipelinePrincipal !== undefined && !/^arn:aws:iam::[A-Za-z0-9_$-]*:user\/[A-Za-z0-9_.@$-]+$/.test(pipelinePrincipal)) {
    r.problem(
      "s3PipelinePrincipal",
      `must be an RGW user ARN arn:aws:iam::<tenant>:user/<uid>, got "${pipelinePrincipal}"`,
      "pulumi config set s3PipelinePrincipal arn:aws:iam:::user/image-pipeline",
    );
  } else if (pipelinePrincipal === undefined && source === "config" && sourceValid) {
    r.problem(
      "s3PipelinePrincipal",
      "is required when s3Credentials is config: the bucket policies grant access to the RGW user that owns s3AccessKeyId",
      "pulumi config set s3PipelinePrincipal arn:aws:iam:::user/<uid> (radosgw-admin user info shows the uid)",
    );
  }

  const topicName = r.string("notificationTopicName", `${resourcePrefix}-uploads`);
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(topicName)) {
    r.problem(
      "notificationTopicName",
      `must be 1-256 letters, digits, "-" or "_", got "${topicName}"`,
      `pulumi config set notificationTopicName ${resourcePrefix}-uploads`,
    );
  }
  const keyPrefix = r.string("notificationKeyPrefix", "");
  if (keyPrefix.startsWith("/"))
    r.problem(
      "notificationKeyPrefix",
      `object keys do not start with "/", got "${keyPrefix}"`,
      `pulumi config set notificationKeyPrefix ${keyPrefix.replace(/^\/+/, "")}`,
    );
  const keySuffix = r.string("notificationKeySuffix", "");
  for (const [key, value] of [
    ["notificationKeyPrefix", keyPrefix],
    ["notificationKeySuffix", keySuffix],
  ] as const) {
    if (value.length > 1024)
      r.problem(key, "is longer than an S3 object key can be (1024 characters)", `pulumi config set ${key} <shorter filter>`);
  }

  return {
    endpoint,
    region,
    inputBucket,
    outputBucket,
    credentials,
    pipelinePrincipal,
    forceDestroy: r.boolean("s3ForceDestroy", false),
    topicName,
    verifySsl: r.boolean("notificationVerifySsl", true),
    keyPrefix,
    keySuffix,
  };
}

export function parseStackConfig(source: ConfigSource, stack: string, now: Date = new Date()): StackConfig {
  const r = new ConfigReader(source);
  const defaultEnvironment: Environment = stack === "prod" ? "prod" : "dev";
  const environment = r.oneOf("environment", ["dev", "prod"] as const, defaultEnvironment);
  const resourcePrefix = r.string("resourcePrefix", `image-pipeline-${stack}`);
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(resourcePrefix)) {
    r.problem(
      "resourcePrefix",
      `must start with a letter and contain only lower-case letters, digits and "-" (at most 31 characters), got "${resourcePrefix}"`,
      `pulumi config set resourcePrefix image-pipeline-${stack}`,
    );
  }
  const nodeCount = r.integer("nodeCount", 3, 1, 64);
  const openstack = readOpenStack(r);
  const network = readNetwork(r, environment, nodeCount);
  const lease = readLease(r, resourcePrefix, now);
  const nodes = readNodes(r, nodeCount);
  const k3s = readK3s(r);
  const workload = readWorkload(r, stack);
  const database = readDatabase(r, resourcePrefix);
  const storage = readStorage(r, stack, resourcePrefix, environment);

  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { stack, environment, resourcePrefix, openstack, network, nodes, lease, k3s, workload, database, storage, warnings: r.warnings };
}

/** Adapts `pulumi.Config` to `ConfigSource`. */
export function pulumiConfigSource(config: pulumi.Config = new pulumi.Config(CONFIG_NAMESPACE)): ConfigSource {
  return {
    get: (key) => config.get(key),
    secret: (key) => config.getSecret(key),
  };
}

/** Reads and validates the current stack's configuration; throws `ConfigError` before any resource exists. */
export function loadStackConfig(): StackConfig {
  const cfg = parseStackConfig(pulumiConfigSource(), pulumi.getStack());
  for (const warning of cfg.warnings) void pulumi.log.warn(warning);
  return cfg;
}
