/** Pulumi.yaml documents every key the program reads, and the stack files use only documented keys. */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { CONFIG_DEFAULTS } from "../../infra/config";
import { cliConfigValue } from "../../infra/config/cli-config";

const root = path.resolve(__dirname, "../..");
const project = parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
  name: string;
  runtime: { name: string; options: { typescript: boolean } };
  main: string;
  config: Record<string, { type: string; description?: string; default?: unknown; secret?: boolean }>;
};
const projectText = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8");
/** Optional secrets cannot have a default in Pulumi.yaml; they are documented in its comment block instead. */
const commentedSecrets = [...projectText.matchAll(/^#\s{3}(\w+)\s+\(secret\)/gm)].map((m) => m[1]);

const configDir = path.join(root, "infra/config");
const configSource = fs
  .readdirSync(configDir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => fs.readFileSync(path.join(configDir, f), "utf8"))
  .join("\n");
const READERS = "optionalString|string|requiredString|integer|boolean|oneOf|stringList|optionalSecret|requiredSecret";
const keysRead = new Set([...configSource.matchAll(new RegExp(`\\br\\.(?:${READERS})\\(\\s*"(\\w+)"`, "g"))].map((m) => m[1]));
const secretKeysRead = new Set([...configSource.matchAll(/\br\.(?:optionalSecret|requiredSecret)\(\s*"(\w+)"/g)].map((m) => m[1]));

test("the project is a TypeScript nodejs program whose entry is infra/", () => {
  expect(project.name).toBe("image-pipeline");
  expect(project.runtime).toMatchObject({ name: "nodejs", options: { typescript: true } });
  expect(project.main).toBe("infra/");
  expect(fs.existsSync(path.join(root, "infra/index.ts"))).toBe(true);
});

test("every key read by infra/config/ is documented with a type and a description", () => {
  expect(keysRead.size).toBeGreaterThan(20);
  for (const key of keysRead) {
    if (commentedSecrets.includes(key)) continue;
    const decl = project.config[key];
    expect({ key, declared: decl !== undefined }).toEqual({ key, declared: true });
    expect(["string", "integer", "boolean", "array"]).toContain(decl.type);
    expect(decl.description?.length ?? 0).toBeGreaterThan(15);
  }
});

test("secret keys are marked secret (or listed as optional secrets) and carry no plain-text default", () => {
  for (const key of secretKeysRead) {
    const decl = project.config[key];
    if (decl === undefined) expect(commentedSecrets).toContain(key);
    else {
      expect({ key, secret: decl.secret }).toEqual({ key, secret: true });
      expect(decl.default).toBeUndefined();
    }
  }
});

test("every documented key is read by the program", () => {
  for (const key of [...Object.keys(project.config), ...commentedSecrets])
    expect({ key, read: keysRead.has(key) }).toEqual({ key, read: true });
});

test.each(["dev", "prod"])("Pulumi.%s.yaml sets only documented keys and sets every key that has no default", (stack) => {
  const doc = parseYaml(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const keys = Object.keys(doc.config)
    .filter((k) => k.startsWith("image-pipeline:"))
    .map((k) => k.slice("image-pipeline:".length));
  for (const key of keys)
    expect({ key, documented: key in project.config || commentedSecrets.includes(key) }).toEqual({ key, documented: true });
  for (const [key, decl] of Object.entries(project.config)) {
    if (decl.default === undefined) expect({ key, set: keys.includes(key) }).toEqual({ key, set: true });
  }
});

describe("one source for every default", () => {
  test("every default: in Pulumi.yaml equals the code's default, as the CLI passes it", () => {
    for (const [key, decl] of Object.entries(project.config)) {
      if (decl.default === undefined) continue;
      expect({ key, code: CONFIG_DEFAULTS[key] }).toEqual({ key, code: cliConfigValue(decl.default) });
    }
  });

  test("a key without a default in Pulumi.yaml (required) has none in code, and code declares no undocumented default", () => {
    for (const [key, value] of Object.entries(CONFIG_DEFAULTS)) {
      const decl = project.config[key];
      expect({ key, declared: decl !== undefined }).toEqual({ key, declared: true });
      expect({ key, default: decl.default === undefined ? undefined : value }).toEqual({ key, default: value });
    }
  });
});
