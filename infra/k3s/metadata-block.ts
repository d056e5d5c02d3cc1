/**
 * Pods must not reach the cloud metadata service: it serves each node's user data, which holds the cluster's CA
 * keys and server token on node1 and a join token on the agents. A oneshot unit runs `metadata-block.sh` at every
 * boot; the k3s unit of the node's role requires it and starts after it, so no pod runs on a node without the
 * rule, and k3s does not start if the rule cannot be installed.
 */
import * as fs from "fs";
import * as path from "path";
import { renderSystemdUnit } from "./systemd-unit";

export const METADATA_SERVICE_ADDRESS = "169.254.169.254";
export const METADATA_BLOCK_UNIT = "image-pipeline-metadata-block.service";
export const METADATA_BLOCK_SCRIPT_PATH = "/usr/local/sbin/image-pipeline-metadata-block";
/** The units k3s's installer creates for each role. */
export const K3S_UNIT: Readonly<Record<"server" | "agent", string>> = { server: "k3s.service", agent: "k3s-agent.service" };

export interface NodeFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: "0644" | "0700";
}

let script: string | undefined;
export function metadataBlockScriptText(): string {
  script ??= fs.readFileSync(path.join(__dirname, "metadata-block.sh"), "utf8");
  return script;
}

export function metadataBlockUnitText(podCidr: string): string {
  return renderSystemdUnit({
    Unit: {
      Description: "Drop pod traffic to the cloud metadata service",
      Before: Object.values(K3S_UNIT).join(" "),
    },
    Service: { Type: "oneshot", RemainAfterExit: "yes", ExecStart: `${METADATA_BLOCK_SCRIPT_PATH} ${podCidr}` },
    Install: { WantedBy: "multi-user.target" },
  });
}

/** Drop-in for the role's k3s unit: no k3s without the block. */
export function k3sRequiresBlockDropIn(): string {
  return renderSystemdUnit({ Unit: { Requires: METADATA_BLOCK_UNIT, After: METADATA_BLOCK_UNIT } });
}

export function metadataBlockFiles(role: "server" | "agent", podCidr: string): NodeFile[] {
  return [
    { path: METADATA_BLOCK_SCRIPT_PATH, content: metadataBlockScriptText(), permissions: "0700" },
    { path: `/etc/systemd/system/${METADATA_BLOCK_UNIT}`, content: metadataBlockUnitText(podCidr), permissions: "0644" },
    {
      path: `/etc/systemd/system/${K3S_UNIT[role]}.d/10-image-pipeline-metadata-block.conf`,
      content: k3sRequiresBlockDropIn(),
      permissions: "0644",
    },
  ];
}
