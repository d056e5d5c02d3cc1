import fs from "node:fs";
import path from "node:path";
import { compileTree, REPO_ROOT } from "../../bench/lib/compile";

/** Every `require("./…")` / `require("../…")` in the compiled JavaScript under `dir`. */
function relativeRequires(dir: string): { file: string; specifier: string }[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).flatMap((entry) => {
    if (!entry.isFile() || !entry.name.endsWith(".js")) return [];
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    const text = fs.readFileSync(file, "utf8");
    return [...text.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)].map((m) => ({ file, specifier: m[1] as string }));
  });
}

describe("the benchmark's compiled tree", () => {
  it("holds every module its probes and the worker import, including shared ones outside worker/ and bench/", () => {
    const tree = compileTree();
    try {
      const requires = relativeRequires(tree.outDir);
      expect(requires.length).toBeGreaterThan(50);
      const unresolved = requires.filter(({ file, specifier }) => {
        const target = path.resolve(path.dirname(file), specifier);
        return ![`${target}.js`, path.join(target, "index.js"), target].some((f) => f.endsWith(".js") && fs.existsSync(f));
      });
      expect(unresolved.map(({ file, specifier }) => `${path.relative(tree.outDir, file)} -> ${specifier}`)).toEqual([]);
      // The shared modules the probes use (e.g. /proc accounting) are compiled too, at their repository paths.
      expect(fs.existsSync(tree.resolve("common/proc-stat.ts"))).toBe(true);
      expect(fs.existsSync(path.join(REPO_ROOT, "common", "proc-stat.ts"))).toBe(true);
    } finally {
      tree.remove();
    }
  });
});
