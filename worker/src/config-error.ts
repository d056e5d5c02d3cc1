/**
 * Invalid configuration, with every problem listed so one run shows all of them. The worker's environment and the
 * Pulumi program's stack config both throw it; it lives with the worker because the worker image ships only
 * worker/src, and the program already reads the worker's environment defaults from here.
 */
export class ConfigError extends Error {
  /** `what` names the configuration in the message: "configuration" for the worker, "stack configuration" for the program. */
  constructor(
    readonly problems: readonly string[],
    what = "configuration",
  ) {
    const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    super(`Invalid ${what} (${count}):\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}
