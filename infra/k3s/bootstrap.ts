/**
 * Everything the nodes need before they exist: the PKI, the join token and one cloud-config per node
 * (node1 the k3s server, the rest agents), plus the kubeconfig the operator will use. Pass `userData` to
 * `ClusterNodes`, then hand this component and the instances to `K3sCluster`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AGENT_TOKEN_USER, caHash, secureJoinToken } from "./join-token";
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
  /** K10<root CA hash>::server:<password> (secret): full administrator access; only node1's user data has it. */
  readonly joinToken: pulumi.Output<string>;
  /** K10<root CA hash>::node:<password> (secret): joins agents only; what the agents' user data carries. */
  readonly agentJoinToken: pulumi.Output<string>;
  /** One #cloud-config document per node, node1 first (secret: node1's carries CA keys and the server token). */
  readonly userData: pulumi.Output<string>[];
  /** https://<floating IP>:6443 */
  readonly apiServer: pulumi.Output<string>;
  readonly serverCaBundle: pulumi.Output<string>;
  /** The admin kubeconfig (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  /** `<clusterName>-<root CA hash>`: changes only with the root CA. Part of the cluster's identity (K3sCluster). */
  readonly pkiIdentifier: pulumi.Output<string>;

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
    // A separate password: an agent's user data (readable by anyone who can read that VM's metadata) must not
    // let its reader fetch the cluster's CA keys, which the server token does.
    const agentPassword = new random.RandomPassword(`${name}-agent-join-password`, { length: 48, special: false }, child);
    this.agentJoinToken = pulumi.secret(
      pulumi.all([this.pki.cas.root.certPem, agentPassword.result]).apply(([root, pw]) => secureJoinToken(root, pw, AGENT_TOKEN_USER)),
    );
    // Built from the certificates alone, so agents and clients depend on no private key.
    const { server, intermediate, root } = this.pki.cas;
    this.serverCaBundle = pulumi.all([server.certPem, intermediate.certPem, root.certPem]).apply((pems) => pemBundle(...pems));

    const [serverIp] = args.privateIps;
    this.userData = args.nodeNames.map((nodeName, i) =>
      pulumi.secret(
        i === 0
          ? pulumi
              .all([this.pki.serverTls, this.joinToken, agentPassword.result, args.floatingIp])
              .apply(([tls, token, agentTokenPassword, floatingIp]) =>
                serverUserData({ install: args.install, nodeName, nodeIp: args.privateIps[i], floatingIp, token, agentTokenPassword, tls }),
              )
          : pulumi.all([this.serverCaBundle, this.agentJoinToken]).apply(([bundle, agentToken]) =>
              agentUserData({
                install: args.install,
                nodeName,
                nodeIp: args.privateIps[i],
                serverIp,
                agentToken,
                serverCaBundle: bundle,
              }),
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
    this.pkiIdentifier = this.pki.cas.root.certPem.apply((root) => `${args.clusterName}-${caHash(root).slice(0, 16)}`);

    this.registerOutputs({ apiServer: this.apiServer, pkiIdentifier: this.pkiIdentifier });
  }
}
