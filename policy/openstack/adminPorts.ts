/**
 * ssh and the Kubernetes API must not be reachable from the whole Internet. A classroom set-up opens 22 to
 * 0.0.0.0/0; the stacks take an `adminCidr` instead, and this policy holds prod to it.
 *
 * A Neutron rule matches "any source" when it names neither a remote prefix nor a remote group, and "any port"
 * when it has no port range; both count as open.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { OPENSTACK } from "../resourceTypes";
import type { Props } from "../values";

export const ADMIN_PORTS_POLICY = "no-public-admin-ports";
export const DEFAULT_ADMIN_PORTS: readonly number[] = [22, 6443];

export interface AdminPortsConfig {
  /** TCP ports that must never be open to the world. */
  readonly ports?: number[];
}

/** Protocols whose rules can carry TCP traffic: tcp itself and "any". */
const TCP_CAPABLE = new Set(["tcp", "6", "any", "", "0"]);

function isWorld(props: Props): boolean {
  const prefix = props.remoteIpPrefix;
  // A prefix length of 0 covers every address, whatever address it is written with (0.0.0.0/0, ::/0, 10.0.0.0/0).
  if (typeof prefix === "string" && prefix.trim() !== "") return /\/0+$/.test(prefix.trim());
  const group = props.remoteGroupId;
  return !(typeof group === "string" && group !== "");
}

function portRange(props: Props): [number, number] {
  const min = typeof props.portRangeMin === "number" && props.portRangeMin > 0 ? props.portRangeMin : undefined;
  const max = typeof props.portRangeMax === "number" && props.portRangeMax > 0 ? props.portRangeMax : undefined;
  return [min ?? max ?? 1, max ?? min ?? 65535];
}

export function adminPortViolations(props: Props, config: AdminPortsConfig = {}): string[] {
  if (String(props.direction ?? "").toLowerCase() !== "ingress") return [];
  const protocol = props.protocol === undefined || props.protocol === null ? "" : String(props.protocol).toLowerCase();
  if (!TCP_CAPABLE.has(protocol)) return [];
  if (!isWorld(props)) return [];
  const [min, max] = portRange(props);
  const exposed = (config.ports ?? DEFAULT_ADMIN_PORTS).filter((p) => p >= min && p <= max);
  if (exposed.length === 0) return [];
  const source =
    typeof props.remoteIpPrefix === "string" && props.remoteIpPrefix !== ""
      ? props.remoteIpPrefix
      : "any source (no remoteIpPrefix or remoteGroupId)";
  const range = min === max ? `port ${min}` : `ports ${min}-${max}`;
  return [
    `ingress rule opens ${range} (${protocol || "any protocol"}) to ${source}, exposing ${exposed.join(" and ")}. Fix: set image-pipeline:adminCidr to the operators' range (e.g. the VPN's CIDR)`,
  ];
}

export const adminPortsPolicy: ResourceValidationPolicy = {
  name: ADMIN_PORTS_POLICY,
  description: "No ssh (22) or Kubernetes API (6443) ingress open to 0.0.0.0/0 or ::/0.",
  severity: "high",
  configSchema: {
    properties: {
      ports: { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 }, default: [...DEFAULT_ADMIN_PORTS] },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== OPENSTACK.secGroupRule) return;
    for (const message of adminPortViolations(args.props, args.getConfig<AdminPortsConfig>())) reportViolation(message);
  },
};
