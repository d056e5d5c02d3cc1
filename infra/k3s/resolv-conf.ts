/**
 * The resolver file k3s hands to the kubelet (`resolv-conf` in /etc/rancher/k3s/config.yaml), and so to every pod
 * with dnsPolicy Default, CoreDNS among them: CoreDNS forwards names outside the cluster to the nameservers in it.
 *
 * Left to itself, k3s reads /etc/resolv.conf, or /run/systemd/resolve/resolv.conf when the first lists a loopback
 * stub (docs.k3s.io/advanced#configuring-dns-resolution). On these nodes the latter lists the resolver of every
 * interface's DHCP lease, including the private subnet's, and CoreDNS spreads queries over all of them. A file of
 * its own with only the stack's upstream resolvers avoids that; k3s does not check a file given with
 * `--resolv-conf`, so the program does.
 */
import { parseIpv4 } from "../ipv4";

export const K3S_RESOLV_CONF_PATH = "/etc/rancher/k3s/resolv.conf";
/** glibc reads at most three nameserver lines (MAXNS); the kubelet warns about and drops the rest. */
export const MAX_NAMESERVERS = 3;

/** Why a nameserver cannot serve pods, or undefined when it can. */
function nameserverProblem(text: string): string | undefined {
  const ip = parseIpv4(text);
  if (ip === undefined) return `"${text}" is not an IPv4 address`;
  const first = Math.floor(ip / 2 ** 24);
  const second = Math.floor(ip / 2 ** 16) % 256;
  if (first === 127) return `${text} is a loopback address, which inside a pod is the pod itself`;
  if (first === 169 && second === 254) return `${text} is link-local, unreachable from pods`;
  if (first >= 224 && first <= 239) return `${text} is a multicast address`;
  if (first === 0 || first >= 240) return `${text} is not a unicast address`;
  return undefined;
}

/** Problems with a list of upstream resolvers, one per line; empty when k3s can use them. */
export function nameserverProblems(nameservers: readonly string[]): string[] {
  const problems: string[] = [];
  if (nameservers.length === 0) problems.push("at least one nameserver is needed (names outside the cluster would not resolve)");
  if (nameservers.length > MAX_NAMESERVERS)
    problems.push(`at most ${MAX_NAMESERVERS} nameservers are used by resolvers (glibc MAXNS), got ${nameservers.length}`);
  if (new Set(nameservers).size !== nameservers.length) problems.push("a nameserver is listed twice");
  for (const ns of nameservers) {
    const problem = nameserverProblem(ns);
    if (problem) problems.push(problem);
  }
  return problems;
}

export function renderResolvConf(nameservers: readonly string[]): string {
  const problems = nameserverProblems(nameservers);
  if (problems.length > 0) throw new Error(`k3s resolv.conf: ${problems.join("; ")}`);
  return [
    "# Upstream resolvers of the kubelet and CoreDNS, written by image-pipeline.",
    ...nameservers.map((ns) => `nameserver ${ns}`),
    "",
  ].join("\n");
}
