/**
 * The cluster as Kubernetes clients see it, once the nodes exist: the readiness gate and the
 * @pulumi/kubernetes provider that every Kubernetes resource of the program uses (`{ provider: k3s.provider }`).
 * The provider depends on the gate, so nothing is sent to the API before all nodes are Ready; the gate depends on
 * the nodes and on node1's floating-IP association, so `pulumi destroy` deletes every Kubernetes object (through the
 * provider, then the gate) before it takes the address off node1 or deletes a node.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { K3sBootstrap } from "./bootstrap";
import { K3sReadiness } from "./readiness-resource";

export interface K3sClusterArgs {
  readonly bootstrap: K3sBootstrap;
  /** The instances the bootstrap's user data runs on; the gate waits for them. */
  readonly nodes: pulumi.Resource[];
  /** Instance ids, node1 (the k3s server, whose disk holds the cluster's datastore) first. */
  readonly nodeIds: pulumi.Input<string>[];
  /** node1's floating-IP association: the API address only reaches the cluster once it exists. */
  readonly floatingIpAssociation: pulumi.Resource;
  readonly readyTimeoutSeconds: number;
  readonly pollIntervalSeconds?: number;
}

export class K3sCluster extends pulumi.ComponentResource {
  readonly readiness: K3sReadiness;
  readonly provider: k8s.Provider;
  /** The admin kubeconfig (secret); export it as a stack output. */
  readonly kubeconfig: pulumi.Output<string>;
  readonly apiServer: pulumi.Output<string>;
  readonly readyNodes: pulumi.Output<string[]>;
  /** What the Kubernetes provider takes as the cluster's identity: see `clusterIdentifier`. */
  readonly clusterIdentifier: pulumi.Output<string>;

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:k3s:Cluster", name, {}, opts);
    const { bootstrap } = args;

    this.readiness = new K3sReadiness(
      `${name}-readiness`,
      {
        server: bootstrap.apiServer,
        caPem: bootstrap.serverCaBundle,
        clientCertPem: bootstrap.pki.admin.certPem,
        clientKeyPem: bootstrap.pki.admin.keyPem,
        expectedNodes: args.nodeIds.length,
        timeoutSeconds: args.readyTimeoutSeconds,
        pollIntervalSeconds: args.pollIntervalSeconds,
        nodeIds: args.nodeIds,
      },
      { parent: this, dependsOn: [...args.nodes, args.floatingIpAssociation] },
    );

    // The datastore (SQLite under /var/lib/rancher/k3s/server/db) lives on node1's disk: a new node1 instance is a
    // new, empty cluster even with the same CAs and address. pulumi-kubernetes replaces its provider, and with it
    // every Kubernetes resource, when the identifier changes (provider.go `DiffConfig`), so the next `up` re-creates
    // the workload there; a kubeconfig change alone (new floating IP, renewed admin certificate) only updates it.
    const [serverId] = args.nodeIds;
    this.clusterIdentifier = pulumi.all([bootstrap.pkiIdentifier, serverId]).apply(([pki, server]) => clusterIdentifier(pki, server));

    this.provider = new k8s.Provider(
      `${name}-provider`,
      {
        kubeconfig: bootstrap.kubeconfig,
        clusterIdentifier: this.clusterIdentifier,
        // ConfigMap and Secret data change in place: without these, pulumi-kubernetes replaces them on any change,
        // deleting first (their names are fixed), and a pod that starts in between fails with
        // CreateContainerConfigError. The Deployments' checksum annotations roll the pods after the update.
        enableConfigMapMutable: true,
        enableSecretMutable: true,
        // No deleteUnreachable: set, it makes a `pulumi refresh` from a machine that cannot reach the API (outside
        // adminCidr) drop every Kubernetes object from state. For a stack whose cluster is gone, the environment
        // variable PULUMI_K8S_DELETE_UNREACHABLE=true does it for one command; a value set here would override it.
      },
      { parent: this, dependsOn: [this.readiness] },
    );

    this.kubeconfig = bootstrap.kubeconfig;
    this.apiServer = bootstrap.apiServer;
    this.readyNodes = this.readiness.readyNodes;
    this.registerOutputs({ apiServer: this.apiServer, readyNodes: this.readyNodes, clusterIdentifier: this.clusterIdentifier });
  }
}

/** The cluster's identity: the PKI it trusts and the instance that holds its datastore. */
export function clusterIdentifier(pkiIdentifier: string, serverInstanceId: string): string {
  return `${pkiIdentifier}-${serverInstanceId}`;
}
