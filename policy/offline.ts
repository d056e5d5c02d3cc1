/**
 * Runs the pack's policies over an offline plan (`scripts/plan.ts`), the way @pulumi/policy's analyzer server
 * calls them: resource policies once per resource with `{type, props, urn, name, opts, getConfig, ...}`, stack
 * policies once with every resource, and the enforcement level resolved from the stack's pack config file
 * exactly as `pulumi preview --policy-pack-config` does (a policy's own entry, then `all`, then the policy's
 * level, then the pack's). Lets tests and fork pull requests (no credentials, so no real preview) see what the
 * pack would say.
 *
 * Differences from the engine, by necessity: values are planned inputs (a preview sees provider-checked inputs,
 * and stack policies see outputs), secrets appear as the plan's placeholder instead of decrypted, and stack
 * policies see each resource's id as the plan's mock assigns it (`idOf`).
 */
import * as fs from "fs";
import * as path from "path";
import type {
  EnforcementLevel,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT, POLICY_PACK_NAME, policies as packPolicies } from "./policies";
import { isRecord } from "./values";

export interface OfflineResource {
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly inputs: Record<string, unknown>;
  readonly options?: { ignoreChanges: string[]; deleteBeforeReplace: boolean; additionalSecretOutputs: string[] };
}

export interface Finding {
  readonly policy: string;
  readonly enforcementLevel: EnforcementLevel;
  /** Resource name, or undefined for a stack-wide finding. */
  readonly resource?: string;
  readonly type?: string;
  readonly message: string;
}

type PolicyConfigEntry = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
export type PackConfig = Record<string, PolicyConfigEntry>;
type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];
export const PACK_CONFIG_DIR = path.resolve(__dirname, "config");

/** The pack config a stack's preview uses (`policy/config/<stack>.json`), validated against the pack. */
export function readPackConfig(stack: string, dir = PACK_CONFIG_DIR, policies: readonly AnyPolicy[] = packPolicies): PackConfig {
  const file = path.join(dir, `${stack}.json`);
  if (!fs.existsSync(file)) throw new Error(`no policy pack config for stack ${stack}: create ${file} (e.g. {"all": "mandatory"})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(parsed)) throw new Error(`${file}: must be a JSON object of policy name -> level or settings`);
  const known = new Set(["all", ...policies.map((p) => p.name)]);
  const problems: string[] = [];
  for (const [key, entry] of Object.entries(parsed)) {
    if (!known.has(key)) problems.push(`"${key}" is not a policy of the pack (have: ${[...known].join(", ")})`);
    const level = typeof entry === "string" ? entry : isRecord(entry) ? entry.enforcementLevel : undefined;
    if (level !== undefined && !LEVELS.includes(level as EnforcementLevel))
      problems.push(`"${key}": enforcement level "${String(level)}" is not one of ${LEVELS.join(", ")}`);
    if (typeof entry !== "string" && !isRecord(entry)) problems.push(`"${key}": must be a level or an object`);
  }
  if (problems.length > 0) throw new Error(`${file}:\n  ${problems.join("\n  ")}`);
  return parsed as PackConfig;
}

function levelOf(entry: PolicyConfigEntry | undefined): EnforcementLevel | undefined {
  if (entry === undefined) return undefined;
  return typeof entry === "string" ? entry : entry.enforcementLevel;
}

export function resolveEnforcement(policy: AnyPolicy, config: PackConfig): EnforcementLevel {
  return levelOf(config[policy.name]) ?? levelOf(config.all) ?? policy.enforcementLevel ?? DEFAULT_ENFORCEMENT;
}

/** The object `args.getConfig()` returns: schema defaults overlaid with the policy's configured properties. */
export function resolvePolicyConfig(policy: AnyPolicy, config: PackConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
    if (schema.default !== undefined) out[key] = schema.default;
  }
  const entry = config[policy.name];
  if (isRecord(entry)) {
    for (const [key, value] of Object.entries(entry)) if (key !== "enforcementLevel") out[key] = value;
  }
  return out;
}

class NotApplicable extends Error {}

function urnOf(stack: string, r: OfflineResource): string {
  // The real URN also carries the parent's type chain; policies here only use it to attribute findings.
  return `urn:pulumi:${stack}::image-pipeline::${r.type}::${r.name}`;
}

function optionsOf(r: OfflineResource): PolicyResourceOptions {
  return {
    protect: false,
    ignoreChanges: r.options?.ignoreChanges ?? [],
    deleteBeforeReplace: r.options?.deleteBeforeReplace ?? false,
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: r.options?.additionalSecretOutputs ?? [],
    parent: r.parent,
  };
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
  return (resourceClass as { __pulumiType?: string }).__pulumiType === type;
}

export interface EvaluateOptions {
  readonly stack: string;
  readonly config: PackConfig;
  readonly policies?: readonly AnyPolicy[];
  /** The id a stack policy sees for a resource; scripts/plan.ts's mocks give every resource `<name>-id`. */
  readonly idOf?: (r: OfflineResource) => string;
}

export async function evaluatePolicies(resources: readonly OfflineResource[], options: EvaluateOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const idOf = options.idOf ?? ((r: OfflineResource) => `${r.name}-id`);
  const stackTags = new Map<string, string>();
  for (const policy of options.policies ?? packPolicies) {
    const enforcementLevel = resolveEnforcement(policy, options.config);
    if (enforcementLevel === "disabled") continue;
    const level: EnforcementLevel = enforcementLevel === "remediate" ? "mandatory" : enforcementLevel;
    const policyConfig = resolvePolicyConfig(policy, options.config);
    const notApplicable = (reason?: string): never => {
      throw new NotApplicable(reason);
    };

    if ("validateResource" in policy && policy.validateResource) {
      const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
      for (const r of resources) {
        const args: ResourceValidationArgs = {
          type: r.type,
          props: r.inputs,
          urn: urnOf(options.stack, r),
          name: r.name,
          opts: optionsOf(r),
          stackTags,
          isType: (cls) => isTypeOf(r.type, cls),
          asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? r.inputs : undefined)) as ResourceValidationArgs["asType"],
          getConfig: <T extends object>() => ({ ...policyConfig }) as T,
          notApplicable,
        };
        for (const validate of validations) {
          try {
            await validate(args, (message) =>
              findings.push({ policy: policy.name, enforcementLevel: level, resource: r.name, type: r.type, message }),
            );
          } catch (err) {
            if (!(err instanceof NotApplicable)) throw err;
          }
        }
      }
    }

    if ("validateStack" in policy && policy.validateStack) {
      const byUrn = new Map(resources.map((r) => [urnOf(options.stack, r), r]));
      const views: PolicyResource[] = resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: urnOf(options.stack, r),
        props: { ...r.inputs, id: idOf(r) },
        opts: optionsOf(r),
        dependencies: [],
        propertyDependencies: {},
        isType: (cls) => isTypeOf(r.type, cls),
        asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? r.inputs : undefined)) as PolicyResource["asType"],
      }));
      const args: StackValidationArgs = {
        resources: views,
        getConfig: <T extends object>() => ({ ...policyConfig }) as T,
        stackTags,
        notApplicable,
      };
      try {
        await policy.validateStack(args, (message, urn) => {
          const r = urn ? byUrn.get(urn) : undefined;
          findings.push({ policy: policy.name, enforcementLevel: level, resource: r?.name, type: r?.type, message });
        });
      } catch (err) {
        if (!(err instanceof NotApplicable)) throw err;
      }
    }
  }
  return findings;
}

export { POLICY_PACK_NAME };
