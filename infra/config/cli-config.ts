/**
 * Stack configuration as the Pulumi CLI hands it to the program: the stack file's values over `Pulumi.yaml`'s
 * `default:` values, every value a string (YAML lists, numbers and booleans JSON-encoded). The program itself gets
 * this from the CLI; the offline plan, `npm run render` and the tests build it here so they see exactly the same.
 * Encrypted (`secure:`) values cannot be read offline, so they become a recognisable stand-in and are marked secret.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE } from "./reader";

export interface CliConfig {
  /** Fully qualified keys (`image-pipeline:nodeCount`) to string values. */
  readonly config: Record<string, string>;
  /** Fully qualified keys whose values are secret. */
  readonly secretKeys: string[];
}

/** How the CLI serialises one YAML config value for the program. */
export function cliConfigValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function readYaml(file: string): Record<string, unknown> {
  return (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
}

/** `Pulumi.yaml`'s declared defaults, keyed by the short key name (no namespace). */
export function projectDefaults(projectDir: string): Record<string, string> {
  const declared = (readYaml(path.join(projectDir, "Pulumi.yaml")).config ?? {}) as Record<string, { default?: unknown }>;
  const defaults: Record<string, string> = {};
  for (const [key, decl] of Object.entries(declared)) {
    if (decl !== null && typeof decl === "object" && decl.default !== undefined) defaults[key] = cliConfigValue(decl.default);
  }
  return defaults;
}

/** The stack names that have a `Pulumi.<stack>.yaml` in the project directory. */
export function listStacks(projectDir: string): string[] {
  return fs
    .readdirSync(projectDir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined);
}

/**
 * What an encrypted (`secure:`) stack value reads as without the stack's secrets provider: a placeholder, since
 * only the Pulumi CLI can decrypt it.
 */
export function offlineSecretPlaceholder(fullKey: string): string {
  return `offline-secret-${fullKey.split(":").pop()}`;
}

/** The stack's config as the CLI passes it: the stack file over the project defaults. */
export function readCliConfig(projectDir: string, stack: string): CliConfig {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`no stack file ${file}; stacks: ${listStacks(projectDir).join(", ")}`);
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(projectDefaults(projectDir))) config[`${CONFIG_NAMESPACE}:${key}`] = value;
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries((readYaml(file).config ?? {}) as Record<string, unknown>)) {
    if (value !== null && typeof value === "object" && "secure" in (value as object)) {
      config[key] = offlineSecretPlaceholder(key);
      secretKeys.push(key);
    } else {
      config[key] = cliConfigValue(value);
    }
  }
  return { config, secretKeys };
}
