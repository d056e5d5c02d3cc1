/** The test-side NetworkPolicy evaluator follows the API's semantics (so the policy tests can fail). */
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { ingressAllowed, selectorMatches } from "./support/networkPolicy";

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
