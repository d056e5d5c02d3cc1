/**
 * What each edit in docs/changes.md does to a running stack, shown under the mocks: the replacement model
 * (test/support/replacement-model.ts) applies the providers' documented diff rules to two offline plans, and plans
 * again with new ids for what it replaced, so consequences travel as they would in `pulumi up`. Also: the destroy
 * order, and that evaluating unchanged config twice gives the same user data byte for byte.
 */
import type { Plan, PlannedResource } from "../../scripts/plan";
import { cachedPlan } from "../support/plan-cache";
import { committedPlan, consequences, type Consequences } from "../support/replacement-model";

const SLOW = 300_000;
const NODE1 = { dev: "nodes-ip-dev-node1", prod: "nodes-ip-prod-node1" };
const isKubernetes = (r: PlannedResource) => r.type.startsWith("kubernetes:");
const kubernetesNames = (plan: Plan) =>
  plan.resources
    .filter(isKubernetes)
    .map((r) => r.name)
    .sort();
const instances = (plan: Plan) =>
  plan.resources
    .filter((r) => r.type === "openstack:compute/instance:Instance")
    .map((r) => r.name)
    .sort();

/** What the change touches outside the Kubernetes workload, and what it does to the workload, summarised. */
function summary(c: Consequences, plan: Plan) {
  const k8s = new Set(kubernetesNames(plan));
  const outside = (names: string[]) => names.filter((n) => !k8s.has(n));
  const inside = (names: string[]) => names.filter((n) => k8s.has(n));
  return {
    replaced: outside(c.replaced),
    updated: outside(c.updated),
    created: c.created,
    deleted: c.deleted,
    workloadReplaced: inside(c.replaced),
    workloadUpdated: inside(c.updated),
  };
}

