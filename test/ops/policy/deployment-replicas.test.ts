import { deploymentReplicasPolicy } from "../../../policy/kubernetes/deployment-replicas";
import { KUBERNETES } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const deployment = (replicas: number | undefined, component = "webhook") => ({
  metadata: { name: component, labels: { "app.kubernetes.io/component": component } },
  spec: { ...(replicas === undefined ? {} : { replicas }), template: { spec: { containers: [] } } },
});

describe("deployment-min-replicas", () => {
  test("passes 2 or more, and Deployments an HPA scales (no replicas)", async () => {
    expect(await resourceViolations(deploymentReplicasPolicy, KUBERNETES.deployment, deployment(2))).toEqual([]);
    expect(await resourceViolations(deploymentReplicasPolicy, KUBERNETES.deployment, deployment(undefined, "worker"))).toEqual([]);
  });

  test("fails one webhook replica with the config key that fixes it", async () => {
    expect(await resourceViolations(deploymentReplicasPolicy, KUBERNETES.deployment, deployment(1))).toEqual([
      "spec.replicas is 1; at least 2 keep it serving through a drain, a rollout or a crash. Fix: pulumi config set webhookReplicas 2",
    ]);
    expect(await resourceViolations(deploymentReplicasPolicy, KUBERNETES.deployment, deployment(0, "other"))).toEqual([
      expect.stringContaining("Fix: spec.replicas: 2"),
    ]);
  });

  test("the minimum is configurable; StatefulSets are not judged", async () => {
    expect(await resourceViolations(deploymentReplicasPolicy, KUBERNETES.deployment, deployment(2), { minReplicas: 3 })).toHaveLength(1);
    expect(await resourceViolations(deploymentReplicasPolicy, KUBERNETES.statefulSet, deployment(1))).toEqual([]);
  });
});
