/**
 * Policies over the offline plan of both stacks for the data services: the database, the buckets and
 * their policies, the notification topic and the bucket notification.
 */
import { planStack } from "../../scripts/plan";
import { cachedPlan } from "../support/plan-cache";
import type { Plan, PlannedResource } from "../support/plan";
import { byName, ofType } from "../support/plan";

const T = {
  trove: "openstack:database/instance:Instance",
  fip: "openstack:networking/floatingIp:FloatingIp",
  fipAssoc: "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
  ec2: "openstack:identity/ec2CredentialV3:Ec2CredentialV3",
  password: "random:index/randomPassword:RandomPassword",
  awsProvider: "pulumi:providers:aws",
  bucket: "aws:s3/bucket:Bucket",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  topic: "pulumi-nodejs:dynamic/image-pipeline:RgwTopic",
  notification: "aws:s3/bucketNotification:BucketNotification",
};

const plans: Record<string, Plan> = {};
beforeAll(async () => {
  // Sequential: the Pulumi runtime is process-global.
  plans.dev = await cachedPlan("dev");
  plans.prod = await cachedPlan("prod");
  plans.devConfigCreds = await planStack("dev", {
    configOverrides: {
      "image-pipeline:s3Credentials": "config",
      // Keys from config are made wherever their owner made them; the storage site's provider is not used.
      "image-pipeline:storageCloud": "",
      "image-pipeline:s3AccessKeyId": "AKIA-offline",
      "image-pipeline:s3SecretAccessKey": "offline-secret",
      "image-pipeline:s3PipelinePrincipal": "arn:aws:iam:::user/image-pipeline",
    },
  });
  // The compute cloud's own Trove, on the private network: prod without its external DBaaS.
  plans.prodSameCloud = await planStack("prod", {
    configOverrides: { "image-pipeline:troveCloud": "", "image-pipeline:troveCaCertificate": "" },
  });
  plans.prodVerifyOff = await planStack("prod", { configOverrides: { "image-pipeline:notificationVerifySsl": "false" } });
  plans.devProtected = await planStack("dev", { configOverrides: { "image-pipeline:protectData": "true" } });
  plans.prodFiltered = await planStack("prod", {
    configOverrides: { "image-pipeline:notificationKeyPrefix": "uploads/", "image-pipeline:notificationKeySuffix": ".png" },
  });
});

interface Statement {
  Effect: string;
  Principal: { AWS: string[] };
  Action: string[];
  Resource: string[];
}
const statements = (policy: PlannedResource): Statement[] =>
  (JSON.parse(policy.inputs.policy as string) as { Statement: Statement[] }).Statement;
const topicOf = (plan: Plan) => ofType(plan, T.topic);
const notificationTopics = (plan: Plan) => byName(plan, "storage-input-notification").inputs.topics as Record<string, unknown>[];

describe("same-cloud Trove (prod evaluated without troveCloud)", () => {
  test("one Trove PostgreSQL instance, attached by network uuid to the private network only", () => {
    const [trove, ...others] = ofType(plans.prodSameCloud, T.trove);
    expect(others).toEqual([]);
    expect(trove.parent).toBe("database");
    expect(trove.inputs.networks).toEqual([{ uuid: "network-private-id" }]);
    expect(trove.dependsOn).toContain("network-private");
    // Trove takes only the network; an instance booted before the subnet exists would get no address on it.
    expect(trove.dependsOn).toContain("network-private-subnet");
    expect(trove.inputs).toMatchObject({
      name: "ip-prod-db",
      size: 10,
      datastore: { type: "postgresql", version: "17.2" },
      databases: [{ name: "pipeline_db" }],
      flavorId: "flavor-standard.small",
    });
  });

  test("the Trove instance is never public: no floating IP or external network reaches it", () => {
    const trove = ofType(plans.prodSameCloud, T.trove)[0];
    for (const key of ["port", "fixedIpV4", "fixedIpV6"])
      expect((trove.inputs.networks as Record<string, unknown>[])[0][key]).toBeUndefined();
    for (const r of [...ofType(plans.prodSameCloud, T.fip), ...ofType(plans.prodSameCloud, T.fipAssoc)])
      expect(r.dependsOn).not.toContain("database-trove");
    expect(JSON.stringify(trove.inputs)).not.toMatch(/public|network-external/i);
  });

  test("the database host is the instance's address on the private network", () => {
    expect(plans.prodSameCloud.outputs.databaseKind).toBe("trove");
    expect(plans.prodSameCloud.outputs.databaseHost).toMatch(/^192\.168\.1\.\d+$/);
  });
});

