/**
 * firewalld on the nodes, for images that run it (Chameleon's bare-metal images; its bare-metal sites enforce no
 * security groups). `host-firewall.sh` runs once, before k3s's install, and leaves permanent rules: k3s's documented
 * firewalld requirements (pods and Services trusted) plus the private network, http from anywhere, and ssh and
 * the Kubernetes API from the admin range only. Where firewalld is not running it does nothing.
 */
import * as fs from "fs";
import * as path from "path";
import { K3S_CLUSTER_CIDR, K3S_SERVICE_CIDR } from "./k3s-config";

export const HOST_FIREWALL_SCRIPT_PATH = "/usr/local/sbin/image-pipeline-host-firewall";

export interface HostFirewallOptions {
  /** The private node network, trusted (k3s, flannel and the kubelet talk over it). */
  readonly privateCidr: string;
  /** The only source allowed to ssh and to the Kubernetes API. */
  readonly adminCidr: string;
}

let script: string | undefined;
export function hostFirewallScriptText(): string {
  script ??= fs.readFileSync(path.join(__dirname, "host-firewall.sh"), "utf8");
  return script;
}

/** The runcmd entry, an argument vector. */
export function hostFirewallCommand(role: "server" | "agent", options: HostFirewallOptions): string[] {
  return [
    HOST_FIREWALL_SCRIPT_PATH,
    "--role",
    role,
    "--private-cidr",
    options.privateCidr,
    "--pod-cidr",
    K3S_CLUSTER_CIDR,
    "--service-cidr",
    K3S_SERVICE_CIDR,
    "--admin-cidr",
    options.adminCidr,
  ];
}
