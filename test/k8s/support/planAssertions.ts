/** Assertions over the offline plan of one stack, shared by the per-stack test files (one plan per process). */
import { kubernetesObjects } from "../../../scripts/render";
import type { Plan, PlannedResource } from "../../support/plan";
import { validateKubernetesObject } from "./kubernetesSchema";

export function kubernetesResources(plan: Plan): PlannedResource[] {
  return plan.resources.filter((r) => r.type.startsWith("kubernetes:"));
}

export function one(plan: Plan, type: string, predicate: (r: PlannedResource) => boolean = () => true): PlannedResource {
  const found = plan.resources.filter((r) => r.type === type && predicate(r));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  return found[0];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export function commonPlanTests(stack: "dev" | "prod", getPlan: () => Promise<Plan>, bounds: { min: number; max: number }): void {
  test("every Kubernetes object uses the k3s provider and waits for the readiness gate", async () => {
    const plan = await getPlan();
    const resources = kubernetesResources(plan);
    expect(resources.length).toBeGreaterThan(10);
    const gate = one(plan, "pulumi-nodejs:dynamic/image-pipeline:K3sReadiness");
    const provider = one(plan, "pulumi:providers:kubernetes");
    expect(provider.dependsOn).toContain(gate.name);
    for (const r of resources) {
      expect([r.name, r.provider]).toEqual([r.name, provider.name]);
      expect([r.name, r.dependsOn.includes(gate.name)]).toEqual([r.name, true]);
      expect(r.parent).toBe("workload");
    }
  });

  test("the worker Deployment and its HPA: autoscaling/v2, 50 % CPU, the stack's bounds", async () => {
    const plan = await getPlan();
    const worker = one(plan, "kubernetes:apps/v1:Deployment", (r) => (r.inputs as Json).metadata.name === "image-pipeline-worker");
    const hpa = one(plan, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    const spec = (hpa.inputs as Json).spec;
    expect(spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: (worker.inputs as Json).metadata.name });
    expect([spec.minReplicas, spec.maxReplicas]).toEqual([bounds.min, bounds.max]);
    expect(spec.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
    ]);
    expect(hpa.dependsOn).toContain(worker.name);
  });

  test("the webhook is published on /notify through Traefik, where the notification topic pushes", async () => {
    const plan = await getPlan();
    const ingress = one(plan, "kubernetes:networking.k8s.io/v1:Ingress");
    const spec = (ingress.inputs as Json).spec;
    expect(spec.ingressClassName).toBe("traefik");
    expect(spec.rules[0].http.paths[0]).toMatchObject({
      path: "/notify",
      pathType: "Exact",
      backend: { service: { name: "image-pipeline-webhook" } },
    });
    expect(new URL(String(plan.outputs.notificationPushEndpoint)).pathname).toBe("/notify");
  });

  test("the worker's configuration is wired to the buckets, endpoint and filter that storage declares", async () => {
    const plan = await getPlan();
    const data = (one(plan, "kubernetes:core/v1:ConfigMap", (r) => r.name === "workload-config").inputs as Json).data;
    const buckets = plan.resources.filter((r) => r.type === "aws:s3/bucket:Bucket").map((r) => (r.inputs as Json).bucket);
    expect(buckets.sort()).toEqual([data.INPUT_BUCKET, data.OUTPUT_BUCKET].sort());
    expect(data.INPUT_BUCKET).toBe(plan.outputs.inputBucket);
    expect(data.S3_ENDPOINT).toBe(plan.outputs.s3Endpoint);
    const notification = one(plan, "aws:s3/bucketNotification:BucketNotification");
    const topic = (notification.inputs as Json).topics[0];
    expect((notification.inputs as Json).bucket).toBe(data.INPUT_BUCKET);
    expect(data.KEY_PREFIX_FILTER).toBe(topic.filterPrefix ?? "");
    expect(data.KEY_SUFFIX_FILTER).toBe(topic.filterSuffix ?? "");
  });

  test("credentials reach the cluster only inside Secrets", async () => {
    const plan = await getPlan();
    for (const r of kubernetesResources(plan)) {
      const text = JSON.stringify(r.inputs);
      if (r.type === "kubernetes:core/v1:Secret") expect((r.inputs as Json).stringData).toBe("[secret]");
      else expect([r.name, text.includes("[secret]")]).toEqual([r.name, false]);
    }
  });

  test("the migration Job runs before the Deployments", async () => {
    const plan = await getPlan();
    const job = one(plan, "kubernetes:batch/v1:Job");
    for (const d of plan.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment")) expect(d.dependsOn).toContain(job.name);
    expect((job.inputs as Json).spec.template.spec.containers[0].args).toEqual(["migrate"]);
  });

  test("the stack exports the image it deployed and its digest", async () => {
    const plan = await getPlan();
    const image = String(plan.outputs.workerImage);
    expect(plan.outputs.workerImageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(image.endsWith(`@${plan.outputs.workerImageDigest}`)).toBe(true);
    for (const d of plan.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment")) {
      expect((d.inputs as Json).spec.template.spec.containers[0].image).toBe(image);
    }
  });

  test("the plan's objects, as `npm run render` writes them, validate against the Kubernetes schema", async () => {
    const plan = await getPlan();
    const objects = kubernetesObjects(plan);
    expect(objects.length).toBe(kubernetesResources(plan).length);
    for (const o of objects) validateKubernetesObject(o);
    for (const s of objects.filter((o) => o.kind === "Secret")) {
      expect(Object.values(s.stringData as Record<string, string>).every((v) => v === "[redacted]")).toBe(true);
    }
  });

  test(`in-cluster PostgreSQL: ${stack === "dev" ? "present, and the migration waits for it" : "absent (Trove)"}`, async () => {
    const plan = await getPlan();
    const statefulSets = plan.resources.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet");
    const trove = plan.resources.filter((r) => r.type === "openstack:database/instance:Instance");
    if (stack === "prod") {
      expect(statefulSets).toEqual([]);
      expect(trove).toHaveLength(1);
      return;
    }
    expect(trove).toEqual([]);
    expect(statefulSets.map((r) => (r.inputs as Json).metadata.name)).toEqual(["postgres"]);
    expect(one(plan, "kubernetes:batch/v1:Job").dependsOn).toContain(statefulSets[0].name);
    // The Service name is the host in the database component's connection string.
    expect(plan.outputs.databaseHost).toBe("postgres.image-pipeline.svc.cluster.local");
    const services = plan.resources.filter((r) => r.type === "kubernetes:core/v1:Service").map((r) => (r.inputs as Json).metadata.name);
    expect(services).toContain("postgres");
  });
}
