/**
 * The k3s certificate authorities as data, following k3s's `contrib/util/generate-custom-ca-certs.sh`:
 *
 *   root-ca (self-signed, 20 years)
 *   └─ intermediate-ca
 *      ├─ server-ca          ├─ client-ca          ├─ request-header-ca
 *      ├─ etcd/peer-ca       └─ etcd/server-ca     (ECDSA P-256 each)
 *
 * One deliberate difference: root and intermediate use ECDSA P-384 instead of the script's RSA 4096. Every
 * `.crt` bundle on node1 repeats both, and with RSA 4096 the server's user data fills three quarters of
 * Nova's 64 KiB limit; P-384 keeps the same strength class at a fifth of the size.
 *
 * plus `service.key` (the service-account signing key) and the operator's admin client certificate, signed by
 * client-ca with O=system:masters. The Pulumi component (`pki.ts`) and the tests' openssl re-construction both
 * read these specs, so what the tests prove about the chain is what `pulumi up` builds.
 */

export type KeySpec =
  | { readonly algorithm: "RSA"; readonly rsaBits: 2048 | 4096 }
  | { readonly algorithm: "ECDSA"; readonly ecdsaCurve: "P256" | "P384" };

/** The `allowed_uses` vocabulary of the tls provider (RFC 5280 key usages and extended key usages). */
export type AllowedUse = "digital_signature" | "key_encipherment" | "cert_signing" | "crl_signing" | "server_auth" | "client_auth";

export type LeafCaId = "server" | "client" | "request-header" | "etcd-peer" | "etcd-server";
export type CaId = "root" | "intermediate" | LeafCaId;

export interface CertificateSpec {
  readonly commonName: string;
  readonly organization?: string;
  readonly key: KeySpec;
  readonly allowedUses: readonly AllowedUse[];
  readonly isCa: boolean;
  readonly validityHours: number;
  /** Hours before expiry from which `pulumi up` re-issues the certificate; unset for CAs (rotation is explicit). */
  readonly earlyRenewalHours?: number;
}

export interface CaSpec extends CertificateSpec {
  readonly id: CaId;
  /** The CA that signs this one; undefined for the self-signed root. */
  readonly issuer?: CaId;
}

export interface LeafCaFile {
  readonly id: LeafCaId;
  /** Path of the `.crt`/`.key` pair under /var/lib/rancher/k3s/server/tls, without extension. */
  readonly file: string;
}

const HOURS_PER_DAY = 24;
// The lifetimes k3s's own script uses: 7300 days for the root, 3700 for everything it signs.
export const ROOT_CA_VALIDITY_HOURS = 7300 * HOURS_PER_DAY;
export const CA_VALIDITY_HOURS = 3700 * HOURS_PER_DAY;
export const ADMIN_CERT_VALIDITY_HOURS = 365 * HOURS_PER_DAY;
/** The admin certificate is re-issued by the first `pulumi up` in its last 30 days; nodes are not touched. */
export const ADMIN_CERT_EARLY_RENEWAL_HOURS = 30 * HOURS_PER_DAY;

const P384: KeySpec = { algorithm: "ECDSA", ecdsaCurve: "P384" };
const P256: KeySpec = { algorithm: "ECDSA", ecdsaCurve: "P256" };
// The key usages k3s's script puts on every CA (keyCertSign is what makes a CA usable; the others match k3s).
const CA_USES: readonly AllowedUse[] = ["cert_signing", "digital_signature", "key_encipherment"];

export const LEAF_CA_FILES: readonly LeafCaFile[] = [
  { id: "server", file: "server-ca" },
  { id: "client", file: "client-ca" },
  { id: "request-header", file: "request-header-ca" },
  { id: "etcd-peer", file: "etcd/peer-ca" },
  { id: "etcd-server", file: "etcd/server-ca" },
];

/** Every CA in issuing order (an issuer always precedes what it signs). */
export function k3sCaSpecs(clusterName: string): CaSpec[] {
  assertClusterName(clusterName);
  const root: CaSpec = {
    id: "root",
    commonName: `${clusterName}-root-ca`,
    key: P384,
    allowedUses: CA_USES,
    isCa: true,
    validityHours: ROOT_CA_VALIDITY_HOURS,
  };
  const intermediate: CaSpec = {
    id: "intermediate",
    issuer: "root",
    commonName: `${clusterName}-intermediate-ca`,
    key: P384,
    allowedUses: CA_USES,
    isCa: true,
    validityHours: CA_VALIDITY_HOURS,
  };
  const leaves = LEAF_CA_FILES.map(
    ({ id }): CaSpec => ({
      id,
      issuer: "intermediate",
      commonName: `${clusterName}-${id}-ca`,
      key: P256,
      allowedUses: CA_USES,
      isCa: true,
      validityHours: CA_VALIDITY_HOURS,
    }),
  );
  return [root, intermediate, ...leaves];
}

/** The operator's client certificate: the API server maps O=system:masters to cluster-admin. */
export function adminCertSpec(clusterName: string): CertificateSpec {
  assertClusterName(clusterName);
  return {
    commonName: `${clusterName}-admin`,
    organization: "system:masters",
    key: P256,
    allowedUses: ["digital_signature", "key_encipherment", "client_auth"],
    isCa: false,
    validityHours: ADMIN_CERT_VALIDITY_HOURS,
    earlyRenewalHours: ADMIN_CERT_EARLY_RENEWAL_HOURS,
  };
}

/** service.key signs service-account tokens; k3s's script makes it RSA 2048. */
export const SERVICE_ACCOUNT_KEY: KeySpec = { algorithm: "RSA", rsaBits: 2048 };

function assertClusterName(clusterName: string): void {
  if (!/^[a-z][a-z0-9-]{0,50}$/.test(clusterName)) {
    throw new Error(
      `k3s cluster name "${clusterName}" must start with a letter and contain only lower-case letters, digits and "-" (it becomes certificate common names)`,
    );
  }
}
