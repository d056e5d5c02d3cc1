/**
 * Everything the nodes need before they exist: the PKI, the join token and one cloud-config per node
 * (node1 the k3s server, the rest agents), plus the kubeconfig the operator will use. Pass `userData` to
 * `ClusterNodes`, then hand this component and the instances to `K3sCluster`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { caHash, secureJoinToken } from "./join-token";
import { K3S_API_PORT } from "./k3s-config";
import { renderKubeconfig } from "./kubeconfig";
import { K3sPki } from "./pki";
import { pemBundle } from "./pem";
import { agentUserData, K3sInstallOptions, serverUserData } from "./user-data";

export interface K3sBootstrapArgs {
  /** Names certificates and kubeconfig entries; the stack's resource prefix. */
  readonly clusterName: string;
  /** Hostnames, node1 (the server) first. */
  readonly nodeNames: string[];
  /** Private-network addresses, in the same order as nodeNames. */
  readonly privateIps: string[];
  /** Allocated before the instances, so the server certificate can name it. */
  readonly floatingIp: pulumi.Input<string>;
  readonly install: K3sInstallOptions;
}

export class K3sBootstrap extends pulumi.ComponentResource {
  readonly pki: K3sPki;
  /** K10<root CA hash>::server:<password> (secret). */
  readonly joinToken: pulumi.Output<string>;
  /** One #cloud-config document per node, node1 first (secret: it carries CA keys and the token). */
  readonly userData: pulumi.Output<string>[];
  /** https://<floating IP>:6443 */
  readonly apiServer: pulumi.Output<string>;
  readonly serverCaBundle: pulumi.Output<string>;
  /** The admin kubeconfig (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  /** Stable identity of the cluster for the Kubernetes provider: changes only with the root CA. */
  readonly clusterIdentifier: pulumi.Output<string>;

  constructor(name: string, args: K3sBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:k3s:Bootstrap", name, {}, opts);
    if (args.nodeNames.length === 0 || args.nodeNames.length !== args.privateIps.length) {
      throw new Error(
        `K3sBootstrap ${name}: ${args.nodeNames.length} node names and ${args.privateIps.length} private IPs; need at least one node and one IP per node`,
      );
    }
    const child = { parent: this };

    this.pki = new K3sPki(`${name}-pki`, { clusterName: args.clusterName }, child);
    // Alphanumeric only: k3s splits tokens on ':' and the token travels through YAML and shell.
    const password = new random.RandomPassword(`${name}-join-password`, { length: 48, special: false }, child);
    this.joinToken = pulumi.secret(
      pulumi.all([this.pki.cas.root.certPem, password.result]).apply(([root, pw]) => secureJoinToken(root, pw)),
    );
    // Built from the certificates alone, so agents and clients depend on no private key.
    const { server, intermediate, root } = this.pki.cas;
    this.serverCaBundle = pulumi.all([server.certPem, intermediate.certPem, root.certPem]).apply((pems) => pemBundle(...pems));

    const [serverIp] = args.privateIps;
    this.userData = args.nodeNames.map((nodeName, i) =>
      pulumi.secret(
        i === 0
          ? pulumi
              .all([this.pki.serverTls, this.joinToken, args.floatingIp])
              .apply(([tls, token, floatingIp]) =>
                serverUserData({ install: args.install, nodeName, nodeIp: args.privateIps[i], floatingIp, token, tls }),
              )
          : pulumi
              .all([this.serverCaBundle, this.joinToken])
              .apply(([bundle, token]) =>
                agentUserData({ install: args.install, nodeName, nodeIp: args.privateIps[i], serverIp, token, serverCaBundle: bundle }),
              ),
      ),
    );

    this.apiServer = pulumi.output(args.floatingIp).apply((ip) => `https://${ip}:${K3S_API_PORT}`);
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([this.apiServer, this.serverCaBundle, this.pki.admin.certPem, this.pki.admin.keyPem])
        .apply(([server, caBundlePem, clientCertPem, clientKeyPem]) =>
          renderKubeconfig({ clusterName: args.clusterName, server, caBundlePem, clientCertPem, clientKeyPem }),
        ),
    );
    this.clusterIdentifier = this.pki.cas.root.certPem.apply((root) => `${args.clusterName}-${caHash(root).slice(0, 16)}`);

    this.registerOutputs({ apiServer: this.apiServer, clusterIdentifier: this.clusterIdentifier });
  }
}
