import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { ConfigError, type ConfigSource } from "../../infra/config";

/** A ConfigSource over plain values, keys without the namespace: what `pulumi config` would hold. */
export function mapSource(values: Record<string, string>): ConfigSource {
  return { get: (key) => values[key], secret: (key) => values[key] };
}

/** The values of a committed stack file, namespace stripped, with overrides applied. */
export function stackValues(stack: string, overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const file = path.resolve(__dirname, "../..", `Pulumi.${stack}.yaml`);
  const doc = parseYaml(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.config)) {
    const short = key.replace(/^image-pipeline:/, "");
    if (short === key) continue;
    values[short] =
      typeof value === "string"
        ? value
        : typeof value === "object" && value !== null && "secure" in value
          ? `secret-${short}`
          : JSON.stringify(value);
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete values[key];
    else values[key] = value;
  }
  return values;
}

/** The problems a config parse reports; fails the test when it parses cleanly or throws anything else. */
export function configProblems(parse: () => unknown): string[] {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}
