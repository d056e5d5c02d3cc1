/** Minimal IPv4 arithmetic for validating the private network layout before anything is declared. */

export interface Ipv4Cidr {
  readonly network: number;
  readonly prefixLength: number;
  readonly text: string;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export function parseCidr(text: string): Ipv4Cidr | undefined {
  const [address, prefix, ...rest] = text.split("/");
  if (rest.length > 0 || prefix === undefined || !/^\d{1,2}$/.test(prefix)) return undefined;
  const prefixLength = Number(prefix);
  const ip = parseIpv4(address);
  if (ip === undefined || prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  // A CIDR whose address has host bits set is almost always a typo (192.168.1.11/24 for 192.168.1.0/24).
  if (ip % size !== 0) return undefined;
  return { network: ip, prefixLength, text };
}

export function cidrSize(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefixLength);
}

/** True when `ip` is a usable host address of `cidr` (not the network or broadcast address). */
export function isUsableHost(cidr: Ipv4Cidr, ip: number): boolean {
  const size = cidrSize(cidr);
  if (size <= 2) return ip >= cidr.network && ip < cidr.network + size;
  return ip > cidr.network && ip < cidr.network + size - 1;
}
