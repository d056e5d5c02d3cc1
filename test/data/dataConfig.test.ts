/** Stack config for the database and storage: the committed stacks, defaults, and every error message. */
import { bucketNameProblem, parseStackConfig } from "../../infra/config";
import { configProblems, mapSource, stackValues } from "../support/configSource";

const NOW = new Date("2026-11-22T12:00:00Z");

/** S3 keys from config, as for a Ceph user made with radosgw-admin (dev itself uses EC2 credentials). */
const CONFIG_CREDS: Record<string, string | undefined> = {
  s3Credentials: "config",
  // Keys from config are used wherever their owner made them: no storage site.
  storageCloud: undefined,
  s3AccessKeyId: "secret-s3AccessKeyId",
  s3SecretAccessKey: "secret-s3SecretAccessKey",
  s3PipelinePrincipal: "arn:aws:iam:::user/image-pipeline",
};

function parse(stack: string, overrides: Record<string, string | undefined> = {}) {
  return parseStackConfig(mapSource(stackValues(stack, overrides)), stack, NOW);
}

function problemsOf(stack: string, overrides: Record<string, string | undefined>): string[] {
  return configProblems(() => parse(stack, overrides));
}

describe("committed stacks", () => {
  test("dev: in-cluster PostgreSQL, CHI@TACC's object store, EC2 credentials made at CHI@TACC", () => {
    const cfg = parse("dev");
    expect(cfg.database).toEqual({ kind: "in-cluster" });
    expect(cfg.storage).toMatchObject({
      // KVM@TACC has no object store; the EC2 credential is made at the storage site and used with its store.
      endpoint: "https://chi.tacc.chameleoncloud.org:7480",
      region: "default",
      inputBucket: "ip-dev-input-bucket",
      outputBucket: "ip-dev-output-bucket",
      credentials: { kind: "openstack-ec2", storageCloud: "chameleon-chi-tacc" },
      forceDestroy: true,
      topicName: "ip-dev-uploads",
      verifySsl: true,
      keyPrefix: "",
      keySuffix: ".jpg",
    });
  });

  test("prod: Trove on Pukki (an external DBaaS with its own Keystone, verified over TLS) and Allas with EC2 credentials", () => {
    const cfg = parse("prod");
    expect(cfg.database).toEqual({
      kind: "trove",
      instanceName: "ip-prod-db",
      flavor: "standard.small",
      datastoreType: "postgresql",
      datastoreVersion: "17.2",
      volumeSizeGb: 10,
      // The CA is the operator's to set; the tests use the offline plan's stand-in.
      site: { kind: "external", cloud: "csc-pukki", region: undefined, caCertificate: expect.stringContaining("BEGIN CERTIFICATE") },
    });
    expect(cfg.storage).toMatchObject({
      endpoint: "https://a3s.fi",
      credentials: { kind: "openstack-ec2" },
      forceDestroy: false,
      pipelinePrincipal: undefined,
    });
  });
});

test("S3 keys from config are taken as secrets with the RGW user they belong to", () => {
  expect(parse("dev", CONFIG_CREDS).storage).toMatchObject({
    credentials: { kind: "config", accessKeyId: "secret-s3AccessKeyId", secretAccessKey: "secret-s3SecretAccessKey" },
    pipelinePrincipal: "arn:aws:iam:::user/image-pipeline",
  });
});

describe("defaults", () => {
  test("bucket names are input-bucket-<stack> and output-bucket-<stack> by default", () => {
    const cfg = parse("prod", { s3InputBucket: undefined, s3OutputBucket: undefined, notificationTopicName: undefined });
    expect([cfg.storage.inputBucket, cfg.storage.outputBucket, cfg.storage.topicName]).toEqual([
      "input-bucket-prod",
      "output-bucket-prod",
      "ip-prod-uploads",
    ]);
  });

  test("the database defaults to in-cluster, and the Trove instance name to <resourcePrefix>-db", () => {
    const trove = ["troveFlavor", "troveDatastoreVersion", "troveVolumeSize", "troveCloud", "troveCaCertificate"].reduce(
      (o, k) => ({ ...o, [k]: undefined }),
      {} as Record<string, undefined>,
    );
    expect(parse("prod", { databaseKind: undefined, ...trove }).database).toEqual({ kind: "in-cluster" });
    expect(parse("prod", { troveVolumeSize: undefined }).database).toMatchObject({ instanceName: "ip-prod-db", volumeSizeGb: 1 });
  });
});

