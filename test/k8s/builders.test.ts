/** Builder behaviour that is not about one object's shape: naming, rollouts, consistency, input checks. */
import {
  buildPipelineManifest,
  buildPipelineObjects,
  buildPipelineSecrets,
  buildUnboundPipelineObjects,
  digestPinProblem,
  imageDigest,
  parseImageReference,
  parseQuantity,
  pipelineObjectCatalog,
  SCHEMA_KUBERNETES_VERSION,
  secretsChecksum,
  appRoleChecksum,
  WorkloadSettingsError,
  type PipelineWorkloadSettings,
} from "../../k8s";
import { bindings, DEV_IMAGE, secretValues, stackConfig, stackSettings, STACKS } from "./support/fixtures";
import { find } from "./support/objects";

const DIGEST = "sha256:" + "ab".repeat(32);

describe("image references", () => {
  test.each([
    ["ghcr.io/org/worker@" + DIGEST, { repository: "ghcr.io/org/worker", tag: undefined, digest: DIGEST }],
    ["ghcr.io/org/worker:1.2.3@" + DIGEST, { repository: "ghcr.io/org/worker", tag: "1.2.3", digest: DIGEST }],
    ["registry.local:5000/team/worker:latest", { repository: "registry.local:5000/team/worker", tag: "latest", digest: undefined }],
    ["node1:5000/gourmetgram-app:latest", { repository: "node1:5000/gourmetgram-app", tag: "latest", digest: undefined }],
    ["postgres", { repository: "postgres", tag: undefined, digest: undefined }],
  ])("%s parses", (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
  });

  test.each(["", "UPPER/case", "org/worker@sha256:short", "org/worker:", "org//worker", "-org/worker"])("%j is not a reference", (text) => {
    expect(parseImageReference(text)).toBeUndefined();
  });

  test("only digest-pinned references are deployable", () => {
    expect(digestPinProblem("ghcr.io/org/worker@" + DIGEST)).toBeUndefined();
    expect(digestPinProblem("ghcr.io/org/worker:1.0")).toMatch(/not pinned by digest/);
    expect(imageDigest("ghcr.io/org/worker:1.0@" + DIGEST)).toBe(DIGEST);
    expect(() => imageDigest("ghcr.io/org/worker:1.0")).toThrow('worker image "ghcr.io/org/worker:1.0" is not pinned by digest');
  });
});

describe("quantities", () => {
  test.each([
    ["250m", 0.25],
    ["1", 1],
    ["1.5", 1.5],
    ["512Mi", 512 * 1024 ** 2],
    ["1Gi", 1024 ** 3],
    ["500M", 5e8],
  ])("%s = %d", (text, value) => expect(parseQuantity(text)).toBeCloseTo(value));
  test.each(["", "abc", "1 Gi", "-1", "1GB"])("%j is not a quantity", (text) => expect(parseQuantity(text)).toBeUndefined());
});

