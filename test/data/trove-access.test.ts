/**
 * The Trove access dynamic provider against a local STAND-IN for an external DBaaS (Keystone + Trove, with CSC
 * Pukki's rules: test/support/fake-trove.ts); the real Pukki cannot run here. Asserts the exact requests sent.
 */
import * as fs from "fs";
import Module from "module";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { HttpError } from "../../infra/openstack-api/http";
import { connectTrove, putAccess } from "../../infra/trove/access-api";
import {
  makeTroveAccessProvider,
  troveAccessDiff,
  type TroveAccessInputs,
  type TroveAccessOutputs,
} from "../../infra/trove/access-provider";
import { allowedCidrProblems, hostCidrs } from "../../infra/trove/allowed-cidrs";
import { FAKE_TROVE_PROJECT, FAKE_TROVE_PUBLIC_ADDRESS, FAKE_TROVE_TOKEN, FakeTrove, type FakeTroveOptions } from "../support/fake-trove";

const APP_CRED = { id: "pukki-app-cred", secret: "pukki-s3cr3t" };
const INSTANCE = "9f0e2d4c-1b3a-4c5d-8e7f-0a1b2c3d4e5f";
const INSTANCE_PATH = `/database/v1.0/${FAKE_TROVE_PROJECT}/instances/${INSTANCE}`;

let fake: FakeTrove;
let dir: string;
let logs: string[];

async function start(options: Partial<FakeTroveOptions> = {}): Promise<void> {
  fake = await new FakeTrove({ applicationCredential: APP_CRED, ...options }).start();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "trove-access-"));
  // The clouds.yaml entry a Pukki user downloads: an application credential at Pukki's own Keystone.
  fs.writeFileSync(
    path.join(dir, "clouds.yaml"),
    [
      "clouds:",
      "  csc-pukki:",
      "    auth_type: v3applicationcredential",
      "    region_name: pukki_dbaas",
      "    auth:",
      `      auth_url: ${fake.authUrl}`,
      `      application_credential_id: ${APP_CRED.id}`,
      `      application_credential_secret: ${APP_CRED.secret}`,
      "",
    ].join("\n"),
  );
  logs = [];
}

