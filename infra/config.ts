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
      this.problem(key, `must be a whole number from ${min} to ${max}, got "${raw}"`, `pulumi config set ${key} ${Math.max(min, Math.min(max, fallback))}`);
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
    if (!/^https?:\/\/[^/]+/.test(authUrl)) r.problem("osAuthUrl", `must be the Keystone URL, got "${authUrl}"`, "pulumi config set osAuthUrl https://keystone.example.org:5000/v3");
    if (applicationCredentialId === undefined) r.problem("osApplicationCredentialId", "is required when osAuthUrl is set", "pulumi config set osApplicationCredentialId <id>");
    if (applicationCredentialSecret === undefined) r.problem("osApplicationCredentialSecret", "is required when osAuthUrl is set", "pulumi config set --secret osApplicationCredentialSecret <secret>");
    if (cloud !== undefined) r.problem("osCloud", "cannot be combined with osAuthUrl (choose clouds.yaml or explicit credentials)", "pulumi config rm osCloud, or pulumi config rm osAuthUrl");
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
    r.problem("privateNetworkCidr", `must be an IPv4 network in CIDR form with no host bits set, got "${cidrText}"`, "pulumi config set privateNetworkCidr 192.168.1.0/24");
  } else if (first === undefined) {
    r.problem("firstNodeIp", `must be an IPv4 address, got "${firstText}"`, "pulumi config set firstNodeIp 192.168.1.11");
  } else if (!isUsableHost(cidr, first)) {
    r.problem("firstNodeIp", `${firstText} is not a usable host address of privateNetworkCidr ${cidrText}`, `choose an address inside ${cidrText}, e.g. pulumi config set firstNodeIp ${formatIpv4(cidr.network + 11)}`);
  } else {
    const last = first + nodeCount - 1;
    if (!isUsableHost(cidr, last)) {
      r.problem("nodeCount", `${nodeCount} nodes starting at ${firstText} run past the end of ${cidrText} (last would be ${formatIpv4(last)})`, "lower nodeCount, choose a lower firstNodeIp, or a larger privateNetworkCidr");
    } else {
      for (let i = 0; i < nodeCount; i++) privateIps.push(formatIpv4(first + i));
    }
  }

  const adminCidr = r.string("adminCidr", "");
  if (adminCidr === "") {
    r.problem("adminCidr", "is required: the source network allowed to reach ssh (22) and the Kubernetes API (6443)", "pulumi config set adminCidr 203.0.113.0/24 (your office or VPN range)");
  } else if (!parseCidr(adminCidr)) {
    r.problem("adminCidr", `must be an IPv4 network in CIDR form, got "${adminCidr}"`, "pulumi config set adminCidr 203.0.113.0/24");
  } else if (adminCidr === "0.0.0.0/0") {
    if (environment === "prod") {
      r.problem("adminCidr", "0.0.0.0/0 opens ssh and the Kubernetes API to the whole Internet, which is not allowed in prod", "pulumi config set adminCidr <your office or VPN range>");
    } else {
      r.warn("adminCidr", "0.0.0.0/0 opens ssh (22) and the Kubernetes API (6443) to the whole Internet; acceptable for a short-lived dev stack only");
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
    r.problem("nodeNamePrefix", `must start with a letter and contain only lower-case letters, digits and "-" (at most 41 characters; it becomes a hostname), got "${namePrefix}"`, "pulumi config set nodeNamePrefix node");
  }
  const keypairName = r.optionalString("keypairName");
  const sshPublicKey = r.optionalString("sshPublicKey");
  if (keypairName !== undefined && sshPublicKey !== undefined) {
    r.problem("sshPublicKey", "cannot be combined with keypairName (one names an existing key pair, the other creates one)", "pulumi config rm sshPublicKey, or pulumi config rm keypairName");
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
      if (r.optionalString(key) !== undefined) r.problem(key, "is set but leaseType is none", `pulumi config rm ${key}, or pulumi config set leaseType flavor:instance`);
    }
    return undefined;
  }

  const startText = r.string("leaseStart", "now");
  let start = "now";
  if (startText !== "now") {
    const date = parseUtcDate(startText);
    if (!date) r.problem("leaseStart", `must be "now" or an ISO-8601 UTC date such as 2026-12-01T09:00Z, got "${startText}"`, "pulumi config set leaseStart now");
    else start = date.toISOString();
  }
  const startDate = start === "now" ? now : new Date(start);

  let end: LeaseEnd = { kind: "duration", hours: 8 };
  if (durationText !== undefined && endText !== undefined) {
    r.problem("leaseEnd", "cannot be combined with leaseDuration", "keep one: pulumi config rm leaseEnd, or pulumi config rm leaseDuration");
  } else if (endText !== undefined) {
    const date = parseUtcDate(endText);
    if (!date) {
      r.problem("leaseEnd", `must be an ISO-8601 UTC date such as 2026-12-01T17:00Z, got "${endText}"`, "pulumi config set leaseEnd 2026-12-01T17:00Z, or use leaseDuration 8h");
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
      r.problem("leaseDuration", `must be a positive duration such as 90m, 8h or 7d, got "${durationText}"`, "pulumi config set leaseDuration 8h");
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
    if (!valid) r.problem("leaseResourceProperties", `must be a Blazar filter as a JSON array, got ${resourceProperties}`, `pulumi config set leaseResourceProperties '["==", "$node_type", "compute_skylake"]'`);
    if (type !== "physical:host") r.problem("leaseResourceProperties", "only applies to physical:host leases", "pulumi config rm leaseResourceProperties");
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

export function parseStackConfig(source: ConfigSource, stack: string, now: Date = new Date()): StackConfig {
  const r = new ConfigReader(source);
  const defaultEnvironment: Environment = stack === "prod" ? "prod" : "dev";
  const environment = r.oneOf("environment", ["dev", "prod"] as const, defaultEnvironment);
  const resourcePrefix = r.string("resourcePrefix", `image-pipeline-${stack}`);
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(resourcePrefix)) {
    r.problem("resourcePrefix", `must start with a letter and contain only lower-case letters, digits and "-" (at most 31 characters), got "${resourcePrefix}"`, `pulumi config set resourcePrefix image-pipeline-${stack}`);
  }
  const nodeCount = r.integer("nodeCount", 3, 1, 64);
  const openstack = readOpenStack(r);
  const network = readNetwork(r, environment, nodeCount);
  const lease = readLease(r, resourcePrefix, now);
  const nodes = readNodes(r, nodeCount);

  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { stack, environment, resourcePrefix, openstack, network, nodes, lease, warnings: r.warnings };
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
