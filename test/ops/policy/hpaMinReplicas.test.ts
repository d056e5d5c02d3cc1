import { hpaMinReplicasPolicy } from "../../../policy/kubernetes/hpaMinReplicas";
import { KUBERNETES } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const hpa = (spec: Record<string, unknown>) => ({
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: { name: "worker", namespace: "image-pipeline" },
  spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "worker" }, maxReplicas: 6, ...spec },
});

describe("hpa-min-replicas", () => {
  test("passes min 2 (prod's bounds are 2 to 6) and more", async () => {
    expect(await resourceViolations(hpaMinReplicasPolicy, KUBERNETES.hpaV2, hpa({ minReplicas: 2 }))).toEqual([]);
    expect(await resourceViolations(hpaMinReplicasPolicy, KUBERNETES.hpaV2, hpa({ minReplicas: 3 }))).toEqual([]);
  });

  test("fails min 1 with the config key that fixes it", async () => {
    expect(await resourceViolations(hpaMinReplicasPolicy, KUBERNETES.hpaV2, hpa({ minReplicas: 1 }))).toEqual([
      "minReplicas is 1; at least 2 are required. Fix: pulumi config set workerMinReplicas 2",
    ]);
  });

  test("fails an absent minReplicas, which Kubernetes defaults to 1, also on autoscaling/v1", async () => {
    expect(await resourceViolations(hpaMinReplicasPolicy, KUBERNETES.hpaV1, hpa({}))).toEqual([
      expect.stringContaining("not set (Kubernetes defaults it to 1)"),
    ]);
  });

  test("the minimum is configurable", async () => {
    expect(await resourceViolations(hpaMinReplicasPolicy, KUBERNETES.hpaV2, hpa({ minReplicas: 2 }), { minReplicas: 3 })).toEqual([
      expect.stringContaining("at least 3"),
    ]);
  });

  test("applies to a KEDA ScaledObject's minReplicaCount, which KEDA defaults to 0", async () => {
    const scaled = (spec: Record<string, unknown>) => ({
      metadata: { name: "worker" },
      spec: { scaleTargetRef: { name: "worker" }, ...spec },
    });
    expect(await resourceViolations(hpaMinReplicasPolicy, KUBERNETES.scaledObject, scaled({ minReplicaCount: 2 }))).toEqual([]);
    expect(await resourceViolations(hpaMinReplicasPolicy, KUBERNETES.scaledObject, scaled({ minReplicaCount: 1 }))).toEqual([
      "minReplicaCount is 1; at least 2 are required. Fix: pulumi config set workerMinReplicas 2",
    ]);
    expect(await resourceViolations(hpaMinReplicasPolicy, KUBERNETES.scaledObject, scaled({}))).toEqual([
      expect.stringContaining("minReplicaCount is not set (KEDA defaults it to 0)"),
    ]);
  });

  test("ignores Deployments", async () => {
    expect(await resourceViolations(hpaMinReplicasPolicy, KUBERNETES.deployment, { spec: { replicas: 1 } })).toEqual([]);
  });
});
