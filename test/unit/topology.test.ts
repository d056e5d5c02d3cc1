/** Policies over the declared graph of both stacks, evaluated offline under Pulumi's mocks. */
import { dhcpAllocationPools } from "../../infra/network";
import { planStack } from "../../scripts/plan";
import { cachedPlan } from "../support/plan-cache";
import type { Plan, PlannedResource } from "../support/plan";
import { byName, ofType } from "../support/plan";

const T = {
  subnet: "openstack:networking/subnet:Subnet",
  port: "openstack:networking/port:Port",
  fip: "openstack:networking/floatingIp:FloatingIp",
  fipAssoc: "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
  secGroup: "openstack:networking/secGroup:SecGroup",
  rule: "openstack:networking/secGroupRule:SecGroupRule",
  instance: "openstack:compute/instance:Instance",
  lease: "pulumi-nodejs:dynamic/image-pipeline:BlazarLease",
};

const plans: Record<string, Plan> = {};
beforeAll(async () => {
  // Sequential: the Pulumi runtime is process-global.
  plans.dev = await cachedPlan("dev");
  plans.prod = await cachedPlan("prod");
});

const privatePorts = (plan: Plan) => ofType(plan, T.port).filter((p) => p.name.includes("-private-port-"));
const externalPorts = (plan: Plan) => ofType(plan, T.port).filter((p) => p.name.includes("-external-port-"));
const idOf = (r: PlannedResource) => `${r.name}-id`;

