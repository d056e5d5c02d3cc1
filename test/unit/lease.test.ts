/**
 * The Blazar lease dynamic provider against a local STAND-IN for Keystone v3 and Blazar v1 (test/support/
 * fakeOpenStack.ts): the real APIs cannot run here. Asserts the exact requests the provider sends.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { makeLeaseProvider, LeaseInputs } from "../../infra/blazar/lease-provider";
import { FakeOpenStack, FakeOpenStackOptions } from "../support/fakeOpenStack";

const APP_CRED = { id: "4f1c-app-cred", secret: "s3cr3t" };
const NOW = new Date("2026-11-22T12:00:00Z");

let fake: FakeOpenStack;
let logs: string[];

async function startFake(options: FakeOpenStackOptions = {}) {
  fake = new FakeOpenStack({ applicationCredential: APP_CRED, ...options });
  await fake.start();
  logs = [];
}

afterEach(async () => fake?.stop());

function provider(env: NodeJS.ProcessEnv = {}) {
  return makeLeaseProvider({
    pollIntervalMs: 5,
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    env: () => env,
    log: (m) => logs.push(m),
    now: () => NOW,
  });
}

function inputs(overrides: Partial<LeaseInputs> = {}): LeaseInputs {
  return {
    auth: { authUrl: `${fake.url}/identity/v3`, applicationCredentialId: APP_CRED.id, applicationCredentialSecret: APP_CRED.secret },
    name: "ip-dev-lease",
    reservation: { type: "flavor:instance", flavorId: "flavor-m1-medium-uuid", amount: 3 },
    start: "now",
    durationHours: 8,
    timeoutMinutes: 1,
    ...overrides,
  };
}

test("create: authenticates, posts a flavor:instance reservation, waits through PENDING and STARTING to ACTIVE", async () => {
  await startFake();
  const result = await provider().create!(inputs());

  expect(fake.requests[0]).toEqual({
    method: "POST",
    path: "/identity/v3/auth/tokens",
    token: undefined,
    body: {
      auth: { identity: { methods: ["application_credential"], application_credential: { id: APP_CRED.id, secret: APP_CRED.secret } } },
    },
  });
  const blazar = fake.blazarRequests();
  expect(blazar[0]).toEqual({
    method: "POST",
    path: "/reservation/v1/leases",
    token: "gAAAAABfake-keystone-token",
    body: {
      name: "ip-dev-lease",
      start_date: "now",
      end_date: "2026-11-22 20:00",
      reservations: [{ resource_type: "flavor:instance", flavor_id: "flavor-m1-medium-uuid", amount: 3, affinity: null }],
      events: [],
    },
  });
  expect(blazar.slice(1).map((r) => `${r.method} ${r.path}`)).toEqual(Array(3).fill("GET /reservation/v1/leases/lease-1"));
  expect(result.id).toBe("lease-1");
  expect(result.outs).toMatchObject({
    leaseId: "lease-1",
    reservationId: "reservation-1-0",
    reservedFlavorId: "reservation-1-0",
    status: "ACTIVE",
    startDate: "2026-11-22T12:00:00.000Z",
    leaseEndDate: "2026-11-22T20:00:00.000Z",
  });
  expect(logs).toEqual([
    "lease ip-dev-lease: created lease-1, waiting for ACTIVE",
    "lease ip-dev-lease: PENDING",
    "lease ip-dev-lease: STARTING",
    "lease ip-dev-lease: ACTIVE",
  ]);
});

test("create: physical:host reservations send min, max and the host filter; no reserved flavor is output", async () => {
  await startFake();
  const filter = '["=", "$node_type", "compute_skylake"]';
  const result = await provider().create!(
    inputs({
      reservation: { type: "physical:host", count: 3, resourceProperties: filter },
      durationHours: undefined,
      endDate: "2026-11-23T08:30:00.000Z",
    }),
  );
  expect(fake.blazarRequests()[0].body).toMatchObject({
    end_date: "2026-11-23 08:30",
    reservations: [{ resource_type: "physical:host", min: 3, max: 3, hypervisor_properties: "", resource_properties: filter }],
  });
  expect(result.outs.reservedFlavorId).toBeUndefined();
  expect(result.outs.reservationId).toBe("reservation-1-0");
});

test("create: a lease that goes to ERROR fails with Blazar's reason and is deleted", async () => {
  await startFake({ statusScript: ["PENDING", "ERROR"], errorReason: "Not enough hosts available" });
  await expect(provider().create!(inputs())).rejects.toThrow(
    "lease ip-dev-lease (lease-1) failed to start: status ERROR; reason: Not enough hosts available",
  );
  expect(fake.blazarRequests().at(-1)).toMatchObject({ method: "DELETE", path: "/reservation/v1/leases/lease-1" });
  expect(fake.leases.get("lease-1")?.deleted).toBe(true);
});

test("create: a lease stuck in STARTING past the timeout is deleted and the last state reported", async () => {
  await startFake({ statusScript: ["STARTING"] });
  const p = makeLeaseProvider({
    pollIntervalMs: 20,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    env: () => ({}),
    log: () => undefined,
    now: () => NOW,
  });
  await expect(p.create!(inputs({ timeoutMinutes: 0.001 }))).rejects.toThrow(
    /lease ip-dev-lease \(lease-1\) did not reach ACTIVE within 0 min; last seen status STARTING/,
  );
  expect(fake.leases.get("lease-1")?.deleted).toBe(true);
});

test("check accepts values a preview does not know yet and judges the known ones; create validates before any request", async () => {
  await startFake();
  const p = provider();
  const preview = inputs({
    auth: { ...inputs().auth, applicationCredentialSecret: unknownValue },
    reservation: { type: "flavor:instance", flavorId: unknownValue, amount: 3 },
    endDate: unknownValue,
  });
  expect((await p.check!({}, preview)).failures).toEqual([]);
  expect((await p.check!({}, inputs({ start: "tomorrow", timeoutMinutes: 0 }))).failures).toEqual([
    { property: "start", reason: 'must be "now" or an ISO-8601 date, got "tomorrow"' },
    { property: "timeoutMinutes", reason: "must be a positive number of minutes, got 0" },
  ]);
  expect((await p.check!({}, inputs({ reservation: { type: "physical:host", count: 0, resourceProperties: "" } }))).failures).toEqual([
    { property: "reservation", reason: "count must be a positive whole number, got 0" },
  ]);
  await expect(p.create!(preview)).rejects.toThrow(/^lease ip-dev-lease: endDate: must be an ISO-8601 date/);
  expect(fake.requests).toEqual([]);
});

test("diff takes an unknown value as a change, without failing", async () => {
  await startFake();
  const p = provider();
  const created = await p.create!(inputs());
  expect(await p.diff!(created.id, created.outs, inputs({ endDate: unknownValue, durationHours: undefined }))).toEqual({
    changes: true,
    replaces: [],
    deleteBeforeReplace: true,
  });
  const newFlavor = inputs({ reservation: { type: "flavor:instance", flavorId: unknownValue, amount: 3 } });
  expect((await p.diff!(created.id, created.outs, newFlavor)).replaces).toEqual(["reservation"]);
});

test("update: a new end date is a PUT (extension), and the lease returns to ACTIVE", async () => {
  await startFake();
  const p = provider();
  const created = await p.create!(inputs());
  const news = inputs({ durationHours: undefined, endDate: "2026-11-29T12:00:00.000Z" });
  const diff = await p.diff!(created.id, created.outs, news);
  expect(diff).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
  const updated = await p.update!(created.id, created.outs, news);
  const put = fake.blazarRequests().find((r) => r.method === "PUT");
  expect(put).toEqual({
    method: "PUT",
    path: "/reservation/v1/leases/lease-1",
    token: "gAAAAABfake-keystone-token",
    body: { end_date: "2026-11-29 12:00" },
  });
  expect(updated.outs).toMatchObject({ status: "ACTIVE", leaseEndDate: "2026-11-29T12:00:00.000Z" });
});

test("diff: another flavor, amount or name replaces; same inputs change nothing", async () => {
  await startFake();
  const p = provider();
  const created = await p.create!(inputs());
  expect(await p.diff!(created.id, created.outs, inputs())).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
  expect(
    (
      await p.diff!(
        created.id,
        created.outs,
        inputs({ reservation: { type: "flavor:instance", flavorId: "flavor-m1-medium-uuid", amount: 4 } }),
      )
    ).replaces,
  ).toEqual(["reservation"]);
  expect((await p.diff!(created.id, created.outs, inputs({ name: "other" }))).replaces).toEqual(["name"]);
});

test("read refreshes the status; a lease gone from Blazar reads as deleted; delete tolerates 404", async () => {
  await startFake();
  const p = provider();
  const created = await p.create!(inputs());
  fake.leases.get("lease-1")!.script = ["TERMINATED"];
  expect((await p.read!(created.id, created.outs)).props).toMatchObject({ status: "TERMINATED" });
  await p.delete!(created.id, created.outs);
  await p.delete!(created.id, created.outs);
  expect(fake.blazarRequests().filter((r) => r.method === "DELETE")).toHaveLength(2);
  expect(await p.read!(created.id, created.outs)).toEqual({});
});

test("429 and 5xx are retried with backoff; exhausting retries names the lease and the call", async () => {
  await startFake({ transientFailures: { count: 2, status: 503 } });
  const ok = await provider().create!(inputs());
  expect(ok.outs.status).toBe("ACTIVE");
  expect(
    fake
      .blazarRequests()
      .slice(0, 3)
      .map((r) => r.method),
  ).toEqual(["POST", "POST", "POST"]);
  await fake.stop();

  await startFake({ transientFailures: { count: 10, status: 429 } });
  await expect(provider().create!(inputs())).rejects.toThrow(
    /^create lease ip-dev-lease: gave up after 3 attempts; last: POST http:\/\/127\.0\.0\.1:\d+\/reservation\/v1\/leases answered 429/,
  );
});

test("connection errors are retried and then reported with the call", async () => {
  await startFake();
  const url = fake.url;
  await fake.stop();
  const p = provider();
  await expect(
    p.create!({ ...inputs(), auth: { authUrl: `${url}/identity/v3`, applicationCredentialId: "x", applicationCredentialSecret: "y" } }),
  ).rejects.toThrow(
    /^authenticate to Keystone: gave up after 3 attempts; last: POST http:\/\/127\.0\.0\.1:\d+\/identity\/v3\/auth\/tokens: ECONNREFUSED/,
  );
});

test("credentials from clouds.yaml (password auth, project-scoped) via OS_CLOUD", async () => {
  await startFake({ password: { user: "alice", password: "pw", projectName: "CHI-231138" } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clouds-"));
  const file = path.join(dir, "clouds.yaml");
  fs.writeFileSync(
    file,
    [
      "clouds:",
      "  chameleon:",
      "    auth:",
      `      auth_url: ${fake.url}/identity/v3`,
      "      username: alice",
      "      password: pw",
      "      project_name: CHI-231138",
      "      user_domain_name: chameleon",
      "      project_domain_name: chameleon",
      "    region_name: CHI@TACC",
      "    interface: public",
      "",
    ].join("\n"),
  );
  const result = await provider({ OS_CLOUD: "chameleon", OS_CLIENT_CONFIG_FILE: file }).create!({ ...inputs(), auth: {} });
  expect(fake.requests[0].body).toEqual({
    auth: {
      identity: { methods: ["password"], password: { user: { name: "alice", domain: { name: "chameleon" }, password: "pw" } } },
      scope: { project: { name: "CHI-231138", domain: { name: "chameleon" } } },
    },
  });
  expect(result.outs.status).toBe("ACTIVE");
  fs.rmSync(dir, { recursive: true });
});

test("a cloud without Blazar gets an error that says so and what to set", async () => {
  await startFake({ omitReservationService: true });
  await expect(provider().create!(inputs())).rejects.toThrow(
    'the service catalog has no "reservation" service (found: identity); this cloud has no Blazar, so set image-pipeline:leaseType none',
  );
});

test("wrong credentials fail at Keystone without retrying", async () => {
  await startFake();
  await expect(provider().create!({ ...inputs(), auth: { ...inputs().auth, applicationCredentialSecret: "wrong" } })).rejects.toThrow(
    /^authenticate to Keystone: POST .* answered 401/,
  );
  expect(fake.requests).toHaveLength(1);
});
