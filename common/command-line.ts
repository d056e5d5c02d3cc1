/**
 * Command-line parsing for the repository's scripts: node:util `parseArgs` in strict mode (no positionals), with its
 * errors reworded to name the argument and end with the script's usage line.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

export function parseCommandLine<T extends Options>(argv: readonly string[], options: T, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const named = /'(-[^' ]+)/.exec((err as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new Error(`unknown argument ${named}; ${usage}`);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const flag = /does not take an argument/.test((err as Error).message);
      throw new Error(`${named} ${flag ? "takes no value" : "needs a value"}; ${usage}`);
    }
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      const positional = /'([^']*)'/.exec((err as Error).message)?.[1];
      throw new Error(`unknown argument ${positional}; ${usage}`);
    }
    throw err;
  }
}
