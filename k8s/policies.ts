/**
 * Who may talk to whom, and how many pods a voluntary disruption (node drain) may take at once.
 *
 * k3s enforces NetworkPolicies with its embedded kube-router controller. Ingress is denied to every pod in the
 * namespace, then opened exactly where needed: the ingress controller to the webhook, and the pipeline's own pods
 * (webhook, worker, migration Job) to the in-cluster PostgreSQL. Kubelet probes come from the node itself and are
 * not subject to these rules. Egress is denied too and opened only for DNS, PostgreSQL and the S3 endpoint's
 * addresses (egress.ts): NetworkPolicies take no DNS names, so the endpoint's addresses are stack config
 * (s3EgressCidrs) and a managed database is allowed by the address it was created with.
 */
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import { APP_NAME, componentLabels, pipelineLabels, selectorLabels, type Component } from "./labels";
import { HTTP_PORT, objectNames, POSTGRES_PORT } from "./names";
import type { PipelineWorkloadSettings } from "./settings";

/** Components whose pods may open connections to PostgreSQL. */
export const DATABASE_CLIENTS: readonly Component[] = ["webhook", "worker", "migrate"];

export function buildDefaultDenyIngress(s: PipelineWorkloadSettings): INetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "default-deny-ingress", namespace: s.namespace, labels: pipelineLabels(s.instance) },
    spec: { podSelector: {}, policyTypes: ["Ingress"] },
  };
}

export function buildWebhookIngressPolicy(s: PipelineWorkloadSettings): INetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `${objectNames(s).webhook}-from-ingress`, namespace: s.namespace, labels: componentLabels(s.instance, "webhook") },
    spec: {
      podSelector: { matchLabels: selectorLabels(s.instance, "webhook") },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              // Both selectors in one peer: pods with these labels AND in that namespace.
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": s.ingress.controllerNamespace } },
              podSelector: { matchLabels: { ...s.ingress.controllerPodLabels } },
            },
          ],
          ports: [{ protocol: "TCP", port: HTTP_PORT }],
        },
      ],
    },
  };
}

export function buildPostgresClientsPolicy(s: PipelineWorkloadSettings): INetworkPolicy {
  const scaling = s.worker.scaling;
  // With queue-depth scaling, KEDA's operator (another namespace) runs the scaler's query against the database.
  const scaler: INetworkPolicyPeer[] =
    scaling.kind === "queue-depth"
      ? [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": scaling.operatorNamespace } },
            podSelector: { matchLabels: { ...scaling.operatorPodLabels } },
          },
        ]
      : [];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `${objectNames(s).postgres}-from-pipeline`, namespace: s.namespace, labels: componentLabels(s.instance, "postgres") },
    spec: {
      podSelector: { matchLabels: selectorLabels(s.instance, "postgres") },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              podSelector: {
                matchLabels: { "app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": s.instance },
                matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: [...DATABASE_CLIENTS] }],
              },
            },
            ...scaler,
          ],
          ports: [{ protocol: "TCP", port: POSTGRES_PORT }],
        },
      ],
    },
  };
}

/**
 * At most one pod of a component is evicted at a time. `maxUnavailable` rather than `minAvailable`, so a
 * one-replica dev stack can still be drained; unhealthy pods may always be evicted so a crash-looping pod never
 * blocks a node drain. The single PostgreSQL pod has no budget for the same reason: it would make drains impossible.
 */
export function buildDisruptionBudget(s: PipelineWorkloadSettings, component: "webhook" | "worker"): IPodDisruptionBudget {
  const name = component === "webhook" ? objectNames(s).webhook : objectNames(s).worker;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace: s.namespace, labels: componentLabels(s.instance, component) },
    spec: {
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: "AlwaysAllow",
      selector: { matchLabels: selectorLabels(s.instance, component) },
    },
  };
}
