/**
 * The policy pack over the offline plan of both stacks, with each stack's pack config: prod must pass every
 * mandatory policy; dev's findings are advisory and are exactly the ones its settings explain.
 */
import { evaluatePolicies, readPackConfig, type Finding } from "../../policy/offline";
import { policies } from "../../policy/policies";
import { podSpecOf } from "../../policy/kubernetes/podSpecs";
import { AWS_S3, DYNAMIC, KUBERNETES, OPENSTACK } from "../../policy/resourceTypes";
import { plainSecretPaths } from "../../policy/secrets/plaintextSecrets";
import { SECRET_PLACEHOLDER, type Plan } from "../../scripts/plan";
import { cachedPlan } from "../support/plan-cache";

let plans: Record<"dev" | "prod", Plan>;
const findings: Record<string, Finding[]> = {};

beforeAll(async () => {
  // Sequentially: the Pulumi runtime is process-global.
  const dev = await cachedPlan("dev");
  const prod = await cachedPlan("prod");
  plans = { dev, prod };
  for (const stack of ["dev", "prod"] as const) {
    findings[stack] = await evaluatePolicies(plans[stack].resources, { stack, config: readPackConfig(stack) });
  }
}, 120_000);

test("the type tokens the pack matches on are the ones the program's resources carry", () => {
  // A policy keyed on a token no resource has would never fire; the tokens come from the plans, not from a copy of them.
  const planned = new Set([...plans.dev.resources, ...plans.prod.resources].map((r) => r.type));
  for (const token of [...Object.values(OPENSTACK), ...Object.values(DYNAMIC)]) expect([token, planned.has(token)]).toEqual([token, true]);
});

type PlanResource = Plan["resources"][number];
const specOf = (r: PlanResource) => (r.inputs.spec ?? {}) as Record<string, unknown>;
const containersOf = (r: PlanResource) =>
  ((podSpecOf(r.type, r.inputs)?.containers ?? []) as Record<string, unknown>[]).concat(
    (podSpecOf(r.type, r.inputs)?.initContainers ?? []) as Record<string, unknown>[],
  );

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

test("no committed stack opens ssh or the Kubernetes API to the world; the pack would say so, advisory in dev and mandatory in prod", async () => {
  for (const stack of ["dev", "prod"] as const) expect(findings[stack].filter((f) => f.policy === "no-public-admin-ports")).toEqual([]);
  const open = (stack: "dev" | "prod") =>
    plans[stack].resources.map((r) =>
      r.type === OPENSTACK.secGroupRule && r.inputs.portRangeMin === 22
        ? { ...r, inputs: { ...r.inputs, remoteIpPrefix: "0.0.0.0/0" } }
        : r,
    );
  for (const [stack, level] of [
    ["dev", "advisory"],
    ["prod", "mandatory"],
  ] as const) {
    const found = (await evaluatePolicies(open(stack), { stack, config: readPackConfig(stack) })).filter(
      (f) => f.policy === "no-public-admin-ports",
    );
    expect(found.map((f) => f.enforcementLevel)).toEqual([level]);
  }
});

