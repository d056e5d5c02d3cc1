/**
 * A small evaluator of the Kubernetes NetworkPolicy ingress semantics
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/), enough to answer
 * "may pod A open a TCP connection to port P of pod B?" over the objects the builders produce. It stands in for a
 * CNI's policy engine, which cannot run here; it follows the API contract, not any one implementation.
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
      p.metadata?.namespace === to.namespace &&
      (p.spec?.policyTypes ?? ["Ingress"]).includes("Ingress") &&
      selectorMatches(p.spec?.podSelector, to.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec?.ingress ?? []).some((rule) => {
      const portOk =
        rule.ports === undefined ||
        rule.ports.length === 0 ||
        rule.ports.some((rp) => {
          if ((rp.protocol ?? "TCP") !== "TCP") return false;
          if (rp.port === undefined) return true;
          const resolved = typeof rp.port === "number" ? rp.port : to.namedPorts?.[rp.port];
          if (resolved === undefined) return false;
          return rp.endPort === undefined ? resolved === port : port >= resolved && port <= rp.endPort;
        });
      if (!portOk) return false;
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
