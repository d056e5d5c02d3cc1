/**
 * The offline plan's one dependency on Pulumi SDK internals, kept here so a new SDK release breaks one file and
 * its test (test/unit/sdk-hook.test.ts), not the plan.
 *
 * Pulumi's documented mocks (`pulumi.runtime.setMocks`) hand `newResource` the type, name and inputs only. The
 * plan also needs what a reviewer sees in `pulumi preview --diff`: parent, dependencies, provider and resource
 * options. Those travel in the RegisterResourceRequest the SDK sends to the monitor, so the hook wraps the mock
 * monitor's `registerResource` and reads the request before passing it on unchanged.
 *
 * What it relies on (checked against @pulumi/pulumi SDK_VERSION_CHECKED):
 *   - `runtime/settings`: `getMonitor()` returns the MockMonitor `setMocks` installed; `waitForRPCs()`.
 *   - the MockMonitor's `registerResource(request, callback)` method, called for every resource;
 *   - the RegisterResourceRequest getters listed in `RegisterRequest` below;
 *   - `runtime/rpc`: `deserializeProperties`, the unknown placeholder and the special signature constants;
 *   - an `Output`'s internal `isKnown`, `isSecret` and `promise()` (for program outputs that stay unknown in a
 *     preview, where `apply` never runs).
 */
import * as pulumi from "@pulumi/pulumi";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
// eslint-disable-next-line @typescript-eslint/no-require-imports
import settings = require("@pulumi/pulumi/runtime/settings");

/** The @pulumi/pulumi release this module and its test were last checked against. */
export const SDK_VERSION_CHECKED = "3.248.0";

/** The SDK's stand-in for a value not known until the resource is created (`rpc.unknownValue`). */
export const UNKNOWN_VALUE: string = rpc.unknownValue;
export const SIG_KEY: string = rpc.specialSigKey;
export const SECRET_SIG: string = rpc.specialSecretSig;
export const RESOURCE_SIG: string = rpc.specialResourceSig;

/** The parts of pulumirpc.RegisterResourceRequest the plan reads. */
export interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getDependenciesList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getProtect(): boolean;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getDeletebeforereplace(): boolean;
  getRetainondelete(): boolean;
  getAdditionalsecretoutputsList(): string[];
  hasReplacementTrigger(): boolean;
  getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
}

export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** URN of the parent, or "" for top-level resources. */
  readonly parentUrn: string;
  /** Provider reference `<urn>::<id>`, or "" for the default provider. */
  readonly providerRef: string;
  readonly dependencyUrns: string[];
  /** The inputs exactly as the SDK serialised them for the engine: unknowns as UNKNOWN_VALUE, secrets wrapped. */
  readonly serializedInputs: Record<string, unknown>;
  readonly options: {
    readonly protect: boolean;
    readonly ignoreChanges: string[];
    readonly replaceOnChanges: string[];
    readonly deleteBeforeReplace: boolean;
    readonly retainOnDelete: boolean;
    readonly additionalSecretOutputs: string[];
    /** The serialised trigger value, or undefined when none is set. */
    readonly replacementTrigger?: unknown;
  };
}

interface MockMonitorLike {
  registerResource(req: RegisterRequest, callback: unknown): unknown;
}

function currentMonitor(): MockMonitorLike {
  const monitor = (settings as unknown as { getMonitor(): MockMonitorLike | undefined }).getMonitor();
  if (!monitor || typeof monitor.registerResource !== "function") {
    throw new Error(`the Pulumi runtime has no monitor with registerResource (checked against @pulumi/pulumi ${SDK_VERSION_CHECKED})`);
  }
  return monitor;
}

/** Reads one request into a plain record; throws naming the getter when the SDK no longer has it. */
export function readRegistration(req: RegisterRequest): Registration {
  const trigger = req.hasReplacementTrigger() ? req.getReplacementTrigger()?.toJavaScript() : undefined;
  return {
    type: req.getType(),
    name: req.getName(),
    custom: req.getCustom(),
    parentUrn: req.getParent(),
    providerRef: req.getProvider(),
    dependencyUrns: req.getDependenciesList(),
    serializedInputs: req.getObject()?.toJavaScript() ?? {},
    options: {
      protect: req.getProtect(),
      ignoreChanges: req.getIgnorechangesList(),
      replaceOnChanges: req.getReplaceonchangesList(),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      retainOnDelete: req.getRetainondelete(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      replacementTrigger: trigger,
    },
  };
}

/**
 * Calls `observe` with every resource registration from now on. Call after `setMocks`, before the program runs.
 */
export function observeRegistrations(observe: (registration: Registration) => void): void {
  const monitor = currentMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    observe(readRegistration(req));
    return register(req, callback);
  };
}

/** Resolves once every RPC the program started (registrations, invokes, outputs) has finished. */
export function waitForRPCs(): Promise<void> {
  return (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** The SDK's own deserialisation of serialized inputs: secrets stay wrapped, unknowns become `pulumi.Unknown`. */
export function deserializeInputs(serialized: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(serialized)) if (value !== undefined) out[key] = rpc.deserializeProperty(value);
  return out;
}

export interface OutputState {
  readonly known: boolean;
  readonly secret: boolean;
  readonly value: unknown;
}

interface OutputInternals {
  readonly isKnown: Promise<boolean>;
  readonly isSecret: Promise<boolean>;
  promise(): Promise<unknown>;
}

/** What an Output holds, without `apply` (which never runs for an unknown value during a preview). */
export async function outputState(output: pulumi.Output<unknown>): Promise<OutputState> {
  const internals = output as unknown as OutputInternals;
  if (!(internals.isKnown instanceof Promise) || typeof internals.promise !== "function") {
    throw new Error(`Output no longer has isKnown/promise() (checked against @pulumi/pulumi ${SDK_VERSION_CHECKED})`);
  }
  const [known, secret, value] = await Promise.all([internals.isKnown, internals.isSecret, internals.promise()]);
  return { known, secret, value };
}
