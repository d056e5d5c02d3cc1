import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cachedPlan, planCacheKey, planSourceHash, withoutUndefinedProperties } from "../support/plan-cache";

describe("the plan cache's key", () => {
  it("changes with the stack, the options and the OpenStack/Pulumi environment, and not with option order or other variables", () => {
    const env = { OS_CLOUD: "chi", HOME: "/root" };
    const base = planCacheKey("dev", { showSecrets: true, configOverrides: { a: "1", b: "2" } }, env);
    expect(planCacheKey("dev", { configOverrides: { b: "2", a: "1" }, showSecrets: true }, env)).toBe(base);
    expect(planCacheKey("dev", { showSecrets: true, configOverrides: { a: "1", b: "2" } }, { ...env, HOME: "/home/x" })).toBe(base);
    for (const other of [
      planCacheKey("prod", { showSecrets: true, configOverrides: { a: "1", b: "2" } }, env),
      planCacheKey("dev", { configOverrides: { a: "1", b: "2" } }, env),
      planCacheKey("dev", { showSecrets: true, configOverrides: { a: "1", b: "3" } }, env),
      planCacheKey("dev", { showSecrets: true, configOverrides: { a: "1", b: "2" } }, { ...env, OS_CLOUD: "cpouta" }),
      planCacheKey("dev", { showSecrets: true, configOverrides: { a: "1", b: "2" } }, { ...env, PULUMI_CONFIG_PASSPHRASE: "x" }),
    ])
      expect(other).not.toBe(base);
  });

  it("hashes every source a plan reads, including non-TypeScript files the program loads at run time", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cache-src-"));
    try {
      fs.mkdirSync(path.join(root, "infra", "k3s"), { recursive: true });
      fs.writeFileSync(path.join(root, "infra", "k3s", "bootstrap.sh"), "set -euo pipefail\n");
      fs.writeFileSync(path.join(root, "Pulumi.dev.yaml"), "config: {}\n");
      const before = planSourceHash(root);
      expect(planSourceHash(root)).toBe(before);
      fs.appendFileSync(path.join(root, "infra", "k3s", "bootstrap.sh"), "echo changed\n");
      const script = planSourceHash(root);
      expect(script).not.toBe(before);
      fs.writeFileSync(path.join(root, "Pulumi.dev.yaml"), "config: { image-pipeline:nodeCount: 2 }\n");
      expect(planSourceHash(root)).not.toBe(script);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("accepts only what JSON keeps: undefined properties may vanish, anything else must survive", () => {
    expect(withoutUndefinedProperties({ a: 1, b: undefined, c: [{ d: undefined, e: "x" }] })).toEqual({ a: 1, c: [{ e: "x" }] });
    expect(Object.keys(withoutUndefinedProperties({ a: 1, b: undefined }) as object)).toEqual(["a"]);
    const date = new Date(0);
    expect(withoutUndefinedProperties({ date })).toEqual({ date });
  });
});

describe("a cached plan", () => {
  // A cache of its own, so that this test sees its own entries only (mkdtemp makes it 0700).
  let dir: string;
  beforeAll(() => void (dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-cache-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is evaluated once, then read from the cache by the next file that asks for it, as the same data", async () => {
    const fresh = await cachedPlan("dev", {}, dir);
    const [entry] = fs.readdirSync(dir);
    expect(entry).toBe(`${planCacheKey("dev", {})}.json`);
    const hit = await cachedPlan("dev", {}, dir);
    expect(hit).toEqual(fresh);
    expect(hit).not.toBe(fresh);
    expect(hit.resources.length).toBeGreaterThan(50);
    // The hit comes from the file: what is there is what the next caller gets.
    const file = path.join(dir, entry);
    fs.writeFileSync(file, JSON.stringify({ ...hit, stack: "read-from-cache" }));
    expect((await cachedPlan("dev", {}, dir)).stack).toBe("read-from-cache");
    // A corrupt entry is a miss, evaluated again and rewritten.
    fs.writeFileSync(file, "{ truncated");
    expect((await cachedPlan("dev", {}, dir)).stack).toBe("dev");
    expect(JSON.parse(fs.readFileSync(file, "utf8")).stack).toBe("dev");
    // A directory others can write to is not trusted: what is there is not read, and nothing is written.
    fs.writeFileSync(file, JSON.stringify({ ...hit, stack: "planted" }));
    fs.chmodSync(dir, 0o777);
    try {
      expect((await cachedPlan("dev", {}, dir)).stack).toBe("dev");
      expect(JSON.parse(fs.readFileSync(file, "utf8")).stack).toBe("planted");
    } finally {
      fs.chmodSync(dir, 0o700);
    }
  });
});
