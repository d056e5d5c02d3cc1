/**
 * A database reached over the Internet (an external DBaaS such as CSC Pukki, whose instances are public and
 * protected by an allowed-CIDR list) must allow only named sources. Trove opens an instance to every address when
 * the list is missing, so an empty list counts as open, as does any range of prefix length 0 (0.0.0.0/0). Ranges
 * wider than /22 are refused too, as Pukki refuses them (docs.csc.fi/cloud/dbaas/firewalls/).
 *
 * The access is the program's `TroveInstanceAccess` dynamic resource (infra/trove/), whose inputs are the
 * `is_public` and `allowed_cidrs` it sends to Trove.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { DYNAMIC } from "../resourceTypes";
import { strings, type Props } from "../values";

export const PUBLIC_DATABASE_POLICY = "no-open-public-database";
export const DEFAULT_WIDEST_PREFIX = 22;

export interface PublicDatabaseConfig {
  /** The widest allowed source range, as a prefix length. */
  readonly widestPrefix?: number;
}

function prefixLength(cidr: string): number | undefined {
  const [address, prefix] = cidr.trim().split("/");
  if (prefix === undefined) return address.includes(":") ? 128 : 32;
  return /^\d{1,3}$/.test(prefix) ? Number(prefix) : undefined;
}

export function publicDatabaseViolations(props: Props, config: PublicDatabaseConfig = {}): string[] {
  if (props.isPublic !== true) return [];
  const widest = config.widestPrefix ?? DEFAULT_WIDEST_PREFIX;
  const fix =
    "Fix: allow only the addresses the cluster's traffic leaves from (the program derives them from the floating IP and the router's gateway)";
  const cidrs = strings(props.allowedCidrs);
  if (cidrs.length === 0) {
    return [`public database instance with no allowed-CIDR list: Trove opens it to every address. ${fix}`];
  }
  const violations: string[] = [];
  for (const cidr of cidrs) {
    const prefix = prefixLength(cidr);
    if (prefix === undefined) violations.push(`allowed CIDR "${cidr}" is not a CIDR. ${fix}`);
    else if (prefix === 0) violations.push(`allowed CIDR ${cidr} opens the public database to the whole Internet. ${fix}`);
    else if (prefix < widest) violations.push(`allowed CIDR ${cidr} is wider than /${widest}. ${fix}`);
  }
  return violations;
}

export const publicDatabasePolicy: ResourceValidationPolicy = {
  name: PUBLIC_DATABASE_POLICY,
  description: "A public database instance allows only named sources: no 0.0.0.0/0, no empty list, nothing wider than /22.",
  severity: "critical",
  configSchema: {
    properties: { widestPrefix: { type: "integer", minimum: 1, maximum: 32, default: DEFAULT_WIDEST_PREFIX } },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== DYNAMIC.troveInstanceAccess) return;
    for (const message of publicDatabaseViolations(args.props, args.getConfig<PublicDatabaseConfig>())) reportViolation(message);
  },
};