describe("prod: Trove on CSC Pukki, and Allas", () => {
  test("the database user's password is generated and stays secret", () => {
    const trove = ofType(plans.prod, T.trove)[0];
    expect(trove.inputs.users).toBe("[secret]");
    expect(trove.options.additionalSecretOutputs).toContain("users");
    expect(trove.dependsOn).toContain("database-password");
    expect(byName(plans.prod, "database-password")).toMatchObject({
      type: T.password,
      parent: "database",
      inputs: { length: 32, special: false },
    });
  });

  test("S3 credentials are Keystone EC2 credentials created in the project, used only through secret inputs", () => {
    expect(ofType(plans.prod, T.ec2).map((r) => r.name)).toEqual(["storage-ec2-credential"]);
    const provider = byName(plans.prod, "storage-s3");
    expect(provider.dependsOn).toContain("storage-ec2-credential");
    expect(provider.inputs).toMatchObject({ accessKey: "[secret]", secretKey: "[secret]" });
  });

  test("bucket policies grant the project's RGW user (tenant = user = project id) by default", () => {
    const principal = statements(byName(plans.prod, "storage-input-policy"))[0].Principal.AWS[0];
    expect(principal).toBe("arn:aws:iam::0123456789abcdef0123456789abcdef:user/0123456789abcdef0123456789abcdef");
  });
});

describe("data protection (protectData: on in prod, off in dev)", () => {
  const dataHolders = (plan: Plan) =>
    plan.resources.filter((r) => r.type === T.trove || r.type === T.bucket || ["workload-postgres", "workload-namespace"].includes(r.name));

  test("prod: the Trove instance and both buckets are protected and kept in the cloud if Pulumi deletes them", () => {
    const holders = dataHolders(plans.prod);
    expect(holders.map((r) => r.name).sort()).toEqual(["database-trove", "storage-input", "storage-output", "workload-namespace"]);
    for (const r of holders.filter((h) => h.name !== "workload-namespace")) {
      expect({ name: r.name, protect: r.options.protect, retainOnDelete: r.options.retainOnDelete }).toEqual({
        name: r.name,
        protect: true,
        retainOnDelete: true,
      });
    }
    // With Trove the namespace holds no data, so it stays free to be replaced with a new cluster.
    expect(byName(plans.prod, "workload-namespace").options.protect).toBeUndefined();
  });

  test("dev: nothing is protected, so a short-lived stack can be torn down", () => {
    for (const r of plans.dev.resources) expect({ name: r.name, protect: r.options.protect }).toEqual({ name: r.name, protect: undefined });
  });

  test("with in-cluster PostgreSQL, protection covers its StatefulSet and the namespace whose deletion would take the volume", () => {
    const protectedNames = plans.devProtected.resources.filter((r) => r.options.protect).map((r) => r.name);
    expect(protectedNames.sort()).toEqual(["storage-input", "storage-output", "workload-namespace", "workload-postgres"]);
    expect(byName(plans.devProtected, "workload-postgres").options.retainOnDelete).toBe(false);
  });
});

