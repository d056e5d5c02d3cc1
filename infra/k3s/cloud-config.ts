/** Serialises a typed cloud-config object; the `#cloud-config` header is what makes cloud-init read it as one. */
import { stringify } from "yaml";

export type CloudConfig = Record<string, unknown>;

export function renderCloudConfig(config: CloudConfig): string {
  return `#cloud-config\n${stringify(config, { lineWidth: 0 })}`;
}

/** Seed 001's hosts line: makes the node's own hostname resolvable before any DNS is configured. */
export const HOSTS_LINE_COMMAND = 'echo "127.0.1.1 $(hostname)" >> /etc/hosts';
