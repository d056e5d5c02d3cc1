/**
 * The operator's kubeconfig, built in the program from the stack's own PKI: nothing is copied off a node.
 * It trusts the server-ca chain and authenticates with the admin client certificate (O=system:masters).
 */
import { stringify } from "yaml";
import { firstCertificateDer } from "./pem";

export interface KubeconfigParams {
  /** Names the cluster, user and context entries, e.g. the stack's resource prefix. */
  readonly clusterName: string;
  /** https://<floating IP>:6443 */
  readonly server: string;
  readonly caBundlePem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

/** The kubeconfig v1 shape (k8s.io/client-go/tools/clientcmd/api/v1), restricted to what this file sets. */
export interface Kubeconfig {
  readonly apiVersion: "v1";
  readonly kind: "Config";
  readonly clusters: { name: string; cluster: { server: string; "certificate-authority-data": string } }[];
  readonly users: { name: string; user: { "client-certificate-data": string; "client-key-data": string } }[];
  readonly contexts: { name: string; context: { cluster: string; user: string } }[];
  readonly "current-context": string;
  readonly preferences: Record<string, never>;
}

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

export function kubeconfigObject(p: KubeconfigParams): Kubeconfig {
  if (!/^https:\/\/[^/]+$/.test(p.server))
    throw new Error(`kubeconfig server must be https://<host>:<port> with no path, got "${p.server}"`);
  firstCertificateDer(p.caBundlePem, "kubeconfig CA bundle");
  firstCertificateDer(p.clientCertPem, "kubeconfig client certificate");
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(p.clientKeyPem)) throw new Error("kubeconfig client key is not a PEM private key");
  const user = `${p.clusterName}-admin`;
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: p.clusterName, cluster: { server: p.server, "certificate-authority-data": b64(p.caBundlePem) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(p.clientCertPem), "client-key-data": b64(p.clientKeyPem) } }],
    contexts: [{ name: p.clusterName, context: { cluster: p.clusterName, user } }],
    "current-context": p.clusterName,
    preferences: {},
  };
}

export function renderKubeconfig(p: KubeconfigParams): string {
  return stringify(kubeconfigObject(p), { lineWidth: 0 });
}