test("dev's advisory findings are exactly the ones its settings explain", () => {
  const adminFindings = findings.dev.filter((f) => f.policy === "no-public-admin-ports");
  const rules = plans.dev.resources.filter(
    (r) =>
      r.type === OPENSTACK.secGroupRule && r.inputs.remoteIpPrefix === "0.0.0.0/0" && [22, 6443].includes(r.inputs.portRangeMin as number),
  );
  expect(adminFindings.map((f) => f.resource).sort()).toEqual(rules.map((r) => r.name).sort());

  const hpas = plans.dev.resources.filter((r) => r.type === KUBERNETES.hpaV2);
  const expectedHpa = hpas
    .filter((r) => ((r.inputs.spec as { minReplicas?: number } | undefined)?.minReplicas ?? 1) < 2)
    .map((r) => r.name);
  expect(findings.dev.filter((f) => f.policy === "hpa-min-replicas").map((f) => f.resource)).toEqual(expectedHpa);

  // dev runs one webhook pod (webhookReplicas 1).
  const fixedBelowTwo = plans.dev.resources
    .filter((r) => r.type === KUBERNETES.deployment && typeof specOf(r).replicas === "number" && (specOf(r).replicas as number) < 2)
    .map((r) => r.name);
  expect(findings.dev.filter((f) => f.policy === "deployment-min-replicas").map((f) => f.resource)).toEqual(fixedBelowTwo);

  // Images named by tag only (dev's in-cluster PostgreSQL, until its image is pinned).
  const byTag = plans.dev.resources
    .filter((r) => containersOf(r).some((c) => !/@sha256:[0-9a-f]{64}$/.test(String(c.image))))
    .map((r) => r.name);
  expect([...new Set(findings.dev.filter((f) => f.policy === "images-pinned-by-digest").map((f) => f.resource))]).toEqual(byTag);

  // webhook-over-https: dev opts in to plain HTTP (webhookPlainHttp), having no DNS name.
  const explained = new Set([
    "no-public-admin-ports",
    "hpa-min-replicas",
    "deployment-min-replicas",
    "images-pinned-by-digest",
    "webhook-over-https",
  ]);
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

  test("the external database opened to the whole Internet", async () => {
    const access = plans.prod.resources.filter((r) => r.type === DYNAMIC.troveInstanceAccess);
    expect(access.map((r) => r.inputs.allowedCidrs)).toEqual([["198.51.100.1/32", "203.0.113.10/32"]]);
    const opened = mutate(
      (r) => r.type === DYNAMIC.troveInstanceAccess,
      (inputs) => (inputs.allowedCidrs = ["0.0.0.0/0"]),
    );
    expect((await mandatory(opened)).map((f) => [f.policy, f.resource])).toEqual([["no-open-public-database", access[0].name]]);
  });

  test("a worker container without requests", async () => {
    const deployments = plans.prod.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
    expect(deployments.length).toBeGreaterThan(0);
    const target = deployments[0].name;
    const stripped = mutate(
      (r) => r.name === target,
      (inputs) => {
        for (const c of (inputs as { spec: { template: { spec: { containers: { resources: { requests?: unknown } }[] } } } }).spec.template
          .spec.containers)
          delete c.resources.requests;
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

  /** The mandatory findings as [policy, resource] pairs, each once. */
  const fired = async (resources: Plan["resources"]) =>
    [...new Set((await mandatory(resources)).map((f) => JSON.stringify([f.policy, f.resource])))].map((p) => JSON.parse(p) as string[]);
  const named = (name: string) => {
    const r = plans.prod.resources.find((x) => x.name === name);
    if (!r) throw new Error(`prod's plan has no ${name}; have ${plans.prod.resources.map((x) => x.name).join(", ")}`);
    return r;
  };
  const podSpec = (inputs: Record<string, unknown>) =>
    (inputs as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec;
  const firstContainer = (inputs: Record<string, unknown>) => (podSpec(inputs).containers as Record<string, unknown>[])[0];
  const securityContext = (inputs: Record<string, unknown>) => firstContainer(inputs).securityContext as Record<string, unknown>;

  test("an image named by tag instead of digest", async () => {
    const worker = named("workload-worker");
    const tagged = mutate(
      (r) => r === worker,
      (inputs) => (firstContainer(inputs).image = String(firstContainer(inputs).image).replace(/@sha256:[0-9a-f]{64}$/, ":latest")),
    );
    expect(await fired(tagged)).toEqual([["images-pinned-by-digest", worker.name]]);
  });

  test("a container without resource limits", async () => {
    const webhook = named("workload-webhook");
    const unlimited = mutate(
      (r) => r === webhook,
      (inputs) => delete (firstContainer(inputs).resources as Record<string, unknown>).limits,
    );
    expect(await fired(unlimited)).toEqual([["containers-have-limits", webhook.name]]);
  });

  test.each(["LoadBalancer", "NodePort"])("the webhook Service as type %s", async (type) => {
    const service = named("workload-webhook-service");
    const exposed = mutate(
      (r) => r === service,
      (inputs) => ((inputs.spec as Record<string, unknown>).type = type),
    );
    expect(await fired(exposed)).toEqual([["no-node-port-or-load-balancer-services", service.name]]);
  });

  test("a public-read input bucket", async () => {
    const bucket = named("storage-input");
    expect(bucket.type).toBe(AWS_S3.bucket);
    const open = mutate(
      (r) => r === bucket,
      (inputs) => (inputs.acl = "public-read"),
    );
    expect(await fired(open)).toEqual([["no-public-buckets", bucket.name]]);
  });

  test("the notification topic pushing over plain HTTP, or without verifying the certificate", async () => {
    const topic = named("storage-topic");
    expect(topic.inputs).toMatchObject({ pushEndpoint: "https://pipeline.example.org/notify", verifySsl: true });
    const plain = mutate(
      (r) => r === topic,
      (inputs) => {
        inputs.pushEndpoint = "http://203.0.113.10/notify";
      },
    );
    expect(await fired(plain)).toEqual([["webhook-over-https", "storage-topic"]]);
    const unverified = mutate(
      (r) => r === topic,
      (inputs) => {
        inputs.verifySsl = false;
      },
    );
    expect(await fired(unverified)).toEqual([["webhook-over-https", "storage-topic"]]);
  });

  test('a bucket policy that allows Principal "*"', async () => {
    const policy = named("storage-output-policy");
    const open = mutate(
      (r) => r === policy,
      (inputs) => {
        const doc = JSON.parse(String(inputs.policy)) as { Statement: { Principal: unknown }[] };
        doc.Statement[0].Principal = "*";
        inputs.policy = JSON.stringify(doc);
      },
    );
    expect(await fired(open)).toEqual([["no-public-buckets", policy.name]]);
  });

  test("no default-deny NetworkPolicy", async () => {
    const defaultDeny = plans.prod.resources.filter(
      (r) => r.type === KUBERNETES.networkPolicy && JSON.stringify(specOf(r).podSelector) === "{}",
    );
    expect(defaultDeny.length).toBeGreaterThan(0);
    const found = await fired(plans.prod.resources.filter((r) => !defaultDeny.includes(r)));
    expect(found).toHaveLength(1);
    expect(found[0][0]).toBe("namespace-default-deny");
  });

  test("no default-deny egress NetworkPolicy", async () => {
    const denyEgress = named("workload-default-deny-egress");
    expect(specOf(denyEgress)).toEqual({ podSelector: {}, policyTypes: ["Egress"] });
    expect(await fired(plans.prod.resources.filter((r) => r !== denyEgress))).toEqual([["namespace-default-deny", expect.any(String)]]);
  });

  test("no HorizontalPodAutoscaler for the worker", async () => {
    const hpa = named("workload-worker-hpa");
    expect(await fired(plans.prod.resources.filter((r) => r !== hpa))).toEqual([["autoscaled-deployments-have-hpa", "workload-worker"]]);
  });

  test("one webhook replica", async () => {
    const webhook = named("workload-webhook");
    const single = mutate(
      (r) => r === webhook,
      (inputs) => ((inputs.spec as Record<string, unknown>).replicas = 1),
    );
    expect(await fired(single)).toEqual([["deployment-min-replicas", webhook.name]]);
  });

  test("automountServiceAccountToken: true on a pod, and on a ServiceAccount", async () => {
    const worker = named("workload-worker");
    const account = named("workload-worker-serviceaccount");
    const mounted = mutate(
      (r) => r === worker || r === account,
      (inputs) => {
        if (inputs.kind === "ServiceAccount") inputs.automountServiceAccountToken = true;
        else podSpec(inputs).automountServiceAccountToken = true;
      },
    );
    expect((await fired(mounted)).sort()).toEqual(
      [
        ["no-service-account-token-automount", worker.name],
        ["no-service-account-token-automount", account.name],
      ].sort(),
    );
  });

  test.each<[string, (inputs: Record<string, unknown>) => void, RegExp]>([
    ["procMount Unmasked", (i) => (securityContext(i).procMount = "Unmasked"), /procMount is Unmasked/],
    [
      "an unsafe sysctl",
      (i) => ((podSpec(i).securityContext as Record<string, unknown>).sysctls = [{ name: "kernel.msgmax", value: "65536" }]),
      /sysctl kernel\.msgmax/,
    ],
    ["AppArmor Unconfined", (i) => (securityContext(i).appArmorProfile = { type: "Unconfined" }), /appArmorProfile\.type is Unconfined/],
    [
      "the AppArmor annotation unconfined",
      (i) => {
        const metadata = (i as { spec: { template: { metadata: { annotations?: Record<string, string> } } } }).spec.template.metadata;
        metadata.annotations = { ...metadata.annotations, "container.apparmor.security.beta.kubernetes.io/worker": "unconfined" };
      },
      /annotation container\.apparmor\.security\.beta\.kubernetes\.io\/worker is unconfined/,
    ],
    ["a custom SELinux type", (i) => (securityContext(i).seLinuxOptions = { type: "spc_t" }), /seLinuxOptions\.type spc_t/],
    ["hostProcess", (i) => (securityContext(i).windowsOptions = { hostProcess: true }), /hostProcess is true/],
  ])("%s, which the restricted Pod Security Standard forbids", async (_what, change, message) => {
    const worker = named("workload-worker");
    const found = await mandatory(mutate((r) => r === worker, change));
    expect(found.map((f) => [f.policy, f.resource])).toEqual([["pods-restricted-with-requests", worker.name]]);
    expect(found[0].message).toMatch(message);
  });
});
