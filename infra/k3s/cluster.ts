/**
 * The cluster as Kubernetes clients see it, once the nodes exist: the readiness gate and the
 * @pulumi/kubernetes provider that every Kubernetes resource of the program uses (`{ provider: k3s.provider }`).
 * The provider depends on the gate, so nothing is sent to the API before all nodes are Ready.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { K3sBootstrap } from "./bootstrap";
import { K3sReadiness } from "./readiness-resource";

export interface K3sClusterArgs {
  readonly bootstrap: K3sBootstrap;
  /** The instances the bootstrap's user data runs on; the gate waits for them. */
  readonly nodes: pulumi.Resource[];
  readonly nodeIds: pulumi.Input<string>[];
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
      { parent: this, dependsOn: args.nodes },
    );

    this.provider = new k8s.Provider(
      `${name}-provider`,
      {
        kubeconfig: bootstrap.kubeconfig,
        // Without it the provider is replaced whenever the kubeconfig text changes (a new floating IP, a
        // renewed admin certificate), and every Kubernetes resource with it. The root CA is the cluster's identity.
        clusterIdentifier: bootstrap.clusterIdentifier,
        // When the lease has ended and the VMs are gone, `pulumi destroy` can still forget what ran on them.
        deleteUnreachable: true,
      },
      { parent: this, dependsOn: [this.readiness] },
    );

    this.kubeconfig = bootstrap.kubeconfig;
    this.apiServer = bootstrap.apiServer;
    this.readyNodes = this.readiness.readyNodes;
    this.registerOutputs({ apiServer: this.apiServer, readyNodes: this.readyNodes });
  }
}
