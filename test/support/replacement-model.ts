/**
 * What a `pulumi up` would replace, update, create or delete for a change, worked out from two offline plans.
 *
 * Pulumi's mocks never diff, replace or destroy, so this reproduces the engine's decision from the providers'
 * documented behaviour, and nothing more:
 *   - A resource is replaced when an input its provider cannot update changes ("force-new" inputs, below), when a
 *     path in its `replaceOnChanges` changes, when its `replacementTrigger` changes, or when it is `--replace`d.
 *     Changes under `ignoreChanges` do not count. Any other input change is an update.
 *   - A replaced provider replaces every resource that uses it.
 *   - A replaced resource has a new id and new computed outputs: the model plans again with the mocks giving it a
 *     new id (`PlanOptions.resourceIds`), until nothing more is replaced, so dependents see the change.
 * Force-new inputs, by provider:
 *   - openstack (@pulumi/openstack 3.15.2 bridges terraform-provider-openstack; `ForceNew: true` in
 *     openstack/resource_openstack_*.go; the instance's flavor resizes and its image rebuilds in place);
 *   - tls and random: every input (the providers mark each attribute RequiresReplace);
 *   - aws s3: the bucket name (Bucket, BucketPolicy, BucketNotification);
 *   - kubernetes (pulumi-kubernetes provider/pkg/provider/diff.go `forceNew`, provider.go `DiffConfig`): a changed
 *     clusterIdentifier replaces the provider; metadata.name/namespace; a Job's template; a StatefulSet's claim
 *     templates, serviceName and selector; a Deployment's selector; ConfigMap and Secret data unless the provider
 *     sets enableConfigMapMutable / enableSecretMutable;
 *   - this program's dynamic providers: their own `diff` (lease: name, reservation, start; topic: name, endpoint,
 *     region; the Trove access: the instance id; the node-image file: its sha256; the readiness gate never replaces).
 */
import { planStack, type Plan, type PlannedResource } from "../../scripts/plan";
import { cachedPlan } from "./plan-cache";
import { changedPaths } from "../../scripts/plan-diff";

const FORCE_NEW: Record<string, readonly string[] | "all"> = {
  "openstack:compute/instance:Instance": [
    "availabilityZone",
    "availabilityZoneHints",
    "blockDevices",
    "configDrive",
    "keyPair",
    "networkMode",
    "networks",
    "region",
    "schedulerHints",
    "userData",
  ],
  "openstack:networking/port:Port": ["region", "networkId", "macAddress", "tenantId", "deviceOwner", "deviceId", "valueSpecs"],
  "openstack:networking/subnet:Subnet": [
    "region",
    "networkId",
    "cidr",
    "prefixLength",
    "tenantId",
    "ipVersion",
    "subnetpoolId",
    "valueSpecs",
  ],
  "openstack:networking/network:Network": ["region", "tenantId", "valueSpecs", "availabilityZoneHints", "transparentVlan"],
  "openstack:networking/floatingIp:FloatingIp": ["region", "address", "pool", "tenantId", "valueSpecs", "dnsName", "dnsDomain"],
  "openstack:networking/floatingIpAssociate:FloatingIpAssociate": ["region", "floatingIp"],
  "openstack:networking/secGroup:SecGroup": ["region", "tenantId", "deleteDefaultRules"],
  "openstack:networking/secGroupRule:SecGroupRule": "all",
  "openstack:compute/keypair:Keypair": "all",
  "openstack:database/instance:Instance": ["name", "flavorId", "size", "volumeType", "datastore", "networks", "databases", "users"],
  "openstack:identity/ec2CredentialV3:Ec2CredentialV3": "all",
  "openstack:images/image:Image": [
    "region",
    "containerFormat",
    "diskFormat",
    "imageSourceUrl",
    "localFilePath",
    "minDiskGb",
    "minRamMb",
    "protected",
    "imageId",
    "decompress",
  ],
  "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix"],
  "aws:s3/bucketPolicy:BucketPolicy": ["bucket"],
  "aws:s3/bucketNotification:BucketNotification": ["bucket"],
  "pulumi:providers:kubernetes": ["clusterIdentifier"],
  "pulumi-nodejs:dynamic/image-pipeline:BlazarLease": ["name", "reservation", "start"],
  "pulumi-nodejs:dynamic/image-pipeline:RgwTopic": ["name", "endpoint", "region"],
  "pulumi-nodejs:dynamic/image-pipeline:K3sReadiness": [],
  "pulumi-nodejs:dynamic/image-pipeline:TroveInstanceAccess": ["instanceId"],
  "pulumi-nodejs:dynamic/image-pipeline:VerifiedImageFile": ["sha256"],
};

const KUBERNETES_FORCE_NEW: Record<string, readonly string[]> = {
  "kubernetes:batch/v1:Job": ["spec.completions", "spec.parallelism", "spec.selector", "spec.template"],
  "kubernetes:apps/v1:StatefulSet": [
    "spec.podManagementPolicy",
    "spec.revisionHistoryLimit",
    "spec.selector",
    "spec.serviceName",
    "spec.volumeClaimTemplates",
  ],
  "kubernetes:apps/v1:Deployment": ["spec.selector"],
};

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

