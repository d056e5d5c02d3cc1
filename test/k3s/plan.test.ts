/**
 * The k3s part of the offline plan (Pulumi mocks, no cloud): the tls resources match the PKI specs that
 * pki.test.ts proves with real X.509, the nodes get #cloud-config user data as secrets, and the Kubernetes
 * provider depends on the readiness gate, which depends on every instance.
 */
import { parse as parseYaml } from "yaml";
import { MOCK_FLOATING_IP } from "../../scripts/plan";
import { cachedPlan } from "../support/plan-cache";
import { K3S_CONFIG_PATH } from "../../infra/k3s/k3s-config";
import { adminCertSpec, k3sCaSpecs } from "../../infra/k3s/pki-spec";
import { K3S_SERVER_TLS_DIR } from "../../infra/k3s/server-tls";
import { AGENT_SERVER_CA_PATH, K3sCloudConfig } from "../../infra/k3s/user-data";
import { byName, ofType, Plan } from "../support/plan";

const T = {
  key: "tls:index/privateKey:PrivateKey",
  selfSigned: "tls:index/selfSignedCert:SelfSignedCert",
  signed: "tls:index/locallySignedCert:LocallySignedCert",
  csr: "tls:index/certRequest:CertRequest",
  password: "random:index/randomPassword:RandomPassword",
  instance: "openstack:compute/instance:Instance",
  readiness: "pulumi-nodejs:dynamic/image-pipeline:K3sReadiness",
  k8sProvider: "pulumi:providers:kubernetes",
};
const PKI = "k3s-bootstrap-pki";
const SECRET = "[secret]";

let plan: Plan;
let shown: Plan;
beforeAll(async () => {
  // Sequential: the Pulumi runtime is process-global.
  plan = await cachedPlan("dev");
  shown = await cachedPlan("dev", { showSecrets: true });
});

/** Instances in node order (registration order follows when their inputs resolve, not the node number). */
const instances = (p: Plan) => ofType(p, T.instance).sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
const prefix = () => String((plan.outputs.nodeNames as string[])[0]).replace(/-node1$/, "");

