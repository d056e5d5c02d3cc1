/**
 * Values the engine does not know yet, as a dynamic provider receives them.
 *
 * During a preview (and in an update, for outputs of resources not created yet) the engine passes a dynamic
 * provider's `check` and `diff` the SDK's placeholder string wherever a value is unknown, at any depth: the floating
 * IP, a certificate, an instance id. A provider must not reject the placeholder there; `create` and `update` only
 * ever see known values and validate for real.
 */
import type * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";

/** The SDK's placeholder for an unknown value (`@pulumi/pulumi/runtime/rpc`'s `unknownValue`). */
export const UNKNOWN_VALUE: string = unknownValue;

/** Whether `value` is unknown or contains an unknown value (in a list or an object, at any depth). */
export function containsUnknown(value: unknown): boolean {
  if (value === unknownValue) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** The failures that concern known values only: what `check` may report while some inputs are unknown. */
export function failuresOfKnownValues(failures: readonly pulumi.dynamic.CheckFailure[], inputs: object): pulumi.dynamic.CheckFailure[] {
  return failures.filter((f) => !containsUnknown((inputs as Record<string, unknown>)[f.property]));
}

/** Throws naming every failure: for `create` and `update`, which must never act on invalid or unknown inputs. */
export function assertValid(what: string, failures: readonly pulumi.dynamic.CheckFailure[]): void {
  if (failures.length > 0) throw new Error(`${what}: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
}
