/**
 * workerScaling: queue-depth. The workers scale on the jobs that want a worker now through a KEDA ScaledObject
 * (CPU kept as a second trigger), validated against KEDA's own CRD schemas; KEDA's operator may reach the in-cluster
 * PostgreSQL and nothing else new may; the offline plan installs KEDA's pinned chart before the ScaledObject. The
 * default (cpu) keeps today's HPA.
 */
import { buildPipelineManifest, pipelineObjectCatalog, type KubernetesObject } from "../../k8s";
import { OUTSTANDING_JOBS_SQL } from "../../worker/src/db/queue/outstanding";
import { ConfigError } from "../../infra/config";
import { planOnce } from "../support/plan";
import { bindings, secretValues, stackConfig, stackSettings } from "./support/fixtures";
import { validateKubernetesObject } from "./support/kubernetesSchema";
import { ingressAllowed } from "./support/networkPolicy";
import { one, type Json } from "./support/planAssertions";

const QUEUE = { workerScaling: "queue-depth" };
/* eslint-disable @typescript-eslint/no-explicit-any */
const manifest = (overrides: Record<string, string> = {}) =>
  buildPipelineManifest(stackSettings("dev", overrides), bindings(), secretValues("dev")) as any[];
const ofKind = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);

describe("cpu (the default)", () => {
  const objects = manifest();

  test("one HPA on CPU, no KEDA objects", () => {
    const [hpa] = ofKind(objects, "HorizontalPodAutoscaler");
    expect(ofKind(objects, "HorizontalPodAutoscaler")).toHaveLength(1);
    expect(hpa.metadata.name).toBe("image-pipeline-worker");
    expect(hpa.spec.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
    ]);
    expect(objects.filter((o) => o.apiVersion === "keda.sh/v1alpha1")).toEqual([]);
  });

  test("the HPA lets KEDA's admission webhook accept a ScaledObject created before the HPA is deleted (a switch to queue-depth)", () => {
    expect(ofKind(objects, "HorizontalPodAutoscaler")[0].metadata.annotations).toEqual({ "validations.keda.sh/hpa-ownership": "false" });
  });
});