describe.each(["dev", "prod"])("%s topology", (stack) => {
  test("the private subnet is 192.168.1.0/24 with DHCP and no gateway", () => {
    const [subnet, ...others] = ofType(plans[stack], T.subnet);
    expect(others).toEqual([]);
    expect(subnet.inputs).toMatchObject({ cidr: "192.168.1.0/24", noGateway: true, enableDhcp: true, ipVersion: 4 });
    expect(subnet.inputs.gatewayIp).toBeUndefined();
  });

  test("the private subnet hands out the cloud's documented resolvers, not Neutron's own", () => {
    const [subnet] = ofType(plans[stack], T.subnet);
    expect(subnet.inputs.dnsNameservers).toEqual(stack === "dev" ? ["129.114.97.1", "129.114.97.2"] : ["193.166.4.24", "193.166.4.25"]);
  });

  test("the subnet's DHCP pools leave out the nodes' fixed addresses", () => {
    const [subnet] = ofType(plans[stack], T.subnet);
    expect(subnet.inputs.allocationPools).toEqual([
      { start: "192.168.1.1", end: "192.168.1.10" },
      { start: "192.168.1.14", end: "192.168.1.254" },
    ]);
  });

  test("one private port per node at .11, .12, .13 with port security off and no security groups", () => {
    const ports = privatePorts(plans[stack]);
    expect(ports.map((p) => (p.inputs.fixedIps as { ipAddress: string }[])[0].ipAddress)).toEqual([
      "192.168.1.11",
      "192.168.1.12",
      "192.168.1.13",
    ]);
    for (const port of ports) {
      expect(port.inputs.portSecurityEnabled).toBe(false);
      expect(port.inputs.noSecurityGroups).toBe(true);
      expect(port.inputs.securityGroupIds ?? []).toEqual([]);
    }
  });

  test("every port that has security groups has port security on", () => {
    for (const port of ofType(plans[stack], T.port)) {
      const groups = (port.inputs.securityGroupIds as string[] | undefined) ?? [];
      if (groups.length > 0) expect(port.inputs.portSecurityEnabled).toBe(true);
      if (port.inputs.portSecurityEnabled === false) expect(groups).toEqual([]);
    }
  });

  test("external ports carry the ssh, http and Kubernetes API groups", () => {
    const groups = ofType(plans[stack], T.secGroup);
    expect(groups.map((g) => g.inputs.name)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/-allow-ssh$/),
        expect.stringMatching(/-allow-http-80$/),
        expect.stringMatching(/-allow-https-443$/),
        expect.stringMatching(/-allow-kube-api-6443$/),
      ]),
    );
    for (const port of externalPorts(plans[stack])) {
      expect([...(port.inputs.securityGroupIds as string[])].sort()).toEqual(groups.map(idOf).sort());
      expect(port.inputs.networkId).toBe(`network-${stack === "dev" ? "sharednet1" : "project_2001234"}`);
    }
  });

  test("each ingress rule is its own resource with a description; http and https are open, ssh/6443 follow adminCidr", () => {
    const rules = ofType(plans[stack], T.rule);
    const byPort = Object.fromEntries(rules.map((r) => [r.inputs.portRangeMin as number, r.inputs]));
    expect(
      Object.keys(byPort)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([22, 80, 443, 6443]);
    for (const rule of rules) {
      expect(rule.inputs).toMatchObject({ direction: "ingress", protocol: "tcp", ethertype: "IPv4" });
      expect(rule.inputs.portRangeMax).toBe(rule.inputs.portRangeMin);
      expect(String(rule.inputs.description).length).toBeGreaterThan(10);
    }
    expect(byPort[80].remoteIpPrefix).toBe("0.0.0.0/0");
    // The webhook's HTTPS, whose certificate Let's Encrypt issues after its HTTP-01 challenge on port 80.
    expect(byPort[443].remoteIpPrefix).toBe("0.0.0.0/0");
    const admin = stack === "dev" ? "198.51.100.7/32" : "193.166.0.0/16";
    expect(byPort[22].remoteIpPrefix).toBe(admin);
    expect(byPort[6443].remoteIpPrefix).toBe(admin);
  });

  test("exactly one floating IP, associated with node1's external port only", () => {
    const [fip, ...moreFips] = ofType(plans[stack], T.fip);
    expect(moreFips).toEqual([]);
    const assocs = ofType(plans[stack], T.fipAssoc);
    expect(assocs).toHaveLength(1);
    expect(assocs[0].inputs.portId).toBe(idOf(externalPorts(plans[stack])[0]));
    expect(assocs[0].inputs.floatingIp).toBe("203.0.113.10");
    expect(fip.inputs.pool).toBe("public");
    expect(plans[stack].resources.some((r) => r.type.startsWith("openstack:compute/floatingIpAssociate"))).toBe(false);
  });

  test("every instance is on its external port first and its private port second, named from config", () => {
    // Registration order is not declaration order (node1 waits for more inputs); compare by node number.
    const nodeNumber = (r: PlannedResource) => Number(/(\d+)$/.exec(String(r.inputs.name))?.[1]);
    const instances = ofType(plans[stack], T.instance).sort((a, b) => nodeNumber(a) - nodeNumber(b));
    const prefix = stack === "dev" ? "ip-dev-node" : "ip-prod-node";
    expect(instances.map((i) => i.inputs.name)).toEqual([`${prefix}1`, `${prefix}2`, `${prefix}3`]);
    const ext = externalPorts(plans[stack]);
    const priv = privatePorts(plans[stack]);
    instances.forEach((instance, i) => {
      expect(instance.inputs.networks).toEqual([{ port: idOf(ext[i]) }, { port: idOf(priv[i]) }]);
      expect(instance.inputs.imageName).toBe(stack === "dev" ? "CC-Ubuntu24.04" : "Ubuntu-24.04");
      expect(instance.parent).toBe("nodes");
    });
  });

  test("names of cloud resources come from resourcePrefix", () => {
    const prefix = stack === "dev" ? "ip-dev-" : "ip-prod-";
    for (const r of plans[stack].resources.filter((r) => r.type.startsWith("openstack:networking/") && typeof r.inputs.name === "string")) {
      expect(r.inputs.name).toMatch(new RegExp(`^${prefix}`));
    }
  });
});

describe("DHCP allocation pools", () => {
  test("every usable address but the fixed ones, in as few ranges as that takes", () => {
    expect(dhcpAllocationPools("10.0.0.0/24", ["10.0.0.1", "10.0.0.2"])).toEqual([{ start: "10.0.0.3", end: "10.0.0.254" }]);
    expect(dhcpAllocationPools("10.0.0.0/24", ["10.0.0.254"])).toEqual([{ start: "10.0.0.1", end: "10.0.0.253" }]);
    expect(dhcpAllocationPools("10.0.0.0/24", ["10.0.0.20", "10.0.0.10", "10.0.0.11"])).toEqual([
      { start: "10.0.0.1", end: "10.0.0.9" },
      { start: "10.0.0.12", end: "10.0.0.19" },
      { start: "10.0.0.21", end: "10.0.0.254" },
    ]);
    expect(dhcpAllocationPools("10.0.0.0/30", ["10.0.0.1", "10.0.0.2"])).toEqual([]);
  });
});

