import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Compares a presented secret with the expected one in time independent of where they differ
 * (and of their lengths, by comparing fixed-size digests).
 */
export function secretMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined || expected === "") return false;
  const a = createHash("sha256").update(presented, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}

/** Extracts the token of an "Authorization: Bearer <token>" header (MinIO webhook targets send one). */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return m ? m[1].trim() : undefined;
}
