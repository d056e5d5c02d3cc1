/**
 * The contract between the manifests and the worker image: the environment a pod actually gets (ConfigMap and
 * Secret through envFrom, plus explicit env) is accepted by the worker's own start-up validation for each command.
 */
import { buildPipelineManifest, objectNames, pipelineEnvironment, pipelineSecretEnvironment, type KubernetesObject } from "../../k8s";
import { loadConfig, WORKER_ENV, type Command } from "../../worker/src/config";
import { bindings, secretValues, stackSettings, STACKS } from "./support/fixtures";
import { find, podTemplates } from "./support/objects";

/** What the kubelet would put in the container's environment, resolving envFrom and fieldRefs like Kubernetes. */
function containerEnvironment(objects: KubernetesObject[], component: string, podName: string): Record<string, string> {
  const pod = podTemplates(objects).find((p) => p.labels["app.kubernetes.io/component"] === component);
  if (!pod) throw new Error(`no ${component} pod`);
  const container = pod.spec.containers[0];
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, find(objects, "ConfigMap", source.configMapRef.name).data);
    if (source.secretRef) Object.assign(env, find(objects, "Secret", source.secretRef.name).stringData);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = podName;
    else throw new Error(`unresolvable env ${e.name}`);
  }
  return env;
}

describe.each(STACKS)("%s: the worker image accepts the environment its pods get", (stack) => {
  const settings = stackSettings(stack);
  const objects = buildPipelineManifest(settings, bindings(), secretValues(stack));

  test.each(["webhook", "worker", "migrate"] as Command[])("%s starts with a valid configuration", (command) => {
    const cfg = loadConfig(containerEnvironment(objects, command, `${command}-7d9f-abcde`), command);
    // With the in-cluster PostgreSQL the migration alone connects as the superuser and provisions the services' role.
    const migration = secretValues(stack).migration;
    if (command === "migrate" && migration) {
      expect(cfg.databaseUrl).toBe(migration.databaseUrl);
      expect(new URL(cfg.databaseUrl).username).toBe("postgres");
      expect(cfg.databaseAppRole).toEqual({ name: "pipeline", password: migration.appRolePassword });
      expect(new URL(secretValues(stack).databaseUrl).password).toBe(migration.appRolePassword);
    } else {
      expect(cfg.databaseUrl).toBe(secretValues(stack).databaseUrl);
      expect(new URL(cfg.databaseUrl).username).toBe("pipeline");
      expect(cfg.databaseAppRole).toBeUndefined();
    }
    expect(cfg.port).toBe(8080);
    if (command !== "migrate") {
      expect(cfg.inputBucket).toBe("input-bucket-dev");
      // The same filter as the bucket notification (storage config), as the worker parses it.
      const suffixes = settings.runtime.keySuffixFilter
        .split(",")
        .map((x) => x.trim().toLowerCase())
        .filter((x) => x !== "");
      expect(cfg.keySuffixFilter).toEqual(suffixes);
      expect(cfg.keyPrefixFilter).toBe(settings.runtime.keyPrefixFilter);
      expect(cfg.shutdownGraceSeconds).toBe(settings.runtime.shutdownGraceSeconds);
    }
    if (command === "worker") {
      expect(cfg.s3).toEqual({
        endpoint: "https://rgw.example.org",
        region: "default",
        accessKeyId: "AKIAEXAMPLE",
        secretAccessKey: "secret-access-key-example",
        forcePathStyle: true,
        connectTimeoutMs: 5000,
        requestTimeoutMs: 30000,
      });
      expect(cfg.outputBucket).toBe("output-bucket-dev");
      expect(cfg.workerId).toBe("worker-7d9f-abcde");
      expect(cfg.logLevel).toBe(stack === "dev" ? "debug" : "info");
    }
    if (command === "webhook") expect(cfg.webhookSecret).toBe("opaque-data-example");
  });

  test("secret variables are only in the Secrets, and the ConfigMap holds none", () => {
    const secretNames = WORKER_ENV.filter((v) => v.secret)
      .map((v) => v.name)
      .sort();
    const names = objectNames(settings);
    // The services' Secret holds every secret but the role password; the migration's (in-cluster) only its two.
    expect(Object.keys(find(objects, "Secret", names.secrets).stringData ?? {}).sort()).toEqual(
      secretNames.filter((n) => n !== "DATABASE_APP_PASSWORD"),
    );
    if (stack === "dev")
      expect(Object.keys(find(objects, "Secret", names.migrateSecrets).stringData ?? {}).sort()).toEqual([
        "DATABASE_APP_PASSWORD",
        "DATABASE_URL",
      ]);
    else expect(objects.some((o) => o.metadata?.name === names.migrateSecrets)).toBe(false);
    for (const key of Object.keys(find(objects, "ConfigMap", "image-pipeline-config").data ?? {})) expect(secretNames).not.toContain(key);
  });
});

describe("the environment builders refuse names the worker does not read or misplaced secrets", () => {
  const settings = stackSettings("dev");

  test("every ConfigMap key is a variable the worker reads", () => {
    const known = new Set(WORKER_ENV.map((v) => v.name));
    for (const key of Object.keys(pipelineEnvironment(settings, bindings()))) expect(known.has(key)).toBe(true);
  });

  test("the secret environment carries exactly the secret values", () => {
    expect(pipelineSecretEnvironment(secretValues("dev"))).toEqual({
      DATABASE_URL: "postgresql://pipeline:s3cr3t-db@postgres.image-pipeline.svc.cluster.local:5432/pipeline_db",
      S3_ACCESS_KEY_ID: "AKIAEXAMPLE",
      S3_SECRET_ACCESS_KEY: "secret-access-key-example",
      WEBHOOK_SECRET: "opaque-data-example",
    });
  });
});
