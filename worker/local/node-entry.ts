/**
 * How the local stack starts a Node.js entry point of this repository: through ts-node next to the
 * TypeScript sources (npm run local, the tests), or directly when running compiled JavaScript from dist/.
 */
import path from "node:path";

/** Arguments for `process.execPath` that run `<dir>/<name>.ts` (or `.js` when compiled). */
export function nodeScriptArgs(dir: string, name: string): string[] {
  const ext = path.extname(__filename);
  const script = path.join(dir, `${name}${ext}`);
  if (ext === ".ts") return ["-r", require.resolve("ts-node/register/transpile-only"), script];
  return [script];
}

/** Environment that keeps ts-node from type-checking in children (the parent's build already did). */
export const NODE_CHILD_ENV: Readonly<Record<string, string>> = { TS_NODE_TRANSPILE_ONLY: "true" };
