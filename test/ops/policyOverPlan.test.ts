/**
 * The policy pack over the offline plan of both stacks, with each stack's pack config: prod must pass every
 * mandatory policy; dev's findings are advisory and are exactly the ones its settings explain.
 */
import { evaluatePolicies, readPackConfig, type Finding } from "../../policy/offline";
import { policies } from "../../policy/policies";
import { OPENSTACK } from "../../policy/resourceTypes";
import { plainSecretPaths } from "../../policy/secrets/plaintextSecrets";
import { SECRET_PLACEHOLDER, planStack, type Plan } from "../../scripts/plan";

let plans: Record<"dev" | "prod", Plan>;
const findings: Record<string, Finding[]> = {};

beforeAll(async () => {
  // Sequentially: the Pulumi runtime is process-global.
  const dev = await planStack("dev");
  const prod = await planStack("prod");
  plans = { dev, prod };
  for (const stack of ["dev", "prod"] as const) {
    findings[stack] = await evaluatePolicies(plans[stack].resources, { stack, config: readPackConfig(stack) });
  }
}, 120_000);

const describeFinding = (f: Finding) => `${f.policy} ${f.enforcementLevel} ${f.resource ?? "(stack)"}: ${f.message}`;

test("the stack policy sees the ids the plan wires between resources (the mock id convention it assumes holds)", () => {
  const privateNetwork = plans.prod.resources.find((r) => r.type === OPENSTACK.network && r.name.endsWith("private"));
  const privatePort = plans.prod.resources.find((r) => r.type === OPENSTACK.port && r.name.includes("private-port"));
  expect(privateNetwork).toBeDefined();
  expect(privatePort?.inputs.networkId).toBe(`${privateNetwork?.name}-id`);
});

test("prod passes every mandatory policy", () => {
  expect(plans.prod.resources.length).toBeGreaterThan(15);
  expect(findings.prod.filter((f) => f.enforcementLevel === "mandatory").map(describeFinding)).toEqual([]);
});

test("prod's pack config makes every policy mandatory; dev's makes every policy advisory", () => {
  expect(readPackConfig("prod").all).toBe("mandatory");
  expect(findings.dev.every((f) => f.enforcementLevel === "advisory")).toBe(true);
});

test("dev's advisory findings are exactly the admin ports its adminCidr opens to the world and HPAs below 2 replicas", () => {
  const adminFindings = findings.dev.filter((f) => f.policy === "no-public-admin-ports");
  const rules = plans.dev.resources.filter(
    (r) =>
      r.type === OPENSTACK.secGroupRule && r.inputs.remoteIpPrefix === "0.0.0.0/0" && [22, 6443].includes(r.inputs.portRangeMin as number),
  );
  expect(adminFindings.map((f) => f.resource).sort()).toEqual(rules.map((r) => r.name).sort());

  const hpas = plans.dev.resources.filter((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
  const expectedHpa = hpas
    .filter((r) => ((r.inputs.spec as { minReplicas?: number } | undefined)?.minReplicas ?? 1) < 2)
    .map((r) => r.name);
  expect(findings.dev.filter((f) => f.policy === "hpa-min-replicas").map((f) => f.resource)).toEqual(expectedHpa);

  const explained = new Set(["no-public-admin-ports", "hpa-min-replicas"]);
  expect(findings.dev.filter((f) => !explained.has(f.policy)).map(describeFinding)).toEqual([]);
});

test("every policy of the pack ran against both plans (none was skipped as disabled)", () => {
  for (const stack of ["dev", "prod"]) {
    const config = readPackConfig(stack);
    for (const p of policies)
      expect({ policy: p.name, level: config[p.name] ?? config.all }).not.toEqual({ policy: p.name, level: "disabled" });
  }
});

test.each(["dev", "prod"] as const)("every secret-looking input of %s is a Pulumi secret in the plan", (stack) => {
  const plain = plans[stack].resources.flatMap((r) =>
    plainSecretPaths(r.type, r.inputs, (v) => v === SECRET_PLACEHOLDER).map((p) => `${r.name}.${p}`),
  );
  expect(plain).toEqual([]);
});

describe("the pack is live on prod's real resources (a mutated copy of the plan fails)", () => {
  const mutate = (match: (r: Plan["resources"][number]) => boolean, change: (inputs: Record<string, unknown>) => void) =>
    plans.prod.resources.map((r) => {
      if (!match(r)) return r;
      const inputs = structuredClone(r.inputs);
      change(inputs);
      return { ...r, inputs };
    });
  const mandatory = async (resources: Plan["resources"]) =>
    (await evaluatePolicies(resources, { stack: "prod", config: readPackConfig("prod") })).filter(
      (f) => f.enforcementLevel === "mandatory",
    );

  test("the Trove instance moved onto the external network", async () => {
    const externalPort = plans.prod.resources.find((r) => r.type === OPENSTACK.port && r.name.includes("external"));
    const db = plans.prod.resources.filter((r) => r.type === OPENSTACK.databaseInstance);
    expect(db).toHaveLength(1);
    const moved = mutate(
      (r) => r.type === OPENSTACK.databaseInstance,
      (inputs) => (inputs.networks = [{ uuid: externalPort?.inputs.networkId }]),
    );
    expect((await mandatory(moved)).map((f) => [f.policy, f.resource])).toEqual([["database-on-private-network-only", db[0].name]]);
  });

  test("a worker container without requests", async () => {
    const deployments = plans.prod.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    expect(deployments.length).toBeGreaterThan(0);
    const target = deployments[0].name;
    const stripped = mutate(
      (r) => r.name === target,
      (inputs) => {
        for (const c of (inputs as { spec: { template: { spec: { containers: { resources?: unknown }[] } } } }).spec.template.spec
          .containers)
          delete c.resources;
      },
    );
    const found = await mandatory(stripped);
    expect(found.length).toBeGreaterThan(0);
    expect(
      found.every(
        (f) => f.policy === "pods-restricted-with-requests" && f.resource === target && f.message.includes("no resources.requests"),
      ),
    ).toBe(true);
  });
});
