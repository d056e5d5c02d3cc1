import { deploymentAutoscalersPolicy } from "../../../policy/kubernetes/deployment-autoscalers";
import { KUBERNETES } from "../../../policy/resourceTypes";
import { stackViolations } from "../support/policyHarness";

const deployment = (name: string, replicas?: number) => ({
  type: KUBERNETES.deployment,
  name: `r-${name}`,
  props: { metadata: { name, namespace: "p" }, spec: { ...(replicas === undefined ? {} : { replicas }) } },
});
const hpa = (target: string, namespace = "p", type: string = KUBERNETES.hpaV2) => ({
  type,
  name: `hpa-${target}`,
  props: { metadata: { name: target, namespace }, spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target } } },
});

describe("autoscaled-deployments-have-hpa", () => {
  test("passes a Deployment without replicas that an HPA (v2 or v1) targets, and one with fixed replicas", async () => {
    expect(await stackViolations(deploymentAutoscalersPolicy, [deployment("worker"), hpa("worker")])).toEqual([]);
    expect(await stackViolations(deploymentAutoscalersPolicy, [deployment("worker"), hpa("worker", "p", KUBERNETES.hpaV1)])).toEqual([]);
    expect(await stackViolations(deploymentAutoscalersPolicy, [deployment("webhook", 2)])).toEqual([]);
  });

  test("passes one a KEDA ScaledObject targets (scaleTargetRef.kind defaults to Deployment there)", async () => {
    const scaled = (kind?: string) => ({
      type: KUBERNETES.scaledObject,
      name: "so-worker",
      props: { metadata: { name: "worker", namespace: "p" }, spec: { scaleTargetRef: { name: "worker", ...(kind ? { kind } : {}) } } },
    });
    expect(await stackViolations(deploymentAutoscalersPolicy, [deployment("worker"), scaled()])).toEqual([]);
    expect(await stackViolations(deploymentAutoscalersPolicy, [deployment("worker"), scaled("Deployment")])).toEqual([]);
    expect(await stackViolations(deploymentAutoscalersPolicy, [deployment("worker"), scaled("StatefulSet")])).toHaveLength(1);
  });

  test("fails one no HPA targets, also when the HPA is in another namespace or names another Deployment", async () => {
    for (const others of [[], [hpa("worker", "elsewhere")], [hpa("webhook")]]) {
      expect(await stackViolations(deploymentAutoscalersPolicy, [deployment("worker"), ...others])).toEqual([
        {
          message: expect.stringMatching(
            /^Deployment p\/worker leaves replicas to an autoscaler, but no HorizontalPodAutoscaler \(or KEDA ScaledObject\) targets it/,
          ),
          urn: expect.stringMatching(/::r-worker$/),
        },
      ]);
    }
  });
});
