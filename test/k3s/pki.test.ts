/**
 * The PKI construction checked with real X.509: the specs the Pulumi component uses are issued with real keys
 * through openssl (test/k3s/support/openssl-pki.ts), then inspected with Node's crypto.X509Certificate and
 * `openssl verify`. The join token is checked against a re-implementation of k3s's own CA-hash rule.
 */
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { caHash, secureJoinToken } from "../../infra/k3s/join-token";
import { serverConfig } from "../../infra/k3s/k3s-config";
import { pemBlocks } from "../../infra/k3s/pem";
import { ADMIN_CERT_VALIDITY_HOURS, CA_VALIDITY_HOURS, k3sCaSpecs, LEAF_CA_FILES, ROOT_CA_VALIDITY_HOURS } from "../../infra/k3s/pki-spec";
import { K3S_SERVER_TLS_DIR, serverCaBundle, serverTlsFiles } from "../../infra/k3s/server-tls";
import { buildPkiWithOpenssl, issue, keyIdentifiers, openssl, OpensslPki } from "./support/openssl-pki";

const CLUSTER = "ip-test";
const CLIENT_AUTH_OID = "1.3.6.1.5.5.7.3.2";
const SERVER_AUTH_OID = "1.3.6.1.5.5.7.3.1";
const HOUR_MS = 3600 * 1000;

let pki: OpensslPki;
beforeAll(() => {
  pki = buildPkiWithOpenssl(CLUSTER);
});
afterAll(() => fs.rmSync(pki.dir, { recursive: true, force: true }));

const x509 = (pem: string) => new X509Certificate(pem);
const lifetimeHours = (c: X509Certificate) => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / HOUR_MS;

function verifyChain(leafPem: string, chainPems: string[], purpose?: string): string {
  const ca = path.join(pki.dir, `verify-${Math.random().toString(16).slice(2)}.pem`);
  fs.writeFileSync(ca, chainPems.join(""));
  return openssl(["verify", "-CAfile", ca, ...(purpose ? ["-purpose", purpose] : []), "-verbose"], leafPem).trim();
}

/** k3s's hashCA (pkg/clientaccess/token.go): for a bundle, hash the DER of the root its first certificate chains to. */
function k3sBundleHash(bundle: string): string {
  const certs = pemBlocks(bundle)
    .filter((b) => b.label === "CERTIFICATE")
    .map((b) => b.text);
  if (certs.length === 1) return createHash("sha256").update(bundle).digest("hex");
  const roots = certs.slice(1).filter((pem) => {
    const { ski, aki } = keyIdentifiers(pem);
    return aki === "" || aki === ski;
  });
  const intermediates = certs.slice(1).filter((pem) => !roots.includes(pem));
  let current = x509(certs[0]);
  for (let depth = 0; depth < 5; depth++) {
    const root = roots.map(x509).find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root) return createHash("sha256").update(root.raw).digest("hex");
    const next = intermediates.map(x509).find((i) => current.checkIssued(i) && current.verify(i.publicKey));
    if (!next) break;
    current = next;
  }
  throw new Error("bundle does not chain to a root");
}

