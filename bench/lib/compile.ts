/**
 * Transpiles the repository's TypeScript (the worker and the benchmark probes) to plain JavaScript in a
 * temporary directory, so the processes whose memory and speed we measure run compiled code like the
 * container does, without ts-node and the TypeScript compiler (~100 MiB) in their address space.
 * Each file is transpiled on its own (the project sets isolatedModules), which takes well under a second.
 * The tree is the given directories plus every file they import by relative path (shared modules such as
 * common/ move between directories as the code is reorganised; following the imports keeps up with that).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

function listTs(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "results" ? [] : listTs(full);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

export interface CompiledTree {
  readonly outDir: string;
  /** Absolute path of the compiled JavaScript for a repository-relative .ts path. */
  resolve(relativeTs: string): string;
  /** Environment for child processes: compiled code resolves packages from the repository's node_modules. */
  readonly env: Record<string, string>;
  remove(): void;
}

/** The .ts file a relative import specifier names, if it exists (`./x` -> x.ts or x/index.ts). */
function resolveRelativeImport(fromFile: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(fromFile), specifier);
  return [`${base}.ts`, path.join(base, "index.ts"), base].find((f) => f.endsWith(".ts") && fs.existsSync(f));
}

/** The files under `dirs` and, transitively, every repository file they import by relative path. */
export function filesToCompile(dirs: readonly string[], root = REPO_ROOT): string[] {
  const pending = dirs.flatMap((dir) => listTs(path.join(root, dir)));
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { fileName } of ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true).importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const target = resolveRelativeImport(file, fileName);
      if (target && !target.endsWith(".d.ts") && !seen.has(target)) pending.push(target);
    }
  }
  return [...seen].sort();
}

export function compileTree(dirs: readonly string[] = ["worker", "bench"], root = REPO_ROOT): CompiledTree {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "image-pipeline-bench-js-"));
  for (const file of filesToCompile(dirs, root)) {
    const rel = path.relative(root, file);
    const { outputText } = ts.transpileModule(fs.readFileSync(file, "utf8"), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const out = path.join(outDir, rel.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, outputText);
  }
  return {
    outDir,
    resolve: (relativeTs) => path.join(outDir, relativeTs.replace(/\.ts$/, ".js")),
    env: { NODE_PATH: path.join(REPO_ROOT, "node_modules") },
    remove: () => fs.rmSync(outDir, { recursive: true, force: true }),
  };
}
