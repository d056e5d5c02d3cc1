/** The test-side NetworkPolicy evaluator follows the API's semantics (so the policy tests can fail). */
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { cidrContains, egressAllowed, ingressAllowed, policyTypesOf, selectorMatches } from "./support/networkPolicy";

const pod = (namespace: string, labels: Record<string, string>) => ({ namespace, labels, namedPorts: { http: 8080 } });

test("label selectors: matchLabels and every expression operator", () => {
  const labels = { app: "a", tier: "web" };
  expect(selectorMatches({}, labels)).toBe(true);
  expect(selectorMatches({ matchLabels: { app: "a" } }, labels)).toBe(true);
  expect(selectorMatches({ matchLabels: { app: "b" } }, labels)).toBe(false);
  expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["web", "db"] }] }, labels)).toBe(true);
  expect(selectorMatches({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] }, labels)).toBe(false);
  expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, labels)).toBe(false);
  expect(selectorMatches({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, labels)).toBe(true);
});

test("unselected pods are open; selected pods admit only matching peers and ports", () => {
  const policy: INetworkPolicy = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "p", namespace: "ns" },
    spec: {
      podSelector: { matchLabels: { app: "db" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: "api" } } }], ports: [{ port: "http" }] }],
    },
  };
  expect(ingressAllowed([policy], pod("ns", { app: "x" }), pod("ns", { app: "web" }), 80)).toBe(true);
  expect(ingressAllowed([policy], pod("ns", { app: "api" }), pod("ns", { app: "db" }), 8080)).toBe(true);
  expect(ingressAllowed([policy], pod("ns", { app: "api" }), pod("ns", { app: "db" }), 5432)).toBe(false);
  // A podSelector-only peer means "in the policy's namespace".
  expect(ingressAllowed([policy], pod("other", { app: "api" }), pod("ns", { app: "db" }), 8080)).toBe(false);
  // A policy with no ingress rules isolates its pods completely.
  const deny: INetworkPolicy = { ...policy, spec: { podSelector: {}, policyTypes: ["Ingress"] } };
  expect(ingressAllowed([deny], pod("ns", { app: "api" }), pod("ns", { app: "web" }), 8080)).toBe(false);
  // Rules add up across policies.
  expect(ingressAllowed([deny, policy], pod("ns", { app: "api" }), pod("ns", { app: "db" }), 8080)).toBe(true);
});

test("CIDR containment follows the prefix length", () => {
  expect(cidrContains("10.42.0.0/16", "10.42.255.1")).toBe(true);
  expect(cidrContains("10.42.0.0/16", "10.43.0.1")).toBe(false);
  expect(cidrContains("203.0.113.10/32", "203.0.113.10")).toBe(true);
  expect(cidrContains("203.0.113.10/32", "203.0.113.11")).toBe(false);
  expect(cidrContains("0.0.0.0/0", "169.254.169.254")).toBe(true);
  expect(cidrContains("2001:db8::/32", "203.0.113.10")).toBe(false);
});

test("policyTypes default: Ingress, plus Egress only when egress rules are given", () => {
  const base: INetworkPolicy = { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "p", namespace: "ns" } };
  expect(policyTypesOf({ ...base, spec: { podSelector: {} } })).toEqual(["Ingress"]);
  expect(policyTypesOf({ ...base, spec: { podSelector: {}, egress: [] } })).toEqual(["Ingress", "Egress"]);
  expect(policyTypesOf({ ...base, spec: { podSelector: {}, policyTypes: ["Egress"] } })).toEqual(["Egress"]);
});

describe("egress", () => {
  const client = pod("ns", { app: "api" });
  const dns = pod("kube-system", { "k8s-app": "kube-dns" });
  const np = (name: string, spec: INetworkPolicy["spec"], namespace = "ns"): INetworkPolicy => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace },
    spec,
  });
  const denyAll = np("deny", { podSelector: {}, policyTypes: ["Egress"] });
  const dnsRule = np("dns", {
    podSelector: { matchLabels: { app: "api" } },
    policyTypes: ["Egress"],
    egress: [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
        ports: [{ protocol: "UDP", port: 53 }],
      },
    ],
  });
  const s3Rule = np("s3", {
    podSelector: { matchLabels: { app: "api" } },
    policyTypes: ["Egress"],
    egress: [{ to: [{ ipBlock: { cidr: "203.0.113.0/24", except: ["203.0.113.128/25"] } }], ports: [{ protocol: "TCP", port: 443 }] }],
  });

  test("a pod no Egress policy selects may connect anywhere; Ingress-only policies do not isolate egress", () => {
    const ingressOnly = np("in", { podSelector: {}, policyTypes: ["Ingress"] });
    expect(egressAllowed([ingressOnly], client, { ip: "169.254.169.254" }, 80)).toBe(true);
    expect(egressAllowed([denyAll], pod("other", { app: "api" }), { ip: "169.254.169.254" }, 80)).toBe(true);
  });

  test("a policy with no egress rules isolates completely; rules add up across policies", () => {
    expect(egressAllowed([denyAll], client, { ip: "203.0.113.10" }, 443)).toBe(false);
    expect(egressAllowed([denyAll, s3Rule], client, { ip: "203.0.113.10" }, 443)).toBe(true);
    expect(egressAllowed([denyAll, s3Rule], pod("ns", { app: "web" }), { ip: "203.0.113.10" }, 443)).toBe(false);
  });

  test("ipBlock: inside the cidr and outside every except, on the rule's port and protocol", () => {
    const policies = [denyAll, s3Rule];
    expect(egressAllowed(policies, client, { ip: "203.0.113.127" }, 443)).toBe(true);
    expect(egressAllowed(policies, client, { ip: "203.0.113.200" }, 443)).toBe(false);
    expect(egressAllowed(policies, client, { ip: "198.51.100.1" }, 443)).toBe(false);
    expect(egressAllowed(policies, client, { ip: "203.0.113.10" }, 80)).toBe(false);
    expect(egressAllowed(policies, client, { ip: "203.0.113.10" }, 443, "UDP")).toBe(false);
    // A pod's address matches an ipBlock too.
    expect(egressAllowed(policies, client, { ip: "203.0.113.5", pod: dns }, 443)).toBe(true);
  });

  test("pod peers: namespace and pod selectors together, protocol by protocol", () => {
    const policies = [denyAll, dnsRule];
    expect(egressAllowed(policies, client, { ip: "10.42.0.10", pod: dns }, 53, "UDP")).toBe(true);
    expect(egressAllowed(policies, client, { ip: "10.42.0.10", pod: dns }, 53, "TCP")).toBe(false);
    expect(egressAllowed(policies, client, { ip: "10.42.0.11", pod: pod("default", { "k8s-app": "kube-dns" }) }, 53, "UDP")).toBe(false);
    expect(egressAllowed(policies, client, { ip: "10.42.0.12", pod: pod("kube-system", { app: "other" }) }, 53, "UDP")).toBe(false);
    // A selector peer never matches an address that is not a pod.
    expect(egressAllowed(policies, client, { ip: "10.43.0.10" }, 53, "UDP")).toBe(false);
    // A podSelector alone means the policy's own namespace.
    const sameNs = np("same", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: { matchLabels: { app: "db" } } }] }],
    });
    expect(egressAllowed([sameNs], client, { ip: "10.42.0.20", pod: pod("ns", { app: "db" }) }, 5432)).toBe(true);
    expect(egressAllowed([sameNs], client, { ip: "10.42.0.21", pod: pod("other", { app: "db" }) }, 5432)).toBe(false);
  });
});