describe("dev: in-cluster PostgreSQL on Chameleon", () => {
  test("no Trove instance; EC2 credentials for Chameleon's Keystone-integrated store, none with keys from config", () => {
    expect(ofType(plans.dev, T.trove)).toEqual([]);
    expect(ofType(plans.dev, T.ec2).map((r) => r.name)).toEqual(["storage-ec2-credential"]);
    expect(ofType(plans.devConfigCreds, T.ec2)).toEqual([]);
    // The services' role password, and the superuser's (the migration Job's alone).
    expect(plans.dev.resources.filter((r) => r.parent === "database").map((r) => r.name)).toEqual([
      "database-password",
      "database-admin-password",
    ]);
  });

  test("the database host is the in-cluster Service in the workload's namespace", () => {
    expect(plans.dev.outputs.databaseKind).toBe("in-cluster");
    expect(plans.dev.outputs.databaseHost).toBe("postgres.image-pipeline.svc.cluster.local");
  });

  test("S3 credentials, from config or from EC2, stay secrets", () => {
    for (const plan of [plans.dev, plans.devConfigCreds]) {
      expect(byName(plan, "storage-s3").inputs).toMatchObject({ secretKey: "[secret]" });
      expect(topicOf(plan)[0].inputs).toMatchObject({ secretAccessKey: "[secret]" });
    }
    // A key id from config is treated as secret; an EC2 credential's access id is an identifier, as in AWS.
    expect(topicOf(plans.devConfigCreds)[0].inputs.accessKeyId).toBe("[secret]");
    expect(topicOf(plans.dev)[0].inputs.accessKeyId).toBe("offline-access-storage-ec2-credential");
  });
});

