import path from "node:path";
/**
 * Pulling a private worker image (a dockerconfigjson Secret named by the service accounts that run the image)
 * and verifying an external database's server (its CA mounted into every pod that connects).
 */
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { ISecret } from "kubernetes-models/v1/Secret";
import {
  buildPipelineManifest,
  DATABASE_CA_PATH,
  dockerConfigJson,
  pipelineObjectCatalog,
  type PipelineSecretValues,
  type PipelineWorkloadSettings,
} from "../../k8s";
import { bindings, secretValues, stackSettings } from "./support/fixtures";
import { validateKubernetesObject } from "./support/kubernetesSchema";
import { podTemplates } from "./support/objects";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBoffline\n-----END CERTIFICATE-----\n";
const withRegistry = (s: PipelineWorkloadSettings): PipelineWorkloadSettings => ({ ...s, registry: { server: "ghcr.io" } });
const registryValues = (stack: "dev" | "prod"): PipelineSecretValues => ({
  ...secretValues(stack),
  registry: { username: "ci-bot", password: "ghp_token" },
});

describe("a private worker image", () => {
  const settings = withRegistry(stackSettings("dev"));
  const objects = buildPipelineManifest(settings, bindings(), registryValues("dev"));

  test("a dockerconfigjson Secret holds the login for the image's registry", () => {
    const secret = objects.find((o) => o.kind === "Secret" && o.metadata?.name === "image-pipeline-registry") as ISecret;
    expect(secret.type).toBe("kubernetes.io/dockerconfigjson");
    const config = JSON.parse(secret.stringData?.[".dockerconfigjson"] ?? "");
    expect(config).toEqual({
      auths: { "ghcr.io": { username: "ci-bot", password: "ghp_token", auth: Buffer.from("ci-bot:ghp_token").toString("base64") } },
    });
    expect(() => validateKubernetesObject(secret)).not.toThrow();
  });

  test("the service accounts of the pods that run the worker image name it; PostgreSQL's does not", () => {
    const accounts = objects.filter((o) => o.kind === "ServiceAccount") as IServiceAccount[];
    const pull = Object.fromEntries(accounts.map((a) => [a.metadata?.name, a.imagePullSecrets]));
    expect(pull).toEqual({
      "image-pipeline-webhook": [{ name: "image-pipeline-registry" }],
      "image-pipeline-worker": [{ name: "image-pipeline-registry" }],
      "image-pipeline-migrate": [{ name: "image-pipeline-registry" }],
      postgres: undefined,
    });
    for (const a of accounts) expect(() => validateKubernetesObject(a)).not.toThrow();
  });

  test("every pod running the worker image is applied after the Secret exists", () => {
    const catalog = pipelineObjectCatalog(settings);
    for (const id of ["migrate", "webhook", "worker"]) {
      const entry = catalog.find((e) => e.id === id);
      const after = new Set<string>();
      const walk = (deps: readonly string[]) =>
        deps.forEach((d) => {
          after.add(d);
          walk(catalog.find((e) => e.id === d)?.after ?? []);
        });
      walk(entry?.after ?? []);
      expect(after.has("registry-credentials")).toBe(true);
    }
    expect(catalog.find((e) => e.id === "registry-credentials")).toMatchObject({ kind: "Secret", secret: true });
  });

  test("a public image needs nothing: no Secret, no imagePullSecrets", () => {
    const publicImage = stackSettings("dev", { registryServer: undefined, registryCredentials: "" });
    expect(publicImage.registry).toBeUndefined();
    const plain = buildPipelineManifest(publicImage, bindings(), secretValues("dev"));
    expect(plain.some((o) => o.metadata?.name === "image-pipeline-registry")).toBe(false);
    expect(plain.filter((o) => o.kind === "ServiceAccount").map((a) => (a as IServiceAccount).imagePullSecrets)).toEqual(
      plain.filter((o) => o.kind === "ServiceAccount").map(() => undefined),
    );
  });

  test("missing credentials for a configured registry fail with the registry named", () => {
    expect(() => buildPipelineManifest(settings, bindings(), { ...secretValues("dev"), registry: undefined })).toThrow(
      "registry credentials for ghcr.io are required when a registry is configured",
    );
  });

  test("dockerConfigJson encodes user:password as docker login does", () => {
    expect(JSON.parse(dockerConfigJson("registry.example:5000", "u", "p:w")).auths["registry.example:5000"].auth).toBe(
      Buffer.from("u:p:w").toString("base64"),
    );
  });
});

describe("an external database verified against its CA", () => {
  const settings: PipelineWorkloadSettings = { ...stackSettings("prod"), database: { kind: "trove", caCertificate: CA } };
  const objects = buildPipelineManifest(settings, bindings(), secretValues("prod"));

  test("a ConfigMap carries the CA, and the webhook, worker and migration pods mount it where sslrootcert points", () => {
    const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === "image-pipeline-database-ca");
    // The file the worker's sslrootcert names is the ConfigMap's key, in the directory the pods mount it at.
    expect(configMap).toMatchObject({ data: { [path.posix.basename(DATABASE_CA_PATH)]: CA } });
    const pods = podTemplates(objects);
    expect(pods.map((p) => p.owner.replace(/-[0-9a-f]{10}$/, "")).sort()).toEqual([
      "Deployment/image-pipeline-webhook",
      "Deployment/image-pipeline-worker",
      "Job/image-pipeline-migrate",
    ]);
    for (const pod of pods) {
      expect(pod.spec.volumes).toContainEqual({ name: "database-ca", configMap: { name: "image-pipeline-database-ca" } });
      expect(pod.spec.containers[0].volumeMounts).toContainEqual({
        name: "database-ca",
        mountPath: path.posix.dirname(DATABASE_CA_PATH),
        readOnly: true,
      });
    }
    for (const o of objects) expect(() => validateKubernetesObject(o)).not.toThrow();
    const catalog = pipelineObjectCatalog(settings);
    expect(catalog.find((e) => e.id === "migrate")?.after).toContain("database-ca");
  });

  test("without a CA nothing is mounted (same-cloud Trove on the private network)", () => {
    const sameCloud = stackSettings("prod", { troveCloud: undefined, troveCaCertificate: undefined });
    expect(sameCloud.database).toEqual({ kind: "trove" });
    const plain = buildPipelineManifest(sameCloud, bindings(), secretValues("prod"));
    for (const pod of podTemplates(plain)) expect(pod.spec.volumes?.map((v) => v.name)).toEqual(["tmp"]);
  });
});
