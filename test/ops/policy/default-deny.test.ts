import { defaultDenyPolicy, deniedDirections } from "../../../policy/kubernetes/default-deny";
import { KUBERNETES } from "../../../policy/resourceTypes";
import { stackViolations } from "../support/policyHarness";

const workload = (name: string, namespace?: string) => ({
  type: KUBERNETES.deployment,
  name,
  props: { metadata: { name, ...(namespace ? { namespace } : {}) }, spec: { template: { spec: { containers: [] } } } },
});
const networkPolicy = (name: string, namespace: string, spec: Record<string, unknown>) => ({
  type: KUBERNETES.networkPolicy,
  name,
  props: { metadata: { name, namespace }, spec },
});
const DENY_INGRESS = { podSelector: {}, policyTypes: ["Ingress"] };
const DENY_BOTH = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };

describe("namespace-default-deny", () => {
  test("passes a namespace with podSelector {} and no ingress or egress rules", async () => {
    expect(await stackViolations(defaultDenyPolicy, [workload("w", "p"), networkPolicy("deny", "p", DENY_BOTH)])).toEqual([]);
    const split = [networkPolicy("in", "p", DENY_INGRESS), networkPolicy("out", "p", { podSelector: {}, policyTypes: ["Egress"] })];
    expect(await stackViolations(defaultDenyPolicy, [workload("w", "p"), ...split])).toEqual([]);
  });

  test("by default both directions are required: a namespace denying only ingress fails for Egress", async () => {
    expect(await stackViolations(defaultDenyPolicy, [workload("w", "p"), networkPolicy("deny", "p", DENY_INGRESS)])).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/no default-deny NetworkPolicy for Egress,/) }),
    ]);
    expect(
      await stackViolations(defaultDenyPolicy, [workload("w", "p"), networkPolicy("deny", "p", DENY_INGRESS)], {
        policyTypes: ["Ingress"],
      }),
    ).toEqual([]);
  });

  test("fails a namespace without one, once, attributed to a workload in it", async () => {
    const found = await stackViolations(defaultDenyPolicy, [
      workload("a", "p"),
      workload("b", "p"),
      networkPolicy("deny", "other", DENY_BOTH),
    ]);
    expect(found).toEqual([
      {
        message: expect.stringMatching(/^namespace p runs pods but has no default-deny NetworkPolicy for Ingress and Egress/),
        urn: expect.stringMatching(/::a$/),
      },
    ]);
  });

  test("a policy that selects some pods, or allows some ingress, is not a default deny", async () => {
    for (const spec of [
      { podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Ingress"] },
      { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] },
    ])
      expect(
        await stackViolations(defaultDenyPolicy, [workload("w", "p"), networkPolicy("np", "p", spec)], { policyTypes: ["Ingress"] }),
      ).toHaveLength(1);
  });

  test("policyTypes defaults as Kubernetes does; Egress is required when configured", async () => {
    expect(deniedDirections({ spec: { podSelector: {} } })).toEqual(["Ingress"]);
    expect(deniedDirections({ spec: { podSelector: {}, egress: [{ to: [] }] } })).toEqual(["Ingress"]);
    expect(deniedDirections({ spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } })).toEqual(["Ingress", "Egress"]);
    const resources = [workload("w", "p"), networkPolicy("deny", "p", DENY_INGRESS)];
    expect(await stackViolations(defaultDenyPolicy, resources, { policyTypes: ["Ingress", "Egress"] })).toEqual([
      expect.objectContaining({ message: expect.stringContaining("for Egress") }),
    ]);
    const both = [...resources, networkPolicy("deny-egress", "p", { podSelector: {}, policyTypes: ["Egress"] })];
    expect(await stackViolations(defaultDenyPolicy, both, { policyTypes: ["Ingress", "Egress"] })).toEqual([]);
  });

  test("workloads without a namespace are in default", async () => {
    expect(await stackViolations(defaultDenyPolicy, [workload("w"), networkPolicy("deny", "default", DENY_BOTH)])).toEqual([]);
  });
});
