/** The private network, its fixed node addresses, the external network and the admin range. */
import { cidrSize, formatIpv4, isUsableHost, parseCidr, parseIpv4, type Ipv4Cidr } from "../ipv4";
import { nameserverProblems } from "../k3s/resolv-conf";
import type { ConfigDefaults, ConfigReader, Environment } from "./reader";

/**
 * externalNetwork, floatingIpPool and adminCidr are required: they name things only the user knows. adminCidr in
 * particular has no default, so that no stack opens ssh or the Kubernetes API to the Internet without someone
 * having chosen to. The default resolvers are the pair k3s falls back to and Chameleon documents for CHI@UC; a
 * stack on a cloud that documents its own (CHI@TACC, cPouta) sets those (docs/clouds.md).
 */
export const NETWORK_DEFAULTS: ConfigDefaults = {
  privateNetworkCidr: "192.168.1.0/24",
  firstNodeIp: "192.168.1.11",
  dnsNameservers: JSON.stringify(["8.8.8.8", "8.8.4.4"]),
  privateNetworkType: "tenant",
  privateNetworkPhysicalNetwork: "physnet1",
};

/**
 * The private network's provider segment, when the cloud needs one: at Chameleon's bare-metal (CHI) sites an
 * isolated network is a VLAN on physnet1 (`openstack network create --provider-network-type vlan
 * --provider-physical-network physnet1`). Absent: the cloud's default tenant network type.
 */
export interface PrivateNetworkSegment {
  readonly networkType: "vlan";
  readonly physicalNetwork: string;
}

export interface NetworkConfig {
  readonly cidr: string;
  /** Fixed private addresses, one per node, node1 first. */
  readonly privateIps: string[];
  readonly externalNetwork: string;
  readonly floatingIpPool: string;
  /** Source CIDR allowed to reach ssh (22) and the Kubernetes API (6443). */
  readonly adminCidr: string;
  /** Resolvers of the private subnet's DHCP and of k3s (kubelet, CoreDNS): 1 to 3 unicast IPv4 addresses. */
  readonly dnsNameservers: string[];
  /** Provider segment of the private network (a VLAN at Chameleon's CHI sites), or the cloud's default type. */
  readonly privateSegment?: PrivateNetworkSegment;
}

/** How to find the address to put in adminCidr, for the messages that ask for it. */
export const ADMIN_CIDR_HOW =
  "pulumi config set adminCidr <your public address>/32 (find it with: curl -s https://checkip.amazonaws.com, or dig +short myip.opendns.com @resolver1.opendns.com; it is the address the cloud sees, not your LAN address), or the range of your office or VPN, e.g. 193.166.0.0/16; a CI runner that runs pulumi up must be inside it too";

/** RFC 5737's documentation ranges: examples, which no real operator is ever in. */
const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].map((c) => parseCidr(c) as Ipv4Cidr);

function within(inner: Ipv4Cidr, outer: Ipv4Cidr): boolean {
  return inner.prefixLength >= outer.prefixLength && inner.network >= outer.network && inner.network < outer.network + cidrSize(outer);
}

function readAdminCidr(r: ConfigReader, environment: Environment): string {
  const adminCidr = r.optionalString("adminCidr") ?? "";
  const cidr = adminCidr === "" ? undefined : parseCidr(adminCidr);
  if (adminCidr === "") {
    r.problem(
      "adminCidr",
      "is required: it is the only source network allowed to reach ssh (22) and the Kubernetes API (6443), and there is no default",
      ADMIN_CIDR_HOW,
    );
  } else if (!cidr) {
    r.problem("adminCidr", `must be an IPv4 network in CIDR form with no host bits set, got "${adminCidr}"`, ADMIN_CIDR_HOW);
  } else if (cidr.prefixLength === 0) {
    if (environment === "prod") {
      r.problem(
        "adminCidr",
        `${adminCidr} opens ssh and the Kubernetes API to the whole Internet, which is not allowed in prod`,
        ADMIN_CIDR_HOW,
      );
    } else {
      r.warn(
        "adminCidr",
        `${adminCidr} opens ssh (22) and the Kubernetes API (6443) to the whole Internet; acceptable for a short-lived dev stack only`,
      );
    }
  } else if (DOCUMENTATION_RANGES.some((range) => within(cidr, range))) {
    const what = `${adminCidr} is a documentation range (RFC 5737): nobody is there, so neither you nor CI will reach ssh or the Kubernetes API`;
    if (environment === "prod") r.problem("adminCidr", what, ADMIN_CIDR_HOW);
    else r.warn("adminCidr", `${what}. Set your own: ${ADMIN_CIDR_HOW}`);
  }
  return adminCidr;
}