describe("settings checks", () => {
  const base = stackSettings("dev");
  const withChanges = (change: (s: PipelineWorkloadSettings) => PipelineWorkloadSettings) => () =>
    buildPipelineManifest(change(base), bindings(), secretValues("dev"));

  test("every problem is listed with its field", () => {
    const bad = withChanges((s) => ({
      ...s,
      namespace: "Bad_NS",
      worker: {
        ...s.worker,
        minReplicas: 4,
        maxReplicas: 2,
        resources: { requests: { cpu: "2", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
      },
      workerRunAsUser: 0,
    }));
    expect(bad).toThrow(WorkloadSettingsError);
    try {
      bad();
    } catch (err) {
      expect((err as WorkloadSettingsError).problems).toEqual([
        'namespace: must be a DNS label (lower-case letters, digits and "-", at most 63), got "Bad_NS"',
        "worker.maxReplicas: must be a whole number not below worker.minReplicas (4), got 2",
        "worker.resources.requests.cpu: 2 exceeds worker.resources.limits.cpu 1",
        "workerRunAsUser: must be a non-root UID (1 or more), got 0",
      ]);
    }
  });

  test("an in-cluster database needs its password", () => {
    expect(() => buildPipelineSecrets(base, { ...secretValues("dev"), postgresPassword: undefined })).toThrow(
      /postgresPassword is required/,
    );
  });
});

describe.each(STACKS)("%s: rollouts and consistency", (stack) => {
  const settings = stackSettings(stack);

  test("the migration Job is named after the image: a new image gets a new Job, other changes do not", () => {
    const job = (b = bindings()) => find(Object.values(buildPipelineObjects(settings, b)), "Job").metadata?.name;
    const otherImage = DEV_IMAGE.replace(/@sha256:.*/, "@" + DIGEST);
    expect(job()).toMatch(/^image-pipeline-migrate-[0-9a-f]{10}$/);
    expect(job(bindings({ image: otherImage }))).not.toBe(job());
    expect(job(bindings({ inputBucket: "another", secretsChecksum: "1".repeat(64) }))).toBe(job());
  });

  test("the migration Job's pod template is the same whatever the configuration and the secrets", () => {
    // pulumi-kubernetes replaces a Job whose .spec.template changes, deleting it first (its name is fixed): a
    // setting or a rotated secret must not do that. The Job reads both through envFrom when it runs.
    const template = (b = bindings(), st = settings) => find(Object.values(buildPipelineObjects(st, b)), "Job").spec?.template;
    const changed = bindings({ inputBucket: "another", s3Endpoint: "https://other.example.org", secretsChecksum: "1".repeat(64) });
    expect(template(changed)).toEqual(template());
    expect(template(bindings(), stackSettings(stack, { logLevel: "trace", outputPrefix: "out/" }))).toEqual(template());
    // A different database does change it: the replacement Job runs the migrations there.
    expect(template(bindings({ databaseTarget: "192.168.1.77:5432/pipeline_db" }))).not.toEqual(template());
    // So does a rotated password of the services' role: the replacement Job sets it before the Deployments roll.
    const withRole = (password: string) => template(bindings({ appRoleChecksum: appRoleChecksum(password) }));
    expect(withRole("a".repeat(32))).not.toEqual(withRole("b".repeat(32)));
    expect(withRole("a".repeat(32))).toEqual(withRole("a".repeat(32)));
    expect(JSON.stringify(withRole("a".repeat(32)))).not.toContain("a".repeat(32));
  });

  test("a migration Job that did not complete is replaced on the next up instead of waited on again", () => {
    const job = find(Object.values(buildPipelineObjects(settings, bindings())), "Job");
    expect(job.metadata?.annotations?.["pulumi.com/replaceUnready"]).toBe("true");
  });

  test("pods roll when the configuration or the secrets change, and only then", () => {
    const annotations = (b = bindings()) =>
      find(Object.values(buildPipelineObjects(settings, b)), "Deployment", "image-pipeline-worker").spec?.template.metadata?.annotations;
    expect(annotations(bindings({ outputBucket: "other-output" }))?.["image-pipeline/config-checksum"]).not.toBe(
      annotations()?.["image-pipeline/config-checksum"],
    );
    expect(annotations(bindings({ secretsChecksum: "f".repeat(64) }))?.["image-pipeline/secrets-checksum"]).toBe("f".repeat(64));
    expect(annotations()).toEqual(annotations());
    const v = secretValues(stack);
    expect(secretsChecksum(v)).toBe(secretsChecksum({ ...v }));
    expect(secretsChecksum({ ...v, webhookSecret: "rotated" })).not.toBe(secretsChecksum(v));
    // Moving a character between values must change the fingerprint (values are length-prefixed).
    expect(secretsChecksum({ ...v, s3AccessKeyId: "ab", s3SecretAccessKey: "c" })).not.toBe(
      secretsChecksum({ ...v, s3AccessKeyId: "a", s3SecretAccessKey: "bc" }),
    );
  });

  test("objects that need no bindings are built identically without them", () => {
    const unbound = buildUnboundPipelineObjects(settings);
    const full = buildPipelineObjects(settings, bindings());
    const catalog = pipelineObjectCatalog(settings);
    expect(Object.keys(unbound).sort()).toEqual(
      catalog
        .filter((e) => !e.bound && !e.secret)
        .map((e) => e.id)
        .sort(),
    );
    for (const [id, object] of Object.entries(unbound)) expect(object).toEqual(full[id]);
  });

  test("the catalog is in dependency order, and the workloads wait for the migration (and the database)", () => {
    const catalog = pipelineObjectCatalog(settings);
    const seen = new Set<string>();
    for (const entry of catalog) {
      for (const dep of entry.after) expect([entry.id, seen.has(dep)]).toEqual([entry.id, true]);
      seen.add(entry.id);
    }
    const after = (id: string) => catalog.find((e) => e.id === id)?.after ?? [];
    expect(after("worker")).toContain("migrate");
    expect(after("webhook")).toContain("migrate");
    if (stack === "dev") expect(after("migrate")).toContain("postgres");
    else expect(catalog.map((e) => e.id)).not.toContain("postgres");
  });
});

test.each(STACKS)("%s: the schemas and the enforced Pod Security version match the pinned k3s Kubernetes minor", (stack) => {
  const minor = (v: string) => Number(/^v1\.(\d+)/.exec(v)?.[1]);
  const cluster = minor(stackConfig(stack).k3s.version);
  expect(Number.isNaN(cluster)).toBe(false);
  // The builders use only GA APIs (apps/v1, batch/v1, core/v1, networking.k8s.io/v1, policy/v1, autoscaling/v2)
  // and fields GA or on by default from v1.30 (preStop.sleep), none removed since: validating against schemas up
  // to three minors older than the cluster is sound (kubernetes-models 4.5.1 is the newest CommonJS release, with
  // v1.33's; its 5.x line is ESM-only). A wider gap needs newer schemas first.
  expect(cluster - minor(SCHEMA_KUBERNETES_VERSION)).toBeLessThanOrEqual(3);
  expect(cluster).toBeGreaterThanOrEqual(30);
  expect(
    find(buildPipelineManifest(stackSettings(stack), bindings(), secretValues(stack)), "Namespace").metadata?.labels?.[
      "pod-security.kubernetes.io/enforce-version"
    ],
  ).toBe(`v1.${cluster}`);
});
