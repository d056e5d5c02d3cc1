/**
 * The k3s "secure" join token: `K10<CA hash>::server:<password>`. With custom CAs k3s defines the CA hash as
 * the SHA-256 of the DER encoding of the root certificate (docs.k3s.io/cli/token), so a joining agent
 * downloads /cacerts, finds the root of the chain and refuses to send its credentials to any server whose
 * chain does not end in this exact root.
 */
import { createHash } from "crypto";
import { firstCertificateDer } from "./pem";

export const TOKEN_PREFIX = "K10";
export const SERVER_TOKEN_USER = "server";

/** Hex SHA-256 of the root certificate's DER, i.e. its fingerprint without colons. */
export function caHash(rootCertPem: string): string {
  return createHash("sha256").update(firstCertificateDer(rootCertPem, "the k3s root CA certificate")).digest("hex");
}

export function secureJoinToken(rootCertPem: string, password: string): string {
  // k3s splits the credentials at the first ":" and the token itself at "::"; the password must avoid both
  // and whitespace, which also keeps it safe inside YAML and shell.
  if (!/^[A-Za-z0-9._~-]{32,}$/.test(password)) {
    throw new Error(
      "k3s join-token password must be at least 32 characters of A-Z, a-z, 0-9, '.', '_', '~', '-' (generate it with random.RandomPassword special: false)",
    );
  }
  return `${TOKEN_PREFIX}${caHash(rootCertPem)}::${SERVER_TOKEN_USER}:${password}`;
}
