/**
 * What the offline plan and the first-preview check take from Pulumi SDK internals (scripts/sdk/): each test
 * fails when an SDK release changes one of them, naming what moved.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DynamicProviderHost, HOST_SCRIPT, stripSecrets } from "../../scripts/sdk/dynamic-provider-host";
import {
  deserializeInputs,
  observeRegistrations,
  outputState,
  Registration,
  SDK_VERSION_CHECKED,
  SECRET_SIG,
  SIG_KEY,
  UNKNOWN_VALUE,
  waitForRPCs,
} from "../../scripts/sdk/monitor-hook";

const root = path.resolve(__dirname, "../..");

test("the note of the SDK version these internals were checked against is the installed one", () => {
  const installed = (JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as { version: string }).version;
  // After an upgrade: run this file, fix what fails, then update SDK_VERSION_CHECKED in scripts/sdk/monitor-hook.ts.
  expect(installed).toBe(SDK_VERSION_CHECKED);
});

describe("the mock-monitor hook", () => {
  const seen: Registration[] = [];
  /** Every option the plan reports, each set to a value other than its default. */
  const options = {
    protect: true,
    ignoreChanges: ["length"],
    replaceOnChanges: ["special"],
    deleteBeforeReplace: true,
    retainOnDelete: true,
    additionalSecretOutputs: ["result"],
    replacementTrigger: "rotate-2026",
  };

  beforeAll(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => ({ id: args.type.startsWith("pulumi:providers:") ? "" : `${args.name}-id`, state: args.inputs }),
        call: (args) => args.inputs,
      },
      "hook-project",
      "hook-stack",
      true,
    );
    observeRegistrations((r) => seen.push(r));
    class Parent extends pulumi.ComponentResource {
      constructor(name: string) {
        super("test:index:Parent", name);
        this.registerOutputs({});
      }
    }
    const parent = new Parent("parent");
    const provider = new random.Provider("random-provider", {});
    const first = new random.RandomString("first", { length: 8 }, { parent });
    new random.RandomString(
      "second",
      { length: 12, special: false, keepers: { secret: pulumi.secret("hush"), pending: first.result } },
      { parent, provider, dependsOn: [first], ...options },
    );
    await waitForRPCs();
  });

  test("sees type, name, parent, provider and dependencies of every registration", () => {
    const second = seen.find((r) => r.name === "second");
    expect(second).toMatchObject({ type: "random:index/randomString:RandomString", name: "second", custom: true });
    expect(second?.parentUrn).toBe("urn:pulumi:hook-stack::hook-project::test:index:Parent::parent");
    expect(second?.providerRef).toMatch(/^urn:pulumi:hook-stack::hook-project::pulumi:providers:random::random-provider::/);
    expect(second?.dependencyUrns).toContain(
      "urn:pulumi:hook-stack::hook-project::test:index:Parent$random:index/randomString:RandomString::first",
    );
    expect(seen.find((r) => r.name === "parent")).toMatchObject({ type: "test:index:Parent", custom: false });
  });

  test("sees every resource option the plan shows", () => {
    expect(seen.find((r) => r.name === "second")?.options).toEqual(options);
    expect(seen.find((r) => r.name === "first")?.options).toMatchObject({
      protect: false,
      deleteBeforeReplace: false,
      replacementTrigger: undefined,
    });
  });

  test("sees the inputs as serialised for the engine: secrets wrapped, unknowns as the placeholder", () => {
    const inputs = seen.find((r) => r.name === "second")?.serializedInputs;
    expect(inputs).toEqual({
      length: 12,
      special: false,
      keepers: { secret: { [SIG_KEY]: SECRET_SIG, value: "hush" }, pending: UNKNOWN_VALUE },
    });
    const deserialized = deserializeInputs(inputs ?? {});
    // The SDK's deserialiser lifts a nested secret to the enclosing map.
    const keepers = deserialized.keepers as { [SIG_KEY]: string; value: Record<string, unknown> };
    expect(keepers[SIG_KEY]).toBe(SECRET_SIG);
    expect(pulumi.isUnknown(keepers.value.pending)).toBe(true);
    expect(stripSecrets(inputs)).toEqual({ length: 12, special: false, keepers: { secret: "hush", pending: UNKNOWN_VALUE } });
  });

  test("reads an Output's state without apply, unknown ones included", async () => {
    expect(await outputState(pulumi.output("known"))).toEqual({ known: true, secret: false, value: "known" });
    expect(await outputState(pulumi.secret("hush"))).toEqual({ known: true, secret: true, value: "hush" });
    const pending = new random.RandomPassword("pending", { length: 8 });
    expect(await outputState(pending.result)).toMatchObject({ known: false });
  });
});

describe("the SDK's dynamic-provider host", () => {
  // The host loads `__provider` as a module exporting `handler`, as the SDK's closure serialiser writes it.
  const provider = `exports.handler = () => ({
    async check(olds, news) { return { inputs: { ...news, checked: true }, failures: news.bad ? [{ property: "bad", reason: "no: " + news.bad }] : [] }; },
    async diff(id, olds, news) { return { changes: true, replaces: ["name"], deleteBeforeReplace: true }; },
  });`;

  test("is where the engine finds it, and answers check and diff over gRPC", async () => {
    expect(fs.existsSync(HOST_SCRIPT)).toBe(true);
    const host = await DynamicProviderHost.start(root);
    try {
      const checked = await host.check("urn:pulumi:s::p::pulumi-nodejs:dynamic:Resource::r", { __provider: provider, name: "a" });
      expect(checked).toEqual({ inputs: { __provider: provider, name: "a", checked: true }, failures: [] });
      const rejected = await host.check("urn:pulumi:s::p::pulumi-nodejs:dynamic:Resource::r", { __provider: provider, bad: "x" });
      expect(rejected.failures).toEqual([{ property: "bad", reason: "no: x" }]);
      expect(await host.diff("urn:pulumi:s::p::pulumi-nodejs:dynamic:Resource::r", "id", {}, checked.inputs)).toEqual({
        changes: "some",
        replaces: ["name"],
        deleteBeforeReplace: true,
      });
    } finally {
      await host.stop();
    }
  });
});
