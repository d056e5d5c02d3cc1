import {
  changedPaths,
  diffPlans,
  formatMarkdown,
  formatText,
  MARKDOWN_MARKER,
  parseArgs,
  type PlanSnapshot,
  type SnapshotResource,
} from "../../scripts/plan-diff";

const options = { ignoreChanges: [], replaceOnChanges: [], deleteBeforeReplace: false, retainOnDelete: false, additionalSecretOutputs: [] };
const res = (type: string, name: string, inputs: Record<string, unknown>, extra: Partial<SnapshotResource> = {}): SnapshotResource => ({
  type,
  name,
  inputs,
  dependsOn: [],
  options,
  ...extra,
});
const snapshot = (resources: SnapshotResource[], outputs: Record<string, unknown> = {}): PlanSnapshot => ({
  stack: "dev",
  resources,
  outputs,
});

const PORT = "openstack:networking/port:Port";
const INSTANCE = "openstack:compute/instance:Instance";

describe("changedPaths", () => {
  test("names the leaves that differ, with array indexes for arrays of objects", () => {
    const before = { name: "n1", networks: [{ port: "a" }, { port: "b" }], metadata: { role: "server" }, tags: ["x", "y"] };
    const after = {
      name: "n1",
      networks: [{ port: "a" }, { port: "c" }, { port: "d" }],
      metadata: { role: "agent", zone: "z" },
      tags: ["y", "x"],
    };
    expect(changedPaths(before, after)).toEqual(["metadata.role", "metadata.zone", "networks[1].port", "networks[2]", "tags"]);
  });
  test("equal values give no paths; a type change is a change", () => {
    expect(changedPaths({ a: { b: [1, 2] } }, { a: { b: [1, 2] } })).toEqual([]);
    expect(changedPaths({ a: "3" }, { a: 3 })).toEqual(["a"]);
    expect(changedPaths({ a: { b: 1 } }, { a: "[secret]" })).toEqual(["a"]);
  });
});

describe("diffPlans", () => {
  const base = snapshot(
    [
      res(PORT, "port-1", { networkId: "net", fixedIps: [{ ipAddress: "192.168.1.11" }] }),
      res(PORT, "port-2", { networkId: "net" }),
      res(INSTANCE, "node1", { flavorName: "m1.medium", userData: "[secret]" }, { parent: "nodes", dependsOn: ["lease"] }),
    ],
    { floatingIp: "203.0.113.10", nodeNames: ["node1"] },
  );

  test("equal plans: no changes, everything unchanged", () => {
    const d = diffPlans(base, base);
    expect({ added: d.added, removed: d.removed, changed: d.changed, unchanged: d.unchanged }).toEqual({
      added: [],
      removed: [],
      changed: [],
      unchanged: 3,
    });
    expect(formatText([d])).toBe("stack dev: base -> head\nno changes (3 resources)\n");
  });

  test("added, removed and changed resources, with input paths, parent, dependencies and options", () => {
    const head = snapshot(
      [
        res(PORT, "port-1", { networkId: "net", fixedIps: [{ ipAddress: "192.168.1.21" }] }),
        res(PORT, "port-3", { networkId: "net" }),
        res(
          INSTANCE,
          "node1",
          { flavorName: "m1.large", userData: "[secret]" },
          { parent: "cluster", dependsOn: ["lease", "port-1"], options: { ...options, ignoreChanges: ["userData"] } },
        ),
      ],
      { floatingIp: "203.0.113.10", nodeNames: ["node1", "node2"], kubeconfig: "[secret]" },
    );
    const d = diffPlans(base, head, { base: "main (abc1234)", head: "working tree" });
    expect(d.added.map((r) => r.name)).toEqual(["port-3"]);
    expect(d.removed.map((r) => r.name)).toEqual(["port-2"]);
    expect(d.changed).toEqual([
      { type: INSTANCE, name: "node1", changes: ["flavorName", "(parent)", "(dependsOn)", "(options.ignoreChanges)"] },
      { type: PORT, name: "port-1", changes: ["fixedIps[0].ipAddress"] },
    ]);
    expect(d.outputs).toEqual({ added: ["kubeconfig"], removed: [], changed: ["nodeNames"] });
    expect(formatText([d])).toBe(
      [
        "stack dev: main (abc1234) -> working tree",
        "1 to add, 2 to change, 1 to remove, 0 unchanged",
        "",
        `+ ${PORT}  port-3`,
        `- ${PORT}  port-2`,
        `~ ${INSTANCE}  node1`,
        "    flavorName, (parent), (dependsOn), (options.ignoreChanges)",
        `~ ${PORT}  port-1`,
        "    fixedIps[0].ipAddress",
        "",
        "outputs added: kubeconfig",
        "outputs changed: nodeNames",
        "",
      ].join("\n"),
    );
  });

  test("a resource renamed is a remove plus an add (Pulumi replaces it unless aliased)", () => {
    const head = snapshot([res(PORT, "port-1", base.resources[0].inputs), res(PORT, "port-two", { networkId: "net" }), base.resources[2]]);
    const d = diffPlans(base, head);
    expect([d.added.map((r) => r.name), d.removed.map((r) => r.name), d.changed]).toEqual([["port-two"], ["port-2"], []]);
  });
});

