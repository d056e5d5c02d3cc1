/**
 * Where the pipeline's pods may open connections. Egress is denied to every pod in the namespace, then opened only
 * for: DNS to the cluster's CoreDNS pods (UDP and TCP 53); PostgreSQL (the in-cluster pods, or the managed
 * database's own address); and, for the worker alone, the S3 endpoint's addresses on its port. Nothing reaches the
 * nodes (kubelet 10250, the API 6443), the Service range, other pods, or the metadata service 169.254.169.254:
 * the decoder in the worker handles untrusted images, and a compromised pod keeps only these paths.
 *
 * Rules match the destination after Service translation: a connection to the `postgres` or `kube-dns` Service is
 * judged by the pod it lands on. Replies to allowed ingress (Traefik to the webhook) are not egress.
 */
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import { APP_NAME, componentLabels, pipelineLabels, selectorLabels, type Component } from "./labels";
import { POSTGRES_PORT } from "./names";
import { DATABASE_CLIENTS } from "./policies";
import type { PipelineWorkloadSettings } from "./settings";

const DNS_PORT = 53;

function pipelinePods(s: PipelineWorkloadSettings, components: readonly Component[]) {
  return {
    matchLabels: { "app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": s.instance },
    matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: [...components] }],
  };
}

function policy(s: PipelineWorkloadSettings, name: string, spec: INetworkPolicy["spec"]): INetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: s.namespace, labels: pipelineLabels(s.instance) },
    spec,
  };
}

export function buildDefaultDenyEgress(s: PipelineWorkloadSettings): INetworkPolicy {
  return policy(s, "default-deny-egress", { podSelector: {}, policyTypes: ["Egress"] });
}

export function buildDnsEgressPolicy(s: PipelineWorkloadSettings): INetworkPolicy {
  return policy(s, `${s.instance}-egress-dns`, {
    podSelector: pipelinePods(s, DATABASE_CLIENTS),
    policyTypes: ["Egress"],
    egress: [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": s.egress.dnsNamespace } },
            podSelector: { matchLabels: { ...s.egress.dnsPodLabels } },
          },
        ],
        ports: [
          { protocol: "UDP", port: DNS_PORT },
          { protocol: "TCP", port: DNS_PORT },
        ],
      },
    ],
  });
}

/** The database's address as a one-address ipBlock, from `<host>:<port>/<database>` with host an IP address. */
export function databaseAddressPeer(databaseTarget: string): { peer: INetworkPolicyPeer; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d+)\//.exec(databaseTarget);
  if (!match)
    throw new Error(
      `the database's address must be an IP address for its egress NetworkPolicy (NetworkPolicies take no DNS names), got "${databaseTarget}"`,
    );
  const cidr = match[1] !== undefined ? `${match[1]}/128` : `${match[2]}/32`;
  return { peer: { ipBlock: { cidr } }, port: Number(match[3]) };
}

/**
 * The database clients to PostgreSQL: the in-cluster pods by label, or a managed database (Trove) by its address,
 * known only once the instance exists (`databaseTarget`).
 */
export function buildDatabaseEgressPolicy(s: PipelineWorkloadSettings, databaseTarget?: string): INetworkPolicy {
  let to: INetworkPolicyPeer[];
  let port = POSTGRES_PORT;
  if (s.database.kind === "in-cluster") {
    to = [{ podSelector: { matchLabels: selectorLabels(s.instance, "postgres") } }];
  } else {
    if (databaseTarget === undefined) throw new Error("the managed database's egress policy needs its address (databaseTarget)");
    const address = databaseAddressPeer(databaseTarget);
    to = [address.peer];
    port = address.port;
  }
  return policy(s, `${s.instance}-egress-database`, {
    podSelector: pipelinePods(s, DATABASE_CLIENTS),
    policyTypes: ["Egress"],
    egress: [{ to, ports: [{ protocol: "TCP", port }] }],
  });
}

/** The worker to the S3 endpoint's addresses on the endpoint's port. The webhook never calls S3. */
export function buildS3EgressPolicy(s: PipelineWorkloadSettings): INetworkPolicy {
  return {
    ...policy(s, `${s.instance}-egress-s3`, {
      podSelector: { matchLabels: selectorLabels(s.instance, "worker") },
      policyTypes: ["Egress"],
      egress: [{ to: s.egress.s3Cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: s.egress.s3Port }] }],
    }),
    metadata: { name: `${s.instance}-egress-s3`, namespace: s.namespace, labels: componentLabels(s.instance, "worker") },
  };
}
