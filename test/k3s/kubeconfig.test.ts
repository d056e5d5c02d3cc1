/** The kubeconfig the program exports, built from real certificates (its use over mTLS is in readiness.test.ts). */
import { createPrivateKey, X509Certificate } from "crypto";
import * as fs from "fs";
import { parse as parseYaml } from "yaml";
import { Kubeconfig, renderKubeconfig } from "../../infra/k3s/kubeconfig";
import { pemBlocks } from "../../infra/k3s/pem";
import { serverCaBundle } from "../../infra/k3s/server-tls";
import { buildPkiWithOpenssl, OpensslPki } from "./support/openssl-pki";

let pki: OpensslPki;
beforeAll(() => {
  pki = buildPkiWithOpenssl("ip-kc");
});
afterAll(() => fs.rmSync(pki.dir, { recursive: true, force: true }));

const params = () => ({
  clusterName: "ip-kc",
  server: "https://203.0.113.10:6443",
  caBundlePem: serverCaBundle(pki.material),
  clientCertPem: pki.admin.certPem,
  clientKeyPem: pki.admin.keyPem,
});
const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

test("a v1 Config with one cluster, user and context, selected as current", () => {
  const kc = parseYaml(renderKubeconfig(params())) as Kubeconfig;
  expect(kc.apiVersion).toBe("v1");
  expect(kc.kind).toBe("Config");
  expect(kc["current-context"]).toBe("ip-kc");
  expect(kc.contexts).toEqual([{ name: "ip-kc", context: { cluster: "ip-kc", user: "ip-kc-admin" } }]);
  expect(kc.clusters.map((c) => [c.name, c.cluster.server])).toEqual([["ip-kc", "https://203.0.113.10:6443"]]);
  expect(kc.users.map((u) => u.name)).toEqual(["ip-kc-admin"]);
});

test("trusts the server-ca chain and authenticates as the system:masters admin", () => {
  const kc = parseYaml(renderKubeconfig(params())) as Kubeconfig;
  const ca = pemBlocks(decode(kc.clusters[0].cluster["certificate-authority-data"])).map((b) => new X509Certificate(b.text).subject);
  expect(ca).toEqual(["CN=ip-kc-server-ca", "CN=ip-kc-intermediate-ca", "CN=ip-kc-root-ca"]);
  const cert = new X509Certificate(decode(kc.users[0].user["client-certificate-data"]));
  expect(cert.subject).toContain("O=system:masters");
  const key = createPrivateKey(decode(kc.users[0].user["client-key-data"]));
  expect(cert.checkPrivateKey(key)).toBe(true);
});

test("refuses inputs that would produce a kubeconfig kubectl cannot use", () => {
  expect(() => renderKubeconfig({ ...params(), server: "203.0.113.10:6443" })).toThrow(
    'kubeconfig server must be https://<host>:<port> with no path, got "203.0.113.10:6443"',
  );
  expect(() => renderKubeconfig({ ...params(), caBundlePem: "" })).toThrow("kubeconfig CA bundle is not a PEM certificate");
  expect(() => renderKubeconfig({ ...params(), clientKeyPem: pki.admin.certPem })).toThrow(
    "kubeconfig client key is not a PEM private key",
  );
});
