/**
 * The allowed-CIDR list of a public database instance: which sources may open a connection to it.
 *
 * The program derives the list from its own addresses (the floating IP, the router's external gateway) and
 * never opens a database to the Internet. The rules are CSC Pukki's, the strictest DBaaS this program targets,
 * applied before any request so a bad list fails the deployment with the reason instead of Trove's 400:
 * no 0.0.0.0/0, and no range wider than /22 (docs.csc.fi/cloud/dbaas/firewalls/).
 */
import { formatIpv4, parseCidr, parseIpv4 } from "../ipv4";

/** The widest range a public database may allow: /22, 1024 addresses (Pukki's limit). */
export const WIDEST_ALLOWED_PREFIX = 22;

/** Trove's API schema for an allowed CIDR: an IPv4 address with an optional /0-32 prefix. */
const TROVE_CIDR_PATTERN = /^([0-9]{1,3}\.){3}[0-9]{1,3}(\/([0-9]|[1-2][0-9]|3[0-2]))?$/;

/** What is wrong with an allowed-CIDR list, one line per problem; empty when it may be sent. */
export function allowedCidrProblems(cidrs: readonly string[]): string[] {
  if (cidrs.length === 0) {
    return ["the list is empty; Trove treats a missing list as open to every address, so the program never sends one"];
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const text of cidrs) {
    if (seen.has(text)) problems.push(`${text} is listed twice (Trove rejects duplicates)`);
    seen.add(text);
    const withPrefix = text.includes("/") ? text : `${text}/32`;
    const cidr = TROVE_CIDR_PATTERN.test(text) ? parseCidr(withPrefix) : undefined;
    if (!cidr) {
      problems.push(`${text} is not an IPv4 network in CIDR form with no host bits set`);
    } else if (cidr.prefixLength === 0) {
      problems.push(`${text} opens the database to the whole Internet`);
    } else if (cidr.prefixLength < WIDEST_ALLOWED_PREFIX) {
      problems.push(`${text} is wider than /${WIDEST_ALLOWED_PREFIX} (${2 ** (32 - cidr.prefixLength)} addresses)`);
    }
  }
  return problems;
}

/** One /32 per source address, sorted and without duplicates: the addresses the cluster's traffic leaves from. */
export function hostCidrs(addresses: readonly string[]): string[] {
  const out = new Set<string>();
  for (const address of addresses) {
    const ip = parseIpv4(address);
    if (ip === undefined) throw new Error(`"${address}" is not an IPv4 address, so it cannot be an allowed source of the database`);
    out.add(`${formatIpv4(ip)}/32`);
  }
  return [...out].sort();
}

/** The same list in a canonical order, to compare what Trove reports with what the program asks for. */
export function canonicalCidrs(cidrs: readonly string[]): string[] {
  return [...new Set(cidrs.map((c) => (c.includes("/") ? c : `${c}/32`)))].sort();
}
