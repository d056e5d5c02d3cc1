import { serviceExposurePolicy } from "../../../policy/kubernetes/service-exposure";
import { KUBERNETES } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const service = (type?: string) => ({ spec: { ...(type ? { type } : {}), ports: [{ port: 80 }] } });

describe("no-node-port-or-load-balancer-services", () => {
  test("passes ClusterIP, headless and the default type", async () => {
    for (const s of [service("ClusterIP"), service(), { spec: { clusterIP: "None" } }, service("ExternalName")])
      expect(await resourceViolations(serviceExposurePolicy, KUBERNETES.service, s)).toEqual([]);
  });

  test.each(["NodePort", "LoadBalancer"])("fails %s", async (type) => {
    expect(await resourceViolations(serviceExposurePolicy, KUBERNETES.service, service(type))).toEqual([
      `Service type ${type} publishes the service on every node's address, past the Ingress. Fix: type ClusterIP, reached through the Ingress`,
    ]);
  });

  test("ignores other kinds", async () => {
    expect(await resourceViolations(serviceExposurePolicy, KUBERNETES.deployment, service("LoadBalancer"))).toEqual([]);
  });
});
