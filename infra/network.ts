/**
 * The cluster's topology: a private network without a gateway where the nodes talk freely (port security off),
 * and the provider's Internet-facing network where every node sits behind security groups. One floating IP,
 * on node1 only.
 */
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import { cidrSize, formatIpv4, parseCidr, parseIpv4 } from "./ipv4";

export interface SecurityRuleSpec {
  readonly group: "ssh" | "http" | "https" | "kube-api";
  readonly port: number;
  readonly cidr: string;
  readonly description: string;
}

/** The ingress rules of the external ports: ssh and the Kubernetes API from the admin range, HTTP from anywhere. */
export function securityRules(adminCidr: string): SecurityRuleSpec[] {
  return [
    { group: "ssh", port: 22, cidr: adminCidr, description: "ssh from the admin range (break-glass only: the cluster needs no SSH)" },
    {
      group: "http",
      port: 80,
      cidr: "0.0.0.0/0",
      description: "HTTP to the ingress: ACME challenges, and the webhook where a stack opts in to plain HTTP",
    },
    { group: "https", port: 443, cidr: "0.0.0.0/0", description: "HTTPS to the ingress: the bucket notification webhook" },
    { group: "kube-api", port: 6443, cidr: adminCidr, description: "Kubernetes API from the admin range (pulumi, kubectl)" },
  ];
}

const GROUP_NAMES: Record<SecurityRuleSpec["group"], string> = {
  ssh: "allow-ssh",
  http: "allow-http-80",
  https: "allow-https-443",
  "kube-api": "allow-kube-api-6443",
};

export interface AllocationPool {
  readonly start: string;
  readonly end: string;
}

/**
 * The private subnet's DHCP pools: every usable address except the nodes' fixed ones. Neutron hands pool addresses
 * to its DHCP port and to other ports on the network (a Trove instance); a pool that covered the fixed addresses
 * could give one of them away before the node's port claims it.
 */
export function dhcpAllocationPools(cidrText: string, fixedIps: readonly string[]): AllocationPool[] {
  const cidr = parseCidr(cidrText);
  if (!cidr) throw new Error(`dhcpAllocationPools: "${cidrText}" is not an IPv4 CIDR`);
  const fixed = fixedIps.map((ip) => {
    const value = parseIpv4(ip);
    if (value === undefined) throw new Error(`dhcpAllocationPools: "${ip}" is not an IPv4 address`);
    return value;
  });
  const pools: AllocationPool[] = [];
  let start = cidr.network + 1;
  const last = cidr.network + cidrSize(cidr) - 2;
  for (const ip of [...new Set(fixed)].sort((a, b) => a - b)) {
    if (ip > start) pools.push({ start: formatIpv4(start), end: formatIpv4(Math.min(ip - 1, last)) });
    start = Math.max(start, ip + 1);
  }
  if (start <= last) pools.push({ start: formatIpv4(start), end: formatIpv4(last) });
  return pools;
}

export interface PipelineNetworkArgs {
  readonly resourcePrefix: string;
  readonly cidr: string;
  readonly privateIps: string[];
  readonly dnsNameservers: string[];
  readonly externalNetwork: string;
  readonly floatingIpPool: string;
  readonly adminCidr: string;
  /** Provider segment of the private network (a VLAN on Chameleon's bare-metal sites); absent: the cloud's default. */
  readonly privateSegment?: { readonly networkType: string; readonly physicalNetwork: string };
}

export class PipelineNetwork extends pulumi.ComponentResource {
  readonly privateNetworkId: pulumi.Output<string>;
  readonly privateSubnetId: pulumi.Output<string>;
  /** The subnet itself, for resources that must wait for it without taking an input from it (Trove). */
  readonly privateSubnet: openstack.networking.Subnet;
  /**
   * node1's floating IP association. What talks to the cluster through the floating IP depends on it, so a destroy
   * removes the address from node1 only after everything that needs it is gone.
   */
  readonly floatingIpAssociation: openstack.networking.FloatingIpAssociate;
  readonly externalNetworkId: pulumi.Output<string>;
  readonly privateIps: string[];
  /** Port ids on the private network, node1 first. */
  readonly privatePortIds: pulumi.Output<string>[];
  /** Port ids on the external network, node1 first. */
  readonly externalPortIds: pulumi.Output<string>[];
  readonly securityGroupIds: pulumi.Output<string>[];
  readonly floatingIpAddress: pulumi.Output<string>;

