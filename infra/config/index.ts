/**
 * The one place that reads stack configuration: one file per concern, assembled here.
 *
 * `parseStackConfig` is pure: it takes a key reader and returns a typed, validated `StackConfig`, or throws a
 * `ConfigError` listing every problem at once (key, what is wrong, how to fix it). The program calls it before
 * declaring any resource, so a bad stack file never leaves a half-created deployment behind.
 * Every key is documented in Pulumi.yaml, whose defaults equal the tables here (test/unit/projectFile.test.ts).
 */
import { readDatabase, DATABASE_DEFAULTS, type DatabaseConfig } from "./database";
import { readK3s, K3S_DEFAULTS, type K3sConfig } from "./k3s";
import { checkBareMetalReadyTimeout, readLease, LEASE_DEFAULTS, type LeaseConfig } from "./lease";
import { checkPrivateNetworkForLease, readNetwork, NETWORK_DEFAULTS, type NetworkConfig } from "./network";
import { NODE_IMAGE_DEFAULTS } from "./node-image";
import { readNodes, NODES_DEFAULTS, type NodesConfig } from "./nodes";
import { readOpenStack, OPENSTACK_DEFAULTS, type OpenStackAuthConfig } from "./openstack";
import { ConfigError, ConfigReader, type ConfigDefaults, type ConfigSource, type Environment } from "./reader";
import { readRegistry, REGISTRY_DEFAULTS, type RegistryConfig } from "./registry";
import { readStorage, STORAGE_DEFAULTS, type StorageConfig } from "./storage";
import { readWebhookExposure, WEBHOOK_DEFAULTS, type WebhookExposure } from "./webhook";
import { readWorkload, WORKLOAD_DEFAULTS, type WorkloadConfig } from "./workload";

export * from "./database";
export * from "./k3s";
export * from "./lease";
export * from "./network";
export * from "./node-image";
export * from "./nodes";
export * from "./openstack";
export * from "./reader";
export * from "./registry";
export * from "./storage";
export * from "./workload";

/** Keys that are not a section's own: the environment and the resource prefix are derived from the stack name when "". */
/**
 * Keys that are not a section's own: the environment and the resource prefix are derived from the stack name when
 * "", and data protection from the environment.
 */
const STACK_DEFAULTS: ConfigDefaults = { environment: "", resourcePrefix: "", protectData: "" };

/** Every key's project default, as `Pulumi.yaml` declares it (test/unit/projectFile.test.ts keeps the two equal). */
export const CONFIG_DEFAULTS: ConfigDefaults = {
  ...STACK_DEFAULTS,
  ...OPENSTACK_DEFAULTS,
  ...NETWORK_DEFAULTS,
  ...NODES_DEFAULTS,
  ...NODE_IMAGE_DEFAULTS,
  ...LEASE_DEFAULTS,
  ...K3S_DEFAULTS,
  ...WORKLOAD_DEFAULTS,
  ...REGISTRY_DEFAULTS,
  ...DATABASE_DEFAULTS,
  ...STORAGE_DEFAULTS,
  ...WEBHOOK_DEFAULTS,
};

export interface StackConfig {
  readonly stack: string;
  readonly environment: Environment;
  /** Prefix of every cloud resource name, so several stacks share a project without clashes. */
  readonly resourcePrefix: string;
  readonly openstack: OpenStackAuthConfig;
  readonly network: NetworkConfig;
  readonly nodes: NodesConfig;
  readonly lease?: LeaseConfig;
  /** k3s on the nodes: pinned version, installer, bootstrap timeouts. */
  readonly k3s: K3sConfig;
  /** What runs on the cluster: image, scaling, resources. */
  readonly workload: WorkloadConfig;
  /** Pull credentials for the worker image's registry; absent for a public image. */
  readonly registry?: RegistryConfig;
  /** PostgreSQL: Trove or in-cluster. */
  readonly database: DatabaseConfig;
  /** S3 buckets, credentials and the notification topic on a Ceph RGW endpoint. */
  readonly storage: StorageConfig;
  /** How RGW reaches the webhook: HTTPS to a host name, or plain HTTP by explicit opt-in. */
  readonly webhook: WebhookExposure;
  /** Non-fatal findings, logged by the program (for example an ssh rule open to the world in dev). */
  /**
   * Protect what holds data (Trove instance, buckets, in-cluster PostgreSQL's namespace and StatefulSet) from
   * deletion and replacement, and keep the Trove instance and buckets in the cloud when Pulumi deletes them.
   */
  readonly protectData: boolean;
  readonly warnings: string[];
}

export function parseStackConfig(source: ConfigSource, stack: string, now: Date = new Date()): StackConfig {
  const r = new ConfigReader(source, CONFIG_DEFAULTS);
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
  const nodeCount = r.integer("nodeCount", 1, 64);
  const openstack = readOpenStack(r);
  const network = readNetwork(r, environment, nodeCount);
  const lease = readLease(r, resourcePrefix, now);
  checkPrivateNetworkForLease(r, network, lease?.type);
  const nodes = readNodes(r, nodeCount);
  const k3s = readK3s(r);
  checkBareMetalReadyTimeout(r, lease, k3s.readyTimeoutSeconds);
  const workload = readWorkload(r);
  const registry = readRegistry(r, workload.image);
  const database = readDatabase(r, resourcePrefix, openstack.cloud);
  const storage = readStorage(r, stack, resourcePrefix, environment, network.cidr);
  if (workload.scaling.kind === "queue-depth" && database.kind === "trove" && database.site.kind === "external") {
    r.problem(
      "workerScaling",
      "queue-depth needs KEDA's operator to query the database, and it cannot verify an external database's TLS certificate (the CA is mounted only in the pipeline's pods)",
      "pulumi config set workerScaling cpu",
    );
  }
  const webhook = readWebhookExposure(r, environment);
  const protectData = r.oneOf("protectData", ["true", "false"] as const, environment === "prod" ? "true" : "false") === "true";

  if (r.problems.length > 0) throw new ConfigError(r.problems, "stack configuration");
  return {
    stack,
    environment,
    resourcePrefix,
    openstack,
    network,
    nodes,
    lease,
    k3s,
    workload,
    registry,
    database,
    storage,
    webhook,
    protectData,
    warnings: r.warnings,
  };
}
