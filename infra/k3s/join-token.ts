/**
 * The k3s "secure" join tokens: `K10<CA hash>::<user>:<password>`. With custom CAs k3s defines the CA hash as
 * the SHA-256 of the DER encoding of the root certificate (docs.k3s.io/cli/token), so a joining node
 * downloads /cacerts, finds the root of the chain and refuses to send its credentials to any server whose
 * chain does not end in this exact root.
 *
 * Two tokens, two users (k3s's cred/passwd): `server` is the server token, which k3s documents as full
 * administrator access (it fetches the cluster's bootstrap data, CA keys included, and is the passphrase that
 * encrypts them); `node` is the agent token, set with the server's `agent-token`, which only joins agents
 * (group k3s:agent). Agents get the agent token and nothing else.
 */
import { createHash } from "crypto";
import { firstCertificateDer } from "./pem";

export const TOKEN_PREFIX = "K10";
export const SERVER_TOKEN_USER = "server";
export const AGENT_TOKEN_USER = "node";
export type TokenUser = typeof SERVER_TOKEN_USER | typeof AGENT_TOKEN_USER;

/** Hex SHA-256 of the root certificate's DER, i.e. its fingerprint without colons. */
export function caHash(rootCertPem: string): string {
  return createHash("sha256").update(firstCertificateDer(rootCertPem, "the k3s root CA certificate")).digest("hex");
}

/** Throws unless the password is safe inside a k3s token, YAML and shell. */
export function checkTokenPassword(password: string): string {
  // k3s splits the credentials at the first ":" and the token itself at "::"; the password must avoid both
  // and whitespace, which also keeps it safe inside YAML and shell.
  if (!/^[A-Za-z0-9._~-]{32,}$/.test(password)) {
    throw new Error(
      "k3s join-token password must be at least 32 characters of A-Z, a-z, 0-9, '.', '_', '~', '-' (generate it with random.RandomPassword special: false)",
    );
  }
  return password;
}

export function secureJoinToken(rootCertPem: string, password: string, user: TokenUser = SERVER_TOKEN_USER): string {
  return `${TOKEN_PREFIX}${caHash(rootCertPem)}::${user}:${checkTokenPassword(password)}`;
}
