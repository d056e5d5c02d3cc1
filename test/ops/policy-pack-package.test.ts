/** The policy pack can be published on its own: it imports only what its package.json declares, at the root's versions. */
import fs from "node:fs";
import path from "node:path";
import { builtinModules } from "node:module";

const root = path.resolve(__dirname, "..", "..");
const policyDir = path.join(root, "policy");
const json = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

function sources(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"));
}

const imports = sources(policyDir).flatMap((file) =>
  [...fs.readFileSync(path.join(policyDir, file), "utf8").matchAll(/^import [^"]*"([^"]+)";$/gm)].map((m) => ({ file, module: m[1] })),
);

test("nothing outside policy/ is imported: the pack is self-contained", () => {
  const outside = imports.filter(
    ({ file, module }) => module.startsWith(".") && !path.resolve(policyDir, path.dirname(file), module).startsWith(policyDir + path.sep),
  );
  expect(outside).toEqual([]);
});

test("every package it imports is declared, at the root project's version, and the Pulumi SDK the policy runtime needs too", () => {
  const pkg = json(path.join(policyDir, "package.json"));
  const rootPkg = json(path.join(root, "package.json"));
  const packages = new Set(
    imports
      .map(({ module }) => module)
      .filter((m) => !m.startsWith(".") && !m.startsWith("node:") && !builtinModules.includes(m))
      .map((m) => (m.startsWith("@") ? m.split("/").slice(0, 2).join("/") : m.split("/")[0])),
  );
  expect([...packages].filter((p) => pkg.dependencies?.[p] === undefined)).toEqual([]);
  expect(pkg.dependencies["@pulumi/pulumi"]).toBeDefined();
  for (const [name, version] of Object.entries<string>(pkg.dependencies))
    expect([name, version]).toEqual([name, rootPkg.dependencies[name]]);
});
