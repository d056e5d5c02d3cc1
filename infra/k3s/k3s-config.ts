/**
 * /etc/rancher/k3s/config.yaml for the server and the agents, as typed objects. Keys are k3s's own CLI flag
 * names (docs.k3s.io/installation/configuration#configuration-file). The flannel interface is not here: its
 * name (ens3, enp4s0, ...) depends on the image and is only known on the node, so the bootstrap script finds
 * the interface that carries `node-ip` and passes `--flannel-iface` to the installer.
 */
import { stringify } from "yaml";
import { parseIpv4 } from "../ipv4";
import { K3S_RESOLV_CONF_PATH } from "./resolv-conf";

export const K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml";
export const K3S_API_PORT = 6443;
export const KUBELET_PORT = 10250;
/**
 * k3s's default pod and Service ranges, set explicitly because other parts depend on them: the metadata block
 * matches pod traffic by the pod range, and the pipeline's egress policies exclude both.
 */
export const K3S_CLUSTER_CIDR = "10.42.0.0/16";
export const K3S_SERVICE_CIDR = "10.43.0.0/16";

export interface K3sServerConfigFile {
  /** The server token (secure form); node1 alone holds it. */
  readonly token: string;
  /** The password of the agent token's `node` user: agents join with it and cannot join as servers. */
  readonly "agent-token": string;
  readonly "node-ip": string;
  readonly "advertise-address": string;
  readonly "tls-san": string[];
  readonly "write-kubeconfig-mode": "0600";
  /** Secrets are encrypted at rest in the datastore; cheap, and enabling it later needs a rotation. */
  readonly "secrets-encryption": true;
  /** The kubelet's (and so CoreDNS's) resolvers: the stack's upstream nameservers only, see resolv-conf.ts. */
  readonly "resolv-conf": typeof K3S_RESOLV_CONF_PATH;
  readonly "cluster-cidr": string;
  readonly "service-cidr": string;
}

export interface K3sAgentConfigFile {
  readonly server: string;
  readonly token: string;
  readonly "node-ip": string;
  readonly "resolv-conf": typeof K3S_RESOLV_CONF_PATH;
}

export interface ServerConfigParams {
  readonly token: string;
  /** The agent token's password (the part after `node:`). */
  readonly agentTokenPassword: string;
  /** node1's address on the private network. */
  readonly nodeIp: string;
  /** The floating IP the operator (kubeconfig, readiness gate) reaches the API on. */
  readonly floatingIp: string;
}

export function serverConfig(p: ServerConfigParams): K3sServerConfigFile {
  requireIpv4(p.nodeIp, "server node-ip");
  requireIpv4(p.floatingIp, "floating IP");
  return {
    token: p.token,
    "agent-token": p.agentTokenPassword,
    "node-ip": p.nodeIp,
    "advertise-address": p.nodeIp,
    // The serving certificate must name every address clients dial: the floating IP from outside, the
    // private address from the agents. k3s adds node-ip itself; listing it keeps the intent explicit.
    "tls-san": [...new Set([p.floatingIp, p.nodeIp])],
    "write-kubeconfig-mode": "0600",
    "secrets-encryption": true,
    "resolv-conf": K3S_RESOLV_CONF_PATH,
    "cluster-cidr": K3S_CLUSTER_CIDR,
    "service-cidr": K3S_SERVICE_CIDR,
  };
}

export interface AgentConfigParams {
  /** The agent token (secure form, user `node`); never the server token. */
  readonly token: string;
  readonly nodeIp: string;
  readonly serverIp: string;
}

export function serverUrl(serverIp: string): string {
  return `https://${serverIp}:${K3S_API_PORT}`;
}

export function agentConfig(p: AgentConfigParams): K3sAgentConfigFile {
  requireIpv4(p.nodeIp, "agent node-ip");
  requireIpv4(p.serverIp, "server address");
  return { server: serverUrl(p.serverIp), token: p.token, "node-ip": p.nodeIp, "resolv-conf": K3S_RESOLV_CONF_PATH };
}

export function renderK3sConfig(config: K3sServerConfigFile | K3sAgentConfigFile): string {
  return stringify(config, { lineWidth: 0 });
}

/** k3s parses addresses with Go's net/netip, which refuses leading zeros; so does parseIpv4. */
function requireIpv4(value: string, what: string): void {
  if (parseIpv4(value) === undefined) throw new Error(`${what} must be an IPv4 address, got "${value}"`);
}
