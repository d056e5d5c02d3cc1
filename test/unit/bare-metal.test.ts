/**
 * The physical:host path (Chameleon's bare-metal CHI sites) in the offline plan: the private network is a VLAN on
 * physnet1, the lease asks for hosts with a second enabled NIC, each node attaches the external network to its first
 * NIC and the private one to its second, and the config says which of this is unverified.
 */
import { parseStackConfig } from "../../infra/config";
import { SECOND_NIC_FILTER } from "../../infra/config/lease";
import { HOST_FIREWALL_SCRIPT_PATH } from "../../infra/k3s/host-firewall";
import { planStack } from "../../scripts/plan";
import { cachedPlan } from "../support/plan-cache";
import { configProblems, mapSource, stackValues } from "../support/configSource";
import type { Plan } from "../support/plan";
import { byName, ofType } from "../support/plan";
import { consequences } from "../support/replacement-model";

const T = {
  network: "openstack:networking/network:Network",
  lease: "pulumi-nodejs:dynamic/image-pipeline:BlazarLease",
  instance: "openstack:compute/instance:Instance",
  port: "openstack:networking/port:Port",
};
const SKYLAKE = '["=", "$node_type", "compute_skylake"]';
const BARE_METAL = {
  leaseType: "physical:host",
  flavor: "baremetal",
  image: "CC-Ubuntu24.04",
  privateNetworkType: "vlan",
  leaseResourceProperties: SKYLAKE,
};
const namespaced = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [`image-pipeline:${k}`, v]));

let bareMetal: Plan;
let dev: Plan;
beforeAll(async () => {
  bareMetal = await planStack("dev", { configOverrides: namespaced(BARE_METAL) });
  dev = await cachedPlan("dev");
}, 120_000);

test("the private network is a VLAN on physnet1, Neutron choosing the segment; a change of segment is a new network", () => {
  const network = byName(bareMetal, "network-private");
  // The attributes Chameleon's documented CLI sends, not the multi-provider `segments` list.
  expect(network.inputs.valueSpecs).toEqual({ "provider:network_type": "vlan", "provider:physical_network": "physnet1" });
  expect(network.inputs.segments).toBeUndefined();
  expect(network.options.replaceOnChanges).toEqual(["valueSpecs"]);
  // KVM and cPouta: the cloud's default tenant network, no provider arguments.
  expect(byName(dev, "network-private").inputs.valueSpecs).toBeUndefined();
});

test("the lease reserves hosts of the node type with a second enabled NIC", () => {
  const [lease] = ofType(bareMetal, T.lease);
  expect(lease.inputs.reservation).toEqual({
    type: "physical:host",
    count: 3,
    resourceProperties: JSON.stringify(["and", ["=", "$node_type", "compute_skylake"], SECOND_NIC_FILTER]),
  });
  expect(SECOND_NIC_FILTER).toEqual(["=", "$network_adapters.1.enabled", "True"]);
});

test("each node takes the external network on its first NIC and the private VLAN on its second, on the reserved hosts", () => {
  const ports = ofType(bareMetal, T.port);
  const portNetwork = new Map(ports.map((p) => [`${p.name}-id`, p.inputs.networkId]));
  for (const instance of ofType(bareMetal, T.instance)) {
    const networks = (instance.inputs.networks as { port: string }[]).map((n) => portNetwork.get(n.port));
    expect(networks).toEqual(["network-sharednet1", "network-private-id"]);
    expect(instance.inputs.flavorName).toBe("baremetal");
    expect(instance.inputs.schedulerHints).toEqual([{ additionalProperties: { reservation: "reservation-lease" } }]);
  }
});

test("another physical network is a new private network: its subnet, private ports and every node are replaced", async () => {
  const before = await planStack("dev", { showSecrets: true, configOverrides: namespaced(BARE_METAL) });
  const c = await consequences("dev", before, { config: { ...BARE_METAL, privateNetworkPhysicalNetwork: "physnet2" } });
  expect(c.changes["network-private"]).toEqual(["valueSpecs.provider:physical_network"]);
  expect(c.replaced).toEqual(
    expect.arrayContaining([
      "network-private",
      "network-private-subnet",
      ...ofType(before, T.port)
        .filter((p) => p.inputs.networkId === "network-private-id")
        .map((p) => p.name),
      ...ofType(before, T.instance).map((i) => i.name),
    ]),
  );
  expect(c.replaced).not.toContain("lease");
}, 180_000);

test("every bare-metal node opens what k3s needs in firewalld before k3s installs: ssh and the API only from adminCidr", async () => {
  const plan = await planStack("dev", { showSecrets: true, configOverrides: namespaced(BARE_METAL) });
  const instances = ofType(plan, T.instance);
  expect(instances).toHaveLength(3);
  instances.forEach((instance, i) => {
    const userData = String(instance.inputs.userData);
    expect(userData).toContain(HOST_FIREWALL_SCRIPT_PATH);
    expect(userData).toMatch(new RegExp(`--role\\W+${i === 0 ? "server" : "agent"}[\\s\\S]*--admin-cidr\\W+198\\.51\\.100\\.7/32`));
  });
  // KVM: security groups filter, and the images run no firewalld.
  const kvm = await cachedPlan("dev", { showSecrets: true });
  for (const instance of ofType(kvm, T.instance)) expect(String(instance.inputs.userData)).not.toContain(HOST_FIREWALL_SCRIPT_PATH);
}, 120_000);

