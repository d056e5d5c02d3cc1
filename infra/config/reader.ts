/**
 * The generic config reader every section uses.
 *
 * The Pulumi CLI merges `Pulumi.yaml`'s `default:` values into a stack's config before the program runs, so the
 * program sees a project default exactly as if the user had set it. The reader therefore knows the project
 * defaults (the sections' tables, which a test keeps equal to `Pulumi.yaml`) and can tell a value the user chose
 * (`isSet`) from a default the CLI filled in. Problems are collected, not thrown, so one run lists all of them.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../worker/src/config-error";

export const CONFIG_NAMESPACE = "image-pipeline";

/** Reads raw config values. Secret keys are read through `secret` so they stay secret in the program. */
export interface ConfigSource {
  get(key: string): string | undefined;
  secret(key: string): pulumi.Input<string> | undefined;
}

/**
 * A section's defaults, in the form the CLI passes them to the program (strings; lists as JSON). `""` means
 * optional or derived from other values; a key that is absent from every table is required.
 */
export type ConfigDefaults = Readonly<Record<string, string>>;

export type Environment = "dev" | "prod";

export { ConfigError };

/** Collects problems so the user sees all of them in one run instead of fixing one per `pulumi up`. */
export class ConfigReader {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  constructor(
    private readonly source: ConfigSource,
    private readonly defaults: ConfigDefaults,
  ) {}

  problem(key: string, what: string, fix: string): void {
    this.problems.push(`${CONFIG_NAMESPACE}:${key}: ${what}. Fix: ${fix}`);
  }

  warn(key: string, what: string): void {
    this.warnings.push(`${CONFIG_NAMESPACE}:${key}: ${what}`);
  }

  /** The project default of a key; a programming error when the key has none (it is then required). */
  defaultOf(key: string): string {
    const value = this.defaults[key];
    if (value === undefined) throw new Error(`config key ${key} has no default in infra/config (declare one, or read it as required)`);
    return value;
  }

  optionalString(key: string): string | undefined {
    const value = this.source.get(key);
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === "" ? undefined : trimmed;
  }

  /**
   * True when the user chose a value other than the project default. A default merged in by the CLI is not a
   * choice: a setting that only applies to one kind (a lease start, a Trove volume size) must not make a stack
   * of another kind invalid just because `Pulumi.yaml` gives it a default.
   */
  isSet(key: string): boolean {
    const value = this.optionalString(key);
    if (value === undefined) return false;
    const fallback = this.defaults[key];
    return fallback === undefined || value !== fallback.trim();
  }

  /** The value, else `derived` when given (for defaults computed from other values), else the project default. */
  string(key: string, derived?: string): string {
    const value = this.optionalString(key);
    if (value !== undefined) return value;
    const fallback = this.defaultOf(key);
    return fallback === "" && derived !== undefined ? derived : fallback;
  }

  requiredString(key: string, example: string): string {
    const value = this.optionalString(key);
    if (value === undefined) {
      this.problem(key, "is required and not set", `pulumi config set ${key} ${example}`);
      return "";
    }
    return value;
  }

  integer(key: string, min: number, max: number): number {
    const fallback = Number(this.defaultOf(key));
    const raw = this.optionalString(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      this.problem(
        key,
        `must be a whole number from ${min} to ${max}, got "${raw}"`,
        `pulumi config set ${key} ${Math.max(min, Math.min(max, fallback))}`,
      );
      return fallback;
    }
    return value;
  }

  boolean(key: string): boolean {
    const fallback = this.defaultOf(key) === "true";
    const raw = this.optionalString(key);
    if (raw === undefined) return fallback;
    if (raw === "true" || raw === "false") return raw === "true";
    this.problem(key, `must be true or false, got "${raw}"`, `pulumi config set ${key} ${fallback}`);
    return fallback;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], derived?: T): T {
    const declared = this.defaultOf(key);
    const fallback = (declared === "" && derived !== undefined ? derived : declared) as T;
    const raw = this.optionalString(key);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problem(key, `must be one of ${allowed.join(", ")}, got "${raw}"`, `pulumi config set ${key} ${fallback}`);
    return fallback;
  }

  /** A JSON array of strings, as `pulumi config set --path` or a YAML list in the stack file produces. */
  stringList(key: string): string[] {
    const raw = this.optionalString(key) ?? this.defaultOf(key);
    try {
      const parsed: unknown = JSON.parse(raw);
      if (Array.isArray(parsed) && parsed.every((v) => typeof v === "string")) return parsed;
    } catch {
      // reported below
    }
    this.problem(key, `must be a list of strings, got ${raw}`, `set it as a YAML list in Pulumi.<stack>.yaml, e.g. ["1.1.1.1"]`);
    return [];
  }

  optionalSecret(key: string): pulumi.Input<string> | undefined {
    return this.source.secret(key);
  }

  requiredSecret(key: string, example: string): pulumi.Input<string> {
    const value = this.source.secret(key);
    if (value === undefined) {
      this.problem(key, "is required and not set", `pulumi config set --secret ${key} ${example}`);
      return "";
    }
    return value;
  }
}