describe("dev (Blazar lease, in-cluster PostgreSQL)", () => {
  let before: Plan;
  let workload: string[];
  beforeAll(async () => {
    before = await committedPlan("dev");
    workload = kubernetesNames(before);
  }, SLOW);

  test(
    "replacing node1 (the server) is a new cluster: new identifier, so the provider and every Kubernetes object are replaced",
    async () => {
      const c = await consequences("dev", before, { replace: [NODE1.dev] });
      expect(summary(c, before)).toEqual({
        replaced: ["k3s-provider", NODE1.dev],
        updated: ["k3s-readiness"],
        created: [],
        deleted: [],
        workloadReplaced: workload,
        workloadUpdated: [],
      });
      expect(c.changes["k3s-provider"]).toEqual(["clusterIdentifier"]);
      expect(c.changes["k3s-readiness"]).toEqual(["nodeIds"]);
    },
    SLOW,
  );

  test(
    "replacing an agent: the gate waits for the new instance; the cluster and the workload stay",
    async () => {
      const c = await consequences("dev", before, { replace: ["nodes-ip-dev-node2"] });
      expect(summary(c, before)).toEqual({
        replaced: ["nodes-ip-dev-node2"],
        updated: ["k3s-readiness"],
        created: [],
        deleted: [],
        workloadReplaced: [],
        workloadUpdated: [],
      });
    },
    SLOW,
  );

  test(
    "k3sVersion (with its three hashes), k3sInstallerUrl, k3sJoinTimeoutSeconds: user data, which running nodes ignore, and the namespace's Pod Security version",
    async () => {
      const c = await consequences("dev", before, {
        config: {
          k3sVersion: "v1.33.5+k3s1",
          k3sInstallerUrl: "https://mirror.example.org/k3s/install.sh",
          k3sInstallerSha256: "a".repeat(64),
          k3sBinarySha256: "b".repeat(64),
          k3sAirgapImagesSha256: "c".repeat(64),
          k3sJoinTimeoutSeconds: "600",
        },
      });
      expect(summary(c, before)).toEqual({
        replaced: [],
        updated: [],
        created: [],
        deleted: [],
        workloadReplaced: [],
        workloadUpdated: ["workload-namespace"],
      });
      expect(c.changes["workload-namespace"].every((p) => p.startsWith("metadata.labels.pod-security"))).toBe(true);
      // The change is there, ignored on purpose (ignoreChanges), so a node replaced later boots with it.
      const userData = (p: Plan, name: string) => p.resources.find((r) => r.name === name)?.inputs.userData;
      expect(userData(c.after, NODE1.dev)).not.toEqual(userData(before, NODE1.dev));
      expect(String(userData(c.after, NODE1.dev))).toContain("v1.33.5+k3s1");
      expect(String(userData(c.after, NODE1.dev))).toContain("b".repeat(64));
    },
    SLOW,
  );

  test(
    "k3sReadyTimeoutSeconds: the gate records the new value and nothing else changes",
    async () => {
      const c = await consequences("dev", before, { config: { k3sReadyTimeoutSeconds: "3600" } });
      expect(summary(c, before)).toMatchObject({ replaced: [], updated: ["k3s-readiness"], workloadReplaced: [], workloadUpdated: [] });
      expect(c.changes["k3s-readiness"]).toEqual(["timeoutSeconds"]);
    },
    SLOW,
  );

  test(
    "a new image replaces every node (old one deleted first), and with node1 the cluster and the workload",
    async () => {
      const c = await consequences("dev", before, { config: { image: "CC-Ubuntu24.04-20261201" } });
      expect(summary(c, before)).toEqual({
        replaced: ["k3s-provider", ...instances(before)],
        updated: ["k3s-readiness"],
        created: [],
        deleted: [],
        workloadReplaced: workload,
        workloadUpdated: [],
      });
    },
    SLOW,
  );

  test(
    "a lease reserves nodeCount and flavor: changing either replaces the lease, every node and the workload",
    async () => {
      const c = await consequences("dev", before, { config: { nodeCount: "4" } });
      expect(summary(c, before)).toMatchObject({
        replaced: ["k3s-provider", "lease", ...instances(before)],
        workloadReplaced: workload,
      });
      expect(c.created).toEqual(["network-external-port-4", "network-private-port-4", "nodes-ip-dev-node4"]);
      expect(c.changes.lease).toEqual(["reservation.amount"]);
    },
    SLOW,
  );

  test(
    "leaseDuration (or leaseEnd) extends the lease in place; nodes and workload untouched",
    async () => {
      const c = await consequences("dev", before, { config: { leaseDuration: "9d" } });
      expect(summary(c, before)).toEqual({
        replaced: [],
        updated: ["lease"],
        created: [],
        deleted: [],
        workloadReplaced: [],
        workloadUpdated: [],
      });
    },
    SLOW,
  );

  test(
    "a new floating IP: association and bucket notification replaced; gate, provider (not replaced) and topic follow",
    async () => {
      const c = await consequences("dev", before, { config: { floatingIpPool: "public-2" } });
      expect(summary(c, before)).toEqual({
        replaced: ["network-floating-ip", "network-floating-ip-node1", "storage-input-notification"],
        updated: ["k3s-provider", "k3s-readiness", "storage-topic"],
        created: [],
        deleted: [],
        workloadReplaced: [],
        workloadUpdated: [],
      });
      expect(c.changes["k3s-provider"]).toEqual(["kubeconfig"]);
    },
    SLOW,
  );

  test(
    "an unrelated setting replaces nothing: logLevel updates the ConfigMap in place and rolls the Deployments",
    async () => {
      const c = await consequences("dev", before, { config: { logLevel: "info" } });
      expect(summary(c, before)).toEqual({
        replaced: [],
        updated: [],
        created: [],
        deleted: [],
        workloadReplaced: [],
        workloadUpdated: ["workload-config", "workload-webhook", "workload-worker"],
      });
    },
    SLOW,
  );

  test(
    "rotating the webhook secret: the Secret changes in place, the pods roll, the migration Job is left alone",
    async () => {
      const c = await consequences("dev", before, { replace: ["storage-webhook-secret"] });
      expect(summary(c, before)).toEqual({
        replaced: ["storage-input-notification", "storage-webhook-secret"],
        updated: ["storage-topic"],
        created: [],
        deleted: [],
        workloadReplaced: [],
        workloadUpdated: ["workload-secrets", "workload-webhook", "workload-worker"],
      });
    },
    SLOW,
  );

  test(
    "replacing the root CA replaces every CA below it and the admin certificate, the provider and the workload; nodes keep theirs",
    async () => {
      const c = await consequences("dev", before, { replace: ["k3s-bootstrap-pki-root-ca"] });
      const s = summary(c, before);
      expect(s.replaced.filter((n) => !n.startsWith("k3s-bootstrap-pki-"))).toEqual(["k3s-provider"]);
      expect(s.replaced).toEqual(
        expect.arrayContaining(["k3s-bootstrap-pki-root-ca", "k3s-bootstrap-pki-server-ca", "k3s-bootstrap-pki-admin"]),
      );
      expect(s.updated).toEqual(["k3s-readiness"]);
      expect(s.workloadReplaced).toEqual(workload);
      expect(c.replaced.filter((n) => instances(before).includes(n))).toEqual([]);
    },
    SLOW,
  );

  test(
    "two evaluations of unchanged config give byte-identical user data (and identical inputs everywhere)",
    async () => {
      const again = await committedPlan("dev");
      for (const name of instances(before)) {
        const first = before.resources.find((r) => r.name === name)?.inputs.userData;
        expect(typeof first).toBe("string");
        expect(again.resources.find((r) => r.name === name)?.inputs.userData).toBe(first);
      }
      // Registration order follows when inputs resolve, so compare by name.
      const inputsByName = (p: Plan) => Object.fromEntries(p.resources.map((r) => [r.name, r.inputs]));
      expect(inputsByName(again)).toEqual(inputsByName(before));
    },
    SLOW,
  );
});

