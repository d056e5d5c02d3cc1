/**
 * Kubernetes resource quantities (the subset used for CPU and memory), parsed so settings can be compared:
 * a request above its limit is rejected by the API server only at apply time, long after `pulumi preview`.
 */
const SUFFIX_FACTORS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

const QUANTITY = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

/** Value of a quantity in base units (cores for CPU, bytes for memory); undefined when it is not a quantity. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * SUFFIX_FACTORS[match[2] ?? ""];
}
