/**
 * Calls a policy the way @pulumi/policy's analyzer server does (server.js): props wrapped in the SDK's
 * unknown-checking proxy, `getConfig` returning the policy's config, violations collected from `reportViolation`.
 */
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

// The SDK's own proxy (internal, so untyped): the object a policy really receives, which throws on unknowns.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdkProxy = require("@pulumi/policy/proxy") as {
  unknownCheckingProxy<T>(value: T): T;
  UnknownValueError: new (...args: unknown[]) => Error;
  unknownStringValue: string;
};

export const UnknownValueError = sdkProxy.UnknownValueError;
/** What the engine sends for a string that is not known until the update runs. */
export const UNKNOWN_STRING = sdkProxy.unknownStringValue;

export interface Violation {
  readonly message: string;
  readonly urn?: string;
}

export async function resourceViolations(
  policy: ResourceValidationPolicy,
  type: string,
  props: Record<string, unknown>,
  config: Record<string, unknown> = {},
  name = "subject",
): Promise<string[]> {
  const messages: string[] = [];
  const args = {
    type,
    props: sdkProxy.unknownCheckingProxy(props),
    urn: `urn:pulumi:test::image-pipeline::${type}::${name}`,
    name,
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    stackTags: new Map<string, string>(),
    isType: () => false,
    asType: () => undefined,
    getConfig: () => config,
    notApplicable: () => {
      throw new Error("notApplicable");
    },
  } as unknown as ResourceValidationArgs;
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
  for (const validate of validations) await validate(args, (message) => messages.push(message));
  return messages;
}

export interface StackResourceSpec {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
}

export async function stackViolations(
  policy: StackValidationPolicy,
  resources: StackResourceSpec[],
  config: Record<string, unknown> = {},
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const views = resources.map(
    (r) =>
      ({
        type: r.type,
        name: r.name,
        urn: `urn:pulumi:test::image-pipeline::${r.type}::${r.name}`,
        props: sdkProxy.unknownCheckingProxy(r.props),
        opts: {},
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
      }) as unknown as PolicyResource,
  );
  await policy.validateStack(
    {
      resources: views,
      getConfig: <T extends object>() => config as T,
      stackTags: new Map(),
      notApplicable: () => {
        throw new Error("notApplicable");
      },
    },
    (message, urn) => violations.push({ message, urn }),
  );
  return violations;
}
