import { plainSecretPaths, plaintextSecretsPolicy } from "../../../policy/secrets/plaintextSecrets";
import { hasUrlCredentials, keyWords, looksSecret } from "../../../policy/secrets/secretNames";
import { KUBERNETES, OPENSTACK } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const check = (type: string, props: Record<string, unknown>) => resourceViolations(plaintextSecretsPolicy, type, props);
const withEnv = (env: unknown[], extra: Record<string, unknown> = {}) => ({
  metadata: { name: "webhook", labels: { app: "webhook" } },
  spec: {
    template: {
      metadata: { annotations: { "checksum/secret": "9f86d081884c7d659a2feaa0c55ad015" } },
      spec: { containers: [{ name: "webhook", image: "img", env, ...extra }] },
    },
  },
});

describe("secret-looking names", () => {
  test.each([
    "WEBHOOK_SECRET",
    "password",
    "dbPassword",
    "k3sToken",
    "S3_SECRET_ACCESS_KEY",
    "apiKey",
    "API_KEY",
    "privateKeyPem",
    "passphrase",
    "osApplicationCredentialSecret",
  ])("%s looks secret", (key) => {
    expect(looksSecret(key)).toBe(true);
  });

  test.each([
    "S3_ACCESS_KEY_ID",
    "KEY_PREFIX_FILTER",
    "secretKeyRef",
    "secretName",
    "sshPublicKey",
    "keyPair",
    "checksum/secret",
    "applicationCredentialId",
    "DATABASE_URL",
    "automountServiceAccountToken",
    "skipCredentialsValidation",
    "LOG_LEVEL",
  ])("%s does not", (key) => {
    expect(looksSecret(key)).toBe(false);
  });

  test("keys split on case, digits and separators", () => {
    expect(keyWords("S3_SECRET_ACCESS_KEY")).toEqual(["s3", "secret", "access", "key"]);
    expect(keyWords("osApplicationCredentialSecret")).toEqual(["os", "application", "credential", "secret"]);
    expect(keyWords("checksum/config")).toEqual(["checksum", "config"]);
  });

  test("URLs with embedded passwords are recognised", () => {
    expect(hasUrlCredentials("postgres://pipeline:hunter2@db:5432/pipeline_db")).toBe(true);
    expect(hasUrlCredentials("postgres://db:5432/pipeline_db")).toBe(false);
    expect(hasUrlCredentials("http://203.0.113.10/notify")).toBe(false);
  });
});

describe("no-plaintext-secrets", () => {
  test("passes env bound to Secrets, plain settings and checksum annotations", async () => {
    const env = [
      { name: "WEBHOOK_SECRET", valueFrom: { secretKeyRef: { name: "pipeline", key: "webhook-secret" } } },
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "pipeline", key: "database-url" } } },
      { name: "S3_ACCESS_KEY_ID", value: "AKIAEXAMPLE" },
      { name: "LOG_LEVEL", value: "info" },
      { name: "KEY_PREFIX_FILTER", value: "uploads/" },
    ];
    expect(await check(KUBERNETES.deployment, withEnv(env))).toEqual([]);
  });

  test("fails a secret-looking env literal and a credential URL, naming container and variable", async () => {
    const env = [
      { name: "WEBHOOK_SECRET", value: "s3cr3t" },
      { name: "DATABASE_URL", value: "postgres://pipeline:hunter2@postgres:5432/pipeline_db" },
    ];
    expect(await check(KUBERNETES.deployment, withEnv(env))).toEqual([
      "container webhook: env WEBHOOK_SECRET is a literal value. Fix: valueFrom.secretKeyRef to a Kubernetes Secret",
      "container webhook: env DATABASE_URL is a URL with embedded credentials. Fix: valueFrom.secretKeyRef to a Kubernetes Secret",
    ]);
  });

  test("fails secrets passed as command-line flags", async () => {
    expect(await check(KUBERNETES.deployment, withEnv([], { args: ["webhook", "--token=abc"] }))).toEqual([
      expect.stringContaining("args carries a secret on the command line (--token=...)"),
    ]);
  });

  test("fails ConfigMap entries, annotations and instance metadata that hold secrets", async () => {
    expect(
      await check(KUBERNETES.configMap, { metadata: { name: "c" }, data: { LOG_LEVEL: "info", S3_SECRET_ACCESS_KEY: "abc" } }),
    ).toEqual([expect.stringContaining('ConfigMap key "S3_SECRET_ACCESS_KEY" looks like a secret')]);
    expect(await check(KUBERNETES.service, { metadata: { name: "s", annotations: { "example.com/api-key": "abc" } } })).toEqual([
      expect.stringContaining('annotation "example.com/api-key"'),
    ]);
    expect(
      await check(OPENSTACK.computeInstance, { name: "node1", metadata: { "image-pipeline/role": "server", k3s_token: "K10abc" } }),
    ).toEqual([expect.stringContaining('instance metadata key "k3s_token"')]);
  });

  test("leaves Kubernetes Secrets alone (their data is secret by schema)", async () => {
    expect(
      await check(KUBERNETES.secret, { metadata: { name: "pipeline" }, stringData: { "webhook-secret": "s3cr3t", password: "x" } }),
    ).toEqual([]);
  });
});

describe("plainSecretPaths (offline plan, where secretness is visible)", () => {
  const isSecret = (v: unknown) => v === "[secret]";
  test("lists secret-looking string inputs that are not secrets, with their paths", () => {
    const inputs = {
      name: "lease",
      auth: { applicationCredentialId: "abc", applicationCredentialSecret: "plain" },
      users: [{ name: "pipeline", password: "[secret]" }],
      token: "",
      clientSecret: "false",
    };
    expect(plainSecretPaths("pulumi-nodejs:dynamic/image-pipeline:BlazarLease", inputs, isSecret)).toEqual([
      "auth.applicationCredentialSecret",
    ]);
  });
  test("a fully secret object and Kubernetes Secrets are fine", () => {
    expect(plainSecretPaths("x:y:Z", { auth: "[secret]" }, isSecret)).toEqual([]);
    expect(plainSecretPaths(KUBERNETES.secret, { stringData: { password: "x" } }, isSecret)).toEqual([]);
  });
});