afterEach(async () => {
  await fake?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function provider() {
  return makeTroveAccessProvider({
    pollIntervalMs: 2,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    env: () => ({ OS_CLIENT_CONFIG_FILE: path.join(dir, "clouds.yaml") }),
    log: (m) => logs.push(m),
  });
}

function inputs(overrides: Partial<TroveAccessInputs> = {}): TroveAccessInputs {
  return {
    auth: { cloud: "csc-pukki" },
    instanceId: INSTANCE,
    instanceName: "ip-prod-db",
    isPublic: true,
    allowedCidrs: ["203.0.113.10/32", "198.51.100.7/32"],
    timeoutMinutes: 1,
    ...overrides,
  };
}

test("create waits for the instance to be ACTIVE, sends is_public and allowed_cidrs together, and waits until Trove shows them", async () => {
  await start({ applyAfterReads: 2 });
  fake.addInstance(INSTANCE, "ip-prod-db", { status: "BUILD", buildReads: 2 });

  const created = await provider().create!(inputs());

  expect(fake.requests[0]).toMatchObject({
    method: "POST",
    path: "/identity/v3/auth/tokens",
    body: { auth: { identity: { methods: ["application_credential"], application_credential: APP_CRED } } },
  });
  const trove = fake.troveRequests();
  expect(trove.map((r) => `${r.method} ${r.path}`)).toEqual([
    `GET ${INSTANCE_PATH}`, // BUILD
    `GET ${INSTANCE_PATH}`, // BUILD
    `GET ${INSTANCE_PATH}`, // ACTIVE, still private
    `PUT ${INSTANCE_PATH}`,
    `GET ${INSTANCE_PATH}`, // not applied yet
    `GET ${INSTANCE_PATH}`, // not applied yet
    `GET ${INSTANCE_PATH}`, // applied
  ]);
  expect(trove.every((r) => r.token === FAKE_TROVE_TOKEN)).toBe(true);
  // Both fields, always, in a canonical order.
  expect(trove[3].body).toEqual({ instance: { access: { is_public: true, allowed_cidrs: ["198.51.100.7/32", "203.0.113.10/32"] } } });
  expect(created.id).toBe(INSTANCE);
  expect(created.outs).toEqual({ ...inputs(), publicAddress: FAKE_TROVE_PUBLIC_ADDRESS });
  expect(fake.instances.get(INSTANCE)).toMatchObject({ isPublic: true, allowedCidrs: ["198.51.100.7/32", "203.0.113.10/32"] });
});

test("create sends nothing when the instance already has exactly this access", async () => {
  await start();
  fake.addInstance(INSTANCE, "ip-prod-db", { isPublic: true, allowedCidrs: ["203.0.113.10/32", "198.51.100.7/32"] });
  const created = await provider().create!(inputs());
  expect(fake.troveRequests().map((r) => r.method)).toEqual(["GET"]);
  expect(created.outs.publicAddress).toBe(FAKE_TROVE_PUBLIC_ADDRESS);
});

test("update sends the whole new list, which replaces the old one (a narrower list drops the removed source)", async () => {
  await start();
  fake.addInstance(INSTANCE, "ip-prod-db", { isPublic: true, allowedCidrs: ["203.0.113.10/32", "198.51.100.7/32"] });
  const olds: TroveAccessOutputs = { ...inputs(), publicAddress: FAKE_TROVE_PUBLIC_ADDRESS };
  const updated = await provider().update!(INSTANCE, olds, inputs({ allowedCidrs: ["203.0.113.10/32"] }));
  const put = fake.troveRequests().find((r) => r.method === "PUT");
  expect(put?.body).toEqual({ instance: { access: { is_public: true, allowed_cidrs: ["203.0.113.10/32"] } } });
  expect(fake.instances.get(INSTANCE)?.allowedCidrs).toEqual(["203.0.113.10/32"]);
  expect(updated.outs?.allowedCidrs).toEqual(["203.0.113.10/32"]);
});

test.each([
  [["0.0.0.0/0"], "opens the database to the whole Internet"],
  [["10.0.0.0/8"], "is wider than /22"],
  [["195.148.0.0/21"], "is wider than /22"],
  [[], "the list is empty"],
  [["203.0.113.10/24"], "not an IPv4 network in CIDR form with no host bits set"],
  [["203.0.113.10/32", "203.0.113.10/32"], "listed twice"],
])("create refuses allowed CIDRs %j before sending anything (%s)", async (cidrs, reason) => {
  await start();
  fake.addInstance(INSTANCE, "ip-prod-db");
  await expect(provider().create!(inputs({ allowedCidrs: cidrs }))).rejects.toThrow(reason);
  expect(fake.requests).toEqual([]);
});

test("the stand-in refuses what Pukki refuses: 0.0.0.0/0, ranges wider than /22, a missing list (open to all)", async () => {
  await start();
  fake.addInstance(INSTANCE, "ip-prod-db");
  const client = await connectTrove({
    kind: "application_credential",
    authUrl: fake.authUrl,
    id: APP_CRED.id,
    secret: APP_CRED.secret,
    interface: "public",
  });
  for (const cidrs of [["0.0.0.0/0"], ["195.148.0.0/16"]]) {
    const err = await putAccess(client, INSTANCE, "ip-prod-db", { isPublic: true, allowedCidrs: cidrs }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
  }
  const res = await fetch(`${fake.url}${INSTANCE_PATH}`, {
    method: "PUT",
    headers: { "X-Auth-Token": FAKE_TROVE_TOKEN, "Content-Type": "application/json" },
    body: JSON.stringify({ instance: { access: { is_public: true } } }),
  });
  expect(res.status).toBe(400);
  expect(fake.instances.get(INSTANCE)).toMatchObject({ isPublic: false, allowedCidrs: [] });
});

test("a cloud whose catalog has no database service (cPouta's Keystone) fails with the clouds.yaml fix", async () => {
  await start({ omitDatabaseService: true });
  fake.addInstance(INSTANCE, "ip-prod-db");
  await expect(provider().create!(inputs())).rejects.toThrow(
    /no "database" service \(found: identity, compute\)\. Fix: image-pipeline:troveCloud/,
  );
});

test("an update Trove fails puts the fault in the error", async () => {
  await start({ failUpdateWith: "Failed to update security group rules" });
  fake.addInstance(INSTANCE, "ip-prod-db");
  await expect(provider().create!(inputs())).rejects.toThrow(
    /failed while waiting until the access is applied: .*fault: Failed to update security group rules/,
  );
});

test("read reports the access Trove has (drift shows in refresh), and nothing once the instance is gone", async () => {
  await start();
  fake.addInstance(INSTANCE, "ip-prod-db", { isPublic: true, allowedCidrs: ["203.0.113.10/32", "192.0.2.0/24"] });
  const props: TroveAccessOutputs = { ...inputs(), publicAddress: FAKE_TROVE_PUBLIC_ADDRESS };
  const read = await provider().read!(INSTANCE, props);
  expect(read.props).toMatchObject({ isPublic: true, allowedCidrs: ["192.0.2.0/24", "203.0.113.10/32"] });
  expect(troveAccessDiff(read.props as TroveAccessOutputs, inputs()).changes).toBe(true);
  fake.instances.delete(INSTANCE);
  expect(await provider().read!(INSTANCE, props)).toEqual({});
});

test("delete leaves the instance's access alone: it goes with the instance", async () => {
  await start();
  fake.addInstance(INSTANCE, "ip-prod-db", { isPublic: true, allowedCidrs: ["203.0.113.10/32"] });
  await provider().delete!(INSTANCE, { ...inputs(), publicAddress: FAKE_TROVE_PUBLIC_ADDRESS });
  expect(fake.requests).toEqual([]);
});

describe("check and diff during preview", () => {
  test("check accepts values the engine does not know yet and judges the known ones", async () => {
    const p = makeTroveAccessProvider();
    const preview = inputs({ instanceId: unknownValue, allowedCidrs: [unknownValue, "198.51.100.7/32"] });
    expect(await p.check!(preview, preview)).toEqual({ inputs: preview });
    const whollyUnknown = inputs({ allowedCidrs: unknownValue as unknown as string[] });
    expect(await p.check!(whollyUnknown, whollyUnknown)).toEqual({ inputs: whollyUnknown });
    const open = inputs({ allowedCidrs: ["0.0.0.0/0"] });
    expect((await p.check!(open, open)).failures).toEqual([
      { property: "allowedCidrs", reason: "0.0.0.0/0 opens the database to the whole Internet" },
    ]);
  });

  test("diff: unknown CIDRs may change; the same set in another order does not; another instance replaces", () => {
    const olds: TroveAccessOutputs = { ...inputs(), publicAddress: FAKE_TROVE_PUBLIC_ADDRESS };
    expect(troveAccessDiff(olds, inputs({ allowedCidrs: [unknownValue] }))).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(troveAccessDiff(olds, inputs({ allowedCidrs: ["198.51.100.7/32", "203.0.113.10/32"] })).changes).toBe(false);
    expect(troveAccessDiff(olds, inputs({ instanceId: "another" })).replaces).toEqual(["instanceId"]);
    expect(troveAccessDiff(olds, inputs({ instanceId: unknownValue })).replaces).toEqual(["instanceId"]);
  });
});

test("allowed sources are /32s of the addresses the cluster's traffic leaves from", () => {
  expect(hostCidrs(["203.0.113.10", "198.51.100.7", "203.0.113.10"])).toEqual(["198.51.100.7/32", "203.0.113.10/32"]);
  expect(() => hostCidrs(["not-an-ip"])).toThrow('"not-an-ip" is not an IPv4 address');
  expect(allowedCidrProblems(["198.51.100.0/22"])).toEqual([]);
});

test("the provider survives Pulumi's closure serialization and works after loading the module text", async () => {
  await start();
  fake.addInstance(INSTANCE, "ip-prod-db");
  const env = { OS_CLIENT_CONFIG_FILE: path.join(dir, "clouds.yaml") };
  const serialized = await pulumi.runtime.serializeFunction(() =>
    makeTroveAccessProvider({ pollIntervalMs: 2, env: () => env, log: () => undefined }),
  );
  const filename = path.join(__dirname, "__serialized_trove_access_provider.js");
  const mod = new Module(filename, module) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  mod.filename = filename;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
  mod._compile(serialized.text, filename);
  const loaded = (mod.exports as Record<string, () => ReturnType<typeof makeTroveAccessProvider>>)[serialized.exportName]();
  const preview = inputs({ allowedCidrs: [unknownValue] });
  expect(await loaded.check!(preview, preview)).toEqual({ inputs: preview });
  const created = await loaded.create!(inputs());
  expect(created.outs.publicAddress).toBe(FAKE_TROVE_PUBLIC_ADDRESS);
});