  constructor(name: string, args: PipelineNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:network:PipelineNetwork", name, {}, opts);
    const child = { parent: this };
    const prefix = args.resourcePrefix;

    const network = new openstack.networking.Network(
      `${name}-private`,
      {
        name: `${prefix}-private-net`,
        adminStateUp: true,
        // Exactly the attributes `openstack network create --provider-network-type vlan --provider-physical-network
        // physnet1` sends, the form Chameleon documents for users (Neutron picks the segmentation id). Not the
        // provider's `segments` list: that is Neutron's multi-provider extension, authorised by a separate policy
        // rule (create_network:segments) that Chameleon does not say it opens.
        valueSpecs: args.privateSegment
          ? {
              "provider:network_type": args.privateSegment.networkType,
              "provider:physical_network": args.privateSegment.physicalNetwork,
            }
          : undefined,
      },
      // ML2 cannot change a network's provider segment in place: another type or physical network is a new network
      // (the provider also forces a new network on valueSpecs; stated here so the choice is visible).
      { ...child, replaceOnChanges: ["valueSpecs"] },
    );
    const subnet = new openstack.networking.Subnet(
      `${name}-private-subnet`,
      {
        name: `${prefix}-private-subnet`,
        networkId: network.id,
        cidr: args.cidr,
        ipVersion: 4,
        // The nodes reach the Internet through the external network; a gateway here would add a competing default route.
        noGateway: true,
        enableDhcp: true,
        allocationPools: dhcpAllocationPools(args.cidr, args.privateIps),
        dnsNameservers: args.dnsNameservers,
      },
      child,
    );

    this.privatePortIds = args.privateIps.map(
      (ip, i) =>
        new openstack.networking.Port(
          `${name}-private-port-${i + 1}`,
          {
            name: `${prefix}-private-port-${i + 1}`,
            networkId: network.id,
            fixedIps: [{ subnetId: subnet.id, ipAddress: ip }],
            // Node-to-node traffic (flannel VXLAN, kubelet, etcd) must pass freely.
            portSecurityEnabled: false,
            // Neutron rejects a port-security-disabled port that would otherwise get the default group.
            noSecurityGroups: true,
          },
          child,
        ).id,
    );

    const external = openstack.networking.getNetworkOutput({ name: args.externalNetwork }, child);
    const groups = new Map<SecurityRuleSpec["group"], openstack.networking.SecGroup>();
    for (const rule of securityRules(args.adminCidr)) {
      const group = new openstack.networking.SecGroup(
        `${name}-sg-${rule.group}`,
        { name: `${prefix}-${GROUP_NAMES[rule.group]}`, description: rule.description },
        child,
      );
      groups.set(rule.group, group);
      new openstack.networking.SecGroupRule(
        `${name}-sg-${rule.group}-ingress`,
        {
          securityGroupId: group.id,
          direction: "ingress",
          ethertype: "IPv4",
          protocol: "tcp",
          portRangeMin: rule.port,
          portRangeMax: rule.port,
          remoteIpPrefix: rule.cidr,
          description: rule.description,
        },
        child,
      );
    }
    this.securityGroupIds = [...groups.values()].map((g) => g.id);

    this.externalPortIds = args.privateIps.map(
      (_ip, i) =>
        new openstack.networking.Port(
          `${name}-external-port-${i + 1}`,
          {
            name: `${prefix}-external-port-${i + 1}`,
            networkId: external.id,
            portSecurityEnabled: true,
            securityGroupIds: this.securityGroupIds,
          },
          child,
        ).id,
    );

    const floatingIp = new openstack.networking.FloatingIp(
      `${name}-floating-ip`,
      { pool: args.floatingIpPool, description: `${prefix} node1: Kubernetes API and webhook` },
      child,
    );
    this.floatingIpAssociation = new openstack.networking.FloatingIpAssociate(
      `${name}-floating-ip-node1`,
      { floatingIp: floatingIp.address, portId: this.externalPortIds[0] },
      child,
    );

    this.privateNetworkId = network.id;
    this.privateSubnet = subnet;
    this.privateSubnetId = subnet.id;
    this.externalNetworkId = external.id;
    this.privateIps = args.privateIps;
    this.floatingIpAddress = floatingIp.address;
    this.registerOutputs({
      privateNetworkId: this.privateNetworkId,
      privateSubnetId: this.privateSubnetId,
      floatingIpAddress: this.floatingIpAddress,
    });
  }
}

/**
 * The external addresses of the router that serves `networkId`: where the nodes without a floating IP leave for the
 * Internet (source NAT), found from the network's IPv4 subnet, the port holding its gateway address, and that
 * port's router. CSC documents these "External Fixed IPs" as what a DBaaS must allow from cPouta servers without a
 * floating IP (docs/clouds.md). Needs the router to be visible to the project (a project's own router, as on cPouta).
 */
export function routerGatewayAddresses(networkId: pulumi.Input<string>, opts: pulumi.InvokeOutputOptions): pulumi.Output<string[]> {
  const subnet = openstack.networking.getSubnetOutput({ networkId, ipVersion: 4 }, opts);
  const gatewayIp = pulumi.all([subnet.name, subnet.gatewayIp]).apply(([subnetName, ip]) => {
    if (!ip) throw new Error(`subnet ${subnetName} of the external network has no gateway, so no router serves it`);
    return ip;
  });
  const port = openstack.networking.getPortOutput({ networkId, fixedIp: gatewayIp }, opts);
  const routerId = pulumi.all([port.deviceId, port.deviceOwner, gatewayIp]).apply(([id, owner, ip]) => {
    if (!id || !(owner ?? "").startsWith("network:router_interface"))
      throw new Error(`the port holding the external network's gateway ${ip} is not a router interface (device owner "${owner ?? ""}")`);
    return id;
  });
  const router = openstack.networking.getRouterOutput({ routerId }, opts);
  return pulumi.all([router.name, router.externalFixedIps]).apply(([routerName, fixedIps]) => {
    const addresses = fixedIps.map((f) => f.ipAddress).filter((a): a is string => typeof a === "string" && a !== "");
    if (addresses.length === 0) throw new Error(`router ${routerName ?? ""} has no external gateway address`);
    return addresses;
  });
}