describe.each(["dev", "prod"])("%s storage", (stack) => {
  const expected = {
    dev: {
      endpoint: "https://chi.tacc.chameleoncloud.org:7480",
      input: "ip-dev-input-bucket",
      output: "ip-dev-output-bucket",
      forceDestroy: true,
      topic: "ip-dev-uploads",
      filter: { filterSuffix: ".jpg" },
      // dev opts in to plain HTTP on the floating IP (webhookPlainHttp): it has no DNS name.
      pushEndpoint: "http://203.0.113.10/notify",
    },
    prod: {
      endpoint: "https://a3s.fi",
      input: "project-2001234-pipeline-input-prod",
      output: "project-2001234-pipeline-output-prod",
      forceDestroy: false,
      topic: "ip-prod-uploads",
      filter: {},
      // HTTPS to the webhook's host name (the offline plan's stand-in for webhookHostName), certificate verified.
      pushEndpoint: "https://pipeline.example.org/notify",
    },
  }[stack]!;

  test("the aws provider targets the RGW endpoint path-style with every AWS-only check off", () => {
    const [provider, ...others] = ofType(plans[stack], T.awsProvider);
    expect(others).toEqual([]);
    expect(provider.name).toBe("storage-s3");
    expect(JSON.parse(provider.inputs.endpoints as string)).toEqual([{ s3: expected.endpoint, sns: expected.endpoint }]);
    expect(provider.inputs).toMatchObject({
      region: "default",
      s3UsePathStyle: "true",
      skipCredentialsValidation: "true",
      skipRequestingAccountId: "true",
      skipMetadataApiCheck: "true",
      skipRegionValidation: "true",
    });
  });

  test("input and output buckets with the stack's names, on that provider", () => {
    const buckets = ofType(plans[stack], T.bucket);
    expect(buckets.map((b) => [b.name, b.inputs.bucket, b.inputs.forceDestroy, b.provider])).toEqual([
      ["storage-input", expected.input, expected.forceDestroy, "storage-s3"],
      ["storage-output", expected.output, expected.forceDestroy, "storage-s3"],
    ]);
  });

  test("bucket policies: the pipeline lists and reads the input bucket and only writes objects to the output bucket", () => {
    const input = byName(plans[stack], "storage-input-policy");
    const output = byName(plans[stack], "storage-output-policy");
    expect([input.inputs.bucket, output.inputs.bucket]).toEqual([expected.input, expected.output]);
    expect(statements(input).map((s) => [s.Effect, s.Action, s.Resource])).toEqual([
      ["Allow", ["s3:ListBucket"], [`arn:aws:s3:::${expected.input}`]],
      ["Allow", ["s3:GetObject"], [`arn:aws:s3:::${expected.input}/*`]],
    ]);
    expect(statements(output).map((s) => [s.Effect, s.Action, s.Resource])).toEqual([
      ["Allow", ["s3:PutObject"], [`arn:aws:s3:::${expected.output}/*`]],
    ]);
    const actions = [...statements(input), ...statements(output)].flatMap((s) => s.Action);
    expect(actions.filter((a) => /Delete|\*/.test(a))).toEqual([]);
    expect(new Set([...statements(input), ...statements(output)].map((s) => s.Principal.AWS.join()))).toHaveProperty("size", 1);
  });

  test("the topic pushes to the webhook (prod: https to its host name, verified), persistent, with a secret OpaqueData", () => {
    const [topic, ...others] = topicOf(plans[stack]);
    expect(others).toEqual([]);
    expect(topic.inputs).toMatchObject({
      name: expected.topic,
      endpoint: expected.endpoint,
      region: "default",
      pushEndpoint: expected.pushEndpoint,
      persistent: true,
      verifySsl: true,
      opaqueData: "[secret]",
      secretAccessKey: "[secret]",
    });
    expect(topic.dependsOn).toEqual(
      expect.arrayContaining(stack === "dev" ? ["network-floating-ip", "storage-webhook-secret"] : ["storage-webhook-secret"]),
    );
    expect(topic.options.additionalSecretOutputs).toEqual(expect.arrayContaining(["opaqueData", "secretAccessKey"]));
    expect(byName(plans[stack], "storage-webhook-secret").inputs).toMatchObject({ length: 48, special: false });
  });

  test("the input bucket notifies the topic of s3:ObjectCreated:* and is re-created whenever the topic changes", () => {
    const notification = byName(plans[stack], "storage-input-notification");
    expect(notification.inputs.bucket).toBe(expected.input);
    expect(notification.provider).toBe("storage-s3");
    const [config, ...others] = notificationTopics(plans[stack]);
    expect(others).toEqual([]);
    expect(config).toEqual({
      id: `${expected.topic}-created`,
      topicArn: `arn:aws:sns:default::${expected.topic}`,
      events: ["s3:ObjectCreated:*"],
      ...expected.filter,
    });
    expect(notification.dependsOn).toEqual(expect.arrayContaining(["storage-topic", "storage-input"]));
    // Rewritten in place under the same Id (RGW 16 adds a second configuration for another Id) and never deleted
    // through the provider (its empty PUT is refused by RGW 16): see docs/storage.md.
    expect(notification.options).toMatchObject({
      deleteBeforeReplace: false,
      retainOnDelete: true,
      replacementTrigger: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
  });

  test("stack outputs name the buckets, the topic and the push endpoint", () => {
    expect(plans[stack].outputs).toMatchObject({
      s3Endpoint: expected.endpoint,
      inputBucket: expected.input,
      outputBucket: expected.output,
      notificationTopicArn: `arn:aws:sns:default::${expected.topic}`,
      notificationPushEndpoint: expected.pushEndpoint,
    });
  });

  test("stack outputs carry what npm run verify reads, the S3 secret key only as a secret", () => {
    expect(plans[stack].outputs).toMatchObject({
      s3Region: expect.any(String),
      s3AccessKeyId: expect.any(String),
      s3SecretAccessKey: "[secret]",
      outputPrefix: "",
      kubernetesNamespace: "image-pipeline",
      workerAutoscaler: "image-pipeline-worker",
    });
    expect(plans[stack].outputs.kubeconfig).toBe("[secret]");
  });
});

test("a change of a topic attribute changes the notification's replacement trigger, keeping its Id", () => {
  const [before] = notificationTopics(plans.prod);
  const [after] = notificationTopics(plans.prodVerifyOff);
  expect(topicOf(plans.prodVerifyOff)[0].inputs.verifySsl).toBe(false);
  const trigger = (plan: Plan) => byName(plan, "storage-input-notification").options.replacementTrigger;
  expect(trigger(plans.prodVerifyOff)).not.toBe(trigger(plans.prod));
  expect(trigger(plans.prodFiltered)).toBe(trigger(plans.prod));
  expect(after.id).toBe(before.id);
  expect(after.topicArn).toBe(before.topicArn);
});

test("the optional key filter reaches the notification; the topic's Id does not depend on it", () => {
  const [filtered] = notificationTopics(plans.prodFiltered);
  expect(filtered).toMatchObject({ filterPrefix: "uploads/", filterSuffix: ".png", events: ["s3:ObjectCreated:*"] });
  expect(filtered.id).toBe(notificationTopics(plans.prod)[0].id);
});
