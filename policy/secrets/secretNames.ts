/**
 * What "looks like a secret" means for keys and values. Shared by the policy (where a secret ends up) and the
 * offline plan checks (whether a secret-looking input is a Pulumi secret).
 */

/** Words that make a key secret on their own: WEBHOOK_SECRET, dbPassword, k3sToken, passphrase. */
const SECRET_WORDS = new Set(["password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "apikey", "credentials"]);
/** "<qualifier> key" is a secret key: privateKey, API_KEY, secretAccessKey, signingKey. A public key is not. */
const KEY_QUALIFIERS = new Set([
  "private",
  "api",
  "secret",
  "access",
  "signing",
  "encryption",
  "master",
  "client",
  "auth",
  "hmac",
  "shared",
]);
/**
 * A key ending in one of these names or describes a secret rather than holding it: secretName, S3_ACCESS_KEY_ID,
 * secretKeyRef, KEY_PREFIX_FILTER, tokenTtl.
 */
const DESCRIPTIVE_TAILS = new Set([
  "id",
  "ids",
  "name",
  "names",
  "ref",
  "refs",
  "arn",
  "file",
  "path",
  "length",
  "size",
  "type",
  "pair",
  "prefix",
  "suffix",
  "filter",
  "enabled",
  "ttl",
  "expiry",
  "expires",
  "version",
  "count",
  "policy",
  "url",
  "uri",
  "endpoint",
  "format",
  "field",
  "validation",
  "check",
  "checks",
  "mode",
  "rotation",
]);
/** A key starting with one of these is a switch or a bound about a secret: skipCredentialsValidation, maxTokenAge. */
const DESCRIPTIVE_HEADS = new Set(["skip", "use", "enable", "disable", "require", "allow", "verify", "max", "min", "automount", "rotate"]);
/** A digest of a secret is not the secret (checksum/secret annotations roll pods when it changes). */
const DIGEST_WORDS = new Set(["checksum", "hash", "digest", "sha", "sha1", "sha256", "sha512", "fingerprint"]);

/** Splits camelCase, snake_case, kebab-case, dotted and slashed keys into lower-case words. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "")
    .map((w) => w.toLowerCase());
}

export function looksSecret(key: string): boolean {
  const words = keyWords(key);
  if (words.length === 0) return false;
  if (words.some((w) => DIGEST_WORDS.has(w))) return false;
  if (DESCRIPTIVE_TAILS.has(words[words.length - 1]) || DESCRIPTIVE_HEADS.has(words[0])) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  return words.some((w, i) => w === "key" && i > 0 && KEY_QUALIFIERS.has(words[i - 1]));
}

/** postgres://user:password@host/db and the like: a URL that carries its own password. */
export function hasUrlCredentials(value: string): boolean {
  return /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(value);
}

/** `--password=...`, `-token=...` as a command-line argument. */
export function isSecretFlag(value: string): boolean {
  const match = /^--?([A-Za-z0-9_.-]+)=(.+)$/.exec(value);
  return match !== null && looksSecret(match[1]);
}
