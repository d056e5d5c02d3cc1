/**
 * `npm run plan -- --stack dev|prod` as a reviewer reads it (text on stdout, a process each): the example stacks
 * show the storage site's own provider making the EC2 credential (dev), the external DBaaS made by its own provider
 * and public only to the addresses derived from the program's resources (prod), and the registry pull Secret on the
 * workload's service accounts (both), each resource line naming the provider it is made with.
 */
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { MOCK_FLOATING_IP, MOCK_ROUTER_GATEWAY_IP } from "../../scripts/plan";

const run = promisify(execFile);
const root = path.resolve(__dirname, "../..");
const tsNode = path.join(root, "node_modules/.bin/ts-node");

/** The resource blocks of the text plan: header line and its indented input lines. */
function blocks(stdout: string): Map<string, { header: string; inputs: string[] }> {
  const out = new Map<string, { header: string; inputs: string[] }>();
  for (const chunk of stdout.split("\n\n")) {
    const [header, ...inputs] = chunk.split("\n");
    const name = header.split(/\s{2}/)[1];
    if (name && !header.startsWith(" ")) out.set(name, { header, inputs: inputs.map((l) => l.trim()) });
  }
  return out;
}

const text: Record<string, string> = {};
beforeAll(async () => {
  for (const stack of ["dev", "prod"]) {
    text[stack] = (await run(tsNode, ["--transpile-only", "scripts/plan.ts", "--stack", stack], { cwd: root, maxBuffer: 64 << 20 })).stdout;
  }
}, 240_000);

test("dev: the storage site's provider (CHI@TACC's clouds.yaml entry) makes the EC2 credential, and the endpoint is its store", () => {
  const dev = blocks(text.dev);
  expect(dev.get("openstack-storage")?.inputs).toContain('cloud: "chameleon-chi-tacc"');
  expect(dev.get("openstack")?.inputs).toContain('cloud: "chameleon-kvm-tacc"');
  expect(dev.get("storage-ec2-credential")?.header).toContain("provider openstack-storage");
  const others = [...dev.values()].filter((b) => b.header.includes("provider openstack-storage")).map((b) => b.header.split(/\s{2}/)[1]);
  expect(others).toEqual(["storage-ec2-credential"]);
  expect(text.dev).toMatch(/^ {4}s3Endpoint: "https:\/\/chi\.tacc\.chameleoncloud\.org:7480"$/m);
});

test("prod: Pukki's own provider makes the instance, public only to node1's floating IP and the router's gateway address", () => {
  const prod = blocks(text.prod);
  expect(prod.get("openstack-dbaas")?.inputs).toContain('cloud: "csc-pukki"');
  expect(prod.get("database-trove")?.header).toContain("provider openstack-dbaas");
  const access = prod.get("database-access");
  expect(access?.header).toMatch(/dependsOn \[.*database-trove.*network-floating-ip.*\]/);
  expect(access?.inputs).toEqual(
    expect.arrayContaining([
      `allowedCidrs: ${JSON.stringify([`${MOCK_ROUTER_GATEWAY_IP}/32`, `${MOCK_FLOATING_IP}/32`])}`,
      "isPublic: true",
      'auth: {"cloud":"csc-pukki"}',
    ]),
  );
  expect(access?.inputs.join("\n")).not.toContain("0.0.0.0/0");
});

test("both: a dockerconfigjson Secret is the image pull secret of the webhook, worker and migration service accounts", () => {
  for (const stack of ["dev", "prod"]) {
    const plan = blocks(text[stack]);
    const secret = plan.get("workload-registry-credentials");
    expect(secret?.inputs).toEqual(expect.arrayContaining(['type: "kubernetes.io/dockerconfigjson"', 'stringData: "[secret]"']));
    for (const role of ["webhook", "worker", "migrate"]) {
      expect(plan.get(`workload-${role}-serviceaccount`)?.inputs).toContain('imagePullSecrets: [{"name":"image-pipeline-registry"}]');
    }
    // The stack file leaves the login to the operator; the plan says it stood in for it.
    expect(text[stack]).toMatch(/offline stand-ins for settings to make before the first `pulumi up` .*registryCredentials/);
  }
});
