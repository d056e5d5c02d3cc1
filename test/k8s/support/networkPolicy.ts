/**
 * A small evaluator of the Kubernetes NetworkPolicy semantics
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/), enough to answer "may pod A open a
 * connection to port P of pod B?" (ingress) and "may pod A open a TCP or UDP connection to address X, port P?"
 * (egress) over the objects the builders produce. It stands in for a CNI's policy engine, which cannot run here; it
 * follows the API contract, not any one implementation. Destinations are judged after Service translation (the
 * pod a Service address lands on), as CNIs do.
 */
import type { ILabelSelector } from "@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";

export interface PodRef {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Named container ports, for policies that name ports. */
  readonly namedPorts?: Readonly<Record<string, number>>;
}

export function selectorMatches(selector: ILabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (!has || !values.includes(labels[e.key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[e.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  }
  return true;
}

function namespaceLabels(namespace: string, extra: Record<string, Record<string, string>>): Record<string, string> {
  // The API server sets this label on every namespace (GA since v1.22).
  return { ...(extra[namespace] ?? {}), "kubernetes.io/metadata.name": namespace };
}

export type Protocol = "TCP" | "UDP" | "SCTP";

/** Where a connection goes: an address, and the pod behind it when it is one (pod IPs match ipBlocks too). */
export interface Destination {
  readonly ip: string;
  readonly pod?: PodRef;
}

function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Whether an IPv4 address lies in an IPv4 CIDR; an IPv6 CIDR never holds an IPv4 address. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [network, prefix] = cidr.split("/");
  const base = ipv4(network);
  const address = ipv4(ip);
  if (base === undefined || address === undefined || prefix === undefined) return false;
  const size = 2 ** (32 - Number(prefix));
  return address >= base - (base % size) && address < base - (base % size) + size;
}

/** The policy types a policy covers: its `policyTypes`, else Ingress, plus Egress when it has egress rules. */
export function policyTypesOf(p: INetworkPolicy): string[] {
  return p.spec?.policyTypes ?? ["Ingress", ...(p.spec?.egress !== undefined ? ["Egress"] : [])];
}

function portMatches(
  rulePorts: readonly { protocol?: string; port?: number | string; endPort?: number }[] | undefined,
  port: number,
  protocol: Protocol,
  namedPorts: Readonly<Record<string, number>> | undefined,
): boolean {
  if (rulePorts === undefined || rulePorts.length === 0) return true;
  return rulePorts.some((rp) => {
    if ((rp.protocol ?? "TCP") !== protocol) return false;
    if (rp.port === undefined) return true;
    const resolved = typeof rp.port === "number" ? rp.port : namedPorts?.[rp.port];
    if (resolved === undefined) return false;
    return rp.endPort === undefined ? resolved === port : port >= resolved && port <= rp.endPort;
  });
}

/**
 * Whether `from` may open a connection to `to` on `port` under `policies`. Egress is isolated only by policies in
 * `from`'s namespace that select it and cover Egress; a peer with an ipBlock matches addresses inside its cidr and
 * outside every `except`; a peer with selectors matches pods only (a podSelector alone means `from`'s namespace).
 */
export function egressAllowed(
  policies: readonly INetworkPolicy[],
  from: PodRef,
  to: Destination,
  port: number,
  protocol: Protocol = "TCP",
  namespaceLabelsByName: Record<string, Record<string, string>> = {},
): boolean {
  const selecting = policies.filter(
    (p) =>
      p.metadata?.namespace === from.namespace && policyTypesOf(p).includes("Egress") && selectorMatches(p.spec?.podSelector, from.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec?.egress ?? []).some((rule) => {
      if (!portMatches(rule.ports, port, protocol, to.pod?.namedPorts)) return false;
      if (rule.to === undefined || rule.to.length === 0) return true;
      return rule.to.some((peer) => {
        if (peer.ipBlock) {
          return cidrContains(peer.ipBlock.cidr, to.ip) && !(peer.ipBlock.except ?? []).some((e) => cidrContains(e, to.ip));
        }
        if (!to.pod) return false;
        const nsOk = peer.namespaceSelector
          ? selectorMatches(peer.namespaceSelector, namespaceLabels(to.pod.namespace, namespaceLabelsByName))
          : to.pod.namespace === p.metadata?.namespace;
        const podOk = peer.podSelector ? selectorMatches(peer.podSelector, to.pod.labels) : true;
        return nsOk && podOk;
      });
    }),
  );
}

/** Whether `from` may connect to TCP `port` on `to` under `policies` (all namespaces' policies). */
export function ingressAllowed(
  policies: readonly INetworkPolicy[],
  from: PodRef,
  to: PodRef,
  port: number,
  namespaceLabelsByName: Record<string, Record<string, string>> = {},
): boolean {
  const selecting = policies.filter(
    (p) =>
      p.metadata?.namespace === to.namespace && policyTypesOf(p).includes("Ingress") && selectorMatches(p.spec?.podSelector, to.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec?.ingress ?? []).some((rule) => {
      if (!portMatches(rule.ports, port, "TCP", to.namedPorts)) return false;
      if (rule.from === undefined || rule.from.length === 0) return true;
      return rule.from.some((peer) => {
        if (peer.ipBlock) return false;
        const nsOk = peer.namespaceSelector
          ? selectorMatches(peer.namespaceSelector, namespaceLabels(from.namespace, namespaceLabelsByName))
          : from.namespace === p.metadata?.namespace;
        const podOk = peer.podSelector ? selectorMatches(peer.podSelector, from.labels) : true;
        return nsOk && podOk;
      });
    }),
  );
}
