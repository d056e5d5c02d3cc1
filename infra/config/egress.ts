/**
 * Where the pipeline's pods may open connections outside the cluster. NetworkPolicy peers are label selectors or
 * IP blocks, never DNS names, so the S3 endpoint's addresses are stack config: the addresses its host name resolves
 * to, as CIDRs. An endpoint given as an IPv4 address needs none: its /32 is the default.
 */
import { K3S_CLUSTER_CIDR, K3S_SERVICE_CIDR } from "../k3s/k3s-config";
import { parseCidr, parseIpv4, cidrSize, type Ipv4Cidr } from "../ipv4";
import type { ConfigReader } from "./reader";

export const EGRESS_DEFAULTS = { s3EgressCidrs: "[]" } as const;

export interface S3Egress {
  /** IPv4 CIDRs the worker may reach the S3 endpoint at. */
  readonly cidrs: string[];
  /** The endpoint URL's port (443 for https, 80 for http when the URL names none). */
  readonly port: number;
}

/**
 * Ranges an S3 rule must never cover: the pod and Service ranges (other pods, the API's Service address), the
 * nodes' subnet (kubelet 10250, the API 6443), link-local (the metadata service 169.254.169.254) and loopback.
 */
function forbiddenRanges(nodeNetworkCidr: string | undefined): { cidr: Ipv4Cidr; what: string }[] {
  const ranges: [string | undefined, string][] = [
    [K3S_CLUSTER_CIDR, "the pod network"],
    [K3S_SERVICE_CIDR, "the Service network (the Kubernetes API's 10.43.0.1)"],
    [nodeNetworkCidr, "the nodes' subnet (kubelet 10250, Kubernetes API 6443)"],
    ["169.254.0.0/16", "link-local addresses (the metadata service 169.254.169.254)"],
    ["127.0.0.0/8", "loopback"],
  ];
  return ranges.flatMap(([text, what]) => {
    const cidr = text === undefined ? undefined : parseCidr(text);
    return cidr ? [{ cidr, what }] : [];
  });
}

function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network < b.network + cidrSize(b) && b.network < a.network + cidrSize(a);
}

/** The command that lists a host name's IPv4 addresses, for the fix of every problem. */
function resolveHint(host: string): string {
  return `dig +short A ${host} (or getent ahostsv4 ${host}), then pulumi config set --path 's3EgressCidrs[0]' <address>/32 for each address`;
}

export function readS3Egress(r: ConfigReader, endpointUrl: URL | undefined, nodeNetworkCidr: string | undefined): S3Egress {
  const port = endpointUrl === undefined ? 443 : Number(endpointUrl.port || (endpointUrl.protocol === "http:" ? 80 : 443));
  const host = endpointUrl?.hostname ?? "";
  const configured = r.stringList("s3EgressCidrs");
  let cidrs = configured;
  if (cidrs.length === 0) {
    if (parseIpv4(host) !== undefined) cidrs = [`${host}/32`];
    else if (endpointUrl !== undefined) {
      r.problem(
        "s3EgressCidrs",
        `is required because s3Endpoint names the host ${host}: NetworkPolicies allow addresses, not names, and the worker may reach only these`,
        resolveHint(host),
      );
    }
  }
  const forbidden = forbiddenRanges(nodeNetworkCidr);
  for (const text of configured) {
    const cidr = parseCidr(text);
    if (!cidr) {
      r.problem(
        "s3EgressCidrs",
        `"${text}" is not an IPv4 CIDR with no host bits set (e.g. 203.0.113.10/32)`,
        resolveHint(host || "<s3 host>"),
      );
      continue;
    }
    if (cidr.prefixLength < 8) {
      r.problem("s3EgressCidrs", `"${text}" covers a large part of the Internet; list the endpoint's own addresses`, resolveHint(host));
      continue;
    }
    for (const range of forbidden) {
      if (overlaps(cidr, range.cidr))
        r.problem(
          "s3EgressCidrs",
          `"${text}" overlaps ${range.what} (${range.cidr.text}), which the pipeline's pods must not reach`,
          resolveHint(host || "<s3 host>"),
        );
    }
  }
  return { cidrs, port };
}
