/** S3 buckets, their credentials and the notification topic on a Ceph RGW endpoint. */
import type * as pulumi from "@pulumi/pulumi";
import { workerEnvDefault } from "../../worker/src/config";
import { EGRESS_DEFAULTS, readS3Egress, type S3Egress } from "./egress";
import type { ConfigDefaults, ConfigReader, Environment } from "./reader";

/** s3Endpoint is required. The key filters and the region are the worker's own defaults, so both sides agree. */
export const STORAGE_DEFAULTS: ConfigDefaults = {
  s3Region: workerEnvDefault("S3_REGION"),
  s3InputBucket: "",
  s3OutputBucket: "",
  s3Credentials: "config",
  storageCloud: "",
  s3PipelinePrincipal: "",
  s3ForceDestroy: "false",
  notificationTopicName: "",
  notificationVerifySsl: "true",
  notificationKeyPrefix: workerEnvDefault("KEY_PREFIX_FILTER"),
  notificationKeySuffix: workerEnvDefault("KEY_SUFFIX_FILTER"),
  ...EGRESS_DEFAULTS,
};

export type S3Credentials =
  | { readonly kind: "config"; readonly accessKeyId: pulumi.Input<string>; readonly secretAccessKey: pulumi.Input<string> }
  /**
   * Created as Keystone EC2 credentials, for Keystone-integrated RGW such as CSC Allas. RGW checks a signature
   * against its own site's Keystone, so the credential is made at the storage site: `storageCloud`, the clouds.yaml
   * entry of that site, when it is not the compute cloud (Chameleon's KVM@TACC has no object store; CHI@TACC does).
   */
  | { readonly kind: "openstack-ec2"; readonly storageCloud?: string };

export interface StorageConfig {
  readonly endpoint: string;
  /** The endpoint's addresses and port, for the worker's egress NetworkPolicy. */
  readonly egress: S3Egress;
  /** RGW zonegroup, used as the signing region and in topic ARNs. */
  readonly region: string;
  readonly inputBucket: string;
  readonly outputBucket: string;
  readonly credentials: S3Credentials;
  /** Principal the bucket policies grant to; derived from the EC2 credential's project when unset. */
  readonly pipelinePrincipal?: string;
  /**
   * The worker's own S3 credential (a separate RGW user or subuser, `pipelinePrincipal`), when set: the pods get
   * it instead of `credentials`, which create the buckets and therefore own them. An owner keeps every right
   * whatever the bucket policy says, so only a non-owner credential is held to get-input / put-output / list.
   */
  readonly pipelineCredential?: { readonly accessKeyId: pulumi.Input<string>; readonly secretAccessKey: pulumi.Input<string> };
  /** Let `pulumi destroy` delete buckets that still hold objects. */
  readonly forceDestroy: boolean;
  readonly topicName: string;
  readonly verifySsl: boolean;
  /** Object-key filter of the bucket notification; the worker applies the same (KEY_PREFIX_FILTER/KEY_SUFFIX_FILTER). */
  readonly keyPrefix: string;
  readonly keySuffix: string;
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

export function readStorage(
  r: ConfigReader,
  stack: string,
  resourcePrefix: string,
  environment: Environment,
  nodeNetworkCidr?: string,
): StorageConfig {
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
  const egress = readS3Egress(r, endpoint !== "" && endpointUrl?.pathname === "/" ? endpointUrl : undefined, nodeNetworkCidr);
  const region = r.string("s3Region");
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

  const source = r.oneOf("s3Credentials", ["config", "openstack-ec2"] as const);
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
    if (r.isSet("storageCloud"))
      r.problem(
        "storageCloud",
        "is set but s3Credentials is config: the storage site's cloud only creates EC2 credentials",
        "pulumi config rm storageCloud, or pulumi config set s3Credentials openstack-ec2",
      );
  } else {
    const storageCloud = r.optionalString("storageCloud");
    credentials = storageCloud === undefined ? { kind: "openstack-ec2" } : { kind: "openstack-ec2", storageCloud };
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

  const pipelineAccessKeyId = r.optionalSecret("s3PipelineAccessKeyId");
  const pipelineSecretAccessKey = r.optionalSecret("s3PipelineSecretAccessKey");
  const dedicated = pipelineAccessKeyId !== undefined || pipelineSecretAccessKey !== undefined;
  if (pipelineAccessKeyId === undefined && pipelineSecretAccessKey !== undefined)
    r.problem(
      "s3PipelineAccessKeyId",
      "is required with s3PipelineSecretAccessKey",
      "pulumi config set --secret s3PipelineAccessKeyId <access key of the pipeline's RGW user>",
    );
  if (pipelineSecretAccessKey === undefined && pipelineAccessKeyId !== undefined)
    r.problem(
      "s3PipelineSecretAccessKey",
      "is required with s3PipelineAccessKeyId",
      "pulumi config set --secret s3PipelineSecretAccessKey <its secret key>",
    );
  const pipelinePrincipal = r.optionalString("s3PipelinePrincipal");
  // With s3Credentials config the principal is required anyway (below).
  if (dedicated && pipelinePrincipal === undefined && source !== "config")
    r.problem(
      "s3PipelinePrincipal",
      "is required with s3PipelineAccessKeyId: the bucket policies must grant the pipeline's own RGW user, not the owner",
      "pulumi config set s3PipelinePrincipal arn:aws:iam::<tenant>:user/<uid of the pipeline's user> (docs/storage.md, Dedicated credential)",
    );
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
  const keyPrefix = r.string("notificationKeyPrefix");
  if (keyPrefix.startsWith("/"))
    r.problem(
      "notificationKeyPrefix",
      `object keys do not start with "/", got "${keyPrefix}"`,
      `pulumi config set notificationKeyPrefix ${keyPrefix.replace(/^\/+/, "")}`,
    );
  const keySuffix = r.string("notificationKeySuffix");
  for (const [key, value] of [
    ["notificationKeyPrefix", keyPrefix],
    ["notificationKeySuffix", keySuffix],
  ] as const) {
    if (value.length > 1024)
      r.problem(key, "is longer than an S3 object key can be (1024 characters)", `pulumi config set ${key} <shorter filter>`);
  }

  return {
    endpoint,
    egress,
    region,
    inputBucket,
    outputBucket,
    credentials,
    pipelinePrincipal,
    pipelineCredential:
      pipelineAccessKeyId !== undefined && pipelineSecretAccessKey !== undefined
        ? { accessKeyId: pipelineAccessKeyId, secretAccessKey: pipelineSecretAccessKey }
        : undefined,
    forceDestroy: r.boolean("s3ForceDestroy"),
    topicName,
    verifySsl: r.boolean("notificationVerifySsl"),
    keyPrefix,
    keySuffix,
  };
}
