/**
 * The stack configuration as `pulumi up` gives it: `pulumi.Config` adapted to `ConfigSource`. Kept apart from the
 * parsing so that code and tests that only parse and validate config do not load the Pulumi SDK.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, type StackConfig } from "./index";
import { CONFIG_NAMESPACE, type ConfigSource } from "./reader";

/** Adapts `pulumi.Config` to `ConfigSource`. */
export function pulumiConfigSource(config: pulumi.Config = new pulumi.Config(CONFIG_NAMESPACE)): ConfigSource {
  return {
    get: (key) => config.get(key),
    secret: (key) => config.getSecret(key),
  };
}

/** Reads and validates the current stack's configuration; throws `ConfigError` before any resource exists. */
export function loadStackConfig(): StackConfig {
  const cfg = parseStackConfig(pulumiConfigSource(), pulumi.getStack());
  for (const warning of cfg.warnings) void pulumi.log.warn(warning);
  return cfg;
}
