/** Small PEM helpers shared by the PKI, the join token and the kubeconfig. No X.509 parsing happens here. */

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
  /** The block re-emitted in canonical form (LF line endings, trailing newline). */
  readonly text: string;
}

export function pemBlocks(pem: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of pem.matchAll(PEM_BLOCK)) {
    const body = match[2];
    blocks.push({
      label: match[1],
      der: Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ""), "base64"),
      text: `${match[0].replace(/\r\n/g, "\n")}\n`,
    });
  }
  return blocks;
}

/** The DER bytes of the first CERTIFICATE block; `what` names the value in the error. */
export function firstCertificateDer(pem: string, what: string): Buffer {
  const cert = pemBlocks(pem).find((b) => b.label === "CERTIFICATE");
  if (!cert || cert.der.length === 0) throw new Error(`${what} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block found)`);
  return cert.der;
}

/** Joins PEM documents into one bundle, one block per line group, each ending in a newline. */
export function pemBundle(...pems: string[]): string {
  return pems.map((p) => (p.endsWith("\n") ? p : `${p}\n`)).join("");
}