describe("dev plan: k3s", () => {
  test("declares every CA of the spec, each with its own key, as the spec says", () => {
    for (const spec of k3sCaSpecs(prefix())) {
      const key = byName(plan, `${PKI}-${spec.id}-ca-key`);
      expect(key.type).toBe(T.key);
      expect(key.inputs).toEqual(
        spec.key.algorithm === "ECDSA"
          ? { algorithm: "ECDSA", ecdsaCurve: spec.key.ecdsaCurve }
          : { algorithm: "RSA", rsaBits: spec.key.rsaBits },
      );
      const cert = byName(plan, `${PKI}-${spec.id}-ca`);
      expect(cert.type).toBe(spec.issuer === undefined ? T.selfSigned : T.signed);
      expect(cert.inputs).toMatchObject({
        allowedUses: [...spec.allowedUses],
        isCaCertificate: true,
        validityPeriodHours: spec.validityHours,
        setSubjectKeyId: true,
      });
      expect(cert.inputs.earlyRenewalHours).toBeUndefined();
      if (spec.issuer === undefined) {
        expect(cert.inputs).toMatchObject({ subject: { commonName: spec.commonName }, setAuthorityKeyId: true, privateKeyPem: SECRET });
      } else {
        expect(byName(plan, `${PKI}-${spec.id}-ca-csr`).inputs).toMatchObject({ subject: { commonName: spec.commonName } });
        // Signed by its issuer: certificate and key of the issuing CA are inputs.
        expect(cert.dependsOn).toEqual(expect.arrayContaining([`${PKI}-${spec.issuer}-ca`, `${PKI}-${spec.issuer}-ca-key`]));
        expect(cert.inputs.caPrivateKeyPem).toBe(SECRET);
      }
    }
    expect(ofType(plan, T.selfSigned).map((r) => r.name)).toEqual([`${PKI}-root-ca`]);
  });

  test("declares the admin certificate: signed by client-ca, O=system:masters, renewed early", () => {
    const spec = adminCertSpec(prefix());
    expect(byName(plan, `${PKI}-admin-csr`).inputs.subject).toEqual({ commonName: spec.commonName, organization: "system:masters" });
    const admin = byName(plan, `${PKI}-admin`);
    expect(admin.type).toBe(T.signed);
    expect(admin.dependsOn).toEqual(expect.arrayContaining([`${PKI}-client-ca`, `${PKI}-client-ca-key`]));
    expect(admin.inputs).toMatchObject({
      allowedUses: ["digital_signature", "key_encipherment", "client_auth"],
      isCaCertificate: false,
      earlyRenewalHours: spec.earlyRenewalHours,
    });
    expect(byName(plan, `${PKI}-service-account-key`).inputs).toEqual({ algorithm: "RSA", rsaBits: 2048 });
  });

  test("declares the server and agent join-token passwords: two, long and alphanumeric", () => {
    expect(byName(plan, "k3s-bootstrap-join-password")).toMatchObject({ type: T.password, inputs: { length: 48, special: false } });
    expect(byName(plan, "k3s-bootstrap-agent-join-password")).toMatchObject({ type: T.password, inputs: { length: 48, special: false } });
  });

  test("gives every instance #cloud-config user data, kept secret in the plan and state", () => {
    expect(instances(plan)).toHaveLength(3);
    for (const i of instances(plan)) expect(i.inputs.userData).toBe(SECRET);
    const docs = instances(shown).map((i) => String(i.inputs.userData));
    for (const d of docs) expect(d.startsWith("#cloud-config\n")).toBe(true);
  });

  test("node1's user data carries the floating IP in tls-san and the CA set; agents point at node1 with the agent token only", () => {
    const [server, ...agents] = instances(shown).map((i) => parseYaml(String(i.inputs.userData)) as K3sCloudConfig);
    const serverConfig = parseYaml(server.write_files.find((f) => f.path === K3S_CONFIG_PATH)?.content ?? "") as Record<string, unknown>;
    expect(serverConfig["tls-san"]).toEqual([MOCK_FLOATING_IP, "192.168.1.11"]);
    expect(server.write_files.filter((f) => f.path.startsWith(K3S_SERVER_TLS_DIR))).toHaveLength(11);
    const serverCa = server.write_files.find((f) => f.path === `${K3S_SERVER_TLS_DIR}/server-ca.crt`)?.content;
    expect(agents).toHaveLength(2);
    for (const [n, agent] of agents.entries()) {
      const config = parseYaml(agent.write_files.find((f) => f.path === K3S_CONFIG_PATH)?.content ?? "") as Record<string, unknown>;
      expect(config).toMatchObject({ server: "https://192.168.1.11:6443", "node-ip": `192.168.1.1${n + 2}` });
      // Agents join with the agent token (user node); the server token, which can fetch the CA keys, is not there.
      expect(String(config.token)).toMatch(/^K10[0-9a-f]{64}::node:/);
      expect(String(config.token)).toBe(`${String(serverConfig.token).split("::")[0]}::node:${String(serverConfig["agent-token"])}`);
      const serverPassword = String(serverConfig.token).split("::server:")[1];
      expect(serverPassword.length).toBeGreaterThan(0);
      expect(serverPassword).not.toBe(serverConfig["agent-token"]);
      const agentText = String(instances(shown)[n + 1].inputs.userData);
      expect(agentText).not.toContain(serverPassword);
      expect(agentText).not.toMatch(/PRIVATE KEY/);
      expect(agent.write_files.find((f) => f.path === AGENT_SERVER_CA_PATH)?.content).toBe(serverCa);
    }
  });

  test("the readiness gate waits for every instance and checks the floating IP over mTLS", () => {
    const gate = byName(plan, "k3s-readiness");
    expect(gate.type).toBe(T.readiness);
    expect(gate.parent).toBe("k3s");
    expect(gate.dependsOn).toEqual(expect.arrayContaining(instances(plan).map((i) => i.name)));
    expect(gate.inputs).toMatchObject({
      server: `https://${MOCK_FLOATING_IP}:6443`,
      expectedNodes: 3,
      timeoutSeconds: 1200,
      clientKeyPem: SECRET,
    });
    expect(gate.inputs.nodeIds).toEqual(instances(plan).map((i) => `${i.name}-id`));
  });

  test("the Kubernetes provider depends on the gate, uses the secret kubeconfig and a clusterIdentifier of the PKI and node1", () => {
    const provider = byName(plan, "k3s-provider");
    expect(provider.type).toBe(T.k8sProvider);
    expect(provider.dependsOn).toContain("k3s-readiness");
    expect(provider.inputs.kubeconfig).toBe(SECRET);
    // node1's disk holds the datastore: another node1 instance is another (empty) cluster, so another identity.
    const node1 = instances(plan)[0];
    expect(String(provider.inputs.clusterIdentifier)).toMatch(new RegExp(`^${prefix()}-[0-9a-f]{16}-${node1.name}-id$`));
  });

  test("the provider leaves deleteUnreachable unset, so a refresh that cannot reach the API never empties the state", () => {
    // pulumi-kubernetes reads the provider argument first and the PULUMI_K8S_DELETE_UNREACHABLE variable only when
    // the argument is absent (provider.go, Configure): absent, the variable stays usable for a cluster that is gone.
    expect(Object.keys(byName(plan, "k3s-provider").inputs)).not.toContain("deleteUnreachable");
  });

  test("ConfigMap and Secret data change in place (no delete-then-create with the same name)", () => {
    expect(byName(plan, "k3s-provider").inputs).toMatchObject({ enableConfigMapMutable: "true", enableSecretMutable: "true" });
  });

  test("the gate waits for node1's floating-IP association, the address it polls", () => {
    expect(byName(plan, "k3s-readiness").dependsOn).toContain("network-floating-ip-node1");
  });

  test("exports the kubeconfig as a secret stack output pointing at the floating IP", () => {
    expect(plan.outputs.kubeconfig).toBe(SECRET);
    const kc = parseYaml(String(shown.outputs.kubeconfig)) as {
      clusters: { cluster: { server: string } }[];
      users: { user: Record<string, string> }[];
    };
    expect(kc.clusters[0].cluster.server).toBe(`https://${MOCK_FLOATING_IP}:6443`);
    expect(Object.keys(kc.users[0].user).sort()).toEqual(["client-certificate-data", "client-key-data"]);
  });
});