/** Whether a change at `path` of `r`'s inputs makes the engine replace `r`. */
export function forcesReplacement(r: PlannedResource, path: string, plan: Plan): boolean {
  if (r.options.replaceOnChanges.some((p) => under(path, p))) return true;
  if (r.type.startsWith("tls:") || r.type.startsWith("random:")) return true;
  if (r.type.startsWith("kubernetes:")) {
    if (under(path, "metadata.name") || under(path, "metadata.namespace")) return true;
    if ((KUBERNETES_FORCE_NEW[r.type] ?? []).some((p) => under(path, p))) return true;
    // Provider settings reach the provider as strings ("true"), as the SDK serialises a provider's inputs.
    const provider = plan.resources.find((p) => p.name === r.provider)?.inputs ?? {};
    const mutable = (key: string) => String(provider[key]) === "true";
    if (r.type === "kubernetes:core/v1:ConfigMap")
      return !mutable("enableConfigMapMutable") && (under(path, "data") || under(path, "binaryData"));
    if (r.type === "kubernetes:core/v1:Secret")
      return !mutable("enableSecretMutable") && ["type", "stringData", "data"].some((p) => under(path, p));
    return false;
  }
  const rule = FORCE_NEW[r.type];
  if (rule === undefined) throw new Error(`the replacement model has no rule for ${r.type} (${r.name}); add its force-new inputs`);
  return rule === "all" || rule.some((p) => under(path, p));
}

export interface Consequences {
  readonly replaced: string[];
  readonly updated: string[];
  readonly created: string[];
  readonly deleted: string[];
  /** The changed input paths of every replaced or updated resource, by name. */
  readonly changes: Record<string, string[]>;
  /** The plan after the change, with replaced resources' new ids. */
  readonly after: Plan;
}

/** Components carry no inputs of their own; only custom resources and providers are diffed. */
const isComponent = (r: PlannedResource) => r.type.startsWith("image-pipeline:");

function classify(before: Plan, after: Plan, forced: ReadonlySet<string>): Omit<Consequences, "after"> {
  const old = new Map(before.resources.filter((r) => !isComponent(r)).map((r) => [r.name, r]));
  const now = after.resources.filter((r) => !isComponent(r));
  const replaced = new Set<string>();
  const updated = new Set<string>();
  const changes: Record<string, string[]> = {};
  for (const r of now) {
    const o = old.get(r.name);
    if (!o) continue;
    const paths = changedPaths(o.inputs, r.inputs).filter((p) => !r.options.ignoreChanges.some((ignored) => under(p, ignored)));
    const trigger = JSON.stringify(o.options.replacementTrigger) !== JSON.stringify(r.options.replacementTrigger);
    if (paths.length > 0 || trigger) changes[r.name] = trigger ? [...paths, "(replacementTrigger)"] : paths;
    if (forced.has(r.name) || trigger || paths.some((p) => forcesReplacement(r, p, after))) replaced.add(r.name);
    else if (paths.length > 0) updated.add(r.name);
  }
  for (const provider of now.filter((r) => r.type.startsWith("pulumi:providers:") && replaced.has(r.name))) {
    for (const r of now) {
      if (r.provider === provider.name) {
        replaced.add(r.name);
        updated.delete(r.name);
      }
    }
  }
  const names = new Set(now.map((r) => r.name));
  return {
    replaced: [...replaced].sort(),
    updated: [...updated].sort(),
    created: now
      .filter((r) => !old.has(r.name))
      .map((r) => r.name)
      .sort(),
    deleted: [...old.keys()].filter((n) => !names.has(n)).sort(),
    changes,
  };
}

export interface Change {
  /** Stack settings to change, keys without the namespace (`nodeCount`), as `pulumi config set` takes them. */
  readonly config?: Record<string, string>;
  /** Resources replaced on request, as `pulumi up --replace <urn>` does. */
  readonly replace?: readonly string[];
}

const namespaced = (config: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(config).map(([k, v]) => [`image-pipeline:${k}`, v]));

/** The engine's consequences of `change` to `stack`, against `before` (the stack as committed). */
export async function consequences(stack: string, before: Plan, change: Change): Promise<Consequences> {
  const forced = new Set(change.replace ?? []);
  let ids: Record<string, string> = Object.fromEntries([...forced].map((n) => [n, `${n}-replacement`]));
  for (let round = 0; round < 8; round++) {
    const after = await planStack(stack, { showSecrets: true, configOverrides: namespaced(change.config), resourceIds: ids });
    const result = classify(before, after, forced);
    const next = Object.fromEntries(result.replaced.map((n) => [n, `${n}-replacement`]));
    if (Object.keys(next).sort().join() === Object.keys(ids).sort().join()) return { ...result, after };
    ids = next;
  }
  throw new Error(`the replacement model did not settle for ${JSON.stringify(change)}`);
}

/** The stack as committed, planned the way `consequences` plans the change (secrets shown, so their changes count). */
export function committedPlan(stack: string): Promise<Plan> {
  return cachedPlan(stack, { showSecrets: true });
}
