/**
 * The first `pulumi preview` of a new stack, for every example stack and every variant of the program (lease types,
 * database kinds): each dynamic resource must get through `check` and `diff` in the SDK's provider host with the
 * floating IP, certificates, keys and ids still unknown. The committed stacks run as the CLI runs them
 * (`npm run plan -- --stack <s> --preview`, a process each); the variants are evaluated in this process, one after
 * another (Pulumi's runtime is process-global, and each plan sets the whole config again).
 */
import { execFile } from "child_process";
import * as path from "path";
import { planStack } from "../../scripts/plan";
import { formatCheckFailures } from "../../scripts/preview/first-preview";

const root = path.resolve(__dirname, "../..");
const tsNode = path.join(root, "node_modules/.bin/ts-node");

function previewCli(stack: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      tsNode,
      ["--transpile-only", "scripts/plan.ts", "--stack", stack, "--preview"],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const ALL = ["lease", "k3s-readiness", "storage-topic"];
const NO_LEASE = ["k3s-readiness", "storage-topic"];
/** prod's PostgreSQL is on an external DBaaS (CSC Pukki), made public to the cluster by the access resource. */
const PROD = [...NO_LEASE, "database-access"];

test.each([
  ["dev", ALL],
  ["prod", PROD],
])(
  "npm run plan -- --stack %s --preview exits 0: every dynamic resource passes check and diff",
  async (stack, dynamicResources) => {
    const run = await previewCli(stack);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`first preview of stack ${stack}`) });
    expect(/provider host: (.*)$/m.exec(run.stderr)?.[1].split(", ").sort()).toEqual([...dynamicResources].sort());
    // It is a first preview: what only exists once created is unknown, e.g. the floating IP everything else uses.
    expect(run.stdout).toMatch(/floatingIp: "\[unknown\]"/);
  },
  240_000,
);

const config = (settings: Record<string, string>) =>
  Object.fromEntries(Object.entries(settings).map(([key, value]) => [`image-pipeline:${key}`, value]));

const variants: [string, string, Record<string, string>, string[]][] = [
  [
    "dev on a physical:host lease",
    "dev",
    { leaseType: "physical:host", privateNetworkType: "vlan", leaseResourceProperties: '["=", "$node_type", "compute_skylake"]' },
    ALL,
  ],
  [
    "dev uploading its node image",
    "dev",
    {
      nodeImageSource: "https://cloud-images.ubuntu.com/noble/20261201/noble-server-cloudimg-amd64.img",
      nodeImageSha256: "a".repeat(64),
    },
    [...ALL, "node-image-file"],
  ],
  ["dev without a lease", "dev", { leaseType: "none", leaseDuration: "" }, NO_LEASE],
  ["dev with Trove", "dev", { databaseKind: "trove", troveFlavor: "standard.small", troveDatastoreVersion: "17.2" }, ALL],
  [
    "prod with in-cluster PostgreSQL",
    "prod",
    { databaseKind: "in-cluster", troveCloud: "", troveFlavor: "", troveDatastoreVersion: "", troveVolumeSize: "1" },
    NO_LEASE,
  ],
  ["prod on a flavor:instance lease", "prod", { leaseType: "flavor:instance" }, [...PROD, "lease"]],
  [
    "prod with same-cloud Trove on the private network",
    "prod",
    { troveCloud: "", troveCaCertificate: "", troveVolumeSize: "10" },
    NO_LEASE,
  ],
];

test.each(variants)(
  "%s: every dynamic resource passes check and diff in a first preview",
  async (_label, stack, settings, dynamicResources) => {
    const plan = await planStack(stack, { preview: true, configOverrides: config(settings) });
    expect(formatCheckFailures(plan.dynamicChecks ?? [])).toEqual([]);
    expect((plan.dynamicChecks ?? []).map((c) => c.name).sort()).toEqual([...dynamicResources].sort());
    expect(plan.outputs.floatingIp).toBe("[unknown]");
  },
  120_000,
);