describe("config", () => {
  const values = (overrides: Record<string, string | undefined>) => stackValues("dev", { ...BARE_METAL, ...overrides });
  const parse = (overrides: Record<string, string | undefined> = {}) => parseStackConfig(mapSource(values(overrides)), "dev");

  test("a physical:host lease on the default tenant network is refused, naming the fix", () => {
    expect(configProblems(() => parse({ privateNetworkType: undefined }))).toEqual([
      "image-pipeline:privateNetworkType: is tenant, but a physical:host lease runs on Chameleon's bare-metal (CHI) sites, where an isolated network is a VLAN on physnet1 (docs/clouds.md, Bare metal). Fix: pulumi config set privateNetworkType vlan",
    ]);
  });

  test('"==" is refused with the filter rewritten to "=", which Chameleon documents', () => {
    expect(
      configProblems(() => parse({ leaseResourceProperties: '["and", ["==", "$node_type", "compute_skylake"], [">=", "$vcpus", "48"]]' })),
    ).toEqual([
      `image-pipeline:leaseResourceProperties: uses "==", which Blazar's filter language does not have (Chameleon's lease docs: "==" is not valid and makes the lease request fail), got ["and", ["==", "$node_type", "compute_skylake"], [">=", "$vcpus", "48"]]. Fix: write equality as "=", e.g. pulumi config set leaseResourceProperties '["and", ["=", "$node_type", "compute_skylake"], [">=", "$vcpus", "48"]]'`,
    ]);
  });

  test("the unverified second-NIC property is a warning on every bare-metal stack that uses it, and can be turned off", () => {
    expect(parse().warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^image-pipeline:leaseRequireSecondNic: .*\$network_adapters\.1\.enabled.*unverified/),
      ]),
    );
    const own = parse({ leaseRequireSecondNic: "false" });
    expect(own.lease?.resourceProperties).toBe(SKYLAKE);
    expect(own.warnings.filter((w) => w.includes("leaseRequireSecondNic"))).toEqual([]);
    // With no filter of its own the lease filters by the second NIC alone.
    expect(parse({ leaseResourceProperties: undefined }).lease?.resourceProperties).toBe(JSON.stringify(SECOND_NIC_FILTER));
  });

  test("bare-metal settings on other stacks: a VLAN warns (provider arguments are usually admin-only), the rest is refused", () => {
    const kvm = { leaseType: "flavor:instance", flavor: "m1.medium", leaseResourceProperties: undefined };
    expect(parse({ ...kvm }).warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^image-pipeline:privateNetworkType: vlan creates the private network with provider arguments/),
      ]),
    );
    expect(
      configProblems(() =>
        parse({ ...kvm, privateNetworkType: undefined, privateNetworkPhysicalNetwork: "physnet2", leaseRequireSecondNic: "false" }),
      ),
    ).toEqual([
      "image-pipeline:privateNetworkPhysicalNetwork: only applies to privateNetworkType vlan. Fix: pulumi config rm privateNetworkPhysicalNetwork, or pulumi config set privateNetworkType vlan",
      "image-pipeline:leaseRequireSecondNic: only applies to physical:host leases. Fix: pulumi config rm leaseRequireSecondNic",
    ]);
  });

  test("the default readiness timeout on bare metal is a warning with the fix: launching alone takes 10 to 15 minutes", () => {
    expect(parse().warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^image-pipeline:k3sReadyTimeoutSeconds: 1200 s may expire while bare-metal nodes are still launching .*k3sReadyTimeoutSeconds 3600/,
        ),
      ]),
    );
    expect(parse({ k3sReadyTimeoutSeconds: "3600" }).warnings.filter((w) => w.includes("k3sReadyTimeoutSeconds"))).toEqual([]);
    expect(
      parse({ ...{ leaseType: "flavor:instance", flavor: "m1.medium", leaseResourceProperties: undefined } }).warnings.filter((w) =>
        w.includes("k3sReadyTimeoutSeconds"),
      ),
    ).toEqual([]);
  });

  test("the committed stacks are not bare metal and get no bare-metal warnings", () => {
    for (const stack of ["dev", "prod"]) {
      const cfg = parseStackConfig(mapSource(stackValues(stack)), stack);
      expect(cfg.network.privateSegment).toBeUndefined();
      expect(cfg.warnings.filter((w) => /privateNetworkType|leaseRequireSecondNic|k3sReadyTimeoutSeconds/.test(w))).toEqual([]);
    }
  });
});
