/**
 * The first `pulumi preview` of a new stack, reproduced offline.
 *
 * What the engine knows during that preview, and what it sends where:
 *   - Every resource is a create. A provider that supports previews answers with the checked inputs and leaves
 *     everything it computes (ids, addresses, keys, certificates, passwords, any output that is not an input)
 *     unknown; so does `previewState` for every resource here.
 *   - The dynamic-provider host does not support previews (its Configure answer sets no `supportsPreview`), so
 *     the engine gives a dynamic resource no outputs at all: all of them are unknown, inputs included.
 *   - Invokes (getNetwork, getFlavor, ...) and stack references are read for real during a preview; their mocked
 *     answers stay known.
 *   - Each dynamic resource's inputs reach its provider's `check` (old inputs: none) with secrets removed and
 *     unknown values as the SDK's unknown placeholder; `checkDynamicResources` sends them through the SDK's own
 *     provider host, then `diff` against no old state.
 * Engine reference: pulumi/pulumi sdk/go/common/resource/plugin/provider_plugin.go (`Configure`, `Check`, `Create`).
 */
import type * as pulumi from "@pulumi/pulumi";
import { CheckFailure, DiffResult, DynamicProviderHost, stripSecrets } from "../sdk/dynamic-provider-host";
import type { Registration } from "../sdk/monitor-hook";

export const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic";
const STACK_REFERENCE = "pulumi:pulumi:StackReference";

export type KnownOutputs = (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

/** The mock answer for a resource during a first preview: inputs known, everything computed unknown. */
export function previewState(
  args: pulumi.runtime.MockResourceArgs,
  readOutputs: KnownOutputs,
): { id: string; state: Record<string, unknown> } {
  // A stack reference is a read of another stack's existing outputs, which a preview does.
  if (args.type === STACK_REFERENCE) return { id: args.name, state: { ...args.inputs, ...readOutputs(args.type, args.name, args.inputs) } };
  // An empty id is an unknown one in a preview; absent state keys are unknown outputs.
  if (args.type.startsWith(`${DYNAMIC_TYPE_PREFIX}/`) || args.type.startsWith(`${DYNAMIC_TYPE_PREFIX}:`)) return { id: "", state: {} };
  return { id: "", state: args.inputs };
}

export interface DynamicResourceCheck {
  readonly name: string;
  readonly type: string;
  readonly urn: string;
  /** What `check` rejected; empty when it accepted the inputs. */
  readonly failures: CheckFailure[];
  /** A `check` or `diff` that threw (the engine fails the preview on it as well). */
  readonly error?: string;
  readonly diff?: DiffResult;
}

export interface CheckContext {
  readonly stack: string;
  readonly project: string;
  /** The project directory, where the engine runs the provider host. */
  readonly cwd: string;
}

/** The URN the engine gives a registration: the parent's qualified type, then this type, then the name. */
export function registrationUrn(r: Registration, ctx: Pick<CheckContext, "stack" | "project">): string {
  const parentType = r.parentUrn ? r.parentUrn.split("::")[2] : "";
  const qualifiedType = parentType && !parentType.startsWith("pulumi:pulumi:Stack") ? `${parentType}$${r.type}` : r.type;
  return `urn:pulumi:${ctx.stack}::${ctx.project}::${qualifiedType}::${r.name}`;
}

function errorText(err: unknown): string {
  const e = err as { details?: string; message?: string };
  return e.details || e.message || String(err);
}

/** Sends each dynamic resource's preview inputs through the SDK's provider host: `check`, then `diff`. */
export async function checkDynamicResources(registrations: readonly Registration[], ctx: CheckContext): Promise<DynamicResourceCheck[]> {
  const dynamic = registrations.filter((r) => r.custom && r.type.startsWith(DYNAMIC_TYPE_PREFIX));
  if (dynamic.length === 0) return [];
  const host = await DynamicProviderHost.start(ctx.cwd);
  const results: DynamicResourceCheck[] = [];
  try {
    for (const r of dynamic) {
      const urn = registrationUrn(r, ctx);
      const base = { name: r.name, type: r.type, urn };
      const news = stripSecrets(r.serializedInputs) as Record<string, unknown>;
      try {
        const checked = await host.check(urn, news);
        if (checked.failures.length > 0) {
          results.push({ ...base, failures: checked.failures });
          continue;
        }
        const diff = await host.diff(urn, "", {}, checked.inputs);
        results.push({ ...base, failures: [], diff });
      } catch (err) {
        results.push({ ...base, failures: [], error: errorText(err) });
      }
    }
  } finally {
    await host.stop();
  }
  return results;
}

/** One line per problem, naming the resource: what the engine would report before failing the preview. */
export function formatCheckFailures(checks: readonly DynamicResourceCheck[]): string[] {
  const lines: string[] = [];
  for (const c of checks) {
    for (const f of c.failures) lines.push(`${c.name} (${c.type}): check failed: ${f.property}: ${f.reason}`);
    if (c.error !== undefined) lines.push(`${c.name} (${c.type}): ${c.error}`);
  }
  return lines;
}
