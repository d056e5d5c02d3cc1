/** The private network, its fixed node addresses, the external network and the admin range. */
import { formatIpv4, isUsableHost, parseCidr, parseIpv4 } from "../ipv4";
import type { ConfigDefaults, ConfigReader, Environment } from "./reader";

/** externalNetwork, floatingIpPool and adminCidr are required: they name things only the user knows. */
export const NETWORK_DEFAULTS: ConfigDefaults = { privateNetworkCidr: "192.168.1.0/24", firstNodeIp: "192.168.1.11", dnsNameservers: "[]" };

export interface NetworkConfig {
  readonly cidr: string;
  /** Fixed private addresses, one per node, node1 first. */
  readonly privateIps: string[];
  readonly externalNetwork: string;
  readonly floatingIpPool: string;
  /** Source CIDR allowed to reach ssh (22) and the Kubernetes API (6443). */
  readonly adminCidr: string;
  readonly dnsNameservers: string[];
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

  const adminCidr = r.optionalString("adminCidr") ?? "";
  if (adminCidr === "") {
    r.problem(
      "adminCidr",
      "is required: the source network allowed to reach ssh (22) and the Kubernetes API (6443)",
      "pulumi config set adminCidr 203.0.113.0/24 (your office or VPN range)",
    );
  } else if (!parseCidr(adminCidr)) {
    r.problem("adminCidr", `must be an IPv4 network in CIDR form, got "${adminCidr}"`, "pulumi config set adminCidr 203.0.113.0/24");
  } else if (adminCidr === "0.0.0.0/0") {
    if (environment === "prod") {
      r.problem(
        "adminCidr",
        "0.0.0.0/0 opens ssh and the Kubernetes API to the whole Internet, which is not allowed in prod",
        "pulumi config set adminCidr <your office or VPN range>",
      );
    } else {
      r.warn(
        "adminCidr",
        "0.0.0.0/0 opens ssh (22) and the Kubernetes API (6443) to the whole Internet; acceptable for a short-lived dev stack only",
      );
    }
  }

  return {
    cidr: cidrText,
    privateIps,
    externalNetwork: r.requiredString("externalNetwork", "sharednet1"),
    floatingIpPool: r.requiredString("floatingIpPool", "public"),
    adminCidr,
    dnsNameservers: r.stringList("dnsNameservers"),
  };
}
