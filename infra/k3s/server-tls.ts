/**
 * The files k3s reads from /var/lib/rancher/k3s/server/tls on its first start instead of generating its own
 * CAs. Each leaf CA's `.crt` is the bundle leaf + intermediate + root, as k3s's custom-CA script writes it:
 * clients that trust server-ca.crt then carry the whole chain, and k3s derives the join-token hash from its root.
 * The root and intermediate private keys never leave Pulumi state; they are only needed for a CA rotation.
 */
import { LEAF_CA_FILES, LeafCaId } from "./pki-spec";
import { pemBundle } from "./pem";

export const K3S_SERVER_TLS_DIR = "/var/lib/rancher/k3s/server/tls";

export interface CaKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ServerTlsMaterial {
  readonly rootCertPem: string;
  readonly intermediateCertPem: string;
  readonly leafCas: Readonly<Record<LeafCaId, CaKeyPair>>;
  readonly serviceAccountKeyPem: string;
}

export type FileMode = "0600" | "0644" | "0700";

export interface TlsFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: FileMode;
}

/** The chain a client needs to verify a certificate issued by `leaf`. */
export function caChainBundle(material: ServerTlsMaterial, leaf: LeafCaId): string {
  return pemBundle(material.leafCas[leaf].certPem, material.intermediateCertPem, material.rootCertPem);
}

/** The CA bundle that verifies the API server's serving certificate (kubeconfig, agents). */
export function serverCaBundle(material: ServerTlsMaterial): string {
  return caChainBundle(material, "server");
}

export function serverTlsFiles(material: ServerTlsMaterial): TlsFile[] {
  const files: TlsFile[] = [];
  for (const { id, file } of LEAF_CA_FILES) {
    files.push({ path: `${K3S_SERVER_TLS_DIR}/${file}.crt`, content: caChainBundle(material, id), permissions: "0644" });
    files.push({ path: `${K3S_SERVER_TLS_DIR}/${file}.key`, content: pemBundle(material.leafCas[id].keyPem), permissions: "0600" });
  }
  files.push({ path: `${K3S_SERVER_TLS_DIR}/service.key`, content: pemBundle(material.serviceAccountKeyPem), permissions: "0600" });
  return files;
}
