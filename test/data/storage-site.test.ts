/**
 * The object store on another site than the compute (Chameleon: KVM@TACC has none, CHI@TACC has one, and each
 * site has its own Keystone): the EC2 credential is made by the storage site's own provider, and only it.
 */
import { planStack } from "../../scripts/plan";
import { cachedPlan } from "../support/plan-cache";
import { parseStackConfig } from "../../infra/config";
import { configProblems, mapSource, stackValues } from "../support/configSource";
import type { Plan } from "../support/plan";
import { ofType } from "../support/plan";

const EC2 = "openstack:identity/ec2CredentialV3:Ec2CredentialV3";
const OPENSTACK_PROVIDER = "pulumi:providers:openstack";

const plans: Record<string, Plan> = {};
beforeAll(async () => {
  // Sequential: the Pulumi runtime is process-global.
  plans.dev = await cachedPlan("dev");
  plans.devSameSite = await planStack("dev", { configOverrides: { "image-pipeline:storageCloud": "" } });
  plans.prod = await cachedPlan("prod");
}, 120_000);

test("dev: a second OpenStack provider from the storage site's clouds.yaml entry makes the EC2 credential", () => {
  const providers = ofType(plans.dev, OPENSTACK_PROVIDER);
  expect(providers.map((p) => [p.name, p.inputs.cloud])).toEqual([
    ["openstack", "chameleon-kvm-tacc"],
    ["openstack-storage", "chameleon-chi-tacc"],
  ]);
  const [credential] = ofType(plans.dev, EC2);
  expect(credential.provider).toBe("openstack-storage");
  expect(plans.dev.outputs.s3Endpoint).toBe("https://chi.tacc.chameleoncloud.org:7480");
});

test("dev: nothing but the EC2 credential uses the storage site's provider", () => {
  const users = plans.dev.resources.filter((r) => r.provider === "openstack-storage").map((r) => `${r.type} ${r.name}`);
  expect(users).toEqual([`${EC2} storage-ec2-credential`]);
  // Everything else OpenStack stays on the compute cloud.
  const openstackResources = plans.dev.resources.filter((r) => r.type.startsWith("openstack:") && r.type !== EC2);
  expect(openstackResources.length).toBeGreaterThan(10);
  expect(new Set(openstackResources.map((r) => r.provider))).toEqual(new Set(["openstack"]));
});

test("without storageCloud there is one provider, and it makes the credential (CSC: Allas shares cPouta's Keystone)", () => {
  for (const plan of [plans.devSameSite, plans.prod]) {
    expect(ofType(plan, OPENSTACK_PROVIDER).map((p) => p.name)).not.toContain("openstack-storage");
    expect(ofType(plan, EC2).map((c) => c.provider)).toEqual(["openstack"]);
  }
});

test("storageCloud only makes sense when the program creates the credential", () => {
  const values = stackValues("dev", {
    s3Credentials: "config",
    s3AccessKeyId: "AKIA",
    s3SecretAccessKey: "secret",
    s3PipelinePrincipal: "arn:aws:iam:::user/pipeline",
  });
  expect(configProblems(() => parseStackConfig(mapSource(values), "dev"))).toEqual([
    "image-pipeline:storageCloud: is set but s3Credentials is config: the storage site's cloud only creates EC2 credentials. Fix: pulumi config rm storageCloud, or pulumi config set s3Credentials openstack-ec2",
  ]);
});