export function readNetwork(r: ConfigReader, environment: Environment, nodeCount: number): NetworkConfig {
  const cidrText = r.string("privateNetworkCidr");
  const firstText = r.string("firstNodeIp");
  const cidr = parseCidr(cidrText);
  const first = parseIpv4(firstText);
  const privateIps: string[] = [];
  if (!cidr) {
    r.problem(
      "privateNetworkCidr",
      `must be an IPv4 network in CIDR form with no host bits set, got "${cidrText}"`,
      "pulumi config set privateNetworkCidr 192.168.1.0/24",
    );
  } else if (first === undefined) {
    r.problem("firstNodeIp", `must be an IPv4 address, got "${firstText}"`, "pulumi config set firstNodeIp 192.168.1.11");
  } else if (!isUsableHost(cidr, first)) {
    r.problem(
      "firstNodeIp",
      `${firstText} is not a usable host address of privateNetworkCidr ${cidrText}`,
      `choose an address inside ${cidrText}, e.g. pulumi config set firstNodeIp ${formatIpv4(cidr.network + 11)}`,
    );
  } else {
    const last = first + nodeCount - 1;
    if (!isUsableHost(cidr, last)) {
      r.problem(
        "nodeCount",
        `${nodeCount} nodes starting at ${firstText} run past the end of ${cidrText} (last would be ${formatIpv4(last)})`,
        "lower nodeCount, choose a lower firstNodeIp, or a larger privateNetworkCidr",
      );
    } else {
      for (let i = 0; i < nodeCount; i++) privateIps.push(formatIpv4(first + i));
    }
  }

  const adminCidr = readAdminCidr(r, environment);

  const before = r.problems.length;
  const dnsNameservers = r.stringList("dnsNameservers");
  const dnsProblems = r.problems.length > before ? [] : nameserverProblems(dnsNameservers);
  if (dnsProblems.length > 0)
    r.problem(
      "dnsNameservers",
      dnsProblems.join("; "),
      `set one to three resolvers the nodes can reach, e.g. pulumi config set --path 'dnsNameservers[0]' 8.8.8.8 (the cloud's own resolvers are in its documentation; docs/clouds.md)`,
    );

  const privateSegment = readPrivateSegment(r);

  return {
    cidr: cidrText,
    privateIps,
    externalNetwork: r.requiredString("externalNetwork", "sharednet1"),
    floatingIpPool: r.requiredString("floatingIpPool", "public"),
    adminCidr,
    dnsNameservers,
    privateSegment,
  };
}

/**
 * The private network against the lease: Chameleon's bare-metal sites (the physical:host path) make isolated
 * networks as VLANs, and elsewhere provider arguments are an admin's (Neutron's default policy), which a project
 * may not be allowed to set.
 */
export function checkPrivateNetworkForLease(r: ConfigReader, network: NetworkConfig, leaseType: string | undefined): void {
  if (leaseType === "physical:host")
    r.warn(
      "leaseType",
      "physical:host: Chameleon's bare-metal sites enforce no security groups (all ports open), so the nodes filter with firewalld instead (http from anywhere; ssh and 6443 from adminCidr only). The program still creates the security groups and sets them on the external ports; that the sites' Neutron accepts them is unverified: if `up` fails there, say so in an issue",
    );
  if (leaseType === "physical:host" && !network.privateSegment) {
    r.problem(
      "privateNetworkType",
      "is tenant, but a physical:host lease runs on Chameleon's bare-metal (CHI) sites, where an isolated network is a VLAN on physnet1 (docs/clouds.md, Bare metal)",
      "pulumi config set privateNetworkType vlan",
    );
  } else if (network.privateSegment && leaseType !== "physical:host") {
    r.warn(
      "privateNetworkType",
      "vlan creates the private network with provider arguments, which Neutron's default policy leaves to admins; Chameleon documents them for its bare-metal sites only. If `up` fails at the network with a policy error, use privateNetworkType tenant",
    );
  }
}

function readPrivateSegment(r: ConfigReader): PrivateNetworkSegment | undefined {
  const type = r.oneOf("privateNetworkType", ["tenant", "vlan"] as const);
  const physicalNetwork = r.string("privateNetworkPhysicalNetwork");
  if (type === "tenant") {
    if (r.isSet("privateNetworkPhysicalNetwork"))
      r.problem(
        "privateNetworkPhysicalNetwork",
        "only applies to privateNetworkType vlan",
        "pulumi config rm privateNetworkPhysicalNetwork, or pulumi config set privateNetworkType vlan",
      );
    return undefined;
  }
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(physicalNetwork))
    r.problem(
      "privateNetworkPhysicalNetwork",
      `must be a Neutron physical network name, got "${physicalNetwork}"`,
      "pulumi config set privateNetworkPhysicalNetwork physnet1",
    );
  return { networkType: "vlan", physicalNetwork };
}