describe("k3s CA set", () => {
  test("every CA is a CA with keyCertSign, chained root → intermediate → leaf CAs as k3s's script builds it", () => {
    const root = x509(pki.cas.root.certPem);
    const intermediate = x509(pki.cas.intermediate.certPem);
    expect(root.ca).toBe(true);
    expect(root.checkIssued(root) && root.verify(root.publicKey)).toBe(true);
    expect(intermediate.ca).toBe(true);
    expect(intermediate.checkIssued(root) && intermediate.verify(root.publicKey)).toBe(true);
    expect(intermediate.checkIssued(intermediate)).toBe(false);

    for (const { id } of LEAF_CA_FILES) {
      const leaf = x509(pki.cas[id].certPem);
      expect(leaf.ca).toBe(true);
      expect(leaf.subject).toBe(`CN=${CLUSTER}-${id}-ca`);
      expect(leaf.checkIssued(intermediate) && leaf.verify(intermediate.publicKey)).toBe(true);
      expect(leaf.verify(root.publicKey)).toBe(false);
      expect(leaf.publicKey.asymmetricKeyType).toBe("ec");
      expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
      expect(verifyChain(pki.cas[id].certPem, [pki.cas.intermediate.certPem, pki.cas.root.certPem])).toBe("stdin: OK");
      expect(openssl(["x509", "-noout", "-ext", "keyUsage"], pki.cas[id].certPem)).toMatch(/Certificate Sign/);
    }
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
    expect(intermediate.publicKey.asymmetricKeyDetails?.namedCurve).toBe("secp384r1");
  });

  test("lifetimes follow the spec: 20-year root, ~10-year CAs, 1-year admin certificate", () => {
    expect(lifetimeHours(x509(pki.cas.root.certPem))).toBe(ROOT_CA_VALIDITY_HOURS);
    expect(lifetimeHours(x509(pki.cas.server.certPem))).toBe(CA_VALIDITY_HOURS);
    expect(lifetimeHours(x509(pki.admin.certPem))).toBe(ADMIN_CERT_VALIDITY_HOURS);
  });

  test("the root is recognisable as a root by its key identifiers, the intermediate is not", () => {
    const root = keyIdentifiers(pki.cas.root.certPem);
    const intermediate = keyIdentifiers(pki.cas.intermediate.certPem);
    expect(root.ski).not.toBe("");
    expect(root.aki).toBe(root.ski);
    expect(intermediate.aki).toBe(root.ski);
    expect(intermediate.aki).not.toBe(intermediate.ski);
  });

  test("specs list issuers before what they sign and give every CA a distinct name", () => {
    const specs = k3sCaSpecs(CLUSTER);
    specs.forEach((spec, i) => {
      if (spec.issuer) expect(specs.slice(0, i).map((s) => s.id)).toContain(spec.issuer);
    });
    expect(new Set(specs.map((s) => s.commonName)).size).toBe(specs.length);
    expect(() => k3sCaSpecs("Bad Name")).toThrow(/cluster name "Bad Name" must start with a letter/);
  });
});

describe("admin client certificate", () => {
  test("is signed by client-ca, carries O=system:masters and clientAuth, and is not a CA", () => {
    const admin = x509(pki.admin.certPem);
    const clientCa = x509(pki.cas.client.certPem);
    expect(admin.ca).toBe(false);
    expect(admin.checkIssued(clientCa) && admin.verify(clientCa.publicKey)).toBe(true);
    expect(admin.subject.split("\n")).toEqual([`CN=${CLUSTER}-admin`, "O=system:masters"]);
    expect(admin.keyUsage).toEqual([CLIENT_AUTH_OID]);
    expect(verifyChain(pki.admin.certPem, [pki.cas.client.certPem, pki.cas.intermediate.certPem, pki.cas.root.certPem], "sslclient")).toBe(
      "stdin: OK",
    );
  });

  test("does not verify against server-ca: client and server trust are separate", () => {
    expect(() => verifyChain(pki.admin.certPem, [pki.cas.server.certPem, pki.cas.intermediate.certPem, pki.cas.root.certPem])).toThrow(
      /unable to get local issuer certificate/,
    );
  });
});

