import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { ConfigError, type ConfigSource } from "../../infra/config";
import { projectDefaults, readCliConfig } from "../../infra/config/cli-config";
import { applyStandIns } from "../../scripts/plan-stand-ins";

/** A ConfigSource over plain values, keys without the namespace: what `pulumi config` would hold. */
export function mapSource(values: Record<string, string>): ConfigSource {
  return { get: (key) => values[key], secret: (key) => values[key] };
}

/**
 * A committed stack's config as the CLI passes it to the program (the stack file over Pulumi.yaml's defaults),
 * namespace stripped, with overrides applied. An override of `undefined` removes the stack file's value, as
 * `pulumi config rm` does: the project default, if any, then applies again. Settings the stack file leaves to the
 * operator get the offline plan's stand-ins (scripts/plan-stand-ins.ts), as `npm run plan` does.
 */
export function stackValues(stack: string, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const root = path.resolve(__dirname, "../..");
  const defaults = projectDefaults(root);
  const { config, secretKeys } = readCliConfig(root, stack);
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) config[`image-pipeline:${key}`] = value;
  }
  // Stand-ins are plain values even when their key is secret; only the stack file's `secure:` values are unreadable.
  applyStandIns(
    config,
    [],
    Object.keys(overrides).map((k) => `image-pipeline:${k}`),
  );
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    const short = key.replace(/^image-pipeline:/, "");
    if (short === key) continue;
    values[short] = secretKeys.includes(key) ? `secret-${short}` : value;
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) values[key] = value;
    else if (defaults[key] !== undefined) values[key] = defaults[key];
    else delete values[key];
  }
  return values;
}

/** The keys a committed stack file sets itself (namespace stripped), as opposed to what the project defaults fill in. */
export function stackFileKeys(stack: string): string[] {
  const doc = parseYaml(fs.readFileSync(path.resolve(__dirname, "../..", `Pulumi.${stack}.yaml`), "utf8")) as {
    config?: Record<string, unknown>;
  };
  return Object.keys(doc.config ?? {}).map((k) => k.replace(/^image-pipeline:/, ""));
}

/** The problems a config parse reports; fails the test when it parses cleanly or throws anything else. */
export function configProblems(parse: () => unknown): string[] {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}
