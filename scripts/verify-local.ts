/**
 * `npm run verify:local [-- <verify arguments>]`: starts `npm run local`, waits for its READY line, writes it to
 * a file, runs `npm run verify -- --outputs <file> <arguments>` against it, then stops the local pipeline and
 * exits with verify's code. What `.ci/run` and the test suite use; it leaves no process behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

const ROOT = path.resolve(__dirname, "..");
const TS_NODE = require.resolve("ts-node/dist/bin.js");

function tsNode(script: string, args: readonly string[], stdio: "inherit" | "pipe"): ChildProcess {
  return spawn(process.execPath, [TS_NODE, "--transpile-only", path.join(ROOT, script), ...args], {
    cwd: ROOT,
    stdio: ["ignore", stdio, "inherit"],
  });
}

const exited = (child: ChildProcess): Promise<number> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });

/** Resolves with the READY line's JSON, or rejects if local exits or takes longer than timeoutMs. */
function readyLine(local: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: local.stdout! });
    const timer = setTimeout(() => reject(new Error(`npm run local printed no READY line within ${timeoutMs / 1000} s`)), timeoutMs);
    lines.on("line", (line) => {
      if (line.startsWith("READY ")) {
        clearTimeout(timer);
        resolve(line.slice("READY ".length));
      } else process.stderr.write(`local: ${line}\n`);
    });
    local.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm run local exited with ${code} before READY`));
    });
  });
}

async function main(): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-local-"));
  const outputsFile = path.join(dir, "outputs.json");
  const local = tsNode("scripts/local.ts", [], "pipe");
  const localExit = exited(local);
  try {
    const json = await readyLine(local, 180_000);
    fs.writeFileSync(outputsFile, json, { mode: 0o600 });
    const verify = tsNode("scripts/verify.ts", ["--outputs", outputsFile, ...process.argv.slice(2)], "inherit");
    return await exited(verify);
  } finally {
    if (local.exitCode === null) local.kill("SIGTERM");
    await localExit;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`verify:local failed: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