describe("queue-depth", () => {
  const objects = manifest(QUEUE);
  const [scaled] = ofKind(objects, "ScaledObject");
  const [auth] = ofKind(objects, "TriggerAuthentication");
  const cpuHpa = ofKind(manifest(), "HorizontalPodAutoscaler")[0];

  test("a ScaledObject and its TriggerAuthentication replace the HPA, after the worker and the Secret", () => {
    expect(ofKind(objects, "HorizontalPodAutoscaler")).toEqual([]);
    const catalog = pipelineObjectCatalog(stackSettings("dev", QUEUE));
    const entry = (id: string) => catalog.find((e) => e.id === id);
    expect(entry("worker-scaler")).toMatchObject({
      kind: "ScaledObject",
      apiVersion: "keda.sh/v1alpha1",
      after: ["namespace", "worker", "worker-scaler-auth"],
    });
    expect(entry("worker-scaler-auth")).toMatchObject({ kind: "TriggerAuthentication", after: ["namespace", "secrets"] });
    expect(entry("worker-hpa")).toBeUndefined();
  });

  test("the queue trigger runs the queue's outstanding-jobs query, one replica per workerQueueJobsPerReplica jobs", () => {
    expect(scaled.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "image-pipeline-worker" });
    expect(scaled.spec.triggers[0]).toEqual({
      type: "postgresql",
      metricType: "AverageValue",
      metadata: { query: OUTSTANDING_JOBS_SQL, targetQueryValue: "20" },
      authenticationRef: { name: auth.metadata.name },
    });
    const tuned = ofKind(manifest({ ...QUEUE, workerQueueJobsPerReplica: "8", workerQueuePollingSeconds: "5" }), "ScaledObject")[0];
    expect(tuned.spec.triggers[0].metadata.targetQueryValue).toBe("8");
    expect(tuned.spec.pollingInterval).toBe(5);
  });

  test("CPU stays a second trigger, with the same target, bounds and behaviour as the CPU-only HPA", () => {
    expect(scaled.spec.triggers[1]).toEqual({ type: "cpu", metricType: "Utilization", metadata: { value: "70" } });
    expect([scaled.spec.minReplicaCount, scaled.spec.maxReplicaCount]).toEqual([cpuHpa.spec.minReplicas, cpuHpa.spec.maxReplicas]);
    expect(scaled.spec.advanced.horizontalPodAutoscalerConfig.behavior).toEqual(cpuHpa.spec.behavior);
  });

  test("KEDA's HPA has a name of its own, so switching modes never has two owners of one HPA", () => {
    expect(scaled.spec.advanced.horizontalPodAutoscalerConfig.name).toBe("image-pipeline-worker-queue");
    expect(scaled.spec.advanced.horizontalPodAutoscalerConfig.name).not.toBe(cpuHpa.metadata.name);
  });

  test("the scaler's connection is a reference to the pipeline Secret's DATABASE_URL, not a copy", () => {
    const [secret] = ofKind(objects, "Secret").filter((s) => s.stringData?.DATABASE_URL !== undefined);
    expect(auth.spec).toEqual({ secretTargetRef: [{ parameter: "connection", name: secret.metadata.name, key: "DATABASE_URL" }] });
    expect(JSON.stringify(auth)).not.toContain(secretValues("dev").databaseUrl);
  });

  test.each([
    ["ScaledObject", () => scaled],
    ["TriggerAuthentication", () => auth],
  ])("the %s validates against KEDA 2.20's CRD schema", (_kind, object) => {
    expect(() => validateKubernetesObject(object())).not.toThrow();
  });

  describe("the CRD schema check is not a rubber stamp", () => {
    const copy = () => JSON.parse(JSON.stringify(scaled));
    test("a misspelt field (which the API server would silently prune) is refused", () => {
      const o = copy();
      o.spec.pollingIntervall = 15;
      expect(() => validateKubernetesObject(o)).toThrow(/must NOT have additional properties/);
    });
    test("a ScaledObject without triggers is refused", () => {
      const o = copy();
      delete o.spec.triggers;
      expect(() => validateKubernetesObject(o)).toThrow(/must have required property 'triggers'/);
    });
    test("a polling interval of 0 is refused", () => {
      const o = copy();
      o.spec.pollingInterval = 0;
      expect(() => validateKubernetesObject(o)).toThrow(/pollingInterval must be >= 1/);
    });
    test("trigger metadata must be strings", () => {
      const o = copy();
      o.spec.triggers[0].metadata.targetQueryValue = 20;
      expect(() => validateKubernetesObject(o)).toThrow(/must be string/);
    });
  });

  test("KEDA's operator may reach the in-cluster PostgreSQL; with cpu scaling it may not, and other KEDA pods never", () => {
    const policies = (o: KubernetesObject[]) => o.filter((x): x is any => x.kind === "NetworkPolicy");
    const postgres = {
      namespace: "image-pipeline",
      labels: ofKind(objects, "StatefulSet")[0].spec.template.metadata.labels,
      namedPorts: {},
    };
    const operator = { namespace: "keda", labels: { app: "keda-operator", "app.kubernetes.io/name": "keda-operator" }, namedPorts: {} };
    const metricsServer = { namespace: "keda", labels: { "app.kubernetes.io/name": "keda-operator-metrics-apiserver" }, namedPorts: {} };
    expect(ingressAllowed(policies(objects), operator, postgres, 5432)).toBe(true);
    expect(ingressAllowed(policies(objects), operator, postgres, 22)).toBe(false);
    expect(ingressAllowed(policies(objects), metricsServer, postgres, 5432)).toBe(false);
    expect(ingressAllowed(policies(manifest()), operator, postgres, 5432)).toBe(false);
  });
});