describe("errors name the key, the problem and the fix", () => {
  test.each<[string, string, Record<string, string | undefined>, RegExp]>([
    [
      "prod",
      "missing endpoint",
      { s3Endpoint: undefined },
      /^image-pipeline:s3Endpoint: is required and not set\. Fix: pulumi config set s3Endpoint https:\/\/a3s\.fi$/,
    ],
    [
      "prod",
      "endpoint with a path",
      { s3Endpoint: "https://a3s.fi/bucket" },
      /^image-pipeline:s3Endpoint: must be the S3 endpoint URL without a path, e\.g\. https:\/\/a3s\.fi, got "https:\/\/a3s\.fi\/bucket"\. Fix:/,
    ],
    ["prod", "endpoint not a URL", { s3Endpoint: "a3s.fi" }, /^image-pipeline:s3Endpoint: must be the S3 endpoint URL/],
    [
      "prod",
      "an underscore in a bucket name (input_bucket)",
      { s3InputBucket: "input_bucket" },
      /^image-pipeline:s3InputBucket: "input_bucket" may contain only lower-case letters.*no "_".*Fix: pulumi config set s3InputBucket input-bucket-prod$/,
    ],
    ["prod", "too short", { s3OutputBucket: "ab" }, /^image-pipeline:s3OutputBucket: "ab" must be 3 to 63 characters, got 2\. Fix:/],
    [
      "prod",
      "same bucket twice",
      { s3OutputBucket: "project-2001234-pipeline-input-prod" },
      /^image-pipeline:s3OutputBucket: is the same bucket as s3InputBucket .*notify the pipeline about its own output\. Fix:/,
    ],
    [
      "prod",
      "unknown credential source",
      { s3Credentials: "env" },
      /^image-pipeline:s3Credentials: must be one of config, openstack-ec2, got "env"\. Fix:/,
    ],
    [
      "prod",
      "keys with EC2 credentials",
      { s3SecretAccessKey: "x" },
      /^image-pipeline:s3SecretAccessKey: is set but s3Credentials is openstack-ec2.*Fix: pulumi config rm s3SecretAccessKey/,
    ],
    [
      "dev",
      "missing secret key",
      { ...CONFIG_CREDS, s3SecretAccessKey: undefined },
      /^image-pipeline:s3SecretAccessKey: is required when s3Credentials is config\. Fix: pulumi config set --secret s3SecretAccessKey/,
    ],
    [
      "dev",
      "missing access key",
      { ...CONFIG_CREDS, s3AccessKeyId: undefined },
      /^image-pipeline:s3AccessKeyId: is required when s3Credentials is config\. Fix: pulumi config set --secret s3AccessKeyId/,
    ],
    [
      "dev",
      "missing principal",
      { ...CONFIG_CREDS, s3PipelinePrincipal: undefined },
      /^image-pipeline:s3PipelinePrincipal: is required when s3Credentials is config.*Fix: pulumi config set s3PipelinePrincipal arn:aws:iam:::user\/<uid>/,
    ],
    [
      "dev",
      "malformed principal",
      { s3PipelinePrincipal: "pipeline" },
      /^image-pipeline:s3PipelinePrincipal: must be an RGW user ARN arn:aws:iam::<tenant>:user\/<uid>, got "pipeline"\. Fix:/,
    ],
    [
      "dev",
      "region with spaces",
      { s3Region: "us east" },
      /^image-pipeline:s3Region: must be the RGW zonegroup name, got "us east"\. Fix: pulumi config set s3Region default$/,
    ],
    [
      "dev",
      "topic name with a dot",
      { notificationTopicName: "a.b" },
      /^image-pipeline:notificationTopicName: must be 1-256 letters, digits, "-" or "_", got "a\.b"\. Fix:/,
    ],
    [
      "dev",
      "prefix with a leading slash",
      { notificationKeyPrefix: "/uploads/" },
      /^image-pipeline:notificationKeyPrefix: object keys do not start with "\/", got "\/uploads\/"\. Fix: pulumi config set notificationKeyPrefix uploads\/$/,
    ],
    [
      "dev",
      "verify-ssl not a boolean",
      { notificationVerifySsl: "yes" },
      /^image-pipeline:notificationVerifySsl: must be true or false, got "yes"\. Fix:/,
    ],
    [
      "dev",
      "Trove keys with in-cluster",
      { troveFlavor: "standard.small" },
      /^image-pipeline:troveFlavor: is set but databaseKind is in-cluster\. Fix: pulumi config rm troveFlavor, or pulumi config set databaseKind trove$/,
    ],
    [
      "prod",
      "unknown database kind",
      { databaseKind: "mysql" },
      /^image-pipeline:databaseKind: must be one of in-cluster, trove, got "mysql"\. Fix:/,
    ],
    [
      "prod",
      "Trove without version",
      { troveDatastoreVersion: undefined },
      /^image-pipeline:troveDatastoreVersion: is required and not set\. Fix: pulumi config set troveDatastoreVersion 17\.2/,
    ],
    [
      "prod",
      "Trove version not a version",
      { troveDatastoreVersion: "latest" },
      /^image-pipeline:troveDatastoreVersion: must be a version such as 17\.2, got "latest"\. Fix:/,
    ],
    [
      "prod",
      "Trove without flavor",
      { troveFlavor: undefined },
      /^image-pipeline:troveFlavor: is required and not set\. Fix: pulumi config set troveFlavor standard\.small$/,
    ],
    [
      "prod",
      "Trove volume of 0 GB",
      { troveVolumeSize: "0" },
      /^image-pipeline:troveVolumeSize: must be a whole number from 1 to 16384, got "0"\. Fix:/,
    ],
    [
      "prod",
      "Trove name with a space",
      { troveInstanceName: "pipeline db" },
      /^image-pipeline:troveInstanceName: must start with a letter.*got "pipeline db"\. Fix:/,
    ],
  ])("%s: %s", (stack, _what, overrides, expected) => {
    const problems = problemsOf(stack, overrides);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });

  test("all problems are reported at once", () => {
    const problems = problemsOf("dev", {
      ...CONFIG_CREDS,
      s3Endpoint: undefined,
      s3SecretAccessKey: undefined,
      s3InputBucket: "A",
      databaseKind: "x",
    });
    expect(problems.map((p) => p.split(":")[1])).toEqual(["databaseKind", "s3Endpoint", "s3InputBucket", "s3SecretAccessKey"]);
  });

  test("a plain-http endpoint is a warning in prod, not an error", () => {
    expect(parse("prod", { s3Endpoint: "http://10.0.0.5:7480" }).warnings.join("\n")).toMatch(
      /image-pipeline:s3Endpoint: http:\/\/10\.0\.0\.5:7480 is plain http/,
    );
    expect(parse("dev", { s3Endpoint: "http://10.0.0.5:7480" }).warnings.join("\n")).not.toMatch(/s3Endpoint/);
  });
});

test("bucket names: the DNS-compatible rules", () => {
  expect(bucketNameProblem("input-bucket-dev")).toBeUndefined();
  expect(bucketNameProblem("a.b-c")).toBeUndefined();
  expect(bucketNameProblem("a".repeat(64))).toMatch(/3 to 63/);
  expect(bucketNameProblem("-abc")).toMatch(/start and end/);
  expect(bucketNameProblem("Abc")).toMatch(/lower-case/);
  expect(bucketNameProblem("a..b")).toMatch(/"\.\."/);
  expect(bucketNameProblem("a.-b")).toMatch(/"\.-"/);
  expect(bucketNameProblem("192.168.1.10")).toMatch(/IP address/);
});