describe("server TLS files", () => {
  test("are exactly k3s's documented custom-CA set, keys 0600, certificates 0644", () => {
    const files = serverTlsFiles(pki.material);
    expect(files.map((f) => `${f.path.slice(K3S_SERVER_TLS_DIR.length + 1)} ${f.permissions}`).sort()).toEqual(
      [
        "client-ca.crt 0644",
        "client-ca.key 0600",
        "etcd/peer-ca.crt 0644",
        "etcd/peer-ca.key 0600",
        "etcd/server-ca.crt 0644",
        "etcd/server-ca.key 0600",
        "request-header-ca.crt 0644",
        "request-header-ca.key 0600",
        "server-ca.crt 0644",
        "server-ca.key 0600",
        "service.key 0600",
      ].sort(),
    );
  });

  test("each .crt is the bundle leaf + intermediate + root and each .key matches its certificate", () => {
    const files = new Map(serverTlsFiles(pki.material).map((f) => [f.path, f.content]));
    for (const { id, file } of LEAF_CA_FILES) {
      const bundle = files.get(`${K3S_SERVER_TLS_DIR}/${file}.crt`) ?? "";
      const subjects = pemBlocks(bundle).map((b) => x509(b.text).subject);
      expect(subjects).toEqual([`CN=${CLUSTER}-${id}-ca`, `CN=${CLUSTER}-intermediate-ca`, `CN=${CLUSTER}-root-ca`]);
      const key = createPrivateKey(files.get(`${K3S_SERVER_TLS_DIR}/${file}.key`) ?? "");
      const certKey = x509(bundle).publicKey.export({ type: "spki", format: "der" });
      expect(createPublicKey(key).export({ type: "spki", format: "der" }).equals(certKey)).toBe(true);
    }
    const serviceKey = createPrivateKey(files.get(`${K3S_SERVER_TLS_DIR}/service.key`) ?? "");
    expect(serviceKey.asymmetricKeyType).toBe("rsa");
    expect(serviceKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  test("never ship the root or intermediate private keys to a node", () => {
    const everything = serverTlsFiles(pki.material)
      .map((f) => f.content)
      .join("");
    expect(everything).not.toContain(pki.cas.root.keyPem.trim());
    expect(everything).not.toContain(pki.cas.intermediate.keyPem.trim());
  });

  test("a serving certificate k3s issues from server-ca for the configured tls-san verifies for the floating IP and node1", () => {
    const floatingIp = "203.0.113.10";
    const sans = serverConfig({ token: "t", agentTokenPassword: "a", nodeIp: "192.168.1.11", floatingIp })["tls-san"];
    expect(sans).toEqual([floatingIp, "192.168.1.11"]);
    // k3s signs its serving certificate with server-ca.key; do the same with the tls-san list.
    const serving = issue(
      pki.dir,
      "serving",
      {
        commonName: "k3s",
        key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        isCa: false,
        validityHours: 24,
      },
      pki.cas.server,
      { ips: sans, dns: ["kubernetes", "localhost"] },
    );
    const cert = x509(serving.certPem);
    expect(cert.checkIP(floatingIp)).toBe(floatingIp);
    expect(cert.checkIP("192.168.1.11")).toBe("192.168.1.11");
    expect(cert.checkIP("198.51.100.7")).toBeUndefined();
    expect(cert.keyUsage).toEqual([SERVER_AUTH_OID]);
    expect(verifyChain(serving.certPem, [serverCaBundle(pki.material)], "sslserver")).toBe("stdin: OK");
  });
});

describe("secure join token", () => {
  const password = "a".repeat(20) + "B0c1D2e3F4g5H6i7";

  test("is K10<sha256 of the root's DER>::server:<password>", () => {
    const token = secureJoinToken(pki.cas.root.certPem, password);
    const fingerprint = x509(pki.cas.root.certPem).fingerprint256.replace(/:/g, "").toLowerCase();
    expect(token).toBe(`K10${fingerprint}::server:${password}`);
    expect(caHash(pki.cas.root.certPem)).toBe(createHash("sha256").update(x509(pki.cas.root.certPem).raw).digest("hex"));
  });

  test("matches the hash k3s computes from the server-ca.crt bundle an agent downloads from /cacerts", () => {
    const bundle = serverCaBundle(pki.material);
    const expected = k3sBundleHash(bundle);
    expect(caHash(pki.cas.root.certPem)).toBe(expected);
    // A single-certificate hash over the file bytes would be the self-signed-CA rule, which does not apply here.
    expect(expected).not.toBe(createHash("sha256").update(bundle).digest("hex"));
  });

  test("changes when the root changes, not when a leaf CA is re-issued", () => {
    const otherRoot = issue(pki.dir, "other-root", k3sCaSpecs("ip-other")[0]);
    expect(caHash(otherRoot.certPem)).not.toBe(caHash(pki.cas.root.certPem));
    const reissuedServerCa = issue(pki.dir, "server-ca-2", k3sCaSpecs(CLUSTER)[2], pki.cas.intermediate);
    const bundle = [reissuedServerCa.certPem, pki.cas.intermediate.certPem, pki.cas.root.certPem].join("");
    expect(k3sBundleHash(bundle)).toBe(caHash(pki.cas.root.certPem));
  });

  test("rejects passwords that would break k3s's token parsing", () => {
    expect(() => secureJoinToken(pki.cas.root.certPem, "short")).toThrow(/at least 32 characters/);
    expect(() => secureJoinToken(pki.cas.root.certPem, `${"x".repeat(32)}:y`)).toThrow(/join-token password/);
    expect(() => secureJoinToken("not a certificate", password)).toThrow(/the k3s root CA certificate is not a PEM certificate/);
  });
});