describe("formatMarkdown", () => {
  const many = snapshot(Array.from({ length: 400 }, (_, i) => res(PORT, `port-${String(i).padStart(3, "0")}`, { networkId: "net" })));
  const diff = diffPlans(snapshot([]), many, { base: "main (abc1234)", head: "working tree" });

  test("starts with the marker and a per-stack summary, details collapsed", () => {
    const md = formatMarkdown([diff, { ...diffPlans(snapshot([]), snapshot([])), stack: "prod" }]);
    expect(md.startsWith(`${MARKDOWN_MARKER}\n### Offline plan diff\n`)).toBe(true);
    expect(md).toContain("| `dev` | 400 | 0 | 0 | 0 | not run |");
    expect(md).toContain("**`prod`: no changes.**");
    expect(md).toContain("<details><summary><b>dev</b>: 400 to add, 0 to change, 0 to remove, 0 unchanged</summary>");
    expect(md.match(/\| ➕ add \|/g)).toHaveLength(400);
  });

  test("a comment over the limit keeps the summary and cuts detail rows, saying how many", () => {
    const md = formatMarkdown([diff], 8_000);
    expect(md.length).toBeLessThanOrEqual(8_000);
    expect(md).toContain("| `dev` | 400 | 0 | 0 | 0 | not run |");
    const shown = md.match(/\| ➕ add \|/g)?.length ?? 0;
    expect(shown).toBeGreaterThan(10);
    expect(shown).toBeLessThan(400);
    expect(md).toContain(`_… ${400 - shown} more rows for dev._`);
    expect(md).toContain(
      `_${400 - shown} detail rows omitted to fit a comment; run \`npm run plan:diff -- --stack <name> --base main (abc1234)\``,
    );
  });

  test("mandatory policy findings are listed above the details, advisory ones inside", () => {
    const withFindings = {
      ...diff,
      findings: [
        { policy: "no-public-admin-ports", enforcementLevel: "mandatory" as const, resource: "sg-ssh", message: "opens 22 | to the world" },
        { policy: "hpa-min-replicas", enforcementLevel: "advisory" as const, resource: "hpa", message: "minReplicas is 1" },
      ],
    };
    const md = formatMarkdown([withFindings]);
    expect(md).toContain("| `dev` | 400 | 0 | 0 | 0 | ❌ 1 mandatory, ⚠️ 1 advisory |");
    expect(
      md.indexOf("**`dev` violates mandatory policies:**\n- mandatory no-public-admin-ports sg-ssh: opens 22 \\| to the world"),
    ).toBeLessThan(md.indexOf("<details>"));
    expect(md.indexOf("- advisory hpa-min-replicas hpa: minReplicas is 1")).toBeGreaterThan(md.indexOf("<details>"));
  });
});

describe("parseArgs", () => {
  test("takes one or more stacks, a base and --markdown", () => {
    expect(parseArgs(["--stack", "dev", "--stack=prod", "--base", "origin/main", "--markdown"])).toEqual({
      stacks: ["dev", "prod"],
      base: "origin/main",
      markdown: true,
    });
  });
  test("says what is missing", () => {
    expect(() => parseArgs(["--base", "HEAD"])).toThrow(/--stack is required/);
    expect(() => parseArgs(["--stack", "dev"])).toThrow(/--base is required \(e.g. --base origin\/main\)/);
    expect(() => parseArgs(["--stack", "--base", "HEAD"])).toThrow(/--stack needs a value/);
    expect(() => parseArgs(["--stack", "dev", "--base", "HEAD", "--json"])).toThrow(/unknown argument --json/);
  });
});
