/**
 * The first-preview check itself (`npm run plan -- --preview`), on small programs: it must send a dynamic
 * resource what a first `pulumi preview` sends (secrets removed, unknowns as the SDK's placeholder, no old
 * state) through the SDK's real provider host, and fail naming the resource when `check` rejects that.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { planStack } from "../../scripts/plan";
import { formatCheckFailures } from "../../scripts/preview/first-preview";

/** A provider like the readiness gate before it learned about previews: every input must be PEM text. */
const rejectsUnknowns: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    const failures = String(news.pem).includes("-----BEGIN ")
      ? []
      : [{ property: "pem", reason: `pem must be PEM text, got "${news.pem}"` }];
    return { inputs: news, failures };
  },
  async create() {
    return { id: "never" };
  },
};

/** Reports, as a check failure, exactly what `check` and `diff` received, so the test can read it. */
const reportsInputs: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return { inputs: news, failures: [{ property: "seen", reason: JSON.stringify({ olds, news: { ...news, __provider: "<code>" } }) }] };
  },
  async create() {
    return { id: "never" };
  },
};

const acceptsUnknowns: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff(_id, olds, news) {
    return { changes: JSON.stringify(olds) !== JSON.stringify(news), replaces: [], deleteBeforeReplace: false };
  },
  async create() {
    return { id: "never" };
  },
};

class Probe extends pulumi.dynamic.Resource {
  constructor(name: string, provider: pulumi.dynamic.ResourceProvider, args: Record<string, pulumi.Input<unknown>>) {
    super(provider, name, args, {}, "test", "Probe");
  }
}

function program(provider: pulumi.dynamic.ResourceProvider) {
  return () => {
    const password = new random.RandomPassword("password", { length: 16 });
    new Probe("probe", provider, {
      pem: password.result,
      label: "fixed",
      secretLabel: pulumi.secret("hush"),
      nested: { list: [password.result, "known"] },
    });
    return { password: password.result };
  };
}

test("a dynamic provider whose check rejects an unknown value fails the check, naming the resource and property", async () => {
  const plan = await planStack("dev", { preview: true, program: program(rejectsUnknowns) });
  expect(formatCheckFailures(plan.dynamicChecks ?? [])).toEqual([
    `probe (pulumi-nodejs:dynamic/test:Probe): check failed: pem: pem must be PEM text, got "${unknownValue}"`,
  ]);
});

test("check gets no old inputs, secrets unwrapped and every unknown as the SDK's placeholder, nested ones too", async () => {
  const plan = await planStack("dev", { preview: true, program: program(reportsInputs) });
  const [check] = plan.dynamicChecks ?? [];
  expect(check.failures).toHaveLength(1);
  expect(JSON.parse(check.failures[0].reason)).toEqual({
    olds: {},
    news: {
      pem: unknownValue,
      label: "fixed",
      secretLabel: "hush",
      nested: { list: [unknownValue, "known"] },
      __provider: "<code>",
    },
  });
  // The program's own outputs are unknown too: the password is only generated when it is created.
  expect(plan.outputs.password).toBe("[unknown]");
});

test("a provider that accepts unknowns passes check and is diffed against no old state", async () => {
  const plan = await planStack("dev", { preview: true, program: program(acceptsUnknowns) });
  expect(formatCheckFailures(plan.dynamicChecks ?? [])).toEqual([]);
  expect(plan.dynamicChecks).toEqual([
    expect.objectContaining({ name: "probe", failures: [], diff: { changes: "some", replaces: [], deleteBeforeReplace: false } }),
  ]);
});

test("a provider that throws in check fails the check with its message", async () => {
  const throws: pulumi.dynamic.ResourceProvider = {
    async check() {
      throw new Error("cannot parse the certificate");
    },
    async create() {
      return { id: "never" };
    },
  };
  const plan = await planStack("dev", { preview: true, program: program(throws) });
  expect(formatCheckFailures(plan.dynamicChecks ?? [])).toEqual([
    expect.stringMatching(/^probe \(pulumi-nodejs:dynamic\/test:Probe\): .*cannot parse the certificate/),
  ]);
});

test("in preview mode values that only exist after creation are unknown in the plan, inputs are not", async () => {
  const plan = await planStack("dev", {
    preview: true,
    program: () => {
      const password = new random.RandomPassword("password", { length: 16 });
      const id = new random.RandomId("id", { byteLength: 4, keepers: { password: password.result } });
      return { hex: id.hex, length: password.length };
    },
  });
  expect(plan.outputs).toEqual({ hex: "[unknown]", length: 16 });
  expect(plan.resources.find((r) => r.name === "id")?.inputs).toEqual({ byteLength: 4, keepers: { password: "[unknown]" } });
});