describe("configuration", () => {
  const problems = (stack: "dev" | "prod", overrides: Record<string, string>) => {
    try {
      stackConfig(stack, overrides);
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.problems;
    }
  };

  test("queue-depth settings on a cpu stack are refused, naming the key and the fix", () => {
    expect(problems("dev", { workerQueueJobsPerReplica: "5" })).toEqual([
      expect.stringMatching(/workerQueueJobsPerReplica: is set but workerScaling is cpu.*pulumi config set workerScaling queue-depth/),
    ]);
  });

  test("queue-depth with an external DBaaS (prod's Pukki) is refused: KEDA could not verify its TLS certificate", () => {
    expect(problems("prod", QUEUE)).toEqual([
      expect.stringMatching(/workerScaling: queue-depth needs KEDA.*pulumi config set workerScaling cpu/),
    ]);
  });

  test.each([
    [{ workerScaling: "queue" }, /workerScaling: must be one of cpu, queue-depth/],
    [{ ...QUEUE, workerQueueJobsPerReplica: "0" }, /workerQueueJobsPerReplica: must be a whole number from 1/],
    [{ ...QUEUE, kedaChartVersion: "latest" }, /kedaChartVersion: must be a chart version such as 2.20.2/],
  ])("%j is refused", (overrides, message) => {
    expect(problems("dev", overrides)).toEqual([expect.stringMatching(message)]);
  });

  test("the cluster's own KEDA in another namespace: the in-cluster PostgreSQL admits its operator from there only", () => {
    const objects = manifest({ ...QUEUE, kedaInstall: "false", kedaNamespace: "autoscaling" });
    const policies = objects.filter((o) => o.kind === "NetworkPolicy");
    const postgres = {
      namespace: "image-pipeline",
      labels: ofKind(objects, "StatefulSet")[0].spec.template.metadata.labels,
      namedPorts: {},
    };
    const labels = { "app.kubernetes.io/name": "keda-operator" };
    expect(ingressAllowed(policies, { namespace: "autoscaling", labels, namedPorts: {} }, postgres, 5432)).toBe(true);
    expect(ingressAllowed(policies, { namespace: "keda", labels, namedPorts: {} }, postgres, 5432)).toBe(false);
    expect(problems("dev", { ...QUEUE, kedaNamespace: "KEDA" })).toEqual([expect.stringMatching(/^image-pipeline:kedaNamespace: /)]);
  });

  test("kedaInstall false: the cluster's own KEDA is used, and no chart version is asked for", () => {
    expect(stackConfig("dev", { ...QUEUE, kedaInstall: "false", kedaChartVersion: "whatever" }).workload.scaling).toMatchObject({
      kind: "queue-depth",
      keda: { install: false },
    });
  });
});

describe("the offline plan of dev with queue-depth", () => {
  const plan = planOnce("dev", { configOverrides: { "image-pipeline:workerScaling": "queue-depth" } });

  test("installs KEDA's pinned chart on the k3s provider after the readiness gate, and the ScaledObject waits for it", async () => {
    const p = await plan();
    const release = one(p, "kubernetes:helm.sh/v3:Release");
    expect(release.inputs as Json).toMatchObject({
      chart: "keda",
      version: "2.20.2",
      namespace: "keda",
      createNamespace: true,
      atomic: true,
      repositoryOpts: { repo: "https://kedacore.github.io/charts" },
    });
    const provider = one(p, "pulumi:providers:kubernetes").name;
    expect(release.provider).toBe(provider);
    expect(release.dependsOn).toContain(one(p, "pulumi-nodejs:dynamic/image-pipeline:K3sReadiness").name);
    for (const kind of ["ScaledObject", "TriggerAuthentication"]) {
      const object = one(p, `kubernetes:keda.sh/v1alpha1:${kind}`);
      expect(object.dependsOn).toContain(release.name);
      expect(object.provider).toBe(provider);
    }
    expect(p.resources.filter((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")).toEqual([]);
  });

  test("the stack output names KEDA's HPA, the one npm run verify watches", async () => {
    expect((await plan()).outputs.workerAutoscaler).toBe("image-pipeline-worker-queue");
  });
});
