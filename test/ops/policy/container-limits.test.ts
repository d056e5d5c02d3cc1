import { containerLimitsPolicy } from "../../../policy/kubernetes/container-limits";
import { KUBERNETES } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const pod = (resources: unknown) => ({ spec: { containers: [{ name: "worker", image: "i", resources }] } });

describe("containers-have-limits", () => {
  test("passes a container limiting CPU and memory", async () => {
    expect(await resourceViolations(containerLimitsPolicy, KUBERNETES.pod, pod({ limits: { cpu: "1", memory: "1Gi" } }))).toEqual([]);
  });

  test("fails missing limits, naming what is missing", async () => {
    expect(await resourceViolations(containerLimitsPolicy, KUBERNETES.pod, pod({ requests: { cpu: "1" } }))).toEqual([
      "container worker: no resources.limits.cpu or memory. Fix: set limits (workerMemoryLimit, workerCpuLimit and the like)",
    ]);
    expect(await resourceViolations(containerLimitsPolicy, KUBERNETES.pod, pod({ limits: { cpu: "1" } }))).toEqual([
      expect.stringContaining("no resources.limits.memory."),
    ]);
  });

  test("the required limits are configurable", async () => {
    expect(
      await resourceViolations(containerLimitsPolicy, KUBERNETES.pod, pod({ limits: { memory: "1Gi" } }), { requiredLimits: ["memory"] }),
    ).toEqual([]);
  });
});