describe("prod (no lease, Trove)", () => {
  let before: Plan;
  beforeAll(async () => {
    before = await committedPlan("prod");
  }, SLOW);

  test(
    "nodeCount up without a lease adds a node and its ports; the gate waits for it; nothing is replaced",
    async () => {
      const c = await consequences("prod", before, { config: { nodeCount: "4" } });
      expect(summary(c, before)).toEqual({
        replaced: [],
        updated: ["k3s-readiness", "network-private-subnet"],
        created: ["network-external-port-4", "network-private-port-4", "nodes-ip-prod-node4"],
        deleted: [],
        workloadReplaced: [],
        workloadUpdated: [],
      });
      expect(c.changes["network-private-subnet"]).toEqual(["allocationPools[1].start"]);
    },
    SLOW,
  );

  test(
    "a new flavor without a lease resizes every node in place",
    async () => {
      const c = await consequences("prod", before, { config: { flavor: "standard.xlarge" } });
      expect(summary(c, before)).toEqual({
        replaced: [],
        updated: instances(before),
        created: [],
        deleted: [],
        workloadReplaced: [],
        workloadUpdated: [],
      });
    },
    SLOW,
  );

  test(
    "troveVolumeSize replaces the (protected, so refused until unprotected) Trove instance; the migrations run on the new one",
    async () => {
      const c = await consequences("prod", before, { config: { troveVolumeSize: "20" } });
      expect(summary(c, before)).toEqual({
        replaced: ["database-access", "database-trove"],
        updated: [],
        created: [],
        deleted: [],
        workloadReplaced: ["workload-migrate"],
        // The new instance's address is the one the pods' egress policy allows.
        workloadUpdated: ["workload-database-egress", "workload-secrets", "workload-webhook", "workload-worker"],
      });
      // The engine does not replace a protected resource: the up stops at the instance before anything is lost.
      expect(before.resources.find((r) => r.name === "database-trove")?.options.protect).toBe(true);
    },
    SLOW,
  );
});

describe("destroy order", () => {
  /** Every resource `name` depends on, directly or through others (dependsOn, inputs, its provider). */
  function dependencies(plan: Plan, name: string, seen = new Set<string>()): Set<string> {
    const r = plan.resources.find((x) => x.name === name);
    for (const dep of [...(r?.dependsOn ?? []), ...(r?.provider ? [r.provider] : [])]) {
      if (!seen.has(dep)) {
        seen.add(dep);
        dependencies(plan, dep, seen);
      }
    }
    return seen;
  }

  test.each(["dev", "prod"])(
    "%s: every Kubernetes object is deleted before node1's floating-IP association and before any node",
    async (stack) => {
      // `pulumi destroy` deletes a resource only after everything that depends on it.
      const plan = await cachedPlan(stack);
      const mustOutlive = ["network-floating-ip-node1", ...instances(plan)];
      for (const r of plan.resources.filter(isKubernetes)) {
        const deps = dependencies(plan, r.name);
        expect({ object: r.name, missing: mustOutlive.filter((n) => !deps.has(n)) }).toEqual({ object: r.name, missing: [] });
      }
    },
    SLOW,
  );
});
