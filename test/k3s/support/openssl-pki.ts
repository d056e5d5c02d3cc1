/**
 * Test-only: builds the k3s PKI from the same specs the Pulumi component uses, with real keys through the
 * openssl CLI, mapping each spec field the way the tls provider does (allowed_uses → keyUsage /
 * extendedKeyUsage, is_ca_certificate → basicConstraints, set_subject_key_id → SKI, AKI from the issuer).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  adminCertSpec,
  AllowedUse,
  CaId,
  CertificateSpec,
  k3sCaSpecs,
  KeySpec,
  LEAF_CA_FILES,
  LeafCaId,
  SERVICE_ACCOUNT_KEY,
} from "../../../infra/k3s/pki-spec";
import type { ServerTlsMaterial } from "../../../infra/k3s/server-tls";

export interface KeyAndCert {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface OpensslPki {
  readonly dir: string;
  readonly cas: Record<CaId, KeyAndCert>;
  readonly admin: KeyAndCert;
  readonly serviceAccountKeyPem: string;
  readonly material: ServerTlsMaterial;
}

const KEY_USAGE: Partial<Record<AllowedUse, string>> = {
  digital_signature: "digitalSignature",
  key_encipherment: "keyEncipherment",
  cert_signing: "keyCertSign",
  crl_signing: "cRLSign",
};
const EXTENDED_KEY_USAGE: Partial<Record<AllowedUse, string>> = { server_auth: "serverAuth", client_auth: "clientAuth" };

export function openssl(args: string[], input?: string): string {
  return execFileSync("openssl", args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

function generateKey(key: KeySpec, file: string): string {
  if (key.algorithm === "RSA") {
    // -traditional: PKCS#1 "RSA PRIVATE KEY", the encoding the tls provider's private_key_pem has.
    openssl(["genrsa", "-traditional", "-out", file, String(key.rsaBits)]);
  } else {
    const curve = { P256: "prime256v1", P384: "secp384r1" }[key.ecdsaCurve];
    openssl(["ecparam", "-name", curve, "-genkey", "-noout", "-out", file]);
  }
  return fs.readFileSync(file, "utf8");
}

export interface SubjectAltNames {
  readonly ips?: string[];
  readonly dns?: string[];
}

function extensions(spec: CertificateSpec, sans: SubjectAltNames): string {
  const keyUsage = spec.allowedUses.map((u) => KEY_USAGE[u]).filter(Boolean);
  const extKeyUsage = spec.allowedUses.map((u) => EXTENDED_KEY_USAGE[u]).filter(Boolean);
  const altNames = [...(sans.ips ?? []).map((ip) => `IP:${ip}`), ...(sans.dns ?? []).map((d) => `DNS:${d}`)];
  return [
    "[ext]",
    `basicConstraints = critical, CA:${spec.isCa ? "TRUE" : "FALSE"}`,
    ...(keyUsage.length ? [`keyUsage = critical, ${keyUsage.join(", ")}`] : []),
    ...(extKeyUsage.length ? [`extendedKeyUsage = ${extKeyUsage.join(", ")}`] : []),
    "subjectKeyIdentifier = hash",
    // Self-signed: AKI = SKI (set_authority_key_id); signed: the issuer's SKI, as Go's x509 fills it in.
    "authorityKeyIdentifier = keyid:always",
    ...(altNames.length ? [`subjectAltName = ${altNames.join(", ")}`] : []),
    "",
  ].join("\n");
}

function subjectArg(spec: CertificateSpec): string {
  return `/CN=${spec.commonName}${spec.organization ? `/O=${spec.organization}` : ""}`;
}

/** Issues one certificate for `spec`, self-signed without an issuer. */
export function issue(dir: string, name: string, spec: CertificateSpec, issuer?: KeyAndCert, sans: SubjectAltNames = {}): KeyAndCert {
  const base = path.join(dir, name.replace(/\//g, "-"));
  const keyPem = generateKey(spec.key, `${base}.key`);
  fs.writeFileSync(`${base}.ext`, extensions(spec, sans));
  const days = String(Math.ceil(spec.validityHours / 24));
  if (issuer === undefined) {
    openssl([
      "req",
      "-x509",
      "-new",
      "-key",
      `${base}.key`,
      "-subj",
      subjectArg(spec),
      "-days",
      days,
      "-sha256",
      "-config",
      `${base}.ext`,
      "-extensions",
      "ext",
      "-out",
      `${base}.crt`,
    ]);
  } else {
    fs.writeFileSync(`${base}.issuer.crt`, issuer.certPem);
    fs.writeFileSync(`${base}.issuer.key`, issuer.keyPem);
    openssl(["req", "-new", "-key", `${base}.key`, "-subj", subjectArg(spec), "-out", `${base}.csr`]);
    openssl([
      "x509",
      "-req",
      "-in",
      `${base}.csr`,
      "-CA",
      `${base}.issuer.crt`,
      "-CAkey",
      `${base}.issuer.key`,
      "-set_serial",
      `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`,
      "-days",
      days,
      "-sha256",
      "-extfile",
      `${base}.ext`,
      "-extensions",
      "ext",
      "-out",
      `${base}.crt`,
    ]);
  }
  return { certPem: fs.readFileSync(`${base}.crt`, "utf8"), keyPem };
}

/** The whole k3s PKI of `pki-spec.ts`, with real RSA/ECDSA keys. */
export function buildPkiWithOpenssl(clusterName: string): OpensslPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k3s-pki-"));
  const cas: Partial<Record<CaId, KeyAndCert>> = {};
  for (const spec of k3sCaSpecs(clusterName)) {
    cas[spec.id] = issue(dir, `${spec.id}-ca`, spec, spec.issuer === undefined ? undefined : cas[spec.issuer]);
  }
  const all = cas as Record<CaId, KeyAndCert>;
  const admin = issue(dir, "admin", adminCertSpec(clusterName), all.client);
  const serviceAccountKeyPem = generateKey(SERVICE_ACCOUNT_KEY, path.join(dir, "service.key"));
  const leafCas = Object.fromEntries(LEAF_CA_FILES.map(({ id }) => [id, all[id]])) as Record<LeafCaId, KeyAndCert>;
  return {
    dir,
    cas: all,
    admin,
    serviceAccountKeyPem,
    material: { rootCertPem: all.root.certPem, intermediateCertPem: all.intermediate.certPem, leafCas, serviceAccountKeyPem },
  };
}

/** The subject/authority key identifiers as openssl prints them ("" when absent). */
export function keyIdentifiers(certPem: string): { ski: string; aki: string } {
  const text = openssl(["x509", "-noout", "-ext", "subjectKeyIdentifier,authorityKeyIdentifier"], certPem);
  const ski = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(text)?.[1] ?? "";
  const aki = /Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1] ?? "";
  return { ski, aki };
}
