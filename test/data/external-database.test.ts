/**
 * An external DBaaS (CSC Pukki) in the offline plan: made with its own provider, public only to the addresses the
 * cluster's traffic leaves from (derived from the program's own resources), and verified over TLS by the pods.
 */
import { parseStackConfig } from "../../infra/config";
import { MOCK_DBAAS_PUBLIC_ADDRESS, MOCK_FLOATING_IP, MOCK_ROUTER_GATEWAY_IP, planStack } from "../../scripts/plan";
import { STAND_IN_DBAAS_CA } from "../../scripts/plan-stand-ins";
import { configProblems, mapSource, stackValues } from "../support/configSource";
import type { Plan } from "../support/plan";
import { byName, ofType } from "../support/plan";

const T = {
  provider: "pulumi:providers:openstack",
  trove: "openstack:database/instance:Instance",
  access: "pulumi-nodejs:dynamic/image-pipeline:TroveInstanceAccess",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  deployment: "kubernetes:apps/v1:Deployment",
};

let prod: Plan;
beforeAll(async () => {
  prod = await planStack("prod", { showSecrets: true });
}, 120_000);

test("the instance is made by Pukki's own provider, from its clouds.yaml entry, on no network of this stack", () => {
  expect(ofType(prod, T.provider).map((p) => [p.name, p.inputs.cloud])).toEqual([
    ["openstack", "csc-cpouta"],
    ["openstack-dbaas", "csc-pukki"],
  ]);
  const [trove] = ofType(prod, T.trove);
  expect(trove.provider).toBe("openstack-dbaas");
  expect(trove.inputs.networks).toBeUndefined();
  // Nothing but the instance uses the DBaaS's provider; its access goes through Trove's API with the same entry.
  expect(prod.resources.filter((r) => r.provider === "openstack-dbaas").map((r) => r.name)).toEqual(["database-trove"]);
});

test("the instance is public only to node1's floating IP and the router's gateway address, both /32", () => {
  const [access] = ofType(prod, T.access);
  expect(access.parent).toBe("database");
  expect(access.inputs).toMatchObject({
    auth: { cloud: "csc-pukki" },
    instanceId: "database-trove-id",
    instanceName: "ip-prod-db",
    isPublic: true,
    allowedCidrs: [`${MOCK_ROUTER_GATEWAY_IP}/32`, `${MOCK_FLOATING_IP}/32`],
  });
  expect(access.dependsOn).toEqual(expect.arrayContaining(["database-trove", "network-floating-ip"]));
  expect(JSON.stringify(access.inputs)).not.toContain("0.0.0.0/0");
});

test("the pods connect to the public address with TLS, verifying the server against the configured CA", () => {
  expect(prod.outputs.databaseHost).toBe(MOCK_DBAAS_PUBLIC_ADDRESS);
  const secret = ofType(prod, T.secret).find((s) => (s.inputs.stringData as Record<string, string> | undefined)?.DATABASE_URL);
  const url = new URL((secret?.inputs.stringData as Record<string, string>).DATABASE_URL);
  expect(url.hostname).toBe(MOCK_DBAAS_PUBLIC_ADDRESS);
  expect(url.searchParams.get("sslmode")).toBe("verify-full");
  expect(url.searchParams.get("sslrootcert")).toBe("/etc/image-pipeline/database-ca/ca.crt");
  const ca = byName(prod, "workload-database-ca");
  expect(ca.type).toBe(T.configMap);
  expect(ca.inputs.data).toEqual({ "ca.crt": STAND_IN_DBAAS_CA.trim() });
  for (const d of ofType(prod, T.deployment)) {
    const spec = (d.inputs.spec as { template: { spec: { volumes: { name: string }[] } } }).template.spec;
    expect(spec.volumes.map((v) => v.name)).toContain("database-ca");
  }
});

test("the offline plan says which operator settings it stood in for", () => {
  expect(prod.standIns).toContain("troveCaCertificate");
});

describe("config", () => {
  const problems = (overrides: Record<string, string | undefined>) =>
    configProblems(() => parseStackConfig(mapSource(stackValues("prod", overrides)), "prod"));

  test("an external DBaaS needs the CA of its server certificates, and it must parse as X.509", () => {
    expect(problems({ troveCaCertificate: undefined })).toEqual([
      expect.stringMatching(
        /^image-pipeline:troveCaCertificate: is required with troveCloud: the pods verify the database server over TLS\. Fix: pulumi config set troveCaCertificate < /,
      ),
    ]);
    expect(problems({ troveCaCertificate: "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----" })).toEqual([
      expect.stringMatching(/^image-pipeline:troveCaCertificate: certificate 1 does not parse/),
    ]);
    expect(problems({ troveCaCertificate: "ca.pem" })).toEqual([
      expect.stringMatching(/^image-pipeline:troveCaCertificate: is not a PEM certificate/),
    ]);
  });

  test("the CA and region only apply to an external DBaaS; troveCloud must not be the compute cloud", () => {
    expect(problems({ troveCloud: undefined, troveRegion: "pukki_dbaas" })).toEqual([
      expect.stringMatching(/^image-pipeline:troveCaCertificate: only applies to an external DBaaS/),
      expect.stringMatching(/^image-pipeline:troveRegion: only applies with troveCloud/),
    ]);
    expect(problems({ troveCloud: "csc-cpouta" })).toEqual([
      expect.stringMatching(/^image-pipeline:troveCloud: names the compute cloud \(csc-cpouta\)/),
    ]);
  });
});