describe("node replacement", () => {
  test.each(["dev", "prod"])("%s: a new image or reserved flavor replaces a node, deleting the old one first", (stack) => {
    for (const instance of ofType(plans[stack], T.instance)) {
      // The provider would otherwise rebuild in place (new disk, same id) or fail to attach the ports to a second VM.
      expect(instance.options.replaceOnChanges).toEqual(["imageName", "imageId", "flavorId"]);
      expect(instance.options.deleteBeforeReplace).toBe(true);
    }
  });
});

describe("leases", () => {
  test("dev reserves 3 m1.medium with a flavor:instance lease and boots on the reserved flavor", () => {
    const [lease, ...more] = ofType(plans.dev, T.lease);
    expect(more).toEqual([]);
    expect(lease.inputs).toMatchObject({
      name: "ip-dev-lease",
      start: "now",
      durationHours: 168,
      reservation: { type: "flavor:instance", amount: 3, flavorId: "flavor-m1.medium" },
    });
    expect(lease.inputs.auth).toEqual({ cloud: "chameleon-kvm-tacc" });
    for (const instance of ofType(plans.dev, T.instance)) {
      // The mock lease reports reservedFlavorId = "reservation-lease"; the instance must take it from the lease.
      expect(instance.inputs.flavorId).toBe("reservation-lease");
      expect(instance.inputs.flavorName).toBeUndefined();
      expect(instance.dependsOn).toContain("lease");
    }
  });

  test("prod has no lease and boots the configured flavor by name", () => {
    expect(ofType(plans.prod, T.lease)).toEqual([]);
    for (const instance of ofType(plans.prod, T.instance)) {
      expect(instance.inputs.flavorName).toBe("standard.large");
      expect(instance.inputs.flavorId).toBeUndefined();
    }
  });

  test("user data is ignored after creation so template edits never replace a running node", () => {
    for (const stack of ["dev", "prod"]) {
      for (const instance of ofType(plans[stack], T.instance)) expect(instance.options.ignoreChanges).toEqual(["userData"]);
    }
    // It carries the join token and CA keys, so it is a secret in state and in the plan.
    expect(byName(plans.dev, "nodes-ip-dev-node1").inputs.userData).toBe("[secret]");
  });
});

describe("bare-metal leases", () => {
  test("physical:host reserves whole hosts and the instances carry the reservation scheduler hint", async () => {
    const plan = await planStack("dev", {
      configOverrides: {
        "image-pipeline:leaseType": "physical:host",
        "image-pipeline:flavor": "baremetal",
        "image-pipeline:leaseResourceProperties": '["=", "$node_type", "compute_skylake"]',
        "image-pipeline:leaseRequireSecondNic": "false",
        "image-pipeline:privateNetworkType": "vlan",
      },
    });
    const [lease] = ofType(plan, T.lease);
    expect(lease.inputs.reservation).toEqual({
      type: "physical:host",
      count: 3,
      resourceProperties: '["=", "$node_type", "compute_skylake"]',
    });
    for (const instance of ofType(plan, T.instance)) {
      expect(instance.inputs.flavorName).toBe("baremetal");
      expect(instance.inputs.schedulerHints).toEqual([{ additionalProperties: { reservation: "reservation-lease" } }]);
    }
  });

  test("nodeCount drives ports, instances and the reservation amount", async () => {
    const plan = await planStack("dev", { configOverrides: { "image-pipeline:nodeCount": "5" } });
    expect(privatePorts(plan).map((p) => (p.inputs.fixedIps as { ipAddress: string }[])[0].ipAddress)).toEqual([
      "192.168.1.11",
      "192.168.1.12",
      "192.168.1.13",
      "192.168.1.14",
      "192.168.1.15",
    ]);
    expect(ofType(plan, T.instance)).toHaveLength(5);
    expect(ofType(plan, T.fipAssoc)).toHaveLength(1);
    expect((ofType(plan, T.lease)[0].inputs.reservation as { amount: number }).amount).toBe(5);
  });
});
